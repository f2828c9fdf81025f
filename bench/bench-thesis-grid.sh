#!/usr/bin/env bash
# MNIST accuracy of ADMM (--method admm) over the thesis's hyper-parameter grid (beta x gamma x
# warm-up, bench/sweeps/thesis-grid.txt), each point an independent 1-rank run, PARALLEL at a time.
# The table is sorted, and the best point chosen, by validation accuracy (final_val_acc); test
# accuracy is only reported.
#
#   bench/bench-thesis-grid.sh [OUTDIR] [PARALLEL]
#
# OUTDIR    results folder [results/thesis-grid]: OUTDIR/b{B}_g{G}_w{W}.h5 and .log per point,
#           OUTDIR/results.tsv (one row per finished point, appended as points finish) and
#           OUTDIR/table.txt (the sorted table printed at the end).
# PARALLEL  concurrent runs [nproc]; each run is one MPI rank with one BLAS thread.
#
# Fixed configuration (the thesis's): --layers 784,256,256,10 --init he --epochs 50
# --patience 5 --validation 5000 --seed 1, plus --eval-train 0 --quiet 1 to save time.
#
# Environment (all optional):
#   GRID_FILE    points, one "beta gamma warmup" a line [bench/sweeps/thesis-grid.txt]
#   ADMM_TRAIN   trainer binary [build/jobs/admm-train]
#   MPIEXEC      launcher prefix [mpiexec.mpich -n 1]; empty runs the binary as an MPI
#                singleton; any prefix works (e.g. "ld.so --library-path DIR" for carried libs)
#   H5DUMP       h5dump command [h5dump]; without one the values come from the run's "final:" line
#   SEED         [1]    EPOCHS [50]    PATIENCE [5]    VALIDATION [5000]
#   EXTRA_ARGS   more trainer options (e.g. "--data-dir DIR")
#   DEADLINE_S   wall-clock budget in seconds from the start (0: none): points not started
#                by then are skipped, runs still going are stopped (status timeout)
#   MIN_START_S  do not start a point with less than this many seconds left [60]
#   ORDER        launch order: long-first (larger warm-up first; warm-up epochs add to the
#                run's length) or file [long-first]
# Points already in OUTDIR/results.tsv with status ok are not run again (resume).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUTDIR=${1:-results/thesis-grid}
PARALLEL=${2:-$(nproc 2>/dev/null || echo 1)}
GRID_FILE=${GRID_FILE:-$ROOT/bench/sweeps/thesis-grid.txt}
ADMM_TRAIN=${ADMM_TRAIN:-$ROOT/build/jobs/admm-train}
MPIEXEC=${MPIEXEC-mpiexec.mpich -n 1}
H5DUMP=${H5DUMP-h5dump}
SEED=${SEED:-1} EPOCHS=${EPOCHS:-50} PATIENCE=${PATIENCE:-5} VALIDATION=${VALIDATION:-5000}
EXTRA_ARGS=${EXTRA_ARGS:-}
DEADLINE_S=${DEADLINE_S:-0} MIN_START_S=${MIN_START_S:-60}
ORDER=${ORDER:-long-first}

case $PARALLEL in '' | *[!0-9]* | 0) echo "PARALLEL must be a positive integer, not '$PARALLEL'" >&2; exit 2 ;; esac
[ -f "$GRID_FILE" ] || { echo "no grid file $GRID_FILE" >&2; exit 2; }
[ -x "$ADMM_TRAIN" ] || { echo "no trainer at $ADMM_TRAIN (build it first)" >&2; exit 2; }
mkdir -p "$OUTDIR" || exit 2
OUTDIR=$(cd "$OUTDIR" && pwd)
TSV=$OUTDIR/results.tsv
HEADER=$'beta\tgamma\twarmup\tval_acc\ttest_acc\tbest_epoch\tepochs_run\ttrain_time_s\tstop_reason\tstatus\twall_s'
[ -s "$TSV" ] || printf '%s\n' "$HEADER" >"$TSV"
START=$(date +%s)
export ROOT OUTDIR TSV ADMM_TRAIN MPIEXEC H5DUMP SEED EPOCHS PATIENCE VALIDATION EXTRA_ARGS \
  DEADLINE_S MIN_START_S START

# One root attribute of a results file, or nothing.
h5attr() {
  [ -n "$H5DUMP" ] || return 0
  $H5DUMP -a "/$1" "$2" 2>/dev/null | awk '/\(0\):/ { v = $2; gsub(/"/, "", v); print v; exit }'
}
# key=value from the run's "final:" line, or nothing.
finalkey() { awk -v k="$1" '/^final:/ { for (i = 2; i <= NF; i++) if (index($i, k "=") == 1) { v = substr($i, length(k) + 2); sub(/s$/, "", v); print v } }' "$2"; }

