#!/usr/bin/env bash
# End-to-end test of the multi-node paths, the site file and the signals on a real private Slurm
# cluster of two nodes on this host (slurm/cluster-start.sh --nodes 2: n1, n2):
#   - a scaling study --nodes 1,2 --ntasks-per-node 1 --repeats 2: exclusive jobs, the 2-rank
#     points on both nodes, one rank on each; its analysis;
#   - a sweep spread over both nodes (--nodes 2 --ntasks-per-node 1 per point); its analysis;
#   - the scaling study as one job (study-scaling.sbatch --submit) on both nodes, at 2 ranks only
#     (its microbenchmark and runs take most of this test's time);
#   - a site file giving partition, account, QOS, constraint, modules (a fake `module`) and a
#     hook, checked on every job;
#   - Slurm's warning signal (what --signal=B:USR1@T sends: scancel --signal=USR1 --batch)
#     reaching the ranks on both nodes through the batch shell: results file complete,
#     stop_reason=signal, exit 138;
#   - a requeued run without a checkpoint keeping its earlier attempt (SLURM_RESTART_COUNT).
#
#   tests/slurm/test-multinode.sh ADMM_TRAIN ADMM_ANALYZE
#
# Last line `N passed, M failed`; exit 0 when all passed, 77 = skipped (not root, no Slurm).
set -uo pipefail
# shellcheck source=tests/slurm/common.sh
. "$(dirname "$0")/common.sh"

