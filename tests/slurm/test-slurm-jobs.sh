#!/usr/bin/env bash
# End-to-end test of the Slurm templates against a real (private, single-node) Slurm cluster:
# a single train.sbatch run, a strong and a weak scaling study (exclusive jobs), a sweep with a
# failing point and a good sweep (the shipped thesis-methods.sweep), each with its dependent
# analysis job. The multi-node paths, the site file and signals: test-multinode.sh.
#
#   tests/slurm/test-slurm-jobs.sh ADMM_TRAIN ADMM_ANALYZE
#
# Tiny data keeps it under a minute on 2 cores; the only run above 2 ranks is the 4-rank job of
# the strong study (ADMM_TEST_RANKS=1,2,8 for an 8-rank one). Exit 0 when every check passed;
# last line `N passed, M failed`; 77 = skipped (not root, no Slurm).
set -uo pipefail
# shellcheck source=tests/slurm/common.sh
. "$(dirname "$0")/common.sh"

[ $# -eq 2 ] || { echo "usage: $0 ADMM_TRAIN ADMM_ANALYZE" >&2; exit 2; }
require_cluster_tools
take_tools "$1" "$2"

# shellcheck disable=SC2054  # --layers 16,8,4 is one word
DATA=(--data synthetic --n-test 128 --validation 64 --layers 16,8,4 --epochs 2)
TINY=("${DATA[@]}" --n-train 256)
# 8 MPICH ranks on 2 cores take 25-80 s for 2 tiny epochs (set-up dominates, and it varies with
# the machine's load): the default keeps to one 4-rank job; ADMM_TEST_RANKS=1,2,8 checks 8.
RANKS=${ADMM_TEST_RANKS:-1,2,4}
[[ $RANKS =~ ^[1-8](,[1-8])*$ ]] || bail "ADMM_TEST_RANKS=$RANKS" "expected a list of 1..8"
T0=$SECONDS
# 4 ranks of tiny runs on a shared 2-core machine can wait long for a core: the trainer's I/O
# watchdog (default 30 s) must not take that for a blocked write
export ADMM_IO_TIMEOUT=${ADMM_IO_TIMEOUT:-180}

make_work slurm-jobs
start_cluster "$WORK/cluster"
cd "$WORK" || bail "cd $WORK"

# ---------------------------------------------------------------------------------------------
# Submissions. Everything is submitted first, then the test waits once: the jobs share the node.
# ---------------------------------------------------------------------------------------------
# 1. train.sbatch as a user would call it: defaults for binary (build/jobs/admm-train under the
#    submit directory) and results (results/$SLURM_JOB_ID).
mkdir -p build/jobs && ln -s "$ADMM_TRAIN" build/jobs/admm-train
SINGLE=$(env -u ADMM_TRAIN sbatch --parsable "$SLURM_DIR/train.sbatch" "${TINY[@]}") ||
  bail "sbatch slurm/train.sbatch" "sbatch refused the template"
echo "single run: job $SINGLE"

# 2. weak scaling at 1, 2 ranks, 128 samples per rank + analysis. --no-exclusive here and in 5:
#    exclusive jobs run one at a time on the one node (the strong study and test-multinode.sh
#    check --exclusive)
"$SLURM_DIR/submit-scaling.sh" --no-exclusive --ranks 1,2 --weak-only --per-rank 128 --results "$WORK/weak" \
  -- "${DATA[@]}" || fail "submit-scaling.sh --weak-only" "exit $?"

# 3. a sweep whose point 1 the trainer rejects (--beta -1); comments and blank lines skipped
cat >"$WORK/bad.sweep" <<'EOF'
# point 0
--beta 1 --gamma 1

--beta -1      # point 1: rejected by the trainer
--beta 5 --gamma 10 --init xavier
EOF
"$SLURM_DIR/submit-sweep.sh" --results "$WORK/bad" "$WORK/bad.sweep" "${TINY[@]}" ||
  fail "submit-sweep.sh bad.sweep" "exit $?"
# 4. a good sweep: the shipped method comparison (admm, bcd, gd, momentum, adam), 1 rank each
"$SLURM_DIR/submit-sweep.sh" --ntasks 1 --results "$WORK/methods" \
  "$SLURM_DIR/sweeps/thesis-methods.sweep" "${TINY[@]}" || fail "submit-sweep.sh thesis-methods.sweep" "exit $?"
# 5. an analysis binary that does not exist fails its job, it is not skipped
ADMM_ANALYZE=$WORK/no-such-analyzer "$SLURM_DIR/submit-scaling.sh" --no-exclusive --ranks 1 --results "$WORK/noanalyzer" \
  -- "${TINY[@]}" >/dev/null 2>&1 || fail "submit-scaling.sh with a missing analyzer" "exit $?"
# 6. more ranks than the cluster has CPUs: refused at submission (EnforcePartLimits=ALL)
if sbatch --parsable -n 9 "$SLURM_DIR/train.sbatch" "${TINY[@]}" >/dev/null 2>&1; then
  fail "sbatch -n 9 refused on an 8-CPU cluster" "it was accepted"
else
  pass "sbatch -n 9 refused on an 8-CPU cluster"
fi
# 7. strong scaling at 1, 2, 4 ranks (ADMM_TEST_RANKS) + analysis. Submitted last: its largest
#    job holds most of the node and would hold back everything queued behind it.
"$SLURM_DIR/submit-scaling.sh" --ranks "$RANKS" --results "$WORK/scaling" -- "${TINY[@]}" ||
  fail "submit-scaling.sh --ranks $RANKS" "exit $?"
echo "submitted in $((SECONDS - T0)) s:"
squeue 2>&1 | sed 's/^/    | /'

T1=$SECONDS
wait_idle 240 || fail "all jobs finished within 240 s"
echo "jobs finished in $((SECONDS - T1)) s"
squeue -t all -r -o '%.10i %.22j %.6D %.4C %.10T %.10M %r' | sed 's/^/    | /'

# ---------------------------------------------------------------------------------------------
# 1. single run
# ---------------------------------------------------------------------------------------------
check_job "single run state" "$SINGLE" COMPLETED 0:0
check_results "single run results in results/\$SLURM_JOB_ID" "$WORK/results/$SINGLE/run.h5" 2
check_grep "single run Slurm output has epoch lines" '^epoch=2 ' "$WORK/admm-train-$SINGLE.out"
check_grep "single run log in the results dir" '^epoch=1 ' "$WORK/results/$SINGLE/run.log"
check_grep "single run status OK" '^OK exit=0' "$WORK/results/$SINGLE/run.status"
check_grep "OpenBLAS threads from SLURM_CPUS_PER_TASK" 'threads_per_rank=1 launcher=srun' "$WORK/admm-train-$SINGLE.out"
check_grep "the ranks started the way of the build's MPI (srun --mpi=$TEST_SRUN_MPI, from the site file)" \
  "^train.sbatch: srun --mpi=$TEST_SRUN_MPI .* -n 2 [^ ]*admm-train " "$WORK/admm-train-$SINGLE.out"

# ---------------------------------------------------------------------------------------------
# 2, 7. scaling studies
# ---------------------------------------------------------------------------------------------
for n in ${RANKS//,/ }; do
  id=$(job_id_of "$WORK/scaling/jobs.txt" "kind=train series=strong ranks=$n ")
  check_job "strong r$n state" "$id" COMPLETED 0:0
  check_results "strong r$n results" "$WORK/scaling/strong/r$n.h5" "$n" 256
done
id=$(job_id_of "$WORK/scaling/jobs.txt" "kind=train series=strong ranks=1 ")
check "strong r1 had its node to itself (--exclusive)" test "$(job_field "$id" OverSubscribe)" = NO
id=$(job_id_of "$WORK/scaling/jobs.txt" "kind=analysis series=strong")
check_job "strong analysis state" "$id" COMPLETED 0:0
check_report "strong analysis report" "$WORK/scaling/strong/report"
for n in 1 2; do
  id=$(job_id_of "$WORK/weak/jobs.txt" "kind=train series=weak ranks=$n ")
  check_job "weak r$n state" "$id" COMPLETED 0:0
  check_results "weak r$n results (128 samples per rank)" "$WORK/weak/weak/r$n.h5" "$n" $((128 * n))
done
id=$(job_id_of "$WORK/weak/jobs.txt" "kind=analysis series=weak")
check_job "weak analysis state" "$id" COMPLETED 0:0
check_report "weak analysis report" "$WORK/weak/weak/report"
"$SLURM_DIR/sweep-status.sh" "$WORK/scaling" >"$WORK/scaling-status.txt"
check "sweep-status.sh: strong study all OK" test $? -eq 0
for n in ${RANKS//,/ }; do  # timings for the record: job script wall time, trainer's own total
  echo "timing: strong r$n: $(grep -ho 'OK in [0-9.]* s' "$WORK"/scaling/logs/admm-strong-r$n-*.out)," \
    "total_time_s=$(h5_attr "$WORK/scaling/strong/r$n.h5" total_time_s)"
done

# ---------------------------------------------------------------------------------------------
# 3. sweep with a failing point
# ---------------------------------------------------------------------------------------------
arr=$(job_id_of "$WORK/bad/jobs.txt" "kind=array")
check_job "bad sweep point 0 state" "${arr}_0" COMPLETED 0:0
check_job "bad sweep point 1 (--beta -1, a usage error: exit 2) state" "${arr}_1" FAILED 2:0
check_job "bad sweep point 2 state" "${arr}_2" COMPLETED 0:0
check_results "bad sweep point 0 results" "$WORK/bad/point-000.h5" 2
check_results "bad sweep point 2 results" "$WORK/bad/point-002.h5" 2
check_grep "failed point's status file names index and params" \
  '^FAILED index=1 exit=[1-9][0-9]* .*params=--beta -1$' "$WORK/bad/point-001.status"
"$SLURM_DIR/sweep-status.sh" "$WORK/bad" >"$WORK/bad-status.txt"
check "sweep-status.sh exits 1 on a failed point" test $? -eq 1
check_grep "sweep-status.sh reports the failed point" '^FAILED +index=1 .*params=--beta -1' "$WORK/bad-status.txt"
check_grep "sweep-status.sh counts" '^runs=3 ok=2 failed=1 ' "$WORK/bad-status.txt"
id=$(job_id_of "$WORK/bad/jobs.txt" "kind=analysis")
check_job "analysis after a failed sweep is cancelled (afterok)" "$id" CANCELLED
check "no report after a failed sweep" test ! -e "$WORK/bad/report.status"

# ---------------------------------------------------------------------------------------------
# 4. good sweep (shipped thesis-methods.sweep)
# ---------------------------------------------------------------------------------------------
arr=$(job_id_of "$WORK/methods/jobs.txt" "kind=array")
i=0
for m in admm bcd gd momentum adam; do
  check_job "methods sweep point $i (--method $m) state" "${arr}_$i" COMPLETED 0:0
  check_results "methods sweep point $i results" "$WORK/methods/point-00$i.h5" 1
  i=$((i + 1))
done
id=$(job_id_of "$WORK/methods/jobs.txt" "kind=analysis")
check_job "methods sweep analysis state" "$id" COMPLETED 0:0
check_report "methods sweep analysis report" "$WORK/methods/report"
"$SLURM_DIR/sweep-status.sh" "$WORK/methods" >/dev/null
check "sweep-status.sh exits 0 on a good sweep" test $? -eq 0

# ---------------------------------------------------------------------------------------------
# 5. missing analyzer
# ---------------------------------------------------------------------------------------------
id=$(job_id_of "$WORK/noanalyzer/jobs.txt" "kind=analysis")
check_job "analysis job with a missing analyzer fails" "$id" FAILED 127:0
check_grep "missing analyzer named in the status" '^FAILED exit=127 .*reason=analyzer-missing' \
  "$WORK/noanalyzer/strong/report.status"

echo "total $((SECONDS - T0)) s"
finish
