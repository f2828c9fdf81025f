#!/usr/bin/env bash
# Scaling study with one command: machine constants, strong and weak scaling of every method,
# the performance model checked against every measured point, and the projection.
#
#   jobs/study-scaling.sh [--quick] [--ranks LIST] [--methods LIST] [--per-rank N] [--out DIR]
#     --quick          1 and 2 ranks only (a 2-core machine: under 10 minutes on full MNIST)
#     --ranks LIST     rank counts                                 default 1,2,4,8,16
#     --methods LIST   methods                                     default bcd,admm,gd,momentum,adam
#                      also dladmm (bcd and dladmm run plain: --anderson 0, so that every product is counted)
#                      and resnet-admm (the FCResNet --arch resnet --blocks 4 --width 256)
#     --data D         mnist, or synthetic (a seconds-long check of the pipeline: tests)
#     --per-rank N     weak scaling: training samples per rank     default 3125 (x16 = 50000)
#     --epochs M=E,... epochs of method M in the strong series (default: bcd 6, every other 3;
#                      2 at least: the first epoch is left out of the timing where there are 3 or
#                      more); the weak series runs 3 E (its epochs are about 1/16 as long, and a
#                      median over a second or two of them is at the mercy of a slow second)
#     --repeat R       runs per point (the analysis takes their median epoch time)   default 1
#     --out DIR        study folder                                default results/study-scaling
#     --no-analysis    measure only
#
# Per rank count P (one after another, on this machine):
#   DIR/microbench/rP.txt        admm-microbench: GEMM and step rates, memory bandwidth, and
#                                the time of each collective from 8 B to 8 MiB (the model's
#                                constants, measured in this run, on these ranks)
#   DIR/strong/METHOD-rP[-K].h5  full MNIST (55,000 training samples, 5,000 validation), fixed
#                                over P; enough epochs to time and to reach 95% where it can
#   DIR/weak/METHOD-rP[-K].h5    N x P training samples (the first of MNIST's, 5,000 more for
#                                validation): each rank keeps N samples as P grows
# then `admm-analyze --scaling DIR --out DIR/report`: the scaling table, the model against
# every point, the projection; its last line is model_max_rel_error=X.
#
# Environment: ADMM_TRAIN (default build/jobs/admm-train; installed: PREFIX/bin/admm-train),
# ADMM_MICROBENCH and ADMM_ANALYZE (default: beside ADMM_TRAIN when there, as installed in bin/,
# else build/bench/admm-microbench and build/analysis/admm-analyze beside its build/jobs), MPIEXEC
# (default mpiexec.mpich), MPIEXEC_FLAGS (e.g. "-bind-to core"), ADMM_DATA_DIR (default
# data/mnist). OPENBLAS_NUM_THREADS is set to 1: one core per rank. Precision float64.
set -euo pipefail
cd "$(dirname "$0")/.."
PROG=study-scaling.sh
die() { echo "$PROG: error: $*" >&2; exit 2; }
usage() { awk 'NR > 1 && !/^#/ {exit} NR > 1' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

RANKS=1,2,4,8,16
METHODS=bcd,admm,gd,momentum,adam
PER_RANK=3125
DATA_SET=mnist
REPEAT=1
EPOCHS=
OUT=results/study-scaling
ANALYSIS=1
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) RANKS=1,2; shift ;;
    --ranks) RANKS=${2:?--ranks needs a value}; shift 2 ;;
    --methods) METHODS=${2:?--methods needs a value}; shift 2 ;;
    --data) DATA_SET=${2:?--data needs a value}; shift 2 ;;
    --per-rank) PER_RANK=${2:?--per-rank needs a value}; shift 2 ;;
    --epochs) EPOCHS=${2:?--epochs needs a value}; shift 2 ;;
    --repeat) REPEAT=${2:?--repeat needs a value}; shift 2 ;;
    --out) OUT=${2:?--out needs a value}; shift 2 ;;
    --no-analysis) ANALYSIS=0; shift ;;
    -h|--help) usage 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
