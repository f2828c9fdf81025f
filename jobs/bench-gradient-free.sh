#!/usr/bin/env bash
# Gradient-free results against the random-features floor of the same architecture, in one
# table (issue 6): for each case, the floor (--method random-features) and --method admm
# (--preset best), with epochs, seconds per epoch and total training time at RANKS ranks.
# Usage: jobs/bench-gradient-free.sh [RANKS] [OUT_DIR]     (from the repository root, after a build)
# Cases (data set, layers, precision, epochs) are the lines of CASES below; long: ~10 min on 2 cores.
set -euo pipefail
ranks=${1:-2}
out=${2:-results/bench-gradient-free}
train=${ADMM_TRAIN:-build/jobs/admm-train}
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
mkdir -p "$out"
CASES=${CASES:-"mnist 784,256,256,10 float64 40
mnist 784,8192,10 float32 2
fashion-mnist 784,256,256,10 float64 30
fashion-mnist 784,8192,10 float32 2"}
attr() { h5dump -a "/$2" "$1" | grep -o '(0): [0-9.e+-]*' | cut -d' ' -f2; }
printf "%-14s %-16s %-8s %-16s %7s %9s %9s %8s\n" data layers prec method epochs s/epoch train_s test_acc
while read -r data layers prec epochs; do
  [ -n "$data" ] || continue
  for method in random-features admm; do
    f="$out/$data-$layers-$prec-$method.h5"
    extra=()
    [ "$method" = admm ] && extra=(--epochs "$epochs" --patience 0)
    # Fashion-MNIST's wide layers start from --init (He): sample pairs help MNIST only.
    [ "$method" = admm ] && [ "$data" = fashion-mnist ] && extra+=(--bcd-init random)
    mpiexec.mpich -n "$ranks" "$train" --method "$method" --data "$data" --layers "$layers" --precision "$prec" \
      --eval-train 0 --quiet 1 --output "$f" "${extra[@]}" >/dev/null </dev/null  # mpiexec would eat the case list
    run=$(attr "$f" epochs_run) t=$(attr "$f" train_time_s) acc=$(attr "$f" final_test_acc)
    awk -v d="$data" -v l="$layers" -v p="$prec" -v m="$method" -v e="$run" -v t="$t" -v a="$acc" \
      'BEGIN { printf "%-14s %-16s %-8s %-16s %7d %9.2f %9.1f %7.2f%%\n", d, l, p, m, e, t / e, t, 100 * a }'
  done
done <<<"$CASES"
