#!/usr/bin/env bash
# Results that describe themselves and replay (io/SCHEMA.md): units and a description on every
# dataset, phase and kind names as string arrays, the run's metadata (run id, Slurm ids, nodes,
# ranks per node, threads per rank, CPU model, start and end time), command_line read back by a
# shell as the same words, and `admm-train --config RUN.h5`: a replay gives identical bits (bcd
# and adam, 2 ranks), the command line overrides the file, options the file does not hold stay
# at their defaults, the file's --output and --force are never taken, bad files are refused.
# A dladmm file older than --dladmm-step (forged by deleting the attribute) replays with the
# search it ran, backtrack, not the new default.
# Usage: test_results.sh ADMM_TRAIN MPIEXEC H5SETATTR
set -u
train=$(realpath "$1") mpiexec=$2 h5setattr=$(realpath "$3")
export OPENBLAS_NUM_THREADS=1
unset OMP_NUM_THREADS SLURM_JOB_ID SLURM_ARRAY_JOB_ID SLURM_ARRAY_TASK_ID
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
run() { "$mpiexec" -n "$1" "$train" "${@:2}"; }
# attr FILE PATH: the value of one attribute, strings unquoted, arrays as h5dump lists them
attr() { h5dump -w 0 -a "$2" "$1" 2>/dev/null | sed -n 's/^ *(0): *//p' | sed 's/^"\(.*\)"$/\1/'; }

syn=(--data synthetic --n-train 300 --n-test 100 --layers 8,7,3 --epochs 3 --seed 5 --quiet 1)
bcd=("${syn[@]}" --method bcd --bcd-prox 0.01)
adam=("${syn[@]}" --method adam --lr 0.003 --batch 32)

SLURM_JOB_ID=4242 SLURM_ARRAY_JOB_ID=4240 SLURM_ARRAY_TASK_ID=2 run 2 "${bcd[@]}" --output bcd.h5 >bcd.log 2>&1 ||
  { bad "bcd run"; cat bcd.log; }
run 2 "${adam[@]}" --output adam.h5 >adam.log 2>&1 || { bad "adam run"; cat adam.log; }

# 1. units and a description on every dataset
missing=""
for f in bcd.h5 adam.h5; do
  for d in $(h5ls -r "$f" | awk '$2 == "Dataset" { print $1 }'); do
    [ -n "$(attr "$f" "$d/units")" ] && [ -n "$(attr "$f" "$d/description")" ] || missing="$missing $f:$d"
  done
done
n=$(h5ls -r bcd.h5 | awk '$2 == "Dataset"' | wc -l)
# 34 per-epoch datasets (3 of them --anderson's, 3 the regression MSEs, phase_rank, phase_stream,
# flops_local_solve), W and b of 2 layers
check "units and description on every dataset ($n in bcd.h5${missing:+; missing:$missing})" \
  test -z "$missing" -a "$n" -eq 38
units=$(for d in epochs/t_epoch epochs/rss_mb epochs/comm_bytes epochs/phase_flops epochs/test_acc weights/W2; do
  attr bcd.h5 /$d/units; done | tr '\n' ' ')
check "units: seconds, MiB, bytes, flops, pure numbers ($units)" test "$units" = "s MiB byte flop 1 1 "
if attr bcd.h5 /epochs/t_epoch/description | grep -q 'training step' &&
   attr bcd.h5 /weights/b1/description | grep -q 'biases of the 7 units of layer 1'; then
  ok "a description says what the dataset holds"; else bad "a description says what the dataset holds"; fi

# 2. phase_names and kind_names: arrays of strings
for d in phase_min phase_avg phase_max phase_flops; do
  h5dump -w 0 -a /epochs/$d/phase_names bcd.h5 >pn.txt 2>&1
  if grep -q 'H5T_STRING' pn.txt && grep -q 'SIMPLE { ( 9 ) / ( 9 ) }' pn.txt &&
     grep -q '(0): "gram", "comm_reduce", "solve", "comm_gather", "a_update", "z_update", "forward_targets", "eval", "io"$' pn.txt
  then ok "$d/phase_names is an array of 9 strings"; else bad "$d/phase_names is an array of 9 strings"; cat pn.txt; fi
done
check "adam's phase_names are its own" grep -q '(0): "unused", "comm_reduce", .*"update", "forward_backward", "eval", "io"$' \
  <(h5dump -w 0 -a /epochs/phase_avg/phase_names adam.h5)
check "kind_names is an array of 8 strings" grep -q 'SIMPLE { ( 8 ) / ( 8 ) }' <(h5dump -a /epochs/comm_calls/kind_names adam.h5)

# 3. run metadata
all() { for a in "${@:2}"; do printf '%s|' "$(attr "$1" "/$a")"; done; }
check "Slurm job, array job and task ids recorded" \
  test "$(all bcd.h5 slurm_job_id slurm_array_job_id slurm_array_task_id)" = "4242|4240|2|"
