#!/usr/bin/env bash
# Test of the job scripts' own logic, without Slurm and without the real trainer: a fake trainer
# (a shell script that records its arguments and environment) and fake h5dump/srun on PATH.
# Covers the sweep file format, argument order, --output handling, status lines of every kind
# of failure, the srun command line, OpenBLAS threads, option validation, sweep-status exit codes.
#
#   tests/slurm/test-scripts.sh
#
# Last line `N passed, M failed`; exit 0 when all passed.
set -uo pipefail
# shellcheck source=tests/slurm/common.sh
. "$(dirname "$0")/common.sh"
command -v mpiexec.mpich >/dev/null || skip "mpiexec.mpich not installed"
make_work slurm-scripts
cd "$WORK" || bail "cd $WORK"

# ---------------------------------------------------------------------------------------------
# Fakes. The trainer writes "ARGS | OPENBLAS_NUM_THREADS=T | complete" to its --output unless
# told otherwise by --fake-exit N (exit N, no file), --fake-nofile (exit 0, no file) or
# --fake-running (file without "complete"). h5dump reports "complete" when the file says so,
# and stop_reason R when it holds "stop_reason=R".
# ---------------------------------------------------------------------------------------------
mkdir -p fakebin
cat >fakebin/admm-train <<'EOF'
#!/bin/bash
out="" mode=ok prev=""
for a in "$@"; do
  [ "$prev" = --output ] && out=$a
  case "$a" in --fake-exit) mode=exit ;; --fake-nofile) mode=nofile ;; --fake-running) mode=running ;; esac
  [ "$prev" = --fake-exit ] && code=$a
  prev=$a
done
echo "epoch=1 loss=1 train_acc=0 test_acc=0 t_epoch=0"
case $mode in
  exit) echo "admm-train: fake failure" >&2; exit "$code" ;;
  nofile) exit 0 ;;
  running) echo "$* | status=running" >"$out" ;;
  ok) echo "$* | OPENBLAS_NUM_THREADS=$OPENBLAS_NUM_THREADS | status=complete" >"$out" ;;
esac
EOF
cat >fakebin/h5dump <<'EOF'
#!/bin/bash
f=${!#}
[ -f "$f" ] || exit 1
case "$*" in
  *"-a /stop_reason"*)  # "stop_reason=R" in the file, else no such attribute
    r=$(grep -o 'stop_reason=[a-z_]*' "$f" | head -n 1)
    [ -n "$r" ] || exit 1
    echo "   (0): \"${r#stop_reason=}\"" ;;
  *) grep -q 'status=complete' "$f" && echo '   (0): "complete"' || echo '   (0): "running"' ;;
