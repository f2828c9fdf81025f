#!/usr/bin/env bash
# One command on a fresh Debian machine: install the packages, then build and test the suite on
# two MPI stacks, each in its own build directory (.ci/run calls this):
#   build/          MPICH, the default (mpicc.mpich, hdf5/mpich, libscalapack-mpich): every test
#   build-openmpi/  Debian's OpenMPI stack (mpicc.openmpi, hdf5/openmpi, libscalapack-openmpi),
#                   installed beside MPICH: every test, the Slurm jobs launched OpenMPI's way
#                   (slurm/site-openmpi.conf: srun --mpi=pmix, mpiexec.openmpi), but slurm-scripts
#                   and slurm-cluster, which run no program of the build (fake trainer, hostname)
#                   and were run on the first stack
# Usage: tests/run-all.sh [extra ctest arguments, for both runs]
#   NN_STACKS="mpich openmpi" (default) or one of them.
set -euo pipefail
cd "$(dirname "$0")/.."
stacks=${NN_STACKS:-mpich openmpi}
status=0
for stack in $stacks; do
  case "$stack" in
    mpich)
      bash jobs/install-deps.sh
      dir=build cmake_args=() ctest_args=() ;;
    openmpi)
      bash jobs/install-deps.sh --openmpi
      dir=build-openmpi cmake_args=(-DMPI_C_COMPILER=/usr/bin/mpicc.openmpi) ctest_args=(-E '^slurm-(scripts|cluster)$') ;;
    *) echo "run-all.sh: unknown stack '$stack' in NN_STACKS (mpich, openmpi)" >&2; exit 2 ;;
  esac
  echo "=== run-all.sh: $stack stack in $dir/"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release "${cmake_args[@]}"
  cmake --build "$dir" -j"$(nproc)"
  if ! (cd "$dir" && ctest --output-on-failure "${ctest_args[@]}" "$@"); then
    echo "=== run-all.sh: $stack stack: tests FAILED"
    status=1
  fi
done
exit $status
