#!/usr/bin/env bash
# The PyTorch figures that issue 3 compares the gradient baselines with, measured here rather
# than quoted: PyTorch 1.13 (Debian's python3-torch, installed by this script when missing)
# running the thesis's set-up (bench/reference/pytorch_mnist.py) next to admm-train on the same
# cores, both float32:
#   - seconds per epoch: Adam at 1 and 2 threads, mini-batch SGD (batch 128) at 1 and 2
#     threads, pure SGD (batch 1) at 1 thread;
#   - test accuracy after 2 epochs of momentum 0.9 (lr 0.01, batch 128) over SEEDS seeds,
#     for PyTorch's default initialisation and for He's (admm-train's default), each side.
#
#   bench/bench-pytorch.sh [BUILD_DIR] [DATA_DIR]      (defaults: build, data/mnist)
#   env: SEEDS (8), OUT (results/bench-pytorch-<UTC time>)
# Takes about 4 minutes on 2 cores. Prints one table; raw logs in $OUT.
set -euo pipefail

BUILD=${1:-build}
DATA=${2:-data/mnist}
SEEDS=${SEEDS:-8}
OUT=${OUT:-results/bench-pytorch-$(date -u +%Y%m%dT%H%M%SZ)}
MPIEXEC=${MPIEXEC:-mpiexec.mpich}
TRAIN=$BUILD/jobs/admm-train
REF=$(dirname "$0")/reference/pytorch_mnist.py
PY=/usr/bin/python3 # Debian's interpreter: python3-torch installs there, not into a pyenv

[[ -x $TRAIN ]] || { echo "bench-pytorch: $TRAIN not built (cmake --build $BUILD)" >&2; exit 1; }
[[ -e $DATA/train-images-idx3-ubyte ]] || { echo "bench-pytorch: no MNIST in $DATA (io/fetch-mnist.sh)" >&2; exit 1; }
if ! "$PY" -c 'import torch' 2>/dev/null; then
  echo "bench-pytorch: installing python3-torch (Debian's PyTorch 1.13)"
  SUDO=; [[ $(id -u) == 0 ]] || SUDO=sudo
  $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q python3-torch >/dev/null
fi
mkdir -p "$OUT"
echo "bench-pytorch: torch $("$PY" -c 'import torch; print(torch.__version__)') seeds=$SEEDS out=$OUT" \
     "cores=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg)"

torch_run() { # name method seed epochs threads init
  "$PY" "$REF" "$DATA" "$2" "$3" "$4" "$5" "$6" > "$OUT/$1.log"
}
ours_run() { # name method seed epochs threads init
  OPENBLAS_NUM_THREADS=$5 "$MPIEXEC" -n 1 "$TRAIN" --method "$2" --seed "$3" --epochs "$4" --init "$6" \
    --data-dir "$DATA" --precision float32 --validation 0 --eval-train 0 --patience 0 \
    --force --output "$OUT/$1.h5" < /dev/null > "$OUT/$1.log"
}
# "mean seconds per epoch over epochs 2.., test accuracy after each epoch" of one log
summary() {
  awk '/^(method=|epoch=)/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
         te[++e] = v["t_epoch"]; acc = acc sprintf(" %.2f", 100 * v["test_acc"]) }
       END { for (i = (e > 1 ? 2 : 1); i <= e; i++) { s += te[i]; k++ }; printf "%8.3f %s", s / k, acc }' "$1"
}

ROWS=()
for who in torch ours; do
  for job in "adam 3 1" "adam 2 2" "gd 3 1" "gd 2 2" "sgd 1 1"; do
    read -r m e t <<< "$job"
    name=$who-$m-t$t
    [[ $who == ours && $t == 2 ]] && continue # ours at 2 threads: bench/bench-gradient.sh
    ${who}_run "$name" "$m" 1 "$e" "$t" pytorch
    ROWS+=("$(printf '%-6s %-9s %7s %7s' "$who" "$m" "$t" pytorch) $(summary "$OUT/$name.log")")
  done
done
echo
echo "seconds per epoch (mean over epochs 2.., or epoch 1), float32, 1 rank, seed 1; test accuracy % after each epoch"
printf '%-6s %-9s %7s %7s %8s  %s\n' who method threads init s/epoch accuracy
for r in "${ROWS[@]}"; do echo "$r"; done

echo
echo "momentum 0.9, lr 0.01, batch 128: test accuracy % after 2 epochs, seeds 1..$SEEDS, 1 thread"
for init in pytorch he; do
  for who in torch ours; do
    accs=()
    for ((s = 1; s <= SEEDS; s++)); do
      ${who}_run "$who-momentum-$init-s$s" momentum "$s" 2 1 "$init"
      accs+=("$(awk '/^(method=|epoch=)/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
                     END { printf "%.2f", 100 * v["test_acc"] }' "$OUT/$who-momentum-$init-s$s.log")")
    done
    printf '%-6s init=%-8s %s  %s\n' "$who" "$init" "${accs[*]}" \
      "$(printf '%s\n' "${accs[@]}" | awk '{ s += $1; if (NR == 1 || $1 < lo) lo = $1; if ($1 > hi) hi = $1 }
                                         END { printf "mean %.2f, min %.2f, max %.2f", s / NR, lo, hi }')"
  done
done
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
