#!/usr/bin/env bash
# Scaling study: the same training run at several rank counts, then one analysis job per series
# that waits for all its runs (afterok).
#
#   slurm/submit-scaling.sh [OPTIONS] [--] TRAINER_ARGS...
#     --ranks LIST       rank counts, comma separated            default 1,2,4,8
#     --weak             also a weak-scaling series: --n-train PER_RANK*N at N ranks
#     --weak-only        only the weak series
#     --per-rank N       training samples per rank, weak series    default 7500 (8 x 7500 = MNIST)
#     --results DIR      study directory                 default results/scaling-YYYYmmdd-HHMMSS
#     --sbatch "ARGS"    extra sbatch options for every job (--partition=... --time=...)
#     --no-analysis      no analysis job
#   e.g. slurm/submit-scaling.sh --ranks 1,2,4,8 -- --data mnist --layers 784,256,256,10 --epochs 10
#
# Strong scaling keeps the trainer arguments (the data) fixed. Layout, per series S (strong, weak):
#   DIR/S/rN.h5, rN.log, rN.status    the run at N ranks (train.sbatch)
#   DIR/S/report/, report.status     admm-analyze DIR/S --out DIR/S/report
#   DIR/logs/                        Slurm's stdout of every job
#   DIR/jobs.txt                     one line per job: job=ID kind=... (also printed)
# Environment: ADMM_TRAIN, ADMM_ANALYZE (see train.sbatch, analyze.sbatch).
# With ADMM_LOCAL=1 (slurm/run-local.sh scaling ...) the runs execute here, one after another.
set -euo pipefail
PROG=submit-scaling.sh
# shellcheck source=slurm/lib.sh
. "$(dirname "$0")/lib.sh"
usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

RANKS=1,2,4,8
STRONG=1
WEAK=0
PER_RANK=7500
RESULTS=""
ANALYSIS=1
while [ $# -gt 0 ]; do
  case "$1" in
    --ranks) RANKS=${2:?}; shift 2 ;;
    --weak) WEAK=1; shift ;;
    --weak-only) WEAK=1; STRONG=0; shift ;;
    --per-rank) PER_RANK=${2:?}; shift 2 ;;
    --results) RESULTS=${2:?}; shift 2 ;;
    --sbatch) read -r -a SBATCH_EXTRA <<<"${2:?}"; shift 2 ;;
    --no-analysis) ANALYSIS=0; shift ;;
    -h|--help) usage 0 ;;
    --) shift; break ;;
    *) break ;;  # the trainer's arguments start here
  esac
done
TRAINER_ARGS=("$@")

IFS=, read -r -a RANK_LIST <<<"$RANKS"
[ ${#RANK_LIST[@]} -gt 0 ] || die "--ranks: empty list"
for n in "${RANK_LIST[@]}"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || die "--ranks $RANKS: '$n' is not a positive integer"
done
[[ $PER_RANK =~ ^[1-9][0-9]*$ ]] || die "--per-rank $PER_RANK: not a positive integer"
has_option --output "${TRAINER_ARGS[@]}" && die "--output: each run writes DIR/SERIES/rN.h5; use --results DIR"
if [ $WEAK -eq 1 ] && has_option --n-train "${TRAINER_ARGS[@]}"; then
  die "--n-train with --weak: the weak series sets it to PER_RANK x ranks (use --per-rank)"
fi
resolve_binaries

RESULTS=$(abspath "${RESULTS:-results/scaling-$(date +%Y%m%d-%H%M%S)}")
mkdir -p "$RESULTS/logs"
: >"$RESULTS/jobs.txt"

series=()
[ $STRONG -eq 0 ] || series+=(strong)
[ $WEAK -eq 0 ] || series+=(weak)
for s in "${series[@]}"; do
  ids=()
  for n in "${RANK_LIST[@]}"; do
    args=("${TRAINER_ARGS[@]}")
    extra=""
    if [ "$s" = weak ]; then
      args+=(--n-train $((PER_RANK * n)))
      extra=" n_train=$((PER_RANK * n))"
    fi
    ADMM_RESULTS=$RESULTS/$s ADMM_RUN_NAME=r$n \
      job_submit "admm-$s-r$n" "$n" "" "" "$RESULTS/logs/%x-%j.out" \
      "$SLURM_DIR/train.sbatch" "${args[@]}"
    ids+=("$JOB_ID")
    record "job=$JOB_ID kind=train series=$s ranks=$n$extra output=$RESULTS/$s/r$n.h5"
  done
  if [ $ANALYSIS -eq 1 ]; then
    dep=afterok:$(IFS=:; echo "${ids[*]}")
    job_submit "admm-analyze-$s" 1 "" "$dep" "$RESULTS/logs/%x-%j.out" \
      "$SLURM_DIR/analyze.sbatch" "$RESULTS/$s/report" "$RESULTS/$s"
    record "job=$JOB_ID kind=analysis series=$s after=$dep report=$RESULTS/$s/report"
  fi
done
echo "results: $RESULTS"
if [ "$LOCAL" = 1 ]; then
  [ $LOCAL_FAILED -eq 0 ] || { echo "$PROG: some runs failed: slurm/sweep-status.sh $RESULTS" >&2; exit 1; }
fi
exit 0
