#!/usr/bin/env bash
# --arch resnet, --data regression and --data csv end to end (issue 16): bad input (one
# line naming the option or file, every rank exits non-zero, no results file), the residual
# network and the squared loss trained by the gradient methods, 1 against 2 ranks, the same
# bits for the same seed, /config recording the architecture, and the MSE columns.
# Usage: test_resnet.sh ADMM_TRAIN TEST_GRADIENT_F64 MPIEXEC
set -u
train=$(realpath "$1") h5tool=$(realpath "$2") mpiexec=$3
source "$(dirname "$(realpath "$0")")/harness.sh"

res=(--arch resnet --blocks 2 --width 12 --layers 16,4 --data synthetic --n-train 400 --n-test 100 --validation 50 --quiet 1)
reg=(--data regression --layers 6,1 --n-train 400 --n-test 100 --validation 50 --quiet 1)
printf 'a,b,y\n1,2,3\n4,x,6\n' > notnum.csv
printf 'a,b,y\n1,2,3\n4,5\n' > ragged.csv
printf '0.5 1 2\n' > tiny.csv
printf 'a,b,y\n1,2,3\n4,5,6\n' > abc.csv

expect_error "resnet: MLP-only method" "option --arch resnet: --method bcd trains the MLP only" 2 "${res[@]}"
expect_error "resnet: --layers with hidden widths" "option --layers: with --arch resnet it gives only" 2 "${res[@]}" --method adam --layers 16,8,4
expect_error "mlp: --blocks" "option --blocks: applies to --arch resnet only" 2 --method adam --blocks 3
expect_error "resnet: --init pairs" "option --init pairs" 2 "${res[@]}" --method adam --init pairs
expect_error "regression: classifier-only method" "option --data regression: --method bcd trains classifiers only" 2 "${reg[@]}"
expect_error "regression: cross-entropy" "option --loss: --data regression fits real targets" 2 "${reg[@]}" --method adam --loss cross-entropy
expect_error "csv: no --csv" "option --data csv needs --csv PATH" 2 --data csv --layers 2,1 --method adam
expect_error "csv: --csv without --data csv" "option --csv: goes with --data csv" 2 --csv notnum.csv --method adam
expect_error "csv: missing file" "--csv nope.csv: cannot open" 2 --data csv --csv nope.csv --layers 2,1 --method adam
expect_error "csv: not a number" "--csv notnum.csv: line 3, field 2 ('x') is not a finite number" 2 --data csv --csv notnum.csv --layers 2,1 --method adam
expect_error "csv: ragged row" "--csv ragged.csv: line 3 has 2 fields, the first row has 3" 2 --data csv --csv ragged.csv --layers 2,1 --method adam
expect_error "csv: unknown target" "option --target z: abc.csv has no such column (3 columns, 0-based; names: a b y)" 2 --data csv --csv abc.csv --target z --layers 2,1 --method adam
expect_error "csv: input count" "--csv tiny.csv: 2 input columns (besides the target) but --layers starts with 5" 2 --data csv --csv tiny.csv --layers 5,1 --method adam
expect_error "csv: too few rows" "--csv tiny.csv: 1 rows leave no training rows" 2 --data csv --csv tiny.csv --layers 2,1 --method adam --n-test 1

# The residual network trained by Adam: 1 and 2 ranks agree (same global batches), the same
# seed gives the same bits, /config records the architecture.
run 1 "${res[@]}" --method adam --lr 0.01 --epochs 4 --output a1.h5 >/dev/null 2>&1
run 2 "${res[@]}" --method adam --lr 0.01 --epochs 4 --output a2.h5 >/dev/null 2>&1
run 2 "${res[@]}" --method adam --lr 0.01 --epochs 4 --output a2b.h5 >/dev/null 2>&1
"$mpiexec" -n 1 "$h5tool" h5cmp a1.h5 a2.h5 1e-10 >/dev/null && ok "resnet adam: 1 and 2 ranks agree to 1e-10" || bad "resnet adam: 1 vs 2 ranks"
"$mpiexec" -n 1 "$h5tool" h5cmp a2.h5 a2b.h5 0 >/dev/null && ok "resnet adam: same seed, same bits" || bad "resnet adam: same bits"
"$mpiexec" -n 1 "$h5tool" h5learn a2.h5 0.5 >/dev/null && ok "resnet adam learns (test accuracy above 0.5)" || bad "resnet adam learns"
[ "$(attr a1.h5 /config/arch)" = resnet ] && [ "$(attr a1.h5 /config/blocks)" = 2 ] && [ "$(attr a1.h5 /config/width)" = 12 ] &&
  [ "$(attr a1.h5 /config/layers)" = "16,12,12,12,4" ] && ok "/config records the architecture" ||
  bad "/config records the architecture ($(attr a1.h5 /config/arch) $(attr a1.h5 /config/layers))"
run 1 --config a1.h5 --output a1r.h5 >/dev/null 2>&1
"$mpiexec" -n 1 "$h5tool" h5cmp a1.h5 a1r.h5 0 >/dev/null && ok "resnet run replays from its /config" || bad "resnet replay"

