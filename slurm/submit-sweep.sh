#!/usr/bin/env bash
# Parameter sweep as one job array: one array task per point of SWEEPFILE, then an analysis job
# after the whole array (afterok: it runs only if every point succeeded).
#
#   slurm/submit-sweep.sh [OPTIONS] SWEEPFILE [TRAINER_ARGS...]
#     --results DIR          sweep directory         default results/sweep-NAME-YYYYmmdd-HHMMSS
#     --ntasks N             MPI ranks per point                                   default 2
#     --nodes M              nodes per point (with --ntasks-per-node K: N = M x K ranks)
#     --ntasks-per-node K    ranks per node of each point (N/K nodes: N a multiple of K)
#     --exclusive            each point on whole nodes of its own
#     --max-parallel K       at most K points running at once (--array=0-(n-1)%K)
#     --sbatch "ARGS"        extra sbatch options for every job (--time=... --mem=...)
#     --analyze-always       analyse whatever finished (afterany) instead of only a fully good sweep
#     --no-analysis          no analysis job
#     --dry-run              print the sbatch lines (a script: JOBk=$(sbatch ...)); submit nothing,
#                            create nothing
#   e.g. slurm/submit-sweep.sh slurm/sweeps/thesis-beta.sweep --data mnist --epochs 10
#        slurm/submit-sweep.sh --nodes 2 --ntasks-per-node 1 my.sweep --data mnist   (each point
#        spread over two nodes, one rank on each)
#
# Every job carries the site file's partition, account, QOS and constraint (slurm/site.conf or
# ADMM_SITE). SWEEPFILE: one point per line, each line the trainer arguments of that point; `#`
# starts a comment; blank lines are skipped. Point i (0-based, counting only points) is array
# task i; its arguments come after TRAINER_ARGS, so a point overrides a common option. Layout:
#   DIR/sweep.txt                   the points as submitted (tasks read this copy)
#   DIR/point-NNN.h5, .log, .status the run of point NNN (train.sbatch)
#   DIR/report/, report.status      admm-analyze DIR --out DIR/report
#   DIR/logs/, DIR/jobs.txt         Slurm's stdout of every task; the job ids (also printed)
# slurm/sweep-status.sh DIR lists every point as OK, FAILED (with index and parameters), ...
# With ADMM_LOCAL=1 (slurm/run-local.sh sweep ...) the points run here, one after another.
set -euo pipefail
PROG=submit-sweep.sh
# shellcheck source=slurm/lib.sh
. "$(dirname "$0")/lib.sh"
usage() { sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

RESULTS=""
NTASKS=""
NODES=""
PPN=""
EXCLUSIVE=0
MAXPAR=""
ANALYSIS=1
DEP_KIND=afterok
while [ $# -gt 0 ]; do
  case "$1" in
    --results) RESULTS=${2:?}; shift 2 ;;
    --ntasks) NTASKS=${2:?}; shift 2 ;;
    --nodes) NODES=${2:?}; shift 2 ;;
    --ntasks-per-node) PPN=${2:?}; shift 2 ;;
    --exclusive) EXCLUSIVE=1; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    --max-parallel) MAXPAR=${2:?}; shift 2 ;;
    --sbatch) read -r -a SBATCH_EXTRA <<<"${2:?}"; shift 2 ;;
    --analyze-always) DEP_KIND=afterany; shift ;;
    --no-analysis) ANALYSIS=0; shift ;;
    -h|--help) usage 0 ;;
    --) shift; break ;;
    -*) die "unknown option $1 (the sweep file comes before the trainer's arguments; --help)" ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || usage 1
SWEEP=$1
shift
[ "${1:-}" != -- ] || shift
TRAINER_ARGS=("$@")
[ -f "$SWEEP" ] || die "$SWEEP: no such sweep file"
posint() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }
[ -z "$NTASKS" ] || posint "$NTASKS" || die "--ntasks $NTASKS: not a positive integer"
[ -z "$NODES" ] || posint "$NODES" || die "--nodes $NODES: not a positive integer"
[ -z "$PPN" ] || posint "$PPN" || die "--ntasks-per-node $PPN: not a positive integer"
# placement of each point: ranks, and the nodes and ranks per node where asked for
RES=()
if [ -n "$PPN" ]; then
  if [ -n "$NODES" ]; then
    [ -z "$NTASKS" ] || [ "$NTASKS" -eq $((NODES * PPN)) ] ||
      die "--ntasks $NTASKS is not --nodes $NODES x --ntasks-per-node $PPN"
    NTASKS=$((NODES * PPN))
  else
    NTASKS=${NTASKS:-2}
    [ $((NTASKS % PPN)) -eq 0 ] || die "--ntasks $NTASKS is not a multiple of --ntasks-per-node $PPN"
    NODES=$((NTASKS / PPN))
  fi
  RES=(--nodes="$NODES" --ntasks-per-node="$PPN")
