#!/usr/bin/env bash
# Checkpoints and resume (issue 14), on small synthetic jobs:
#  - every method at 2 ranks (bcd and sgd at 1 too; dladmm and bcd with --anderson 3, whose history is in the checkpoint; bcd with --bcd-batches 3, whose checkpoint holds no per-sample arrays; bcd and adam with --augment 1 on 6 x 6 IDX images, whose shifts are drawn by epoch): a run stopped by SIGUSR1 on one rank (test hook) writes a
#    checkpoint and a complete file with stop_reason=signal; --resume then finishes it, and
#    its final weights and every per-epoch figure that is not a timing are the same bits as a
#    straight run's (early stopping and the kept weights included: --validation, --patience);
#  - another rank count: written at 2 ranks, resumed at 1 or 3 (bcd and bcd --augment both, admm 3, adam, adam --augment and dladmm --anderson 3 1): weights within 1e-8 x
#    max |w| of the straight 1- and 3-rank runs (the rank-agreement tolerance of the bcd
#    tests), the auxiliaries redistributed by global sample;
#  - refusals, one line each: other options, other data, a truncated and a corrupted
#    checkpoint;
#  - kill -9 of one rank mid-run: every rank gone within 10 s, no complete file; the resume
#    from the last checkpoint (--checkpoint-every 1) equals the straight run.
#   bash test_resume.sh ADMM_TRAIN TEST_GRADIENT_F64 MAKE_IDX [MPIEXEC]
set -u
train=$(realpath "$1") h5cmp=$(realpath "$2") make_idx=$(realpath "$3") mpiexec=${4:-mpiexec.mpich}
export OPENBLAS_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

common=(--data synthetic --n-train 600 --n-test 200 --validation 100 --patience 2 --quiet 1 --seed 7 --epochs 5)
small=(--layers 784,37,23,10 --block 8)
# --augment translates images: 6 x 6 IDX images, which override the synthetic data
"$make_idx" images aug-tr 800 6 6 1 && "$make_idx" labels aug-trl 800 10 && "$make_idx" images aug-te 300 6 6 2 &&
  "$make_idx" labels aug-tel 300 10 || bad "make_idx for the --augment cases"
aug="--data idx --train-images aug-tr --train-labels aug-trl --test-images aug-te --test-labels aug-tel --layers 36,20,10"
# every method at 2 ranks (the signal on the other rank than the one that prints), and the
# one-rank paths that differ: bcd's, and sgd's fused step
cases=(
  "bcd|1 2|--method bcd ${small[*]}"
  "admm|2|--method admm ${small[*]} --warmup 1"
  "admm-pinv|2|--method admm ${small[*]} --warmup 1 --weight-solve pinv"
  "dladmm|2|--method dladmm --layers 784,37,23,10 --dladmm-rho-growth 1.5"
  "dladmm-anderson|2|--method dladmm --layers 784,37,23,10 --anderson 3"
  "bcd-anderson|2|--method bcd ${small[*]} --anderson 3"
  "bcd-batches|2|--method bcd ${small[*]} --bcd-batches 3"
  "bcd-augment|2|--method bcd $aug --bcd-batches 3 --augment 1"
  "adam-augment|2|--method adam $aug --augment 1"
  "rf|2|--method random-features ${small[*]}"
  "gd|2|--method gd --layers 784,37,23,10"
  "momentum|2|--method momentum --layers 784,37,23,10"
  "adam|2|--method adam --layers 784,37,23,10"
  "sgd|1|--method sgd --layers 784,37,23,10 --epochs 2"
)
datasets() { # the weights, then the per-epoch figures that are not timings
  h5ls -r "$1" | awk '$1 ~ /^\/weights\// { print $1 }'
  for d in loss objective residual_z residual_a multiplier train_acc val_acc test_acc anderson_accepted \
    anderson_residual anderson_coef_norm; do echo "/epochs/$d"; done
}
same_bits() { # FILE_A FILE_B: 0 when every dataset above is byte-identical
  local list d
  list=$(datasets "$1")
  [ "$list" = "$(datasets "$2")" ] || return 1
  for d in $list; do
    h5dump -d "$d" -b NATIVE -o a.bin "$1" >/dev/null 2>&1 && h5dump -d "$d" -b NATIVE -o b.bin "$2" >/dev/null 2>&1 &&
      [ -s a.bin ] && cmp -s a.bin b.bin || { echo "  $d differs"; return 1; }
  done
}
attr() { h5dump -a "/$2" "$1" 2>/dev/null | sed -n 's/^ *(0): *//p' | tr -d '"' | head -n 1; }

