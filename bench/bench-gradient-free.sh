#!/usr/bin/env bash
# Gradient-free results next to their own floor, in one table: for each case, the floor
# (--method random-features: the same architecture, --init, seed and readout loss, hidden layers
# frozen) and --method bcd, with epochs, seconds per epoch and total training time at RANKS
# ranks, validation and test accuracy of the kept (best-validation) weights, and the gain of
# bcd over its floor; for the bcd rows also the flops of one sweep (bench/bcd-flops.awk), the
# rate they ran at and the ratio of the mean sweep time (sweeps 2..) to the flop bound = sweep
# flops / GEMM rate, the rate measured by gemm-rate on the same ranks and precision just
# before the case.
# Usage: bench/bench-gradient-free.sh [RANKS] [OUT_DIR]     (from the repository root, after a build)
# Cases (data set, layers, precision, sweeps, --init, then any further bcd options) are the
# lines of CASES below (env CASES replaces them). Where two initialisations are listed for one
# network, pick the one with the higher validation accuracy: the test column only reports.
# About 25 minutes on 2 cores, 784-2048-2048-10 taking 8 of them.
set -euo pipefail
ranks=${1:-2}
out=${2:-results/bench-gradient-free}
train=${ADMM_TRAIN:-build/jobs/admm-train}
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
mkdir -p "$out"
CASES=${CASES:-"mnist 784,256,256,10 float64 40 pairs
mnist 784,8192,10 float32 2 pairs
mnist 784,2048,2048,10 float32 25 pairs
fashion-mnist 784,256,256,10 float64 30 pairs
fashion-mnist 784,8192,10 float32 2 pairs
fashion-mnist 784,8192,10 float32 2 he"}
gemm=${GEMM_RATE:-$(dirname "$train")/../bench/gemm-rate}
attr() { h5dump -a "/$2" "$1" | grep -o '(0): [0-9.e+-]*' | cut -d' ' -f2; }
# mean of /epochs/t_epoch over epochs 2.. (epoch 1 alone when only one ran)
sweep_time() { h5dump -d /epochs/t_epoch "$1" | sed -n 's/^ *([0-9]*): *//p' | tr -s ' ,' '\n' | grep -E '^[0-9.]+(e[-+]?[0-9]+)?$' |
  awk '{ t[++k] = $1 } END { s = 0; m = 0; for (i = (k > 1 ? 2 : 1); i <= k; i++) { s += t[i]; m++ }; print s / m }'; }
printf "%-14s %-16s %-8s %-6s %-16s %7s %9s %9s %8s %8s %7s %9s %7s %6s\n" data layers prec init method epochs s/epoch \
  train_s val_acc test_acc gain TF/sweep GF/s ratio
while read -r data layers prec epochs init options; do
  [ -n "$data" ] || continue
  floor_acc=
  for method in random-features bcd; do
    f="$out/$data-$layers-$prec-$init-$method.h5"
    extra=()
    # shellcheck disable=SC2206 # the case's options are words
    [ "$method" = bcd ] && extra=(--epochs "$epochs" --patience 0 $options)
    mpiexec.mpich -n "$ranks" "$train" --method "$method" --data "$data" --layers "$layers" --precision "$prec" \
      --init "$init" --eval-train 0 --quiet 1 --force --output "$f" "${extra[@]}" >/dev/null </dev/null  # mpiexec would eat the case list
    run=$(attr "$f" epochs_run) t=$(attr "$f" train_time_s) acc=$(attr "$f" final_test_acc) val=$(attr "$f" final_val_acc)
    flops=0 rate=0 tsweep=0 gain=
    [ "$method" = random-features ] && floor_acc=$acc
    [ "$method" = bcd ] && gain=$(awk -v a="$acc" -v f="$floor_acc" 'BEGIN { printf "%+.2f", 100 * (a - f) }')
    if [ "$method" = bcd ]; then
      ntrain=$(attr "$f" n_train)
      flops=$(awk -v layers="$layers" -v N="$ntrain" -f "$(dirname "$0")/bcd-flops.awk")
      wmax=$(tr ',' '\n' <<<"$layers" | sort -n | tail -1)
      side=$(( wmax < 2048 ? wmax : 2048 ))
      rate=$(mpiexec.mpich -n "$ranks" "$gemm" "$prec" "$side" "$side" 16384 3 </dev/null | sed -n 's/.*gflops=\([0-9.]*\).*/\1/p')
      tsweep=$(sweep_time "$f")
    fi
    awk -v d="$data" -v l="$layers" -v p="$prec" -v i="$init" -v m="$method" -v e="$run" -v t="$t" -v a="$acc" \
      -v v="$val" -v g="${gain:--}" -v fl="$flops" -v r="$rate" -v ts="$tsweep" \
      'BEGIN { printf "%-14s %-16s %-8s %-6s %-16s %7d %9.2f %9.1f %7.2f%% %7.2f%% %7s", d, l, p, i, m, e, t / e, t, 100 * v, 100 * a, g
               if (fl > 0 && r > 0 && ts > 0) printf " %9.2f %7.1f %6.2f", fl / 1e12, fl / ts / 1e9, ts / (fl / (r * 1e9))
               printf "\n" }'
  done
done <<<"$CASES"
