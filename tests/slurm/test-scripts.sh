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
# --fake-running (file without "complete"). h5dump reports "complete" when the file says so.
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
grep -q 'status=complete' "$f" && echo '   (0): "complete"' || echo '   (0): "running"'
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
cat >fakebin/srun <<'EOF'
#!/bin/bash
echo "$*" >"$FAKE_SRUN_LOG"
while [ $# -gt 0 ] && [ "${1#--}" != "$1" ]; do shift; done
exec "$@"
EOF
chmod +x fakebin/*
export PATH=$WORK/fakebin:$PATH
export ADMM_TRAIN=$WORK/fakebin/admm-train ADMM_ANALYZE=$WORK/fakebin/admm-analyze
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
check_grep "jobs.txt lists the runs" '^job=local5 kind=train series=weak ranks=3 n_train=300 ' sc/jobs.txt
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
check_grep "under Slurm: srun --mpi=pmi2 with ntasks and cpus-per-task" \
  '^--mpi=pmi2 --ntasks=3 --cpus-per-task=2 --kill-on-bad-exit=1 ' srun.log
check_grep "under Slurm: OPENBLAS_NUM_THREADS from SLURM_CPUS_PER_TASK" 'OPENBLAS_NUM_THREADS=2 ' results/77/run.h5
check_grep "under Slurm: default results/\$SLURM_JOB_ID/run.h5" '^OK exit=0 job=77 ' results/77/run.status
FAKE_SRUN_LOG=$WORK/srun2.log SLURM_JOB_ID=78 SLURM_NTASKS=2 SLURM_SUBMIT_DIR=$WORK ADMM_LAUNCHER=mpiexec \
  bash "$SLURM_DIR/train.sbatch" --epochs 1 >mpiexec.out 2>&1
check_grep "ADMM_LAUNCHER=mpiexec uses mpiexec.mpich" 'mpiexec.mpich -n 2 ' mpiexec.out
# run-local drops an enclosing allocation's variables: mpiexec.mpich must not launch via srun
FAKE_SRUN_LOG=$WORK/srun3.log SLURM_JOB_ID=79 SLURM_NTASKS=5 SLURM_NODELIST=nowhere \
  "$LOCAL" run --ntasks 2 --results inalloc -- --epochs 1 >inalloc.out 2>&1
check "run-local inside an allocation runs locally" test $? -eq 0
check_grep "run-local inside an allocation: launcher local, 2 ranks" 'ranks=2 threads_per_rank=1 launcher=local' inalloc.out
check "run-local inside an allocation: srun not used" test ! -e srun3.log

# sweep-status: a run still RUNNING (no Slurm to ask) is unfinished, exit 3
mkdir -p unfinished && echo 'RUNNING exit=- job=local-1 params=--beta 1' >unfinished/run.status
"$SLURM_DIR/sweep-status.sh" unfinished >/dev/null
check "sweep-status.sh exits 3 while a run is unfinished" test $? -eq 3

finish