esac
EOF
# scontrol: `scontrol requeue ID` recorded; FAKE_SCONTROL_REFUSE=1 refuses as Slurm does for a
# --no-requeue job
cat >fakebin/scontrol <<'EOF'
#!/bin/bash
echo "$*" >>"${FAKE_SCONTROL_LOG:-/dev/null}"
if [ -n "${FAKE_SCONTROL_REFUSE:-}" ]; then echo "Requested operation is presently disabled for job $2" >&2; exit 1; fi
EOF
cat >fakebin/admm-analyze <<'EOF'
#!/bin/bash
out=""; dirs=()
while [ $# -gt 0 ]; do case $1 in --out) out=$2; shift 2 ;; *) dirs+=("$1"); shift ;; esac; done
mkdir -p "$out" && ls "${dirs[@]}" >"$out/inputs.txt"
EOF
cat >fakebin/admm-analyze-empty <<'EOF'
#!/bin/bash
exit 0
EOF
# a launcher: records its arguments, drops its options (-n N too) and runs the program
cat >fakebin/srun <<'EOF'
#!/bin/bash
echo "$*" >"$FAKE_SRUN_LOG"
while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do [ "$1" = -n ] && shift; shift; done
exec "$@"
EOF
cp fakebin/srun fakebin/mylaunch
# sbatch: records its arguments, one line per call, and answers the next job id
cat >fakebin/sbatch <<'EOF'
#!/bin/bash
n=$(( $(cat "$FAKE_SBATCH_LOG.n" 2>/dev/null || echo 100) + 1 ))
echo "$n" >"$FAKE_SBATCH_LOG.n"
echo "$*" >>"$FAKE_SBATCH_LOG"
echo "$n"
EOF
chmod +x fakebin/*
export PATH=$WORK/fakebin:$PATH
export ADMM_TRAIN=$WORK/fakebin/admm-train ADMM_ANALYZE=$WORK/fakebin/admm-analyze
export FAKE_SBATCH_LOG=$WORK/sbatch.log
LOCAL=$SLURM_DIR/run-local.sh

# ---------------------------------------------------------------------------------------------
# sweep files: comments, blank lines, inline comments; common arguments first, point last
# ---------------------------------------------------------------------------------------------
cat >s.sweep <<'EOF'
# a comment line
--beta 1   --gamma 1

   --fake-exit 3 --beta -1   # fails with exit 3
--fake-nofile
--fake-running
--warmup 5
EOF
out=$("$LOCAL" sweep --results sw s.sweep -- --epochs 2 2>&1)
rc=$?
echo "$out" | sed 's/^/    | /'
check "run-local sweep exits 1 when a point failed" test $rc -eq 1
check "sweep.txt holds the 5 points" test "$(grep -vc '^#' sw/sweep.txt)" = 5
check_grep "point 0: common args, then the point, then --output" \
  "^--epochs 2 --beta 1 --gamma 1 --output $WORK/sw/point-000.h5 \| OPENBLAS_NUM_THREADS=1 " sw/point-000.h5
check_grep "point 0 OK" '^OK index=0 exit=0 job=local1_0 params=--beta 1 --gamma 1$' sw/point-000.status
check_grep "point 1: trainer exit 3 reported with index and params" \
  '^FAILED index=1 exit=3 job=local1_1 reason=trainer-error params=--fake-exit 3 --beta -1$' sw/point-001.status
check_grep "point 2: exit 0 without a results file is a failure" '^FAILED index=2 exit=2 .*reason=no-results-file' sw/point-002.status
check_grep "point 3: results file not complete is a failure" '^FAILED index=3 exit=2 .*reason=results-not-complete' sw/point-003.status
check_grep "point 4 OK" '^OK index=4 ' sw/point-004.status
check_grep "run log kept beside the results" '^epoch=1 ' sw/point-004.log
check_grep "local runner names the failed task" 'admm-sweep\[1\] ranks=2 exit=3' <(echo "$out")
check_grep "analysis skipped after a failed point (afterok)" 'admm-analyze-sweep skipped' <(echo "$out")
check "no report after a failed point" test ! -e sw/report.status
"$SLURM_DIR/sweep-status.sh" sw >sw-status.txt
check "sweep-status.sh exits 1" test $? -eq 1
check_grep "sweep-status.sh: failed point with index and params" '^FAILED +index=1 exit=3 .*params=--fake-exit 3 --beta -1$' sw-status.txt
check_grep "sweep-status.sh: counts" '^runs=5 ok=2 failed=3 running=0 not_run=0$' sw-status.txt
check_grep "sweep-status.sh: analysis not run" '^analysis NOT-RUN job=local2 ' sw-status.txt

# a good sweep (sweep-grid output) runs its analysis; --analyze-always analyses a bad one too
"$SLURM_DIR/sweep-grid.sh" --fixed "--method admm" "beta=1 5 10" "gamma=1 5 10" >grid.sweep
check "sweep-grid: 9 points" test "$(grep -vc '^#' grid.sweep)" = 9
check_grep "sweep-grid: last axis fastest" '^--method admm --beta 1 --gamma 5$' <(sed -n 3p grid.sweep)
check "shipped thesis-beta-gamma.sweep is sweep-grid's output" \
  diff <(grep -v '^#' grid.sweep) <(grep -v '^#' "$SLURM_DIR/sweeps/thesis-beta-gamma.sweep")
"$LOCAL" sweep --ntasks 1 --results good grid.sweep >/dev/null 2>&1
check "run-local sweep of 9 good points exits 0" test $? -eq 0
check_grep "analysis of the good sweep" '^OK exit=0 job=local2 ' good/report.status
check_grep "analysis saw the points" '^point-008.h5$' good/report/inputs.txt
"$SLURM_DIR/sweep-status.sh" good >/dev/null
check "sweep-status.sh exits 0 on a good sweep" test $? -eq 0
"$LOCAL" sweep --analyze-always --results always s.sweep >/dev/null 2>&1
check_grep "--analyze-always analyses a failed sweep" '^OK ' always/report.status

# ---------------------------------------------------------------------------------------------
# scaling: layout, weak n_train, analysis per series, missing/empty analyzer
# ---------------------------------------------------------------------------------------------
"$LOCAL" scaling --ranks 1,3 --weak --per-rank 100 --results sc -- --epochs 1 >sc.out 2>&1
check "run-local scaling exits 0" test $? -eq 0
for f in strong/r1 strong/r3 weak/r1 weak/r3; do
  check_grep "scaling $f OK" '^OK exit=0 ' "sc/$f.status"
done
check_grep "strong series keeps the arguments" "^--epochs 1 --output $WORK/sc/strong/r3.h5 " sc/strong/r3.h5
check_grep "weak series sets --n-train PER_RANK x N" "^--epochs 1 --n-train 300 --output " sc/weak/r3.h5
check_grep "3 ranks locally" 'mpiexec.mpich -n 3 ' sc/logs/admm-strong-r3-local2.out
check_grep "strong analysis" '^OK ' sc/strong/report.status
check_grep "weak analysis" '^OK ' sc/weak/report.status
check_grep "jobs.txt lists the runs" '^job=local5 kind=train series=weak ranks=3 nodes=1 ntasks_per_node=3 n_train=300 ' sc/jobs.txt
ADMM_ANALYZE=$WORK/nothing-here "$LOCAL" scaling --ranks 1 --results noan -- --epochs 1 >noan.out 2>&1
check "missing analyzer: run-local exits 1" test $? -eq 1
check_grep "missing analyzer: warned at submission" 'warning: analysis binary .*nothing-here not found' noan.out
check_grep "missing analyzer: analysis FAILED, not skipped" '^FAILED exit=127 .*reason=analyzer-missing' noan/strong/report.status
"$SLURM_DIR/sweep-status.sh" noan >/dev/null
check "sweep-status.sh exits 1 when the analysis failed" test $? -eq 1
ADMM_ANALYZE=$WORK/fakebin/admm-analyze-empty "$LOCAL" scaling --ranks 1 --results empty -- --epochs 1 >/dev/null 2>&1
check_grep "an analyzer that writes nothing fails" '^FAILED exit=2 .*reason=empty-report' empty/strong/report.status

# ---------------------------------------------------------------------------------------------
# option validation: refused before anything is submitted
# ---------------------------------------------------------------------------------------------
refuses() {  # refuses NAME PATTERN COMMAND...: COMMAND exits non-zero and says PATTERN
  local name=$1 pat=$2 msg
  shift 2
  if msg=$("$@" 2>&1); then fail "$name" "exit 0: $msg"; else check_grep "$name" "$pat" <(echo "$msg"); fi
}
refuses "scaling refuses --output" 'each run writes' "$SLURM_DIR/submit-scaling.sh" -- --output x.h5
refuses "scaling refuses --n-train with --weak" 'use --per-rank' "$SLURM_DIR/submit-scaling.sh" --weak -- --n-train 5
refuses "scaling refuses --ranks 0" 'not a positive integer' "$SLURM_DIR/submit-scaling.sh" --ranks 1,0
refuses "scaling without a trainer" 'trainer .* not found' env ADMM_TRAIN=/nonexistent "$SLURM_DIR/submit-scaling.sh"
refuses "sweep refuses a missing file" 'no such sweep file' "$SLURM_DIR/submit-sweep.sh" nonexistent.sweep
printf '# only comments\n\n' >empty.sweep
refuses "sweep refuses a file without points" 'no points' "$SLURM_DIR/submit-sweep.sh" empty.sweep
printf -- '--beta 1\n--output x.h5\n' >out.sweep
refuses "sweep refuses a point with --output" 'point 1 sets --output' "$SLURM_DIR/submit-sweep.sh" out.sweep
refuses "sweep refuses unknown options" 'unknown option --bogus' "$SLURM_DIR/submit-sweep.sh" --bogus s.sweep
check "nothing was created by refused submissions" test ! -e results

# ---------------------------------------------------------------------------------------------
# train.sbatch on its own: --output kept, missing trainer, srun line, threads, results default
# ---------------------------------------------------------------------------------------------
"$LOCAL" run --results own -- --output "$WORK/mine.h5" >own.out 2>&1
check "user --output: run exits 0" test $? -eq 0
check_grep "user --output passed once, no second --output" "^--output $WORK/mine.h5 \|" mine.h5
ADMM_TRAIN=$WORK/none "$LOCAL" run --results miss -- --epochs 1 >/dev/null 2>&1
check "missing trainer: exit 127" test $? -eq 127
check_grep "missing trainer: status says so" '^FAILED exit=127 .*reason=trainer-missing' miss/run.status
# as Slurm would start it: srun with pmi2, the rank count and CPUs per task of the allocation
FAKE_SRUN_LOG=$WORK/srun.log SLURM_JOB_ID=77 SLURM_NTASKS=3 SLURM_CPUS_PER_TASK=2 \
  SLURM_SUBMIT_DIR=$WORK bash "$SLURM_DIR/train.sbatch" --epochs 1 >srun.out 2>&1
check "under Slurm: exit 0" test $? -eq 0
check_grep "under Slurm: the site's launcher, srun --mpi=pmi2 with cpus-per-task and -n" \
  '^--mpi=pmi2 --kill-on-bad-exit=1 --cpus-per-task=2 -n 3 ' srun.log
check_grep "under Slurm: OPENBLAS_NUM_THREADS from SLURM_CPUS_PER_TASK" 'OPENBLAS_NUM_THREADS=2 ' results/77/run.h5
check_grep "under Slurm: default results/\$SLURM_JOB_ID/run.h5" '^OK exit=0 job=77 ' results/77/run.status
printf '. %s/site.conf\nSITE_LAUNCHER=mpiexec.mpich\nSITE_LAUNCHER_FLAGS=\n' "$SLURM_DIR" >mpiexec-site.conf
FAKE_SRUN_LOG=$WORK/srun2.log SLURM_JOB_ID=78 SLURM_NTASKS=2 SLURM_SUBMIT_DIR=$WORK ADMM_SITE=mpiexec-site.conf \
  bash "$SLURM_DIR/train.sbatch" --epochs 1 >mpiexec.out 2>&1
check_grep "a site file naming mpiexec.mpich launches with it" 'mpiexec.mpich -n 2 ' mpiexec.out
# run-local drops an enclosing allocation's variables: mpiexec.mpich must not launch via srun
FAKE_SRUN_LOG=$WORK/srun3.log SLURM_JOB_ID=79 SLURM_NTASKS=5 SLURM_NODELIST=nowhere \
  "$LOCAL" run --ntasks 2 --results inalloc -- --epochs 1 >inalloc.out 2>&1
check "run-local inside an allocation runs locally" test $? -eq 0
check_grep "run-local inside an allocation: the local launcher, 2 ranks" 'ranks=2 threads_per_rank=1 launcher=mpiexec.mpich' inalloc.out
check "run-local inside an allocation: srun not used" test ! -e srun3.log

# ---------------------------------------------------------------------------------------------
# The site file: sbatch options at submission, --dry-run, placement of scaling points
# ---------------------------------------------------------------------------------------------
cat >site-test.conf <<EOF
SITE_PARTITION=p1
SITE_ACCOUNT=acct1
SITE_QOS=q1
SITE_CONSTRAINT="[a|b]"
SITE_SBATCH_ARGS="--reservation=r1 --mail-type=NONE"
SITE_TASKS_PER_NODE=4
SITE_MODULES="mpi/x hdf5/y"
SITE_LAUNCHER=mylaunch
SITE_LAUNCHER_FLAGS="--np={ntasks} --ppn={ntasks_per_node} --nodes={nodes} --cpt={cpus_per_task}"
SITE_STUDY_LAUNCHER_FLAGS="--study-flag"
SITE_LOCAL_LAUNCHER=mylaunch
SITE_LOCAL_LAUNCHER_FLAGS="--local"
module() { echo "module \$*" >>"$WORK/site-calls.txt"; case "\$2" in bad*) return 1 ;; esac; }
site_hook() {
  echo "hook \$1 SLURM_JOB_ID=\${SLURM_JOB_ID:-none}" >>"$WORK/site-calls.txt"
  export OPENBLAS_NUM_THREADS=\${FAKE_HOOK_THREADS:-\$OPENBLAS_NUM_THREADS}
  return \${FAKE_HOOK_RC:-0}
}
EOF
export ADMM_SITE=$WORK/site-test.conf
SITE_OPTS='--partition=p1 --account=acct1 --qos=q1 '\''--constraint=\[a\|b\]'\'' --reservation=r1 --mail-type=NONE'
rm -f sbatch.log sbatch.log.n
"$SLURM_DIR/submit-scaling.sh" --dry-run --ranks 1,2,8 --repeats 2 --results dry -- --epochs 1 >dry-scaling.txt 2>&1
check "scaling --dry-run exits 0" test $? -eq 0
check "scaling --dry-run: 6 runs + 1 analysis" test "$(grep -c '^JOB[0-9]*=$(sbatch ' dry-scaling.txt)" = 7
check "scaling --dry-run submits nothing, creates nothing" test ! -e sbatch.log -a ! -e dry
check_grep "scaling --dry-run: site options on every job" "^JOB1=\\\$\(sbatch --parsable --export=ALL,ADMM_SITE=$WORK/site-test.conf,.* $SITE_OPTS " dry-scaling.txt
check "scaling --dry-run: --exclusive on every run" test "$(grep -c -- '--ntasks-per-node=[0-9]* --exclusive ' dry-scaling.txt)" = 6
check_grep "scaling: 2 ranks on one node" '--job-name=admm-strong-r2-1 --ntasks=2 --nodes=1 --ntasks-per-node=2 --exclusive ' dry-scaling.txt
check_grep "scaling: 8 ranks = 2 nodes x SITE_TASKS_PER_NODE 4" '--job-name=admm-strong-r8-2 --ntasks=8 --nodes=2 --ntasks-per-node=4 --exclusive ' dry-scaling.txt
check_grep "scaling: repeat 2 writes rN-2" 'ADMM_RUN_NAME=r8-2 ' dry-scaling.txt
check_grep "scaling: the analysis waits for all 6 runs" '--dependency=afterok:\$JOB1:\$JOB2:\$JOB3:\$JOB4:\$JOB5:\$JOB6 --kill-on-invalid-dep=yes .*analyze.sbatch' dry-scaling.txt
# the printed lines are a script: run them with the fake sbatch, ids 101.. fill the dependency
bash dry-scaling.txt
check "the --dry-run script runs" test $? -eq 0
check_grep "the --dry-run script's dependency gets the real ids" '--dependency=afterok:101:102:103:104:105:106 ' sbatch.log
check_grep "the --dry-run script passes the constraint intact" '--constraint=\[a\|b\] ' sbatch.log
rm -f sbatch.log sbatch.log.n
"$SLURM_DIR/submit-scaling.sh" --nodes 1,2 --ntasks-per-node 1 --no-exclusive --results realsub -- --epochs 1 >realsub.txt 2>&1
check "scaling submits with sbatch" test $? -eq 0
check_grep "scaling --nodes 2 --ntasks-per-node 1: 2 ranks, one per node" '--ntasks=2 --nodes=2 --ntasks-per-node=1 --output=' sbatch.log
check "scaling --no-exclusive: no --exclusive" test "$(grep -c -- --exclusive sbatch.log)" = 0
check_grep "scaling: jobs.txt has the real ids" '^job=102 kind=train series=strong ranks=2 nodes=2 ntasks_per_node=1 ' realsub/jobs.txt

rm -f sbatch.log sbatch.log.n
"$SLURM_DIR/submit-sweep.sh" --dry-run --nodes 2 --ntasks-per-node 1 --results drysw s.sweep --epochs 1 >dry-sweep.txt 2>&1
check "sweep --dry-run exits 0" test $? -eq 0
check_grep "sweep --dry-run: each point spread over 2 nodes, one rank on each" \
  "^JOB1=.* $SITE_OPTS --job-name=admm-sweep --ntasks=2 --nodes=2 --ntasks-per-node=1 .*--array=0-4 " dry-sweep.txt
check_grep "sweep --dry-run: analysis after the array" '^JOB2=.*--dependency=afterok:\$JOB1 ' dry-sweep.txt
check "sweep --dry-run submits nothing, creates nothing" test ! -e sbatch.log -a ! -e drysw

refuses "scaling refuses --ranks not a multiple of the ranks per node" 'not a multiple of --ntasks-per-node 4' \
  "$SLURM_DIR/submit-scaling.sh" --ranks 6 --dry-run
refuses "scaling refuses --ranks with --nodes" 'give one of them' "$SLURM_DIR/submit-scaling.sh" --ranks 1 --nodes 1 --dry-run
refuses "scaling refuses --repeats 0" 'not a positive integer' "$SLURM_DIR/submit-scaling.sh" --repeats 0 --dry-run
refuses "scaling refuses --nodes without ranks per node" 'needs --ntasks-per-node' \
  env ADMM_SITE="$SLURM_DIR/site.conf" "$SLURM_DIR/submit-scaling.sh" --nodes 1,2 --dry-run
refuses "sweep refuses --ntasks not a multiple of --ntasks-per-node" 'not a multiple' \
  "$SLURM_DIR/submit-sweep.sh" --ntasks 3 --ntasks-per-node 2 --dry-run s.sweep
refuses "sweep refuses --ntasks other than --nodes x --ntasks-per-node" 'is not --nodes 2 x' \
  "$SLURM_DIR/submit-sweep.sh" --ntasks 3 --nodes 2 --ntasks-per-node 2 --dry-run s.sweep
refuses "a missing site file is refused at submission" 'site file .*nowhere.conf not found' \
  env ADMM_SITE=$WORK/nowhere.conf "$SLURM_DIR/submit-sweep.sh" --dry-run s.sweep

# every template: --dry-run prints its sbatch line with the site's options, --submit submits it
for t in train analyze study-scaling; do
  bash "$SLURM_DIR/$t.sbatch" --dry-run --sbatch "--time=5" --beta 5 >"dry-$t.txt" 2>&1
  check_grep "$t.sbatch --dry-run" "^JOB1=\\\$\(sbatch --parsable --export=ALL,ADMM_SITE=.* $SITE_OPTS --time=5 $SLURM_DIR/$t.sbatch --beta 5\)\$" "dry-$t.txt"
done
check "templates' --dry-run submits nothing" test ! -e sbatch.log
out=$(bash "$SLURM_DIR/train.sbatch" --submit --sbatch "--ntasks=3" --epochs 1)
check "train.sbatch --submit prints the job id" test "$out" = 101
check_grep "train.sbatch --submit: site options, --sbatch, the trainer's arguments" \
  " --partition=p1 --account=acct1 --qos=q1 --constraint=\\[a\\|b\\] --reservation=r1 --mail-type=NONE --ntasks=3 $SLURM_DIR/train.sbatch --epochs 1\$" sbatch.log
for t in train study-scaling; do
  check_grep "$t.sbatch asks for a warning signal before the limit" '^#SBATCH --signal=B:USR1@120 ' "$SLURM_DIR/$t.sbatch"
  check_grep "$t.sbatch asks to be requeued" '^#SBATCH --requeue ' "$SLURM_DIR/$t.sbatch"
done
for o in --exclusive --nodes= --ntasks-per-node=; do
  check_grep "study-scaling.sbatch asks for $o" "^#SBATCH $o" "$SLURM_DIR/study-scaling.sbatch"
done

# ---------------------------------------------------------------------------------------------
# The site file inside the job: modules, then the hook, then its launcher with the placeholders
# ---------------------------------------------------------------------------------------------
: >site-calls.txt
FAKE_SRUN_LOG=$WORK/mylaunch.log FAKE_HOOK_THREADS=7 SLURM_JOB_ID=80 SLURM_NTASKS=4 SLURM_JOB_NUM_NODES=2 \
  SLURM_NTASKS_PER_NODE=2 SLURM_CPUS_PER_TASK=1 SLURM_SUBMIT_DIR=$WORK bash "$SLURM_DIR/train.sbatch" --epochs 1 >site-run.out 2>&1
check "site run exits 0" test $? -eq 0
check_grep "the site's launcher with its placeholders filled, then -n" '^--np=4 --ppn=2 --nodes=2 --cpt=1 -n 4 .*admm-train --epochs 1 ' mylaunch.log
check "modules one at a time, then the hook" diff site-calls.txt <(printf 'module load mpi/x\nmodule load hdf5/y\nhook train SLURM_JOB_ID=80\n')
check_grep "what the hook exports reaches the step" 'OPENBLAS_NUM_THREADS=7 ' results/80/run.h5
ADMM_RESULTS=loc FAKE_SRUN_LOG=$WORK/mylaunch-local.log ADMM_NTASKS=3 bash "$SLURM_DIR/train.sbatch" --epochs 1 >/dev/null 2>&1
check_grep "outside Slurm: the site's local launcher" '^--local -n 3 ' mylaunch-local.log
# a site file may take the shipped one and change a few settings
printf '. %s/site.conf\nSITE_MODULES="ok bad/1"\nmodule() { case "$2" in bad*) return 1 ;; esac; }\n' "$SLURM_DIR" >bad-module.conf
ADMM_SITE=$WORK/bad-module.conf ADMM_RESULTS=badmod bash "$SLURM_DIR/train.sbatch" --epochs 1 >/dev/null 2>&1
check "a module that does not load fails the job" test $? -eq 2
check_grep "... before the run, status reason=site-modules" '^FAILED exit=2 .*reason=site-modules' badmod/run.status
check "... and the trainer did not run" test ! -e badmod/run.h5
FAKE_HOOK_RC=3 ADMM_RESULTS=badhook bash "$SLURM_DIR/train.sbatch" --epochs 1 >/dev/null 2>&1
check "a failing site_hook fails the job with its status" test $? -eq 3
check_grep "... status reason=site-hook" '^FAILED exit=3 .*reason=site-hook' badhook/run.status
ADMM_SITE=$WORK/nowhere.conf ADMM_RESULTS=nosite bash "$SLURM_DIR/train.sbatch" --epochs 1 >/dev/null 2>&1
check_grep "a missing site file fails the job: reason=site-file" '^FAILED exit=2 .*reason=site-file' nosite/run.status
ADMM_SITE=$WORK/nowhere.conf bash "$SLURM_DIR/analyze.sbatch" nositereport sw >/dev/null 2>&1
check_grep "analyze.sbatch: a missing site file fails it too" '^FAILED exit=2 .*reason=site-file' nositereport.status
unset ADMM_SITE

# ---------------------------------------------------------------------------------------------
# Signals: the batch shell passes USR1 and TERM on to the step, and tee survives them
# ---------------------------------------------------------------------------------------------
# a trainer that runs until a signal, then writes its file as admm-train does and exits 128+N
cat >fakebin/slow-train <<'EOF'
#!/bin/bash
out="" prev=""
for a in "$@"; do [ "$prev" = --output ] && out=$a; prev=$a; done
stop() { sleep 0.3; echo "fake: stopped by $1"; echo "$1 | status=complete" >"$out"; exit "$2"; }
trap 'stop SIGUSR1 138' USR1
trap 'stop SIGTERM 143' TERM
echo "fake: started"
for ((i = 0; i < 300; i++)); do sleep 0.1; done
echo "fake: not signalled" ; exit 0
EOF
chmod +x fakebin/slow-train
printf '. %s/site.conf\nSITE_LOCAL_LAUNCHER=mylaunch\n' "$SLURM_DIR" >direct-site.conf
# sig_run NAME SIGNAL TARGET: start a run, signal TARGET (shell: the batch shell; group: every
# process of it, as Slurm's time limit does) once the trainer runs; waits for the end
sig_run() {
  ADMM_SITE=$WORK/direct-site.conf ADMM_TRAIN=$WORK/fakebin/slow-train FAKE_SRUN_LOG=/dev/null ADMM_RESULTS=$1 \
    setsid bash "$SLURM_DIR/train.sbatch" --epochs 1 >"$1.out" 2>&1 &
  local pid=$! t
  for ((t = 0; t < 100; t++)); do grep -q 'fake: started' "$1/run.log" 2>/dev/null && break; sleep 0.1; done
  if [ "$3" = group ]; then kill -s "$2" -- "-$pid"; else kill -s "$2" "$pid"; fi
  wait "$pid"
}
sig_run sigusr1 USR1 shell
check "USR1 to the batch shell: it exits 138" test $? -eq 138
check_grep "... the step got SIGUSR1 and saved its file" '^SIGUSR1 \| status=complete' sigusr1/run.h5
check_grep "... status reason=SIGUSR1" '^FAILED exit=138 .*reason=SIGUSR1 ' sigusr1/run.status
check_grep "... the log has the step's last line" '^fake: stopped by SIGUSR1' sigusr1/run.log
sig_run sigterm TERM group
check "TERM to every process of the job: it exits 143" test $? -eq 143
check_grep "... the step saved its file" '^SIGTERM \| status=complete' sigterm/run.h5
check_grep "... status reason=SIGTERM" '^FAILED exit=143 .*reason=SIGTERM ' sigterm/run.status
check_grep "... tee outlived the signal: the log has the last line" '^fake: stopped by SIGTERM' sigterm/run.log

# the study: the signal goes to the step the study script runs, not to the script
cat >fake-study.sh <<'EOF'
#!/bin/bash
echo "$*" >"$FAKE_DIR/study-args.txt"
echo "$MPIEXEC|$MPIEXEC_FLAGS" >"$FAKE_DIR/study-env.txt"
[ -z "${FAKE_STUDY_STEP:-}" ] && exit 0
bash -c 'trap "echo step-got-USR1 >$FAKE_DIR/study-step.txt; exit 138" USR1; echo running >$FAKE_DIR/study-step.txt; for ((i = 0; i < 100; i++)); do sleep 0.1; done'
echo "study went on after its step: $?" >"$FAKE_DIR/study-after.txt"
EOF
FAKE_DIR=$WORK ADMM_STUDY=$WORK/fake-study.sh SLURM_JOB_ID=81 SLURM_NTASKS=6 SLURM_SUBMIT_DIR=$WORK \
  bash "$SLURM_DIR/study-scaling.sbatch" --repeats 3 --methods bcd >study.out 2>&1
check "study-scaling.sbatch with a fake study exits 0" test $? -eq 0
check_grep "study: --repeats R is the study's --repeat R; ranks up to the allocation; --out" \
  "^--repeat 3 --methods bcd --ranks 1,2,4,6 --out $WORK/results/study-scaling-81\$" study-args.txt
check_grep "study: every step through the site's launcher and study flags" \
  '^srun --mpi=pmi2 --kill-on-bad-exit=1 --exact --cpus-per-task=1 --cpu-bind=cores\|$' study-env.txt
refuses "study: --ranks beyond the allocation refused" 'allocation has 6 tasks' \
  env FAKE_DIR=$WORK ADMM_STUDY=$WORK/fake-study.sh SLURM_JOB_ID=82 SLURM_NTASKS=6 SLURM_SUBMIT_DIR=$WORK \
  bash "$SLURM_DIR/study-scaling.sbatch" --ranks 1,8
FAKE_DIR=$WORK FAKE_STUDY_STEP=1 ADMM_STUDY=$WORK/fake-study.sh ADMM_NTASKS=2 \
  bash "$SLURM_DIR/study-scaling.sbatch" --out "$WORK/st" >study-sig.out 2>&1 &
pid=$!
for ((t = 0; t < 100; t++)); do grep -q running study-step.txt 2>/dev/null && break; sleep 0.1; done
kill -USR1 "$pid"
wait "$pid"
check_grep "study: USR1 to the batch shell reaches the study's running step" '^step-got-USR1$' study-step.txt
check_grep "study: the study script itself was not killed" '^study went on after its step: 138$' study-after.txt

# ---------------------------------------------------------------------------------------------
# Requeue on the warning and resume (issue 14): under "Slurm" (SLURM_JOB_ID, fake srun and
# scontrol), a trainer that writes a checkpoint when it stops on a signal, as admm-train does
# ---------------------------------------------------------------------------------------------
cat >fakebin/ck-train <<'EOF'
#!/bin/bash
# --fake-late: finishes normally although USR1 came; --fake-nockpt: writes no checkpoint
out="" ck="" prev="" late=0 nockpt=0 got=""
for a in "$@"; do
  [ "$prev" = --output ] && out=$a
  [ "$prev" = --checkpoint ] && ck=$a
  case "$a" in --fake-late) late=1 ;; --fake-nockpt) nockpt=1 ;; esac
  prev=$a
done
[ -n "$ck" ] || ck=${out%.h5}.checkpoint.h5
stop() {
  echo "fake: stopped by $1"
  [ "$ck" = none ] || [ $nockpt = 1 ] || echo "checkpoint of $*" >"$ck"
  echo "$* | $1 | stop_reason=signal | status=complete" >"$out"
  exit "$2"
}
if [ $late = 1 ]; then trap 'got=1' USR1; else trap 'stop SIGUSR1 138' USR1; fi
trap 'stop SIGTERM 143' TERM
echo "fake: started"
for ((i = 0; i < 300; i++)); do sleep 0.1; [ -z "$got" ] || break; done
echo "$* | stop_reason=max_epochs | status=complete" >"$out"
echo "fake: finished"
EOF
chmod +x fakebin/ck-train
# rq_run NAME SIGNAL [VAR=VALUE...] -- ARGS: job 90 in NAME/, SIGNAL to the batch shell once the
# trainer runs; waits for the end, returns its exit status. The scontrol calls go to NAME.scontrol.
rq_run() {
  local name=$1 sig=$2 envs=() pid t
  shift 2
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  env ADMM_SITE="$WORK/direct-site.conf" ADMM_TRAIN="$WORK/fakebin/ck-train" FAKE_SRUN_LOG=/dev/null \
    FAKE_SCONTROL_LOG="$WORK/$name.scontrol" SLURM_JOB_ID=90 SLURM_NTASKS=2 SLURM_SUBMIT_DIR="$WORK" \
    ADMM_RESULTS="$name" "${envs[@]}" setsid bash "$SLURM_DIR/train.sbatch" "$@" >"$name.out" 2>&1 &
  pid=$!
  for ((t = 0; t < 100; t++)); do grep -q 'fake: started' "$name/run.log" 2>/dev/null && break; sleep 0.1; done
  kill -s "$sig" "$pid"
  wait "$pid"
}
rq_run rq USR1 -- --epochs 1
check "requeue: USR1 under Slurm: exit 138" test $? -eq 138
check_grep "... status REQUEUED, reason SIGUSR1" '^REQUEUED exit=138 job=90 reason=SIGUSR1 params=--epochs 1$' rq/run.status
check_grep "... scontrol requeue of its own job" '^requeue 90$' rq.scontrol
check_grep "... says so" 'requeued \(restart 1\), the next attempt resumes from it' rq.out
check_grep "... the checkpoint was written" '^checkpoint of ' rq/run.checkpoint.h5
rq_run rqoff USR1 ADMM_REQUEUE=0 -- --epochs 1
check "ADMM_REQUEUE=0: exit 138" test $? -eq 138
check_grep "... FAILED reason=SIGUSR1, as before" '^FAILED exit=138 job=90 reason=SIGUSR1 ' rqoff/run.status
check "... no scontrol requeue" test ! -e rqoff.scontrol
printf '. %s/site.conf\nSITE_LOCAL_LAUNCHER=mylaunch\nSITE_REQUEUE=0\n' "$SLURM_DIR" >norequeue-site.conf
rq_run rqsite USR1 ADMM_SITE="$WORK/norequeue-site.conf" -- --epochs 1
check_grep "SITE_REQUEUE=0 in the site file: FAILED, not requeued" '^FAILED exit=138 job=90 reason=SIGUSR1 ' rqsite/run.status
check "... no scontrol requeue" test ! -e rqsite.scontrol
rq_run rqsite1 USR1 ADMM_SITE="$WORK/norequeue-site.conf" ADMM_REQUEUE=1 -- --epochs 1
check_grep "... ADMM_REQUEUE=1 overrides it" '^REQUEUED exit=138 ' rqsite1/run.status
rq_run rqterm TERM -- --epochs 1
check "TERM (scancel, the limit): exit 143" test $? -eq 143
check_grep "... FAILED reason=SIGTERM" '^FAILED exit=143 job=90 reason=SIGTERM ' rqterm/run.status
check "... never requeued" test ! -e rqterm.scontrol
rq_run rqnone USR1 -- --checkpoint none
check_grep "--checkpoint none: not requeued (it would start over)" '^FAILED exit=138 .*reason=SIGUSR1 ' rqnone/run.status
check_grep "... says why" 'not requeued: no checkpoint \(--checkpoint none\)' rqnone.out
check "... no scontrol requeue" test ! -e rqnone.scontrol
rq_run rqrefused USR1 FAKE_SCONTROL_REFUSE=1 -- --epochs 1
check_grep "scontrol refuses (--no-requeue): FAILED" '^FAILED exit=138 .*reason=SIGUSR1 ' rqrefused/run.status
check_grep "... with Slurm's reason" 'not requeued: scontrol requeue 90: Requested operation is presently disabled' rqrefused.out
rq_run rqmax USR1 SLURM_RESTART_COUNT=3 ADMM_REQUEUE_MAX=3 -- --epochs 1
check_grep "ADMM_REQUEUE_MAX=3 after 3 restarts: FAILED" '^FAILED exit=138 ' rqmax/run.status
check_grep "... says why" 'not requeued: restarted 3 times already' rqmax.out
check "... no scontrol requeue" test ! -e rqmax.scontrol
rq_run rqlate USR1 -- --fake-late
check "USR1 after the trainer's last epoch: exit 0" test $? -eq 0
check_grep "... status OK (the run ended as it would have)" '^OK exit=0 job=90 ' rqlate/run.status
check "... not requeued" test ! -e rqlate.scontrol

# A requeued attempt (SLURM_RESTART_COUNT > 0) resumes from the run's checkpoint, in place
mkdir -p rs && echo "earlier attempt" >rs/run.h5 && echo "checkpoint" >rs/run.checkpoint.h5 && echo "attempt 0 log" >rs/run.log
FAKE_SRUN_LOG=/dev/null SLURM_JOB_ID=91 SLURM_NTASKS=2 SLURM_RESTART_COUNT=1 SLURM_SUBMIT_DIR=$WORK ADMM_RESULTS=rs \
  bash "$SLURM_DIR/train.sbatch" --epochs 1 >rs.out 2>&1
check "resume: exit 0" test $? -eq 0
check_grep "resume: --resume the checkpoint, after the same arguments" '^--epochs 1 --output rs/run.h5 --resume rs/run.checkpoint.h5 \|' rs/run.h5
check "... the results file stays where it is (no attempt-0)" test ! -e rs/run.h5.attempt-0
check_grep "... says so" 'requeued \(restart 1\): resuming from rs/run.checkpoint.h5' rs.out
check_grep "... the earlier attempt's log is kept" '^attempt 0 log$' rs/run.log
check_grep "... and this attempt's added" '^epoch=1 ' rs/run.log
check_grep "... status OK" '^OK exit=0 job=91 ' rs/run.status
mkdir -p rsu && echo "earlier attempt" >rsu/run.h5 && echo "checkpoint" >mine.ckpt
FAKE_SRUN_LOG=/dev/null SLURM_JOB_ID=92 SLURM_NTASKS=2 SLURM_RESTART_COUNT=2 SLURM_SUBMIT_DIR=$WORK ADMM_RESULTS=rsu \
  bash "$SLURM_DIR/train.sbatch" --checkpoint=mine.ckpt --epochs 1 >/dev/null 2>&1
check_grep "resume: from the user's --checkpoint=PATH" ' --resume mine.ckpt \|' rsu/run.h5
mkdir -p rsn && echo "earlier attempt" >rsn/run.h5 && echo "checkpoint" >rsn/run.checkpoint.h5
FAKE_SRUN_LOG=/dev/null SLURM_JOB_ID=93 SLURM_NTASKS=2 SLURM_RESTART_COUNT=1 SLURM_SUBMIT_DIR=$WORK ADMM_RESULTS=rsn \
  bash "$SLURM_DIR/train.sbatch" --checkpoint none --epochs 1 >/dev/null 2>&1
check_grep "--checkpoint none: a requeued run starts over" '^--checkpoint none --epochs 1 --output rsn/run.h5 \|' rsn/run.h5
check_grep "... the earlier attempt kept aside" '^earlier attempt$' rsn/run.h5.attempt-0
# a resumed attempt that wrote no new checkpoint is not requeued again (no progress)
mkdir -p rqstale && echo "old checkpoint" >rqstale/run.checkpoint.h5 && echo "earlier attempt" >rqstale/run.h5
rq_run rqstale USR1 SLURM_RESTART_COUNT=1 -- --fake-nockpt
check_grep "resumed, stopped without a new checkpoint: FAILED, not requeued" '^FAILED exit=138 ' rqstale/run.status
check_grep "... says why" 'not requeued: this attempt wrote no checkpoint' rqstale.out
check "... no scontrol requeue" test ! -e rqstale.scontrol

# sweep-status: a requeued run is unfinished, exit 3
mkdir -p requeued && cp rq/run.status requeued/run.status
"$SLURM_DIR/sweep-status.sh" requeued >requeued-status.txt
check "sweep-status.sh exits 3 while a run is requeued" test $? -eq 3
check_grep "sweep-status.sh counts it as running" '^runs=1 ok=0 failed=0 running=1 not_run=0$' requeued-status.txt

# sweep-status: a run still RUNNING (no Slurm to ask) is unfinished, exit 3
mkdir -p unfinished && echo 'RUNNING exit=- job=local-1 params=--beta 1' >unfinished/run.status
"$SLURM_DIR/sweep-status.sh" unfinished >/dev/null
check "sweep-status.sh exits 3 while a run is unfinished" test $? -eq 3

finish
