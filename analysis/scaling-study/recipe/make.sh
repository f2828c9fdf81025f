#!/usr/bin/env bash
# Builds a relocatable runtime at /tmp/nnroot (binaries patched to load only its own glibc and
# libraries) and packs it with the MNIST files into .devpack/nnroot.tar.xz, from this checkout's
# build/ (cmake --build build first): run it from any folder, it works in the repository root.
# .devpack/ must stay out of git: /.devpack/ in .git/info/exclude (a worktree's is the main
# repository's, `git rev-parse --git-common-dir`/info/exclude).
set -euo pipefail
cd "$(dirname "$0")/../../.."
R=/tmp/nnroot
mkdir -p .devpack
# h5strip (the device script strips /weights off the results with it), built from its source here
if [ ! -x .devpack/h5strip ] || [ analysis/scaling-study/recipe/h5strip.c -nt .devpack/h5strip ]; then
  gcc -O2 -o .devpack/h5strip analysis/scaling-study/recipe/h5strip.c $(pkg-config --cflags --libs hdf5-mpich)
fi
rm -rf $R && mkdir -p $R/bin $R/lib/ucx $R/data/mnist
cp build/jobs/admm-train build/bench/admm-microbench .devpack/h5strip /usr/bin/mpiexec.hydra /usr/bin/hydra_pmi_proxy $R/bin/
cp -L /usr/lib/x86_64-linux-gnu/ucx/libuct_cma.so.0 $R/lib/ucx/
libs=$( (for b in $R/bin/* $R/lib/ucx/*; do ldd $b; done) | awk '$3 ~ /^\// {print $3} $1 ~ /^\/lib64/ {print $1}' | sort -u)
for l in $libs; do cp -L "$l" $R/lib/; done
cp -L /lib64/ld-linux-x86-64.so.2 $R/lib/
for f in $R/bin/*; do patchelf --set-interpreter $R/lib/ld-linux-x86-64.so.2 --force-rpath --set-rpath $R/lib "$f"; done
for f in $R/lib/*.so* $R/lib/ucx/*.so*; do
  case "$f" in *ld-linux*|*/libc.so.6) continue ;; esac
  patchelf --force-rpath --set-rpath $R/lib "$f"
done
for f in data/mnist/*-ubyte; do gzip -c "$f" >$R/data/mnist/$(basename "$f").gz; done
tar -C / -I "xz -T0 -4" -cf .devpack/nnroot.tar.xz tmp/nnroot
ls -la .devpack/nnroot.tar.xz
