#!/usr/bin/env bash
# Test of slurm/cluster-start.sh and slurm/cluster-stop.sh with trivial jobs (no trainer needed):
# the generated slurm.conf, jobs that really run (output, not only state), 8 ranks through
# srun --mpi=pmi2 and mpiexec.mpich, a second cluster beside the first on other ports, stop
# cancelling jobs and killing exactly its own daemons (SIGKILL after the timeout), restart.
#
#   tests/slurm/test-cluster.sh
#
# Last line `N passed, M failed`; exit 0 when all passed, 77 = skipped (not root, no Slurm).
set -uo pipefail
# shellcheck source=tests/slurm/common.sh
. "$(dirname "$0")/common.sh"
require_cluster_tools
make_work slurm-cluster
A=$WORK/a
B=$WORK/b

# pid_live FILE: the pid in FILE is a running, non-zombie process
pid_live() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  case "$(ps -o stat= -p "$pid" 2>/dev/null)" in Z*|"") return 1 ;; *) return 0 ;; esac
}
# wait_file FILE SECONDS: until FILE exists and is not empty
wait_file() {
  local deadline=$((SECONDS + $2))
  until [ -s "$1" ]; do [ $SECONDS -lt $deadline ] || return 1; sleep 0.2; done
}

# ---------------------------------------------------------------------------------------------
# start
# ---------------------------------------------------------------------------------------------
t0=$(date +%s.%N)
out=$("$SLURM_DIR/cluster-start.sh" "$A" 2>"$WORK/a-start.err") || bail "cluster-start.sh A" "$(cat "$WORK/a-start.err")"
CLUSTER=$A
echo "cluster A up in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s"
check "start prints only the export line" test "$out" = "export SLURM_CONF=$A/slurm.conf"
eval "$out"
for line in ProctrackType=proctrack/linuxproc TaskPlugin=task/none EnforcePartLimits=ALL \
            SlurmdParameters=config_overrides SelectType=select/cons_tres MpiDefault=pmi2 \
            SelectTypeParameters=CR_CPU "AuthInfo=socket=$A/munge/munge.socket"; do
  check_grep "slurm.conf has $line" "^$line\$" "$A/slurm.conf"
done
check_grep "slurm.conf declares CPUs=8" '^NodeName=localhost NodeAddr=127.0.0.1 CPUs=8 ' "$A/slurm.conf"
check "node idle with 8 CPUs" test "$(sinfo -h -o '%t %c')" = "idle 8"
for d in munged slurmctld slurmd; do check "$d alive from its pid file" pid_live "$A/run/$d.pid"; done
if "$SLURM_DIR/cluster-start.sh" "$A" >/dev/null 2>&1; then
  fail "a second start on a running state dir is refused" "it succeeded"
else
  pass "a second start on a running state dir is refused"
fi

# ---------------------------------------------------------------------------------------------
# jobs run for real: 8 ranks on the 2-core machine, by srun --mpi=pmi2 and by mpiexec.mpich
# ---------------------------------------------------------------------------------------------
j1=$(sbatch --parsable -n 8 -o "$WORK/srun8.out" --wrap 'srun --mpi=pmi2 -n 8 hostname')
j2=$(sbatch --parsable -n 8 -o "$WORK/mpiexec8.out" --wrap 'mpiexec.mpich -n 8 hostname')
j3=$(sbatch --parsable -n 2 -c 2 -o "$WORK/cpt.out" --wrap 'echo cpus_per_task=$SLURM_CPUS_PER_TASK')
wait_idle 60 || fail "trivial jobs finished"
check_job "srun --mpi=pmi2 -n 8 job" "$j1" COMPLETED 0:0
check "srun job printed 8 lines" test "$(grep -c . "$WORK/srun8.out" 2>/dev/null)" = 8
check_job "mpiexec.mpich -n 8 job" "$j2" COMPLETED 0:0
check "mpiexec.mpich job printed 8 lines" test "$(grep -c . "$WORK/mpiexec8.out" 2>/dev/null)" = 8
check_job "--cpus-per-task job" "$j3" COMPLETED 0:0
check_grep "SLURM_CPUS_PER_TASK reaches the job" '^cpus_per_task=2$' "$WORK/cpt.out"
check_grep "jobcomp file records the jobs" "JobId=$j1 " "$A/log/jobcomp.txt"
if sbatch -n 9 --wrap true >/dev/null 2>&1; then
  fail "-n 9 refused (EnforcePartLimits=ALL)" "accepted"
else
  pass "-n 9 refused (EnforcePartLimits=ALL)"
fi

