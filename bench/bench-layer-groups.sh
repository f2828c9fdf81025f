#!/usr/bin/env bash
# resnet-admm --layer-groups G against the serial run (G = 1 on 1 rank) of the same network and
# data (issue 16 item 3): for G = 1, 2, 4, .. up to the rank cap and the L = K + 2 layers, one
# run on G ranks (D = 1), plus G = 1 on the same rank count (plain data parallelism, the other
# way to use those cores). Prints the median seconds per iteration (t_epoch: the training step,
# max over ranks), the peak RSS per rank (largest rank, last iteration), the speed-up and memory
# ratio against G = 1 on 1 rank, and the test MSE. Every rank runs one BLAS thread, so a rank is
# a core and the serial run is one core's.
#
#   bash bench/bench-layer-groups.sh [RANK_CAP] [OUTDIR]
#
# RANK_CAP (default 2) caps G and the rank count; OUTDIR (default a temporary folder, removed)
# keeps the results files for admm-analyze (tables/layer-groups-{time,memory}). Environment:
#   ADMM_TRAIN       the admm-train binary (default build/jobs/admm-train)
#   MPIEXEC          launcher, called as MPIEXEC MPIEXEC_FLAGS -n N ADMM_TRAIN ... (default mpiexec.mpich)
#   MPIEXEC_FLAGS    extra launcher flags (e.g. --bind-to core on a 16-core node)
#   BENCH_K          residual blocks (default 4; up to 16 on a large node)
#   BENCH_WIDTH      block width n (default 64)
#   BENCH_N          training samples (default 8192; the memory scales with it)
#   BENCH_EPOCHS     iterations per run (default 6)
#   BENCH_SCHEDULE   jacobi (default) or odd-even
#   BENCH_SPLITTING  2 or 3 (default 3)
#   BENCH_ARGS       anything else for admm-train (e.g. --data mnist --layers 784,10 --n-train 12000)
# Default run: 4 runs of a few seconds each (about 1 minute on 2 idle cores).
set -u
cap=${1:-2} out=${2:-}
here=$(cd "$(dirname "$0")/.." && pwd)
train=${ADMM_TRAIN:-$here/build/jobs/admm-train}
mpiexec=${MPIEXEC:-mpiexec.mpich}
read -r -a flags <<< "${MPIEXEC_FLAGS:-}"
read -r -a extra <<< "${BENCH_ARGS:-}"
K=${BENCH_K:-4} width=${BENCH_WIDTH:-64} N=${BENCH_N:-8192} epochs=${BENCH_EPOCHS:-6}
schedule=${BENCH_SCHEDULE:-jacobi} splitting=${BENCH_SPLITTING:-3}
[ -x "$train" ] || { echo "bench-layer-groups: no admm-train at $train (set ADMM_TRAIN)" >&2; exit 2; }
case $cap in ''|*[!0-9]*|0) echo "bench-layer-groups: RANK_CAP must be a positive integer, not '$cap'" >&2; exit 2 ;; esac
if [ -n "$out" ]; then mkdir -p "$out" || exit 2; keep=1; else out=$(mktemp -d); keep=0; fi
[ $keep = 1 ] || trap 'rm -rf "$out"' EXIT
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
L=$((K + 2))
net=(--method resnet-admm --arch resnet --blocks "$K" --width "$width" --data regression --layers 8,1
     --n-train "$N" --n-test 1024 --validation 0 --epochs "$epochs" --patience 0 --quiet 1
     --splitting "$splitting" "${extra[@]}")

# median t_epoch, max rss_mb of the last row, final test MSE of one results file
figures() {
  local f=$1
  local t rss mse
  # the data line only (the attributes' lines also start with "(0): ")
  t=$(h5dump -d /epochs/t_epoch -w 0 "$f" | sed -n 's/^ *(0): //p' | head -n 1 | tr ',' '\n' | sort -g |
      awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
  rss=$(h5dump -d /epochs/rss_mb -w 0 "$f" | sed -n 's/^ *([0-9]*,0): //p' | tail -n 1 | tr ',' '\n' |
        awk 'NF { if ($1 > m) m = $1 } END { print m }')
  mse=$(h5dump -a /final_test_mse "$f" | sed -n 's/^ *(0): //p')
  echo "$t $rss $mse"
}

run() { # NAME RANKS ARGS...
  local name=$1 np=$2; shift 2
  "$mpiexec" "${flags[@]}" -n "$np" "$train" "${net[@]}" "$@" --output "$out/$name.h5" --force >"$out/$name.log" 2>&1 ||
    { echo "bench-layer-groups: $name failed:" >&2; tail -3 "$out/$name.log" >&2; return 1; }
}

echo "# resnet-admm, K = $K blocks (L = $L layers), width $width, $N samples, splitting $splitting, $schedule," \
     "$epochs iterations, 1 BLAS thread per rank; $(nproc --all) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-3s %-3s %-5s %-10s %-12s %-10s %-11s %-9s %s\n' G D ranks schedule s/iteration speed-up rss_MiB rss_ratio test_mse
run serial 1 || exit 1
read -r t1 r1 m1 <<< "$(figures "$out/serial.h5")"
printf '%-3s %-3s %-5s %-10s %-12s %-10s %-11s %-9s %s\n' 1 1 1 - "$t1" 1.00 "$r1" 1.00 "$m1"
for ((G = 2; G <= cap && G <= L; G *= 2)); do
  for g in 1 $G; do
    if [ $g = 1 ]; then run "dp$G" $G || continue; f=$out/dp$G.h5 sch=- D=$G
    else run "lg$G" $G --layer-groups $G --group-schedule "$schedule" || continue; f=$out/lg$G.h5 sch=$schedule D=1; fi
    read -r t r m <<< "$(figures "$f")"
    printf '%-3s %-3s %-5s %-10s %-12s %-10s %-11s %-9s %s\n' $g $D $G "$sch" "$t" \
      "$(awk -v a="$t1" -v b="$t" 'BEGIN { printf "%.2f", a / b }')" "$r" \
      "$(awk -v a="$r" -v b="$r1" 'BEGIN { printf "%.2f", a / b }')" "$m"
  done
done
[ $keep = 1 ] && echo "# results files in $out (admm-analyze $out --out DIR: tables/layer-groups-*)"
exit 0
