#!/usr/bin/env bash
# One command on a fresh Debian machine: install the packages, fetch MNIST, build, and run
# the default training job (--method bcd, 784-256-256-10, full MNIST) on local MPI ranks.
# Usage: jobs/quickstart.sh [RANKS] [-- extra admm-train options]
set -euo pipefail
cd "$(dirname "$0")/.."
ranks=${1:-2}
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
bash jobs/install-deps.sh
bash io/fetch-mnist.sh data/mnist
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DNN_MARCH=native  # tuned: it runs where it builds
cmake --build build -j"$(nproc)"
# One BLAS thread per rank unless the user says otherwise: ranks x threads <= cores.
cores=$(nproc)
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-$(( cores / ranks > 0 ? cores / ranks : 1 ))}
mkdir -p results
exec mpiexec.mpich -n "$ranks" build/jobs/admm-train --data mnist --data-dir data/mnist "$@"
