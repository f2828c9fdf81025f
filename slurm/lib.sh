# shellcheck shell=bash disable=SC2034
# Helpers sourced by submit-scaling.sh and submit-sweep.sh (and so by run-local.sh). A study is a
# list of jobs with dependencies; job_submit hands each to sbatch, or, with ADMM_LOCAL=1, runs the
# same job script at once on this machine (mpiexec.mpich, no Slurm) with the same results layout
# and the same rule for dependencies (afterok: run only if every job it names succeeded).

SLURM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
LOCAL=${ADMM_LOCAL:-0}
SBATCH_EXTRA=()      # user's --sbatch "ARGS", given to every sbatch call before ours
SUBMITTED=()         # job ids, cancelled again if a later submission fails
JOB_ID=""            # id of the last job_submit
declare -A LOCAL_RC  # local mode: job id -> exit status ("dep" when skipped)
LOCAL_N=0
LOCAL_FAILED=0

die() { echo "$PROG: $*" >&2; exit 1; }
abspath() { realpath -m -- "$1"; }
# sweep_points FILE: one line per point, comments and blank lines dropped, blanks squeezed
sweep_points() { awk '{ sub(/#.*/, "") } NF { $1 = $1; print }' "$1"; }

# has_option NAME ARGS...: whether ARGS hold --NAME or --NAME=...
has_option() {
  local o=$1 a; shift
  for a in "$@"; do case "$a" in "$o"|"$o"=*) return 0 ;; esac; done
  return 1
}

# record KEY=VALUE...: one line of the study's jobs.txt, also printed
record() {
  echo "$*" | tee -a "$RESULTS/jobs.txt"
}

# trainer and analyzer, absolute, so jobs do not depend on the directory they start in
resolve_binaries() {
  ADMM_TRAIN=$(abspath "${ADMM_TRAIN:-build/jobs/admm-train}")
  ADMM_ANALYZE=$(abspath "${ADMM_ANALYZE:-build/analysis/admm-analyze}")
  export ADMM_TRAIN ADMM_ANALYZE
  [ -x "$ADMM_TRAIN" ] || die "trainer $ADMM_TRAIN not found: build it (cmake --build build) or set ADMM_TRAIN"
  if [ "${ANALYSIS:-1}" = 1 ] && [ ! -x "$ADMM_ANALYZE" ]; then
    echo "$PROG: warning: analysis binary $ADMM_ANALYZE not found now: the analysis job will" \
         "fail unless it exists when it starts (set ADMM_ANALYZE, or --no-analysis)" >&2
  fi
}

cancel_submitted() {
  [ ${#SUBMITTED[@]} -gt 0 ] || return 0
  echo "$PROG: cancelling the jobs already submitted: ${SUBMITTED[*]}" >&2
  scancel "${SUBMITTED[@]}" 2>/dev/null || true
}

# job_submit NAME NTASKS ARRAY DEPEND LOGPATTERN SCRIPT [ARGS...]
#   ARRAY: "" or "0-4"; DEPEND: "" or "afterok:ID:ID" / "afterany:ID"; LOGPATTERN: sbatch
#   --output pattern (%x name, %j job, %A array job, %a array index). The job's environment is
#   this shell's exported variables (ADMM_*): --export=ALL, explicit because some sites set
#   SBATCH_EXPORT=NONE. Sets JOB_ID.
job_submit() {
  local name=$1 ntasks=$2 array=$3 depend=$4 logpat=$5
  shift 5
  if [ "$LOCAL" = 1 ]; then
    job_run_local "$name" "$ntasks" "$array" "$depend" "$logpat" "$@"
    return
  fi
  local opts=(--export=ALL "${SBATCH_EXTRA[@]}" --parsable --job-name="$name" --ntasks="$ntasks" --output="$logpat")
  [ -z "$array" ] || opts+=(--array="$array")
  # kill-on-invalid-dep: on clusters without DependencyParameters=kill_invalid_depend a job
  # whose dependency failed would otherwise stay pending (DependencyNeverSatisfied) for ever
  [ -z "$depend" ] || opts+=(--dependency="$depend" --kill-on-invalid-dep=yes)
  local out
  if ! out=$(sbatch "${opts[@]}" "$@"); then
    cancel_submitted
    die "sbatch refused job $name (sbatch ${opts[*]} $*)"
  fi
  JOB_ID=${out%%;*}
  SUBMITTED+=("$JOB_ID")
}

# Local mode: run now, sequentially, output to the expanded LOGPATTERN; one summary line per run.
job_run_local() {
  local name=$1 ntasks=$2 array=$3 depend=$4 logpat=$5
  shift 5
  LOCAL_N=$((LOCAL_N + 1))
  JOB_ID=local$LOCAL_N
  # afterok: every job named must have succeeded; afterany: run regardless
  if [ "${depend%%:*}" = afterok ]; then
    local dep deps
    IFS=: read -r -a deps <<<"${depend#*:}"
    for dep in "${deps[@]}"; do
      if [ "${LOCAL_RC[$dep]:-}" != 0 ]; then
        echo "local: $name skipped: job $dep it depends on (afterok) did not succeed"
        LOCAL_RC[$JOB_ID]=dep
        LOCAL_FAILED=1
        return 0
      fi
    done
  fi
  local tasks=("") t rc rc_all=0 log start secs
  if [ -n "$array" ]; then
    local range=${array%%\%*}  # drop a %K throttle
    tasks=()
    for ((t = ${range%-*}; t <= ${range#*-}; t++)); do tasks+=("$t"); done
  fi
  for t in "${tasks[@]}"; do
    log=${logpat//%x/$name}
    log=${log//%j/$JOB_ID}
    log=${log//%A/$JOB_ID}
    log=${log//%a/$t}
    start=$(date +%s.%N)
    rc=0
    ADMM_JOB_ID=$JOB_ID${t:+_$t} ADMM_NTASKS=$ntasks ADMM_SWEEP_INDEX=$t bash "$@" >"$log" 2>&1 || rc=$?
    secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    echo "local: $name${t:+[$t]} ranks=$ntasks exit=$rc time=${secs}s log=$log"
    [ $rc -eq 0 ] || { rc_all=$rc; LOCAL_FAILED=1; }
  done
  LOCAL_RC[$JOB_ID]=$rc_all
}
