#!/usr/bin/env bash
# Scaling study: the same training run at several rank counts, each point on whole nodes
# (--exclusive) and repeated, then one analysis job per series that waits for all its runs
# (afterok).
#
#   slurm/submit-scaling.sh [OPTIONS] [--] TRAINER_ARGS...
#     --ranks LIST           rank counts, comma separated                        default 1,2,4,8
#     --nodes LIST           node counts instead: ranks = nodes x --ntasks-per-node
#     --ntasks-per-node K    ranks per node: a point of N ranks takes N/K nodes (N a multiple of
#                            K), or one node if N <= K   default SITE_TASKS_PER_NODE, else N (one node)
#     --repeats R            runs per point (separate jobs; the analysis groups them)  default 1
#     --no-exclusive         share nodes with other jobs (default: --exclusive, nothing else on
#                            a point's nodes while it is measured)
#     --weak                 also a weak-scaling series: --n-train PER_RANK*N at N ranks
#     --weak-only            only the weak series
#     --per-rank N           training samples per rank, weak series    default 7500 (8 x 7500 = MNIST)
#     --results DIR          study directory                 default results/scaling-YYYYmmdd-HHMMSS
#     --sbatch "ARGS"        extra sbatch options for every job (--time=... --mem=...)
#     --no-analysis          no analysis job
#     --dry-run              print the sbatch lines (a script: JOBk=$(sbatch ...)); submit nothing,
#                            create nothing
#   e.g. slurm/submit-scaling.sh --ranks 1,2,4,8 -- --data mnist --layers 784,256,256,10 --epochs 10
#        slurm/submit-scaling.sh --nodes 1,2,4 --ntasks-per-node 64 --repeats 3 -- --data mnist
#
# Every job carries --nodes, --ntasks-per-node, --ntasks and (unless --no-exclusive) --exclusive,
# and the site file's partition, account, QOS and constraint (slurm/site.conf or ADMM_SITE).
# Strong scaling keeps the trainer arguments (the data) fixed. Layout, per series S (strong, weak):
#   DIR/S/rN.h5, rN.log, rN.status    the run at N ranks (train.sbatch); rN-K.* for repeat K
#   DIR/S/report/, report.status     admm-analyze DIR/S --out DIR/S/report
#   DIR/logs/                        Slurm's stdout of every job
#   DIR/jobs.txt                     one line per job: job=ID kind=... (also printed)
# Environment: ADMM_SITE, ADMM_TRAIN, ADMM_ANALYZE (see train.sbatch, analyze.sbatch).
# With ADMM_LOCAL=1 (slurm/run-local.sh scaling ...) the runs execute here, one after another.
set -euo pipefail
PROG=submit-scaling.sh
# shellcheck source=slurm/lib.sh
. "$(dirname "$0")/lib.sh"
usage() { sed -n '2,37p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

RANKS=""
NODES=""
PPN=""
REPEATS=1
EXCLUSIVE=1
STRONG=1
WEAK=0
PER_RANK=7500
RESULTS=""
ANALYSIS=1
while [ $# -gt 0 ]; do
  case "$1" in
    --ranks) RANKS=${2:?}; shift 2 ;;
    --nodes) NODES=${2:?}; shift 2 ;;
    --ntasks-per-node) PPN=${2:?}; shift 2 ;;
    --repeats) REPEATS=${2:?}; shift 2 ;;
    --exclusive) EXCLUSIVE=1; shift ;;
    --no-exclusive) EXCLUSIVE=0; shift ;;
    --weak) WEAK=1; shift ;;
    --weak-only) WEAK=1; STRONG=0; shift ;;
    --per-rank) PER_RANK=${2:?}; shift 2 ;;
    --results) RESULTS=${2:?}; shift 2 ;;
    --sbatch) read -r -a SBATCH_EXTRA <<<"${2:?}"; shift 2 ;;
    --no-analysis) ANALYSIS=0; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h|--help) usage 0 ;;
    --) shift; break ;;
    *) break ;;  # the trainer's arguments start here
  esac
done
TRAINER_ARGS=("$@")
load_site
posint() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }

