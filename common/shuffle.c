/* Stratified per-epoch shuffle; see shuffle.h. */
#include "shuffle.h"

#include <stdlib.h>

#include "rng.h"

/* First index of stratum k of `strata` over n samples; the same rounding as nn_partition. */
static long stratum_first(long n, long strata, long k)
{
  return (long)((__int128)k * n / strata);
}

int nn_shuffle(long *perm, long n, long batch, long seed, int epoch)
{
  if (n <= 0) return 0;
  long strata = batch < 1 ? 1 : batch > n ? n : batch;
  long *order = malloc(sizeof(long) * (size_t)n);
  if (!order) return -1;
  for (long i = 0; i < n; i++) order[i] = i;
  /* Each stratum shuffled in place; the draw for position i is keyed on i itself, so the
   * strata use disjoint counters of one stream. */
  for (long k = 0; k < strata; k++) {
    long f = stratum_first(n, strata, k), size = stratum_first(n, strata, k + 1) - f;
    for (long i = size - 1; i > 0; i--) {
      uint64_t u = nn_rng_u64((uint64_t)seed, NN_SHUFFLE_STREAM + (uint64_t)epoch, (uint64_t)(f + i));
      long j = (long)(((unsigned __int128)u * (uint64_t)(i + 1)) >> 64); /* uniform in [0, i] */
      long t = order[f + i];
      order[f + i] = order[f + j];
      order[f + j] = t;
    }
  }
  /* Batch j = the j-th entry of each stratum (strata sizes differ by at most one). */
  long pos = 0;
  for (long j = 0; pos < n; j++)
    for (long k = 0; k < strata; k++) {
      long f = stratum_first(n, strata, k);
      if (f + j < stratum_first(n, strata, k + 1)) perm[pos++] = order[f + j];
    }
  free(order);
  return 0;
}