IFS=, read -r -a RANK_LIST <<<"$RANKS"
IFS=, read -r -a METHOD_LIST <<<"$METHODS"
for p in "${RANK_LIST[@]}"; do [[ $p =~ ^[1-9][0-9]*$ ]] || die "--ranks $RANKS: '$p' is not a positive integer"; done
[[ $PER_RANK =~ ^[1-9][0-9]*$ ]] || die "--per-rank $PER_RANK: not a positive integer"
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || die "--repeat $REPEAT: not a positive integer"
for m in "${METHOD_LIST[@]}"; do
  case "$m" in bcd|admm|gd|momentum|adam|dladmm|resnet-admm) ;;
    *) die "--methods: '$m' is not one of bcd,admm,gd,momentum,adam,dladmm,resnet-admm" ;; esac
done
declare -A EPOCHS_OF=()
if [ -n "$EPOCHS" ]; then
  IFS=, read -r -a pairs <<<"$EPOCHS"
  for kv in "${pairs[@]}"; do
    [[ $kv =~ ^([a-z-]+)=([0-9]+)$ ]] && [ "${BASH_REMATCH[2]}" -ge 2 ] ||
      die "--epochs $EPOCHS: '$kv' is not METHOD=E with E >= 2"
    EPOCHS_OF[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
  done
fi
# The strong series' training samples and the validation samples cut from each run's range.
case "$DATA_SET" in
  mnist) STRONG_N=55000 VAL=5000 ;;
  synthetic) STRONG_N=1792 VAL=256 ;;  # admm-train's synthetic set: 2048 samples, 1/8 validation
  *) die "--data $DATA_SET: not mnist or synthetic" ;;
esac

# installed (PREFIX/share/admm-nn/jobs, install-paths.sh beside ../slurm): the installed programs
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
if [ -z "${ADMM_TRAIN:-}" ] && [ -f "$here/../slurm/install-paths.sh" ]; then
  # shellcheck source=slurm/tools.sh
  . "$here/../slurm/tools.sh"
  ADMM_TRAIN=$(admm_tool_default admm-train "$here/../slurm")
fi
TRAIN=${ADMM_TRAIN:-$PWD/build/jobs/admm-train}
# beside the trainer when installed (bin/), else in the build tree's bench/ and analysis/
tool_beside() { if [ -x "$(dirname "$TRAIN")/$1" ]; then echo "$(dirname "$TRAIN")/$1"; else echo "$(dirname "$TRAIN")/../$2/$1"; fi; }
BENCH=${ADMM_MICROBENCH:-$(tool_beside admm-microbench bench)}
ANALYZE=${ADMM_ANALYZE:-$(tool_beside admm-analyze analysis)}
read -r -a LAUNCH <<<"${MPIEXEC:-mpiexec.mpich}"  # may hold words: "srun --mpi=pmi2"
read -r -a MPIFLAGS <<<"${MPIEXEC_FLAGS:-}"
DATA=${ADMM_DATA_DIR:-$PWD/data/mnist}
for b in "$TRAIN" "$BENCH"; do [ -x "$b" ] || die "$b: not built (cmake --build build)"; done
[ "$DATA_SET" = synthetic ] || [ -f "$DATA/train-images-idx3-ubyte" ] || [ -f "$DATA/train-images-idx3-ubyte.gz" ] ||
  die "ADMM_DATA_DIR=$DATA: no MNIST there (bash io/fetch-mnist.sh)"
export OPENBLAS_NUM_THREADS=1
mkdir -p "$OUT/microbench" "$OUT/strong" "$OUT/weak"

