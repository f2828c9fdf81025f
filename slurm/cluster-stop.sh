#!/usr/bin/env bash
# Stops the cluster that slurm/cluster-start.sh started in STATE_DIR, and only it: cancels its jobs,
# waits for them to leave, then SIGTERMs every slurmd, slurmctld and munged by their pid files (a pid is
# signalled only if it still runs the program the file names), SIGKILL after a timeout.
#
#   slurm/cluster-stop.sh STATE_DIR [--timeout SECONDS]     (default 15)
#
# Idempotent: stopping a stopped cluster succeeds. Exit status: 0 all stopped, 1 usage, 2 a daemon
# survived SIGKILL.
set -uo pipefail

log() { printf 'cluster-stop: %s\n' "$*" >&2; }
[ $# -ge 1 ] || { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 1; }
STATE=$1; shift
TIMEOUT=15
while [ $# -gt 0 ]; do
  case "$1" in
    --timeout) TIMEOUT=$2; shift 2 ;;
    *) log "unknown option $1"; exit 1 ;;
  esac
done
[ -d "$STATE" ] || { log "$STATE: no such directory (nothing to stop)"; exit 0; }
STATE=$(cd "$STATE" && pwd -P)
RUN=$STATE/run
CONF=$STATE/slurm.conf

# pid_of PIDFILE NAME: the pid in PIDFILE if it is a live process running NAME (pids get reused)
pid_of() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] || return 1
  echo "$pid"
}
running() {  # a zombie still answers kill -0: look at its state
  case "$(ps -o stat= -p "$1" 2>/dev/null)" in Z*|"") return 1 ;; *) return 0 ;; esac
}

# Jobs first, while slurmctld can still cancel them (their steps die with them).
if [ -f "$CONF" ] && pid_of "$RUN/slurmctld.pid" slurmctld >/dev/null; then
  export SLURM_CONF=$CONF
  jobs=$(squeue -h -o %A 2>/dev/null | sort -u)
  if [ -n "$jobs" ]; then
    log "cancelling jobs: ${jobs//$'\n'/ }"
    # shellcheck disable=SC2086
    scancel $jobs 2>/dev/null
    deadline=$((SECONDS + TIMEOUT))
    while [ -n "$(squeue -h -t R,PD,CG,S,CF -o %A 2>/dev/null)" ] && [ $SECONDS -lt $deadline ]; do
      sleep 0.3
    done
  fi
fi

rc=0
# slurmd.pid (one node) or slurmd-NODE.pid (--nodes N), then slurmctld, then munged
for file in "$RUN"/slurmd.pid "$RUN"/slurmd-*.pid "$RUN"/slurmctld.pid "$RUN"/munged.pid; do
  [ -e "$file" ] || continue
  name=$(basename "$file" .pid)
  name=${name%%-*}
  pid=$(pid_of "$file" "$name") || { rm -f "$file"; continue; }
  kill -TERM "$pid" 2>/dev/null
  deadline=$((SECONDS + TIMEOUT))
  while running "$pid" && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  if running "$pid"; then
    log "$name (pid $pid) ignored SIGTERM for ${TIMEOUT}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null
    sleep 0.5
    running "$pid" && { log "$name (pid $pid) survived SIGKILL"; rc=2; continue; }
  fi
  rm -f "$file"
done
[ $rc -eq 0 ] && rm -f "$RUN/started"
[ $rc -eq 0 ] && log "stopped cluster in $STATE"
exit $rc
