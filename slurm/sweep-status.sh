#!/usr/bin/env bash
# Summarises a results directory of submit-sweep.sh, submit-scaling.sh or run-local.sh: one line
# per run from the status files the runs wrote, FAILED ones with their index and parameters, then
# the analysis and a count.
#
#   slurm/sweep-status.sh RESULTS_DIR
#
# A sweep directory (it has sweep.txt) lists every point, also those that never started
# (NOT-RUN); a scaling directory lists the runs its jobs.txt names. Where squeue answers
# (SLURM_CONF set, job still known) the Slurm state is added, and a run that ended without a
# final status line (killed, time limit, cancelled before it started or while queued again) counts
# as FAILED; a run that requeued itself on the warning (REQUEUED) counts as running.
# Exit status: 0 every run OK and the analysis (if any) OK; 1 something FAILED; 3 runs or the
# analysis not finished yet (none failed); 2 usage.
set -uo pipefail

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
DIR=$(realpath -- "$1")  # jobs.txt holds absolute paths

# Slurm states of this study's jobs, "ID STATE REASON" per line; empty without Slurm
declare -A SLURM_STATE
if command -v squeue >/dev/null && [ -f "$DIR/jobs.txt" ]; then
  ids=$(sed -n 's/^job=\([0-9][0-9]*\) .*/\1/p' "$DIR/jobs.txt" | paste -sd, -)
  if [ -n "$ids" ]; then
    while read -r id state reason; do
      [ -n "$id" ] && SLURM_STATE[$id]="$state${reason:+ ($reason)}"
    done < <(timeout 10 squeue -h -r -t all -j "$ids" -o '%i %T %r' 2>/dev/null | sed 's/ (None)$//; s/ None$//')
  fi
fi
slurm_of() {  # slurm_of JOBID: " slurm=STATE (REASON)" or nothing
  local s=${SLURM_STATE[$1]:-}
  [ -z "$s" ] || printf ' slurm=%s' "$s"
}
ended() { case "$1" in PENDING*|RUNNING*|CONFIGURING*|COMPLETING*|SUSPENDED*|REQUEUE*|RESV_DEL_HOLD*|"") return 1 ;; esac; }

ok=0 failed=0 running=0 notrun=0
# show WORD LINE-REST: one output line, counted
show() {
  case "$1" in
    OK) ok=$((ok + 1)) ;;
    FAILED) failed=$((failed + 1)) ;;
    RUNNING|REQUEUED) running=$((running + 1)) ;;
    *) notrun=$((notrun + 1)) ;;
  esac
  printf '%-8s %s\n' "$1" "$2"
}
# one_run LABEL STATUSFILE JOBID-if-known
one_run() {
  local label=$1 file=$2 jobid=$3 word rest state
  if [ -f "$file" ]; then
    read -r word rest <"$file"
    jobid=$(sed -n 's/.* job=\([^ ]*\).*/\1/p' "$file")
    state=${SLURM_STATE[$jobid]:-}
    if { [ "$word" = RUNNING ] || [ "$word" = REQUEUED ]; } && ended "$state"; then
      word=FAILED  # the job ended without the script writing its final line: killed, or
    fi             # cancelled while queued again after its warning
    show "$word" "$label$( [ -z "$label" ] || echo ' ')$rest$(slurm_of "$jobid")"
  elif ended "${SLURM_STATE[$jobid]:-}"; then
    show FAILED "$label reason=no-status-file$(slurm_of "$jobid")"  # cancelled before it started
  else
    show NOT-RUN "$label$(slurm_of "$jobid")"
  fi
}

if [ -f "$DIR/sweep.txt" ]; then
  array=$(sed -n 's/^job=\([0-9][0-9]*\) kind=array.*/\1/p' "$DIR/jobs.txt" 2>/dev/null | head -n 1)
  i=0
  while IFS= read -r params; do
    f=$(printf '%s/point-%03d.status' "$DIR" "$i")
    if [ -f "$f" ]; then
      one_run "" "$f" ""
    else
      one_run "index=$i params=$params" "$f" "${array:+${array}_$i}"
    fi
    i=$((i + 1))
  done < <(awk '{ sub(/#.*/, "") } NF { $1 = $1; print }' "$DIR/sweep.txt")
elif grep -q '^job=[^ ]* kind=train ' "$DIR/jobs.txt" 2>/dev/null; then
  # a scaling study: jobs.txt names every run and where it writes
  while read -r id out; do
    rel=${out#"$DIR"/}
    one_run "run=${rel%.h5}" "${out%.h5}.status" "$id"
  done < <(sed -n 's/^job=\([^ ]*\) kind=train .*output=\(.*\)$/\1 \2/p' "$DIR/jobs.txt")
else
  while IFS= read -r f; do
    rel=${f#"$DIR"/}
    one_run "run=${rel%.status}" "$f" ""
  done < <(find "$DIR" -maxdepth 2 -name '*.status' ! -name 'report.status' | sort)
fi

# analyses: report.status beside the runs; jobs.txt names the analysis jobs
analysis_bad=0 analysis_wait=0
while read -r id report; do
  [ -n "$id" ] || continue
  if [ -f "$report.status" ]; then
    read -r word rest <"$report.status"
    printf 'analysis %s %s%s\n' "$word" "$rest" "$(slurm_of "$id")"
    [ "$word" = OK ] || analysis_bad=1
  else
    state=${SLURM_STATE[$id]:-}
    printf 'analysis NOT-RUN job=%s out=%s%s\n' "$id" "$report" "$(slurm_of "$id")"
    if ended "$state" || [ "$failed" -gt 0 ]; then analysis_bad=1; else analysis_wait=1; fi
  fi
done < <(sed -n 's/^job=\([^ ]*\) kind=analysis .*report=\(.*\)$/\1 \2/p' "$DIR/jobs.txt" 2>/dev/null)

echo "runs=$((ok + failed + running + notrun)) ok=$ok failed=$failed running=$running not_run=$notrun"
[ $failed -eq 0 ] && [ $analysis_bad -eq 0 ] || exit 1
[ $running -eq 0 ] && [ $notrun -eq 0 ] && [ $analysis_wait -eq 0 ] || exit 3
exit 0
