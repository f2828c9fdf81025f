#!/usr/bin/env bash
# Anderson acceleration (--anderson M, solver/anderson.h) against the plain fixed-point methods,
# on MNIST 784-256-256-10: for each method and memory M, the iterations needed to reach the
# objective the plain method (M = 0) reaches at its last iteration, how many accelerated
# points the safeguard kept, and the kept model's validation and test accuracy (kept by
# validation; test only reported) next to the floor of the same initialisation
# (--method random-features). Each method's default M is chosen on the validation column.
#
#   bench/bench-anderson.sh [RANKS] [OUT_DIR]      (from the repository root, after a build)
#
# env METHODS (default "dladmm bcd"), MEMS (default "0 3 8"), EPOCHS (50), N_TRAIN (10000: the
# first 10,000 training samples, of which VALIDATION = 2000 for validation; 0 = all 60,000).
# On this loaded 2-core machine: about 12 minutes wall, 2 ranks, with the defaults.
set -euo pipefail
ranks=${1:-2}
out=${2:-results/bench-anderson}
train=${ADMM_TRAIN:-build/jobs/admm-train}
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
METHODS=${METHODS:-dladmm bcd}
MEMS=${MEMS:-0 3 8}
EPOCHS=${EPOCHS:-50}
N_TRAIN=${N_TRAIN:-10000}
VALIDATION=${VALIDATION:-2000}
mkdir -p "$out"
base=(--data mnist --layers 784,256,256,10 --n-train "$N_TRAIN" --validation "$VALIDATION" --eval-train 0
      --checkpoint none --patience 0 --force)
# run NAME ARGS...: one training run into $out/NAME.h5 and its console lines into $out/NAME.log
run() {
  local name=$1; shift
  mpiexec.mpich -n "$ranks" "$train" "${base[@]}" "$@" --output "$out/$name.h5" >"$out/$name.log" 2>&1 </dev/null ||
    { echo "bench-anderson: $name failed:" >&2; tail -3 "$out/$name.log" >&2; return 1; }
}
# field LOG KEY: the values of key= on the per-epoch lines, one per line
field() { sed -n "s/^epoch=[0-9]* .*\\b$2=\\([^ ]*\\).*/\\1/p" "$1"; }
final() { sed -n "s/^final: .*\\b$2=\\([^ ]*\\).*/\\1/p" "$1"; }
# first_at_most LOG TARGET: the first epoch whose objective is <= TARGET ("-" when none)
first_at_most() { field "$1" objective | awk -v t="$2" '$1 + 0 <= t + 0 { print NR; found = 1; exit } END { if (!found) print "-" }'; }
accepted() { # kept/tried accelerated points, from the final note
  sed -n 's/^anderson: M=[0-9]*, accelerated points kept \([0-9]*\) of \([0-9]*\) tried/\1\/\2/p' "$1"
}
pct() { awk -v v="$1" 'BEGIN { printf "%.2f", 100 * v }'; }

printf "MNIST 784-256-256-10, n_train %s (validation %s), %s ranks, %s iterations, float64\n" "$N_TRAIN" "$VALIDATION" \
  "$ranks" "$EPOCHS"
printf "| method | M | objective at %s | iterations to plain's objective at %s | speed-up | kept/tried | val %% (epoch) | test %% | floor val %% | floor test %% | t_train s |\n" "$EPOCHS" "$EPOCHS"
printf "|---|---|---|---|---|---|---|---|---|---|---|\n"
for method in $METHODS; do
  case $method in
    dladmm) init=he ;;
    *) init=pairs ;;
  esac
  run "floor-$method" --method random-features --init "$init" --epochs "$EPOCHS"
  floor=$out/floor-$method.log
  target=
  for M in $MEMS; do
    run "$method-m$M" --method "$method" --init "$init" --epochs "$EPOCHS" --anderson "$M"
    log=$out/$method-m$M.log
    last=$(field "$log" objective | tail -n 1)
    [ -n "$target" ] || target=$last # the first M of MEMS is the reference (0)
    iters=$(first_at_most "$log" "$target")
    speed=$( [ "$iters" = "-" ] && echo "-" || awk -v a="$EPOCHS" -v b="$iters" 'BEGIN { printf "%.1fx", a / b }')
    printf "| %s | %s | %s | %s | %s | %s | %s (%s) | %s | %s | %s | %s |\n" "$method" "$M" "$last" "$iters" "$speed" \
      "$(accepted "$log")" "$(pct "$(final "$log" val_acc)")" "$(final "$log" best_epoch)" \
      "$(pct "$(final "$log" test_acc)")" "$(pct "$(final "$floor" val_acc)")" "$(pct "$(final "$floor" test_acc)")" \
      "$(final "$log" train_time | tr -d s)"
  done
done
