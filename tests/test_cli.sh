#!/usr/bin/env bash
# End-to-end behaviour of admm-train: --help, every bad-input path (one-line error, non-zero
# exit on every rank, no results file left), the results file reading back, determinism and
# agreement across rank counts. Usage: test_cli.sh ADMM_TRAIN MAKE_IDX MPIEXEC
set -u
train=$(realpath "$1") make_idx=$(realpath "$2") mpiexec=$3
source "$(dirname "$(realpath "$0")")/harness.sh"
# Most checks run Taylor's ADMM; the default method (bcd) has its own checks below.
tiny=(--method admm --data synthetic --n-train 300 --n-test 100 --validation 60 --layers 8,6,3 --epochs 3 --warmup 1)
bcd=(--data synthetic --n-train 300 --n-test 100 --validation 60 --layers 8,6,3 --epochs 3)

# --help lists every option with its default and exits 0
if run 1 --help >help.txt && grep -q -- '--layers' help.txt && grep -q -- '--beta' help.txt &&
   grep -q -- '--precision float64|float32' help.txt && grep -q '\[50\]' help.txt; then ok "--help"; else bad "--help"; fi

# --help lists every method of the registry (solver/methods.c) with its one line
if grep -q '^methods (--method):' help.txt && for m in bcd admm random-features gd sgd momentum adam; do
     grep -Eq "^  $m +[a-zA-Z]" help.txt || exit 1; done; then ok "--help lists the methods"; else bad "--help lists the methods"; fi

expect_error "unknown option" "unknown option '--bogus'" 2 --bogus 1
run 2 --bogus 1 >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && ok "usage errors exit 2" || bad "usage errors exit 2 (rc=$rc)"
if run 1 --version | grep -Eq '^admm-train [0-9]+\.[0-9]+\.[0-9]+ \(git .+\)$'; then ok "--version"; else bad "--version"; fi
# command_line reads back as the same words through a shell
rm -f "q u'o.h5"
run 1 "${bcd[@]}" --epochs 1 --output "q u'o.h5" >/dev/null 2>&1
line=$(h5dump -a /command_line "q u'o.h5" 2>/dev/null | sed -n 's/^ *(0): "\(.*\)"$/\1/p' | sed 's/\\"/"/g')
words=$(eval "printf '%s|' $line" 2>/dev/null)
[ "${words##*--output|}" = "q u'o.h5|" ] && ok "command_line is shell-quoted" || bad "command_line is shell-quoted ($line)"
expect_error "malformed number" "--beta: 'abc' is not a finite number" 2 --beta abc
expect_error "negative beta" "option --beta: -1 is outside (0, 1000000000000\]" 2 "${tiny[@]}" --beta -1
expect_error "zero layer width" "--layers" 2 "${tiny[@]}" --layers 8,0,3
expect_error "one class" "--layers" 1 "${tiny[@]}" --layers 8,6,1
expect_error "bad choice" "--init: 'uniform' is not one of" 1 --init uniform
expect_error "loss the method cannot train" "--method adam trains softmax cross-entropy or the squared loss" 1 "${bcd[@]}" --method adam --loss hinge
expect_error "squared hinge is not admm's" "--loss squared-hinge: --method admm has closed-form output steps for least-squares and hinge only" 1 "${tiny[@]}" --loss squared-hinge
expect_error "bcd refuses Taylor's hinge" "--loss hinge: --method bcd fits the output by squared-hinge or least-squares" 1 "${bcd[@]}" --loss hinge
rm -f sqh.h5
if run 2 "${bcd[@]}" --loss squared-hinge --output sqh.h5 >/dev/null 2>&1 && h5dump -a /config/loss sqh.h5 | grep -q '"squared-hinge"'; then
  ok "--loss squared-hinge trains and is recorded"; else bad "--loss squared-hinge run"; fi