check "no Slurm: the ids are empty" test "$(all adam.h5 slurm_job_id slurm_array_job_id slurm_array_task_id)" = "|||"
check "nodes 1, ranks per node 2, threads per rank 1 (OPENBLAS_NUM_THREADS)" \
  test "$(all bcd.h5 nodes ranks_per_node threads_per_rank)" = "1|2|1|"
env -u OPENBLAS_NUM_THREADS OMP_NUM_THREADS=3 "$mpiexec" -n 1 "$train" "${syn[@]}" --epochs 1 --output omp.h5 >omp.log 2>&1
check "threads per rank from OMP_NUM_THREADS when OPENBLAS_NUM_THREADS is unset" \
  test "$(all omp.h5 threads_per_rank ranks_per_node)" = "3|1|"
model=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n 1)
check "cpu_model is /proc/cpuinfo's model name (${model:-none here: $(attr bcd.h5 /cpu_model)})" \
  test "$(attr bcd.h5 /cpu_model)" = "${model:-$(attr bcd.h5 /cpu_model)}" -a -n "$(attr bcd.h5 /cpu_model)"
id1=$(attr bcd.h5 /run_id) id2=$(attr adam.h5 /run_id)
if [[ $id1 =~ ^[0-9a-f]{32}$ ]] && [[ $id2 =~ ^[0-9a-f]{32}$ ]] && [ "$id1" != "$id2" ]; then
  ok "run_id: 32 hex digits, one per run ($id1, $id2)"; else bad "run_id ($id1, $id2)"; fi
t0=$(attr bcd.h5 /start_time) t1=$(attr bcd.h5 /end_time)
iso='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
if [[ $t0 =~ $iso ]] && [[ $t1 =~ $iso ]] && [[ ! $t1 < $t0 ]]; then
  ok "start_time and end_time: UTC ISO 8601, end not before start ($t0, $t1)"; else bad "start_time, end_time ($t0, $t1)"; fi

# 4. command_line: quoted only where needed, and a shell reads it back as the same words
words=(--data synthetic --n-train 300 --n-test 100 --layers 8,7,3 --epochs 1 --quiet 1 --data-dir ''
       --output "it's a \$HOME \"file\".h5")
run 1 "${words[@]}" >q.log 2>&1 || { bad "quoting run"; cat q.log; }
line=$(h5dump -a /command_line "it's a \$HOME \"file\".h5" 2>/dev/null | sed -n 's/^ *(0): "\(.*\)"$/\1/p' | sed 's/\\"/"/g')
eval "back=($line)"
check "command_line: a shell reads back the same words ($line)" \
  test "$(printf '%s|' "${back[@]}")" = "$(printf '%s|' "$train" "${words[@]}")"
if [[ $line == "$train --data synthetic --n-train 300 "* ]] && [[ $line == *" --data-dir '' "* ]]; then
  ok "command_line: plain words are not quoted"; else bad "command_line: plain words are not quoted"; fi

# 5. replay: identical bits, the file's options applied (those that applied to it), the command
# line over them
same_config() { # A B: every /config attribute of A equals B's, --output aside; B has no others
  local a=$1 b=$2 n
  names() { h5dump -A -g /config "$1" | sed -n 's/^ *ATTRIBUTE "\(.*\)" {$/\1/p' | grep -vx output; }
  [ "$(names "$a")" = "$(names "$b")" ] || { echo "different /config attributes"; return 1; }
  for n in $(names "$a"); do
    [ "$(h5dump -a "/config/$n" "$a" | tail -n +2)" = "$(h5dump -a "/config/$n" "$b" | tail -n +2)" ] ||
      { echo "/config/$n differs"; return 1; }
  done
}
same_bits() { # A B: /weights and the per-epoch figures that are not timings, byte for byte
  local a=$1 b=$2 d list
  list="$(h5ls -r "$a" | awk '$1 ~ /^\/weights\// { print $1 }')"
  [ "$list" = "$(h5ls -r "$b" | awk '$1 ~ /^\/weights\// { print $1 }')" ] || return 1
  for d in $list /epochs/epoch /epochs/warmup /epochs/loss /epochs/objective /epochs/residual_z /epochs/residual_a \
           /epochs/multiplier /epochs/train_acc /epochs/val_acc /epochs/test_acc; do
    h5dump -d "$d" -b NATIVE -o a.bin "$a" >/dev/null 2>&1 && h5dump -d "$d" -b NATIVE -o b.bin "$b" >/dev/null 2>&1 &&
      [ -s a.bin ] && cmp -s a.bin b.bin || { echo "$d differs"; return 1; }
  done
}
for m in bcd adam; do
  if run 2 --config $m.h5 --output $m-replay.h5 >$m-replay.log 2>&1; then
    check "$m: the replay has the same /config (--output aside)" same_config $m.h5 $m-replay.h5
    check "$m: the replay gives identical bits (/weights, /epochs but timings)" same_bits $m.h5 $m-replay.h5
  else bad "$m: replay run"; cat $m-replay.log; fi
done
check "the replay's command_line names --config" grep -q -- ' --config bcd.h5 --output bcd-replay.h5$' <(attr bcd-replay.h5 /command_line)
check "the replay has a run id of its own" test "$(attr bcd-replay.h5 /run_id)" != "$id1"