# ---------------------------------------------------------------------------------------------
# a second cluster beside the first: other ports, and stopping A leaves B alone
# ---------------------------------------------------------------------------------------------
outb=$("$SLURM_DIR/cluster-start.sh" "$B" 2>"$WORK/b-start.err")
if [ $? -eq 0 ]; then
  pass "second cluster B starts beside A"
  pa=$(sed -n 's/^SlurmctldPort=//p' "$A/slurm.conf")
  pb=$(sed -n 's/^SlurmctldPort=//p' "$B/slurm.conf")
  check "B chose other ports than A ($pa, $pb)" test "$pa" != "$pb"
else
  fail "second cluster B starts beside A" "$(cat "$WORK/b-start.err")"
fi

# a job still running at stop time is cancelled with its processes
jr=$(sbatch --parsable -n 1 -o "$WORK/long.out" --wrap 'echo $$ >'"$WORK"'/long.pid; exec sleep 300')
wait_file "$WORK/long.pid" 20 || fail "long job started" "no pid after 20 s"
long=$(cat "$WORK/long.pid" 2>/dev/null)
apids=$(cat "$A"/run/*.pid)
t0=$(date +%s.%N)
"$SLURM_DIR/cluster-stop.sh" "$A" 2>"$WORK/a-stop.err"
check "stop A exits 0" test $? -eq 0
CLUSTER=""
echo "cluster A stopped in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s"
for p in $apids; do
  check "A's daemon $p is gone" bash -c "! ps -o stat= -p $p | grep -vq '^Z'"
done
check "A's pid files removed" test -z "$(ls "$A/run/"*.pid 2>/dev/null)"
check "the running job's process is gone" bash -c "[ -n '$long' ] && ! kill -0 $long 2>/dev/null"
check_grep "stop cancelled the running job" "cancelling jobs: $jr" "$WORK/a-stop.err"
check "stopping a stopped cluster exits 0" "$SLURM_DIR/cluster-stop.sh" "$A"
if [ -n "$outb" ]; then
  CLUSTER=$B
  for d in munged slurmctld slurmd; do check "B's $d survived A's stop" pid_live "$B/run/$d.pid"; done
  check "B still answers" test "$(SLURM_CONF=$B/slurm.conf sinfo -h -o %t)" = idle
  "$SLURM_DIR/cluster-stop.sh" "$B" 2>/dev/null
  check "stop B exits 0" test $? -eq 0
  CLUSTER=""
fi

# ---------------------------------------------------------------------------------------------
# restart on the stale state of A, and a job after it
# ---------------------------------------------------------------------------------------------
out=$("$SLURM_DIR/cluster-start.sh" "$A" 2>"$WORK/a-restart.err")
if [ $? -eq 0 ]; then
  CLUSTER=$A
  eval "$out"
  pass "restart on A's old state"
  j=$(sbatch --parsable -n 2 -o "$WORK/after.out" --wrap 'srun -n 2 echo ran')
  wait_idle 30
  check_job "job after the restart" "$j" COMPLETED 0:0
  check "job after the restart printed" test "$(grep -c '^ran$' "$WORK/after.out" 2>/dev/null)" = 2
else
  fail "restart on A's old state" "$(cat "$WORK/a-restart.err")"
fi

# ---------------------------------------------------------------------------------------------
# stop signals only what its pid files name, and SIGKILLs a daemon that ignores SIGTERM: a fake
# `slurmd` (a script of that name ignoring TERM) and a pid file naming an unrelated process.
# ---------------------------------------------------------------------------------------------
"$SLURM_DIR/cluster-stop.sh" "$A" 2>/dev/null
CLUSTER=""
mkdir -p "$WORK/fake/bin" "$WORK/fake/state/run"
printf '#!/bin/bash\ntrap "" TERM\nwhile :; do sleep 0.1; done\n' >"$WORK/fake/bin/slurmd"
chmod +x "$WORK/fake/bin/slurmd"
"$WORK/fake/bin/slurmd" &
stubborn=$!
sleep 300 &
bystander=$!
sleep 0.3
echo "$stubborn" >"$WORK/fake/state/run/slurmd.pid"
echo "$bystander" >"$WORK/fake/state/run/slurmctld.pid"  # its comm is sleep: not ours
t0=$SECONDS
"$SLURM_DIR/cluster-stop.sh" "$WORK/fake/state" --timeout 1 2>"$WORK/fake-stop.err"
{ wait "$stubborn"; } 2>/dev/null
check "a daemon ignoring SIGTERM is SIGKILLed after the timeout" bash -c "! kill -0 $stubborn 2>/dev/null"
check_grep "stop says it used SIGKILL" 'ignored SIGTERM for 1s: SIGKILL' "$WORK/fake-stop.err"
check "a pid file naming another program is not signalled" kill -0 "$bystander"
check "SIGKILL came within a few seconds" test $((SECONDS - t0)) -le 5
kill "$bystander" 2>/dev/null
wait "$bystander" 2>/dev/null

finish
