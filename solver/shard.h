/* The samples of one split that this rank holds. Plain data, the same type in both
 * precisions: io/dataset.c fills it (x in the run's precision, by cfg->float32), the numerics
 * read x as real (real.h) and the driver only passes shards on. */
#ifndef NN_SHARD_H
#define NN_SHARD_H

/* x is d x n (column-major, samples are columns): double or float, as the run's precision.
 * For regression data `classes` is the number of outputs (the targets per sample). */
typedef struct {
  int d, classes;
  long n;            /* samples on this rank */
  long n_global;     /* samples over all ranks */
  long first;        /* global index of this rank's first sample */
  int float32;       /* 1: x holds floats, 0: doubles */
  void *x;
  int *label;        /* the class of each sample (0 for regression data) */
  void *y;           /* regression (--data regression, csv): classes x n real targets, in x's precision;
                      * NULL for classification */
} nn_shard;

#endif
