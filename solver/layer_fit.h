/* Least-squares fits of one affine layer z = W a + b, shared by the methods that solve for a
 * layer's weights exactly (bcd, admm, random-features): the Gram matrix and cross product of
 * the layer's input with a row of ones appended for the bias (abar = [a; 1]), and the one
 * transposition between the model's Wbar = [W b] and the solution X = Wbar^T. A solve writes
 * X^T straight into the model (NN_BC_TRANSPOSED, blockcyclic.h), so only the way back, model
 * to X, is a copy here. Local: the sums over ranks are the solver's (spd.h, pinv.h). */
#ifndef NN_LAYER_FIT_H
#define NN_LAYER_FIT_H

#include "model.h"

/* G (ld x ld, ld = n + 1 with ones, n without; lower triangle, and the upper triangle of its
 * diagonal blocks) = abar abar^T for a (n x N). ones: N ones (the bias row), or NULL. */
void nn_fit_gram(const real *a, int n, long N, const real *ones, real *G);
/* B (ld x m) = abar z^T for a (n x N), z (m x N). */
void nn_fit_cross(const real *a, int n, const real *z, int m, long N, const real *ones, real *B);
/* Where a solve of layer l puts X^T (n[l] x (n[l-1] + bias), leading dimension n[l]): the
 * model's W[l], with b[l] as its last column when net->bias (model.h: one block per layer). */
real *nn_fit_solution(nn_model *net, int l);
/* X ((n[l-1] + bias) x n[l]) = [W_l b_l]^T (bias row only when net->bias). */
void nn_fit_weights_to_x(const nn_model *net, int l, real *X);

#endif
