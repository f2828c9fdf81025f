# The shell tests' shared harness, sourced right after they set $train (admm-train) and
# $mpiexec: it makes a scratch folder (removed at exit) and changes into it, sets one BLAS thread
# per rank, and gives pass/fail counts, ok/bad, run RANKS ARGS..., expect_error and attr.
export OPENBLAS_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
run() { "$mpiexec" -n "$1" "$train" "${@:2}"; }

# expect_error NAME PATTERN RANKS ARGS...: exit != 0, exactly one 'admm-train: error:' line
# matching PATTERN, no results file or .part left behind.
expect_error() {
  local name=$1 pattern=$2 np=$3; shift 3
  rm -f out.h5 out.h5.part
  run "$np" --output out.h5 "$@" >stdout.txt 2>stderr.txt
  local rc=$? lines
  lines=$(grep -c '^admm-train: error:' stderr.txt)
  if [ $rc -ne 0 ] && [ "$lines" = 1 ] && grep -q -- "$pattern" stderr.txt && [ ! -e out.h5 ] && [ ! -e out.h5.part ]; then
    ok "$name"
  else
    bad "$name (rc=$rc, error lines=$lines, files: $(ls out.h5* 2>/dev/null))"; cat stderr.txt
  fi
}

# attr FILE PATH: the first value of the HDF5 attribute PATH of FILE, quotes removed ("" if none).
attr() { h5dump -a "$2" "$1" 2>/dev/null | sed -n 's/^ *(0): *//p' | tr -d '"' | head -n 1; }
