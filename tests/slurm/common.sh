# shellcheck shell=bash disable=SC2034
# Helpers for the tests in tests/slurm: counting checks, a private Slurm cluster that is always
# stopped on exit, waiting for jobs, reading results files. Sourced, never run.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
SLURM_DIR=$REPO/slurm
PASSED=0
FAILED=0
CLUSTER=""
WORK=""
KEEP_WORK=${ADMM_TEST_KEEP:-0}
# the caller's settings must not leak into the jobs under test
unset ADMM_RESULTS ADMM_RUN_NAME ADMM_SWEEP ADMM_SWEEP_INDEX ADMM_NTASKS ADMM_LOCAL ADMM_JOB_ID ADMM_SITE \
  ADMM_SLURM_DIR

# The MPI of the build under test: ctest gives the tests that run admm-train ADMM_TEST_MPI (CMake's
# NN_MPI_FLAVOR). MPICH: the shipped site.conf as it is (srun --mpi=pmi2, mpiexec.mpich). OpenMPI:
# the shipped site-openmpi.conf (srun --mpi=pmix, mpiexec.openmpi outside Slurm) through ADMM_SITE,
# which every template and submit script reads; as root OpenMPI's mpiexec also wants its consent.
# TEST_SITE is the site file a test's own site file starts from, TEST_MPIEXEC the launcher of
# its runs outside Slurm, TEST_SRUN_MPI the srun --mpi plugin the jobs use.
TEST_MPI=${ADMM_TEST_MPI:-mpich}
case "$TEST_MPI" in
  openmpi)
    TEST_SITE=$SLURM_DIR/site-openmpi.conf TEST_MPIEXEC=(mpiexec.openmpi --oversubscribe) TEST_SRUN_MPI=pmix
    export ADMM_SITE=$TEST_SITE
    [ "$(id -u)" != 0 ] || export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ;;
  mpich) TEST_SITE=$SLURM_DIR/site.conf TEST_MPIEXEC=(mpiexec.mpich) TEST_SRUN_MPI=pmi2 ;;
  *) echo "ADMM_TEST_MPI=$TEST_MPI: the Slurm tests know mpich and openmpi" >&2; exit 2 ;;
esac
echo "MPI under test: $TEST_MPI (site file $TEST_SITE)"

pass() { PASSED=$((PASSED + 1)); echo "PASS $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $1${2:+: $2}"; }
# check NAME COMMAND...: pass if COMMAND succeeds
check() {
  local name=$1
  shift
  if "$@"; then pass "$name"; else fail "$name" "command failed: $*"; fi
}
# check_grep NAME PATTERN FILE: pass if FILE has a line matching the extended regex PATTERN
check_grep() {
  if grep -Eq -- "$2" "$3" 2>/dev/null; then pass "$1"; else
    fail "$1" "no line matching '$2' in $3"
    [ -f "$3" ] && sed 's/^/    | /' "$3" | tail -n 20
  fi
}
# finish: the required last line; exit status 1 when anything failed
finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}
# skip WHY: a missing prerequisite of the machine (ctest SKIP_RETURN_CODE 77)
skip() {
  echo "SKIP: $1"
  echo "0 passed, 0 failed"
  exit 77
}
# bail WHY: cannot go on; counts as a failure
bail() {
  fail "$1" "${2:-}"
  finish
  exit 1
}

# A scratch directory, removed on exit unless something failed or ADMM_TEST_KEEP=1.
make_work() {
  WORK=$(mktemp -d "/tmp/admm-${1:-slurm}-test.XXXXXX")
  chmod 755 "$WORK"  # munged's socket lives below it: every folder above must be searchable
  echo "work directory: $WORK"
}

