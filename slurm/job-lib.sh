# shellcheck shell=bash disable=SC2034
# Sourced by the job templates (train.sbatch, analyze.sbatch, study-scaling.sbatch) inside the job,
# or when they run without Slurm: the site file, its modules and hook, the launcher it names, and
# the job step run in the background so that a signal sent to the batch shell reaches it.
# A template sets JOB_KIND (train, analyze, study) and SLURM_SCRIPTS (this folder) first.

# shellcheck source=slurm/tools.sh
. "$SLURM_SCRIPTS/tools.sh"   # admm_tool_default: the installed programs, or build/
IN_SLURM=0
[ -n "${SLURM_JOB_ID:-}" ] && IN_SLURM=1
STEP_PID=""      # the job step while it runs
STEP_SIGNAL=""   # the first signal the batch shell received (SIGUSR1, SIGTERM, SIGINT)
STEP_RC=""       # the step's exit status
STEP_LOG_APPEND=0  # 1: job_run_step adds to its LOG instead of replacing it

# Signals: Slurm's warning (--signal=B:USR1@T goes to this shell only, not to the step), scancel
# and the time limit (SIGTERM), Ctrl-C. Trapped from the start, so that one arriving before the
# step starts is passed on as soon as it does. INT goes on as TERM: srun reads a first SIGINT as
# a request for its tasks' status, not as a signal to forward.
job_forward() {  # job_forward SIG
  [ -n "$STEP_SIGNAL" ] || STEP_SIGNAL=SIG$1
  JOB_WOKEN=1
  local to=$1
  [ "$to" != INT ] || to=TERM
  [ -n "$STEP_PID" ] || return 0
  echo "$JOB_KIND: SIG$1 received: sending SIG$to to the job step" >&2
  if [ "${STEP_FORWARD_TO:-step}" = children ]; then
    # the step is a script that launches steps itself (jobs/study-scaling.sh): signal what it
    # runs now, not the script (it would die at once and leave its step running)
    local kids
    kids=$(ps -o pid= --ppid "$STEP_PID" 2>/dev/null)
    # shellcheck disable=SC2086
    [ -z "$kids" ] || kill -s "$to" $kids 2>/dev/null
  else
    kill -s "$to" "$STEP_PID" 2>/dev/null
  fi
  return 0
}
trap 'job_forward USR1' USR1
trap 'job_forward TERM' TERM
trap 'job_forward INT' INT

# job_site_load: source the site file (ADMM_SITE, default SLURM_SCRIPTS/site.conf).
job_site_load() {
  SITE_FILE=${ADMM_SITE:-$SLURM_SCRIPTS/site.conf}
  if [ ! -f "$SITE_FILE" ]; then
    echo "$JOB_KIND: site file $SITE_FILE not found (ADMM_SITE)" >&2
    return 1
  fi
  # shellcheck source=slurm/site.conf
  . "$SITE_FILE" || { echo "$JOB_KIND: site file $SITE_FILE failed" >&2; return 1; }
  echo "$JOB_KIND: site=$SITE_FILE modules=${SITE_MODULES:-none}"
}

# job_modules: `module load SITE_MODULES`; 1 when a module does not load
job_modules() {
  [ -n "${SITE_MODULES:-}" ] || return 0
  if ! type module >/dev/null 2>&1; then
    local f
    for f in ${SITE_MODULE_INIT:-} /etc/profile.d/lmod.sh /etc/profile.d/modules.sh \
             /usr/share/lmod/lmod/init/bash /usr/share/modules/init/bash; do
      # shellcheck disable=SC1090
      [ -f "$f" ] && { . "$f"; break; }
    done
  fi
  if ! type module >/dev/null 2>&1; then
    echo "$JOB_KIND: SITE_MODULES='$SITE_MODULES' but no module command (set SITE_MODULE_INIT)" >&2
    return 1
  fi
  local m
  for m in $SITE_MODULES; do
    # one at a time: Tcl's module returns 0 on a failed load of several, Lmod stops at the first
    module load "$m" || { echo "$JOB_KIND: module load $m failed" >&2; return 1; }
  done
}

