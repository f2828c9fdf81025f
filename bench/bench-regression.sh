#!/usr/bin/env bash
# The regression table of issue 16: on --data regression and on the two tables Debian's
# python3-sklearn ships (diabetes 442 x 10, Boston housing 506 x 13; README, Regression data),
# the test MSE of the kept (lowest validation MSE) model of: least squares (a linear layer solved
# exactly: --method random-features with no hidden layer), Adam and SGD (back-propagation) and
# resnet-admm with 2- and 3-splitting, all on the same FCResNet (--blocks K --width n, ReLU) from
# the same initialisation. Test MSE only reports; every default was set on validation. Prints a
# Markdown table.
#
#   bench/bench-regression.sh [RANKS] [OUT_DIR]      (from the repository root, after a build)
#
# env BLOCKS (4), WIDTH (32), EPOCHS (iterations of resnet-admm and epochs of the gradient
# methods, 200), SEED (1). A few minutes on 2 cores.
set -euo pipefail
ranks=${1:-2}
out=${2:-results/bench-regression}
train=${ADMM_TRAIN:-build/jobs/admm-train}
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
BLOCKS=${BLOCKS:-4} WIDTH=${WIDTH:-32} EPOCHS=${EPOCHS:-200} SEED=${SEED:-1}
sk=/usr/lib/python3/dist-packages/sklearn/datasets/data
mkdir -p "$out"
attr() { h5dump -a "/$2" "$1" 2>/dev/null | sed -n 's/.*(0): "\{0,1\}\([^"]*\)"\{0,1\}$/\1/p'; }
# run NAME ARGS...: one run into $out/NAME.h5; a run that fails (a divergence) leaves no file
# and its row says so
run() {
  local name=$1; shift
  rm -f "$out/$name.h5"
  mpiexec.mpich -n "$ranks" "$train" "$@" --seed "$SEED" --quiet 1 --force --output "$out/$name.h5" \
    >"$out/$name.log" 2>&1 </dev/null || echo "bench-regression: $name failed: $(grep -m1 'error:' "$out/$name.log")" >&2
}
declare -A data
data[regression]="--data regression --layers 8,1"
if [ -r "$sk/diabetes_data_raw.csv.gz" ]; then
  paste -d' ' <(zcat "$sk/diabetes_data_raw.csv.gz") <(zcat "$sk/diabetes_target.csv.gz") > "$out/diabetes.txt"
  data[diabetes]="--data csv --csv $out/diabetes.txt --layers 10,1"
fi
[ -r "$sk/boston_house_prices.csv" ] && data[boston]="--data csv --csv $sk/boston_house_prices.csv --csv-skip 1 --target MEDV --layers 13,1"
net=(--arch resnet --blocks "$BLOCKS" --width "$WIDTH")
echo "| data | method | epochs (kept) | val MSE | test MSE | train time (s) |"
echo "|---|---|---|---|---|---|"
for d in regression diabetes boston; do
  [ -n "${data[$d]:-}" ] || { echo "| $d | (not installed: apt-get install python3-sklearn) | | | | |"; continue; }
  read -r -a dd <<< "${data[$d]}"
  run "$d-lsq" "${dd[@]}" --method random-features
  run "$d-adam" "${dd[@]}" "${net[@]}" --method adam --batch 32 --lr 0.001 --epochs "$EPOCHS" --patience 20
  run "$d-sgd" "${dd[@]}" "${net[@]}" --method gd --batch 32 --lr 0.01 --epochs "$EPOCHS" --patience 20
  run "$d-radmm2" "${dd[@]}" "${net[@]}" --method resnet-admm --splitting 2 --epochs "$EPOCHS" --patience 20
  run "$d-radmm3" "${dd[@]}" "${net[@]}" --method resnet-admm --splitting 3 --epochs "$EPOCHS" --patience 20
  for m in lsq adam sgd radmm2 radmm3; do
    f="$out/$d-$m.h5"
    case $m in lsq) label="least squares (linear)";; adam) label="adam, batch 32";; sgd) label="gd (SGD), batch 32, lr 0.01";;
      radmm2) label="resnet-admm --splitting 2";; radmm3) label="resnet-admm --splitting 3";; esac
    [ -f "$f" ] || { echo "| $d | $label | failed: $(grep -m1 -o 'diverged[^(]*' "$out/$d-$m.log") | | | |"; continue; }
    printf "| %s | %s | %s (%s) | %.4f | %.4f | %.2f |\n" "$d" "$label" "$(attr "$f" epochs_run)" "$(attr "$f" best_epoch)" \
      "$(attr "$f" final_val_mse)" "$(attr "$f" final_test_mse)" "$(attr "$f" train_time_s)"
  done
done
