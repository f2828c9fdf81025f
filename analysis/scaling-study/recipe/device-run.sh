#!/usr/bin/env bash
# On a lent 16-core machine with no MPI, ScaLAPACK or HDF5: unpack the bundle (recipe/make.sh
# builds it), run the 1-16 rank scaling study, then the layer-groups bench with the time left,
# strip /weights off every results file (h5strip) and pack results and logs under $OUT.
# Everything, unpacking included, ends within TOTAL_LIMIT seconds of the script's start.
#
#   OUT=DIR bash .devpack/device-run.sh        (from the repository root, .devpack carried)
#
# Environment, with defaults (every time limit in seconds):
#   TOTAL_LIMIT=480     the whole script, from its start
#   PACK_RESERVE=25     kept back at the end for stripping and packing
#   STUDY_LIMIT=400     the study (it also stops where TOTAL_LIMIT - PACK_RESERVE would be passed)
#   RANKS=16,1,8,2,4  METHODS=bcd,admm,dladmm,resnet-admm,adam  REPEAT=1
#   EPOCHS=bcd=4        jobs/study-scaling.sh --epochs (the others keep its default, 3)
#   DATA=mnist          or synthetic (seconds: the local smoke test); PER_RANK=3125
#   LG_LIMIT            cap on the whole layer-groups part (default: whatever is left)
#   LG_BLOCKS="4 8 16"  LG_MAX_GROUPS=16  LG_RANK_CAP=nproc: bench/bench-layer-groups.sh, if the
#                       tree has it, once per K, each K given an equal share of the time left
#   LG_CMD="bash bench/bench-layer-groups.sh"
#   LG_ARGS="--blocks {K} --max-groups {G} --max-ranks {R} --out {DIR}": its arguments, with
#                       {K}, {G}, {R}, {DIR} substituted; match them to that script's options
#   BUNDLE=.devpack/nnroot.tar.xz, or "local": this checkout's build/ and mpiexec.mpich (a smoke
#                       test on a development machine: RANKS=1,2 DATA=synthetic)
#   WORK_DIR=a new /tmp/devrun.XXXXXX (the runs write there; packed into $OUT at the end)
#
# The budget (seconds, from the per-run total_time of h200-host-16core-2's logs and the flops
# per sample of dladmm and resnet-admm counted on the synthetic set against bcd's): the
# microbench about 25 per rank count (125); strong + weak over the five rank counts bcd 36 (4
# epochs), admm 27, adam 21, dladmm about 50, resnet-admm about 77 (K = 4, width 256: 2.6x bcd's
# time per sample); 50 launches about 15: about 350 in all. Unpacking and the preflight take
# about 15, packing about 10: about 100 s remain for the layer-groups bench.
set -u
T0=$(date +%s)
: "${OUT:?OUT must name the folder the results go to}"
mkdir -p "$OUT"
TOTAL_LIMIT=${TOTAL_LIMIT:-480} PACK_RESERVE=${PACK_RESERVE:-25} STUDY_LIMIT=${STUDY_LIMIT:-400}
for v in TOTAL_LIMIT PACK_RESERVE STUDY_LIMIT ${LG_LIMIT:+LG_LIMIT}; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "device-run: $v=${!v}: not a whole number of seconds"; exit 2; }
done
left() { echo $((TOTAL_LIMIT - PACK_RESERVE - ($(date +%s) - T0))); } # seconds before packing must start
# ------------------------------------------------------------------ pack
# Run at exit, whatever stopped the script: the results files without /weights (root
# attributes, /config and /epochs as they were: all that admm-analyze --scaling reads), the
# logs and texts; the study's, and anything the bench wrote in the tree or its folder since it
# started.
pack() {
  local P=$W/pack f rel out_real
  mkdir -p "$P"
  strip_to() { mkdir -p "$(dirname "$2")"; "$H5STRIP" "$1" "$2" || echo "strip failed: $1"; }
  for f in "$W"/study/*/*.h5; do [ -f "$f" ] && strip_to "$f" "$P/${f#"$W"/study/}"; done
  cp -r "$W/study/microbench" "$P/" 2>/dev/null; cp "$W/study/study.txt" "$P/" 2>/dev/null
  for f in "$W"/study/*/*.log; do [ -f "$f" ] && cp "$f" "$P/${f#"$W"/study/}"; done
  out_real=$(readlink -f "$OUT")
  if [ -f "$W/lg-start" ]; then
    while IFS= read -r f; do
      case "$(readlink -f "$f")" in "$out_real"/*) continue ;; esac # $OUT itself may lie in the tree
      rel=${f#"$W"/}; rel=${rel#./}
      case "$f" in *.h5) strip_to "$f" "$P/lg/$rel" ;; *) mkdir -p "$(dirname "$P/lg/$rel")"; cp "$f" "$P/lg/$rel" ;; esac
    done < <( { [ -d "$W/layer-groups" ] && find "$W/layer-groups" -type f;
                find . -path ./.devpack -prune -o -path ./build -prune -o -type f -newer "$W/lg-start" -print; } 2>/dev/null)
  fi
  cp "$OUT"/*.log "$OUT"/*.txt "$P/" 2>/dev/null
  tar -C "$W" -czf "$OUT/study.tgz" pack
  ls -la "$OUT"; echo "total $(($(date +%s) - T0)) s (limit $TOTAL_LIMIT)"
}

BUNDLE=${BUNDLE:-.devpack/nnroot.tar.xz}
W=${WORK_DIR:-$(mktemp -d /tmp/devrun.XXXXXX)}
mkdir -p "$W"
H5STRIP=.devpack/h5strip
trap pack EXIT

if [ "$BUNDLE" = local ]; then
  # the smoke test: this checkout's binaries and the system's MPICH
  B=$PWD/build
  export ADMM_TRAIN=$B/jobs/admm-train ADMM_MICROBENCH=$B/bench/admm-microbench ADMM_DATA_DIR=${ADMM_DATA_DIR:-$PWD/data/mnist}
  LAUNCHER=mpiexec.mpich
  H5STRIP=$PWD/.devpack/h5strip
else
  [ -f "$BUNDLE" ] || { echo "device-run: $BUNDLE: no bundle (bash .devpack/make.sh builds it)"; exit 1; }
  tar -C / -xJf "$BUNDLE" || { echo "unpack failed"; exit 1; }
  R=/tmp/nnroot
  gunzip -kf $R/data/mnist/*.gz
  export PATH=$R/bin:$PATH UCX_MODULE_DIR=$R/lib/ucx
  export ADMM_TRAIN=$R/bin/admm-train ADMM_MICROBENCH=$R/bin/admm-microbench ADMM_DATA_DIR=$R/data/mnist
  LAUNCHER=mpiexec.hydra
  H5STRIP=$R/bin/h5strip
fi
echo "unpacked after $(($(date +%s) - T0)) s"
(lscpu; echo; nproc; free -g; uname -a) >"$OUT/machine.txt" 2>&1
if grep -q avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX; else export OPENBLAS_CORETYPE=Haswell; fi
echo "coretype=$OPENBLAS_CORETYPE nproc=$(nproc)"

# The preflight only checks that 2 ranks start and talk: small figures, one thread a rank (as
# the study runs), seconds rather than a minute.
export OPENBLAS_NUM_THREADS=1 MPIEXEC=$LAUNCHER MPIEXEC_FLAGS="-launcher fork -bind-to core"
PRE="--seconds 0.01 --samples 2000"
preflight() { timeout 60 $LAUNCHER $MPIEXEC_FLAGS -n 2 "$ADMM_MICROBENCH" $PRE >>"$OUT/preflight.txt" 2>&1; }
: >"$OUT/preflight.txt"
if ! preflight; then
  echo "preflight with binding failed; trying without"; tail -3 "$OUT/preflight.txt"
  export MPIEXEC_FLAGS="-launcher fork"
  if ! preflight; then
    echo "preflight failed; retrying with UCX_TLS=self,sm,tcp"; tail -5 "$OUT/preflight.txt"
    export UCX_TLS=self,sm,tcp
    preflight || { echo "preflight failed again"; tail -20 "$OUT/preflight.txt"; exit 1; }
  fi
fi
echo "preflight passed after $(($(date +%s) - T0)) s (MPIEXEC_FLAGS=$MPIEXEC_FLAGS)"

# ------------------------------------------------------------------ the study
lim=$(left); [ "$STUDY_LIMIT" -lt "$lim" ] && lim=$STUDY_LIMIT
study=(--ranks "${RANKS:-16,1,8,2,4}" --methods "${METHODS:-bcd,admm,dladmm,resnet-admm,adam}"
       --repeat "${REPEAT:-1}" --data "${DATA:-mnist}" --per-rank "${PER_RANK:-3125}" --no-analysis --out "$W/study")
[ -n "${EPOCHS-bcd=4}" ] && study+=(--epochs "${EPOCHS-bcd=4}")
echo "study: ${study[*]}, limit $lim s"
# timeout signals its whole process group: the mpiexec of a cut run stops with the script
if [ "$lim" -lt 10 ]; then # (timeout 0 would mean no limit at all)
  echo "study: skipped, $lim s left"
else
  timeout -k 5 "$lim" bash jobs/study-scaling.sh "${study[@]}" 2>&1 | tee "$OUT/study.log"
  echo "study rc=${PIPESTATUS[0]} (124 would mean cut by its $lim s limit) after $(($(date +%s) - T0)) s"
fi

# ------------------------------------------------------------------ the layer-groups bench
touch "$W/lg-start"
if [ -f bench/bench-layer-groups.sh ]; then
  LG_CMD=${LG_CMD:-bash bench/bench-layer-groups.sh}
  [ -n "${LG_ARGS:-}" ] || LG_ARGS='--blocks {K} --max-groups {G} --max-ranks {R} --out {DIR}'
  export LG_RANK_CAP=${LG_RANK_CAP:-$(nproc)} LG_MAX_GROUPS=${LG_MAX_GROUPS:-16}
  read -r -a blocks <<<"${LG_BLOCKS:-4 8 16}"
  lg_end=$(($(date +%s) + $(left)))
  [ -n "${LG_LIMIT:-}" ] && [ $(($(date +%s) + LG_LIMIT)) -lt $lg_end ] && lg_end=$(($(date +%s) + LG_LIMIT))
  : >"$OUT/layer-groups.log"
  for i in "${!blocks[@]}"; do
    K=${blocks[$i]}
    share=$(((lg_end - $(date +%s)) / (${#blocks[@]} - i)))
    if [ "$share" -lt 10 ]; then echo "layer-groups K=$K: skipped, ${share} s left" | tee -a "$OUT/layer-groups.log"; continue; fi
    mkdir -p "$W/layer-groups/K$K"
    args=${LG_ARGS//\{K\}/$K}; args=${args//\{G\}/$LG_MAX_GROUPS}; args=${args//\{R\}/$LG_RANK_CAP}
    args=${args//\{DIR\}/$W/layer-groups/K$K}
    echo "layer-groups K=$K: $LG_CMD $args, limit $share s" | tee -a "$OUT/layer-groups.log"
    # shellcheck disable=SC2086
    timeout -k 5 "$share" $LG_CMD $args >>"$OUT/layer-groups.log" 2>&1
    echo "layer-groups K=$K rc=$? (124 would mean cut) after $(($(date +%s) - T0)) s" | tee -a "$OUT/layer-groups.log"
  done
else
  echo "bench/bench-layer-groups.sh is not in this tree: no layer-groups bench"
fi

