#!/usr/bin/env bash
# End to end: admm-train runs a tiny synthetic problem in several configurations at 1 and 2 ranks,
# a few copies are damaged, admm-analyze reads the folder, and analysis-check verifies every table
# entry against the HDF5 files; the damaged files must be flagged, the figures must be PNG. A run
# still going is analysed through its .part file (a partial run, or one line if caught between
# two writes), then stopped by SIGTERM: its file, complete with stop_reason "signal", and a .part
# of a run that died are partial runs, listed apart.
#
#   test_e2e.sh ADMM_ANALYZE ADMM_TRAIN MPIEXEC ANALYSIS_FIXTURE ANALYSIS_CHECK WORKDIR
set -u
analyze=$1 train=$2 mpiexec=$3 fixture=$4 checker=$5 work=$6
. "$(dirname "$0")/lib.sh"
export OPENBLAS_NUM_THREADS=1 # 2 ranks on a 2-core machine

rm -rf "$work"
mkdir -p "$work/res/bcd" "$work/res/admm" "$work/res/gd" "$work/res/floor" "$work/res/bad" \
  "$work/res/partial" "$work/res/live"
cd "$work" || exit 1

tiny=(--data synthetic --n-test 128 --validation 64 --layers 16,8,4 --epochs 3 --quiet 1)
run() { # RANKS OUTPUT ARGS...: one training run; its log is kept beside the file
  local np=$1 out=$2
  shift 2
  "$mpiexec" -n "$np" "$train" "${tiny[@]}" --output "$out" "$@" > "$out.log" 2>&1
}
check "bcd seed 1, 1 rank" run 1 res/bcd/b1-s1-p1.h5 --method bcd --n-train 256 --seed 1 --beta 1
check "bcd seed 2, 1 rank" run 1 res/bcd/b1-s2-p1.h5 --method bcd --n-train 256 --seed 2 --beta 1
check "bcd beta 5, 1 rank" run 1 res/bcd/b5-s1-p1.h5 --method bcd --n-train 256 --seed 1 --beta 5
check "bcd seed 1, 2 ranks" run 2 res/bcd/b1-s1-p2.h5 --method bcd --n-train 256 --seed 1 --beta 1
check "bcd seed 2, 2 ranks" run 2 res/bcd/b1-s2-p2.h5 --method bcd --n-train 256 --seed 2 --beta 1
check "admm (Taylor's ADMM), 1 rank" run 1 res/admm/s1-p1.h5 --method admm --n-train 256 --seed 1 --warmup 0
check "bcd weak scaling, 2 ranks, 512 samples" run 2 res/bcd/b1-s1-p2-n512.h5 --method bcd --n-train 512 --seed 1 --beta 1
check "gd seed 1, 1 rank" run 1 res/gd/s1-p1.h5 --method gd --n-train 256 --seed 1
# floors: the default one (pairs, squared-hinge, biases) is bcd's; the least-squares one of init he
# is gd's; none has --biases no, so admm has none
check "random-features floor, 1 rank" run 1 res/floor/sh-s1-p1.h5 --method random-features --n-train 256 --seed 1
check "random-features floor he least-squares, 1 rank" run 1 res/floor/ls-he-s1-p1.h5 --method random-features --n-train 256 --seed 1 --init he --loss least-squares

# damaged copies: truncated, still "running", random bytes named .h5; and the .h5.part of a run
# that died (status "running"): a partial run
good=res/bcd/b1-s1-p1.h5
head -c $(($(stat -c %s $good) / 2)) $good > res/bad/truncated.h5
cp $good res/bad/running.h5 && "$fixture" --set-status res/bad/running.h5 running
head -c 8192 /dev/urandom > res/bad/x.h5
cp $good res/partial/killed.h5.part && "$fixture" --set-status res/partial/killed.h5.part running

# a run still going: its .part is read while admm-train writes it, then SIGTERM (to the launcher,
# which passes it on) stops it with its file complete and stop_reason "signal"
live=res/live/run.h5
"$mpiexec" -n 1 "$train" --data synthetic --n-train 2000 --n-test 128 --validation 64 \
  --layers 16,64,4 --epochs 100000 --patience 0 --output $live > live.out 2> live.err &
launcher=$!
for _ in $(seq 600); do grep -q '^epoch=2 ' live.out 2>/dev/null && break; sleep 0.1; done
check "the live run has written 2 epochs" grep -q '^epoch=2 ' live.out
timeout 60 "$analyze" res/live --out out-live --no-plots > live-an.out 2> live-an.err
rc=$?
# between two of the writer's flushes HDF5 may not open it: then one line says why
check "live .part: exit 0 (rc=$rc), read as a partial run or refused in one line" \
  bash -c "[ $rc -eq 0 ] && { grep -q 'refused from the averages $live.part: partial run: unfinished (.h5.part, status \"running\"' live-an.err || [ \$(grep -c 'refused $live.part: ' live-an.err) = 1 ]; }"
if grep -q 'partial run' live-an.err; then
  check "live .part: its epochs are in epochs.csv, marked partial" \
    bash -c "test \$(grep -c '^$live.part,,yes,' out-live/tables/epochs.csv) -ge 2"
