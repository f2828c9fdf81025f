#!/usr/bin/env bash
# admm-analyze on files with known values written by analysis-fixture (no trainer needed): the
# tables must hold the values computed independently from the HDF5 files (analysis-check) and the
# hand-computed values below; damaged files must be flagged, never averaged in; figures must be PNG.
#
#   test_fixture.sh ADMM_ANALYZE ANALYSIS_FIXTURE ANALYSIS_CHECK WORKDIR
set -u
analyze=$1 fixture=$2 checker=$3 work=$4
. "$(dirname "$0")/lib.sh"

rm -rf "$work"
mkdir -p "$work/res/gd" "$work/res/admm" "$work/res/bcd" "$work/res/floor" "$work/res/bad" \
  "$work/empty"
cd "$work" || exit 1
R=res

# --- known values -------------------------------------------------------------------------------
# gd: three seeds, accuracy 25/50/75 % -> 50 +- 25; t_epoch 0.5 every epoch
for s in 1 2 3; do
  "$fixture" $R/gd/s$s.h5 method=gd seed=$s acc=$(awk -v s=$s 'BEGIN { print 0.25 * s }') t=0.5
done
# sgd: t_epoch 2, 3, 4 -> 3 +- 1
"$fixture" $R/sgd.h5 method=sgd t=2 tstep=1
# admm (Taylor's ADMM, no biases) base (beta 1, gamma 10, warmup 0, he, 1 rank): two seeds,
# 80/90 % -> 85 +- 7.0711 (validation accuracy = test accuracy unless val= is given)
"$fixture" $R/admm/base_s1.h5 seed=1 acc=0.8
"$fixture" $R/admm/base_s2.h5 seed=2 acc=0.9
# one-parameter changes: sensitivity families
"$fixture" $R/admm/beta5.h5 beta=5 acc=0.6
"$fixture" $R/admm/beta10.h5 beta=10 acc=0.4
"$fixture" $R/admm/gamma1.h5 gamma=1 acc=0.7
"$fixture" $R/admm/warmup2.h5 warmup=2 epochs=5 acc=0.7
"$fixture" $R/admm/xavier.h5 init=xavier acc=0.8
# strong scaling: t_epoch halves with ranks -> speed-up 2, 4, efficiency 1; comm 15/20/40 %
"$fixture" $R/admm/p2.h5 ranks=2 t=0.5 comm=0.2 acc=0.8
"$fixture" $R/admm/p4.h5 ranks=4 t=0.25 comm=0.4 imb=0.5 acc=0.8 host=node2
# weak scaling: twice the samples on twice the ranks, 1.25 s -> efficiency 0.8, speed-up 1.6
"$fixture" $R/admm/weak_p2.h5 ranks=2 n_train=512 t=1.25 acc=0.8
# a file from the days of --preset: /config/preset is read as any other key, the method stays admm
"$fixture" $R/admm/old_thesis.h5 preset=thesis acc=0.3
# bcd, two configurations whose validation and test rankings disagree: A (beta 1) val 90 test 80,
# B (beta 2) val 80 test 95 -> the methods table takes A: chosen by validation, test only reported
"$fixture" $R/bcd/a.h5 method=bcd init=pairs beta=1 val=0.9 acc=0.8
"$fixture" $R/bcd/b.h5 method=bcd init=pairs beta=2 val=0.8 acc=0.95
# momentum, equal validation accuracy (60 %): the group with more runs (lr 0.1, seeds 1 and 2,
# test 50 %) is chosen over the first group (lr 0.01, test 90 %)
"$fixture" $R/gd/mom_lr01.h5 method=momentum lr=0.01 val=0.6 acc=0.9
"$fixture" $R/gd/mom_lr1_s1.h5 method=momentum lr=0.1 seed=1 val=0.6 acc=0.5
"$fixture" $R/gd/mom_lr1_s2.h5 method=momentum lr=0.1 seed=2 val=0.6 acc=0.5
# random-features floors (one epoch, biases): bcd's (pairs, squared-hinge, seed 1: 70 %) and the
# least-squares one of init he that the gradient methods stand against (seeds 1, 2: 40, 50 %);
# none has biases=no, so admm has no floor
"$fixture" $R/floor/pairs_sh.h5 method=random-features init=pairs loss=squared-hinge epochs=1 acc=0.7
"$fixture" $R/floor/he_ls_s1.h5 method=random-features seed=1 epochs=1 acc=0.4
"$fixture" $R/floor/he_ls_s2.h5 method=random-features seed=2 epochs=1 acc=0.5

# --- damaged files ------------------------------------------------------------------------------
"$fixture" $R/bad/running.h5 status=running
"$fixture" $R/bad/missing.h5 omit=rss_mb
"$fixture" $R/bad/noattr.h5 omit=final_test_acc
"$fixture" $R/bad/wrongformat.h5 format=other-format
"$fixture" $R/bad/shape.h5 badshape=t_epoch
"$fixture" $R/bad/odd.h5.part status=paused
head -c 4096 /dev/urandom > $R/bad/random.h5
size=$(stat -c %s $R/admm/base_s1.h5)
head -c $((size / 2)) $R/admm/base_s1.h5 > $R/bad/truncated.h5
echo "not a results file" > $R/notes.txt

