#!/usr/bin/env bash
# cmake --install into a fresh prefix, then the installed tools run from another directory:
# admm-train --version and a one-epoch run, admm-analyze --version and its report of that run;
# the Slurm templates, the scripts they call and the docs are in place, and the installed
# templates run the installed programs (train.sbatch and analyze.sbatch outside Slurm from a
# folder without build/, the sbatch lines of submit-scaling.sh --dry-run).
# Usage: test_install.sh CMAKE BUILD_DIR WORKDIR MPIEXEC VERSION
set -u
cmake=$1 build=$2 work=$3 mpiexec=$4 version=$5
pass=0 fail=0
ok() { echo "PASS: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL: $1"; fail=$((fail + 1)); }
rm -rf "$work" && mkdir -p "$work/elsewhere" || exit 2
prefix=$work/prefix
if "$cmake" --install "$build" --prefix "$prefix" >"$work/install.log" 2>&1; then ok "cmake --install --prefix"
else bad "cmake --install --prefix"; cat "$work/install.log"; fi

for f in bin/admm-train bin/admm-analyze bin/admm-microbench share/admm-nn/slurm/submit-sweep.sh \
         share/admm-nn/slurm/run-local.sh share/admm-nn/jobs/study-scaling.sh share/admm-nn/io/fetch-mnist.sh; do
  if [ -x "$prefix/$f" ]; then ok "$f installed, executable"; else bad "$f installed, executable"; fi
done
for f in share/admm-nn/slurm/train.sbatch share/admm-nn/slurm/lib.sh share/admm-nn/slurm/README.md; do
  if [ -f "$prefix/$f" ]; then ok "$f installed"; else bad "$f installed"; fi
done
docs=$(find "$prefix/share/doc" -name INSTALL -printf '%h' 2>/dev/null | head -n 1)
if [ -n "$docs" ] && [ -f "$docs/README.md" ] && [ -f "$docs/SCHEMA.md" ] && [ -f "$docs/analysis.md" ]; then
  ok "docs in ${docs#"$prefix"/}"; else bad "docs installed (README.md INSTALL SCHEMA.md analysis.md)"; fi

cd "$work/elsewhere" || exit 2
export OPENBLAS_NUM_THREADS=1
out=$("$mpiexec" -n 1 "$prefix/bin/admm-train" --version 2>&1)
if echo "$out" | grep -q "^admm-train $version "; then ok "installed admm-train --version: $out"
else bad "installed admm-train --version (want $version): $out"; fi
out=$("$prefix/bin/admm-analyze" --version 2>&1)
if echo "$out" | grep -q "$version"; then ok "installed admm-analyze --version: $out"
else bad "installed admm-analyze --version (want $version): $out"; fi
mkdir -p runs
if "$mpiexec" -n 2 "$prefix/bin/admm-train" --data synthetic --n-train 256 --n-test 128 --layers 8,6,3 --epochs 1 \
     --quiet 1 --output runs/one.h5 >train.log 2>&1 && [ -f runs/one.h5 ]; then ok "installed admm-train runs (2 ranks)"
else bad "installed admm-train runs (2 ranks)"; cat train.log; fi
if "$prefix/bin/admm-analyze" runs --out report --no-plots >analyze.log 2>&1 && [ -f report/report.md ]; then
  ok "installed admm-analyze reports on that run"; else bad "installed admm-analyze reports on that run"; cat analyze.log; fi

# The installed templates use the installed programs, not a build tree: run from a folder with no
# build/ in it, ADMM_TRAIN and ADMM_ANALYZE unset, outside Slurm; the site file's local launcher
# is the tests' one (nn-mpiexec: the MPI this build links).
slurm=$prefix/share/admm-nn/slurm
bindir=$(realpath "$prefix/bin")
unset ADMM_TRAIN ADMM_ANALYZE ADMM_MICROBENCH ADMM_STUDY ADMM_SLURM_DIR SLURM_JOB_ID SLURM_CONF
printf '. %q\nSITE_LOCAL_LAUNCHER=%q\n' "$slurm/site.conf" "$mpiexec" > site.conf
if [ -f "$slurm/install-paths.sh" ] && [ ! -e build ]; then ok "install-paths.sh installed beside the templates"
else bad "install-paths.sh installed beside the templates"; fi
ADMM_SITE=$PWD/site.conf ADMM_NTASKS=2 ADMM_RESULTS=tpl ADMM_RUN_NAME=run \
  bash "$slurm/train.sbatch" --data synthetic --n-train 256 --n-test 128 --layers 8,6,3 --epochs 1 --quiet 1 \
  >tpl.log 2>&1
rc=$?
if grep -qF " $bindir/admm-train --data synthetic" tpl.log; then ok "installed train.sbatch launches $bindir/admm-train"
else bad "installed train.sbatch launches $bindir/admm-train"; cat tpl.log; fi
if [ $rc -eq 0 ] && [ -f tpl/run.h5 ] && grep -q '^OK ' tpl/run.status; then ok "installed train.sbatch runs (status OK)"
else bad "installed train.sbatch runs (rc=$rc, status: $(cat tpl/run.status 2>/dev/null))"; cat tpl.log; fi
ADMM_SITE=$PWD/site.conf bash "$slurm/analyze.sbatch" tpl-report tpl >tpl-analyze.log 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -qF "$bindir/admm-analyze tpl --out tpl-report" tpl-analyze.log && [ -f tpl-report/report.md ]; then
  ok "installed analyze.sbatch runs $bindir/admm-analyze"
else bad "installed analyze.sbatch runs $bindir/admm-analyze (rc=$rc)"; cat tpl-analyze.log; fi
# submission (no Slurm needed): the jobs are handed the installed programs
out=$(bash "$slurm/submit-scaling.sh" --dry-run --ranks 1,2 -- --data synthetic 2>&1)
if [ "$(echo "$out" | grep -c "^JOB[0-9]*=\$(sbatch .*,ADMM_TRAIN=$bindir/admm-train,ADMM_ANALYZE=$bindir/admm-analyze[ ,]")" = 3 ]; then ok "installed submit-scaling.sh --dry-run: the jobs get $bindir/admm-{train,analyze}"
else bad "installed submit-scaling.sh --dry-run: the jobs get $bindir/admm-{train,analyze}"; echo "$out"; fi
# the installed study script finds the installed trainer, microbenchmark and analyzer
out=$(bash -c '. "$1/slurm/tools.sh"; admm_tool_default study-scaling.sh "$1/slurm"' _ "$prefix/share/admm-nn")
if [ "$out" = "$(realpath "$prefix/share/admm-nn/jobs/study-scaling.sh")" ]; then ok "installed study-scaling.sbatch runs the installed jobs/study-scaling.sh"
else bad "installed study-scaling.sbatch runs the installed jobs/study-scaling.sh (got $out)"; fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
