#!/usr/bin/env bash
# The Slurm studies without Slurm, on this machine: the same job scripts run one after another
# with the site file's local launcher (SITE_LOCAL_LAUNCHER, `mpiexec.mpich -n N` by default),
# into the same results layout, then the analysis (only if every run succeeded, as afterok would).
#
#   slurm/run-local.sh scaling [submit-scaling.sh options] [--] TRAINER_ARGS...
#   slurm/run-local.sh sweep   [submit-sweep.sh options] SWEEPFILE [--] TRAINER_ARGS...
#   slurm/run-local.sh run     [--ntasks N] [--results DIR] [--dry-run] [--] TRAINER_ARGS...
# e.g.
#   slurm/run-local.sh scaling --ranks 1,2 -- --data synthetic --layers 16,8,4 --epochs 2
#   slurm/run-local.sh sweep slurm/sweeps/thesis-beta.sweep -- --data synthetic --epochs 2
#
# Options of the studies are those of submit-scaling.sh / submit-sweep.sh (--sbatch,
# --max-parallel, --nodes, --ntasks-per-node, --exclusive are accepted and do nothing here);
# --dry-run prints the commands instead of running them. Exit status: 0 every run and the
# analysis succeeded, 1 otherwise (slurm/sweep-status.sh DIR says which).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd -P)
usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
[ $# -ge 1 ] || usage 1

# Inside an allocation mpiexec.mpich would launch through srun: forget we are in one.
for v in $(compgen -e | grep '^SLURM_' | grep -v '^SLURM_CONF$' || true); do unset "$v"; done
export ADMM_LOCAL=1

study=$1
shift
case "$study" in
  scaling) exec "$here/submit-scaling.sh" "$@" ;;
  sweep) exec "$here/submit-sweep.sh" "$@" ;;
  run)
    ntasks=2 results="" dry=0
    while [ $# -gt 0 ]; do
      case "$1" in
        --ntasks) ntasks=${2:?}; shift 2 ;;
        --results) results=${2:?}; shift 2 ;;
        --dry-run) dry=1; shift ;;
        --) shift; break ;;
        *) break ;;
      esac
    done
    export ADMM_NTASKS=$ntasks
    export ADMM_RESULTS=${results:-results/local-$(date +%Y%m%d-%H%M%S)}
    if [ $dry -eq 1 ]; then
      printf '%q ' env ADMM_NTASKS="$ADMM_NTASKS" ADMM_RESULTS="$ADMM_RESULTS" bash "$here/train.sbatch" "$@"
      echo
      exit 0
    fi
    exec bash "$here/train.sbatch" "$@"
    ;;
  -h|--help) usage 0 ;;
  *) echo "run-local.sh: unknown study '$study' (scaling, sweep or run)" >&2; exit 1 ;;
esac