run 2 --config bcd.h5 --epochs 1 --seed 6 --output over.h5 >over.log 2>&1
check "the command line overrides the file (--epochs 1 --seed 6; --bcd-prox 0.01 kept)" \
  test "$(all over.h5 config/epochs epochs_run config/seed config/bcd_prox)" = "1|1|6|0.01|"
run 2 --config bcd.h5 --method momentum --init auto --loss auto --epochs 1 --output mom.h5 >mom.log 2>&1
if [ "$(all mom.h5 config/method config/lr config/batch config/momentum config/seed)" = "momentum|0.01|128|0.9|5|" ] &&
   ! h5dump -a /config/bcd_prox mom.h5 >/dev/null 2>&1; then
  ok "options the file does not hold stay at their defaults (bcd file, --method momentum: lr 0.01, batch 128, momentum 0.9)"
else bad "options the file does not hold stay at their defaults: $(all mom.h5 config/method config/lr config/batch config/momentum config/seed)"; cat mom.log; fi

# --dladmm-step's default changed (backtrack to exact): a dladmm file without the attribute ran
# backtrack, so its replay does; a file with it keeps it; a bcd file replayed as dladmm takes the default
run 1 "${syn[@]}" --method dladmm --epochs 1 --output dl.h5 >dl.log 2>&1
cp dl.h5 dl-old.h5 && "$h5setattr" dl-old.h5 config/dladmm_step delete
run 1 --config dl-old.h5 --output dl-old-replay.h5 >/dev/null 2>&1
run 1 --config dl.h5 --output dl-replay.h5 >/dev/null 2>&1
run 1 --config bcd.h5 --method dladmm --init auto --loss auto --epochs 1 --output bcd-as-dl.h5 >/dev/null 2>&1
check "dladmm-step: recorded (exact), dropped from the forged file, backtrack in its replay, exact in the others" \
  test "$(attr dl.h5 /config/dladmm_step)|$(attr dl-old.h5 /config/dladmm_step)|$(attr dl-old-replay.h5 /config/dladmm_step)|$(attr dl-replay.h5 /config/dladmm_step)|$(attr bcd-as-dl.h5 /config/dladmm_step)" = "exact||backtrack|exact|exact"

# the file's --output and --force are never taken: a replay cannot replace the file it replays
run 1 "${syn[@]}" --epochs 1 --output forced.h5 --force >/dev/null 2>&1
idf=$(attr forced.h5 /run_id)
run 1 --config forced.h5 >forced-replay.log 2>&1
out=$(sed -n 's/^final: .* output=//p' forced-replay.log)
if [[ $out == results/*.h5 ]] && [ -f "$out" ] && [ "$(attr forced.h5 /run_id)" = "$idf" ]; then
  ok "a replay of a --force run writes a new default file ($out), the original untouched"
else bad "a replay of a --force run ($out)"; cat forced-replay.log; fi
run 1 --config forced.h5 --output forced.h5 >same.log 2>same.err
rc=$?
if [ $rc -ne 0 ] && grep -q 'already holds a complete results file; refusing to replace it (--force replaces it)' same.err &&
   [ "$(attr forced.h5 /run_id)" = "$idf" ]; then ok "a replay onto its own file is refused without --force (rc=$rc)"
else bad "a replay onto its own file (rc=$rc)"; cat same.err; fi

# bad --config: one line, exit 2, nothing written
expect_usage() { # NAME PATTERN ARGS...
  local name=$1 pattern=$2 rc lines; shift 2
  rm -f out.h5 out.h5.part
  run 2 --output out.h5 "$@" >err.out 2>err.txt
  rc=$? lines=$(grep -c '^admm-train: error:' err.txt)
  if [ $rc -eq 2 ] && [ "$lines" = 1 ] && grep -q -- "$pattern" err.txt && [ ! -e out.h5 ] && [ ! -e out.h5.part ]; then
    ok "$name"; else bad "$name (rc=$rc, error lines=$lines)"; cat err.txt; fi
}
expect_usage "--config of a missing file" "error: --config nope.h5: cannot read it: No such file or directory" --config nope.h5
echo "epochs=3" >notes.txt
expect_usage "--config of a text file" "error: --config notes.txt: not an HDF5 file" --config notes.txt
run 1 "${syn[@]}" --epochs 1 --output ck.h5 --checkpoint ck.checkpoint.h5 --checkpoint-every 1 >/dev/null 2>&1
expect_usage "--config of a checkpoint" 'error: --config ck.checkpoint.h5: not an admm-nn results file (format "admm-nn checkpoint"): a checkpoint continues its run with --resume' \
  --config ck.checkpoint.h5
expect_usage "--config without a file" "error: option --config needs a value" --config
expect_usage "an option of the command line that does not apply is still refused" \
  "error: option --lr: does not apply to --method bcd" --config bcd.h5 --lr 0.1
check "--help lists --config" grep -q -- '--config RUN.h5 *replay a run' <(run 1 --help)

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
