/* The ADMM sweep of Taylor et al. (2016) as the thesis runs it (Algorithm 1): per layer a
 * weight least-squares step (ScaLAPACK, Gram matrices summed over ranks; ridge normal equations,
 * or the thesis's pseudo-inverse with --weight-solve pinv), an activation
 * least-squares step (ScaLAPACK factor of beta W^T W + gamma I, applied to local columns),
 * the exact ReLU z step, then the output z step and the multiplier. Collective. */
#ifndef NN_ADMM_H
#define NN_ADMM_H

#include "method.h"
#include "model.h"
#include "pinv.h"
#include "shard.h"
#include "spd.h"

typedef struct {
  const nn_config *cfg;
  nn_model *net;
  const nn_grid *g;
  int L;
  long N;                         /* local samples */
  long n_global;
  long first;                     /* global index of the first local sample */
  const real *a0;                 /* n[0] x N: the shard's inputs (never changes) */
  const int *label;               /* N classes */
  real *z[NN_MAX_LAYERS + 1];     /* z[l] is n[l] x N, l = 1..L */
  real *a[NN_MAX_LAYERS + 1];     /* a[l] is n[l] x N, l = 1..L-1; a[0] = a0 */
  real *lambda;                   /* n[L] x N, multiplier of z_L = W_L a_{L-1} */
  real *m;                        /* nmax x N scratch: W_l a_{l-1} */
  real *h;                        /* nmax x N scratch: relu(z_l) in the activation step */
  real *G, *B;                    /* nmax x nmax local Gram matrix and cross product */
  real *P, *Pinv, *K;             /* nmax x nmax activation-step matrices */
  int pinv;                       /* 1: weight steps by pseudo-inverse (wpinv), 0: by ridge (wsys) */
  nn_spd wsys[NN_MAX_LAYERS + 1]; /* weight systems, order n[l-1] */
  nn_pinv wpinv[NN_MAX_LAYERS + 1]; /* the same, --weight-solve pinv */
  int kept_min[NN_MAX_LAYERS + 1], kept_max[NN_MAX_LAYERS + 1]; /* pinv: eigenvalues kept so far (-1: no step yet) */
  nn_spd asys[NN_MAX_LAYERS + 1]; /* activation systems, order n[l] */
  double ridge;
  char notes[2048];               /* for the console, until the driver takes them (method.h: notes) */
} nn_admm;

/* Set-up and tear-down of a state (self: an nn_admm, net: an nn_model, train: an
 * nn_shard): the method's init and fini (method.h), which tests also run on their own. */
void nn_admm_init(void *self, const nn_config *cfg, void *net, const void *train, const nn_grid *g);
void nn_admm_free(void *self);
/* One sweep over all layers; update_multiplier = 0 during warm-up. */
void nn_admm_sweep(nn_admm *s, int update_multiplier, nn_epoch_stats *st, nn_timer *t);

/* The steps, exposed for tests. */
void nn_admm_weight_step(nn_admm *s, int l, nn_timer *t);
void nn_admm_activation_step(nn_admm *s, int l, nn_timer *t);

#endif
