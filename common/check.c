/* Error reporting and collective failure; see check.h.
 *
 * Why no rank ever waits for another to end it: a failure is either local (CHECK, nn_fail),
 * and the rank that saw it aborts the job itself; or collective (nn_check_all, CHECK_ALL_RANKS,
 * CHECK_INFO), and then every rank takes part in one MPI_Allreduce of its own verdict, so all
 * learn the same answer at the same call, whichever subset of them failed, and all leave
 * together through MPI_Finalize. There is no barrier that only the failing ranks enter, hence
 * nothing to time out and no polling. The one sleep left is the 0.2 s before MPI_Abort, which
 * lets the launcher forward the error line; it waits for no other rank. */
#include "check.h"

#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void (*failure_hook)(void);

void nn_on_failure_call(void (*cleanup)(void)) { failure_hook = cleanup; }

/* MPI has been initialised (and not finalised). On these error paths a failing query can only
 * answer "no": reporting it through nn_fail would recurse. */
static int mpi_up(void)
{
  int up = 0, down = 0;
  if (MPI_Initialized(&up) != MPI_SUCCESS) return 0;
  if (up && MPI_Finalized(&down) != MPI_SUCCESS) return 0;
  return up && !down;
}

/* 0 (and 1 rank) when MPI cannot tell: these name the rank in error messages. */
int nn_rank(void)
{
  int r = 0;
  if (mpi_up() && MPI_Comm_rank(MPI_COMM_WORLD, &r) != MPI_SUCCESS) r = 0;
  return r;
}

int nn_nranks(void)
{
  int n = 1;
  if (mpi_up() && MPI_Comm_size(MPI_COMM_WORLD, &n) != MPI_SUCCESS) n = 1;
  return n;
}

static void remove_partial_output(void)
{
  /* Any rank may be the one that fails; unlink is harmless if the file is already gone. */
  if (failure_hook) failure_hook();
}

void nn_fail(const char *file, int line, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  const char *base = strrchr(file, '/');
  fprintf(stderr, "admm-train: error: [rank %d] %s:%d: %s\n", nn_rank(), base ? base + 1 : file, line, msg);
  fflush(stderr);
  remove_partial_output();
  /* The launcher forwards our stderr asynchronously and MPI_Abort tears its proxies down:
   * give the message a moment to get out first (seen lost under load otherwise). */
  if (mpi_up()) {
    usleep(200000);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  exit(1); /* MPI_Abort returned (it should not), or MPI was never up */
}

void nn_fail_mpi(const char *file, int line, const char *call, int rc)
{
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) snprintf(text, sizeof text, "MPI error code %d", rc);
  nn_fail(file, line, "%s failed: %s", call, text);
}

/* Collective: the lowest failing rank (or nranks when none failed) and whether every rank
 * failed, from one MPI_Allreduce that each rank enters with its own verdict. */
static int lowest_failing(int ok, int *all_failed)
{
  int p = nn_nranks(), v[2] = { ok ? p : nn_rank(), ok ? 0 : 1 };
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, v, 2, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
  if (all_failed) *all_failed = v[1];
  return v[0];
}

/* Every rank, after a collective verdict: remove this run's files, wait until every rank has
 * (rank 0 holds the lock), and exit through MPI_Finalize without abort noise. */
__attribute__((noreturn)) static void leave_together(int status)
{
  remove_partial_output();
  CHECK_MPI(MPI_Barrier(MPI_COMM_WORLD));
  (void)MPI_Finalize(); /* the status is already non-zero: a failure here cannot change it */
  exit(status);
}

void nn_check_all(int ok, const char *msg) { nn_check_all_status(ok, msg, 1); }

void nn_check_all_status(int ok, const char *msg, int status)
{
  int first_bad = lowest_failing(ok, NULL);
  if (first_bad == nn_nranks()) return;
  if (nn_rank() == first_bad) {
    fprintf(stderr, "admm-train: error: %s\n", msg);
    fflush(stderr);
  }
  leave_together(status);
}

/* The message of a failed CHECK_ALL_RANKS, printed by the lowest failing rank only. */
static void report_at(const char *file, int line, int all_failed, const char *fmt, va_list ap)
{
  char msg[1024], who[32] = "";
  vsnprintf(msg, sizeof msg, fmt, ap);
  if (!all_failed) snprintf(who, sizeof who, "[rank %d] ", nn_rank());
  const char *base = strrchr(file, '/');
  fprintf(stderr, "admm-train: error: %s%s:%d: %s\n", who, base ? base + 1 : file, line, msg);
  fflush(stderr);
}

void nn_check_all_at(const char *file, int line, int ok, const char *fmt, ...)
{
  va_list ap;
  if (!mpi_up()) {
    if (ok) return;
    char msg[1024];
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    nn_fail(file, line, "%s", msg);
  }
  int all_failed = 0, first_bad = lowest_failing(ok, &all_failed);
  if (first_bad == nn_nranks()) return;
  if (nn_rank() == first_bad) {
    va_start(ap, fmt);
    report_at(file, line, all_failed, fmt, ap);
    va_end(ap);
  }
  leave_together(1);
}

void nn_check_info(const char *file, int line, const char *who, int info)
{
  if (info < 0)
    nn_check_all_at(file, line, 0, "%s: argument %d had an illegal value (a bug in the caller)", who, -info);
  nn_check_all_at(file, line, info == 0,
                  "%s: info=%d: the leading minor of order %d is not positive definite "
                  "(the system is singular or not SPD: raise --ridge, or check the data for NaN/Inf)",
                  who, info, info);
}

void nn_test_fail_point(int epoch)
{
  static int armed = -1, fail_epoch, fail_rank, local, as_signal;
  static double pause_s = -1;
  if (pause_s < 0) { /* ADMM_TEST_EPOCH_PAUSE=S: every epoch lasts S s longer, on any machine */
    const char *p = getenv("ADMM_TEST_EPOCH_PAUSE");
    pause_s = p && *p ? atof(p) : 0;
  }
  if (pause_s > 0) {
    struct timespec ts = {(time_t)pause_s, (long)((pause_s - (double)(time_t)pause_s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
  }
  if (armed < 0) {
    const char *e = getenv("ADMM_TEST_FAIL_EPOCH"), *r = getenv("ADMM_TEST_FAIL_RANK"),
               *k = getenv("ADMM_TEST_FAIL_KIND");
    armed = e && *e;
    fail_epoch = armed ? atoi(e) : 0;
    fail_rank = r && strcmp(r, "all") == 0 ? -1 : r ? atoi(r) : 0;
    local = k && strcmp(k, "local") == 0;
    as_signal = k && strcmp(k, "signal") == 0;
  }
  if (!armed || epoch != fail_epoch) return;
  int me = nn_rank(), failed = fail_rank < 0 || me == fail_rank;
  if (as_signal) { /* SIGUSR1 to this rank only, as a scheduler's warning might arrive */
    if (failed) raise(SIGUSR1);
    return;
  }
  if (local) CHECK(!failed, "injected failure at epoch %d (ADMM_TEST_FAIL_RANK=%d, kind local)", epoch, me);
  else CHECK_ALL_RANKS(!failed, "injected failure at epoch %d (ADMM_TEST_FAIL_EPOCH, kind collective)", epoch);
}
