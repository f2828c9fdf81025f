#!/usr/bin/env bash
# Mutation check of tests/test_guards.sh: for each guard, break the source the way the guard
# exists to catch, rebuild admm-train, run the guard test and record which checks failed.
# Every mutation must be caught by at least one FAIL line. The mutated files are restored with
# `git checkout` after each mutation and on exit or interrupt, and admm-train is rebuilt from the
# restored sources at the end.
# Not a ctest test (it rebuilds admm-train seven times). Usage: bash tests/mutate-guards.sh [BUILD_DIR]
# (default: build in the repository root; configured, with admm-train, make_idx and check_run built).
set -u
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel) || exit 2
build=$(realpath "${1:-$root/build}") || exit 2
cd "$root" || exit 2
files=(jobs/train.c io/dataset.c io/results.c)
for exe in jobs/admm-train tests/make_idx tests/check_run; do
  [ -x "$build/$exe" ] || { echo "mutate-guards: $build/$exe is missing (configure and build $build first)" >&2; exit 2; }
done
if ! git diff --quiet HEAD -- "${files[@]}"; then
  echo "mutate-guards: refusing to run: uncommitted changes to $(git diff --name-only HEAD -- "${files[@]}" | tr '\n' ' ')" >&2
  exit 2
fi

log=$(mktemp)
restore() { git checkout -- "${files[@]}"; }
trap 'restore; rm -f "$log"' EXIT
trap 'echo "mutate-guards: interrupted; sources restored, rebuild admm-train before use" >&2; exit 130' INT TERM
rebuild() { cmake --build "$build" -j1 --target admm-train >"$log" 2>&1; }
# the build's launcher (tests/nn-mpiexec: its MPI, MPIEXEC_* flags), or MPIEXEC, or mpiexec.mpich
launcher=${MPIEXEC:-$build/tests/nn-mpiexec}
[ -x "$launcher" ] || command -v "$launcher" >/dev/null || launcher=mpiexec.mpich
guards() { bash tests/test_guards.sh "$build/jobs/admm-train" "$build/tests/make_idx" "$build/tests/check_run" "$launcher"; }

# The unmutated tree must pass, or the mutation results mean nothing.
if ! rebuild; then cat "$log"; echo "mutate-guards: the unmutated tree does not build" >&2; exit 2; fi
if ! out=$(guards 2>&1); then echo "$out"; echo "mutate-guards: the guard test fails on the unmutated tree" >&2; exit 2; fi

caught=0 missed=0
# mutate WHAT FILE PERL_SUBSTITUTION: the substitution (s/.../.../g on the whole file) must match exactly once.
mutate() {
  local what=$1 file=$2 subst=$3 result
  if ! perl -0pi -e "\$n += ($subst); END { exit(\$n == 1 ? 0 : 3) }" "$file" || git diff --quiet -- "$file"; then
    result="SUBSTITUTION DID NOT MATCH EXACTLY ONCE in $file: NOT CAUGHT"
  elif ! rebuild; then
    result="BUILD FAILED: NOT CAUGHT"
    sed 's/^/  | /' "$log" | tail -20
  else
    local fails
    fails=$(guards 2>&1 | sed -n 's/^FAIL //p' | paste -sd ';' - | sed 's/;/; /g')
    [ -n "$fails" ] && result="caught by: $fails" || result="NOT CAUGHT"
  fi
  restore
  case $result in caught*) caught=$((caught + 1)) ;; *) missed=$((missed + 1)) ;; esac
  echo "mutation: $what -> $result"
}

mutate "kept weights not restored to the best-validation epoch (no nn_model_copy(&net, &best) before the final evaluation)" \
  jobs/train.c 's/\n[ \t]*R\(nn_model_copy\)\(&net, &best\);[ \t]*(?=\n[ \t]*split_score tr = )//g'
mutate "best epoch chosen by test accuracy (va.acc -> te.acc in the early-stopping candidate)" \
  jobs/train.c 's/(double v = data\.val\.n_global > 0 \? )va\.acc( : )/${1}te.acc$2/g'
mutate "early stopping disabled (no break after stop_reason = \"early_stopping\")" \
  jobs/train.c 's/(stop_reason = "early_stopping";)\s*break;/$1/g'
mutate "ADMM multiplier updated during warm-up (method.epoch gets 0 instead of warm)" \
  jobs/train.c 's/(method\.epoch\(method\.self, e, )warm(, &st, &t\))/${1}0$2/g'
mutate "validation read from the first training samples (io/dataset.c: val read_slice from first, not n_train + first)" \
  io/dataset.c 's/(read_slice\(&f\[0\], &f\[1\], )n_train \+ first(, count, &d->val,)/${1}first$2/g'
mutate "test split read from the training file (io/dataset.c: test read_slice from &f[0], &f[1])" \
  io/dataset.c 's/read_slice\(&f\[2\], &f\[3\](, first, count, &d->test,)/read_slice(&f[0], &f[1]$1/g'
mutate "every HDF5 epoch row written to row 0 (io/results.c: append_row start[0] = 0, not r->rows)" \
  io/results.c 's/(hsize_t start\[2\] = \{ )r->rows(, 0 \})/${1}0$2/g'

# Leave the build with the restored sources' admm-train.
rebuild || { cat "$log"; echo "mutate-guards: rebuilding the restored tree failed" >&2; }
echo "$caught caught, $missed not caught"
[ "$missed" -eq 0 ]
