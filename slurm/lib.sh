# shellcheck shell=bash disable=SC2034
# Helpers sourced by submit-scaling.sh and submit-sweep.sh (and so by run-local.sh), and by the
# templates when they submit themselves (`bash slurm/TEMPLATE --submit|--dry-run`). A study is a
# list of jobs with dependencies; job_submit hands each to sbatch with the site's options
# (slurm/site.conf, or ADMM_SITE), prints the sbatch line instead with --dry-run (DRY_RUN=1), or,
# with ADMM_LOCAL=1, runs the same job script at once on this machine (no Slurm) with the same
# results layout and the same rule for dependencies (afterok: run only if every job it names
# succeeded).

SLURM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=slurm/tools.sh
. "$SLURM_DIR/tools.sh"
LOCAL=${ADMM_LOCAL:-0}
DRY_RUN=0            # 1: print the sbatch lines, submit and create nothing
SBATCH_EXTRA=()      # user's --sbatch "ARGS", given to every sbatch call after the site's
SITE_SBATCH=()       # the site's sbatch options (load_site)
JOB_RES=()           # resource options of the next job_submit (--nodes=.. --exclusive ...)
JOB_ENV=()           # NAME=VALUE pairs the next job_submit gives its job (--export)
SUBMITTED=()         # job ids, cancelled again if a later submission fails
JOB_ID=""            # id of the last job_submit
DRY_N=0
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

# shell_words WORD...: the words as one shell command line, quoted only where needed; a
# --dependency=... is left as is: in a dry run it names the earlier lines' $JOBk
shell_words() {
  local w out=""
  for w in "$@"; do
    if [[ $w =~ ^[][A-Za-z0-9_./=:,%@+^-]+$ ]] || [[ $w == --dependency=* ]]; then
      out+=" $w"
    else
      out+=" '${w//\'/\'\\\'\'}'"
    fi
  done
  printf '%s' "${out# }"
}

# record KEY=VALUE...: one line of the study's jobs.txt, also printed (--dry-run: as a comment)
record() {
  if [ "$DRY_RUN" = 1 ]; then echo "# $*"; else echo "$*" | tee -a "$RESULTS/jobs.txt"; fi
}

# trainer and analyzer, absolute, so jobs do not depend on the directory they start in: ADMM_TRAIN
# and ADMM_ANALYZE, else the installed programs (installed templates) or build/ (tools.sh)
resolve_binaries() {
  ADMM_TRAIN=$(abspath "${ADMM_TRAIN:-$(admm_tool_default admm-train "$SLURM_DIR")}")
  ADMM_ANALYZE=$(abspath "${ADMM_ANALYZE:-$(admm_tool_default admm-analyze "$SLURM_DIR")}")
  export ADMM_TRAIN ADMM_ANALYZE
  if [ ! -x "$ADMM_TRAIN" ]; then
    local msg="trainer $ADMM_TRAIN not found: build it (cmake --build build) or set ADMM_TRAIN"
    [ "$DRY_RUN" = 1 ] || die "$msg"
    echo "$PROG: warning: $msg" >&2
  fi
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

# load_site: source the site file (ADMM_SITE, default slurm/site.conf) and collect its sbatch
# options; exports ADMM_SITE and ADMM_SLURM_DIR, absolute, for the jobs.
load_site() {
  ADMM_SITE=$(abspath "${ADMM_SITE:-$SLURM_DIR/site.conf}")
  [ -f "$ADMM_SITE" ] || die "site file $ADMM_SITE not found (ADMM_SITE)"
  # shellcheck source=slurm/site.conf
  . "$ADMM_SITE" || die "site file $ADMM_SITE failed"
  ADMM_SLURM_DIR=$SLURM_DIR
  export ADMM_SITE ADMM_SLURM_DIR
  SITE_SBATCH=()
  [ -z "${SITE_PARTITION:-}" ] || SITE_SBATCH+=(--partition="$SITE_PARTITION")
  [ -z "${SITE_ACCOUNT:-}" ] || SITE_SBATCH+=(--account="$SITE_ACCOUNT")
  [ -z "${SITE_QOS:-}" ] || SITE_SBATCH+=(--qos="$SITE_QOS")
  [ -z "${SITE_CONSTRAINT:-}" ] || SITE_SBATCH+=(--constraint="$SITE_CONSTRAINT")
  local w
  for w in ${SITE_SBATCH_ARGS:-}; do SITE_SBATCH+=("$w"); done
}

# job_submit NAME NTASKS ARRAY DEPEND LOGPATTERN SCRIPT [ARGS...]
#   NAME, NTASKS, LOGPATTERN: "" leaves the template's #SBATCH default. ARRAY: "" or "0-4";
#   DEPEND: "" or "afterok:ID:ID" / "afterany:ID"; LOGPATTERN: sbatch --output pattern (%x name,
#   %j job, %A array job, %a array index). Also takes JOB_RES (more resource options) and
#   JOB_ENV (NAME=VALUE for the job), and empties them. The job gets this shell's exported
#   variables and JOB_ENV through --export=ALL,... (explicit: some sites set SBATCH_EXPORT=NONE).
#   Sets JOB_ID; with --dry-run prints `JOBk=$(sbatch ...)` and JOB_ID is $JOBk.
job_submit() {
  local name=$1 ntasks=$2 array=$3 depend=$4 logpat=$5
  shift 5
  local res=("${JOB_RES[@]}") env=("${JOB_ENV[@]}")
  JOB_RES=() JOB_ENV=()
  if [ "$LOCAL" = 1 ]; then
    job_run_local "$name" "$ntasks" "$array" "$depend" "$logpat" "${env[@]}" -- "$@"
    return
  fi
  local export=ALL,ADMM_SITE=$ADMM_SITE,ADMM_SLURM_DIR=$ADMM_SLURM_DIR e
  for e in ADMM_TRAIN ADMM_ANALYZE; do [ -z "${!e:-}" ] || export+=,$e=${!e}; done
  for e in "${env[@]}"; do export+=,$e; done
  # --export separates its variables by commas: a value holding one would be cut there
  for e in "$ADMM_SITE" "$ADMM_SLURM_DIR" "${ADMM_TRAIN:-}" "${ADMM_ANALYZE:-}" "${env[@]}"; do
    case "$e" in *,*) die "'$e' holds a comma, which sbatch --export cannot pass: use another path" ;; esac
  done
  local opts=(--parsable --export="$export" "${SITE_SBATCH[@]}" "${SBATCH_EXTRA[@]}")
  [ -z "$name" ] || opts+=(--job-name="$name")
  [ -z "$ntasks" ] || opts+=(--ntasks="$ntasks")
  opts+=("${res[@]}")
  [ -z "$logpat" ] || opts+=(--output="$logpat")
  [ -z "$array" ] || opts+=(--array="$array")
  # kill-on-invalid-dep: on clusters without DependencyParameters=kill_invalid_depend a job
  # whose dependency failed would otherwise stay pending (DependencyNeverSatisfied) for ever
  [ -z "$depend" ] || opts+=(--dependency="$depend" --kill-on-invalid-dep=yes)
  if [ "$DRY_RUN" = 1 ]; then
    DRY_N=$((DRY_N + 1))
    JOB_ID=\$JOB$DRY_N
    # shellcheck disable=SC2016  # the $( ) is printed: the line is a shell command
    printf 'JOB%d=$(%s)\n' "$DRY_N" "$(shell_words sbatch "${opts[@]}" "$@")"
    return 0
  fi
  local out
  if ! out=$(sbatch "${opts[@]}" "$@"); then
    cancel_submitted
    die "sbatch refused job ${name:-$(basename "$1")} (sbatch ${opts[*]} $*)"
  fi
  JOB_ID=${out%%;*}
  SUBMITTED+=("$JOB_ID")
}

