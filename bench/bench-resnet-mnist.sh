#!/usr/bin/env bash
# Issue 16 item 4, the paper's experiments on this code: resnet-admm on MNIST (robustness to the
# initialisation, the seed and the penalty), its convergence (objective and residuals per
# iteration: is the decrease R-linear?) next to Adam and SGD on the same FCResNet, and the
# communication volume of layer groups against plain data parallelism. Prints Markdown tables.
#
#   bash bench/bench-resnet-mnist.sh [RANKS] [OUT_DIR] [PARTS]     (repository root, after a build)
#
# RANKS (2), OUT_DIR (results/bench-resnet-mnist: the results files and logs, kept; a run whose
# file is already there is not run again, so a second call only redraws the tables; FORCE=1
# reruns; TABLES_ONLY=1 runs nothing, a missing run's row says so),
# PARTS (a subset of "robust beta conv comm", default all):
#   robust  resnet-admm --splitting 2 and 3 x INITS x SEEDS at the default beta, next to Adam,
#           gd (mini-batch SGD) and the floor (random-features: the blocks frozen at --init, the
#           output layer solved exactly for the squared loss), each seed; the kept model is the
#           best validation accuracy; the test accuracy only reports. Mean and range over seeds.
#   beta    --resnet-beta BETAS (and --resnet-rho RHOS) at BETA_INIT, seed 1, both splittings.
#   conv    per iteration objective, residual_a, residual_z of one run per splitting (the MNIST
#           runs of robust at seed 1, BETA_INIT, and --data regression runs of REG_EPOCHS
#           iterations, no early stop), next to the training loss of Adam and SGD: a least
#           squares line through log(value) against the iteration over the last half of the
#           iterations: rate q (value ~ C q^k) and R^2 (1: the decrease is R-linear there).
#           The folder's log-scale figures: admm-analyze OUT_DIR/conv --out OUT_DIR/analyze.
#   comm    bytes sent per rank per iteration in the 16-core layer-groups bench's files
#           (LG_DIR/K*/{serial,lgG,dpD}.h5, bench-layer-groups.sh) against the formula.
# env: N_TRAIN (12000), VALIDATION (2000), N_TEST (0: all 10,000), BLOCKS (4), WIDTH (256),
# EPOCHS (iterations of resnet-admm and epochs of Adam and SGD, 20), SEEDS ("1 2"), INITS
# ("he xavier pytorch"), BETAS ("1 100"; 10, the default, is in robust), RHOS (""), BETA_INIT
# (he), BATCH (128), REG_EPOCHS (100), LG_DIR (lg-files/pack/layer-groups), ADMM_TRAIN,
# ADMM_ANALYZE, MPIEXEC (mpiexec.mpich). Every run has patience 0 (all EPOCHS iterations run).
# Default: 20 MNIST runs of 1 to 2 minutes on 2 loaded cores.
set -uo pipefail
ranks=${1:-2} out=${2:-results/bench-resnet-mnist} parts=${3:-robust beta conv comm}
train=${ADMM_TRAIN:-build/jobs/admm-train} analyze=${ADMM_ANALYZE:-build/analysis/admm-analyze}
mpiexec=${MPIEXEC:-mpiexec.mpich}
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
N_TRAIN=${N_TRAIN:-12000} VALIDATION=${VALIDATION:-2000} N_TEST=${N_TEST:-0}
BLOCKS=${BLOCKS:-4} WIDTH=${WIDTH:-256} EPOCHS=${EPOCHS:-20} SEEDS=${SEEDS:-1 2}
INITS=${INITS:-he xavier pytorch} BETAS=${BETAS:-1 100} RHOS=${RHOS:-} BETA_INIT=${BETA_INIT:-he}
BATCH=${BATCH:-128} REG_EPOCHS=${REG_EPOCHS:-100} LG_DIR=${LG_DIR:-lg-files/pack/layer-groups}
FORCE=${FORCE:-0} TABLES_ONLY=${TABLES_ONLY:-0}
[ -x "$train" ] || { echo "bench-resnet-mnist: no admm-train at $train (set ADMM_TRAIN)" >&2; exit 2; }
mkdir -p "$out/mnist" "$out/conv" || exit 2
has() { case " $parts " in *" $1 "*) return 0;; esac; return 1; }
mnist=(--data mnist --layers 784,10 --n-train "$N_TRAIN" --validation "$VALIDATION" --n-test "$N_TEST"
       --arch resnet --blocks "$BLOCKS" --width "$WIDTH")
