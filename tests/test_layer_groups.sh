#!/usr/bin/env bash
# resnet-admm --layer-groups G (issue 16 item 3) on tiny regression problems: the refusals (one
# line naming the option, every rank exits non-zero, no results file); G groups on G x D ranks
# against the same schedule run on one rank (the groups one after another, the same data
# flow): the same bits at D = 1 (G = 2, 4, 8), 1e-10 at D = 2; odd-even against the serial layer
# order it is defined to equal (--group-schedule serial); jacobi is another iteration (differs);
# --layer-groups 1 is the plain method; the results file records G, D and the whole network.
# Usage: test_layer_groups.sh ADMM_TRAIN TEST_GRADIENT_F64 MPIEXEC [fast|wide]: fast runs 1 and 2 ranks
# (G = 2 and 4), wide 4 and 8 ranks (G = 4, 8; G = 2 with D = 2).
set -u
train=$(realpath "$1") h5tool=$(realpath "$2") mpiexec=$3 mode=${4:-fast}
source "$(dirname "$(realpath "$0")")/harness.sh"
same() { "$mpiexec" -n 1 "$h5tool" h5cmp "$1" "$2" "$3" >cmp.txt 2>&1; }

# Bytes of the weights a rank of group g of G holds (the model and the driver's kept copy, float64):
# its layers g L / G + 1 .. (g + 1) L / G and the next group's first (solver/layer_groups.h); the
# network below: layer 1 is 6 x (4 + 1), the blocks 6 x (6 + 1), layer 8 is 2 x (6 + 1).
held_bytes() {
  local G=$1 g=$2 L=8 lo hi l sum=0
  lo=$((g * L / G + 1)) hi=$(((g + 1) * L / G))
  [ $hi -lt $L ] && hi=$((hi + 1))
  for ((l = lo; l <= hi; l++)); do
    if [ $l = 1 ]; then sum=$((sum + 6 * 5)); elif [ $l = $L ]; then sum=$((sum + 2 * 7)); else sum=$((sum + 6 * 7)); fi
  done
  echo $((2 * 8 * sum))
}

# L = 8 weight layers (6 blocks) of width 6; --validation 0 keeps the last iterate, so the
# stored weights are those of the last iteration, not of a best epoch both runs may share.
# 8 iterations: in the first three the boundary values barely move (a boundary exchange left
# out changes the weights by 1e-14 only: the 1e-10 comparisons would not see it); by the
# eighth they differ by far more than 1e-10.
net=(--method resnet-admm --arch resnet --blocks 6 --width 6 --data regression --layers 4,2 --n-train 160
     --n-test 40 --validation 0 --epochs 8 --patience 0 --quiet 1)

if [ "$mode" = fast ]; then
expect_error "another method refuses the option" "option --layer-groups: does not apply to --method adam" 1 \
  --method adam --arch resnet --blocks 2 --width 4 --data regression --layers 4,1 --layer-groups 2
expect_error "more groups than layers" "option --layer-groups 9: more groups than the 8 weight layers" 1 "${net[@]}" --layer-groups 9
expect_error "ranks not a multiple of G" "option --layer-groups 4: the rank count 2 is not a multiple of it" 2 "${net[@]}" --layer-groups 4
expect_error "checkpoints refused with groups" "option --checkpoint: not supported with --layer-groups 2" 1 "${net[@]}" --layer-groups 2 --checkpoint ck.h5
expect_error "resume refused with groups" "option --resume: not supported with --layer-groups 2" 1 "${net[@]}" --layer-groups 2 --resume ck.h5

run 1 "${net[@]}" --layer-groups 1 --output g1.h5 >/dev/null 2>&1
fi
run 1 "${net[@]}" --output plain.h5 >/dev/null 2>&1
[ "$mode" = fast ] && { same plain.h5 g1.h5 0 && ok "--layer-groups 1 is the plain method (same bits)" || bad "--layer-groups 1 differs from the plain method"; }

