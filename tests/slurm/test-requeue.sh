#!/usr/bin/env bash
# End-to-end test of requeue and resume (issue 14) on a real private Slurm cluster (one node):
#   - a train.sbatch run and a one-point sweep (submit-sweep.sh: an array task, with its
#     afterok analysis job) get Slurm's warning signal once their first checkpoint is written:
#     `scancel --signal=USR1 --batch`, what --signal=B:USR1@T sends before the time limit;
#   - each job requeues itself (status REQUEUED, Slurm's Restarts=1), its next attempt resumes
#     (`resumed: ... after epoch K`) and completes (status OK, stop_reason=max_epochs), and the
#     sweep's analysis runs once the point is done;
#   - the final results files have the same bits (/weights/*, /epochs/{loss,objective,
#     train_acc,val_acc,test_acc}; h5dump -b NATIVE, cmp) as a straight run of the same
#     options outside Slurm (mpiexec.mpich or mpiexec.openmpi, OPENBLAS_NUM_THREADS=1 as in the job).
# ADMM_TEST_TIME_LIMIT=1 adds, afterwards, a job under a real time limit (--time=1
# --signal=B:USR1@25: Slurm sends the warning 5-35 s in, its time checks being 30 s apart),
# interrupted and requeued until it completes, and compared with its own straight run: about
# 60 s of work, 2-3 minutes more on a quiet machine, far more on a loaded one (every attempt
# starts afresh: srun, MPI, the data, the checkpoint).
# A requeued job waits for its BeginTime (about 2 minutes here): the test releases it as soon as
# its earlier attempt's step daemons have gone.
#
#   tests/slurm/test-requeue.sh ADMM_TRAIN ADMM_ANALYZE
#
# Last line `N passed, M failed`; exit 0 when all passed, 77 = skipped (not root, no Slurm).
set -uo pipefail
# shellcheck source=tests/slurm/common.sh
. "$(dirname "$0")/common.sh"