attr() { h5dump -a "/$2" "$1" 2>/dev/null | sed -n 's/.*(0): "\{0,1\}\([^"]*\)"\{0,1\}$/\1/p'; }
# cells FILE DATASET: "row column value" per element of an /epochs dataset (column 0 for 1-D)
cells() { h5dump -d "/epochs/$2" -w 0 -m %.17g "$1" 2>/dev/null |
          awk '/DATA {/ { on = 1; next } on && /^ *}/ { exit } on' |
          awk 'BEGIN { RS = "(" } NR > 1 { split($0, a, "):"); m = split(a[1], ix, ","); r = ix[1]; c = m > 1 ? ix[2] : 0
               n = split(a[2], v, ","); for (i = 1; i <= n; i++) { g = v[i]; gsub(/[ \n}]/, "", g); if (g != "") print r, c++, g } }'; }
# series FILE DATASET: one value per line, per epoch (a 1-D /epochs dataset)
series() { cells "$1" "$2" | awk '{ print $3 }'; }
# run FILE ARGS...: one run into FILE (.h5), its log beside it; kept if already there
run() {
  local f=$1; shift
  [ "$FORCE" = 1 ] || [ ! -f "$f" ] || return 0
  [ "$TABLES_ONLY" = 1 ] && return 0
  rm -f "$f"
  "$mpiexec" -n "$ranks" "$train" "$@" --patience 0 --quiet 1 --force --output "$f" \
    >"${f%.h5}.log" 2>&1 </dev/null ||
    echo "bench-resnet-mnist: $(basename "$f") failed: $(grep -m1 'error:' "${f%.h5}.log")" >&2
}
echo "# $(date -u +%FT%TZ), $ranks ranks, 1 BLAS thread each; $(nproc --all) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- robustness on MNIST
radmm() { # SPLITTING INIT SEED BETA [RHO]: file name of that run, and runs it
  local f=$out/mnist/radmm$1-$2-s$3-b$4${5:+-r$5}.h5
  run "$f" "${mnist[@]}" --method resnet-admm --splitting "$1" --init "$2" --seed "$3" --resnet-beta "$4" \
    ${5:+--resnet-rho "$5"} --epochs "$EPOCHS"
  echo "$f"
}
# row LABEL FILES...: mean and range over the files of validation and test accuracy, kept iteration
row() {
  local label=$1; shift
  local f v t b n=0 rows=""
  for f in "$@"; do
    [ -f "$f" ] || continue
    v=$(attr "$f" final_val_acc) t=$(attr "$f" final_test_acc) b=$(attr "$f" best_epoch)
    rows+="$v $t $b"$'\n'; n=$((n + 1))
  done
  [ $n -gt 0 ] || { echo "| $label | 0 | (no run) | | |"; return; }
  printf '%s' "$rows" | awk -v label="$label" -v n=$n '
    NF { v[NR] = 100 * $1; t[NR] = 100 * $2; kept = kept (NR > 1 ? "," : "") $3
         sv += v[NR]; st += t[NR]
         if (NR == 1 || v[NR] < vmin) vmin = v[NR]; if (NR == 1 || v[NR] > vmax) vmax = v[NR]
         if (NR == 1 || t[NR] < tmin) tmin = t[NR]; if (NR == 1 || t[NR] > tmax) tmax = t[NR] }
    END { printf "| %s | %d | %.2f [%.2f, %.2f] | %.2f [%.2f, %.2f] | %s |\n",
                 label, n, sv / n, vmin, vmax, st / n, tmin, tmax, kept }'
}
if has robust || has conv; then
  for s in 2 3; do for i in $INITS; do for seed in $SEEDS; do radmm $s "$i" "$seed" 10 >/dev/null; done; done; done
  for seed in $SEEDS; do
    run "$out/mnist/adam-s$seed.h5" "${mnist[@]}" --method adam --init he --batch "$BATCH" --epochs "$EPOCHS" --seed "$seed"
    run "$out/mnist/sgd-s$seed.h5" "${mnist[@]}" --method gd --init he --batch "$BATCH" --epochs "$EPOCHS" --seed "$seed"
    for i in $INITS; do
      run "$out/mnist/floor-$i-s$seed.h5" "${mnist[@]}" --method random-features --loss least-squares --init "$i" --seed "$seed"
    done
  done