expect_error "gradient-free methods refuse gradient options" "option --lr: does not apply to --method bcd (it applies to gd,sgd,momentum,adam)" 1 "${bcd[@]}" --lr 0.1
expect_error "gradient-free methods refuse the gradient sum's grouping" "option --reduce-group: does not apply to --method admm" 1 "${tiny[@]}" --reduce-group 1
expect_error "negative --reduce-group" "option --reduce-group: -1 is outside \[0, 1000000\]" 1 "${bcd[@]}" --method adam --reduce-group -1
expect_error "one gradient method refuses another's option" "option --momentum: does not apply to --method adam (it applies to momentum)" 1 "${bcd[@]}" --method adam --momentum 0.5
expect_error "gradient methods refuse Anderson acceleration" "option --anderson: does not apply to --method adam (it applies to bcd,admm,dladmm)" 1 "${bcd[@]}" --method adam --anderson 2
expect_error "the floor refuses Anderson acceleration" "option --anderson: does not apply to --method random-features" 1 "${bcd[@]}" --method random-features --anderson 0
expect_error "--anderson beyond its range" "option --anderson: 33 is outside \[0, 32\]" 1 "${bcd[@]}" --anderson 33
expect_error "mini-batch bcd refuses Anderson acceleration" "option --anderson 2: mini-batch bcd (--bcd-batches 4) takes --anderson 0 only" 1 "${bcd[@]}" --bcd-batches 4 --anderson 2
expect_error "--augment needs images" "option --augment 1: translates images, and --data synthetic holds none" 1 "${bcd[@]}" --bcd-batches 4 --augment 1
expect_error "full-sweep bcd refuses --augment" "option --augment 1: bcd translates its inputs per batch only: add --bcd-batches" 1 "${bcd[@]}" --augment 1
expect_error "admm refuses --augment" "option --augment: does not apply to --method admm (it applies to bcd,gd,sgd,momentum,adam)" 1 "${tiny[@]}" --augment 1
expect_error "more batches than samples" "option --bcd-batches: 100000 batches of .* training samples would leave some empty" 2 "${bcd[@]}" --bcd-batches 100000
expect_error "admm refuses bcd's options" "option --bcd-prox: does not apply to --method admm (it applies to bcd)" 1 "${tiny[@]}" --bcd-prox 0.1
expect_error "bcd refuses ADMM's warm-up" "option --warmup: does not apply to --method bcd (it applies to admm)" 1 "${bcd[@]}" --warmup 3
expect_error "the floor refuses penalties" "option --beta: does not apply to --method random-features" 1 "${bcd[@]}" --method random-features --beta 2
expect_error "auto is a word, not a number" "option --lr: -1 is outside (0, 100\]" 1 "${bcd[@]}" --method gd --lr -1
expect_error "integer wrap" "option --epochs: 4294967297 is outside \[1, 1000000\]" 1 "${bcd[@]}" --epochs 4294967297
expect_error "zero epochs" "option --epochs: 0 is outside \[1, 1000000\]" 1 "${bcd[@]}" --epochs 0
expect_error "negative batch" "option --batch: -5 is outside \[1, 2147483647\]" 1 "${bcd[@]}" --method gd --batch -5
expect_error "normalisation to huge inputs" "option --normalize: 0,1e-200 maps pixels" 1 "${bcd[@]}" --normalize 0,1e-200
expect_error "normalisation not finite" "option --normalize: 'nan,1'" 1 "${bcd[@]}" --normalize nan,1
expect_error "grid product overflow" "option --grid: '4294967296x4294967296' is not PxQ" 1 "${bcd[@]}" --grid 4294967296x4294967296
rm -f plain.h5
if run 1 --data synthetic --layers 8,6,3 --epochs 1 --output plain.h5 >/dev/null 2>plain.txt &&
   [ "$(h5dump -a /n_val plain.h5 | grep -o '(0): [0-9]*' | cut -d' ' -f2)" = 256 ]; then
  ok "plain --data synthetic runs (validation auto: 256 of 2048)"; else bad "plain --data synthetic"; cat plain.txt; fi
if [ -f plain.h5 ] && ! h5dump -a /config/lr plain.h5 >/dev/null 2>&1 && ! h5dump -a /config/warmup plain.h5 >/dev/null 2>&1 &&
   h5dump -a /config/bcd_prox plain.h5 >/dev/null 2>&1; then
  ok "/config holds only the options of the run's method"; else bad "/config holds options of other methods"; fi
expect_error "missing value" "--epochs needs a value" 1 --epochs
expect_error "grid mismatch" "--grid: 3x3 needs 9 ranks" 2 "${tiny[@]}" --grid 3x3
expect_error "mnist needs 784 inputs" "784 pixels" 1 --data mnist --layers 10,5,10
expect_error "output not writable" "cannot create" 2 "${tiny[@]}" --output /proc/x/y.h5