valid=$(find $R -name '*.h5' ! -path '*/bad/*' | sort)
flagged=$(find $R/bad -type f | sort)

# --- the run ------------------------------------------------------------------------------------
"$analyze" $R --out out > stdout.txt 2> stderr.txt
rc=$?
check "admm-analyze exits 0 although files were flagged (rc=$rc)" test $rc -eq 0
check "stdout summary counts 31 files, 23 analysed in 18 groups, 8 flagged, 0 partial" \
  grep -q "31 results files: 23 analysed in 18 groups, 8 flagged, 0 partial;" stdout.txt
for f in $flagged; do
  check "stderr names refused $f" grep -q "refused $f: " stderr.txt
done
check "notes.txt is not a results file and is not flagged" bash -c "! grep -q notes.txt out/tables/flagged.csv"

problem() { # FILE TEXT: stderr and flagged.csv give TEXT as the reason FILE was refused
  grep -qF "refused $R/bad/$1: " stderr.txt && grep -F "refused $R/bad/$1: " stderr.txt | grep -qF "$2" &&
    csv out/tables/flagged.csv "file=$R/bad/$1" problem | grep -qF "$2"
}
check "running file: status named" problem running.h5 'status is "running", not "complete"'
check "missing dataset named" problem missing.h5 'missing dataset /epochs/rss_mb'
check "missing attribute named" problem noattr.h5 'missing attribute /final_test_acc'
check "wrong format named" problem wrongformat.h5 'not an admm-nn-results file'
check "short dataset named" problem shape.h5 '/epochs/t_epoch has 2 rows, expected epochs_run = 3'
check ".h5.part with an unknown status named" problem odd.h5.part \
  'unfinished run (.h5.part file): status is "paused", neither "running" nor "complete"'
check "random bytes: not HDF5" problem random.h5 'not an HDF5 file'
check "truncated copy: truncated" problem truncated.h5 'truncated file'

out=$("$checker" out --valid $valid --flagged $flagged 2>&1)
checker_counts "$out"
check "no partial run: every table's partial column says no" \
  bash -c "! grep -h ',yes\$' out/tables/{runs,configs,methods,groups,epoch_time,scaling,phases}.csv"

# --- hand-computed values -----------------------------------------------------------------------
T=out/tables
gd=$(csv $T/methods.csv method=gd group)
check "gd: test acc 50 +- 25 over three seeds" \
  bash -c "$(declare -f near csv); near \$(csv $T/configs.csv group=$gd test_acc_pct_mean) 50 && near \$(csv $T/configs.csv group=$gd test_acc_pct_std) 25"
check "gd seeds listed" test "$(csv $T/configs.csv group=$gd seeds)" = "1,2,3"
check "gd: 0.5 +- 0 s per epoch over 9 epochs" \
  bash -c "$(declare -f near csv); near \$(csv $T/epoch_time.csv method=gd s_per_epoch_mean) 0.5 && near \$(csv $T/epoch_time.csv method=gd s_per_epoch_std) 0 && test \$(csv $T/epoch_time.csv method=gd epochs) = 9"
check "sgd: 3 +- 1 s per epoch, min 2, max 4" \
  bash -c "$(declare -f near csv); near \$(csv $T/epoch_time.csv method=sgd s_per_epoch_mean) 3 && near \$(csv $T/epoch_time.csv method=sgd s_per_epoch_std) 1 && near \$(csv $T/epoch_time.csv method=sgd s_per_epoch_min) 2 && near \$(csv $T/epoch_time.csv method=sgd s_per_epoch_max) 4"
base=$(csv $T/methods.csv method=admm group)
check "admm best group is the two-seed base: 85 +- 7.0711" \
  bash -c "$(declare -f near csv); near \$(csv $T/methods.csv method=admm test_acc_pct_mean) 85 && near \$(csv $T/methods.csv method=admm test_acc_pct_std) 7.0710678118654755 && test \$(csv $T/methods.csv method=admm runs) = 2"
check "admm row shows beta/gamma/warmup, hides lr/batch" \
  test "$(csv $T/methods.csv method=admm beta),$(csv $T/methods.csv method=admm gamma),$(csv $T/methods.csv method=admm lr)" = "1,10,"
check "gd row shows lr/batch, hides beta" \
  test "$(csv $T/methods.csv method=gd lr),$(csv $T/methods.csv method=gd batch),$(csv $T/methods.csv method=gd beta)" = "0.01,128,"
S=$T/scaling.csv
for r in 1:1:1:15:103 2:2:1:20:113 4:4:1:40:133; do
  IFS=: read -r ranks sp eff comm rss <<< "$r"
  check "strong scaling at $ranks ranks: speed-up $sp, efficiency $eff, comm $comm %, peak $rss MiB" \
    bash -c "$(declare -f near csv); near \$(csv $S family=strong-1,ranks=$ranks speedup) $sp && near \$(csv $S family=strong-1,ranks=$ranks efficiency) $eff && near \$(csv $S family=strong-1,ranks=$ranks comm_share_pct) $comm && near \$(csv $S family=strong-1,ranks=$ranks peak_rss_mb) $rss"