# job_hook: the site's site_hook JOB_KIND, if it defines one
job_hook() {
  declare -F site_hook >/dev/null || return 0
  local rc=0
  site_hook "$JOB_KIND" || rc=$?
  [ $rc -eq 0 ] || echo "$JOB_KIND: site_hook $JOB_KIND failed (exit $rc)" >&2
  return $rc
}

# job_launcher NTASKS CPUS_PER_TASK [study]: sets LAUNCH, the launcher words up to and including
# `-n NTASKS` (study: without -n, which jobs/study-scaling.sh adds itself). In Slurm
# SITE_LAUNCHER SITE_LAUNCHER_FLAGS (study: SITE_STUDY_LAUNCHER_FLAGS), outside it
# SITE_LOCAL_LAUNCHER SITE_LOCAL_LAUNCHER_FLAGS, the placeholders replaced.
job_launcher() {
  local n=$1 cpt=$2 kind=${3:-} cmd flags nodes ppn w
  if [ $IN_SLURM -eq 1 ]; then
    cmd=${SITE_LAUNCHER:-}
    flags=${SITE_LAUNCHER_FLAGS:-}
    [ "$kind" != study ] || flags=${SITE_STUDY_LAUNCHER_FLAGS:-}
  else
    cmd=${SITE_LOCAL_LAUNCHER:-}
    flags=${SITE_LOCAL_LAUNCHER_FLAGS:-}
  fi
  [ -n "$cmd" ] || { echo "$JOB_KIND: the site file $SITE_FILE names no launcher" >&2; return 1; }
  nodes=${SLURM_JOB_NUM_NODES:-1}
  ppn=${SLURM_NTASKS_PER_NODE:-$(((n + nodes - 1) / nodes))}
  LAUNCH=()
  for w in $cmd $flags; do
    w=${w//\{ntasks\}/$n}
    w=${w//\{cpus_per_task\}/$cpt}
    w=${w//\{nodes\}/$nodes}
    w=${w//\{ntasks_per_node\}/$ppn}
    LAUNCH+=("$w")
  done
  [ "$kind" = study ] || LAUNCH+=(-n "$n")
}

# job_run_step LOG CMD...: runs CMD (the job step) in the background, its output to stdout and,
# unless LOG is empty, to LOG too (added to its end with STEP_LOG_APPEND=1), and waits for it
# while forwarding signals (above). Sets STEP_RC. STEP_FORWARD_TO=children: signals go to what
# CMD runs, not to CMD.
job_run_step() {
  local log=$1 fd tee_pid=""
  shift
  if [ -n "$log" ]; then
    # tee ignores the signals: at the time limit Slurm signals every process of the job, and a
    # dead tee would end the step's output in a broken pipe before it has saved its work
    local tee_args=("$log")
    [ "$STEP_LOG_APPEND" != 1 ] || tee_args=(-a "$log")
    exec {fd}> >(trap '' TERM INT USR1; exec tee "${tee_args[@]}")
    tee_pid=$!
    "$@" >&"$fd" 2>&1 &
    STEP_PID=$!
    exec {fd}>&-
  else
    "$@" &
    STEP_PID=$!
  fi
  # a signal that came before the step existed
  [ -z "$STEP_SIGNAL" ] || job_forward "${STEP_SIGNAL#SIG}"
  # wait returns early (status > 128) whenever a trapped signal arrives: wait again until the
  # step has really ended; bash keeps its status for the last wait
  while :; do
    JOB_WOKEN=0
    wait "$STEP_PID"
    STEP_RC=$?
    [ "$JOB_WOKEN" = 1 ] || break
  done
  STEP_PID=""
  [ -z "$tee_pid" ] || wait "$tee_pid" 2>/dev/null
  return 0
}
