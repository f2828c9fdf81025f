/* Turns the data set named in the config into this rank's shards: training, validation
 * (carved from the end of the training range, for early stopping) and test. Each split is
 * cut into contiguous, near-equal slices in rank order; a rank reads only its own slice.
 * Collective (all ranks validate the files together and fail together). */
#ifndef NN_DATASET_H
#define NN_DATASET_H

#include <stdint.h>

#include "../common/config.h"
#include "../solver/shard.h"

/* --data regression: inputs at most this many (--layers' first width). */
#define NN_REGRESSION_MAX_INPUTS 4096
#define NN_STR_(x) #x
#define NN_STR(x) NN_STR_(x)

typedef struct {
  nn_shard train, val, test;
  double mean, std;           /* the normalisation applied: x = (pixel/255 - mean) / std */
  char source[4500];          /* the files read, for the record */
} nn_data;

void nn_data_load(nn_data *d, const nn_config *cfg);
void nn_data_free(nn_data *d);

/* A fingerprint of the samples of a split, the same for any rank count and independent of
 * their order: the sum over samples (mod 2^64) of FNV-1a-64 over the label byte and the pixel
 * bytes round(255 (x std + mean)) recovered from the stored values. The results file records
 * one per split, so a test can check each split against its source file's sample range.
 * Regression splits (shard y set) hash the stored inputs and targets themselves.
 * Collective (sums over ranks). */
uint64_t nn_split_checksum(const nn_shard *s, double mean, double std);

/* The slice [first, first + count) of n samples that rank r of p holds: cut at r n / p
 * (integer division), the rounding nn_shuffle's strata use, so shards are unions of strata. */
static inline void nn_partition(long n, int r, int p, long *first, long *count)
{
  *first = (long)((__int128)r * n / p);
  *count = (long)((__int128)(r + 1) * n / p) - *first;
}

#endif
