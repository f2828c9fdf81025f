#!/usr/bin/env bash
# A real MNIST study on this machine, without Slurm: ADMM (thesis configuration with two seeds,
# best thesis-grid point), the random-features floor, GD, momentum, Adam (2 ranks), pure SGD
# (1 rank), a GAMMA sweep and a 1-vs-2-rank scaling pair, then one analysis report over all
# of it. Usage: bench/study-mnist.sh [RESULTS_DIR]   (from the repository root, after a build)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-results/study-mnist}
common=(--data mnist --data-dir "$PWD/data/mnist" --eval-train 1)
export ADMM_TRAIN=${ADMM_TRAIN:-$PWD/build/jobs/admm-train} ADMM_ANALYZE=${ADMM_ANALYZE:-$PWD/build/analysis/admm-analyze}
mkdir -p "$out"
slurm/run-local.sh sweep --no-analysis --results "$out/methods" bench/sweeps/mnist-study.sweep -- "${common[@]}"
slurm/run-local.sh sweep --no-analysis --ntasks 1 --results "$out/sgd" slurm/sweeps/thesis-sgd.sweep -- "${common[@]}" --epochs 5
slurm/run-local.sh sweep --no-analysis --results "$out/gamma" bench/sweeps/mnist-gamma.sweep -- "${common[@]}"
slurm/run-local.sh scaling --no-analysis --ranks 1,2 --results "$out/scaling" -- "${common[@]}" --method admm --epochs 5 --warmup 10 --patience 0
"$ADMM_ANALYZE" "$out/methods" "$out/sgd" "$out/gamma" "$out/scaling" --out "$out/report"
echo "report: $out/report/report.md"
