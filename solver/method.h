/* What the driver needs from a training method: one epoch at a time over this rank's shard,
 * updating the shared model in place. Every method's epoch is collective over
 * MPI_COMM_WORLD and leaves identical weights on every rank. */
#ifndef NN_METHOD_H
#define NN_METHOD_H

#include "config.h"
#include "blockcyclic.h"
#include "model.h"
#include "real.h"
#include "timer.h"

/* The training data of this rank: x is d x n (column-major, samples are columns). */
typedef struct {
  int d, classes;
  long n;            /* samples on this rank */
  long n_global;     /* samples over all ranks */
  long first;        /* global index of this rank's first sample */
  real *x;
  int *label;
} R(nn_shard);

/* Figures a method reports for one epoch (NaN where they do not apply). */
typedef struct {
  double objective;    /* the method's own objective, per training sample */
  double residual_z;   /* ADMM: sum_l |z_l - W_l a_{l-1}|^2 / n_train */
  double residual_a;   /* ADMM: sum_l |a_l - h(z_l)|^2 / n_train */
  double multiplier;   /* admm: |lambda|^2 / n_train after the epoch (0 through warm-up) */
  int converged;       /* 1: the method has reached its fixed point (the driver stops) */
} nn_epoch_stats;

typedef struct {
  void *self;
  /* warmup: 1 during ADMM warm-up epochs (no multiplier update) */
  void (*epoch)(void *self, int epoch, int warmup, nn_epoch_stats *st, nn_timer *t);
  void (*destroy)(void *self);
} R(nn_method);

/* The create and destroy the grid methods (admm, bcd, random-features) share. Such a method is
 * a table: its state's size, init (fills a zeroed state), epoch, and fini (releases what init
 * took). nn_grid_method_create allocates the state, runs init and returns the method, whose
 * destroy runs fini and frees the state. */
typedef struct {
  const char *name;   /* names the state in an out-of-memory message */
  size_t size;        /* of the state */
  void (*init)(void *self, const nn_config *cfg, R(nn_model) *net, const R(nn_shard) *train, const nn_grid *g);
  void (*epoch)(void *self, int epoch, int warmup, nn_epoch_stats *st, nn_timer *t);
  void (*fini)(void *self);
} R(nn_grid_method);

R(nn_method) R(nn_grid_method_create)(const R(nn_grid_method) *m, const nn_config *cfg, R(nn_model) *net,
                                      const R(nn_shard) *train, const nn_grid *g);

/* ADMM (Taylor et al. 2016, as in the thesis): solver/admm.c. g is the BLACS grid. The
 * gradient-free block coordinate descent (bcd) is declared in bcd.h. */
R(nn_method) R(nn_admm_create)(const nn_config *cfg, R(nn_model) *net, const R(nn_shard) *train,
                               const nn_grid *g);

/* The floor: hidden layers frozen at their initialisation, the output layer solved exactly
 * for cfg->loss (least squares or squared hinge). solver/random_features.c. */
R(nn_method) R(nn_random_features_create)(const nn_config *cfg, R(nn_model) *net, const R(nn_shard) *train,
                                          const nn_grid *g);

/* Gradient methods (gd, sgd, momentum, adam) by backpropagation on BLAS, data-parallel with
 * one sum of all gradients per step (solver/node_sum.h): solver/gradient.c. */
R(nn_method) R(nn_gradient_create)(const nn_config *cfg, R(nn_model) *net, const R(nn_shard) *train);

#endif