expect_error "a network that cannot fit in memory" "the run needs about .* GiB per rank" 2 "${bcd[@]}" --layers 8,1000000,3
expect_error "a synthetic set that cannot fit in memory" "the run needs about .* GiB per rank" 2 "${bcd[@]}" --n-train 2000000000

# A signal that reaches one rank only: every rank stops at the end of that epoch, one line,
# exit 143, and the results file is kept, complete, with stop_reason "signal".
rm -f sig.h5 sig.h5.part
run 2 --data synthetic --n-train 20000 --layers 8,300,300,3 --epochs 200 --patience 0 --output sig.h5 >sig.out 2>sig.err &
launcher=$!
for _ in $(seq 300); do grep -q '^epoch=1 ' sig.out 2>/dev/null && break; sleep 0.1; done
t0=$(date +%s)
# only this run's ranks: other tests (slurm-jobs) may run the same binary at the same time
kill -TERM "$(pgrep -f "^$train .*--output sig\.h5" | tail -1)" 2>/dev/null
wait $launcher
rc=$? waited=$(( $(date +%s) - t0 ))
# mpiexec.mpich sometimes reports 0 after forwarding a signal (README, Errors): 143 or 0
if { [ $rc -eq 143 ] || [ $rc -eq 0 ]; } && [ "$(grep -c '^admm-train: stopped by SIGTERM after epoch' sig.err)" = 1 ] &&
   [ $waited -le 30 ] && [ ! -e sig.h5.part ] && [ "$(attr sig.h5 /status)" = complete ] &&
   [ "$(attr sig.h5 /stop_reason)" = signal ] && [ "$(attr sig.h5 /stop_signal)" = SIGTERM ] && [ "$(attr sig.h5 /epochs_run)" -lt 200 ]; then
  ok "SIGTERM to one rank: all stop in ${waited}s, one line, the file complete with stop_reason=signal"
else bad "SIGTERM to one rank (rc=$rc, ${waited}s, files: $(ls sig.h5* 2>/dev/null), stop_reason=$(attr sig.h5 /stop_reason))"; cat sig.err; fi
analyze=$(dirname "$train")/../analysis/admm-analyze
if [ -x "$analyze" ] && [ -e sig.h5 ]; then
  mkdir -p sigdir && cp sig.h5 sigdir/
  if "$analyze" sigdir --out sigdir/report --no-plots 2>sig-an.err >/dev/null &&
     grep -q 'refused .*sig.h5: partial run: stopped by a signal after [0-9]* epochs' sig-an.err &&
     grep -q 'partial run' sigdir/report/report.md; then ok "admm-analyze lists a signal-stopped run as partial, not analysed"
  else bad "admm-analyze on a signal-stopped run: $(cat sig-an.err)"; fi
fi

# IDX files: good ones, then each kind of damage
"$make_idx" images tr-img 200 4 5 && "$make_idx" labels tr-lab 200 10 && "$make_idx" images te-img 50 4 5 &&
  "$make_idx" labels te-lab 50 10 || bad "make_idx"
idx=(--method admm --data idx --train-images tr-img --train-labels tr-lab --test-images te-img --test-labels te-lab
     --layers 20,8,10 --epochs 2 --warmup 0 --validation 40)
rm -f good.h5
if run 2 "${idx[@]}" --output good.h5 >out.txt 2>&1 && [ -f good.h5 ]; then ok "IDX files train"; else bad "IDX files train"; cat out.txt; fi
expect_error "--augment on images that are no square" "option --augment 1: translates square images, and 20 inputs are no square" 1 \
  "${idx[@]:0:14}" --method adam --augment 1
gzip -c tr-img >tr-img.gz && gzip -c tr-lab >tr-lab.gz
if run 2 "${idx[@]}" --train-images tr-img.gz --train-labels tr-lab.gz --output gz.h5 >out.txt 2>&1 &&
   h5diff good.h5 gz.h5 /weights /weights >/dev/null; then ok "gzip IDX gives the same weights"; else bad "gzip IDX"; cat out.txt; fi
