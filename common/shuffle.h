/* The order in which an epoch visits the GLOBAL training samples, shared by every
 * mini-batch method. It depends only on (n, batch, seed, epoch): every rank and every rank
 * count computes the same order without communication, so 1 and P ranks follow the same
 * trajectory. */
#ifndef NN_SHUFFLE_H
#define NN_SHUFFLE_H

#include <stdint.h>

/* Stream of the per-epoch shuffle, apart from the initialisation (1000 + l, biases 3000 + l), ADMM auxiliary (2000 + l),
 * synthetic data (77, 100, 101, 200, 201) and --augment (solver/augment.h) streams. */
#define NN_SHUFFLE_STREAM 0x5348554646000000ULL

/* perm (n entries) = a permutation of 0..n-1, cut into consecutive batches of `batch`
 * (the last may be short). Stratified: the samples are split into `batch` strata, stratum k
 * being [k n / batch, (k+1) n / batch) (integer division), each stratum is shuffled
 * (Fisher-Yates on counter draws keyed on (seed, epoch)), and batch j takes the j-th
 * sample of every stratum that has one, in stratum order. Because shards are cut at the
 * same rounding (nn_partition), when P divides `batch` each of P ranks holds exactly
 * batch / P columns of every full batch (otherwise at most one more or less than the rounded
 * share, as a shard can cut two strata): no rank waits for another at the allreduce.
 * batch 1 is a plain shuffle. Returns 0, or -1 when out of memory. */
int nn_shuffle(long *perm, long n, long batch, long seed, int epoch);

#endif
