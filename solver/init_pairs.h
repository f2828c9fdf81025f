/* --init pairs: every hidden unit starts as the perpendicular bisector of two training
 * samples of different classes. Unit i of layer l takes samples p, q (drawn from (seed, l, i),
 * the same for any rank count), their features u, v at the layer's input (the forward pass of
 * the layers below, already initialised), and sets w = 2 (v - u) / |v - u|^2,
 * b = -w . (u + v) / 2, so w.u + b = -1 and w.v + b = +1. The output layer keeps its draw.
 * A model without biases (--method admm) keeps w and drops b. Collective. */
#ifndef NN_INIT_PAIRS_H
#define NN_INIT_PAIRS_H

#include "model.h"
#include "shard.h"

void nn_init_pairs(nn_model *net, const nn_shard *train, long seed);

#endif