done
check "weak scaling at 2 ranks: efficiency 0.8, scaled speed-up 1.6" \
  bash -c "$(declare -f near csv); near \$(csv $S family=weak-1,ranks=2 efficiency) 0.8 && near \$(csv $S family=weak-1,ranks=2 speedup) 1.6"
check "beta family: values 1, 5, 10 in order (admm), 1, 2 (bcd)" \
  test "$(awk -F, 'NR > 1 { printf "%s:%s ", $1, $2 }' $T/sensitivity_beta.csv)" = "beta-1:1 beta-1:5 beta-1:10 beta-2:1 beta-2:2 "
check "beta family accuracies 85, 60, 40" \
  bash -c "$(declare -f near csv); near \$(csv $T/sensitivity_beta.csv beta=1 test_acc_pct_mean) 85 && near \$(csv $T/sensitivity_beta.csv beta=5 test_acc_pct_mean) 60 && near \$(csv $T/sensitivity_beta.csv beta=10 test_acc_pct_mean) 40"
check "gamma family: 1 and 10" test "$(awk -F, 'NR > 1 { printf "%s ", $2 }' $T/sensitivity_gamma.csv)" = "1 10 "
check "warmup family: 0 and 2, 5 epochs run with warm-up" \
  bash -c "$(declare -f csv); test \"\$(csv $T/sensitivity_warmup.csv warmup=2 epochs_run_mean)\" = 5"
check "init family: he and xavier" test "$(awk -F, 'NR > 1 { printf "%s ", $2 }' $T/sensitivity_init.csv)" = "he xavier "
check "groups table: p4 ran on node2" bash -c "grep -q 'node2' $T/groups.csv"

# per-phase time and load imbalance of the scaling families: at 1 rank (t_epoch 1, comm 15 %)
# gram = solve = 0.425 s, comm_reduce 0.1 s (10 %), comm_gather 0.05 s; phase_max = 1.1 x phase_avg,
# at 4 ranks (imb 0.5) 1.5 x; eval, io and the phases at 0 are left out
P=$T/phases.csv
phase() { csv $P "family=strong-1,ranks=$1,phase=$2" "$3"; }
check "phases: strong-1 at 1 rank, gram 0.425 s, comm_reduce 0.1 s = 10 % of t_epoch, imbalance 1.1" \
  bash -c "$(declare -f near csv phase); P=$P; near \$(phase 1 gram s_per_epoch) 0.425 && near \$(phase 1 comm_reduce s_per_epoch) 0.1 && near \$(phase 1 comm_reduce share_pct) 10 && near \$(phase 1 gram imbalance) 1.1"
check "phases: strong-1 at 4 ranks, comm_gather 0.25 x 0.4 / 3 s, slowest rank 1.5 x, imbalance 1.5" \
  bash -c "$(declare -f near csv phase); P=$P; near \$(phase 4 comm_gather s_per_epoch) 0.0333333333333333 && near \$(phase 4 comm_gather s_per_epoch_max) 0.05 && near \$(phase 4 solve imbalance) 1.5"
check "phases: four phases per group (no eval, io or empty phase)" \
  test "$(awk -F, '$1 == "strong-1" && $4 == 1 && $5 == 1 { printf "%s ", $6 }' $P)" = "gram comm_reduce solve comm_gather "

# the per-epoch tidy table: one row per run and epoch, every root attribute and /config option as
# a column, empty fields where a run has no such value
E=$T/epochs.csv
nepochs=0
for f in $valid; do nepochs=$((nepochs + $(h5dump -a /epochs_run "$f" | sed -n 's/^ *(0): *//p'))); done
check "epochs.csv: one row per run and epoch ($nepochs)" test "$(($(wc -l < $E) - 1))" = "$nepochs"
check "epochs.csv: root attributes and config_ columns" \
  bash -c "head -1 $E | tr ',' '\n' | grep -qx final_test_acc && head -1 $E | tr ',' '\n' | grep -qx config_seed && head -1 $E | tr ',' '\n' | grep -qx hostnames && head -1 $E | tr ',' '\n' | grep -qx phase_max_comm_reduce"
check "epochs.csv: gd has no residual, admm no lr, bcd no multiplier: empty fields, never '-' or nan" \
  bash -c "$(declare -f csv); test -z \"\$(csv $E file=$R/gd/s1.h5,epoch=2 residual_z)\" && test -z \"\$(csv $E file=$R/admm/base_s1.h5 config_lr)\" && test -z \"\$(csv $E file=$R/bcd/a.h5 multiplier)\" && ! grep -q ',-,\|,nan,' $E"