fi
if has robust; then
  echo
  echo "## Robustness on MNIST (first $N_TRAIN training images, the last $VALIDATION of them for validation;" \
       "FCResNet K = $BLOCKS, width $WIDTH; $EPOCHS iterations or epochs, kept model = best validation accuracy; seeds $SEEDS)"
  echo
  echo "| method | runs | val acc % mean [min, max] | test acc % mean [min, max] | kept iteration(s) |"
  echo "|---|---|---|---|---|"
  for s in 2 3; do for i in $INITS; do
    files=(); for seed in $SEEDS; do files+=("$out/mnist/radmm$s-$i-s$seed-b10.h5"); done
    row "resnet-admm --splitting $s --init $i (beta 10)" "${files[@]}"
  done; done
  for i in $INITS; do
    files=(); for seed in $SEEDS; do files+=("$out/mnist/floor-$i-s$seed.h5"); done
    row "floor: random-features --loss least-squares --init $i" "${files[@]}"
  done
  f=$out/mnist/adam-s${SEEDS%% *}.h5
  files=(); for seed in $SEEDS; do files+=("$out/mnist/adam-s$seed.h5"); done
  row "adam (cross-entropy), batch $BATCH, lr $( [ -f "$f" ] && attr "$f" config/lr), --init he" "${files[@]}"
  f=$out/mnist/sgd-s${SEEDS%% *}.h5
  files=(); for seed in $SEEDS; do files+=("$out/mnist/sgd-s$seed.h5"); done
  row "gd (mini-batch SGD, cross-entropy), batch $BATCH, lr $( [ -f "$f" ] && attr "$f" config/lr), --init he" "${files[@]}"
fi

# ---------------------------------------------------------------- penalty sweep
if has beta; then
  seed=${SEEDS%% *}
  for s in 2 3; do
    for b in $BETAS; do radmm $s "$BETA_INIT" "$seed" "$b" >/dev/null; done
    for r in $RHOS; do radmm $s "$BETA_INIT" "$seed" 10 "$r" >/dev/null; done
  done
  echo
  echo "## Penalty sweep on MNIST (--init $BETA_INIT, seed $seed; the rest as above)"
  echo
  echo "| method | runs | val acc % | test acc % | kept iteration |"
  echo "|---|---|---|---|---|"
  for s in 2 3; do
    for b in $(echo "$BETAS 10" | tr ' ' '\n' | sort -g | uniq); do
      row "resnet-admm --splitting $s --resnet-beta $b" "$out/mnist/radmm$s-$BETA_INIT-s$seed-b$b.h5"
    done
    for r in $RHOS; do row "resnet-admm --splitting $s --resnet-rho $r (beta 10)" "$out/mnist/radmm$s-$BETA_INIT-s$seed-b10-r$r.h5"; done
  done
fi

