/* The samples of one split that this rank holds, in the run's precision (real.h). Plain data:
 * io/dataset.c fills it, the methods and the driver read it. */
#ifndef NN_SHARD_H
#define NN_SHARD_H

#include "real.h"

/* x is d x n (column-major, samples are columns). */
typedef struct {
  int d, classes;
  long n;            /* samples on this rank */
  long n_global;     /* samples over all ranks */
  long first;        /* global index of this rank's first sample */
  real *x;
  int *label;
} R(nn_shard);

#endif