check "epochs.csv: admm's values (epoch 2 of 3: test_acc 0.8 x 2/3, multiplier 0.05, t_wall 2.2)" \
  bash -c "$(declare -f csv near); near \$(csv $E file=$R/admm/base_s1.h5,epoch=2 test_acc) 0.533333333333333 && near \$(csv $E file=$R/admm/base_s1.h5,epoch=2 multiplier) 0.05 && near \$(csv $E file=$R/admm/base_s1.h5,epoch=2 t_wall) 2.2"

# --- choice by validation accuracy, floors --------------------------------------------------------
group_of() { csv $T/runs.csv file=$R/$1 group; }
check "bcd: config A (val 90, test 80) chosen over B (val 80, test 95)" \
  bash -c "$(declare -f near csv); test \$(csv $T/methods.csv method=bcd group) = $(group_of bcd/a.h5) && near \$(csv $T/methods.csv method=bcd val_acc_pct_mean) 90 && near \$(csv $T/methods.csv method=bcd test_acc_pct_mean) 80"
check "momentum: equal validation accuracy, the group with more runs (2) is chosen" \
  bash -c "$(declare -f csv); test \$(csv $T/methods.csv method=momentum group) = $(group_of gd/mom_lr1_s1.h5) && test \$(csv $T/methods.csv method=momentum runs) = 2"
check "bcd floor: its own seed's pairs/squared-hinge floor run, 70 %, gain 10 points" \
  bash -c "$(declare -f near csv); test \"\$(csv $T/methods.csv method=bcd floor)\" = '$(group_of floor/pairs_sh.h5) seed 1' && near \$(csv $T/methods.csv method=bcd floor_test_acc_pct) 70 && near \$(csv $T/methods.csv method=bcd gain_pts) 10"
check "gd floor: the least-squares he floor over its two shared seeds, 45 %, gain 5 points" \
  bash -c "$(declare -f near csv); test \$(csv $T/methods.csv method=gd floor) = $(group_of floor/he_ls_s1.h5) && near \$(csv $T/methods.csv method=gd floor_test_acc_pct) 45 && near \$(csv $T/methods.csv method=gd gain_pts) 5"
check "sgd floor: the floor run of its one seed, 40 %, gain 10 points" \
  bash -c "$(declare -f near csv); test \"\$(csv $T/methods.csv method=sgd floor)\" = '$(group_of floor/he_ls_s1.h5) seed 1' && near \$(csv $T/methods.csv method=sgd floor_test_acc_pct) 40 && near \$(csv $T/methods.csv method=sgd gain_pts) 10"
check "admm (no biases): no floor run matches, empty floor and gain" \
  test "$(csv $T/methods.csv method=admm floor),$(csv $T/methods.csv method=admm floor_test_acc_pct),$(csv $T/methods.csv method=admm gain_pts)" = ",,"
check "random-features is the floor: no floor of its own" \
  test "$(csv $T/methods.csv method=random-features floor)" = ""
check "methods table: one row per method, in order" \
  test "$(tail -n +2 $T/methods.csv | cut -d, -f2 | tr '\n' ' ')" = "admm bcd gd momentum random-features sgd "
check "methods.md states the rule" grep -q "Chosen by mean validation accuracy; test accuracy is only reported" $T/methods.md
check "methods.md notes the missing admm floor" grep -q "No floor for admm (G[0-9]*): no random-features run .*biases=no" $T/methods.md
check "methods.md says the gradient methods stand against the least-squares floor" \
  grep -q "gd, momentum, sgd train cross-entropy, which has no exact readout solve" $T/methods.md
check "report states the rule and the floor" \
  bash -c "grep -q 'Chosen by mean validation accuracy; test accuracy is only reported' out/report.md && grep -q 'No floor for admm' out/report.md"
check "the old thesis-preset file is labelled admm; no admm-thesis anywhere" \
  bash -c "$(declare -f csv); test \$(csv $T/runs.csv file=$R/admm/old_thesis.h5 method) = admm && ! grep -rq admm-thesis out"

# --- figures and report -------------------------------------------------------------------------
for fig in test_accuracy train_accuracy loss epoch_time memory val_accuracy final_accuracy accuracy_vs_ranks \
           speedup_vs_ranks efficiency_vs_ranks strong-1_test_accuracy weak-1_epoch_time beta-1_test_accuracy \
           gamma-1_memory warmup-1_test_accuracy init-1_train_accuracy val_accuracy_vs_time \
           test_accuracy_vs_time objective residual_z residual_a multiplier strong-1_phases \
           strong-1_imbalance weak-1_phases weak-1_imbalance; do
  check "figure $fig.png is a PNG" is_png out/figures/$fig.png
done
S=out/figures/src
check "accuracy against wall time: one curve per method, x is t_wall (admm epoch 3 at 3.3 s)" \
  bash -c "grep -q '^# admm (G[0-9]*, 2 runs)' $S/test_accuracy_vs_time.dat && grep -q '^ 3.3 85 80 90' $S/test_accuracy_vs_time.dat"