elif [ -n "$NODES" ]; then
  NTASKS=${NTASKS:-2}
  [ "$NODES" -le "$NTASKS" ] || die "--nodes $NODES: more nodes than the $NTASKS ranks"
  RES=(--nodes="$NODES")
fi
NTASKS=${NTASKS:-2}
[ $EXCLUSIVE -eq 0 ] || RES+=(--exclusive)
[ -z "$MAXPAR" ] || [[ $MAXPAR =~ ^[1-9][0-9]*$ ]] || die "--max-parallel $MAXPAR: not a positive integer"

mapfile -t POINTS < <(sweep_points "$SWEEP")
NPOINTS=${#POINTS[@]}
[ "$NPOINTS" -gt 0 ] || die "$SWEEP: no points (one line of trainer arguments per point)"
for ((i = 0; i < NPOINTS; i++)); do
  read -r -a words <<<"${POINTS[$i]}"
  has_option --output "${words[@]}" && die "$SWEEP point $i sets --output: each point writes DIR/point-NNN.h5"
done
has_option --output "${TRAINER_ARGS[@]}" && die "--output: each point writes DIR/point-NNN.h5; use --results DIR"
load_site
resolve_binaries

base=$(basename "$SWEEP")
RESULTS=$(abspath "${RESULTS:-results/sweep-${base%.*}-$(date +%Y%m%d-%H%M%S)}")
if [ "$DRY_RUN" = 1 ]; then
  echo "# dry run of $PROG: nothing submitted, nothing created (it would first create" \
       "$RESULTS/logs and $RESULTS/sweep.txt, the $NPOINTS points)"
else
  mkdir -p "$RESULTS/logs"
  : >"$RESULTS/jobs.txt"
  # the tasks read this copy: editing the sweep file while the array waits changes nothing
  {
    echo "# points of $(abspath "$SWEEP"), submitted $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "# common trainer arguments: ${TRAINER_ARGS[*]}"
    printf '%s\n' "${POINTS[@]}"
  } >"$RESULTS/sweep.txt"
fi

array=0-$((NPOINTS - 1))${MAXPAR:+%$MAXPAR}
JOB_RES=("${RES[@]}")
JOB_ENV=(ADMM_RESULTS="$RESULTS" ADMM_SWEEP="$RESULTS/sweep.txt")
job_submit "admm-sweep" "$NTASKS" "$array" "" "$RESULTS/logs/%x-%A_%a.out" \
  "$SLURM_DIR/train.sbatch" "${TRAINER_ARGS[@]}"
ARRAY_ID=$JOB_ID
record "job=$ARRAY_ID kind=array points=$NPOINTS array=$array ranks=$NTASKS${NODES:+ nodes=$NODES}${PPN:+ ntasks_per_node=$PPN} sweep=$RESULTS/sweep.txt"
if [ $ANALYSIS -eq 1 ]; then
  job_submit "admm-analyze-sweep" 1 "" "$DEP_KIND:$ARRAY_ID" "$RESULTS/logs/%x-%j.out" \
    "$SLURM_DIR/analyze.sbatch" "$RESULTS/report" "$RESULTS"
  record "job=$JOB_ID kind=analysis after=$DEP_KIND:$ARRAY_ID report=$RESULTS/report"
fi
if [ "$DRY_RUN" = 1 ]; then
  echo "# results: $RESULTS"
else
  echo "results: $RESULTS (status: slurm/sweep-status.sh $RESULTS)"
fi
if [ "$LOCAL" = 1 ]; then
  [ $LOCAL_FAILED -eq 0 ] || { echo "$PROG: some points failed:" >&2; "$SLURM_DIR/sweep-status.sh" "$RESULTS" >&2 || true; exit 1; }
fi
exit 0
