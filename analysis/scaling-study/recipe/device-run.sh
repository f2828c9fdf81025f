#!/usr/bin/env bash
# On the 16-core device machine: unpack the bundle, run the 1-16 rank study, strip the
# weights, pack the results under $OUT. Run from the repository root with .devpack carried
# (recipe/make.sh builds .devpack/nnroot.tar.xz). Environment, with defaults:
#   RANKS=16,1,8,2,4  REPEAT=2  METHODS=bcd,admm,adam,momentum  STUDY_LIMIT=480 (seconds)
#   WORK_DIR=a new /tmp/devrun.XXXXXX (the study runs in WORK_DIR/study, is packed from WORK_DIR/pack)
# The budget: the last 16-core study (5 methods, 2 repeats) needed about 450 s and a 420 s
# limit cut its second repeat at 4 ranks. gd (plain mini-batch descent: momentum's step and
# messages without the velocity, so momentum and adam already show how the gradient methods
# scale) is left out of the default, about 60 s, so that the four methods finish inside 480 s
# with room to spare (unpack, preflight and packing add about 30 s: under 600 s a command).
set -u
T0=$(date +%s)
tar -C / -xJf .devpack/nnroot.tar.xz || { echo "unpack failed"; exit 1; }
R=/tmp/nnroot
gunzip -kf $R/data/mnist/*.gz
export PATH=$R/bin:$PATH UCX_MODULE_DIR=$R/lib/ucx
(lscpu; echo; nproc; free -g; uname -a) >$OUT/machine.txt 2>&1
if grep -q avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX; else export OPENBLAS_CORETYPE=Haswell; fi
echo "coretype=$OPENBLAS_CORETYPE nproc=$(nproc)"
export MPIEXEC=mpiexec.hydra MPIEXEC_FLAGS="-launcher fork -bind-to core"
# The preflight only checks that 2 ranks start and talk: small figures, one thread a rank (as
# the study runs), seconds rather than a minute.
export OPENBLAS_NUM_THREADS=1
PRE="--seconds 0.01 --samples 2000"
if ! timeout 60 mpiexec.hydra $MPIEXEC_FLAGS -n 2 admm-microbench $PRE >$OUT/preflight.txt 2>&1; then
  echo "preflight with binding failed; trying without"; tail -3 $OUT/preflight.txt
  export MPIEXEC_FLAGS="-launcher fork"
fi
if ! timeout 60 mpiexec.hydra $MPIEXEC_FLAGS -n 2 admm-microbench $PRE >>$OUT/preflight.txt 2>&1; then
  echo "preflight failed; retrying with UCX_TLS=self,sm,tcp"; cat $OUT/preflight.txt | tail -5
  export UCX_TLS=self,sm,tcp
  timeout 60 mpiexec.hydra $MPIEXEC_FLAGS -n 2 admm-microbench $PRE >>$OUT/preflight.txt 2>&1 || { echo "preflight failed again"; tail -20 $OUT/preflight.txt; exit 1; }
fi
export ADMM_TRAIN=$R/bin/admm-train ADMM_MICROBENCH=$R/bin/admm-microbench ADMM_DATA_DIR=$R/data/mnist
W=${WORK_DIR:-$(mktemp -d /tmp/devrun.XXXXXX)}
timeout ${STUDY_LIMIT:-480} bash jobs/study-scaling.sh --ranks ${RANKS:-16,1,8,2,4} --methods ${METHODS:-bcd,admm,adam,momentum} --repeat ${REPEAT:-2} --no-analysis --out "$W/study" 2>&1 | tee $OUT/study.log
echo "study rc=${PIPESTATUS[0]} after $(( $(date +%s) - T0 )) s"
mkdir -p "$W/pack"
for f in "$W"/study/*/*.h5; do
  s=${f#$W/study/}; mkdir -p "$W/pack/$(dirname "$s")"; h5strip "$f" "$W/pack/$s" || echo "strip failed: $f"
done
cp -r "$W/study/microbench" "$W/pack/"; cp "$W/study/study.txt" "$W/pack/" 2>/dev/null
for f in "$W"/study/*/*.log; do s=${f#$W/study/}; cp "$f" "$W/pack/$s"; done
tar -C "$W" -czf $OUT/study.tgz pack
ls -la $OUT; echo "total $(( $(date +%s) - T0 )) s"
