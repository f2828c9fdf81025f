#!/usr/bin/env bash
# Measured complexity (issue 15, item 4): seconds per iteration of dladmm (inversion-free,
# --anderson 0) against admm and bcd (factorisations and solves) on MNIST 784-W-W-10, float32,
# for each hidden width W, next to the iteration's flop count (bench/complexity-flops.awk,
# counted from each method's calls) and its GEMM bound: the busiest rank's flops divided by
# one rank's share of the GEMM rate that bench/gemm_rate.c measures in this run, at this
# width, on the same ranks (M = K = W, N samples split over the ranks). Then the growth
# exponent of the time per iteration between consecutive widths, d log t / d log W, per
# method, next to the exponent of its flop count.
#
#   bench/bench-complexity.sh [OUT_DIR]      (from the repository root, after a build)
#
# env WIDTHS (default "256 1024 2048 4096"), N_TRAIN (10000: the first N training samples, all
# used for training: --validation 0), EPOCHS (3: the first is a warm-up and left out, the time
# is the median of the others; admm adds its --warmup 2 epochs, which cost the same, so its
# median is over 4), METHODS ("dladmm admm bcd"), RANKS (2), OPENBLAS_NUM_THREADS (1).
# Memory is no limit here: admm at W = 4096, N = 10000 estimates well under 1 GB a rank.
# The counted column is the run's own count (phase_flops of the last iteration, all phases
# but eval and io, max over ranks; io/SCHEMA.md): it must equal the formula's per-rank count.
# Timings on a shared machine are noisy: the load (uptime) is printed before and after.
set -euo pipefail
# shellcheck source=bench/h5-figures.sh
. "$(dirname "$0")/h5-figures.sh" # median_iteration_seconds, counted_flops
out=${1:-results/bench-complexity}
train=${ADMM_TRAIN:-build/jobs/admm-train}
gemm=${GEMM_RATE:-build/bench/gemm-rate}
flops_awk=$(dirname "$0")/complexity-flops.awk
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
WIDTHS=${WIDTHS:-256 1024 2048 4096}
N_TRAIN=${N_TRAIN:-10000}
EPOCHS=${EPOCHS:-3}
METHODS=${METHODS:-dladmm admm bcd}
RANKS=${RANKS:-2}
mkdir -p "$out"


echo "MNIST 784-W-W-10, float32, $RANKS ranks x $OPENBLAS_NUM_THREADS thread, n_train $N_TRAIN, $EPOCHS iterations" \
  "(first left out), $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, git $(git describe --always --dirty 2>/dev/null || echo -)"
echo "load before: $(uptime | sed 's/.*load average/load average/')"
printf "| method | W | s/iter | GFlop/iter (all ranks) | GFlop/iter busiest rank | counted by the run | N-free share | GEMM GF/s (%s ranks) | bound s | measured/bound |\n" "$RANKS"
printf "|---|---|---|---|---|---|---|---|---|---|\n"
declare -A T F
for W in $WIDTHS; do
  layers=784,$W,$W,10
  rate=$(mpiexec.mpich -n "$RANKS" "$gemm" float32 "$W" "$W" "$N_TRAIN" 3 </dev/null | sed -n 's/.*gflops=\([0-9.]*\).*/\1/p')
  [ -n "$rate" ] || { echo "bench-complexity: gemm-rate failed at W=$W" >&2; exit 1; }
  for method in $METHODS; do
    extra=()
    [ "$method" = dladmm ] && extra=(--anderson 0) # the plain method, not Anderson's
    h5=$out/$method-$W.h5
    mpiexec.mpich -n "$RANKS" "$train" --method "$method" "${extra[@]}" --data mnist --layers "$layers" \
      --n-train "$N_TRAIN" --validation 0 --n-test 1000 --eval-train 0 --epochs "$EPOCHS" --patience 0 \
      --checkpoint none --precision float32 --quiet 1 --force --output "$h5" >"$out/$method-$W.log" 2>&1 </dev/null ||
      { echo "bench-complexity: $method W=$W failed:" >&2; tail -3 "$out/$method-$W.log" >&2; exit 1; }
    t=$(median_iteration_seconds "$h5")
    read -r f_total f_rank f_fixed < <(awk -v method="$method" -v layers="$layers" -v N="$N_TRAIN" -v P="$RANKS" \
      -f "$flops_awk" | sed 's/[a-z]*=//g')   # "total=.. rank=.. fixed=.."
    T[$method-$W]=$t F[$method-$W]=$f_total
    awk -v m="$method" -v W="$W" -v t="$t" -v ft="$f_total" -v fr="$f_rank" -v fx="$f_fixed" -v c="$(counted_flops "$h5")" \
      -v g="$rate" -v P="$RANKS" 'BEGIN {
        b = fr / (g * 1e9 / P)   # one rank'"'"'s share of the aggregate GEMM rate
        printf "| %s | %d | %.3f | %.1f | %.1f | %.1f | %.0f%% | %.1f | %.3f | %.2f |\n", m, W, t, ft / 1e9, fr / 1e9, c / 1e9,
          100 * fx / ft, g, b, t / b }'
  done
done
echo
echo "Growth exponents between consecutive widths, d log(s/iter) / d log W (flop count's in brackets):"
for method in $METHODS; do
  line="$method:" prev=
  for W in $WIDTHS; do
    if [ -n "$prev" ]; then
      line+=$(awk -v a="${T[$method-$prev]}" -v b="${T[$method-$W]}" -v fa="${F[$method-$prev]}" -v fb="${F[$method-$W]}" \
        -v w0="$prev" -v w1="$W" 'BEGIN { r = log(w1 / w0)
          printf "  %d->%d %.2f (%.2f)", w0, w1, log(b / a) / r, log(fb / fa) / r }')
    fi
    prev=$W
  done
  echo "$line"
done
echo "load after: $(uptime | sed 's/.*load average/load average/')"