if run 1 "${idx[@]:4}" --method admm --output implied.h5 >out.txt 2>&1 && h5dump -a /config/data implied.h5 | grep -q '"idx"'; then ok "IDX paths imply --data idx"; else bad "IDX paths imply --data idx"; cat out.txt; fi
expect_error "IDX paths with another data set" "go with --data idx, not --data mnist" 1 "${idx[@]}" --data mnist
expect_error "missing file" "no-such-file: cannot open" 2 "${idx[@]}" --train-images no-such-file
head -c 3000 tr-img >trunc-img
expect_error "truncated images" "trunc-img: file has 3000 bytes" 2 "${idx[@]}" --train-images trunc-img
head -c $(( $(stat -c %s tr-img.gz) / 2 )) tr-img.gz >trunc.gz
expect_error "truncated gzip" "trunc.gz" 2 "${idx[@]}" --train-images trunc.gz
"$make_idx" labels short-lab 150 10
expect_error "count mismatch" "has 200 images but short-lab has 150 labels" 2 "${idx[@]}" --train-labels short-lab
"$make_idx" labels badlab 200 10 12
expect_error "label out of range" "label 12 of sample 0 is out of range" 2 "${idx[@]}" --train-labels badlab
expect_error "labels given as images" "IDX rank 1, expected 3" 2 "${idx[@]}" --train-images tr-lab
expect_error "wrong input width" "images have 20 pixels but --layers starts with 30" 2 "${idx[@]}" --layers 30,8,10
expect_error "validation too large" "--validation 500 leaves no training samples" 2 "${idx[@]}" --validation 500
"$make_idx" images zero-img 200 4 5 zero
expect_error "singular factorisation" "p?potrf (weight-step Gram matrix): info=" 2 "${idx[@]}" --train-images zero-img --ridge 0
expect_error "penalty out of range" "option --beta: 1e300 is outside" 2 "${tiny[@]}" --beta 1e300
expect_error "diverging iterates" "became NaN or Inf" 2 "${bcd[@]}" --method momentum --lr 100 --epochs 50 --patience 0

# The results file reads back and is complete
rm -f a.h5
run 2 "${tiny[@]}" --output a.h5 >a.txt 2>&1
if h5dump -a /status a.h5 2>/dev/null | grep -q '"complete"' &&
   [ "$(h5dump -a /epochs_run a.h5 | grep -o '(0): [0-9]*' | cut -d' ' -f2)" = 4 ] &&
   h5dump -H -d /epochs/test_acc a.h5 | grep -q 'SIMPLE { ( 4 )' &&
   h5dump -H -d /weights/W1 a.h5 | grep -q 'SIMPLE { ( 6, 8 )' &&
   h5dump -a /config/beta a.h5 | grep -q '(0): 1' &&
   h5dump -H -d /epochs/rss_mb a.h5 | grep -q 'SIMPLE { ( 4, 2 )'; then ok "results file reads back"; else bad "results file reads back"; fi
# the per-epoch line carries the documented keys, fractions in [0,1]
line=$(grep '^epoch=4 ' a.txt)
if echo "$line" | grep -Eq 'loss=[0-9.e+-]+ .*train_acc=0\.[0-9]+ .*test_acc=(0\.[0-9]+|1\.0+) .*t_epoch=[0-9.]+'; then ok "epoch line keys"; else bad "epoch line keys: $line"; fi
# The kept weights, the best epoch, early stopping and the splits: tests/test_guards.sh.

# Determinism: same seed and ranks give identical bits; other rank counts agree closely
for prec in float64 float32; do
  rm -f d1.h5 d2.h5
  run 2 "${tiny[@]}" --precision $prec --output d1.h5 >/dev/null 2>&1
  run 2 "${tiny[@]}" --precision $prec --output d2.h5 >/dev/null 2>&1
  if h5diff d1.h5 d2.h5 /weights /weights >/dev/null && h5diff d1.h5 d2.h5 /epochs/test_acc /epochs/test_acc >/dev/null; then
    ok "same seed, same ranks: identical weights ($prec)"; else bad "same seed, same ranks ($prec)"; fi
done
run 1 "${tiny[@]}" --output r1.h5 >/dev/null 2>&1
for np in 2 4; do
  run $np "${tiny[@]}" --output r$np.h5 >/dev/null 2>&1
  # float64, 4 epochs: only the summation order differs, so weights agree to 1e-8 relative
  if h5diff --relative=1e-8 r1.h5 r$np.h5 /weights /weights >/dev/null; then ok "$np ranks agree with 1 rank"; else
    bad "$np ranks agree with 1 rank"; h5diff --relative=1e-8 r1.h5 r$np.h5 /weights /weights | tail -3; fi