# Epochs per method: enough to time an epoch after the first and, on full MNIST, to reach 95%
# validation accuracy where the method can (bcd in 3-4 sweeps, adam and momentum in 1-2).
epochs_of() {
  if [ -n "${EPOCHS_OF[$1]:-}" ]; then echo "${EPOCHS_OF[$1]}"; return; fi
  case "$1" in bcd) echo 6 ;; *) echo 3 ;; esac
}
# admm's warm-up epochs count as epochs here: one, so that its multiplier steps are timed too.
# dladmm and bcd run plain: their default Anderson acceleration (--anderson 8 and 3) keeps 2M + 4
# copies of the state and its mixing work is not in the counters, so the model could not price
# it (and bcd's points stay comparable with the studies before bcd's default became M = 3).
# resnet-admm trains a stated FCResNet: an input layer to width 256, 4 residual blocks of
# width 256, the output layer (its own defaults otherwise: --splitting 3).
extra_of() {
  case "$1" in
    admm) echo "--warmup 1" ;;
    bcd|dladmm) echo "--anderson 0" ;;
    resnet-admm) echo "--arch resnet --blocks 4 --width 256" ;;
    *) echo "" ;;
  esac
}

run() { # SERIES METHOD P REPEAT [trainer args...]
  local series=$1 m=$2 p=$3 k=$4; shift 4
  local epochs
  epochs=$(epochs_of "$m")
  [ "$series" = strong ] || epochs=$((3 * epochs))
  local name=$m-r$p
  [ "$REPEAT" -eq 1 ] || name=$name-$k
  local out=$OUT/$series/$name.h5
  # shellcheck disable=SC2046
  local data=(--data "$DATA_SET")
  [ "$DATA_SET" = synthetic ] || data+=(--data-dir "$DATA")
  "${LAUNCH[@]}" "${MPIFLAGS[@]}" -n "$p" "$TRAIN" --method "$m" "${data[@]}" \
    --epochs "$epochs" $(extra_of "$m") --patience 0 --eval-train 0 --quiet 1 --force \
    --output "$out" "$@" >"$OUT/$series/$name.log" 2>&1 ||
    { tail -3 "$OUT/$series/$name.log" >&2; die "$series run $m at $p ranks failed (log: $OUT/$series/$name.log)"; }
  tail -1 "$OUT/$series/$name.log" | sed "s/^/$series p=$p /"
}

t_start=$(date +%s)
for p in "${RANK_LIST[@]}"; do
  # --seconds: 0.2 s a figure for a study, 0.02 s for the synthetic check
  "${LAUNCH[@]}" "${MPIFLAGS[@]}" -n "$p" "$BENCH" --samples "$STRONG_N,$((PER_RANK * p))" --batch 128 \
    --seconds "$([ "$DATA_SET" = synthetic ] && echo 0.02 || echo 0.2)" >"$OUT/microbench/r$p.txt"
  echo "microbench p=$p: $(grep -c . "$OUT/microbench/r$p.txt") figures"
  for k in $(seq "$REPEAT"); do
    for m in "${METHOD_LIST[@]}"; do run strong "$m" "$p" "$k"; done
    # --n-train counts the validation samples, which are cut from the training file's end
    for m in "${METHOD_LIST[@]}"; do
      run weak "$m" "$p" "$k" --n-train $((PER_RANK * p + VAL)) --validation "$VAL"
    done
  done
done
{
  echo "data=$DATA_SET ranks=$RANKS methods=$METHODS per_rank=$PER_RANK repeat=$REPEAT"
  echo "host=$(uname -n) cores=$(nproc) cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
  echo "mpiexec=${LAUNCH[*]} flags=${MPIEXEC_FLAGS:-} openblas_coretype=${OPENBLAS_CORETYPE:-unset}"
  echo "measure_seconds=$(($(date +%s) - t_start))"
} >"$OUT/study.txt"
echo "measured in $(($(date +%s) - t_start)) s: $OUT"
[ $ANALYSIS -eq 1 ] || exit 0
"$ANALYZE" --scaling "$OUT" --out "$OUT/report"
