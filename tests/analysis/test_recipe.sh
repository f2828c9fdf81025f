#!/usr/bin/env bash
# The h5py/pandas recipe of analysis/README.md, run as written: extracted from the README, it
# loads a folder of fixture files (complete runs, a run stopped by a signal, the torn .part of a
# run that died) and must agree with admm-analyze's epochs.csv, row for row. Skipped, with the
# reason, where no python3 imports both h5py and pandas (Debian: python3-h5py, python3-pandas);
# nothing is installed here.
#
#   test_recipe.sh README ADMM_ANALYZE ANALYSIS_FIXTURE WORKDIR
set -u
readme=$1 analyze=$2 fixture=$3 work=$4
. "$(dirname "$0")/lib.sh"

py=
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import h5py, pandas' >/dev/null 2>&1; then py=$p; break; fi
done
if [ -z "$py" ]; then
  echo "SKIP: no python3 here imports both h5py and pandas (Debian: apt-get install python3-h5py python3-pandas)"
  exit 77
fi
echo "using $py: h5py $("$py" -c 'import h5py; print(h5py.__version__)'), pandas $("$py" -c 'import pandas; print(pandas.__version__)')"

rm -rf "$work"
mkdir -p "$work/res/admm" "$work/res/gd" "$work/res/bad"
cd "$work" || exit 1
"$fixture" res/admm/s1.h5 seed=1 acc=0.8 ranks=2 epochs=4 warmup=1
"$fixture" res/admm/s2.h5 seed=2 acc=0.9 ranks=2 epochs=4 warmup=1
"$fixture" res/admm/s3-signal.h5 seed=3 acc=0.2 ranks=2 epochs=4 warmup=1 stop=signal
"$fixture" res/gd/s1.h5 method=gd seed=1 acc=0.5 epochs=5
"$fixture" res/gd/s2-died.h5.part method=gd seed=2 epochs=5 status=running torn=phase_max
head -c 3000 res/gd/s1.h5 > res/bad/cut.h5

# the block that follows the recipe marker, without its fences
awk '/<!-- recipe: load_runs.py/ { on = 1; next } on && /^```python/ { inside = 1; next }
     inside && /^```/ { exit } inside { print }' "$readme" > load_runs.py
check "the README holds the recipe (load_dir and load_run)" \
  bash -c "grep -q '^def load_dir' load_runs.py && grep -q '^def load_run' load_runs.py"

"$analyze" res --out out --no-plots > /dev/null 2>&1
check "admm-analyze wrote epochs.csv" test -s out/tables/epochs.csv

cat > compare.py <<'EOF'
# The recipe's frame against epochs.csv: the same runs and epochs, the same values.
import math, sys
import pandas as pd
import load_runs

df = load_runs.load_dir("res")
csv = pd.read_csv("out/tables/epochs.csv")
bad = 0
def check(what, cond):
    global bad
    print(("ok - " if cond else "FAIL - ") + what)
    bad += not cond

check("one row per run and epoch: %d in the frame, %d in epochs.csv" % (len(df), len(csv)),
      len(df) == len(csv))
check("the same files", sorted(set(df.file)) == sorted(set(csv.file)))
check("the died .part: the 4 rows every dataset holds, not 5",
      (df.file == "res/gd/s2-died.h5.part").sum() == 4)
check("partial: the signal run and the .part, nothing else",
      sorted(set(df[df.partial].file)) == ["res/admm/s3-signal.h5", "res/gd/s2-died.h5.part"])
check("2-D datasets became columns: phases, message kinds, per-rank max and sum",
      all(c in df.columns for c in ["phase_avg_gram", "phase_max_comm_reduce", "phase_flops_solve",
                                     "comm_calls_allreduce", "comm_bytes_shm", "rss_mb_max",
                                     "bytes_sent_sum"]))
m = df.merge(csv, on=["file", "epoch"], suffixes=("", "_csv"))
check("every row matches a row of epochs.csv", len(m) == len(csv))
def same(a, b):
    num = pd.api.types.is_number  # numpy's scalars too: pandas reads 1.0 back as the integer 1
    if num(a) and num(b):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return abs(a - b) <= 1e-12 * max(1.0, abs(a))
    return str(a) == str(b)
for col in ["t_epoch", "test_acc", "val_acc", "objective", "residual_z", "multiplier", "t_wall",
            "phase_avg_gram", "phase_max_comm_reduce", "rss_mb_max", "method", "ranks",
            "config_seed", "config_layer_sizes"]:
    other = col + "_csv" if col + "_csv" in m.columns else col
    diff = [i for i in range(len(m)) if not same(m[col].iloc[i], m[other].iloc[i])]
    check("%s agrees with epochs.csv%s" % (col, "" if not diff else ": rows %s" % diff[:5]),
          not diff)
check("partial agrees with epochs.csv", list(m.partial) == list(m.partial_csv == "yes"))
check("complete runs only: admm's mean test accuracy at epoch 4 is 85 %",
      abs(df[~df.partial & (df.method == "admm") & (df.epoch == 4)].test_acc.mean() - 0.85) < 1e-12)
sys.exit(1 if bad else 0)
EOF
out=$("$py" compare.py 2> recipe.err)
rc=$?
echo "$out"
pass=$((pass + $(printf '%s\n' "$out" | grep -c '^ok - ')))
fail=$((fail + $(printf '%s\n' "$out" | grep -c '^FAIL - ')))
check "the recipe ran (rc=$rc)" test $rc -eq 0
check "the cut file was skipped with a line on stderr" grep -q 'skipped res/bad/cut.h5' recipe.err
finish