done

# The thesis's pseudo-inverse weight step: recorded, and 2 ranks agree with 1
run 1 "${tiny[@]}" --weight-solve pinv --output p1.h5 >/dev/null 2>&1
run 2 "${tiny[@]}" --weight-solve pinv --output p2.h5 >p2.txt 2>&1
if h5dump -a /config/weight_solve p2.h5 | grep -q '"pinv"' && grep -q '^admm: pinv layer 1 keeps 8 of 8 eigenvalues' p2.txt &&
   h5diff --relative=1e-8 p1.h5 p2.h5 /weights /weights >/dev/null; then ok "--weight-solve pinv: recorded, noted, 2 ranks agree with 1"
else bad "--weight-solve pinv"; cat p2.txt; fi

# The default method (bcd): identical bits for the same seed, rank counts agree, biases stored
run 2 "${bcd[@]}" --output b1.h5 >/dev/null 2>&1
run 2 "${bcd[@]}" --output b2.h5 >/dev/null 2>&1
run 1 "${bcd[@]}" --output b0.h5 >/dev/null 2>&1
if h5diff b1.h5 b2.h5 /weights /weights >/dev/null; then ok "bcd: same seed, same ranks, identical weights"; else bad "bcd: same seed"; fi
if h5diff --relative=1e-8 b0.h5 b1.h5 /weights /weights >/dev/null; then ok "bcd: 2 ranks agree with 1 rank"; else bad "bcd: 2 ranks agree with 1 rank"; fi
if h5dump -a /config/method b1.h5 | grep -q '"bcd"' && h5dump -a /method b1.h5 | grep -q '"bcd"' &&
   h5dump -H -d /weights/b1 b1.h5 | grep -q 'SIMPLE { ( 6 )'; then ok "bcd recorded as bcd, biases stored"; else bad "bcd recorded, biases stored"; fi

# Each method names its own timed steps in phase_names (io/SCHEMA.md); MEAN,STD is recorded as read
if h5dump -w 0 -a /epochs/phase_avg/phase_names b1.h5 |
     grep -q '(0): "gram", "comm_reduce", "solve", "comm_gather", "a_update", "z_update", "forward_targets", "eval", "io"$' &&
   h5dump -w 0 -a /epochs/phase_flops/phase_names a.h5 |
     grep -q '(0): "gram", "comm_reduce", "solve", "comm_gather", "a_update", "z_update", "unused", "eval", "io"$'; then
  ok "phase_names are the method's own"; else bad "phase_names are the method's own"; fi
rm -f norm.h5
if run 1 "${bcd[@]}" --epochs 1 --normalize 0.1307,0.3081 --output norm.h5 >norm.txt 2>&1 &&
   grep -q ' normalize=0.1307,0.3081 ' norm.txt && h5dump -a /config/normalize norm.h5 | grep -q '"0.1307,0.3081"'; then
  ok "--normalize MEAN,STD echoed and recorded from the values read"; else bad "--normalize MEAN,STD recorded"; cat norm.txt; fi

# Linked against one MPI only: the one CMake found (NN_TEST_MPI_SONAMES, set by ctest; empty
# where the MPI library has no SONAME to compare, as with Cray's cc), or MPICH when run by hand.
# ScaLAPACK or HDF5 of another MPI would pull in a second libmpi.
want=${NN_TEST_MPI_SONAMES-libmpich.so.12}
have=$(ldd "$train" | awk '$1 ~ /^libmpi(ch)?\.so/ {print $1}' | sort -u | tr '\n' ' ' | sed 's/ $//')
if [ -z "$want" ]; then ok "MPI linkage not checked: configure knows no MPI SONAME (ldd: ${have:-none})"
elif [ "$have" = "$(printf '%s\n' $want | sort -u | tr '\n' ' ' | sed 's/ $//')" ] &&
   { [ "$want" = "${want#libmpich}" ] || ! ldd "$train" | grep -q 'libopen-'; }; then ok "links only the MPI found ($want)"
else bad "links only the MPI found ($want; ldd: $have)"; ldd "$train"; fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
