#!/usr/bin/env bash
# Hostile file input and output, on the real binaries at 2 ranks: an output never destroys
# anything (an input data file, a directory, a stale .part link's target, another run's file,
# a complete results file without --force), damaged gzip and special files are refused by
# name, a disk that fills mid-run ends every rank within 30 s with one line, and admm-analyze
# refuses forged results files. Each failing case: non-zero exit, exactly one
# "admm-train: error:" line matching the expected text, the time to exit, and which files
# are left or kept intact (checksums).
# Usage: test_hostile_io.sh ADMM_TRAIN ADMM_ANALYZE MAKE_IDX H5SETATTR MPIEXEC
set -u
train=$(realpath "$1") analyze=$(realpath "$2") make_idx=$(realpath "$3") h5setattr=$(realpath "$4") mpiexec=$5
export OPENBLAS_NUM_THREADS=1
work=$(mktemp -d)
mounts=()
cleanup() {
  for m in "${mounts[@]}"; do umount "$m" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
pass=0 fail=0
ok()   { pass=$((pass + 1)); echo "ok   $1"; }
bad()  { fail=$((fail + 1)); echo "FAIL $1"; }
skip() { echo "skip $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
sum()   { md5sum <"$1" | cut -d' ' -f1; }
status_of() { h5dump -a /status "$1" 2>/dev/null | grep -o '(0): "[a-z]*"' | cut -d'"' -f2; }

# --force takes a value today; the option parser may turn it into a plain flag
if "$mpiexec" -n 1 "$train" --help 2>/dev/null | grep -Eq -- '^ *--force +N '; then force=(--force 1); else force=(--force); fi

tiny=(--method gd --data synthetic --n-train 300 --n-test 100 --validation 60 --layers 8,6,3 --epochs 3 --quiet 1)

# run_timed ARGS...: runs admm-train at 2 ranks (60 s cap); sets rc, secs, and leaves
# stdout.txt / stderr.txt
run_timed() {
  local t0 t1
  t0=$(date +%s.%N)
  timeout 60 "$mpiexec" -n 2 "$train" "$@" >stdout.txt 2>stderr.txt
  rc=$?
  t1=$(date +%s.%N)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
}

# expect_fail NAME PATTERN MAX_SECONDS ARGS...: non-zero exit (not the 60 s cap) within
# MAX_SECONDS and exactly one error line, matching the extended regex PATTERN.
expect_fail() {
  local name=$1 pattern=$2 max=$3 lines; shift 3
  run_timed "$@"
  lines=$(grep -c '^admm-train: error:' stderr.txt)
  if [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ "$lines" = 1 ] && grep -Eq -- "^admm-train: error: .*$pattern" stderr.txt &&
     awk -v s="$secs" -v m="$max" 'BEGIN { exit !(s <= m) }'; then
    ok "$name (${secs} s)"
  else
    bad "$name (rc=$rc, ${secs} s, error lines=$lines, expected /$pattern/ within $max s)"; cat stderr.txt
  fi
}

# no_leftovers NAME OUT: neither OUT.part nor OUT.lock remains
no_leftovers() {
  check "$1: no $2.part or $2.lock left" bash -c "[ ! -e '$2.part' ] && [ ! -L '$2.part' ] && [ ! -e '$2.lock' ]"
}

# --- data: tiny IDX files ---------------------------------------------------------------------
"$make_idx" images tr-img 200 4 5 && "$make_idx" labels tr-lab 200 10 && "$make_idx" images te-img 50 4 5 &&
  "$make_idx" labels te-lab 50 10 && "$make_idx" images te-img55 50 5 5 || bad "make_idx"
idx=(--method gd --data idx --train-images tr-img --train-labels tr-lab --test-images te-img --test-labels te-lab
     --layers 20,8,10 --epochs 2 --validation 40 --quiet 1)
data_sums=$(md5sum tr-img tr-lab te-img te-lab)
inputs_intact() { [ "$(md5sum tr-img tr-lab te-img te-lab)" = "$data_sums" ]; }

# --- 1. outputs never destroy an input ---------------------------------------------------------
expect_fail "output = training images" "--output tr-img: is the input data file tr-img \(--train-images\)" 10 \
  "${idx[@]}" --output tr-img
check "output = training images: inputs intact" inputs_intact
no_leftovers "output = training images" tr-img
ln -s tr-lab link-to-labels
expect_fail "output = a symlink to the labels" "--output link-to-labels: is the input data file tr-lab" 10 \
  "${idx[@]}" --output link-to-labels
check "output via symlink: inputs intact, link kept" bash -c "[ -L link-to-labels ] && [ \"\$(md5sum tr-img tr-lab te-img te-lab)\" = '$data_sums' ]"
ln tr-img hardlink-img
expect_fail "output = a hard link to the images" "is the input data file tr-img" 10 "${idx[@]}" --output hardlink-img
check "output via hard link: inputs intact" inputs_intact
cp te-lab part-lab.h5.part
part_sum=$(sum part-lab.h5.part)
expect_fail "output whose .part is an input" "its partial file part-lab.h5.part is the input data file" 10 \
  "${idx[@]}" --test-labels part-lab.h5.part --output part-lab.h5
check "output whose .part is an input: input intact" test "$(sum part-lab.h5.part)" = "$part_sum"
# --data mnist reads the standard names under --data-dir; the guard looks before any data is read
mkdir mn
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  cp tr-img "mn/$f"
done
mn_sum=$(sum mn/t10k-labels-idx1-ubyte)
expect_fail "output = a default MNIST file under --data-dir" "is the input data file mn/t10k-labels-idx1-ubyte \(--data-dir\)" 10 \
  --method gd --data mnist --data-dir mn --layers 784,8,10 --epochs 1 --output mn/t10k-labels-idx1-ubyte
check "default MNIST file intact" test "$(sum mn/t10k-labels-idx1-ubyte)" = "$mn_sum"

# --- outputs that cannot be written: refused before training ----------------------------------
mkdir existing-dir
expect_fail "output = an existing directory" "--output existing-dir: is an existing directory" 10 "${tiny[@]}" --output existing-dir
check "output = directory: directory left empty" test -z "$(ls -A existing-dir)"
mkfifo out-fifo
expect_fail "output = a FIFO" "--output out-fifo: is a FIFO \(named pipe\), not a results file" 10 "${tiny[@]}" --output out-fifo
expect_fail "output in a missing directory" "--output no-such-dir/x.h5: cannot create it: directory no-such-dir does not exist" 10 \
  "${tiny[@]}" --output no-such-dir/x.h5
check "missing directory not created" test ! -e no-such-dir
# as root, permission bits do not stop writes: a read-only mount does
mkdir ro
if mount -t tmpfs -o ro,size=64k tmpfs ro 2>/dev/null; then
  mounts+=("$work/ro")
  expect_fail "output in a read-only directory" "--output ro/x.h5: cannot create it: directory ro is not writable \(Read-only file system\)" 10 \
    "${tiny[@]}" --output ro/x.h5
else
  skip "output in a read-only directory (mount -t tmpfs -o ro failed: not root or no mount permission here)"
fi

# --- stale and concurrent runs ------------------------------------------------------------------
echo "precious" >victim
victim_sum=$(sum victim)
ln -s "$work/victim" stale-link.h5.part
run_timed "${tiny[@]}" --output stale-link.h5
check "stale .part symlink: run succeeds (rc=$rc)" test $rc -eq 0
check "stale .part symlink: its target survives" test "$(sum victim)" = "$victim_sum"
check "stale .part symlink: results complete" test "$(status_of stale-link.h5)" = complete
check "stale .part symlink: noted" grep -q 'removed the stale stale-link.h5.part .*symbolic link; its target was left alone' stderr.txt
no_leftovers "stale .part symlink" stale-link.h5
echo "junk from a dead run" >stale-file.h5.part
run_timed "${tiny[@]}" --output stale-file.h5
check "stale regular .part: run succeeds and replaces it (rc=$rc)" bash -c "[ $rc -eq 0 ] && [ \"\$(h5dump -a /status stale-file.h5 | grep -c complete)\" = 1 ]"
no_leftovers "stale regular .part" stale-file.h5
ln -s "$work/victim" locklink.h5.lock
expect_fail "lock file is a symlink" "the lock file locklink.h5.lock is a symbolic link" 10 "${tiny[@]}" --output locklink.h5
check "lock file symlink: its target survives" test "$(sum victim)" = "$victim_sum"

# Two runs on one output: the second fails at once naming the first (host and pid from the
# lock file); the first completes intact. The first run's rank 0 is stopped (SIGSTOP) while
# the second one runs, so the overlap does not depend on the machine's speed. 200 epochs: at
# load 12 on 2 cores (a CI run beside three builds) 1000 of them took 206 s and hit the timeout.
long_epochs=200
long=(--method gd --data synthetic --n-train 300 --n-test 100 --validation 60 --layers 8,6,3 --epochs $long_epochs --patience 0 --quiet 1)
timeout 300 "$mpiexec" -n 2 "$train" "${long[@]}" --output shared.h5 >first.out 2>first.err &
first=$!
for _ in $(seq 300); do [ -s shared.h5.lock ] && [ -e shared.h5.part ] && break; sleep 0.05; done
holder=$(cat shared.h5.lock 2>/dev/null)
host=${holder% *} pid=${holder#* }
if [ -n "$holder" ] && kill -STOP "$pid" 2>/dev/null; then
  part_ino=$(stat -c %i shared.h5.part)
  expect_fail "second run on the same output" "--output shared.h5: in use by another run \(host $host, pid $pid, lock file shared.h5.lock\)" 10 \
    "${long[@]}" --output shared.h5
  check "the lock names the first run's rank 0" bash -c "ps -o args= -p '$pid' | grep -q admm-train"
  check "second run: the first run's .part untouched" test "$(stat -c %i shared.h5.part)" = "$part_ino"
  kill -CONT "$pid"
else
  bad "second run on the same output (the first run never took its lock: '$holder')"; cat first.err
fi
wait "$first"
first_rc=$?
check "first run completes intact (rc=$first_rc)" bash -c "[ $first_rc -eq 0 ] && [ \"\$(h5dump -a /status shared.h5 | grep -c complete)\" = 1 ] && [ \"\$(h5dump -a /epochs_run shared.h5 | grep -o '(0): [0-9]*')\" = '(0): $long_epochs' ]"
no_leftovers "first run" shared.h5

# An existing complete results file is kept unless --force
run_timed "${tiny[@]}" --output done.h5
done_sum=$(sum done.h5)
expect_fail "existing complete file without --force" "--output done.h5: already holds a complete results file; refusing to replace it" 10 \
  "${tiny[@]}" --output done.h5
check "existing complete file intact" test "$(sum done.h5)" = "$done_sum"
no_leftovers "existing complete file" done.h5
echo "notes" >notes.txt
expect_fail "existing other file without --force" "--output notes.txt: already holds a file that is not an admm-nn results file" 10 \
  "${tiny[@]}" --output notes.txt
check "existing other file intact" grep -qx notes notes.txt
run_timed "${tiny[@]}" "${force[@]}" --output done.h5
check "${force[*]} replaces a complete file (rc=$rc)" bash -c "[ $rc -eq 0 ] && [ \"\$(h5dump -a /status done.h5 | grep -c complete)\" = 1 ]"
no_leftovers "${force[*]}" done.h5

# The default name lands in results/, created only for it
mkdir default-cwd
(cd default-cwd && timeout 60 "$mpiexec" -n 2 "$train" "${tiny[@]}" >out.txt 2>&1)
check "default output: results/ created holding one complete file" \
  bash -c "ls default-cwd/results/*.h5 >/dev/null 2>&1 && [ \$(ls default-cwd/results | wc -l) = 1 ]"

# --- 2. gzip input follows the gzip format in full --------------------------------------------
# --n-train 100 --validation 20 reads only the first half of the file: the CRC at its end is
# checked all the same
gz=(--method gd --data idx --train-labels tr-lab --test-images te-img --test-labels te-lab --layers 20,8,10
    --epochs 1 --n-train 100 --validation 20 --quiet 1)
gzip -9 -c tr-img >good.gz
run_timed "${gz[@]}" --train-images good.gz --output gz-good.h5
check "intact gzip trains (rc=$rc)" test $rc -eq 0
size=$(stat -c %s good.gz)
flip() { # flip FILE OFFSET: inverts one byte in place
  local b
  b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  printf "$(printf '\\%03o' $((255 - b)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
cp good.gz badcrc.gz && flip badcrc.gz $((size - 8))   # first byte of the CRC-32 trailer
expect_fail "gzip with a bad CRC" "badcrc.gz: gzip data corrupt \(CRC mismatch\)" 10 "${gz[@]}" --train-images badcrc.gz --output o.h5
cp good.gz badbody.gz && flip badbody.gz $((size / 2))  # a byte of the compressed body
expect_fail "gzip with a flipped body byte" "badbody.gz: gzip data corrupt" 10 "${gz[@]}" --train-images badbody.gz --output o.h5
head -c $((size * 3 / 4)) good.gz >short.gz
expect_fail "truncated gzip" "short.gz: truncated gzip stream" 10 "${gz[@]}" --train-images short.gz --output o.h5
cp tr-img plain.gz
expect_fail "not gzip, named .gz" "plain.gz: not a gzip file" 10 "${gz[@]}" --train-images plain.gz --output o.h5
no_leftovers "gzip cases" o.h5

# --- 3. special files -------------------------------------------------------------------------
mkfifo fifo
expect_fail "FIFO as the training images" "fifo: is a FIFO \(named pipe\), not an IDX file" 10 "${idx[@]}" --train-images fifo --output o.h5
mkdir labels-dir
expect_fail "directory as the training labels" "labels-dir: is a directory, not an IDX file" 10 "${idx[@]}" --train-labels labels-dir --output o.h5
expect_fail "device as the test labels" "/dev/null: is a character device, not an IDX file" 10 "${idx[@]}" --test-labels /dev/null --output o.h5
no_leftovers "special files" o.h5

# --- 4. the message names the right file ------------------------------------------------------
expect_fail "test images of another size" \
  "te-img55 holds 5 x 5 images \(25 pixels\) but the training images tr-img are 4 x 5 \(20 pixels\)" 10 \
  "${idx[@]}" --test-images te-img55 --output o.h5

# --- 5. a disk that fills mid-run -------------------------------------------------------------
# A 300 KiB tmpfs holds the last complete results; a filler leaves 88 KiB, room for the new
# .part's first 64 epochs (76 KiB) but not for the chunks epoch 65 allocates. HDF5 then blocks
# one rank inside H5Dset_extent while the other has returned the error, so the I/O watchdog
# (ADMM_IO_TIMEOUT, 20 s here to leave the run's own time inside the 30 s bound) ends both.
mkdir full
if mount -t tmpfs -o size=300k tmpfs full 2>/dev/null; then
  mounts+=("$work/full")
  run_timed "${tiny[@]}" --output full/out.h5
  full_sum=$(sum full/out.h5)
  head -c 10M /dev/zero >full/filler 2>/dev/null
  truncate -s -88K full/filler
  export ADMM_IO_TIMEOUT=20
  # OpenMPI's MPI-IO (OMPIO, seen with 4.1.4) prints the ENOSPC of its pwritev
  # ("mca_fbtl_posix_pwritev: error in (p)write(v): No space left on device") but no rank got an
  # error back from HDF5: there the watchdog's line, naming the file and the epoch, is the one
  # line (NN_TEST_MPI_FLAVOR: tests/hostile_io/CMakeLists.txt).
  full_error="No space left on device \(while appending epoch [0-9]+"
  [ "${NN_TEST_MPI_FLAVOR:-}" != openmpi ] ||
    full_error="(No space left on device \(while appending epoch [0-9]+|no progress for [0-9]+ s while appending epoch [0-9]+)"
  expect_fail "disk full mid-run" "full/out.h5.part: $full_error" 30 \
    "${long[@]}" "${force[@]}" --output full/out.h5
  unset ADMM_IO_TIMEOUT
  check "disk full: the last complete results intact" test "$(sum full/out.h5)" = "$full_sum"
  check "disk full: the .part removed" test ! -e full/out.h5.part
  check "disk full: no rank left running" bash -c "! pgrep -f 'admm-train.*--output full/[o]ut.h5' >/dev/null"
  # The rank that ended the run may not hold the lock, so its file can remain: it blocks nothing
  # (flock died with the process).
  rm -f full/filler
  run_timed "${tiny[@]}" "${force[@]}" --output full/out.h5
  check "disk full: a left lock file blocks nothing, the next run succeeds (rc=$rc)" test "$(status_of full/out.h5)" = complete
  no_leftovers "next run" full/out.h5
  # no room for the new file's first metadata: the ranks agree on the failure, no watchdog
  head -c 10M /dev/zero >full/filler 2>/dev/null
  truncate -s -8K full/filler
  expect_fail "disk full at creation" "full/late.h5.part: No space left on device" 10 "${tiny[@]}" --output full/late.h5
  no_leftovers "disk full at creation" full/late.h5
else
  skip "disk full cases (mount -t tmpfs failed: not root or no mount permission here)"
fi

# --- 7. admm-analyze refuses forged or special results files ----------------------------------
# analyze_refuses NAME FILE PATTERN: one "refused FILE: ..." line matching PATTERN, within 10 s
analyze_refuses() {
  local t0 t1 s n
  t0=$(date +%s.%N)
  timeout 60 "$analyze" "$2" --out "rep-$1" --no-plots >a.out 2>a.err
  local arc=$?
  t1=$(date +%s.%N)
  s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  n=$(grep -c "refused $2: " a.err)
  if [ $arc -ne 124 ] && [ "$n" = 1 ] && grep -Eq -- "refused $2: $3" a.err && grep -q "1 flagged" a.out &&
     awk -v s="$s" 'BEGIN { exit !(s <= 10) }'; then
    ok "admm-analyze refuses $1 ($s s)"
  else
    bad "admm-analyze refuses $1 (rc=$arc, $s s, refusal lines=$n)"; cat a.err a.out
  fi
}
good=stale-file.h5
forge() { cp "$good" "$1" && "$h5setattr" "$1" "$2" "$3"; }
forge neg-best.h5 best_epoch -1 && analyze_refuses "a negative best_epoch" neg-best.h5 "attribute /best_epoch = -1 is out of range \(1\.\.epochs_run = 3\)"
forge big-best.h5 best_epoch 4 && analyze_refuses "best_epoch > epochs_run" big-best.h5 "attribute /best_epoch = 4 is out of range"
forge nan-acc.h5 final_test_acc nan && analyze_refuses "a NaN accuracy" nan-acc.h5 "attribute /final_test_acc = nan is out of range \(an accuracy in \[0, 1\]\)"
forge big-acc.h5 final_val_acc 1.5 && analyze_refuses "an accuracy above 1" big-acc.h5 "attribute /final_val_acc = 1.5 is out of range"
forge neg-acc.h5 final_train_acc -0.1 && analyze_refuses "a negative accuracy" neg-acc.h5 "attribute /final_train_acc = -0.1 is out of range"
forge no-ranks.h5 ranks 0 && analyze_refuses "ranks < 1" no-ranks.h5 "attribute /ranks = 0 is out of range \(>= 1\)"
forge neg-ntest.h5 n_test -5 && analyze_refuses "a negative n_test" neg-ntest.h5 "attribute /n_test = -5 is out of range"
forge inf-loss.h5 final_loss inf && analyze_refuses "an infinite final_loss" inf-loss.h5 "attribute /final_loss = inf is out of range"
forge neg-time.h5 total_time_s -1 && analyze_refuses "a negative total_time_s" neg-time.h5 "attribute /total_time_s = -1 is out of range"
"$analyze" "$good" --out rep-good --no-plots >a.out 2>a.err
check "admm-analyze accepts the unforged file" grep -q "1 analysed in 1 groups, 0 flagged" a.out
mkfifo fifo.h5
analyze_refuses "a FIFO" fifo.h5 "is a FIFO \(named pipe\), not a results file"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
