#!/usr/bin/env bash
# An error that only some ranks see ends every rank within seconds, with one line and no files
# left (issue 13, "errors that never hang"). Usage: test_one_rank_fails.sh ADMM_TRAIN MPIEXEC
#
# The failure is injected by the test hook nn_test_fail_point (common/check.c), which the driver
# calls at the end of every epoch and which does nothing unless ADMM_TEST_FAIL_EPOCH is set:
#   ADMM_TEST_FAIL_EPOCH=2 ADMM_TEST_FAIL_RANK=1 [ADMM_TEST_FAIL_KIND=collective|local]
# makes rank 1 alone (or every rank: ADMM_TEST_FAIL_RANK=all) report a failure after epoch 2,
# through CHECK_ALL_RANKS (collective, the default: as a divergence) or CHECK (local: as an
# out-of-memory on that rank). Each case asserts: every process has exited within LIMIT
# seconds of epoch 2's line (a hang is ended by the test), the exit status is non-zero (exactly 1 for collective
# verdicts, which leave through MPI_Finalize without an MPI_Abort), exactly one
# 'admm-train: error:' line naming the injected failure and the rank that saw it, epoch 2
# finished and epoch 3 never ran, and neither OUT, OUT.part nor OUT.lock is left.
set -u
train=$(realpath "$1") mpiexec=$2
export OPENBLAS_NUM_THREADS=1
# Seconds from the end of epoch 2 (its line on stdout) until every process has exited. The
# failure itself takes about 0.2 s; the collective one used to wait 10 s for ranks that never
# came, printing nothing. (Start-up is not counted: parallel HDF5 on 4 ranks sharing 2 cores
# takes seconds to create the file.)
LIMIT=${LIMIT:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
args=(--data synthetic --n-train 300 --n-test 100 --validation 60 --layers 8,6,3 --epochs 20 --patience 0)
now() { date +%s.%N; }

# one_case NAME RANKS FAIL_RANK KIND PATTERN: PATTERN is the error line's expected text (ERE).
one_case() {
  local name=$1 np=$2 who=$3 kind=$4 pattern=$5 out="$work/case-$1.h5"
  local t0 t1 rc lines left procs hung=0
  ADMM_TEST_FAIL_EPOCH=2 ADMM_TEST_FAIL_RANK=$who ADMM_TEST_FAIL_KIND=$kind \
    "$mpiexec" -n "$np" "$train" "${args[@]}" --output "$out" >"$name.out" 2>"$name.err" &
  local launcher=$!
  for _ in $(seq 1200); do   # start-up and two epochs: at most 60 s
    grep -q '^epoch=2 ' "$name.out" && break
    kill -0 $launcher 2>/dev/null || break
    sleep 0.05
  done
  t0=$(now)
  for _ in $(seq $((LIMIT * 20))); do kill -0 $launcher 2>/dev/null || break; sleep 0.05; done
  t1=$(now)
  if kill -0 $launcher 2>/dev/null; then
    hung=1
    kill -TERM $launcher
    sleep 2
    kill -KILL $launcher 2>/dev/null
  fi
  wait $launcher
  rc=$?
  # ranks of this run (its output path is unique) still alive once the launcher is gone
  local pids
  pids=$(pgrep -f -- "--output $out")
  procs=$(echo $pids | wc -w)
  [ -z "$pids" ] || kill -KILL $pids 2>/dev/null
  lines=$(grep -c '^admm-train: error:' "$name.err")
  left=$(ls "$out" "$out.part" "$out.lock" 2>/dev/null | tr '\n' ' ')
  local why=""
  [ $hung -eq 0 ] || why+=" still running ${LIMIT}s after epoch 2"
  [ "$rc" -eq 0 ] && why+=" exit 0"
  [ "$kind" = collective ] && [ "$rc" -ne 1 ] && why+=" rc=$rc (want 1)"
  [ "$kind" = collective ] && grep -q 'Abort(' "$name.err" && why+=" aborted"
  [ "$lines" = 1 ] || why+=" $lines error lines"
  grep -Eq "^admm-train: error: $pattern" "$name.err" || why+=" line does not match '$pattern'"
  grep -q '^epoch=2 ' "$name.out" || why+=" no epoch 2"
  grep -q '^epoch=3 ' "$name.out" && why+=" epoch 3 ran"
  [ -z "$left" ] || why+=" left: $left"
  [ "$procs" -eq 0 ] || why+=" $procs processes left"
  local took
  took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  if [ -z "$why" ]; then ok "$name: rc=$rc, all exited ${took}s after epoch 2, one line"
  else bad "$name:$why (${took}s)"; cat "$name.err"; fi
}

at='check\.c:[0-9]+: injected failure at epoch 2'
one_case np2-rank1-collective 2 1 collective "\[rank 1\] $at \(ADMM_TEST_FAIL_EPOCH, kind collective\)"
one_case np2-rank1-local 2 1 local "\[rank 1\] $at \(ADMM_TEST_FAIL_RANK=1, kind local\)"
one_case np2-rank0-local 2 0 local "\[rank 0\] $at \(ADMM_TEST_FAIL_RANK=0, kind local\)"
# every rank failing is a collective verdict proper: no rank named, clean exit 1
one_case np2-all-collective 2 all collective "$at \(ADMM_TEST_FAIL_EPOCH, kind collective\)"
one_case np4-rank2-collective 4 2 collective "\[rank 2\] $at \(ADMM_TEST_FAIL_EPOCH, kind collective\)"
one_case np4-rank3-local 4 3 local "\[rank 3\] $at \(ADMM_TEST_FAIL_RANK=3, kind local\)"

# The hook is inert without ADMM_TEST_FAIL_EPOCH: the same run completes.
if timeout 60 "$mpiexec" -n 2 "$train" "${args[@]}" --epochs 3 --output "$work/plain.h5" >plain.out 2>plain.err &&
   [ -f plain.h5 ] && [ ! -s plain.err ]; then ok "without the hook the run completes"
else bad "without the hook the run completes"; cat plain.err; fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