for c in "${cases[@]}"; do
  IFS='|' read -r name ranks opts <<<"$c"
  for np in $ranks; do
    id="$name np$np"
    # shellcheck disable=SC2086
    "$mpiexec" -n "$np" "$train" "${common[@]}" $opts --output "straight.h5" --force >straight.log 2>&1 ||
      { bad "$id: the straight run failed: $(tail -1 straight.log)"; continue; }
    rm -f stop.h5 stop.checkpoint.h5
    # shellcheck disable=SC2086
    ADMM_TEST_FAIL_EPOCH=1 ADMM_TEST_FAIL_KIND=signal ADMM_TEST_FAIL_RANK=$((np - 1)) \
      "$mpiexec" -n "$np" "$train" "${common[@]}" $opts --output stop.h5 >stop.log 2>&1
    rc=$?
    if [ "$(attr stop.h5 stop_reason)" != signal ] || [ ! -f stop.checkpoint.h5 ] || [ "$(attr stop.h5 epochs_run)" != 2 ]; then
      bad "$id: SIGUSR1 on rank $((np - 1)) after epoch 1: rc=$rc, stop_reason=$(attr stop.h5 stop_reason), epochs_run=$(attr stop.h5 epochs_run), checkpoint $(ls stop.checkpoint.h5 2>&1)"
      continue
    fi
    # shellcheck disable=SC2086
    "$mpiexec" -n "$np" "$train" "${common[@]}" $opts --resume stop.checkpoint.h5 >resume.log 2>&1 ||
      { bad "$id: the resume failed: $(tail -1 resume.log)"; continue; }
    if same_bits straight.h5 stop.h5 && [ "$(attr stop.h5 stop_reason)" = "$(attr straight.h5 stop_reason)" ] &&
       [ "$(attr stop.h5 best_epoch)" = "$(attr straight.h5 best_epoch)" ]; then
      ok "$id: stopped by SIGUSR1 on one rank after epoch 2 (exit $rc), resumed: the same bits as the straight run (best epoch $(attr stop.h5 best_epoch), stop $(attr stop.h5 stop_reason))"
    else bad "$id: the resumed run differs from the straight run"; fi
  done
done

# Another rank count: written at 2, resumed at 1 and at 3.
for c in "bcd|1 3|--method bcd ${small[*]}" "admm|3|--method admm ${small[*]} --warmup 1" "adam|1|--method adam --layers 784,37,23,10" \
         "dladmm-anderson|1|--method dladmm --layers 784,37,23,10 --anderson 3" "bcd-augment|1 3|--method bcd $aug --bcd-batches 3 --augment 1" \
         "adam-augment|1|--method adam $aug --augment 1"; do
  IFS='|' read -r name counts opts <<<"$c"
  rm -f two.h5 two.checkpoint.h5
  # shellcheck disable=SC2086
  ADMM_TEST_FAIL_EPOCH=1 ADMM_TEST_FAIL_KIND=signal "$mpiexec" -n 2 "$train" "${common[@]}" $opts --output two.h5 >two.log 2>&1
  for np in $counts; do
    # shellcheck disable=SC2086
    "$mpiexec" -n $np "$train" "${common[@]}" $opts --output "straight$np.h5" --force >/dev/null 2>&1
    cp two.checkpoint.h5 "ck$np.h5"
    # shellcheck disable=SC2086
    if "$mpiexec" -n $np "$train" "${common[@]}" $opts --resume "ck$np.h5" --output "moved$np.h5" --force >moved.log 2>&1 &&
       "$mpiexec" -n 1 "$h5cmp" h5cmp "straight$np.h5" "moved$np.h5" 1e-8 >cmp.log 2>&1; then
      ok "$name: written at 2 ranks, resumed at $np: weights within 1e-8 x max |w| of the straight $np-rank run ($(tail -1 cmp.log))"
    else bad "$name: written at 2 ranks, resumed at $np: $(tail -1 moved.log) $(tail -1 cmp.log)"; fi
  done
done

