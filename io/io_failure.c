/* I/O failure handling; see io_failure.h. Why a watchdog: with a full disk, HDF5 1.10's
 * metadata flush returned the error on the rank whose write failed while the other rank
 * waited in a broadcast inside the same H5Fflush, and the first one waited in a barrier:
 * no call returned, so no check after it can help. The watchdog cannot use MPI (the main
 * thread is inside it, and MPI was initialised single-threaded): it writes its line, removes
 * the files and calls _exit; the launcher then ends the other ranks.
 *
 * One line, not one per rank: every blocked rank's watchdog fires, so the firing time is
 * staggered by what the rank knows. A rank that recorded the system's reason fires first
 * (rank 0 at 0.85 of the timeout, others at 0.90) and prints; a rank that knows nothing
 * fires later (rank 0 at 0.95, printing that I/O stalled; others at 1.0, silently). The first
 * process to exit makes the launcher kill the rest before their turn comes. */
#define _GNU_SOURCE /* pthread_condattr_setclock, usleep */
#include "io_failure.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/check.h"
#include "output_guard.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv;
static int started, armed, quiet, rank;
static double timeout_s = 30, armed_at;
static char file[1200], region[200];
static int have_reason;
static char reason[600]; /* the first MPI-IO error of the armed region */

static double now_s(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The system's words for an MPI-IO error: the errno behind an error class that has one, else
 * errno if ROMIO's message quotes it, else the last line of that message. */
static void mpi_reason(int code, int errno_seen, char *out, size_t len)
{
  int cls = 0, n = 0;
  char s[MPI_MAX_ERROR_STRING] = "";
  /* inside MPI's error handler: a query that fails leaves its default (no class, no text) */
  if (MPI_Error_class(code, &cls) != MPI_SUCCESS) cls = MPI_SUCCESS;
  if (MPI_Error_string(code, s, &n) != MPI_SUCCESS) snprintf(s, sizeof s, "MPI-IO error code %d", code);
  int e = cls == MPI_ERR_NO_SPACE ? ENOSPC : cls == MPI_ERR_QUOTA ? EDQUOT : cls == MPI_ERR_READ_ONLY ? EROFS
        : cls == MPI_ERR_ACCESS ? EACCES : cls == MPI_ERR_FILE_EXISTS ? EEXIST : cls == MPI_ERR_NO_SUCH_FILE ? ENOENT
        : 0;
  if (!e && errno_seen && strstr(s, strerror(errno_seen))) e = errno_seen;
  if (e) { snprintf(out, len, "%s", strerror(e)); return; }
  char *nl;
  while ((nl = strrchr(s, '\n')) && nl[1] == 0) *nl = 0;
  const char *last = (nl = strrchr(s, '\n')) ? nl + 1 : s;
  const char *colon = strstr(last, "): ");
  snprintf(out, len, "%s", colon ? colon + 3 : last);
}

static void file_errhandler(MPI_File *fh, int *code, ...)
{
  int e = errno;
  (void)fh;
  char r[sizeof reason];
  mpi_reason(*code, e, r, sizeof r);
  pthread_mutex_lock(&mu);
  if (!have_reason) {
    snprintf(reason, sizeof reason, "%s", r);
    have_reason = 1;
  }
  pthread_mutex_unlock(&mu);
  /* returning, as MPI_ERRORS_RETURN would: HDF5 sees the error code and unwinds */
}

static void fire(double waited)
{
  char line[2400];
  int n = 0;
  if (!quiet && have_reason)
    n = snprintf(line, sizeof line, "admm-train: error: %s: %s (while %s; the ranks were still blocked %.0f s later, "
                 "so the I/O watchdog ended the run: ADMM_IO_TIMEOUT=%g)\n", file, reason, region, waited, timeout_s);
  else if (!quiet && rank == 0)
    n = snprintf(line, sizeof line, "admm-train: error: %s: no progress for %.0f s while %s (a rank is blocked in "
                 "HDF5 or MPI-IO without a reported error; the I/O watchdog ended the run, ADMM_IO_TIMEOUT=%g)\n",
                 file, waited, region, timeout_s);
  nn_output_abandon();
  if (n > 0) {
    ssize_t w = write(2, line, (size_t)(n < (int)sizeof line ? n : (int)sizeof line - 1));
    (void)w;
    usleep(200000); /* let the launcher forward the line before it tears the job down */
  }
  _exit(1);
}

static void *watch(void *arg)
{
  (void)arg;
  pthread_mutex_lock(&mu);
  for (;;) {
    while (!armed) pthread_cond_wait(&cv, &mu);
    double frac = have_reason ? (rank == 0 ? 0.85 : 0.90) : (rank == 0 ? 0.95 : 1.0);
    double due = armed_at + frac * timeout_s, t = now_s();
    if (t >= due) fire(t - armed_at);
    /* wake at least every 0.25 s: a reason recorded meanwhile moves the firing time earlier */
    double until = due < t + 0.25 ? due : t + 0.25;
    struct timespec ts = { (time_t)until, (long)((until - floor(until)) * 1e9) };
    pthread_cond_timedwait(&cv, &mu, &ts);
  }
  return NULL;
}

int nn_io_init(char *err, size_t len)
{
  const char *env = getenv("ADMM_IO_TIMEOUT");
  if (env && *env) {
    char *end;
    double v = strtod(env, &end);
    if (*end || !(v > 0) || !isfinite(v)) {
      snprintf(err, len, "ADMM_IO_TIMEOUT='%s': not a positive number of seconds", env);
      return -1;
    }
    timeout_s = v;
  }
  rank = nn_rank();
  static int installed = 0;
  if (!installed) {
    MPI_Errhandler eh;
    if (MPI_File_create_errhandler(file_errhandler, &eh) != MPI_SUCCESS ||
        MPI_File_set_errhandler(MPI_FILE_NULL, eh) != MPI_SUCCESS) {
      snprintf(err, len, "cannot install the MPI-IO error handler");
      return -1;
    }
    installed = 1;
  }
  return 0;
}

void nn_io_watch_begin(const char *f, const char *what)
{
  pthread_mutex_lock(&mu);
  snprintf(file, sizeof file, "%s", f);
  snprintf(region, sizeof region, "%s", what);
  have_reason = 0;
  reason[0] = 0;
  armed_at = now_s();
  armed = 1;
  if (!started) {
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_t t;
    pthread_attr_t ta;
    pthread_attr_init(&ta);
    pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
    CHECK(pthread_create(&t, &ta, watch, NULL) == 0, "cannot start the I/O watchdog thread");
    pthread_attr_destroy(&ta);
    started = 1;
  }
  pthread_cond_signal(&cv);
  pthread_mutex_unlock(&mu);
}

void nn_io_watch_end(void)
{
  pthread_mutex_lock(&mu);
  armed = 0;
  pthread_mutex_unlock(&mu);
}

static herr_t innermost(unsigned n, const H5E_error2_t *e, void *data)
{
  /* walked upward, entry 0 is where HDF5 first saw the problem: its most specific message */
  if (n == 0 && e->desc && e->desc[0]) snprintf(data, 256, "%s", e->desc);
  return 0;
}

void nn_io_reason(char *buf, size_t len, int errno_after)
{
  pthread_mutex_lock(&mu);
  int have = have_reason;
  if (have) snprintf(buf, len, "%s", reason);
  pthread_mutex_unlock(&mu);
  if (have) return;
  char h5[256] = "";
  if (H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, h5) < 0) h5[0] = 0; /* no message, then */
  (void)H5Eclear2(H5E_DEFAULT); /* best effort: a stale stack only lengthens a later message */
  if (h5[0] && errno_after) snprintf(buf, len, "%s (HDF5: %s)", strerror(errno_after), h5);
  else if (h5[0]) snprintf(buf, len, "HDF5: %s", h5);
  else if (errno_after) snprintf(buf, len, "%s", strerror(errno_after));
  else snprintf(buf, len, "HDF5 reported an error without a message");
}

void nn_io_agree(int ok, const char *msg)
{
  int me = nn_rank(), p = nn_nranks(), first = ok ? p : me;
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
  if (first == p) return;
  pthread_mutex_lock(&mu);
  quiet = 1; /* the line below is the run's one line; a late watchdog only ends the process */
  pthread_mutex_unlock(&mu);
  if (me == first) {
    fprintf(stderr, "admm-train: error: %s\n", msg);
    fflush(stderr);
  }
  nn_output_abandon();
  /* every rank has removed its files (rank 0 the lock) before the abort takes them down */
  CHECK_MPI(MPI_Barrier(MPI_COMM_WORLD));
  /* Not MPI_Finalize: HDF5 would close the file there, collectively, after a failed I/O call.
   * The rank that printed aborts the job once the launcher has had time to forward its line;
   * the others, which all passed the barrier with it, abort by themselves should that abort
   * not reach them within seconds (one sleep, no loop: they need nothing from that rank). */
  if (me == first) {
    usleep(200000);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  sleep(5);
  MPI_Abort(MPI_COMM_WORLD, 1);
  _exit(1);
}
