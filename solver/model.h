/* The network itself: L weight matrices (optionally biases) of a ReLU MLP or of a fully
 * connected residual network (--arch resnet), and the true
 * forward pass that every accuracy in this suite is measured with. Local, no MPI, except
 * nn_forward_eval which leaves the cross-rank sums to the caller. */
#ifndef NN_MODEL_H
#define NN_MODEL_H

#include <stddef.h>

#include "../common/config.h"
#include "numerics.h"
#include "real.h"

/* --arch resnet keeps the same storage: layer 1 is the linear input layer (n[1] x n[0], no
 * activation), layers 2..L-1 the residual blocks x_l = x_{l-1} + act(W_l x_{l-1} + b_l) (all of
 * width n[1]), layer L the linear output layer. */
typedef struct nn_model {
  int L;
  int resnet;                    /* 1: the residual network above; 0: the ReLU MLP */
  int sigmoid;                   /* resnet: 1 = the blocks' activation is the logistic sigmoid, 0 = ReLU */
  int n[NN_MAX_LAYERS + 1];
  int bias;                      /* 1: b[l] is used */
  /* The layers this process holds, lo..hi (1..L unless --layer-groups gives this rank a group:
   * layer_groups.h nn_rank_layers); W[l] and b[l] are NULL outside, and every operation here
   * skips those layers. */
  int lo, hi;
  real *W[NN_MAX_LAYERS + 1];    /* W[l] is n[l] x n[l-1], column-major, l = lo..hi */
  real *b[NN_MAX_LAYERS + 1];    /* b[l] has n[l] entries (zero when bias == 0) */
} nn_model;

/* Each layer is one block Wbar_l = [W_l b_l], n[l] x (n[l-1] + 1) column-major: b[l] =
 * W[l] + n[l] n[l-1]. So X = Wbar_l^T, what a layer's least-squares solve returns, is Wbar_l
 * read row-major, and the solves gather it straight into the model (layer_fit.h). */
void nn_model_alloc(nn_model *m, int L, const int *n, int bias);
/* The same for layers lo..hi only (the others NULL). */
void nn_model_alloc_layers(nn_model *m, int L, const int *n, int bias, int lo, int hi);
void nn_model_free(nn_model *m);
/* Copies the layers src holds (dst must hold the same). */
void nn_model_copy(nn_model *dst, const nn_model *src);
/* Bytes of the weights and biases m holds. */
size_t nn_model_bytes(const nn_model *m);
/* Draws W[l] by the init method from counter-based streams keyed on (seed, layer): the same
 * on every rank and for every rank count, and for a layer whatever other layers m holds. Biases start at zero (pytorch draws them). NN_INIT_PAIRS
 * draws He here; the driver then calls nn_init_pairs (init_pairs.h), which needs the data. */
void nn_model_init(nn_model *m, enum nn_init init, long seed);

/* x is n[0] x N (column-major), label has N entries. Accumulates into *correct the number
 * of argmax hits and into *loss_sum the summed loss of the outputs (see io/SCHEMA.md).
 * Works in column chunks so its scratch memory stays small. */
void nn_forward_eval(const nn_model *m, const real *x, const int *label, long N,
                     enum nn_loss loss, long *correct, double *loss_sum);

/* Regression: y is n[L] x N real targets; accumulates the summed squared loss
 * 0.5 |f(x_j) - y_j|^2 into *loss_sum. Chunked like nn_forward_eval. */
void nn_forward_eval_targets(const nn_model *m, const real *x, const real *y, long N, double *loss_sum);

/* dst = relu(src), count entries (dst may be src). */
void nn_relu(real *dst, const real *src, size_t count);
/* dst = 1 / (1 + exp(-src)), count entries (dst may be src). */
void nn_sigmoid(real *dst, const real *src, size_t count);
/* resnet: x_out = x_in + act(z), n x nc, where z holds W x_in + b on entry and act(z) on exit. */
void nn_residual(const nn_model *m, real *x_out, const real *x_in, real *z, size_t count);

/* The true forward pass of nc columns x (n[0] x nc) through layers 1..upto (MLP: ReLU after
 * every layer but L; resnet: see nn_model). buf holds two scratch arrays of max width x nc; returns the one holding the
 * result (n[upto] x nc), or x itself when upto = 0. */
const real *nn_forward_layers(const nn_model *m, const real *x, long nc, int upto, real *buf[2]);

/* z = W a (+ b): W is rows x cols, a is cols x N, z is rows x N. */
void nn_affine(const real *W, const real *b, int rows, int cols, const real *a, long N, real *z);

#endif
