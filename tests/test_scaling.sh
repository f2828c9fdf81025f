#!/usr/bin/env bash
# The scaling study end to end on the synthetic set (seconds): jobs/study-scaling.sh at 1 and 2
# ranks, then admm-analyze --scaling. Asserts the files and their figures, not speed:
#   - every (series, method, ranks) point has a row, the model a prediction for it;
#   - the last line of the study is model_max_rel_error=X, X the largest |error| of the table;
#   - the message counters see the 2-rank runs' traffic and none at 1 rank;
#   - the flops per rank halve from 1 to 2 ranks in the strong series (data parallel work):
#     bcd and dladmm; resnet-admm's stay above half (every rank factors the same small systems);
#   - dladmm's and resnet-admm's elementwise bytes are counted, and halve too (all per sample);
#   - the projection has every rank count 16..1024 for every method;
#   - phase_stream adds up to stream_bytes; resnet-admm's local solves are counted, measured by
#     the microbench and priced by the model;
#   - Adam's products are priced at the microbench's step_cycle figure for its rule (median
#     round), and every microbench figure has its median round beside its best;
#   - a run at 2 BLAS threads per rank added to the folder is refused by --scaling (one line).
# Usage: test_scaling.sh SOURCE_DIR ADMM_TRAIN ADMM_MICROBENCH ADMM_ANALYZE MPIEXEC
set -uo pipefail
src=$1 train=$2 bench=$3 analyze=$4 mpiexec=$5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $1"; fi; }

ADMM_TRAIN=$train ADMM_MICROBENCH=$bench ADMM_ANALYZE=$analyze MPIEXEC=$mpiexec \
  bash "$src/jobs/study-scaling.sh" --data synthetic --ranks 1,2 --methods bcd,adam,dladmm,resnet-admm --per-rank 256 \
  --out "$tmp/study" >"$tmp/out.txt" 2>"$tmp/err.txt"
rc=$?
ok "study exits 0 (rc=$rc: $(tail -3 "$tmp/err.txt"))" "[ $rc -eq 0 ]"
csv=$tmp/study/report/scaling.csv
ok "scaling.csv, projection.csv and scaling.md written" \
  "[ -s $csv ] && [ -s $tmp/study/report/projection.csv ] && [ -s $tmp/study/report/scaling.md ]"
ok "16 rows: 2 series x 4 methods x 2 rank counts" "[ \$(tail -n +2 $csv | wc -l) -eq 16 ]"
col() { head -1 "$csv" | tr , '\n' | grep -nx "$1" | cut -d: -f1; }
field() { awk -F, -v s="$1" -v m="$2" -v r="$3" -v c="$(col "$4")" '$1==s && $2==m && $3==r {print $c}' "$csv"; }
ok "every run has a model prediction" "[ \$(awk -F, -v c=$(col t_model_s) 'NR>1 && \$c==\"\"' $csv | wc -l) -eq 0 ]"
last=$(tail -1 "$tmp/out.txt")
ok "last line is model_max_rel_error=X ('$last')" "[[ '$last' =~ ^model_max_rel_error=[0-9.]+$ ]]"
max=$(awk -F, -v c="$(col model_rel_error)" 'NR>1 {e=$c<0?-$c:$c; if (e>m) m=e} END {printf "%.4f", m}' "$csv")
ok "model_max_rel_error ($last) is the table's largest |error| ($max)" "[ '${last#*=}' = '$max' ]"
for m in bcd adam dladmm resnet-admm; do
  s1=$(field strong $m 1 bytes_sent_per_rank) s2=$(field strong $m 2 bytes_sent_per_rank)
  ok "$m: no bytes sent at 1 rank ($s1), some at 2 ($s2)" "awk 'BEGIN {exit !($s1 == 0 && $s2 > 0)}'"
done
f1=$(field strong bcd 1 flops_per_rank) f2=$(field strong bcd 2 flops_per_rank)
ok "bcd flops per rank halve from 1 to 2 ranks ($f1 -> $f2)" "awk 'BEGIN {r = $f2 / $f1; exit !(r > 0.45 && r < 0.6)}'"
f1=$(field strong dladmm 1 flops_per_rank) f2=$(field strong dladmm 2 flops_per_rank)
ok "dladmm flops per rank halve from 1 to 2 ranks ($f1 -> $f2)" "awk 'BEGIN {r = $f2 / $f1; exit !(r > 0.45 && r < 0.55)}'"
# resnet-admm: the per-sample products halve, its n x n systems (potrf, W^T W, the power
# iterations) are repeated on every rank: more than half, but not the whole
f1=$(field strong resnet-admm 1 flops_per_rank) f2=$(field strong resnet-admm 2 flops_per_rank)
ok "resnet-admm flops per rank: above half at 2 ranks, replicated solves ($f1 -> $f2)" \
  "awk 'BEGIN {r = $f2 / $f1; exit !(r > 0.505 && r < 0.65)}'"