check "convergence figures skip the methods without the value: residual_z has admm and bcd only" \
  test "$(grep -c '^# [a-z-]*, no acceleration, M not recorded (G' $S/residual_z.dat)" = 2
check "multiplier: admm only" test "$(grep '^# [a-z-]*, no acceleration, M not recorded (G' $S/multiplier.dat | cut -d' ' -f2 | tr '\n' ' ')" = "admm, "
check "speed-up and efficiency on a log2 rank axis with the ideal line" \
  bash -c "grep -q 'set logscale x 2' $S/speedup_vs_ranks.gp && grep -q 'set logscale x 2' $S/efficiency_vs_ranks.gp && grep -q \"title 'ideal (ranks / 1)'\" $S/speedup_vs_ranks.gp && grep -q \"title 'ideal (efficiency 1)'\" $S/efficiency_vs_ranks.gp"
check "phases: stacked bars, one layer per phase, one bar per rank count" \
  bash -c "grep -q 'rowstacked' $S/strong-1_phases.gp && test \$(grep -c '^ \"[0-9]* rank' $S/strong-1_phases.dat) = 3 && grep -q \"title 'comm_gather'\" $S/strong-1_phases.gp"
check "load imbalance: log2 rank axis, a line at 1 (balanced)" \
  bash -c "grep -q 'set logscale x 2' $S/strong-1_imbalance.gp && grep -q \"title 'balanced (max = mean)'\" $S/strong-1_imbalance.gp"
# thesis_refs FILE...: lines naming a figure or table of the thesis by number
thesis_refs() { grep -hE 'Figs? [0-9]|Fig\. [0-9]|Table 4\.' "$@"; }
check "user-facing names are plain words: no thesis figure number in a title or heading" \
  bash -c "$(declare -f thesis_refs); ! grep -h '^set title' $S/*.gp | thesis_refs && ! grep -h '^#' out/tables/*.md out/report.md | thesis_refs"
check "the thesis's figure numbers appear once, as a note at the end of the report" \
  bash -c "$(declare -f thesis_refs); sed -n '/^## Note: the thesis/,\$p' out/report.md | grep -q 'Fig. 4.1' && test \$(thesis_refs out/report.md out/tables/*.md | wc -l) = 1"

# readable axes: a tic per epoch only while there are at most ten epochs
mkdir -p long/res
"$fixture" long/res/a.h5 method=gd epochs=60
"$fixture" long/res/b.h5 method=adam epochs=45
"$analyze" long/res --out long/out > /dev/null 2>&1
check "60 epochs: gnuplot chooses the epoch tics (no tic per epoch)" \
  bash -c "test -f long/out/figures/src/test_accuracy.gp && ! grep -q 'set xtics 1\$' long/out/figures/src/test_accuracy.gp && grep -q 'set xtics 1\$' out/figures/src/test_accuracy.gp"
check "report states the seed aggregation" grep -q "differ only in \`seed\`" out/report.md
check "report says mean ± std" grep -q "mean ± std" out/report.md
check "report has a Flagged files section listing the truncated copy" \
  bash -c "sed -n '/^## Flagged files/,\$p' out/report.md | grep -q 'bad/truncated.h5'"

# --- threads per rank: part of the grouping key ---------------------------------------------------
# gd at 1 rank: seeds 1, 2 with 1 thread (60, 80 % -> 70, 1 s), seed 1 with 2 threads (50 %, 0.5 s),
# two files from before threads_per_rank (unknown: 2 s); at 2 ranks one run per thread count
# (1 thread 0.5 s, 2 threads 0.3 s): a strong family per thread count, never one mixing them
mkdir -p threads/res
"$fixture" threads/res/t1_s1.h5 method=gd threads=1 seed=1 acc=0.6 t=1
"$fixture" threads/res/t1_s2.h5 method=gd threads=1 seed=2 acc=0.8 t=1
"$fixture" threads/res/t2_s1.h5 method=gd threads=2 seed=1 acc=0.5 t=0.5
"$fixture" threads/res/old_s1.h5 method=gd omit=threads_per_rank seed=1 acc=0.4 t=2
"$fixture" threads/res/old_s2.h5 method=gd omit=threads_per_rank seed=2 acc=0.4 t=2
"$fixture" threads/res/t1_p2.h5 method=gd threads=1 ranks=2 t=0.5
"$fixture" threads/res/t2_p2.h5 method=gd threads=2 ranks=2 t=0.3
mkdir -p threads/res/bad
"$fixture" threads/res/bad/negative.h5 method=gd threads=-1   # out of range: refused, not grouped
"$analyze" threads/res --out threads/out > threads/stdout.txt 2> threads/stderr.txt
TT=threads/out/tables
tg() { csv $TT/runs.csv "file=threads/res/$1" group; }
check "threads: 7 runs in 5 groups (1 and 2 threads per rank, unknown; at 1 and 2 ranks), 1 flagged" \
  grep -q "8 results files: 7 analysed in 5 groups, 1 flagged" threads/stdout.txt
