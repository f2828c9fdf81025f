#!/usr/bin/env bash
# Checkpoint size, write time and overhead per epoch (issue 14): for each case (method, layers,
# training samples) and rank count, a run with --checkpoint-every 1 writes a checkpoint after
# every epoch; the table gives the file's size, the median write time (the driver's
# "checkpoint: ... t=" line: HDF5 write, checksums, fsync, rename), the median epoch time, and
# the overhead per epoch at --checkpoint-every 1 (write / epoch) and at the default
# --checkpoint-interval of 600 s (write / max(600 s, epoch): one checkpoint per interval).
#
#   bench/bench-checkpoint.sh [RANKS_LIST] [OUT_DIR]     (from the repository root, after a build)
#
# Defaults: ranks "1 2"; cases bcd and admm (the thesis's configuration) on MNIST
# 784-256-256-10 (55000 samples) and 784-2048-2048-10 (CASES to change them: "method layers
# n_train epochs" per line). The checkpoint goes beside the results in OUT_DIR (default
# results/bench-checkpoint): the figures are that file system's.
set -euo pipefail
ranks_list=${1:-1 2}
out=${2:-results/bench-checkpoint}
train=${ADMM_TRAIN:-build/jobs/admm-train}
mpiexec=${MPIEXEC:-mpiexec.mpich}
CASES=${CASES:-"bcd 784,256,256,10 0 3
admm 784,256,256,10 0 4
bcd 784,2048,2048,10 20000 2
admm 784,2048,2048,10 20000 3"}
mkdir -p "$out"
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
printf '| method | layers | samples | ranks | checkpoint MB | write s | epoch s | overhead every epoch | overhead at 600 s |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
while read -r method layers ntrain epochs; do
  [ -n "$method" ] || continue
  extra=()
  [ "$method" = admm ] && extra=(--beta 1 --gamma 1 --warmup 1)
  for np in $ranks_list; do
    name=$method-${layers//,/-}-p$np
    threads=$(( $(nproc) / np )); [ "$threads" -ge 1 ] || threads=1
    OPENBLAS_NUM_THREADS=$threads "$mpiexec" -n "$np" "$train" --method "$method" --layers "$layers" --n-train "$ntrain" \
      --epochs "$epochs" --patience 0 --eval-train 0 --checkpoint-every 1 --checkpoint "$out/$name.checkpoint.h5" "${extra[@]}" --force \
      --output "$out/$name.h5" >"$out/$name.log" 2>&1 </dev/null ||
      { echo "bench-checkpoint: $name failed:" >&2; tail -3 "$out/$name.log" >&2; continue; }
    size=$(stat -c %s "$out/$name.checkpoint.h5")
    write=$(sed -n 's/^checkpoint: .* t=\([0-9.]*\)s$/\1/p' "$out/$name.log" | median)
    epoch=$(sed -n 's/^epoch=[0-9]* .*t_epoch=\([0-9.]*\) .*/\1/p' "$out/$name.log" | tail -n +2 | median)
    awk -v m="$method" -v l="$layers" -v n="$ntrain" -v p="$np" -v s="$size" -v w="$write" -v e="$epoch" 'BEGIN {
      printf "| %s | %s | %d | %d | %.1f | %.3f | %.3f | %.1f%% | %.3f%% |\n", m, l, n == 0 ? 55000 : n - 5000, p, s / 1e6, w, e,
             100 * w / e, 100 * w / (e > 600 ? e : 600) }'
  done
done <<<"$CASES"
