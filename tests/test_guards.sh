#!/usr/bin/env bash
# The driver's guards against leakage and lost work, each checked against an independent
# computation (tests/check_run.c reads the raw IDX files and the results file itself):
#   - the weights under /weights are the best-validation epoch's;
#   - the best epoch is chosen by validation accuracy, on a run where test would choose another;
#   - early stopping stops exactly --patience epochs after the best one;
#   - each split is the sample range it should be: the fingerprints recorded in the file match
#     training [0, n-v), validation [n-v, n) of the training file and [0, t) of the test file;
#   - every per-epoch row lands in its own row;
#   - the ADMM multiplier stays at zero through warm-up and moves after it.
# Each check states the precondition that makes it able to fail (e.g. the last epoch's
# validation accuracy differs from the best one's). Usage: test_guards.sh ADMM_TRAIN MAKE_IDX CHECK_RUN MPIEXEC
set -u
train=$(realpath "$1") make_idx=$(realpath "$2") check_run=$(realpath "$3") mpiexec=$4
export OPENBLAS_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
attr() { h5dump -a "/$2" "$1" | sed -n 's/.*(0): "\{0,1\}\([^"]*\)"\{0,1\}$/\1/p'; }
col() { "$check_run" column "$1" "$2"; }
# first argmax (1-based) of a column, over rows whose warm-up flag is 0
argmax() { paste <(col "$1" "$2") <(col "$1" /epochs/warmup) | awk '$2 == 0 && (best == "" || $1 > best) { best = $1; at = NR } END { print at }'; }

"$make_idx" images tr-img 600 4 5 && "$make_idx" labels tr-lab 600 10 &&
  "$make_idx" images te-img 200 4 5 777 && "$make_idx" labels te-lab 200 10 || { bad "make_idx"; exit 1; }
data=(--data idx --train-images tr-img --train-labels tr-lab --test-images te-img --test-labels te-lab
      --layers 20,16,10 --validation 150 --normalize none --quiet 1)
# gd with a small batch climbs noisily: validation and test peak at different epochs (checked)
"$mpiexec" -n 2 "$train" "${data[@]}" --method gd --lr 0.02 --batch 16 --epochs 40 --patience 3 --output g.h5 >g.txt 2>&1 ||
  { bad "guard run"; cat g.txt; }

best=$(attr g.h5 best_epoch) runs=$(attr g.h5 epochs_run)
val_best=$(col g.h5 /epochs/val_acc | sed -n "${best}p") val_last=$(col g.h5 /epochs/val_acc | sed -n "${runs}p")

# 1. the kept weights are the best epoch's: their validation accuracy, recomputed from the file
if [ "$val_best" != "$val_last" ]; then
  correct=$("$check_run" accuracy g.h5 tr-img tr-lab 450 150 0 1)
  recomputed=$(awk -v c="$correct" 'BEGIN { printf "%.6f", c / 150 }')
  if [ "$recomputed" = "$(awk -v v="$(attr g.h5 final_val_acc)" 'BEGIN { printf "%.6f", v }')" ] &&
     [ "$recomputed" = "$(awk -v v="$val_best" 'BEGIN { printf "%.6f", v }')" ]; then
    ok "kept weights are the best validation epoch's ($correct/150 at epoch $best)"
  else bad "kept weights: recomputed $recomputed, recorded $(attr g.h5 final_val_acc), epoch $best had $val_best"; fi
else bad "kept weights: the run cannot tell (last epoch's validation equals the best's)"; fi

# 2. the best epoch follows validation, not test (they disagree on this run)
val_argmax=$(argmax g.h5 /epochs/val_acc) test_argmax=$(argmax g.h5 /epochs/test_acc)
if [ "$test_argmax" != "$val_argmax" ]; then
  [ "$val_argmax" = "$best" ] && ok "best epoch $best is validation's (test's would be $test_argmax)" ||
    bad "best epoch $best is not the first validation maximum $val_argmax (test's maximum: $test_argmax)"
else bad "best epoch: validation and test peak together on this run, so it cannot tell"; fi

# 3. early stopping: exactly --patience epochs after the best, before --epochs ran out
if [ "$(attr g.h5 stop_reason)" = early_stopping ] && [ "$runs" -eq $((best + 3)) ] && [ "$runs" -lt 40 ]; then
  ok "early stopping after exactly 3 epochs without improvement (epochs $best..$runs)"
else bad "early stopping: stop=$(attr g.h5 stop_reason) best=$best epochs_run=$runs (patience 3)"; fi

# 4. each split is its own sample range, and the test split is the test file's
want_train=$("$check_run" checksum tr-img tr-lab 0 450) want_val=$("$check_run" checksum tr-img tr-lab 450 150)
want_test=$("$check_run" checksum te-img te-lab 0 200)
if [ "$want_test" != "$("$check_run" checksum tr-img tr-lab 0 200)" ] && [ "$want_val" != "$("$check_run" checksum tr-img tr-lab 0 150)" ]; then
  [ "$(attr g.h5 train_checksum)" = "$want_train" ] && ok "training split is samples [0, 450) of the training file" || bad "training split fingerprint"
  [ "$(attr g.h5 val_checksum)" = "$want_val" ] && ok "validation split is samples [450, 600), disjoint from training" || bad "validation split fingerprint"
  [ "$(attr g.h5 test_checksum)" = "$want_test" ] && ok "test split is the test file's" || bad "test split fingerprint"
else bad "split fingerprints cannot tell the ranges apart"; fi
# the fingerprint does not depend on the rank count
"$mpiexec" -n 1 "$train" "${data[@]}" --method gd --lr 0.02 --batch 16 --epochs 1 --output g1.h5 >/dev/null 2>&1
[ "$(attr g1.h5 val_checksum)" = "$want_val" ] && ok "split fingerprints at 1 rank equal 2 ranks'" || bad "fingerprint at 1 rank"

# 5. each epoch's row is its own
if [ "$(col g.h5 /epochs/epoch | tr '\n' ' ')" = "$(seq 1 "$runs" | tr '\n' ' ')" ]; then
  ok "per-epoch rows 1..$runs each in its own row"; else bad "per-epoch rows: $(col g.h5 /epochs/epoch | tr '\n' ' ')"; fi

# 6. ADMM: no multiplier moves during warm-up; warm-up epochs are never kept
"$mpiexec" -n 2 "$train" "${data[@]}" --method admm --warmup 2 --epochs 3 --patience 0 --output a.h5 >a.txt 2>&1 ||
  { bad "admm run"; cat a.txt; }
mult=$(col a.h5 /epochs/multiplier | tr '\n' ' ')
if awk -v m="$mult" 'BEGIN { n = split(m, v, " "); exit !(n == 5 && v[1] == 0 && v[2] == 0 && v[3] > 0 && v[5] > 0) }'; then
  ok "multiplier zero through the 2 warm-up epochs, moving after ($mult)"; else bad "multiplier per epoch: $mult"; fi
[ "$(attr a.h5 best_epoch)" -gt 2 ] && ok "a warm-up epoch is never the kept one" || bad "kept a warm-up epoch"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