# ---------------------------------------------------------------- convergence
# fit FILE DATASET[:diff]: (:diff: of |x_k - x_{k+1}|, for a series with a nonzero limit) "q R^2 first last k0-k1" of a least-squares line through log(value) against the
# iteration over the last half of the iterations (positive finite values only)
fit() {
  series "$1" "${2%:diff}" | awk -v diff=$([ "${2%:diff}" = "$2" ] && echo 0 || echo 1) '
    diff { d = $1 - prev; prev = $1; if (NR == 1) next; $1 = d < 0 ? -d : d }
    { k = diff ? NR - 1 : NR; v = $1 + 0 }
    $1 !~ /nan|inf/ && v > 0 { x[k] = k; y[k] = log(v); ok[k] = 1; val[k] = v }
    END { n = diff ? NR - 1 : NR; if (n < 4) { print "- - - - -"; exit }
          k0 = int(n / 2) + 1; m = 0
          for (k = k0; k <= n; k++) if (ok[k]) { m++; sx += k; sy += y[k]; sxx += k * k; sxy += k * y[k] }
          if (m < 3) { print "- - - - -"; exit }
          b = (m * sxy - sx * sy) / (m * sxx - sx * sx); a = (sy - b * sx) / m
          ybar = sy / m
          for (k = k0; k <= n; k++) if (ok[k]) { e = y[k] - a - b * k; sse += e * e; sst += (y[k] - ybar) ^ 2 }
          printf "%.4f %.3f %.4g %.4g %d-%d\n", exp(b), (sst > 0 ? 1 - sse / sst : 1), val[1], val[n], k0, n }'
}
if has conv; then
  seed=${SEEDS%% *}
  reg=(--data regression --layers 8,1 --arch resnet --blocks "$BLOCKS" --width 32 --seed "$seed" --init he)
  for s in 2 3; do
    run "$out/conv/regression-radmm$s.h5" "${reg[@]}" --method resnet-admm --splitting $s --epochs "$REG_EPOCHS"
    cp -f "$out/mnist/radmm$s-$BETA_INIT-s$seed-b10.h5" "$out/conv/mnist-radmm$s.h5" 2>/dev/null
  done
  run "$out/conv/regression-adam.h5" "${reg[@]}" --method adam --batch 32 --epochs "$REG_EPOCHS"
  run "$out/conv/regression-sgd.h5" "${reg[@]}" --method gd --batch 32 --lr 0.01 --epochs "$REG_EPOCHS"
  cp -f "$out/mnist/adam-s$seed.h5" "$out/conv/mnist-adam.h5" 2>/dev/null
  cp -f "$out/mnist/sgd-s$seed.h5" "$out/conv/mnist-sgd.h5" 2>/dev/null
  echo
  echo "## Convergence: value ~ C q^k, least squares on log(value) over the last half of the iterations" \
       "(regression: K = $BLOCKS, width 32, $REG_EPOCHS iterations; MNIST: the robustness runs, --init $BETA_INIT, seed $seed)"
  echo
  echo "| data | method | series | first | last | fitted over k | q | R^2 |"
  echo "|---|---|---|---|---|---|---|---|"
  for d in regression mnist; do
    for m in radmm2 radmm3 adam sgd; do
      f=$out/conv/$d-$m.h5
      [ -f "$f" ] || { echo "| $d | $m | (no run) | | | | | |"; continue; }
      case $m in radmm*) ser="objective objective:diff residual_a"; [ $m = radmm3 ] && ser="$ser residual_z"
                         label="resnet-admm --splitting ${m#radmm}";;
                 adam) ser="objective objective:diff" label=adam;; sgd) ser="objective objective:diff" label="gd (SGD)";; esac
      for x in $ser; do
        read -r q r2 v0 v1 ks <<< "$(fit "$f" "$x")"
        name=$x; [ $x = objective:diff ] && name="objective increments \\|f_k - f_{k+1}\\|"
        [ $x = objective ] && case $m in radmm*) name="objective (augmented Lagrangian)";; *) name="objective (mean mini-batch loss)";; esac
        echo "| $d | $label | $name | $v0 | $v1 | $ks | $q | $r2 |"
      done
    done
  done
  if [ -x "$analyze" ]; then
    "$analyze" "$out/conv" --out "$out/analyze" >"$out/analyze.log" 2>&1 &&
      echo && echo "(figures: $out/analyze/figures/)" || echo "bench-resnet-mnist: admm-analyze failed ($out/analyze.log)" >&2
  fi
