#!/usr/bin/env bash
# Same bits before and after a refactor: runs two admm-train binaries (say, one built from the
# commit before and one from the commit after) on the same small synthetic jobs, every method,
# both precisions, 1 and 2 ranks, and compares byte for byte the final weights (/weights/*)
# and every per-epoch figure that does not measure time (/epochs/loss, objective, residuals,
# multiplier, accuracies). A refactor that must not change behaviour passes every case.
#
#   bash tests/same-bits.sh REF_ADMM_TRAIN NEW_ADMM_TRAIN [MPIEXEC]
#
# MPIEXEC is called as `MPIEXEC -n N PROGRAM ARGS`: default $MPIEXEC, else the new build's
# tests/nn-mpiexec (its MPI and MPIEXEC_* flags), else mpiexec.mpich.
#
# Not a ctest: it needs a second build. Build the reference from a worktree of the old commit:
#   git worktree add --detach ../ref HEAD~1 && cmake -S ../ref -B ../ref/build -DCMAKE_BUILD_TYPE=Release \
#     && cmake --build ../ref/build -j2
# --validation 0 makes the stored weights the last epoch's (with a validation split they would be
# the best epoch's, often the first on this easy data). Odd widths and a small --block put
# block-cyclic edges (partial blocks, ranks owning less) in every grid solve.
set -u
ref=$(realpath "$1") new=$(realpath "$2") mpiexec=${3:-${MPIEXEC:-$(dirname "$(realpath "$2")")/../tests/nn-mpiexec}}
[ -x "$mpiexec" ] || command -v "$mpiexec" >/dev/null || mpiexec=mpiexec.mpich
export OPENBLAS_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0

common=(--data synthetic --n-train 600 --n-test 200 --validation 0 --epochs 3 --quiet 1 --seed 7)
small=(--layers 784,37,23,10 --block 8)  # edges: 37+1 = 38 rows in blocks of 8
wide=(--layers 784,130,10)               # the default block size (64) with a partial last block
# name|ranks|options (sgd takes one sample per step on one rank only: --batch 2 at 2 ranks)
cases=(
  "bcd-small|1 2|--method bcd ${small[*]}"
  "bcd-wide|1 2|--method bcd ${wide[*]}"
  "bcd-grid2x1|2|--method bcd ${small[*]} --grid 2x1"
  "admm-ridge-small|1 2|--method admm ${small[*]} --warmup 1"
  "admm-ridge-wide|1 2|--method admm ${wide[*]} --warmup 1"
  "admm-hinge|1 2|--method admm ${small[*]} --warmup 1 --loss hinge"
  "admm-pinv-small|1 2|--method admm ${small[*]} --warmup 1 --weight-solve pinv"
  "admm-pinv-wide|1 2|--method admm ${wide[*]} --warmup 1 --weight-solve pinv"
  "rf-hinge|1 2|--method random-features ${small[*]}"
  "rf-ls-nobias|1 2|--method random-features ${wide[*]} --loss least-squares --biases no"
  "gd|1 2|--method gd --layers 784,37,23,10"
  "sgd|1|--method sgd --layers 784,37,23,10 --epochs 1"
  "sgd-batch2|2|--method sgd --layers 784,37,23,10 --epochs 1 --batch 2"
  "momentum|1 2|--method momentum --layers 784,37,23,10"
  "adam|1 2|--method adam --layers 784,37,23,10"
)
datasets() { # the weights the file holds, then the per-epoch figures that are not timings
  h5ls -r "$1" | awk '$1 ~ /^\/weights\// { print $1 }'
  for d in loss objective residual_z residual_a multiplier train_acc val_acc test_acc; do echo "/epochs/$d"; done
}
for c in "${cases[@]}"; do
  IFS='|' read -r name ranks opts <<<"$c"
  for prec in float64 float32; do
    for np in $ranks; do
      id="$name $prec np$np"
      ok=1
      for which in ref new; do
        bin=$ref; [ $which = new ] && bin=$new
        # shellcheck disable=SC2086
        if ! "$mpiexec" -n "$np" "$bin" "${common[@]}" $opts --precision "$prec" --output "$work/$which.h5" \
             --force >"$work/$which.log" 2>&1; then
          ok=0; echo "FAIL $id: the $which binary failed:"; tail -3 "$work/$which.log"
        fi
      done
      if [ $ok = 1 ]; then
        list=$(datasets "$work/ref.h5")
        [ "$list" = "$(datasets "$work/new.h5")" ] || { ok=0; echo "FAIL $id: different datasets"; }
        for d in $list; do
          [ $ok = 1 ] || break
          h5dump -d "$d" -b NATIVE -o "$work/ref.bin" "$work/ref.h5" >/dev/null 2>&1 &&
            h5dump -d "$d" -b NATIVE -o "$work/new.bin" "$work/new.h5" >/dev/null 2>&1 &&
            [ -s "$work/ref.bin" ] && cmp -s "$work/ref.bin" "$work/new.bin" ||
            { ok=0; echo "FAIL $id: $d differs"; }
        done
      fi
      if [ $ok = 1 ]; then pass=$((pass + 1)); echo "ok   $id ($(echo "$list" | wc -l) datasets identical)"
      else fail=$((fail + 1)); fi
    done
  done
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