# submit_template SCRIPT [--dry-run|--submit] [--sbatch "ARGS"]... [--] ARGS...: a template
# submitting itself with the site's options (`bash slurm/train.sbatch --submit --beta 5`);
# prints the job id, or with --dry-run the sbatch line.
submit_template() {
  local script=$1
  shift
  while [ $# -gt 0 ]; do
    case "$1" in
      --dry-run) DRY_RUN=1; shift ;;
      --submit) shift ;;
      --sbatch) local more; read -r -a more <<<"${2:?--sbatch needs a value}"; SBATCH_EXTRA+=("${more[@]}"); shift 2 ;;
      --) shift; break ;;
      *) break ;;
    esac
  done
  load_site
  job_submit "" "" "" "" "" "$script" "$@"
  [ "$DRY_RUN" = 1 ] || echo "$JOB_ID"
}

# Local mode: run now, sequentially, output to the expanded LOGPATTERN; one summary line per run.
#   job_run_local NAME NTASKS ARRAY DEPEND LOGPATTERN [NAME=VALUE...] -- SCRIPT [ARGS...]
job_run_local() {
  local name=$1 ntasks=$2 array=$3 depend=$4 logpat=$5
  shift 5
  local env=()
  while [ "$1" != -- ]; do env+=("$1"); shift; done
  shift
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
    if [ "$DRY_RUN" = 1 ]; then
      printf '%s >%s 2>&1\n' "$(shell_words env "${env[@]}" ADMM_JOB_ID="$JOB_ID${t:+_$t}" \
        ADMM_NTASKS="$ntasks" ADMM_SWEEP_INDEX="$t" bash "$@")" "$(shell_words "$log")"
      continue
    fi
    start=$(date +%s.%N)
    rc=0
    env "${env[@]}" ADMM_JOB_ID="$JOB_ID${t:+_$t}" ADMM_NTASKS="$ntasks" ADMM_SWEEP_INDEX="$t" \
      bash "$@" >"$log" 2>&1 || rc=$?
    secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    echo "local: $name${t:+[$t]} ranks=$ntasks exit=$rc time=${secs}s log=$log"
    [ $rc -eq 0 ] || { rc_all=$rc; LOCAL_FAILED=1; }
  done
  LOCAL_RC[$JOB_ID]=$rc_all
}