check "threads: a negative threads_per_rank is refused with one line naming it" \
  grep -q "refused threads/res/bad/negative.h5: attribute /threads_per_rank = -1 is out of range" threads/stderr.txt
check "threads: the two 1-thread runs are one group (2 runs, 70 %)" \
  bash -c "$(declare -f csv near); test $(tg t1_s1.h5) = $(tg t1_s2.h5) && test \$(csv $TT/configs.csv group=$(tg t1_s1.h5) runs) = 2 && near \$(csv $TT/configs.csv group=$(tg t1_s1.h5) test_acc_pct_mean) 70"
check "threads: the 2-thread run of the same configuration is a group of its own (1 run, 50 %)" \
  bash -c "$(declare -f csv near); test $(tg t2_s1.h5) != $(tg t1_s1.h5) && test \$(csv $TT/configs.csv group=$(tg t2_s1.h5) runs) = 1 && near \$(csv $TT/configs.csv group=$(tg t2_s1.h5) test_acc_pct_mean) 50"
check "threads: the files without threads_per_rank group only with each other (2 runs)" \
  bash -c "$(declare -f csv); test $(tg old_s1.h5) = $(tg old_s2.h5) && test $(tg old_s1.h5) != $(tg t1_s1.h5) && test $(tg old_s1.h5) != $(tg t2_s1.h5) && test \$(csv $TT/configs.csv group=$(tg old_s1.h5) runs) = 2"
check "threads: runs and configs show threads_per_rank (1, 2; empty CSV field, '-' in Markdown, when unknown)" \
  bash -c "$(declare -f csv); test \$(csv $TT/runs.csv file=threads/res/t2_s1.h5 threads_per_rank) = 2 && test \$(csv $TT/configs.csv group=$(tg t1_s1.h5) threads_per_rank) = 1 && test -z \"\$(csv $TT/runs.csv file=threads/res/old_s1.h5 threads_per_rank)\" && grep -q '^| threads/res/old_s1.h5 |.* | - |' $TT/runs.md"
check "threads: group labels name the thread count where it differs (threads=1, threads=2, threads=unknown)" \
  bash -c "$(declare -f csv); csv $TT/groups.csv group=$(tg t1_s1.h5) label | grep -q 'threads=1\$' && csv $TT/groups.csv group=$(tg t2_s1.h5) label | grep -q 'threads=2\$' && csv $TT/groups.csv group=$(tg old_s1.h5) label | grep -q 'threads=unknown\$'"
check "threads: one strong family per thread count: speed-up 2 at 1 thread, 1.6667 at 2 threads" \
  bash -c "$(declare -f csv near); test \$(grep -c '^strong-' $TT/scaling.csv) = 4 && f1=\$(csv $TT/scaling.csv group=$(tg t1_p2.h5) family) && f2=\$(csv $TT/scaling.csv group=$(tg t2_p2.h5) family) && test \$f1 != \$f2 && test \$(csv $TT/scaling.csv family=\$f1,ranks=1 threads_per_rank) = 1 && test \$(csv $TT/scaling.csv family=\$f2,ranks=1 threads_per_rank) = 2 && near \$(csv $TT/scaling.csv family=\$f1,ranks=2 speedup) 2 && near \$(csv $TT/scaling.csv family=\$f2,ranks=2 speedup) 1.66666666666667"
check "threads: scaling figures name the threads per rank of each family" \
  bash -c "grep -q \"1 threads/rank'\" threads/out/figures/src/speedup_vs_ranks.gp && grep -q \"2 threads/rank'\" threads/out/figures/src/efficiency_vs_ranks.gp"
check "threads: the unknown runs are said so (report.md and one stderr line)" \
  bash -c "grep -q 'Threads per rank unknown.* for 2 of the 7 runs' threads/out/report.md && test \$(grep -c 'do not record threads_per_rank' threads/stderr.txt) = 1"
check "threads: epochs.csv has the root threads_per_rank, empty for the old files" \
  bash -c "$(declare -f csv); test \$(csv $TT/epochs.csv file=threads/res/t2_s1.h5,epoch=1 threads_per_rank) = 2 && test -z \"\$(csv $TT/epochs.csv file=threads/res/old_s1.h5,epoch=1 threads_per_rank)\""
# shellcheck disable=SC2046  # one argument per file
out=$("$checker" threads/out --valid $(find threads/res -name '*.h5' ! -path '*/bad/*' | sort) --flagged threads/res/bad/negative.h5 2>&1)
checker_counts "$out"