if [ "$mode" = fast ]; then
  for sp in 2 3; do
    for sch in jacobi odd-even; do
      run 1 "${net[@]}" --splitting $sp --group-schedule $sch --layer-groups 2 --output e$sp${sch}2.h5 >/dev/null 2>&1
      run 2 "${net[@]}" --splitting $sp --group-schedule $sch --layer-groups 2 --output m$sp${sch}2.h5 >/dev/null 2>&1
      same e$sp${sch}2.h5 m$sp${sch}2.h5 0 && ok "splitting $sp, $sch, G = 2: 2 ranks (D = 1) equal 1 rank bit for bit" ||
        { bad "splitting $sp, $sch, G = 2: 2 ranks vs 1 rank"; tail -3 cmp.txt; }
    done
    # odd-even is the serial order "groups 0, 2, .. then 1, 3, .." (each input to output); at
    # G = 2 that is the plain order. The boundary V step adds the next group's share as one
    # array, so the bits may differ in the last place: 1e-10.
    run 1 "${net[@]}" --splitting $sp --group-schedule odd-even --layer-groups 4 --output e${sp}odd-even4.h5 >/dev/null 2>&1
    run 1 "${net[@]}" --splitting $sp --group-schedule jacobi --layer-groups 4 --output e${sp}jacobi4.h5 >/dev/null 2>&1
    run 1 "${net[@]}" --splitting $sp --group-schedule serial --layer-groups 4 --output s$sp.h5 >/dev/null 2>&1
    same s$sp.h5 e${sp}odd-even4.h5 1e-10 && ok "splitting $sp: odd-even (G = 4) equals its serial order to 1e-10" ||
      { bad "splitting $sp: odd-even vs its serial order"; tail -3 cmp.txt; }
    run 1 "${net[@]}" --splitting $sp --output p$sp.h5 >/dev/null 2>&1
    same p$sp.h5 e${sp}odd-even2.h5 1e-10 && ok "splitting $sp: odd-even at G = 2 equals the plain serial schedule to 1e-10" ||
      { bad "splitting $sp: odd-even G = 2 vs plain"; tail -3 cmp.txt; }
    # jacobi reads the neighbours' previous iterates: another iteration, which the comparisons
    # above must be able to tell apart
    same s$sp.h5 e${sp}jacobi4.h5 1e-6; grep -q 'exceeds 1.0e-06' cmp.txt && ok "splitting $sp: jacobi differs from odd-even's order (above 1e-6)" ||
      bad "splitting $sp: jacobi equals odd-even's order (the comparison cannot tell schedules apart)"
  done
  # more samples than a chunk of the scratch arrays (NN_RADMM_CHUNK = 1024 columns): 2600 on the
  # pipe are three chunks, the last shorter, and the boundary array travels as three messages
  for sp in 2 3; do
    run 1 "${net[@]}" --splitting $sp --n-train 2600 --epochs 4 --layer-groups 2 --output c1-$sp.h5 >/dev/null 2>&1
    run 2 "${net[@]}" --splitting $sp --n-train 2600 --epochs 4 --layer-groups 2 --output c2-$sp.h5 >/dev/null 2>&1
    same c1-$sp.h5 c2-$sp.h5 0 && ok "splitting $sp, G = 2, 2600 samples (3 chunks): 2 ranks equal 1 rank bit for bit" ||
      { bad "splitting $sp, 2600 samples: 2 ranks vs 1 rank"; tail -3 cmp.txt; }
  done
  # one rank runs every group, so it holds the whole network (and its kept copy)
  [ "$(attr e3jacobi2.h5 /model_bytes_max)" = "$(held_bytes 1 0)" ] && [ "$(attr e3jacobi2.h5 /model_bytes_min)" = "$(held_bytes 1 0)" ] &&
    ok "model storage: one rank running 2 groups holds every layer ($(held_bytes 1 0) bytes)" ||
    bad "model storage on one rank: $(attr e3jacobi2.h5 /model_bytes_min) .. $(attr e3jacobi2.h5 /model_bytes_max), not $(held_bytes 1 0)"
  f=m3jacobi2.h5 D=1 shape='( 8, 18 )'
