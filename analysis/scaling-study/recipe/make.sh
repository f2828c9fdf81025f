#!/usr/bin/env bash
# Builds a relocatable runtime for /tmp/nnroot (binaries patched to load only its own glibc and
# libraries) and packs it with the MNIST files into .devpack/nnroot.tar.xz, from this checkout's
# build/ (cmake --build build first). Works from recipe/ or from .devpack/ (the same file), in
# the repository root of the checkout that holds it. .devpack/ must stay out of git: /.devpack/
# in .git/info/exclude (a worktree's is the main repository's, `git rev-parse
# --git-common-dir`/info/exclude). The bundle travels with the source tree, 64 MiB in all: it
# is refused above MAX_MB (default 55) MiB.
set -euo pipefail
cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
MAX_MB=${MAX_MB:-55}
for b in build/jobs/admm-train build/bench/admm-microbench; do
  [ -x "$b" ] || { echo "make.sh: $b: not built (cmake --build build)" >&2; exit 1; }
done
mkdir -p .devpack
# h5strip (the device script strips /weights off the results with it), built from its source here
if [ ! -x .devpack/h5strip ] || [ analysis/scaling-study/recipe/h5strip.c -nt .devpack/h5strip ]; then
  gcc -O2 -o .devpack/h5strip analysis/scaling-study/recipe/h5strip.c $(pkg-config --cflags --libs hdf5-mpich)
fi
# Staged in a private folder (another checkout may be making its own bundle): the binaries
# are patched for /tmp/nnroot, where the device unpacks them, and tar names them so.
R=/tmp/nnroot
S=$(mktemp -d /tmp/nnroot-stage.XXXXXX)
trap 'rm -rf "$S"' EXIT
D=$S/nnroot
mkdir -p $D/bin $D/lib/ucx $D/data/mnist
cp build/jobs/admm-train build/bench/admm-microbench .devpack/h5strip /usr/bin/h5dump /usr/bin/mpiexec.hydra /usr/bin/hydra_pmi_proxy $D/bin/
cp -L /usr/lib/x86_64-linux-gnu/ucx/libuct_cma.so.0 $D/lib/ucx/
libs=$( (for b in $D/bin/* $D/lib/ucx/*; do ldd $b; done) | awk '$3 ~ /^\// {print $3} $1 ~ /^\/lib64/ {print $1}' | sort -u)
for l in $libs; do cp -L "$l" $D/lib/; done
cp -L /lib64/ld-linux-x86-64.so.2 $D/lib/
for f in $D/bin/*; do patchelf --set-interpreter $R/lib/ld-linux-x86-64.so.2 --force-rpath --set-rpath $R/lib "$f"; done
for f in $D/lib/*.so* $D/lib/ucx/*.so*; do
  case "$f" in *ld-linux*|*/libc.so.6) continue ;; esac
  patchelf --force-rpath --set-rpath $R/lib "$f"
done
for f in data/mnist/*-ubyte; do gzip -c "$f" >$D/data/mnist/$(basename "$f").gz; done
tar -C "$S" --transform 's,^nnroot,tmp/nnroot,' -I "xz -T0 -4" -cf .devpack/nnroot.tar.xz nnroot
mb=$(( $(stat -c %s .devpack/nnroot.tar.xz) / 1048576 ))
ls -la .devpack/nnroot.tar.xz
if [ "$mb" -gt "$MAX_MB" ]; then
  echo "make.sh: .devpack/nnroot.tar.xz is $mb MiB, over MAX_MB=$MAX_MB: with the source tree it would pass the 64 MiB transfer limit" >&2
  exit 1
fi