# --- Anderson acceleration: one curve per method and M, the reach table ------------------------
# objective = q^e (objq), test_acc = acc e / E, val_acc = val e / E, t_epoch = t (make_fixture.c)
mkdir -p aa/res
A=aa/res
# bcd plain (M = 0 recorded): two seeds, 1 s and 1.5 s per epoch, 60 epochs, q = 0.8
"$fixture" $A/bcd_m0_s1.h5 method=bcd anderson=0 objq=0.8 epochs=60 acc=0.99 val=0.98 seed=1 t=1
"$fixture" $A/bcd_m0_s2.h5 method=bcd anderson=0 objq=0.8 epochs=60 acc=0.99 val=0.98 seed=2 t=1.5
# bcd m=8: q = 0.5 (reaches 0.8^50 at epoch 17), 30 epochs of 2 s
"$fixture" $A/bcd_m8.h5 method=bcd anderson=8 objq=0.5 epochs=30 acc=0.99 val=0.98 t=2
# bcd m=4: q = 0.6, stops at 93 %: 95 % and 97 % never reached (empty cells)
"$fixture" $A/bcd_m4.h5 method=bcd anderson=4 objq=0.6 epochs=60 acc=0.93 val=0.93 t=1.2
# a bcd file older than --anderson (no attribute, no anderson_* datasets): M not recorded, its
# own group and its own plain group; the m=8 group takes the recorded M = 0 group as plain
"$fixture" $A/bcd_old.h5 method=bcd objq=0.8 epochs=60 acc=0.99 val=0.98
# admm m=8 with no plain admm run: no objective rows; gd (no anderson): its own plain
"$fixture" $A/admm_m8.h5 method=admm anderson=8 objq=0.7 epochs=20 acc=0.96
"$fixture" $A/gd.h5 method=gd epochs=10 acc=0.95 t=0.5
"$analyze" $A --out aa/out > aa/stdout.txt 2> aa/stderr.txt
check "anderson: admm-analyze exits 0; 7 files in 6 groups (M never pooled)" \
  grep -q "7 results files: 7 analysed in 6 groups" aa/stdout.txt
AT=aa/out/tables AS=aa/out/figures/src
ag() { csv $AT/runs.csv file=$A/$1 group; }
check "anderson: the two M = 0 seeds are one group, M = 8, M = 4 and the old file each their own" \
  bash -c "$(declare -f csv ag); A=$A AT=$AT; test \$(ag bcd_m0_s1.h5) = \$(ag bcd_m0_s2.h5) && test \$(ag bcd_m8.h5) != \$(ag bcd_m0_s1.h5) && test \$(ag bcd_m4.h5) != \$(ag bcd_m0_s1.h5) && test \$(ag bcd_old.h5) != \$(ag bcd_m0_s1.h5)"
check "anderson: reach table, bcd m=8 reaches the plain objective at epoch 50 (0.8^50) at epoch 17, 34 s" \
  bash -c "$(declare -f csv ag near); A=$A AT=$AT; g=\$(ag bcd_m8.h5); test \$(csv $AT/reach.csv group=\$g,level_rule='plain at epoch 50' iterations) = 17 && near \$(csv $AT/reach.csv group=\$g,level_rule='plain at epoch 50' seconds) 34 && test \$(csv $AT/reach.csv group=\$g,level_rule='plain at epoch 50' plain_group) = \$(ag bcd_m0_s1.h5)"
check "anderson: reach table, plain bcd reaches its own level at epoch 50 in 62.5 s (mean of 50 s, 75 s)" \
  bash -c "$(declare -f csv ag near); A=$A AT=$AT; g=\$(ag bcd_m0_s1.h5); test \$(csv $AT/reach.csv group=\$g,level_rule='plain at epoch 50' iterations) = 50 && near \$(csv $AT/reach.csv group=\$g,level_rule='plain at epoch 50' seconds) 62.5"
check "anderson: reach table, never reached is an empty cell (bcd m=4 at 95 % test accuracy; '-' in Markdown)" \
  bash -c "$(declare -f csv ag); A=$A AT=$AT; g=\$(ag bcd_m4.h5); test -z \"\$(csv $AT/reach.csv group=\$g,measure=test_acc,level=95 iterations)\" && test \$(csv $AT/reach.csv group=\$g,measure=test_acc,level=95 reached) = 0 && test \$(csv $AT/reach.csv group=\$g,measure=test_acc,level=90 iterations) = 59"
# the tidy table carries /epochs/anderson_*: bcd m=8 refuses at epochs divisible by 4, residual =
# 10 objective = 10 x 0.5^e, |gamma| = 0.5; nothing tried at epoch 1; empty for M = 0 and old files
check "anderson: epochs.csv has anderson_accepted, anderson_residual, anderson_coef_norm (bcd m=8: epoch 4 refused, 5 kept, residual 2.5 at epoch 2)" \
  bash -c "$(declare -f csv near); A=$A AT=$AT; E=\$AT/epochs.csv; test \$(csv \$E file=$A/bcd_m8.h5,epoch=4 anderson_accepted) = 0 && test \$(csv \$E file=$A/bcd_m8.h5,epoch=5 anderson_accepted) = 1 && near \$(csv \$E file=$A/bcd_m8.h5,epoch=2 anderson_residual) 2.5 && near \$(csv \$E file=$A/bcd_m8.h5,epoch=3 anderson_coef_norm) 0.5"