# Regression: the squared loss by Adam on the residual network, 1 against 2 ranks; the MSE
# columns and the final test MSE; least squares (a linear layer solved exactly) as the
# reference it must beat on this non-linear function.
run 1 "${reg[@]}" --arch resnet --blocks 2 --width 16 --method adam --batch 32 --lr 0.01 --epochs 30 --output r1.h5 >/dev/null 2>&1
run 2 "${reg[@]}" --arch resnet --blocks 2 --width 16 --method adam --batch 32 --lr 0.01 --epochs 30 --output r2.h5 >/dev/null 2>&1
run 2 "${reg[@]}" --method random-features --output ls.h5 >/dev/null 2>&1
"$mpiexec" -n 1 "$h5tool" h5cmp r1.h5 r2.h5 1e-9 >/dev/null && ok "regression adam: 1 and 2 ranks agree" || bad "regression adam: 1 vs 2 ranks"
mse=$(attr r2.h5 /final_test_mse) lsq=$(attr ls.h5 /final_test_mse)
awk -v a="$mse" -v b="$lsq" 'BEGIN { exit !(a > 0 && b > 0 && a < b) }' && ok "regression: resnet adam test MSE $mse below least squares $lsq" ||
  bad "regression: resnet adam test MSE $mse vs least squares $lsq"
[ "$(attr r2.h5 /config/loss)" = least-squares ] && ok "regression trains the squared loss" || bad "regression loss"
acc=$(h5dump -d /epochs/test_acc r2.h5 2>/dev/null | grep -c nan)
[ "$acc" -ge 1 ] && ok "regression: accuracy is NaN" || bad "regression: accuracy is NaN"

# CSV: a table written here (comma separated, header, target named); linear targets plus
# noise, so least squares fits them to about the noise.
awk 'BEGIN { srand(3); print "u,v,w,target"; for (i = 0; i < 300; i++) { u = rand(); v = rand(); w = rand();
  printf "%.6f,%.6f,%.6f,%.6f\n", u, v, w, 2 * u - v + 0.5 * w + 0.01 * (rand() - 0.5) } }' > lin.csv
run 2 --data csv --csv lin.csv --target target --layers 3,1 --method random-features --output c.h5 >/dev/null 2>&1
mse=$(attr c.h5 /final_test_mse)
awk -v a="$mse" 'BEGIN { exit !(a >= 0 && a < 1e-3) }' && ok "csv: least squares fits a linear table (test MSE $mse)" || bad "csv: linear table test MSE $mse"
[ "$(attr c.h5 /n_train)" -gt 0 ] && [ $(( $(attr c.h5 /n_train) + $(attr c.h5 /n_val) + $(attr c.h5 /n_test) )) = 300 ] &&
  ok "csv: every row in one split" || bad "csv: split sizes"

# resnet-admm: refused on the MLP, its options refused elsewhere; 1 against 2 ranks (the same
# iterates up to the order of the sums over samples), the same bits for the same seed, both
# splittings, classification and regression.
expect_error "resnet-admm: MLP" "option --method resnet-admm: trains the residual network only" 2 --method resnet-admm --data synthetic --layers 16,8,4
expect_error "--splitting elsewhere" "option --splitting: does not apply to --method adam" 2 "${res[@]}" --method adam --splitting 2
for sp in 2 3; do
  run 1 "${res[@]}" --method resnet-admm --splitting $sp --epochs 5 --patience 0 --output ra$sp-1.h5 >/dev/null 2>&1
  run 2 "${res[@]}" --method resnet-admm --splitting $sp --epochs 5 --patience 0 --output ra$sp-2.h5 >/dev/null 2>&1
  run 2 "${res[@]}" --method resnet-admm --splitting $sp --epochs 5 --patience 0 --output ra$sp-2b.h5 >/dev/null 2>&1
  "$mpiexec" -n 1 "$h5tool" h5cmp ra$sp-1.h5 ra$sp-2.h5 1e-8 >/dev/null && ok "resnet-admm --splitting $sp: 1 and 2 ranks agree to 1e-8" || bad "resnet-admm --splitting $sp: 1 vs 2 ranks"
  "$mpiexec" -n 1 "$h5tool" h5cmp ra$sp-2.h5 ra$sp-2b.h5 0 >/dev/null && ok "resnet-admm --splitting $sp: same seed, same bits" || bad "resnet-admm --splitting $sp: same bits"
  run 2 "${reg[@]}" --arch resnet --blocks 2 --width 16 --method resnet-admm --splitting $sp --epochs 40 --patience 0 --output rr$sp.h5 >/dev/null 2>&1
  mse=$(attr rr$sp.h5 /final_test_mse) first=$(h5dump -d /epochs/test_mse rr$sp.h5 2>/dev/null | sed -n 's/^ *(0): *\([^,]*\),.*/\1/p')
  lsq=$(attr ls.h5 /final_test_mse)
  awk -v a="$mse" -v b="$first" -v c="$lsq" 'BEGIN { exit !(a > 0 && a < b && a < c) }' &&
    ok "resnet-admm --splitting $sp regression: test MSE $first (first iteration) -> $mse, below least squares $lsq" ||
    bad "resnet-admm --splitting $sp regression: test MSE $first (first iteration) -> $mse, least squares $lsq"
done

# resnet-admm checkpoints its V, U and multipliers: 2 iterations, a checkpoint, a resume to 4
# gives the bits of 4 straight iterations.
run 2 "${res[@]}" --method resnet-admm --epochs 4 --patience 0 --output st.h5 >/dev/null 2>&1
run 2 "${res[@]}" --method resnet-admm --epochs 2 --patience 0 --checkpoint ck.h5 --checkpoint-every 1 --output p1.h5 >/dev/null 2>&1
run 2 "${res[@]}" --method resnet-admm --epochs 4 --patience 0 --resume ck.h5 --output p2.h5 >resume.log 2>&1
"$mpiexec" -n 1 "$h5tool" h5cmp st.h5 p2.h5 0 >/dev/null && ok "resnet-admm: resumed from a checkpoint, the same bits as straight" ||
  { bad "resnet-admm: resume differs from the straight run"; tail -2 resume.log; }

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