fi
# the signal goes to the rank, as srun delivers one to every task: OpenMPI's mpirun, signalled
# itself, may end the rank before its checkpoint and results file are closed
kill -TERM "$(pgrep -f "^$train .*--output $live" | head -1)"
wait $launcher
rc=$?
# the ranks exit 143; MPICH's mpiexec sometimes reports 0 after passing a signal on, OpenMPI's 1
check "SIGTERM: the run stops (rc=$rc: 143, or 0 or 1 when mpiexec passes it on)" bash -c "[ $rc -eq 143 ] || [ $rc -eq 0 ] || [ $rc -eq 1 ]"
check "SIGTERM: its file is complete with stop_reason signal" \
  bash -c "h5dump -a /stop_reason $live | grep -q '\"signal\"' && [ ! -e $live.part ]"

valid=$(find res -name '*.h5' ! -path '*/bad/*' ! -path '*/live/*' | sort)
flagged=$(find res/bad -type f | sort)
partial="res/partial/killed.h5.part $live"
check "10 trainer files written" test "$(echo $valid | wc -w)" -eq 10

"$analyze" res --out out > stdout.txt 2> stderr.txt
rc=$?
check "admm-analyze exits 0 (rc=$rc)" test $rc -eq 0
check "10 analysed in 8 groups, 3 flagged, 2 partial" \
  grep -q "15 results files: 10 analysed in 8 groups, 3 flagged, 2 partial (listed apart, not averaged)" stdout.txt
if ! grep -q " 10 analysed" stdout.txt; then
  echo "--- admm-analyze output (a trainer file refused means it disagrees with io/SCHEMA.md)"
  cat stdout.txt stderr.txt
fi
for f in $flagged; do check "refused $f" grep -q "refused $f: " stderr.txt; done
check "still-running copy: status named" grep -qF "refused res/bad/running.h5: status is \"running\"" stderr.txt
check "random x.h5: not HDF5" grep -qF "refused res/bad/x.h5: not an HDF5 file" stderr.txt
check "truncated copy: truncated" grep -q "refused res/bad/truncated.h5: .*truncated" stderr.txt
check "the .part of a run that died: partial, listed apart" \
  grep -q "refused from the averages res/partial/killed.h5.part: partial run: unfinished" stderr.txt
check "the run stopped by SIGTERM: partial, listed apart" \
  grep -q "refused from the averages $live: partial run: stopped by a signal after [0-9]* epochs (SIGTERM" stderr.txt

out=$("$checker" out --valid $valid --flagged $flagged --partial $partial 2>&1)
checker_counts "$out"

T=out/tables
check "strong scaling family at 1 and 2 ranks" \
  test "$(awk -F, '$2 == "strong" { printf "%s ", $4 }' $T/scaling.csv)" = "1 2 "
check "weak scaling family at 1 and 2 ranks" \
  test "$(awk -F, '$2 == "weak" { printf "%s ", $4 }' $T/scaling.csv)" = "1 2 "
check "beta family 1, 5" test "$(awk -F, 'NR > 1 { printf "%s ", $2 }' $T/sensitivity_beta.csv)" = "1 5 "
check "two seeds aggregated at 1 rank" \
  test "$(csv $T/configs.csv group=$(csv $T/runs.csv file=res/bcd/b1-s2-p1.h5 group) runs)" = 2
check "admm, bcd, gd and random-features in the methods table" \
  test "$(tail -n +2 $T/methods.csv | cut -d, -f2 | tr '\n' ' ')" = "admm bcd gd random-features "
check "the floor run's /config carries init, loss and biases" \
  bash -c "h5dump -a /config/init -a /config/loss -a /config/biases res/floor/sh-s1-p1.h5"
check "bcd's floor is the default random-features run" \
  test "$(csv $T/methods.csv method=bcd floor | cut -d' ' -f1)" = "$(csv $T/runs.csv file=res/floor/sh-s1-p1.h5 group)"
check "gd's floor is the least-squares he run of its seed" \
  test "$(csv $T/methods.csv method=gd floor)" = "$(csv $T/runs.csv file=res/floor/ls-he-s1-p1.h5 group) seed 1"
check "admm (no biases) has no floor" test "$(csv $T/methods.csv method=admm floor)" = ""
check "methods.md states the rule" grep -q "Chosen by mean validation accuracy; test accuracy is only reported" $T/methods.md
for fig in test_accuracy loss epoch_time memory accuracy_vs_ranks speedup_vs_ranks \
           efficiency_vs_ranks strong-1_test_accuracy beta-1_test_accuracy val_accuracy_vs_time \
           objective residual_z strong-1_phases strong-1_imbalance; do
  check "figure $fig.png is a PNG" is_png out/figures/$fig.png
done
check "phases: admm-train's own phase names (bcd: gram, a_update, z_update, ...)" \
  bash -c "grep -q '^strong-1,strong,G[0-9]*,2,1,gram,' $T/phases.csv && grep -q ',z_update,' $T/phases.csv"

"$analyze" res --out inc --include-partial --no-plots > /dev/null 2>&1
out=$("$checker" inc --valid $valid --flagged $flagged --partial $partial --include-partial --no-figures 2>&1)
checker_counts "$out"
finish
