/* Gradient-free block coordinate descent (--method bcd, the default): exact block minimisations of a
 * penalty merit over weights with biases, hidden pre-activations z_l and activations a_l,
 * with the output layer an exact ridge solve. Leaves out multipliers and any loss gradient.
 * init, sweep, the steps and the merit are collective over MPI_COMM_WORLD.
 *
 * Merit (a_0 = x, abar = [a; 1], Wbar_l = [W_l b_l], Y one-hot k x N, h = relu):
 *   F = 1/2 |Wbar_L abar_{L-1} - T|^2
 *     + sum_{l<L} gamma/2 |a_l - h(z_l)|^2 + beta/2 |z_l - Wbar_l abar_{l-1}|^2
 * with output targets T = Y (--loss least-squares), or (--loss squared-hinge) T a block of its
 * own in the set C = {T_yj >= 1 for the class y of sample j, T_ij <= 0 for the others}, so that
 * min over T of the first term is the squared-hinge loss 1/2 sum dist(output, C)^2: its step
 * projects the network's outputs onto C (clips them), the output solve then fits T.
 * Every step below minimises F exactly over one block (a hidden weight step minimises F plus
 * a proximal term and, with --bcd-decay, rho/2 |Wbar_l|^2, which the reported merit leaves
 * out), so within a sweep F never rises (with decay: F plus those terms). Re-anchoring sets
 * z_l, a_l to the true forward pass, where F equals the network's training loss (least
 * squares) or bounds it from above (squared hinge). */
#ifndef NN_BCD_H
#define NN_BCD_H

#include "method.h"
#include "model.h"
#include "shard.h"
#include "spd.h"

typedef struct {
  const nn_config *cfg;
  nn_model *net;              /* net->bias must be 1 */
  const nn_grid *g;
  int L;
  long N;                        /* local samples */
  long n_global;
  long first;                     /* global index of the first local sample */
  const real *x;                 /* n[0] x N: a_0, never changes */
  const int *label;              /* N classes */
  real *z[NN_MAX_LAYERS + 1];    /* z[l], a[l] are n[l] x N, l = 1..L-1 */
  real *a[NN_MAX_LAYERS + 1];    /* a[0] = x */
  real *G, *B, *X;               /* (nmax+1)^2 Gram, (nmax+1) x nmax cross product and solution */
  real *P, *Pinv, *K;            /* activation step: order min(n_l, n_{l+1}); K is n_l x n_{l+1} */
  real *s1, *s2;                 /* nmax x CHUNK scratch */
  nn_spd wsys[NN_MAX_LAYERS + 1]; /* weight systems, order n[l-1] + 1 */
  nn_spd asys[NN_MAX_LAYERS + 1]; /* activation systems */
  double beta, gamma;            /* current penalties (grow by --bcd-growth per sweep) */
  double ridge;                  /* relative ridge of the output solve */
  int sweeps;
  int hinge;                     /* --loss squared-hinge: the targets T are a block of F */
  real *ones;                    /* N ones: row sums by GEMV */
  real *T;                       /* k x N output targets: one-hot Y, or their projection (hinge) */
  double tsq;                    /* this rank's |T|^2 */
  double merit_anchored;         /* F after the last output step if it re-anchored, else NaN */
  /* --bcd-batches B > 1 (mini-batch bcd): every epoch runs B sweeps, sweep b over the samples
   * with global index j = b (mod B), so the batches do not depend on the rank count. z, a, T
   * and x above then hold one batch (its columns gathered from the shard), N and n_global are
   * the batch's, and no per-sample state outlives a batch. With --augment R each sweep's
   * batch holds its inputs translated (augment.h); the all-sample readout reads them as stored. */
  int batches;
  const real *x_all;             /* the shard: n[0] x N_all inputs, N_all labels */
  const int *label_all;
  long N_all, n_all, first_all;
  real *xb;                      /* n[0] x (the most local samples of a batch): the batch's inputs */
  int *labelb;
  real *Gsum, *Bsum;             /* the readout's Gram and cross sums over every batch */
} nn_bcd;

/* Set-up and tear-down of a state (self: an nn_bcd, net: an nn_model with biases, train:
 * an nn_shard): the method's init and fini (method.h), which tests also run on their own. */
void nn_bcd_init(void *self, const nn_config *cfg, void *net, const void *train, const nn_grid *g);
void nn_bcd_free(void *self);
/* One backward sweep over the hidden layers, then the output solve (re-anchoring first when
 * the sweep count is a multiple of --bcd-reanchor). */
void nn_bcd_sweep(nn_bcd *s, nn_epoch_stats *st, nn_timer *t);
/* --bcd-batches B > 1: the B sweeps of epoch `epoch` (1-based; each started at its batch's
 * forward pass, with the readout solved on the batch, its inputs translated by --augment's
 * draws for the epoch), then the readout solved on every sample as stored. */
void nn_bcd_batched_epoch(nn_bcd *s, int epoch, nn_epoch_stats *st, nn_timer *t);

/* The steps, exposed for tests. */
void nn_bcd_activation_step(nn_bcd *s, int l, nn_timer *t);
double nn_bcd_z_step(nn_bcd *s, int l, double *res_a, nn_timer *t);
void nn_bcd_weight_step(nn_bcd *s, int l, nn_timer *t);
void nn_bcd_output_step(nn_bcd *s, int anchor, nn_timer *t);
/* F above over all ranks, divided by the global sample count. */
double nn_bcd_merit(nn_bcd *s);
/* The same with the targets minimised out (squared hinge: T the projection of the outputs
 * onto C; least squares: F): bounded below whatever T holds, the --anderson safeguard's merit
 * (method.h), since a mixed T may leave C. */
double nn_bcd_merit_projected(nn_bcd *s);

#endif