[ $# -eq 2 ] || { echo "usage: $0 ADMM_TRAIN ADMM_ANALYZE" >&2; exit 2; }
require_cluster_tools
for c in h5dump h5ls cmp "${TEST_MPIEXEC[0]}"; do command -v "$c" >/dev/null || skip "$c not installed"; done
take_tools "$1" "$2"
export ADMM_IO_TIMEOUT=${ADMM_IO_TIMEOUT:-180}  # a shared 2-core machine: see test-slurm-jobs.sh
# Every epoch 0.5 s longer (a test hook, common/check.h), so that the warning finds both jobs
# still running on any machine: unpaced, a fast one ran the sweep point's 20 epochs in 0.12 s,
# before the single run's checkpoint had been seen. Timing only: the bits are the same.
export ADMM_TEST_EPOCH_PAUSE=${ADMM_TEST_EPOCH_PAUSE:-0.5}
T0=$SECONDS

# 20 paced epochs, a checkpoint every 2: the run goes on for about 9 s after the first one.
# --validation 0: the stored weights are the last epoch's.
# shellcheck disable=SC2054  # --layers 784,32,10 is one word
OPTS=(--data synthetic --n-train 1000 --n-test 200 --validation 0 --layers 784,32,10 --method bcd
      --epochs 20 --patience 0 --seed 7 --checkpoint-every 2)
# the time-limit job: 60 paced epochs (over 90 s) without checkpoints but the warning's
# shellcheck disable=SC2054
LONG=(--data synthetic --n-train 4000 --n-test 500 --validation 0 --layers 784,64,10 --method bcd
      --epochs 60 --patience 0 --seed 7 --quiet 1)

make_work slurm-requeue
start_cluster "$WORK/cluster"
cd "$WORK" || bail "cd $WORK"

# ---------------------------------------------------------------------------------------------
# Submissions, and the straight runs outside Slurm meanwhile
# ---------------------------------------------------------------------------------------------
SINGLE=$(ADMM_RESULTS=$WORK/single bash "$SLURM_DIR/train.sbatch" --submit --sbatch "--output=$WORK/single-%j.out" \
  "${OPTS[@]}") || bail "train.sbatch --submit" "refused"
echo "single run: job $SINGLE"
printf -- '--seed 7   # the one point: the common options as they are\n' >one.sweep
"$SLURM_DIR/submit-sweep.sh" --results "$WORK/sweep" one.sweep "${OPTS[@]}" >sweep-submit.txt ||
  bail "submit-sweep.sh" "exit $?: $(cat sweep-submit.txt)"
ARR=$(job_id_of "$WORK/sweep/jobs.txt" "kind=array")
POINT=${ARR}_0
echo "sweep point: job $POINT"
straight() {  # straight NAME OPTIONS...: NAME.h5 by the build's mpiexec, outside Slurm; NAME.rc
  env -u SLURM_JOB_ID OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "${TEST_MPIEXEC[@]}" -n 2 "$ADMM_TRAIN" "${@:2}" \
    --output "$WORK/$1.h5" >"$1.log" 2>&1
  echo $? >"$1.rc"
}
straight straight "${OPTS[@]}" &

# ---------------------------------------------------------------------------------------------
# The warning, once the first checkpoint is written; each job must queue itself again
# ---------------------------------------------------------------------------------------------
# warn NAME JOB CHECKPOINT: USR1 to JOB's batch shell once CHECKPOINT exists
warn() {
  local deadline=$((SECONDS + 120))
  until [ -f "$3" ] || [ $SECONDS -ge $deadline ]; do sleep 0.2; done
  if [ -f "$3" ]; then
    scancel --signal=USR1 --batch "$2" && pass "$1: first checkpoint written; USR1 sent to the batch shell"
  else
    fail "$1: no checkpoint $3 within 120 s" "$(job_field "$2" JobState)"
  fi
}
# release JOB: start a requeued job now instead of at its BeginTime, once the step daemons of its
# earlier attempt have gone: the new attempt's step 0 started beside the old one's (same step id)
# fails in srun with "mpi/pmi2: failed to send temp kvs to compute nodes"
release() {
  local raw t0=$SECONDS
  raw=$(job_field "$1" JobId)
  while pgrep -f "^slurmstepd: \[$raw\." >/dev/null && [ $((SECONDS - t0)) -lt 60 ]; do sleep 0.5; done
  # slurmd revoked the old attempt's credential at a time in whole seconds, and refuses a launch
  # whose credential is not newer ("Job N already killed, do not launch batch job", seen once
  # when the release came within that second): let the clock pass it
  sleep 2
  echo "job $1 queued again: released after $((SECONDS - t0)) s"
  scontrol update JobId="$1" StartTime=now
}
# requeued NAME JOB STATUSFILE: wait until JOB is queued again after its warning, check what it
# recorded, then release it (a requeued job waits for its BeginTime otherwise)
requeued() {
  local deadline=$((SECONDS + 120)) st=""
  while [ $SECONDS -lt $deadline ]; do
    st=$(job_field "$2" JobState)
    [ "$st" = PENDING ] && [ "$(job_field "$2" Restarts)" -ge 1 ] && break
    case "$st" in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|"") break ;; esac
    sleep 0.3
  done
  if [ "$st" = PENDING ]; then
    pass "$1: requeued by itself (PENDING, Restarts=$(job_field "$2" Restarts), reason $(job_field "$2" Reason))"
    check_grep "$1: status REQUEUED meanwhile" '^REQUEUED (index=0 )?exit=138 job=[0-9_]+ reason=SIGUSR1 ' "$3"
    release "$2"
  else
    fail "$1: not requeued" "job $2 is ${st:-unknown} after the warning: $(cat "$3" 2>/dev/null)"
  fi
}
warn "single run" "$SINGLE" "$WORK/single/run.checkpoint.h5"
warn "sweep point" "$POINT" "$WORK/sweep/point-000.checkpoint.h5"
requeued "single run" "$SINGLE" "$WORK/single/run.status"
requeued "sweep point" "$POINT" "$WORK/sweep/point-000.status"

# until_idle LIMIT: wait for every job to end, releasing those queued again; 1 after LIMIT s
until_idle() {
  local t1=$SECONDS id
  while [ -n "$(squeue -h -t PD,R,CG,CF,RQ,RS,RF,S,SO -o %i 2>/dev/null)" ]; do
    [ $((SECONDS - t1)) -lt "$1" ] || { squeue -r 2>&1 | sed 's/^/    | /'; return 1; }
    for id in $(squeue -h -r -t PD -o '%i %r' | awk '$2 == "BeginTime" { print $1 }'); do release "$id"; done
    sleep 1
  done
}
until_idle 240 || fail "all jobs finished within 240 s"
wait  # the straight run
echo "jobs finished $((SECONDS - T0)) s after the start"
squeue -t all -r -o '%.8i %.22j %.4C %.10T %.8M %r' | sed 's/^/    | /'

# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------
# same_bits NAME FILE STRAIGHT: the weights and the per-epoch figures that are not timings
same_bits() {
  local list d bad=""
  list=$(h5ls -r "$3" 2>/dev/null | awk '$1 ~ /^\/weights\// { print $1 }')
  [ -n "$list" ] || { fail "$1" "no /weights in $3 (the straight run: $(tail -n 1 "${3%.h5}.log"))"; return; }
  for d in $list /epochs/loss /epochs/objective /epochs/train_acc /epochs/val_acc /epochs/test_acc; do
    if ! { h5dump -d "$d" -b NATIVE -o a.bin "$2" >/dev/null 2>&1 && h5dump -d "$d" -b NATIVE -o b.bin "$3" >/dev/null 2>&1 &&
           [ -s a.bin ] && cmp -s a.bin b.bin; }; then
      bad+=" $d"
    fi
  done
  if [ -z "$bad" ]; then pass "$1 ($(echo "$list" | wc -w) weight sets and 5 per-epoch figures)"; else fail "$1" "differ:$bad"; fi
}
# resumed_ok NAME JOB DIR STEM SLURM_OUT STRAIGHT EPOCHS: the job's end, its files and bits
resumed_ok() {
  local name=$1 id=$2 f=$3/$4.h5 k
  check_job "$name: completed" "$id" COMPLETED 0:0
  check "$name: Slurm counts its restarts" test "$(job_field "$id" Restarts)" -ge 1
  check_grep "$name: status OK" '^OK (index=0 )?exit=0 ' "$3/$4.status"
  check_grep "$name: the batch shell passed USR1 on" 'train: SIGUSR1 received: sending SIGUSR1 to the job step' "$5"
  check_grep "$name: it requeued itself" 'train.sbatch: stopped on SIGUSR1 .*: requeued \(restart 1\)' "$5"
  check_grep "$name: the next attempt resumed from its checkpoint" \
    "^train.sbatch: requeued \\(restart 1\\): resuming from .*$4.checkpoint.h5\$" "$5"
  k=$(sed -n 's/^resumed: .* after epoch \([0-9]*\) .*/\1/p' "$3/$4.log" | head -n 1)
  if [ -n "$k" ] && [ "$k" -ge 1 ] && [ "$k" -lt "$7" ]; then
    pass "$name: the log says resumed after epoch $k of $7"
  else
    fail "$name: no 'resumed: ... after epoch K' (K < $7) in $3/$4.log" "$(grep -m1 '^resumed' "$3/$4.log")"
  fi
  check_results "$name: results file complete on 2 ranks" "$f" 2
  check "$name: stop_reason=max_epochs" test "$(h5_attr "$f" stop_reason)" = max_epochs
  check "$name: epochs_run=$7" test "$(h5_attr "$f" epochs_run)" = "$7"
  check "$name: no attempt-K file (resumed in place, not started over)" test -z "$(ls "$f".attempt-* 2>/dev/null)"
  same_bits "$name: the same bits as a straight run" "$f" "$6"
}
check "straight run outside Slurm" test "$(cat straight.rc 2>/dev/null)" = 0
resumed_ok "single run" "$SINGLE" "$WORK/single" run "$WORK/single-$SINGLE.out" "$WORK/straight.h5" 20
point_out=("$WORK"/sweep/logs/admm-sweep-*_0.out)
resumed_ok "sweep point" "$POINT" "$WORK/sweep" point-000 "${point_out[0]}" "$WORK/straight.h5" 20
id=$(job_id_of "$WORK/sweep/jobs.txt" "kind=analysis")
check_job "sweep analysis: waited for the requeued point, then ran" "$id" COMPLETED 0:0
check_report "sweep analysis report" "$WORK/sweep/report"
"$SLURM_DIR/sweep-status.sh" "$WORK/sweep" >sweep-status.txt
check "sweep-status.sh: all OK" test $? -eq 0

# ---------------------------------------------------------------------------------------------
# ADMM_TEST_TIME_LIMIT=1: a real time limit, alone on the machine (then its straight run)
# ---------------------------------------------------------------------------------------------
if [ "${ADMM_TEST_TIME_LIMIT:-0}" = 1 ]; then
  T1=$SECONDS
  export ADMM_TEST_EPOCH_PAUSE=1.5  # 60 epochs outlast the 1-minute limit on any machine
  TL=$(ADMM_RESULTS=$WORK/timelimit bash "$SLURM_DIR/train.sbatch" --submit \
    --sbatch "--time=1 --signal=B:USR1@25 --output=$WORK/timelimit-%j.out" "${LONG[@]}") ||
    bail "train.sbatch --submit --time=1" "refused"
  echo "time-limit run: job $TL"
  until_idle 900 || fail "the time-limit job finished within 900 s"
  echo "time-limit job finished in $((SECONDS - T1)) s"
  straight straight-long "${LONG[@]}"
  check "straight run of the time-limit job" test "$(cat straight-long.rc 2>/dev/null)" = 0
  check_job "time limit: completed" "$TL" COMPLETED 0:0
  n=$(job_field "$TL" Restarts)
  check "time limit: interrupted and requeued (Restarts=$n)" test "${n:-0}" -ge 1
  check_grep "time limit: the warning came from Slurm" 'train: SIGUSR1 received' "$WORK/timelimit-$TL.out"
  check_grep "time limit: resumed" '^resumed: .* after epoch [0-9]+ ' "$WORK/timelimit/run.log"
  check_grep "time limit: status OK" '^OK exit=0 ' "$WORK/timelimit/run.status"
  same_bits "time limit: the same bits as a straight run" "$WORK/timelimit/run.h5" "$WORK/straight-long.h5"
fi

echo "total $((SECONDS - T0)) s"
finish
