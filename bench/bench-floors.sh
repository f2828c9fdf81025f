#!/usr/bin/env bash
# Every trained method next to its own floor: for each case (data set, layers, precision), each
# method trains with its defaults and the floor (--method random-features) starts from exactly
# the same network: the same --init and seed, the same biases, the output layer solved exactly
# for the same readout loss. Every figure is the kept (best-validation) model's; the test column
# only reports. Gradient methods train cross-entropy, which has no exact readout solve: their
# floor is the least-squares one of their initialisation (noted in the table).
#
#   bench/bench-floors.sh [RANKS] [OUT_DIR]      (from the repository root, after a build)
#
# env CASES replaces the cases below ("data layers precision bcd-sweeps admm-epochs grad-epochs"
# per line); METHODS (default "bcd admm adam momentum"); ADMM_ARGS (default the thesis's
# configuration: --beta 1 --gamma 1 --warmup 2). About 25 minutes on 2 cores.
set -euo pipefail
ranks=${1:-2}
out=${2:-results/bench-floors}
train=${ADMM_TRAIN:-build/jobs/admm-train}
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
METHODS=${METHODS:-bcd admm adam momentum}
ADMM_ARGS=${ADMM_ARGS:---beta 1 --gamma 1 --warmup 2}
CASES=${CASES:-"mnist 784,256,256,10 float64 40 50 20
mnist 784,2048,2048,10 float32 25 30 15
fashion-mnist 784,256,256,10 float64 30 50 20"}
mkdir -p "$out"
attr() { h5dump -a "/$2" "$1" 2>/dev/null | sed -n 's/.*(0): "\{0,1\}\([^"]*\)"\{0,1\}$/\1/p'; }
# run NAME ARGS...: one training run into $out/NAME.h5; prints nothing, fails loudly
run() {
  local name=$1; shift
  mpiexec.mpich -n "$ranks" "$train" "$@" --eval-train 0 --quiet 1 --force --output "$out/$name.h5" \
    >"$out/$name.log" 2>&1 </dev/null || { echo "bench-floors: $name failed:" >&2; tail -3 "$out/$name.log" >&2; return 1; }
}
pct() { awk -v v="$1" 'BEGIN { printf "%.2f", 100 * v }'; }
printf "| data | layers | prec | method | init, readout | epochs (kept) | val %% | test %% | floor val %% | floor test %% | gain (points) |\n"
printf "|---|---|---|---|---|---|---|---|---|---|---|\n"
while read -r data layers prec sweeps admm_epochs grad_epochs; do
  [ -n "$data" ] || continue
  base=(--data "$data" --layers "$layers" --precision "$prec")
  for m in $METHODS; do
    case $m in
      bcd) init=pairs loss=squared-hinge biases=yes margs=(--epochs "$sweeps" --patience 0) ;;
      # shellcheck disable=SC2206 # ADMM_ARGS is a word list
      admm) init=he loss=least-squares biases=no margs=(--epochs "$admm_epochs" $ADMM_ARGS) ;;
      *) init=he loss=least-squares biases=yes margs=(--epochs "$grad_epochs") ;;
    esac
    tag=$data-$layers-$prec
    run "$tag-$m" "${base[@]}" --method "$m" --init "$init" "${margs[@]}"
    floor=$tag-floor-$init-$loss-$biases
    [ -f "$out/$floor.h5" ] || run "$floor" "${base[@]}" --method random-features --init "$init" --loss "$loss" --biases "$biases"
    f=$out/$tag-$m.h5 g=$out/$floor.h5
    readout=$loss; [ "$m" = bcd ] || [ "$m" = admm ] || readout="cross-entropy (floor: least-squares)"
    printf "| %s | %s | %s | %s | %s, %s | %s (%s) | %s | %s | %s | %s | %+.2f |\n" "$data" "$layers" "$prec" "$m" "$init" \
      "$readout" "$(attr "$f" epochs_run)" "$(attr "$f" best_epoch)" "$(pct "$(attr "$f" final_val_acc)")" \
      "$(pct "$(attr "$f" final_test_acc)")" "$(pct "$(attr "$g" final_val_acc)")" "$(pct "$(attr "$g" final_test_acc)")" \
      "$(awk -v a="$(attr "$f" final_test_acc)" -v b="$(attr "$g" final_test_acc)" 'BEGIN { print 100 * (a - b) }')"
  done
done <<<"$CASES"
