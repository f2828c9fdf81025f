#!/usr/bin/env bash
# Seconds per ADMM epoch on full MNIST at 1 and 2 ranks, float64 and float32, next to the
# floating-point bound of the same epoch: the epoch's flops (counted from the layer sizes)
# divided by the GEMM rate measured here, in this run, on the same ranks and threads.
# Usage: bench/bench-admm.sh [EPOCHS] [LAYERS]      (run from the repository root, after a build)
set -euo pipefail
epochs=${1:-4}
layers=${2:-784,256,256,10}
train=build/jobs/admm-train rate=build/bench/gemm-rate
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
n=55000
# flops of one ADMM epoch (solver/admm.c): weight steps (Gram by syrk except layer 1, cross
# product, Cholesky solve), activation steps (K and Pinv applied: two GEMMs, small factor and
# inverse), z steps (W a).
flops=$(awk -v L="$layers" -v N=$n 'BEGIN {
  k = split(L, w, ","); f = 0
  for (l = 2; l <= k; l++) {
    in_ = w[l-1]; out_ = w[l]
    if (l > 2) f += in_ * in_ * N + in_ * in_ * in_ / 3
    f += 2 * in_ * out_ * N + 2 * in_ * in_ * out_
    f += 2 * out_ * in_ * N
    if (l < k) { nx = w[l+1]; f += 2 * out_ * nx * N + 2 * out_ * out_ * N + out_ * out_ * out_ + 2 * out_ * out_ * nx }
  }
  printf "%.6e", f }')
echo "layers=$layers n_train=$n flops_per_epoch=$(awk -v f="$flops" 'BEGIN{printf "%.1f GFlop", f/1e9}')"
printf "%-8s %5s %7s %10s %10s %10s %7s\n" precision ranks threads s/epoch bound_s gemm_GF/s ratio
median_epoch() {  # median t_epoch of a results file, warm-up excluded
  h5dump -d /epochs/t_epoch "$1" | sed -n '/DATA {/,/}/p' | grep -o '[0-9][0-9.e-]*' | sed 1d | sort -g |
    awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'
}
declare -A t
for prec in float64 float32; do
  for cfg in "1 1" "1 2" "2 1"; do
    set -- $cfg
    np=$1 th=$2
    export OPENBLAS_NUM_THREADS=$th
    gf=$(mpiexec.mpich -n "$np" "$rate" "$prec" 256 784 "$n" 5 | grep -o 'gflops=[0-9.]*' | cut -d= -f2)
    mpiexec.mpich -n "$np" "$train" --method admm --data mnist --layers "$layers" --epochs "$epochs" --warmup 0 --patience 0 \
      --eval-train 0 --quiet 1 --precision "$prec" --force --output "$out/$prec-$np-$th.h5" >/dev/null
    s=$(median_epoch "$out/$prec-$np-$th.h5")
    t[$prec-$np-$th]=$s
    awk -v p="$prec" -v np="$np" -v th="$th" -v s="$s" -v f="$flops" -v g="$gf" \
      'BEGIN { b = f / (g * 1e9); printf "%-8s %5d %7d %10.3f %10.3f %10.1f %7.2f\n", p, np, th, s, b, g, s / b }'
  done
  awk -v a="${t[$prec-1-1]}" -v b="${t[$prec-2-1]}" -v p="$prec" 'BEGIN { printf "%s: speed-up 2 ranks vs 1 rank (1 thread each): %.2fx\n", p, a / b }'
done
