#!/usr/bin/env bash
# Translated training images (--augment, issue 15's accuracy targets): full MNIST and
# Fashion-MNIST 784-256-256-10 on RANKS ranks (default 2), one BLAS thread per rank, float64,
# 50 epochs at most with patience 10. For each data set: mini-batch bcd (--bcd-batches 20) and
# Adam, each without and with --augment 1, and the floor of each one's initialisation
# (--method random-features, hidden layers frozen, squared-hinge readout: --init pairs for bcd,
# he for Adam). Prints per run the kept epoch (best validation accuracy: the test set only
# reports), its validation and test accuracy, its floor's test accuracy and the gain over it.
# About 45 minutes on 2 idle cores.
#
#   bash bench/bench-augment.sh [RANKS] [OUT_DIR]      (repository root, after a build)
#   DATASETS="mnist" bash bench/bench-augment.sh 2      (MNIST alone, about 25 minutes)
set -euo pipefail
ranks=${1:-2}
out=${2:-$(mktemp -d)}
train=${ADMM_TRAIN:-build/jobs/admm-train}
DATASETS=${DATASETS:-"mnist fashion-mnist"}
export OPENBLAS_NUM_THREADS=1
mkdir -p "$out"
[ -x "$train" ] || { echo "bench-augment: no admm-train at $train (set ADMM_TRAIN)" >&2; exit 2; }

# final LOG KEY: the value of KEY on the run's closing "final:" line
final() { sed -n 's/^final: .*\<'"$2"'=\([^ ]*\).*/\1/p' "$1"; }
pct() { awk -v v="$1" 'BEGIN { printf "%.2f", 100 * v }'; }

echo "# 784-256-256-10, $ranks ranks, 1 BLAS thread each, float64, --epochs 50 --patience 10; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-14s %-34s %-16s %-8s %-8s %-8s %s\n' data run "kept (of run)" "val %" "test %" "floor %" gain
for data in $DATASETS; do
  declare -A floor=()
  for init in pairs he; do
    log=$out/$data-floor-$init.log
    mpiexec.mpich -n "$ranks" "$train" --data "$data" --layers 784,256,256,10 --method random-features --init "$init" \
      --loss squared-hinge --checkpoint none --force --output "$out/$data-floor-$init.h5" >"$log" 2>&1 </dev/null ||
      { echo "bench-augment: the $data $init floor failed:" >&2; tail -3 "$log" >&2; continue 2; }
    floor[$init]=$(pct "$(final "$log" test_acc)")
  done
  while read -r name init args; do
    log=$out/$data-$name.log
    # shellcheck disable=SC2086 # args is a word list
    mpiexec.mpich -n "$ranks" "$train" --data "$data" --layers 784,256,256,10 --epochs 50 --patience 10 \
      --checkpoint none --force --output "$out/$data-$name.h5" $args >"$log" 2>&1 </dev/null ||
      { echo "bench-augment: $data $name failed:" >&2; tail -3 "$log" >&2; continue; }
    test_pct=$(pct "$(final "$log" test_acc)")
    printf '%-14s %-34s %-16s %-8s %-8s %-8s %+.2f\n' "$data" "$args" "$(final "$log" best_epoch) ($(final "$log" epochs_run))" \
      "$(pct "$(final "$log" val_acc)")" "$test_pct" "${floor[$init]}" \
      "$(awk -v a="$test_pct" -v b="${floor[$init]}" 'BEGIN { print a - b }')"
  done < <(
    echo "bcd pairs --bcd-batches 20"
    echo "bcd-augment pairs --bcd-batches 20 --augment 1"
    echo "adam he --method adam"
    echo "adam-augment he --method adam --augment 1"
  )
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg); results files in $out"
