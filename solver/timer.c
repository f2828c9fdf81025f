/* Phase timers; see timer.h. */
#include "timer.h"

#include <mpi.h>

#include "check.h"
#include "counters.h"

const char *const nn_phase_names[NN_NPHASES] = {
  "gram", "comm_reduce", "solve", "comm_gather", "a_update", "z_update",
  "forward_backward", "eval", "io"
};

void nn_timer_reset(nn_timer *t)
{
  for (int i = 0; i < NN_NPHASES; i++) t->total[i] = t->flops[i] = 0;
  t->running = -1;
}

void nn_timer_start(nn_timer *t, enum nn_phase p)
{
  if (t->running >= 0) nn_timer_stop(t);
  t->running = (int)p;
  t->flops_started = nn_count.flops;
  t->started = MPI_Wtime();
}

void nn_timer_stop(nn_timer *t)
{
  if (t->running < 0) return;
  t->total[t->running] += MPI_Wtime() - t->started;
  t->flops[t->running] += nn_count.flops - t->flops_started;
  t->running = -1;
}

void nn_timer_reduce(const nn_timer *t, double *min, double *avg, double *max, double *flops_max)
{
  int n;
  CHECK_MPI(MPI_Comm_size(MPI_COMM_WORLD, &n));
  CHECK_MPI(MPI_Allreduce(t->total, min, NN_NPHASES, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD));
  CHECK_MPI(MPI_Allreduce(t->total, max, NN_NPHASES, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD));
  CHECK_MPI(MPI_Allreduce(t->total, avg, NN_NPHASES, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
  for (int i = 0; i < NN_NPHASES; i++) avg[i] /= n;
  if (flops_max)
    CHECK_MPI(MPI_Allreduce(t->flops, flops_max, NN_NPHASES, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD));
}