check "anderson: epochs.csv leaves anderson_* empty where nothing was tried (epoch 1, M = 0, a file older than --anderson)" \
  bash -c "$(declare -f csv); A=$A AT=$AT; E=\$AT/epochs.csv; head -1 \$E | tr ',' '\n' | grep -qx anderson_coef_norm && test -z \"\$(csv \$E file=$A/bcd_m8.h5,epoch=1 anderson_accepted)\" && test -z \"\$(csv \$E file=$A/bcd_m0_s1.h5,epoch=3 anderson_residual)\" && test -z \"\$(csv \$E file=$A/bcd_old.h5,epoch=3 anderson_coef_norm)\""
check "anderson: admm m=8 has no plain group: accuracy rows only; the old file shows M empty" \
  bash -c "$(declare -f csv ag); A=$A AT=$AT; g=\$(ag admm_m8.h5); ! grep -q \"^\$g,.*,objective,\" $AT/reach.csv && test -z \"\$(csv $AT/reach.csv group=\$(ag bcd_old.h5),measure=val_acc,level=90 anderson)\""
for fig in objective objective_vs_time residual_z residual_z_vs_time residual_a residual_a_vs_time anderson_residual; do
  check "anderson: figure $fig.png is a PNG" is_png aa/out/figures/$fig.png
done
check "anderson: convergence curves are labelled in plain words, one per method and M, log y axis" \
  bash -c "grep -q '^# bcd, Anderson m=8 (G' $AS/objective.dat && grep -q '^# bcd, Anderson m=4 (G' $AS/objective.dat && grep -q '^# bcd, no acceleration (G.*, 2 runs)' $AS/objective.dat && grep -q '^# bcd, no acceleration, M not recorded (G' $AS/objective.dat && grep -q '^# gd, no acceleration (G' $AS/objective.dat && test \$(grep -c '^# [a-z-]*, ' $AS/objective.dat) = 6 && grep -q 'set logscale y 10' $AS/objective.gp && grep -q 'set logscale y 10' $AS/residual_z_vs_time.gp"
check "anderson: against time, x is summed t_epoch (bcd m=8 epoch 3 at 6 s)" \
  bash -c "grep -A4 '^# bcd, Anderson m=8' $AS/objective_vs_time.dat | grep -q '^ 6 0.125 '"
check "anderson: fixed-point residual figure circles the refused epochs (4, 8, ...) of the accelerated groups only" \
  bash -c "test \$(grep -c '^# bcd, Anderson' $AS/anderson_residual.dat) = 2 && ! grep -q 'no acceleration' $AS/anderson_residual.dat && grep -q 'pt 6' $AS/anderson_residual.gp && grep -q 'refused' $AS/anderson_residual.gp"
check "anderson: --ignore anderson is refused (exit 2, one line)" \
  bash -c "'$analyze' $A --out aa/x --ignore anderson > /dev/null 2> aa/err.txt; test \$? = 2 && test \$(wc -l < aa/err.txt) = 1"
# shellcheck disable=SC2046  # one argument per file
out=$("$checker" aa/out --valid $(find $A -name '*.h5' | sort) --flagged 2>&1)
checker_counts "$out"

# --- options and usage --------------------------------------------------------------------------
"$analyze" $R --out out-noplots --no-plots > /dev/null 2>&1
check "--no-plots: exit 0, tables, no PNG" \
  bash -c "test -f out-noplots/tables/runs.csv && ! ls out-noplots/figures/*.png"
"$analyze" $R/admm/base_s1.h5 --out out-one > /dev/null 2>&1
check "one file named explicitly: one group" test "$(tail -n +2 out-one/tables/groups.csv | wc -l)" = 1
"$analyze" $R --out out-ignore --ignore beta --no-plots > /dev/null 2>&1
out=$("$checker" out-ignore --valid $valid --flagged $flagged --ignore beta --no-figures 2>&1)
check "--ignore beta: no beta family" test "$(tail -n +2 out-ignore/tables/sensitivity_beta.csv | wc -l)" = 0
g=$(csv out-ignore/tables/runs.csv file=$R/admm/base_s1.h5 group)
check "--ignore beta: the base group takes the beta runs (4 runs, 67.5 %)" \
  bash -c "$(declare -f near csv); test \$(csv out-ignore/tables/configs.csv group=$g runs) = 4 && near \$(csv out-ignore/tables/configs.csv group=$g test_acc_pct_mean) 67.5"
checker_counts "$out"

usage_case() { # EXPECTED_RC ARGS...: exit status and exactly one line on stderr
  local want=$1
  shift
  "$analyze" "$@" > /dev/null 2> err.txt
  local rc=$?
  [ $rc -eq "$want" ] && [ "$(wc -l < err.txt)" -eq 1 ]
}
check "no arguments: exit 2, one line" usage_case 2
check "unknown option: exit 2, one line" usage_case 2 $R --out x --frobnicate
check "no --out: exit 2, one line" usage_case 2 $R
check "missing input path: exit 2, one line" usage_case 2 does-not-exist --out x
check "folder without results: exit 1, one line" usage_case 1 empty --out x
check "--help: exit 0 with usage" bash -c "'$analyze' --help | grep -q '^usage: admm-analyze'"
finish