run_point() {
  local b=$1 g=$2 w=$3 name rc t0 t1 left
  name=b${b}_g${g}_w${w}
  if awk -v b="$b" -v g="$g" -v w="$w" -F'\t' '$1 == b && $2 == g && $3 == w && $10 == "ok" { f = 1 } END { exit !f }' "$TSV"; then
    echo "$name: already in $TSV"
    return 0
  fi
  local tlimit=()
  if [ "$DEADLINE_S" -gt 0 ]; then
    left=$((START + DEADLINE_S - $(date +%s)))
    if [ "$left" -lt "$MIN_START_S" ]; then
      printf '%s\t%s\t%s\t-\t-\t-\t-\t-\t-\tskipped\t0\n' "$b" "$g" "$w" >>"$TSV"
      echo "$name: skipped (${left}s left)"
      return 0
    fi
    tlimit=(timeout "$left")
  fi
  local h5=$OUTDIR/$name.h5 log=$OUTDIR/$name.log
  rm -f "$h5"
  t0=$(date +%s)
  # shellcheck disable=SC2086 # MPIEXEC and EXTRA_ARGS are word lists
  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "${tlimit[@]}" $MPIEXEC "$ADMM_TRAIN" \
    --method admm --layers 784,256,256,10 --init he --beta "$b" --gamma "$g" --warmup "$w" \
    --epochs "$EPOCHS" --patience "$PATIENCE" --validation "$VALIDATION" --seed "$SEED" \
    --eval-train 0 --quiet 1 $EXTRA_ARGS --output "$h5" >"$log" 2>&1
  rc=$?
  t1=$(date +%s)
  local val acc be er tt stop status=ok
  val=$(h5attr final_val_acc "$h5"); acc=$(h5attr final_test_acc "$h5"); be=$(h5attr best_epoch "$h5"); er=$(h5attr epochs_run "$h5")
  tt=$(h5attr train_time_s "$h5"); stop=$(h5attr stop_reason "$h5")
  [ -n "$val" ] || val=$(finalkey val_acc "$log")
  [ -n "$acc" ] || acc=$(finalkey test_acc "$log")
  [ -n "$be" ] || be=$(finalkey best_epoch "$log")
  [ -n "$er" ] || er=$(finalkey epochs_run "$log")
  [ -n "$tt" ] || tt=$(finalkey train_time "$log")
  [ -n "$stop" ] || stop=$(finalkey stop "$log")
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then status=timeout
  elif [ "$rc" -ne 0 ] || [ -z "$acc" ]; then status=failed
  fi
  # One short write, appended whole by concurrent workers.
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$b" "$g" "$w" "${val:--}" "${acc:--}" "${be:--}" "${er:--}" \
    "${tt:--}" "${stop:--}" "$status" "$((t1 - t0))" >>"$TSV"
  echo "$name: $status val_acc=${val:--} test_acc=${acc:--} best_epoch=${be:--} epochs_run=${er:--} train_time=${tt:--}s wall=$((t1 - t0))s"
  [ "$status" = ok ] || tail -n 3 "$log" | sed "s/^/  $name: /"
}
export -f run_point h5attr finalkey

points() {
  local pts
  pts=$(awk '!/^[[:space:]]*(#|$)/ { print $1, $2, $3 }' "$GRID_FILE")
  if [ "$ORDER" = long-first ]; then printf '%s\n' "$pts" | sort -s -k3,3nr; else printf '%s\n' "$pts"; fi
}
NPTS=$(points | wc -l)
echo "grid: $NPTS points from $GRID_FILE, $PARALLEL at a time, results in $OUTDIR" \
  "(launcher: ${MPIEXEC:-singleton}; deadline: ${DEADLINE_S}s)"
points | xargs -P "$PARALLEL" -L 1 bash -c 'run_point "$@"' _
WALL=$(($(date +%s) - START))

# Latest row per point, sorted by validation accuracy (points without one last).
{
  printf '%-5s %-5s %-6s %-9s %-9s %-10s %-10s %-12s %-12s %s\n' beta gamma warmup val_acc test_acc best_epoch epochs_run train_time_s stop_reason status
  awk -F'\t' 'NR > 1 { row[$1 " " $2 " " $3] = $0 } END { for (k in row) print row[k] }' "$TSV" |
    awk -F'\t' '{ print ($4 == "-" ? -1 : $4) "\t" $0 }' | sort -t$'\t' -k1,1gr -k2,2n -k3,3n -k4,4n | cut -f2- |
    awk -F'\t' '{ printf "%-5s %-5s %-6s %-9s %-9s %-10s %-10s %-12s %-12s %s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 }'
} >"$OUTDIR/table.txt"
cat "$OUTDIR/table.txt"
awk 'NR > 1 && $10 == "ok" { n++ } END { printf "finished points: %d of '"$NPTS"'\n", n }' "$OUTDIR/table.txt"
awk 'NR > 1 && $10 == "ok" { printf "best by validation: beta %s gamma %s warmup %s val_acc %s test_acc %s (%.2f%%) best_epoch %s epochs_run %s\n", $1, $2, $3, $4, $5, 100 * $5, $6, $7; exit }' "$OUTDIR/table.txt"
echo "wall time: ${WALL}s"
