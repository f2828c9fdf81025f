#!/usr/bin/env bash
# Test of slurm/run-local.sh with the real trainer and analyzer, no Slurm: a strong scaling study
# at 1 and 2 ranks, a sweep with a failing point, the shipped init sweep, a single run; same
# results layout as under Slurm, analysis only after a fully good study.
#
#   tests/slurm/test-local.sh ADMM_TRAIN ADMM_ANALYZE
#
# Last line `N passed, M failed`; exit 0 when all passed.
set -uo pipefail
# shellcheck source=tests/slurm/common.sh
. "$(dirname "$0")/common.sh"

[ $# -eq 2 ] || { echo "usage: $0 ADMM_TRAIN ADMM_ANALYZE" >&2; exit 2; }
command -v "${TEST_MPIEXEC[0]}" >/dev/null || skip "${TEST_MPIEXEC[0]} not installed"
take_tools "$1" "$2"
# shellcheck disable=SC2054  # --layers 16,8,4 is one word
TINY=(--data synthetic --n-train 256 --n-test 128 --validation 64 --layers 16,8,4 --epochs 2)
LOCAL=$SLURM_DIR/run-local.sh
make_work slurm-local
cd "$WORK" || bail "cd $WORK"
T0=$SECONDS

# strong scaling, 1 and 2 ranks
"$LOCAL" scaling --ranks 1,2 --results scaling -- "${TINY[@]}" 2>&1 | tee scaling.out
check "run-local scaling exits 0" test "${PIPESTATUS[0]}" -eq 0
for n in 1 2; do
  check_results "scaling r$n results" "$WORK/scaling/strong/r$n.h5" "$n" 256
  check_grep "scaling r$n log has epoch lines" '^epoch=2 ' "$WORK/scaling/strong/r$n.log"
done
check_report "scaling analysis report" "$WORK/scaling/strong/report"
"$SLURM_DIR/sweep-status.sh" scaling >/dev/null
check "sweep-status.sh: scaling all OK" test $? -eq 0

# sweep with a point the trainer rejects
printf -- '--beta 1\n--beta -1   # rejected\n--gamma 5\n' >bad.sweep
"$LOCAL" sweep --results bad bad.sweep -- "${TINY[@]}" >bad.out 2>&1
check "run-local sweep with a failing point exits 1" test $? -eq 1
check_results "sweep point 0 results" "$WORK/bad/point-000.h5" 2
check_results "sweep point 2 results" "$WORK/bad/point-002.h5" 2
check_grep "failed point reported with index and params" '^FAILED index=1 exit=[1-9][0-9]* .*params=--beta -1$' bad/point-001.status
check_grep "trainer's own message kept in the point's log" 'beta' bad/point-001.log
check "no analysis after a failed point" test ! -e bad/report.status
"$SLURM_DIR/sweep-status.sh" bad >bad-status.txt
check "sweep-status.sh exits 1" test $? -eq 1
check_grep "sweep-status.sh names the failed point" '^FAILED +index=1 .*params=--beta -1$' bad-status.txt

# the shipped initialisation sweep (normalized, he, xavier, zero) on 1 rank each
"$LOCAL" sweep --ntasks 1 --results init "$SLURM_DIR/sweeps/thesis-init.sweep" -- "${TINY[@]}" >init.out 2>&1
check "run-local sweep thesis-init.sweep exits 0" test $? -eq 0
for i in 0 1 2 3; do check_results "init point $i results" "$WORK/init/point-00$i.h5" 1; done
check_report "init sweep analysis report" "$WORK/init/report"

# a single run, default results directory under the current one
"$LOCAL" run --ntasks 2 -- "${TINY[@]}" >run.out 2>&1
check "run-local run exits 0" test $? -eq 0
f=$(ls results/local-*/run.h5 2>/dev/null | head -n 1)
check_results "single run in results/local-*/run.h5" "${f:-$WORK/results/local-?/run.h5}" 2

echo "total $((SECONDS - T0)) s"
finish