fi

# ---------------------------------------------------------------- communication
# per rank and iteration (the last iteration row of /epochs/bytes_sent, one column per rank): max and
# min over ranks
sent() { cells "$1" bytes_sent | awk '{ r[$1 " " $2] = $3; if ($1 > last) last = $1 }
           END { for (key in r) { split(key, ix, " "); if (ix[1] != last) continue; v = r[key] + 0
                                  if (!seen++ || v > mx) mx = v; if (seen == 1 || v < mn) mn = v }
                 print mx, mn }'; }
if has comm && [ -d "$LG_DIR" ]; then
  echo
  echo "## Bytes sent per rank per iteration, layer groups (G x 1) against data parallelism (1 x D) ($LG_DIR)"
  echo
  echo "Formula (float64, n the width, N the samples, d inputs, k outputs, K blocks): group g sends V of its last layer" \
       "forward (n N, g < G - 1) and the backward share of its first layer with that layer's weights back" \
       "(n N + n (n + 1), g > 0), so 8 (2 n N + n (n + 1)) for an interior group, 8 (n N + n (n + 1)) for the last" \
       "and 8 n N for the first; data parallelism allreduces per iteration the input layer's right side" \
       "n (d + 1) (its Gram matrix is factored once), each block's Gram and right side (n + 1)^2 + n (n + 1)," \
       "the output layer's (n + 1)^2 + k (n + 1), whatever D is; both add 6 reals of objective and figures."
  echo
  echo "| K (L) | n | N | ranks | run | sent, max rank (MB) | min rank (MB) | formula, max rank (MB) | counted / formula |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for dir in "$LG_DIR"/K*; do
    [ -f "$dir/serial.h5" ] || continue
    K=$(attr "$dir/serial.h5" config/blocks) n=$(attr "$dir/serial.h5" config/width) N=$(attr "$dir/serial.h5" n_train)
    lay=$(attr "$dir/serial.h5" config/layers) d=${lay%%,*} k=${lay##*,}
    for f in $(ls "$dir"/lg*.h5 "$dir"/dp*.h5 2>/dev/null | sort -V); do
      name=$(basename "$f" .h5) P=${name#??}
      read -r mx mn <<< "$(sent "$f")"
      case $name in
        lg*) run="G = $P x D = 1"
             form=$(awk -v n=$n -v N=$N -v P=$P 'BEGIN { print 8 * ((P > 2 ? 2 : 1) * n * N + n * (n + 1)) + 8 * 6 }') ;;
        dp*) run="G = 1 x D = $P"
             form=$(awk -v n=$n -v d=$d -v k=$k -v K=$K 'BEGIN { print 8 * (n * (d + 1) + K * ((n + 1) ^ 2 + n * (n + 1)) + (n + 1) ^ 2 + k * (n + 1) + 6) }') ;;
      esac
      awk -v K=$K -v n=$n -v N=$N -v P=$P -v run="$run" -v mx=$mx -v mn=$mn -v f=$form 'BEGIN {
        printf "| %d (%d) | %d | %d | %d | %s | %.4f | %.4f | %.4f | %.5f |\n", K, K + 2, n, N, P, run, mx / 1e6, mn / 1e6, f / 1e6, mx / f }'
    done
  done
fi
exit 0