cleanup() {
  local rc=$?
  if [ -n "$CLUSTER" ]; then
    "$SLURM_DIR/cluster-stop.sh" "$CLUSTER" >/dev/null 2>&1 || echo "warning: cluster-stop.sh $CLUSTER failed"
  fi
  if [ -n "$WORK" ]; then
    if [ "$FAILED" -eq 0 ] && [ "$KEEP_WORK" != 1 ]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

require_cluster_tools() {
  [ "$(id -u)" -eq 0 ] || skip "the test cluster needs root (SlurmUser=root)"
  local c
  for c in munged mungekey slurmctld slurmd sbatch squeue scontrol ss; do
    command -v "$c" >/dev/null || skip "$c not installed (jobs/install-deps.sh)"
  done
}

# take_tools TRAIN ANALYZE: the binaries under test, as absolute paths exported for the scripts
# and jobs (ADMM_TRAIN, ADMM_ANALYZE); a missing trainer ends the test, a missing analyser is noted
take_tools() {
  ADMM_TRAIN=$(realpath -m -- "$1")
  ADMM_ANALYZE=$(realpath -m -- "$2")
  export ADMM_TRAIN ADMM_ANALYZE
  [ -x "$ADMM_TRAIN" ] || bail "trainer binary" "$ADMM_TRAIN does not exist: build admm-train first"
  [ -x "$ADMM_ANALYZE" ] || echo "NOTE: $ADMM_ANALYZE does not exist: the analysis jobs will fail, and so will this test"
}

# start_cluster DIR [cluster-start.sh options]: start the private cluster, export SLURM_CONF;
# failure ends the test
start_cluster() {
  CLUSTER=$1
  shift
  local out t0=$SECONDS
  if ! out=$("$SLURM_DIR/cluster-start.sh" "$CLUSTER" "$@"); then
    bail "cluster-start.sh $CLUSTER" "see the messages above"
  fi
  eval "$out"
  echo "cluster up in $((SECONDS - t0)) s: $SLURM_CONF"
}

# wait_idle TIMEOUT: wait until this cluster has no pending/running job; 1 on timeout
wait_idle() {
  local deadline=$((SECONDS + $1))
  while [ -n "$(squeue -h -t PD,R,CG,CF,S,RQ,RS,RF,SO -o %i 2>/dev/null)" ]; do
    if [ $SECONDS -ge "$deadline" ]; then
      echo "still queued after $1 s:"
      squeue -r 2>&1 | sed 's/^/    | /'
      return 1
    fi
    sleep 0.5
  done
}

# job_field ID FIELD: a field of `scontrol show job -o ID` (first record: an array task id
# like 12_3 names one task)
job_field() {
  scontrol show job -o "$1" 2>/dev/null | head -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}
# check_job NAME ID STATE [EXITCODE]: the job ended in STATE (and ExitCode, e.g. 0:0)
check_job() {
  local st ec
  st=$(job_field "$2" JobState)
  ec=$(job_field "$2" ExitCode)
  if [ "$st" = "$3" ] && { [ -z "${4:-}" ] || [ "$ec" = "$4" ]; }; then
    pass "$1 (job $2 $st ExitCode=$ec)"
  else
    fail "$1" "job $2 is JobState=${st:-unknown} ExitCode=${ec:-?}, expected $3${4:+ ExitCode=$4} (reason: $(job_field "$2" Reason))"
  fi
}

# h5_attr FILE NAME: value of a scalar root attribute (strings without quotes)
h5_attr() {
  h5dump -a "/$2" "$1" 2>/dev/null | sed -n 's/^ *(0): *//p' | tr -d '"' | head -n 1
}
# check_results NAME FILE [RANKS [N_TRAIN]]: FILE exists, status complete, attributes as given
check_results() {
  local name=$1 f=$2 want_ranks=${3:-} want_n=${4:-} st r n
  if [ ! -f "$f" ]; then
    fail "$name" "no results file $f ($(ls "$(dirname "$f")" 2>/dev/null | tr '\n' ' '))"
    return
  fi
  st=$(h5_attr "$f" status)
  [ "$st" = complete ] || { fail "$name" "$f: status='$st', expected complete"; return; }
  if [ -n "$want_ranks" ]; then
    r=$(h5_attr "$f" ranks)
    # ranks that do not form one MPI_COMM_WORLD (wrong PMI) would each report 1
    [ "$r" = "$want_ranks" ] || { fail "$name" "$f: ranks=$r, expected $want_ranks"; return; }
  fi
  if [ -n "$want_n" ]; then
    n=$(h5_attr "$f" config/n_train)  # the option as passed (root n_train excludes --validation)
    [ "$n" = "$want_n" ] || { fail "$name" "$f: n_train=$n, expected $want_n"; return; }
  fi
  pass "$name ($f complete${want_ranks:+, ranks=$want_ranks}${want_n:+, n_train=$want_n})"
}

# check_report NAME DIR: the analysis ran and left its report (admm-analyze writes report.md)
check_report() {
  if [ -f "$2.status" ] && grep -q '^OK' "$2.status" && [ -s "$2/report.md" ]; then
    pass "$1 ($2: $(ls "$2" | head -n 5 | tr '\n' ' '))"
  else
    fail "$1" "no report.md in $2 ($(ls "$2" 2>/dev/null | tr '\n' ' ')): $(cat "$2.status" 2>/dev/null ||
      echo 'no report.status: the analysis job never ran')"
    local log
    for log in "$(dirname "$2")"/logs/admm-analyze* "$(dirname "$(dirname "$2")")"/logs/admm-analyze*; do
      [ -f "$log" ] && sed 's/^/    | /' "$log" | tail -n 20
    done
  fi
}

# job_id_of FILE PATTERN: the job id on the line of a jobs.txt matching PATTERN
job_id_of() {
  grep -E -- "$2" "$1" | head -n 1 | sed -n 's/^job=\([^ ]*\) .*/\1/p'
}