else
  # 4 and 8 ranks: slow on a 2-core machine (MPICH busy-polls; the results file's collective
  # writes dominate), so few and short runs
  run 1 "${net[@]}" --splitting 3 --layer-groups 4 --epochs 2 --output e4.h5 >/dev/null 2>&1
  run 4 "${net[@]}" --splitting 3 --layer-groups 4 --epochs 2 --output m4.h5 >/dev/null 2>&1
  same e4.h5 m4.h5 0 && ok "splitting 3, jacobi, G = 4: 4 ranks (D = 1) equal 1 rank bit for bit" || { bad "G = 4: 4 ranks vs 1 rank"; tail -3 cmp.txt; }
  run 1 "${net[@]}" --splitting 3 --layer-groups 2 --epochs 6 --output e2.h5 >/dev/null 2>&1
  run 4 "${net[@]}" --splitting 3 --layer-groups 2 --epochs 6 --output d2.h5 >/dev/null 2>&1
  same e2.h5 d2.h5 1e-10 && ok "splitting 3, jacobi, G = 2 on 4 ranks (D = 2) equals 1 rank to 1e-10" || { bad "G = 2, D = 2 vs 1 rank"; tail -3 cmp.txt; }
  # G = 8: one layer per group; odd-even, 2-splitting
  run 1 "${net[@]}" --splitting 2 --group-schedule odd-even --layer-groups 8 --epochs 2 --output e8.h5 >/dev/null 2>&1
  run 8 "${net[@]}" --splitting 2 --group-schedule odd-even --layer-groups 8 --epochs 2 --output m8.h5 >/dev/null 2>&1
  same e8.h5 m8.h5 0 && ok "splitting 2, odd-even, G = 8 (a layer per group): 8 ranks equal 1 rank bit for bit" ||
    { bad "G = 8: 8 ranks vs 1 rank"; tail -3 cmp.txt; }
  f=d2.h5 D=2 shape='( 6, 36 )'
fi

# The results file: G, D, the groups' first layers, a row of phases per rank, the whole network
[ "$(attr $f /layer_groups)" = 2 ] && [ "$(attr $f /data_shards)" = $D ] && [ "$(attr $f /config/layer_groups)" = 2 ] &&
  [ "$(attr $f /config/group_schedule)" = jacobi ] && h5dump -a /group_first_layer $f | grep -q '(0): 1, 5' &&
  ok "results: layer_groups 2, data_shards $D, group_first_layer 1,5, /config records G and the schedule" ||
  bad "results: G and D ($(attr $f /layer_groups) $(attr $f /data_shards))"
# No rank holds another group's weights: the bytes of model storage per rank (the smallest and the
# largest rank's, as allocated) are group 1's and group 0's layers, each with the next group's
# first; a rank holding every layer would show the whole network's $(held_bytes 1 0)
[ "$(attr $f /model_bytes_max)" = "$(held_bytes 2 0)" ] && [ "$(attr $f /model_bytes_min)" = "$(held_bytes 2 1)" ] &&
  ok "model storage: a rank holds its group's layers and the next group's first only ($(held_bytes 2 1) and $(held_bytes 2 0) of $(held_bytes 1 0) bytes)" ||
  bad "model storage per rank: $(attr $f /model_bytes_min) .. $(attr $f /model_bytes_max) bytes, not $(held_bytes 2 1) .. $(held_bytes 2 0)"
h5dump -H -d /epochs/phase_rank $f | grep -q "$shape" && ok "results: /epochs/phase_rank holds 9 phases of each rank" ||
  bad "results: phase_rank shape"
# (the bit-for-bit comparisons above include /weights: the one-rank run holds the whole network,
# so a group's layers missing from the gathered file fail them)
nw=$(h5ls -r $f | grep -c '^/weights/[Wb]')
[ "$nw" = 16 ] && ! h5dump -d /weights/W7 $f | grep -q nan && ok "results: the whole network's weights (8 layers) gathered" ||
  bad "results: weights ($nw datasets)"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
