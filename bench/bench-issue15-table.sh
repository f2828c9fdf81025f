#!/usr/bin/env bash
# Issue 15's closing table: the gradient-free methods (dladmm, admm, bcd, with and without
# Anderson acceleration) against Adam and mini-batch GD, each next to the floor of its own
# initialisation (--method random-features: same --init and seed, hidden layers frozen, the
# output layer solved exactly for the readout loss). Per run: the test accuracy of the model kept
# by validation (the test set only reports), its validation accuracy, the floor's, the
# iterations and seconds to 90% and 95% test accuracy (admm-analyze's reach table: first epoch
# whose per-epoch test_acc reaches the level, seconds = sum of t_epoch up to it; `-` when never),
# the median seconds per iteration (iterations 2..) and that time against its GEMM bound: the
# run's own flop count of one iteration (/epochs/phase_flops of the last iteration, busiest rank,
# every phase but eval and io) over one rank's share of the GEMM rate bench/gemm_rate.c measures
# on the same ranks at M = K = the widest hidden layer, N = the training samples (once per case,
# kept in OUT_DIR/CASE.gemm-rate).
#
#   bench/bench-issue15-table.sh [RANKS] [OUT_DIR]    (from the repository root, after a build)
#
# Prints the table as Markdown and writes OUT_DIR/table.csv. A run whose OUT_DIR/NAME.h5 exists
# is not run again (delete it to rerun; RUN=0 only reports). Each run's `uptime` before and after
# is in OUT_DIR/NAME.load: the seconds are this shared machine's and follow its load; the
# iteration counts are the robust figure.
# env CASES ("data layers epochs" per line, in the order run), METHODS (tags: dladmm-mM, admm,
# admm-mM, bcd-mM, adam, gd), N_TRAIN (0: all 60,000) and VALIDATION (auto: 5,000), EXTRA (more
# admm-train options for every trained run, e.g. --dladmm-rho 1e-4).
# Each trained run: --epochs EPOCHS --patience 0 (admm: EPOCHS - 2 after its 2 warm-up epochs,
# so EPOCHS iterations in all), the method's defaults otherwise; gd's mini-batch is its default,
# 128 samples (global), lr 0.01; Adam lr 1e-3, batch 128.
set -euo pipefail
# shellcheck source=bench/h5-figures.sh
. "$(dirname "$0")/h5-figures.sh" # median_iteration_seconds, counted_flops
ranks=${1:-2}
out=${2:-results/issue15-table}
train=${ADMM_TRAIN:-build/jobs/admm-train}
analyze=${ADMM_ANALYZE:-$(dirname "$train")/../analysis/admm-analyze}
gemm=${GEMM_RATE:-$(dirname "$train")/../bench/gemm-rate}
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
CASES=${CASES:-"mnist 784,256,256,10 50
mnist 784,100,100,10 50
fashion-mnist 784,256,256,10 50
fashion-mnist 784,100,100,10 50
mnist 784,1000,1000,10 50
fashion-mnist 784,1000,1000,10 50"}
METHODS=${METHODS:-dladmm-m0 dladmm-m8 admm bcd-m0 bcd-m8 adam gd}
N_TRAIN=${N_TRAIN:-0}
VALIDATION=${VALIDATION:-auto}
RUN=${RUN:-1}
EXTRA=${EXTRA:-}
mkdir -p "$out"

# attr H5 NAME: a root attribute's value
attr() { h5dump -a "/$2" "$1" 2>/dev/null | sed -n 's/.*(0): "\{0,1\}\([^"]*\)"\{0,1\}$/\1/p'; }
# run NAME ARGS...: one run into $out/NAME.h5 unless it exists; its console into NAME.log
run() {
  local name=$1; shift
  [ -f "$out/$name.h5" ] && return 0
  [ "$RUN" = 1 ] || return 0
  echo "before: $(date -u +%FT%TZ) $(uptime)" >"$out/$name.load"
  mpiexec.mpich -n "$ranks" "$train" --n-train "$N_TRAIN" --validation "$VALIDATION" --eval-train 0 --checkpoint none --force \
    --output "$out/$name.h5" "$@" >"$out/$name.log" 2>&1 </dev/null ||
    { echo "bench-issue15-table: $name failed:" >&2; tail -3 "$out/$name.log" >&2; rm -f "$out/$name.h5"; return 1; }
  echo "after: $(date -u +%FT%TZ) $(uptime)" >>"$out/$name.load"
}
# reach H5 LEVEL: "iterations seconds" to LEVEL % test accuracy, from admm-analyze's reach table
reach() {
  local dir
  dir=$out/.reach/$(basename "$1" .h5)
  [ -f "$dir/tables/reach.csv" ] || "$analyze" "$1" --out "$dir" --no-plots >/dev/null 2>&1
  awk -F, -v lv="$2" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $c["measure"] == "test_acc" && $c["level"] + 0 == lv + 0 {
      it = $c["iterations"]; s = $c["seconds"]
      printf "%s %s\n", (it == "" ? "-" : it + 0), (s == "" ? "-" : sprintf("%.1f", s)); found = 1 }
    END { if (!found) print "- -" }' "$dir/tables/reach.csv"
}
pct() { [ -n "$1" ] && awk -v v="$1" 'BEGIN { printf "%.2f", 100 * v }' || echo "-"; }

csv=$out/table.csv
echo "data,layers,method,anderson,init,readout,epochs,kept_epoch,test_acc,val_acc,floor_readout,floor_val_acc,floor_test_acc,gain_test_points,iters_to_90_test,s_to_90_test,iters_to_95_test,s_to_95_test,s_per_iter,gflop_per_iter_busiest_rank,gemm_gflops,bound_s,ratio_to_bound,load_before,file" >"$csv"
printf "| data | layers | method | M | init, readout | epochs (kept) | test %% (kept) | val %% | floor: readout | floor val %% | floor test %% | gain | it. to 90%% test | s to 90%% | it. to 95%% test | s to 95%% | s/iter | GFlop/iter (busiest rank) | GEMM bound s | s/iter / bound | load (1 min) |\n"
printf "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
while read -r data layers epochs; do
  [ -n "$data" ] || continue
  tag=$data-${layers//,/-}
  base=(--data "$data" --layers "$layers")
  wmax=$(tr ',' '\n' <<<"${layers#*,}" | sed '$d' | sort -n | tail -1)
  rate=
  for m in $METHODS; do
    M=${m##*-m}; [ "$M" = "$m" ] && M=-
    method=${m%-m*}
    # shellcheck disable=SC2206 # EXTRA is a word list
    margs=(--method "$method" --epochs "$epochs" --patience 0 $EXTRA)
    [ "$M" = - ] || margs+=(--anderson "$M")
    case $method in
      bcd) init=pairs loss=squared-hinge biases=yes readout=squared-hinge ;;
      admm) init=he loss=least-squares biases=no readout=least-squares
            margs=(--method admm --epochs $((epochs - 2)) --warmup 2 --patience 0); [ "$M" = - ] || margs+=(--anderson "$M") ;;
      dladmm) init=he loss=squared-hinge biases=yes readout=cross-entropy ;;
      *) init=he loss=squared-hinge biases=yes readout=cross-entropy ;;
    esac
    # cross-entropy has no exact readout solve: its floor is the squared hinge's (the stricter
    # of the two exact readouts of random-features) of the same He initialisation
    floor=$tag-floor-$init-$loss-$biases
    run "$floor" "${base[@]}" --method random-features --init "$init" --loss "$loss" --biases "$biases" || continue
    run "$tag-$m" "${base[@]}" --init "$init" "${margs[@]}" || continue
    f=$out/$tag-$m.h5 g=$out/$floor.h5
    [ -f "$f" ] && [ -f "$g" ] || continue
    # the GEMM rate: measured once per case, after its first trained run, and kept in
    # OUT_DIR/CASE.gemm-rate (with the load it was measured under) for every later report
    if [ -z "$rate" ] && [ -s "$out/$tag.gemm-rate" ]; then rate=$(head -n 1 "$out/$tag.gemm-rate"); fi
    if [ -z "$rate" ]; then
      rate=$(mpiexec.mpich -n "$ranks" "$gemm" float64 "$wmax" "$wmax" "$(attr "$f" n_train)" 3 </dev/null |
        sed -n 's/.*gflops=\([0-9.]*\).*/\1/p')
      [ -n "$rate" ] && printf "%s\n%s %s\n" "$rate" "$(date -u +%FT%TZ)" "$(uptime)" >"$out/$tag.gemm-rate"
    fi
    read -r it90 s90 <<<"$(reach "$f" 90)"
    read -r it95 s95 <<<"$(reach "$f" 95)"
    spi=$(median_iteration_seconds "$f") fl=$(counted_flops "$f")
    load=$(sed -n 's/^before: .*load average: \([0-9.]*\),.*/\1/p' "$out/$tag-$m.load" 2>/dev/null)
    row=$(awk -v fl="$fl" -v g="${rate:-0}" -v P="$ranks" -v t="$spi" 'BEGIN {
      b = g > 0 ? fl / (g * 1e9 / P) : 0
      printf "%.1f %.1f %.3f %s", fl / 1e9, g, b, (b > 0 ? sprintf("%.2f", t / b) : "-") }')
    read -r gf grate bound ratio <<<"$row"
    ft=$(attr "$f" final_test_acc) fv=$(attr "$f" final_val_acc) gt=$(attr "$g" final_test_acc) gv=$(attr "$g" final_val_acc)
    gain=$(awk -v a="$ft" -v b="$gt" 'BEGIN { printf "%+.2f", 100 * (a - b) }')
    ep=$(attr "$f" epochs_run) kept=$(attr "$f" best_epoch)
    printf "| %s | %s | %s | %s | %s, %s | %s (%s) | %s | %s | %s, %s | %s | %s | %s | %s | %s | %s | %s | %.3f | %s | %s | %s | %s |\n" \
      "$data" "$layers" "$method" "$M" "$init" "$readout" "$ep" "$kept" "$(pct "$ft")" "$(pct "$fv")" "$init" "$loss" \
      "$(pct "$gv")" "$(pct "$gt")" "$gain" "$it90" "$s90" "$it95" "$s95" "$spi" "$gf" "$bound" "$ratio" "${load:--}"
    echo "$data,\"$layers\",$method,$M,$init,$readout,$ep,$kept,$ft,$fv,$init $loss,$gv,$gt,$gain,${it90/-/},${s90/-/},${it95/-/},${s95/-/},$spi,$gf,$grate,$bound,${ratio/-/},${load},$f" >>"$csv"
  done
done <<<"$CASES"
