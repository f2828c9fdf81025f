/* Phase timers; see timer.h. */
#include "timer.h"

#include <mpi.h>
#include <stdio.h>

#include "check.h"
#include "counters.h"

void nn_phase_names_csv(const char *const steps[NN_STEP_PHASES], char *out, size_t len)
{
  const char *name[NN_NPHASES] = { [PH_COMM_REDUCE] = "comm_reduce", [PH_SOLVE] = "solve",
                                   [PH_COMM_GATHER] = "comm_gather", [PH_EVAL] = "eval", [PH_IO] = "io" };
  const enum nn_phase slot[NN_STEP_PHASES] = { PH_STEP1, PH_STEP2, PH_STEP3, PH_STEP4 };
  for (int i = 0; i < NN_STEP_PHASES; i++) name[slot[i]] = steps[i] ? steps[i] : "unused";
  size_t k = 0;
  out[0] = 0;
  for (int p = 0; p < NN_NPHASES && k < len; p++)
    k += (size_t)snprintf(out + k, len - k, "%s%s", p ? "," : "", name[p]);
}

void nn_timer_reset(nn_timer *t)
{
  for (int i = 0; i < NN_NPHASES; i++) t->total[i] = t->flops[i] = t->stream[i] = 0;
  t->running = -1;
}

void nn_timer_start(nn_timer *t, enum nn_phase p)
{
  if (t->running >= 0) nn_timer_stop(t);
  t->running = (int)p;
  t->flops_started = nn_count.flops;
  t->stream_started = nn_count.stream;
  t->started = MPI_Wtime();
}

void nn_timer_stop(nn_timer *t)
{
  if (t->running < 0) return;
  t->total[t->running] += MPI_Wtime() - t->started;
  t->flops[t->running] += nn_count.flops - t->flops_started;
  t->stream[t->running] += nn_count.stream - t->stream_started;
  t->running = -1;
}

void nn_timer_reduce(const nn_timer *t, double *min, double *avg, double *max, double *flops_max,
                     double *stream_max)
{
  int n;
  CHECK_MPI(MPI_Comm_size(MPI_COMM_WORLD, &n));
  CHECK_MPI(MPI_Allreduce(t->total, min, NN_NPHASES, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD));
  CHECK_MPI(MPI_Allreduce(t->total, max, NN_NPHASES, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD));
  CHECK_MPI(MPI_Allreduce(t->total, avg, NN_NPHASES, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
  for (int i = 0; i < NN_NPHASES; i++) avg[i] /= n;
  if (flops_max)
    CHECK_MPI(MPI_Allreduce(t->flops, flops_max, NN_NPHASES, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD));
  if (stream_max)
    CHECK_MPI(MPI_Allreduce(t->stream, stream_max, NN_NPHASES, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD));
}