# Refusals: one line naming the problem, no results file.
bcd=(--method bcd "${small[@]}")
rm -f ref.h5 ref.checkpoint.h5
ADMM_TEST_FAIL_EPOCH=1 ADMM_TEST_FAIL_KIND=signal "$mpiexec" -n 2 "$train" "${common[@]}" "${bcd[@]}" --output ref.h5 >/dev/null 2>&1
refuse() { # NAME EXPECTED_TEXT ARGS...
  local what=$1 want=$2; shift 2
  rm -f refused.h5
  if "$mpiexec" -n 2 "$train" "$@" --output refused.h5 >refuse.log 2>&1; then bad "$what: accepted"
  elif grep -q "$want" refuse.log && [ "$(grep -c 'error' refuse.log)" -eq 1 ] && [ ! -e refused.h5 ]; then
    ok "$what: refused in one line: $(grep error refuse.log)"
  else bad "$what: $(cat refuse.log)"; fi
}
refuse "--resume with another --beta" "option --beta: the checkpoint's run has 1, this run 2" \
  "${common[@]}" "${bcd[@]}" --beta 2 --resume ref.checkpoint.h5
# Other data under the same options: the IDX files at the same paths, rewritten.
idx=(--data idx --train-images tr-img --train-labels tr-lab --test-images te-img --test-labels te-lab --layers 16,12,3
     --validation 40 --quiet 1 --epochs 4 --method bcd)
"$make_idx" images tr-img 200 4 4 1 && "$make_idx" labels tr-lab 200 3 && "$make_idx" images te-img 50 4 4 2 &&
  "$make_idx" labels te-lab 50 3
rm -f idx.h5 idx.checkpoint.h5
ADMM_TEST_FAIL_EPOCH=1 ADMM_TEST_FAIL_KIND=signal "$mpiexec" -n 2 "$train" "${idx[@]}" --output idx.h5 >/dev/null 2>&1
"$make_idx" images tr-img 200 4 4 9
refuse "--resume with other data at the same paths" "option --resume idx.checkpoint.h5: the checkpoint's run read other data (train:" \
  "${idx[@]}" --resume idx.checkpoint.h5
size=$(stat -c %s ref.checkpoint.h5)
head -c $((size / 2)) ref.checkpoint.h5 >half.h5
refuse "--resume a truncated checkpoint" "option --resume: .*half.h5" "${common[@]}" "${bcd[@]}" --resume half.h5
cp ref.checkpoint.h5 flip.h5
off=$(h5dump -p -H -d /model/W1 flip.h5 2>/dev/null | awk '/OFFSET/ { print $2; exit }')
if [ -n "$off" ]; then
  printf '\x55' | dd of=flip.h5 bs=1 seek=$((off + 100)) conv=notrunc 2>/dev/null
  refuse "--resume a checkpoint with one byte changed in model/W1" "option --resume: .*flip.h5" "${common[@]}" "${bcd[@]}" --resume flip.h5
else bad "could not find model/W1's address in the checkpoint (h5ls -v)"; fi

# kill -9 of one rank mid-run, then the resume from the last checkpoint.
slow=(--data synthetic --n-train 4000 --n-test 200 --validation 0 --quiet 1 --seed 7 --epochs 40 --method bcd --layers 784,64,64,10)
"$mpiexec" -n 2 "$train" "${slow[@]}" --output straightk.h5 --force >/dev/null 2>&1
rm -f killed.h5 killed.checkpoint.h5
"$mpiexec" -n 2 "$train" "${slow[@]}" --checkpoint-every 1 --output killed.h5 >killed.log 2>&1 &
launcher=$!
for _ in $(seq 1 300); do [ -f killed.checkpoint.h5 ] && break; sleep 0.1; done
sleep 0.5
victim=$(pgrep -f "^$train .*--output killed\.h5" | tail -1)
kill -9 "$victim" 2>/dev/null
t0=$(date +%s.%N)
gone=0
for _ in $(seq 1 100); do
  pgrep -f "^$train .*--output killed\.h5" >/dev/null || { gone=1; break; }
  sleep 0.1
done
waited=$(echo "$(date +%s.%N) - $t0" | bc)
wait $launcher 2>/dev/null
if [ $gone = 1 ] && [ ! -e killed.h5 ]; then ok "kill -9 of one rank: every rank gone in ${waited}s, no complete results file"
else bad "kill -9 of one rank: gone=$gone after ${waited}s, killed.h5 $(ls killed.h5 2>&1)"; pkill -9 -f "^$train .*--output killed\.h5"; fi
if "$mpiexec" -n 2 "$train" "${slow[@]}" --resume killed.checkpoint.h5 >killres.log 2>&1 && same_bits straightk.h5 killed.h5; then
  ok "the resume after kill -9 ($(grep -o 'after epoch [0-9]*' killres.log)) ends with the straight run's bits"
else bad "the resume after kill -9: $(tail -2 killres.log)"; fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