# resnet-admm's own loops (solver/resnet_admm.c: per block and iteration the targets, the
# sums column, the U step's 7 arrays, the V step's 5 or more, the multipliers' 4 + 4), not
# only the bias broadcasts of its products (about 5 arrays a block): at least 20 arrays of
# width 256 a block, 4 blocks, per training sample (synthetic: 1792), float64
b1=$(field strong resnet-admm 1 stream_bytes_per_rank)
ok "resnet-admm: its elementwise loops are counted ($b1 bytes >= 20 x 256 x 4 x 8 a sample)" \
  "awk 'BEGIN {exit !($b1 / 1792 >= 20 * 256 * 4 * 8)}'"
for m in dladmm resnet-admm; do
  b1=$(field strong $m 1 stream_bytes_per_rank) b2=$(field strong $m 2 stream_bytes_per_rank)
  ok "$m: elementwise bytes counted and halved at 2 ranks ($b1 -> $b2)" \
    "awk 'BEGIN {exit !($b1 > 0 && $b2 / $b1 > 0.45 && $b2 / $b1 < 0.56)}'"
done
# the elementwise bytes by phase (phase_stream) add up to stream_bytes over the step's seven
# phases; resnet-admm's local LAPACK solves are counted apart (flops_local_solve) and the model
# prices them at the microbench's local_solve figure (model-by-phase.csv: a local_solve row)
f=$tmp/study/strong/resnet-admm-r1.h5
row1() { h5dump -w 0 -y -d "/epochs/$1" "$f" | awk '/DATA \{/ {on = 1; next} on && /\}/ {exit} on' | head -1 | tr -d ' '; }
ps=$(row1 phase_stream | awk -F, '{printf "%.9g", $1 + $2 + $3 + $4 + $5 + $6 + $7}') sb=$(row1 stream_bytes | cut -d, -f1)
ok "resnet-admm: phase_stream's step phases add up to stream_bytes ($ps, $sb)" \
  "awk 'BEGIN {d = $ps - $sb; exit !($sb > 0 && d * d <= 1e-8 * $sb * $sb)}'"
fl=$(row1 flops_local_solve | cut -d, -f1)
tl=$(awk -F, '$1 == "strong" && $2 == "resnet-admm" && $3 == 1 && $6 == "local_solve" {print $10 "," $11}' \
  "$tmp/study/report/model-by-phase.csv")
ok "resnet-admm: local solves counted ($fl flops), measured by the microbench, priced by the model (flops,s: $tl)" \
  "grep -q 'what=local_solve n=' $tmp/study/microbench/r1.txt && awk 'BEGIN {exit !($fl > 0 && ${tl%,*} > 0 && ${tl#*,} != 0)}'"
# the gradient methods' products are priced at their update rule's step_cycle figure (the step
# inside the training's cycle), its median round, at the samples per rank of the run: Adam at
# rule adam, bcd's sweep figures untouched; every microbench figure has its median beside it
mb=$tmp/study/microbench/r1.txt
n1=$(field strong adam 1 n_train)
cyc=$(awk -v n="$n1" '/what=step_cycle rule=adam / {for (i = 1; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = kv[2]}
  if (v["n"] == n) print v["gflops_median"]}' "$mb")
rate=$(awk -F, -v f="$(col flops_per_rank)" -v t="$(col t_compute_s)" '$1 == "strong" && $2 == "adam" && $3 == 1 {printf "%.6g", $f / $t / 1e9}' "$csv")
ok "adam at 1 rank: compute priced at step_cycle rule=adam's median round at n=$n1 ($rate against ${cyc:-none} GFLOP/s)" \
  "[ -n '$cyc' ] && awk 'BEGIN {d = $rate / $cyc - 1; exit !(d * d < 1e-6)}'"
ok "step_cycle: 3 rules at each of the 2 sample counts; every rate and time figure has its median" \
  "[ \$(grep -c 'what=step_cycle rule=' $mb) -eq 6 ] && ! grep -E 'gflops=|gbytes_per_s=|seconds=' $mb | grep -vq '_median='"
proj=$tmp/study/report/projection.csv
for m in bcd adam dladmm resnet-admm; do
  ok "projection: 7 rank counts for $m" "[ \$(grep -c '^$m,' $proj) -ge 7 ]"
done
ok "the report answers the question" "grep -q 'sooner than Adam' $tmp/study/report/scaling.md"
# a run at 2 BLAS threads per rank dropped into the study is refused, not pooled with its points
cp -r "$tmp/study" "$tmp/study2" && rm -rf "$tmp/study2/report"
OPENBLAS_NUM_THREADS=2 "$mpiexec" -n 1 "$train" --data synthetic --method bcd --epochs 2 --quiet 1 \
  --output "$tmp/study2/strong/threads2.h5" >"$tmp/t2.txt" 2>&1
"$analyze" --scaling "$tmp/study2" --out "$tmp/study2/report" --no-plots >"$tmp/out2.txt" 2>"$tmp/err2.txt"
ok "--scaling refuses a run at 2 threads per rank, one line naming it ($(head -c 300 "$tmp/err2.txt"))" \
  "grep -q 'refused .*threads2.h5: threads_per_rank = 2: ' $tmp/err2.txt && [ \$(grep -c threads_per_rank $tmp/err2.txt) -eq 1 ]"
ok "... and its table keeps the study's 16 points" "[ \$(tail -n +2 $tmp/study2/report/scaling.csv | wc -l) -eq 16 ]"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
