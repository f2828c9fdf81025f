/* Error reporting and collective failure; see check.h. */
#include "check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void (*failure_hook)(void);

void nn_on_failure_call(void (*cleanup)(void)) { failure_hook = cleanup; }

int nn_rank(void)
{
  int r = 0, up = 0;
  MPI_Initialized(&up);
  if (up) MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

int nn_nranks(void)
{
  int n = 1, up = 0;
  MPI_Initialized(&up);
  if (up) MPI_Comm_size(MPI_COMM_WORLD, &n);
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
  int up = 0;
  MPI_Initialized(&up);
  /* The launcher forwards our stderr asynchronously and MPI_Abort tears its proxies down:
   * give the message a moment to get out first (seen lost under load otherwise). */
  if (up) {
    usleep(200000);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  exit(1);
}

void nn_fail_collective(const char *file, int line, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  int up = 0;
  MPI_Initialized(&up);
  if (!up || nn_nranks() == 1) nn_fail(file, line, "%s", msg);
  if (nn_rank() == 0) {
    const char *base = strrchr(file, '/');
    fprintf(stderr, "admm-train: error: %s:%d: %s\n", base ? base + 1 : file, line, msg);
    fflush(stderr);
  }
  remove_partial_output();
  /* Every rank should be here with the same verdict: then all leave through MPI_Finalize with
   * status 1 and no abort noise. A rank that is not (a bug: its verdict differed) would hang a
   * plain barrier, so the barrier is non-blocking and given COLLECTIVE_GRACE_S seconds, after
   * which the communicator is aborted. */
  enum { COLLECTIVE_GRACE_S = 10 };
  MPI_Request req;
  int done = 0;
  MPI_Ibarrier(MPI_COMM_WORLD, &req);
  double t0 = MPI_Wtime();
  while (!done && MPI_Wtime() - t0 < COLLECTIVE_GRACE_S) {
    MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    if (!done) usleep(1000);
  }
  if (!done) MPI_Abort(MPI_COMM_WORLD, 1);
  MPI_Finalize();
  exit(1);
}

void nn_fail_mpi(const char *file, int line, const char *call, int rc)
{
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  nn_fail(file, line, "%s failed: %s", call, text);
}

void nn_check_all(int ok, const char *msg) { nn_check_all_status(ok, msg, 1); }

void nn_check_all_status(int ok, const char *msg, int status)
{
  int me = nn_rank(), first_bad = ok ? nn_nranks() : me;
  MPI_Allreduce(MPI_IN_PLACE, &first_bad, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (first_bad == nn_nranks()) return;
  if (me == first_bad) {
    fprintf(stderr, "admm-train: error: %s\n", msg);
    fflush(stderr);
  }
  remove_partial_output();
  MPI_Barrier(MPI_COMM_WORLD);
  MPI_Finalize();
  exit(status);
}

void nn_check_info(const char *file, int line, const char *who, int info)
{
  if (info == 0) return;
  if (info < 0)
    nn_fail_collective(file, line, "%s: argument %d had an illegal value (a bug in the caller)", who, -info);
  nn_fail_collective(file, line,
          "%s: info=%d: the leading minor of order %d is not positive definite "
          "(the system is singular or not SPD: raise --ridge, or check the data for NaN/Inf)",
          who, info, info);
}