# The points: ranks, nodes and ranks per node of each
[ -z "$PPN" ] && PPN=${SITE_TASKS_PER_NODE:-}
[ -z "$PPN" ] || posint "$PPN" || die "--ntasks-per-node $PPN: not a positive integer"
posint "$REPEATS" || die "--repeats $REPEATS: not a positive integer"
[ -z "$RANKS" ] || [ -z "$NODES" ] || die "--ranks and --nodes: give one of them"
POINT_RANKS=() POINT_NODES=() POINT_PPN=()
if [ -n "$NODES" ]; then
  [ -n "$PPN" ] || die "--nodes needs --ntasks-per-node (or SITE_TASKS_PER_NODE in the site file)"
  IFS=, read -r -a list <<<"$NODES"
  [ ${#list[@]} -gt 0 ] || die "--nodes: empty list"
  for m in "${list[@]}"; do
    posint "$m" || die "--nodes $NODES: '$m' is not a positive integer"
    POINT_RANKS+=($((m * PPN))) POINT_NODES+=("$m") POINT_PPN+=("$PPN")
  done
else
  IFS=, read -r -a list <<<"${RANKS:-1,2,4,8}"
  [ ${#list[@]} -gt 0 ] || die "--ranks: empty list"
  for n in "${list[@]}"; do
    posint "$n" || die "--ranks ${RANKS:-}: '$n' is not a positive integer"
    if [ -z "$PPN" ] || [ "$n" -le "$PPN" ]; then
      POINT_RANKS+=("$n") POINT_NODES+=(1) POINT_PPN+=("$n")
    elif [ $((n % PPN)) -eq 0 ]; then
      POINT_RANKS+=("$n") POINT_NODES+=($((n / PPN))) POINT_PPN+=("$PPN")
    else
      die "--ranks: $n ranks is not a multiple of --ntasks-per-node $PPN (nodes would be uneven)"
    fi
  done
fi
posint "$PER_RANK" || die "--per-rank $PER_RANK: not a positive integer"
has_option --output "${TRAINER_ARGS[@]}" && die "--output: each run writes DIR/SERIES/rN.h5; use --results DIR"
if [ $WEAK -eq 1 ] && has_option --n-train "${TRAINER_ARGS[@]}"; then
  die "--n-train with --weak: the weak series sets it to PER_RANK x ranks (use --per-rank)"
fi
resolve_binaries

RESULTS=$(abspath "${RESULTS:-results/scaling-$(date +%Y%m%d-%H%M%S)}")
if [ "$DRY_RUN" = 1 ]; then
  echo "# dry run of $PROG: nothing submitted, nothing created (it would first create $RESULTS/logs)"
else
  mkdir -p "$RESULTS/logs"
  : >"$RESULTS/jobs.txt"
fi

series=()
[ $STRONG -eq 0 ] || series+=(strong)
[ $WEAK -eq 0 ] || series+=(weak)
for s in "${series[@]}"; do
  ids=()
  # repeat K of every point before repeat K+1 of any: a study cut short still has every point
  for ((k = 1; k <= REPEATS; k++)); do
    for i in "${!POINT_RANKS[@]}"; do
      n=${POINT_RANKS[$i]} nodes=${POINT_NODES[$i]} ppn=${POINT_PPN[$i]}
      args=("${TRAINER_ARGS[@]}")
      extra=""
      if [ "$s" = weak ]; then
        args+=(--n-train $((PER_RANK * n)))
        extra=" n_train=$((PER_RANK * n))"
      fi
      run=r$n
      [ "$REPEATS" -eq 1 ] || { run=r$n-$k; extra+=" repeat=$k"; }
      JOB_RES=(--nodes="$nodes" --ntasks-per-node="$ppn")
      [ $EXCLUSIVE -eq 0 ] || JOB_RES+=(--exclusive)
      JOB_ENV=(ADMM_RESULTS="$RESULTS/$s" ADMM_RUN_NAME="$run")
      job_submit "admm-$s-$run" "$n" "" "" "$RESULTS/logs/%x-%j.out" \
        "$SLURM_DIR/train.sbatch" "${args[@]}"
      ids+=("$JOB_ID")
      record "job=$JOB_ID kind=train series=$s ranks=$n nodes=$nodes ntasks_per_node=$ppn$extra output=$RESULTS/$s/$run.h5"
    done
  done
  if [ $ANALYSIS -eq 1 ]; then
    dep=afterok:$(IFS=:; echo "${ids[*]}")
    job_submit "admm-analyze-$s" 1 "" "$dep" "$RESULTS/logs/%x-%j.out" \
      "$SLURM_DIR/analyze.sbatch" "$RESULTS/$s/report" "$RESULTS/$s"
    record "job=$JOB_ID kind=analysis series=$s after=$dep report=$RESULTS/$s/report"
  fi
done
if [ "$DRY_RUN" = 1 ]; then echo "# results: $RESULTS"; else echo "results: $RESULTS"; fi
if [ "$LOCAL" = 1 ]; then
  [ $LOCAL_FAILED -eq 0 ] || { echo "$PROG: some runs failed: slurm/sweep-status.sh $RESULTS" >&2; exit 1; }
fi
exit 0
