#!/usr/bin/env bash
# cmake --install into a fresh prefix, then the installed tools run from another directory:
# admm-train --version and a one-epoch run, admm-analyze --version and its report of that run;
# the Slurm templates, the scripts they call and the docs are in place.
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

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
