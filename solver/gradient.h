/* Gradient baselines (gd, sgd, momentum, adam) by backpropagation on BLAS, softmax
 * cross-entropy or squared-loss output (MLP or residual network, model.h), data-parallel over contiguous shards. The methods (registry entries
 * nn_gd, nn_sgd, nn_momentum, nn_adam; method.h) are collective: one gradient sum per step
 * (node_sum.h), none at 1 rank; their option check refuses --batch 1 on several ranks. The
 * epoch's objective is the mean
 * over training samples of the loss each had when its mini-batch was taken. The helpers
 * below are local and exist so tests can check the kernels against plain loops. */
#ifndef NN_GRADIENT_H
#define NN_GRADIENT_H

#include "method.h"
#include "model.h"
#include "shard.h"
#include "../common/shuffle.h"

/* Packed layout of all parameters' gradients, as used by the summed buffer (and the packed
 * parameters the steps update):
 * [W_1 (n1 x n0, column-major), b_1 (n1), W_2, b_2, ..., W_L, b_L]. Returns the total count
 * and fills off_W[l], off_b[l] (l = 1..L). */
size_t nn_gradient_layout(const nn_model *net, size_t *off_W, size_t *off_b);

/* grad (packed, see above) = the gradient of the SUMMED loss of the N columns of x (n[0] x N),
 * by the same backpropagation kernels the method runs: softmax cross-entropy against
 * `label`, or with loss NN_LOSS_LEAST_SQUARES the squared loss 0.5 |f(x) - t|^2 against the
 * real targets `target` (n[L] x N), or onehot(label) when target is NULL. Returns the summed
 * loss. Local; allocates its own scratch. */
double nn_gradient_sum(const nn_model *net, const real *x, const int *label, const real *target, enum nn_loss loss,
                       long N, real *grad);

/* The optimiser steps on a slice p[0..cnt) of the packed parameters from the summed gradient g
 * of a global batch (inv_b = 1 / batch), as the methods apply them after each gradient sum;
 * exported so that bench/microbench.c times these loops, not a copy. Local.
 *   plain:    p -= lr g inv_b
 *   momentum: v = mu v + g inv_b; p -= lr v   (torch.optim.SGD with momentum)
 *   adam:     torch.optim.Adam with step = lr / (1 - b1^t) and inv_sqrt_bc2 = 1 / sqrt(1 - b2^t) */
void nn_gradient_update_plain(real *restrict p, const real *restrict g, size_t cnt, real lr, real inv_b);
void nn_gradient_update_momentum(real *restrict p, real *restrict v, const real *restrict g, size_t cnt, real lr,
                                 real mu, real inv_b);
void nn_gradient_update_adam(real *restrict p, real *restrict m, real *restrict v, const real *restrict g, size_t cnt,
                             real step, real inv_sqrt_bc2, real inv_b);

#endif