[ $# -eq 2 ] || { echo "usage: $0 ADMM_TRAIN ADMM_ANALYZE" >&2; exit 2; }
require_cluster_tools
take_tools "$1" "$2"
# shellcheck disable=SC2054  # --layers 16,8,4 is one word
TINY=(--data synthetic --n-train 256 --n-test 128 --validation 64 --layers 16,8,4 --epochs 2)
export ADMM_IO_TIMEOUT=${ADMM_IO_TIMEOUT:-180}  # a shared 2-core machine: see test-slurm-jobs.sh
T0=$SECONDS

make_work slurm-multinode
start_cluster "$WORK/cluster" --nodes 2
cd "$WORK" || bail "cd $WORK"
check "two nodes idle" test "$(sinfo -h -N -o '%N %t' | tr '\n' ' ')" = "n1 idle n2 idle "

# The site file: the shipped one of the build's MPI, then this cluster's settings; module and hook
# leave a trace. OpenMPI: mpirun inside the allocation, not srun --mpi=pmix, whose PMIx servers of
# the two slurmd on this one host collide (/tmp/spmix_appdir_UID_JOB.STEP: "File exists"; real
# nodes each have their own /tmp)
STUDY_LAUNCHER="srun --mpi=$TEST_SRUN_MPI"
cat >site.conf <<EOF
. $TEST_SITE
EOF
if [ "$TEST_MPI" = openmpi ]; then
  STUDY_LAUNCHER=mpiexec.openmpi
  echo 'SITE_LAUNCHER=mpiexec.openmpi SITE_LAUNCHER_FLAGS= SITE_STUDY_LAUNCHER_FLAGS="--bind-to none"' >>site.conf
fi
cat >>site.conf <<EOF
SITE_PARTITION=debug
SITE_ACCOUNT=admmtest
SITE_QOS=normal
SITE_CONSTRAINT=admmtest
SITE_MODULES="fake-mpi/1"
module() { echo "module \$* job=\${SLURM_JOB_ID:-none}" >>"$WORK/modules.txt"; }
site_hook() { echo "hook \$1 job=\${SLURM_JOB_ID:-none} node=\${SLURMD_NODENAME:-none}" >>"$WORK/hooks.txt"; }
EOF
export ADMM_SITE=$WORK/site.conf

# ---------------------------------------------------------------------------------------------
# 1. The warning signal, first: its job takes a core of each node until it is signalled.
# ---------------------------------------------------------------------------------------------
# ADMM_REQUEUE=0: this run would otherwise queue itself again and resume its million epochs
# (requeue and resume: test-requeue.sh)
SIG=$(ADMM_REQUEUE=0 ADMM_RESULTS=$WORK/signal bash "$SLURM_DIR/train.sbatch" --submit \
  --sbatch "--nodes=2 --ntasks-per-node=1 --ntasks=2 --output=$WORK/signal-%j.out" \
  "${TINY[@]}" --epochs 1000000 --patience 0 --quiet 1) || bail "train.sbatch --submit" "refused"
echo "signal job: $SIG"
# the trainer has its handlers once it writes its .part file (they are its first act)
deadline=$((SECONDS + 60))
until [ -e "$WORK/signal/run.h5.part" ] || [ $SECONDS -ge $deadline ]; do sleep 0.2; done
check "the long run started on both nodes" test -e "$WORK/signal/run.h5.part"
sleep 1
scancel --signal=USR1 --batch "$SIG"  # what --signal=B:USR1@120 does 120 s before the limit

# ---------------------------------------------------------------------------------------------
# 2. Everything else, at once
# ---------------------------------------------------------------------------------------------
"$SLURM_DIR/submit-scaling.sh" --nodes 1,2 --ntasks-per-node 1 --repeats 2 --results "$WORK/scaling" \
  -- "${TINY[@]}" >scaling-submit.txt || fail "submit-scaling.sh --nodes 1,2 --ntasks-per-node 1" "exit $?"
printf -- '--method bcd\n--method gd\n' >two.sweep
"$SLURM_DIR/submit-sweep.sh" --nodes 2 --ntasks-per-node 1 --results "$WORK/sweep" two.sweep "${TINY[@]}" \
  >sweep-submit.txt || fail "submit-sweep.sh --nodes 2 --ntasks-per-node 1" "exit $?"
STUDY=$(ADMM_STUDY=$REPO/jobs/study-scaling.sh bash "$SLURM_DIR/study-scaling.sbatch" --submit \
  --sbatch "--nodes=2 --ntasks-per-node=1 --output=$WORK/study-%j.out" \
  --data synthetic --ranks 2 --methods bcd --per-rank 128 --out "$WORK/study") ||
  fail "study-scaling.sbatch --submit" "refused"
REQ=$(ADMM_RESULTS=$WORK/requeue bash "$SLURM_DIR/train.sbatch" --submit \
  --sbatch "--ntasks=1 --output=$WORK/requeue-%j.out --open-mode=append" "${TINY[@]}") ||
  fail "train.sbatch --submit (requeue)" "refused"
echo "submitted in $((SECONDS - T0)) s"

T1=$SECONDS
wait_idle 240 || fail "all jobs finished within 240 s"
echo "jobs finished in $((SECONDS - T1)) s"
squeue -t all -r -o '%.8i %.22j %.6D %.10N %.4C %.10T %.8M %r' | sed 's/^/    | /'

# ---------------------------------------------------------------------------------------------
# Checks. on_both JOB: the job had n1 and n2 and a step of it ran a task on n2 (slurmd-n2.log)
# ---------------------------------------------------------------------------------------------
on_both() {
  local name=$1 id=$2 raw
  raw=$(job_field "$id" JobId)
  if [ "$(job_field "$id" NodeList)" = "n[1-2]" ] &&
     grep -Eq "launch task StepId=$raw\\.[0-9]+ " "$WORK/cluster/log/slurmd-n2.log"; then
    pass "$name: job $id on n[1-2], a step of it ran a task on n2"
  else
    fail "$name" "job $id: NodeList=$(job_field "$id" NodeList), steps on n2: $(grep -Ec "StepId=$raw\\.[0-9]+ " "$WORK/cluster/log/slurmd-n2.log")"
  fi
}
# site_ok NAME JOB: the site's sbatch options reached the job, and its module and hook ran in it
site_ok() {
  local name=$1 id=$2 raw got
  raw=$(job_field "$id" JobId)
  got="$(job_field "$id" Partition) $(job_field "$id" Account) $(job_field "$id" Features)"
  if [ "$got" = "debug admmtest admmtest" ] && grep -q "^module load fake-mpi/1 job=$raw\$" modules.txt &&
     grep -q " job=$raw node=n[12]\$" hooks.txt; then
    pass "$name: partition, account, constraint of the site; its module and hook ran"
  else
    fail "$name" "job $id: partition/account/features '$got'; modules: $(grep -c "job=$raw\$" modules.txt)," \
      "hooks: $(grep -c "job=$raw " hooks.txt)"
  fi
}

# 1. signal
check_job "signalled run: the job failed with the ranks' exit 138" "$SIG" FAILED 138:0
check_results "signalled run: results file complete on 2 ranks" "$WORK/signal/run.h5" 2
check "signalled run: stop_reason=signal" test "$(h5_attr "$WORK/signal/run.h5" stop_reason)" = signal
check "signalled run: stop_signal=SIGUSR1" test "$(h5_attr "$WORK/signal/run.h5" stop_signal)" = SIGUSR1
check_grep "signalled run: status line" '^FAILED exit=138 .*reason=SIGUSR1 ' "$WORK/signal/run.status"
check_grep "signalled run: the batch shell forwarded it" 'train: SIGUSR1 received: sending SIGUSR1 to the job step' "$WORK/signal-$SIG.out"
on_both "signalled run" "$SIG"

# 2. scaling study on 1 and 2 nodes, 2 repeats
for n in 1 2; do
  for k in 1 2; do
    id=$(job_id_of "$WORK/scaling/jobs.txt" "kind=train series=strong ranks=$n nodes=$n ntasks_per_node=1 repeat=$k ")
    check_job "scaling r$n-$k state" "$id" COMPLETED 0:0
    check_results "scaling r$n-$k results" "$WORK/scaling/strong/r$n-$k.h5" "$n" 256
    check "scaling r$n-$k had its nodes to itself (--exclusive: OverSubscribe=NO, all 8 CPUs of each)" \
      test "$(job_field "$id" OverSubscribe) $(job_field "$id" NumCPUs)" = "NO $((8 * n))"
  done
done
on_both "scaling r2-1" "$(job_id_of "$WORK/scaling/jobs.txt" "ranks=2 .* repeat=1 ")"
on_both "scaling r2-2" "$(job_id_of "$WORK/scaling/jobs.txt" "ranks=2 .* repeat=2 ")"
site_ok "scaling r1-1" "$(job_id_of "$WORK/scaling/jobs.txt" "ranks=1 .* repeat=1 ")"
id=$(job_id_of "$WORK/scaling/jobs.txt" "kind=analysis series=strong")
check_job "scaling analysis state" "$id" COMPLETED 0:0
check_report "scaling analysis report" "$WORK/scaling/strong/report"
site_ok "scaling analysis" "$id"
"$SLURM_DIR/sweep-status.sh" "$WORK/scaling" >scaling-status.txt
check "sweep-status.sh: scaling study all OK" test $? -eq 0
check_grep "sweep-status.sh: 4 runs" '^runs=4 ok=4 ' scaling-status.txt

# 3. sweep, each point on both nodes
arr=$(job_id_of "$WORK/sweep/jobs.txt" "kind=array")
for i in 0 1; do
  check_job "sweep point $i state" "${arr}_$i" COMPLETED 0:0
  check_results "sweep point $i results on 2 ranks" "$WORK/sweep/point-00$i.h5" 2
  on_both "sweep point $i" "${arr}_$i"
done
site_ok "sweep point 0" "${arr}_0"
id=$(job_id_of "$WORK/sweep/jobs.txt" "kind=analysis")
check_job "sweep analysis state" "$id" COMPLETED 0:0
check_report "sweep analysis report" "$WORK/sweep/report"

# 4. the study as one job on two nodes
check_job "study-scaling.sbatch state" "$STUDY" COMPLETED 0:0
check_grep "study: 2 tasks, the site's launcher" "tasks=2 launcher=$STUDY_LAUNCHER " "$WORK/study-$STUDY.out"
check_grep "study: its 2-rank step ran" '^strong p=2 final: method=bcd' "$WORK/study-$STUDY.out"
check_grep "study ends with the model's largest error" '^model_max_rel_error=[0-9.]*$' "$WORK/study-$STUDY.out"
check "study report written" test -s "$WORK/study/report/scaling.md"
on_both "study" "$STUDY"
site_ok "study" "$STUDY"
check_grep "study: the hook was told it is a study" "^hook study job=$STUDY " hooks.txt

# 5. requeue: the finished run is queued again (as after a node failure); the earlier attempt is
#    kept beside the new run. A requeued job waits for its BeginTime (minutes): move it to now.
check_job "run to requeue: first attempt" "$REQ" COMPLETED 0:0
scontrol requeue "$REQ" && scontrol update JobId="$REQ" StartTime=now
sleep 1
wait_idle 60 || fail "requeued run finished within 60 s"
check_job "requeued run" "$REQ" COMPLETED 0:0
check "requeued run: Slurm counts 1 restart" test "$(job_field "$REQ" Restarts)" = 1
check_results "requeued run: the earlier attempt kept" "$WORK/requeue/run.h5.attempt-0"
check_results "requeued run: the new run complete" "$WORK/requeue/run.h5" 1
check_grep "requeued run: it says so" 'requeued \(restart 1\): the earlier attempt is .*run.h5.attempt-0' "$WORK/requeue-$REQ.out"

# stop: every node's slurmd goes (slurmd-n1.pid, slurmd-n2.pid)
pids=$(cat "$WORK"/cluster/run/slurmd-n*.pid 2>/dev/null)
check "one slurmd pid file per node" test "$(echo "$pids" | wc -w)" = 2
"$SLURM_DIR/cluster-stop.sh" "$WORK/cluster" 2>/dev/null
check "cluster-stop.sh exits 0" test $? -eq 0
CLUSTER=""
for p in $pids; do check "slurmd $p stopped" bash -c "! ps -o stat= -p $p | grep -vq '^Z'"; done

echo "total $((SECONDS - T0)) s"
finish
