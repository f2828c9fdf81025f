#!/usr/bin/env bash
# Mini-batch bcd against the full sweep (issue 15's time-to-95% target): full MNIST
# 784-256-256-10 on RANKS ranks (default 2), one BLAS thread per rank. Runs plain bcd
# (--anderson 0, the bcd of the target's "today about 13 s"), the default (--anderson 3) and
# --bcd-batches B for each B in BATCHES (default "10 20"), each for the epochs it needs to pass
# 95% test accuracy (EPOCHS_FULL, default 12; EPOCHS_BATCHES, default 3), and prints per run the
# epochs and training seconds to 90% and 95% test and validation accuracy (admm-analyze's reach
# table: the first epoch whose figure reaches the level, seconds = the sum of t_epoch up to it,
# evaluation excluded), the median seconds per epoch and the peak RSS of the largest rank.
#
#   bash bench/bench-bcd-batches.sh [RANKS] [OUT_DIR]     (repository root, after a build)
#
# The seconds are this machine's: run it on idle cores (it prints the load before and after).
set -euo pipefail
# shellcheck source=bench/h5-figures.sh
. "$(dirname "$0")/h5-figures.sh" # median_iteration_seconds
ranks=${1:-2}
out=${2:-$(mktemp -d)}
train=${ADMM_TRAIN:-build/jobs/admm-train}
analyze=${ADMM_ANALYZE:-$(dirname "$train")/../analysis/admm-analyze}
BATCHES=${BATCHES:-"10 20"}
EPOCHS_FULL=${EPOCHS_FULL:-12}
EPOCHS_BATCHES=${EPOCHS_BATCHES:-3}
export OPENBLAS_NUM_THREADS=1
mkdir -p "$out"
[ -x "$train" ] || { echo "bench-bcd-batches: no admm-train at $train (set ADMM_TRAIN)" >&2; exit 2; }

# reach H5 MEASURE LEVEL: "epochs seconds" to LEVEL (percent) of MEASURE (test_acc, val_acc)
reach() {
  local dir
  dir=$out/.reach/$(basename "$1" .h5)
  [ -f "$dir/tables/reach.csv" ] || "$analyze" "$1" --out "$dir" --no-plots >/dev/null 2>&1
  awk -F, -v m="$2" -v lv="$3" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $c["measure"] == m && $c["level"] + 0 == lv + 0 {
      it = $c["iterations"]; s = $c["seconds"]
      printf "%s/%s", (it == "" ? "-" : it + 0), (s == "" ? "-" : sprintf("%.1f", s)); found = 1 }
    END { if (!found) printf "-/-" }' "$dir/tables/reach.csv"
}
peak_rss() {
  h5dump -y -w 0 -d /epochs/rss_mb "$1" | sed -n '/DATA {/,/}/p' | grep -o '[0-9][0-9.e+-]*' |
    sort -g | tail -n 1
}

echo "# full MNIST 784-256-256-10, $ranks ranks, 1 BLAS thread each; $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-28s %-14s %-14s %-14s %-14s %-10s %s\n' run "90% test e/s" "95% test e/s" "90% val e/s" "95% val e/s" "s/epoch" "peak RSS MiB"
while read -r name epochs args; do
  [ -n "$name" ] || continue
  # shellcheck disable=SC2086 # args is a word list
  mpiexec.mpich -n "$ranks" "$train" --data mnist --layers 784,256,256,10 --epochs "$epochs" --patience 0 --eval-train 0 \
    --checkpoint none --force --output "$out/$name.h5" $args >"$out/$name.log" 2>&1 </dev/null ||
    { echo "bench-bcd-batches: $name failed:" >&2; tail -3 "$out/$name.log" >&2; continue; }
  printf '%-28s %-14s %-14s %-14s %-14s %-10.3f %s\n' "$name" "$(reach "$out/$name.h5" test_acc 90)" \
    "$(reach "$out/$name.h5" test_acc 95)" "$(reach "$out/$name.h5" val_acc 90)" \
    "$(reach "$out/$name.h5" val_acc 95)" "$(median_iteration_seconds "$out/$name.h5")" "$(peak_rss "$out/$name.h5")"
done < <(
  echo "bcd-anderson-0 $EPOCHS_FULL --anderson 0"
  echo "bcd-default $EPOCHS_FULL"
  for B in $BATCHES; do echo "bcd-batches-$B $EPOCHS_BATCHES --bcd-batches $B"; done
)
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg); results files in $out"
