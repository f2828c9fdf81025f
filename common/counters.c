/* Work counters; see counters.h. */
#include "counters.h"

#include <mpi.h>

#include "check.h"

const char *const nn_comm_kind_names[NN_NCOMM] = {
  "allreduce", "reduce_scatter", "bcast", "allgather", "reduce", "p2p", "barrier", "shm"
};

nn_counters nn_count;

/* nn_counters is doubles only, so one loop (and one MPI message) covers every field, and a
 * field added later is covered too. */
enum { FIELDS = sizeof(nn_counters) / sizeof(double) };
_Static_assert(sizeof(nn_counters) == FIELDS * sizeof(double), "nn_counters must hold doubles only");

void nn_counters_diff(nn_counters *d, const nn_counters *a, const nn_counters *b)
{
  const double *x = (const double *)a, *y = (const double *)b;
  double *z = (double *)d;
  for (int i = 0; i < FIELDS; i++) z[i] = x[i] - y[i];
}

void nn_counters_max(nn_counters *max, const nn_counters *mine)
{
  CHECK_MPI(MPI_Allreduce(mine, max, FIELDS, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD));
}
