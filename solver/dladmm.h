/* dlADMM (--method dladmm): the inversion-free ADMM of Wang, Yu, Chen and Zhao (KDD 2019,
 * "ADMM for Efficient Deep Learning with Global Convergence"), data-parallel over MPI ranks.
 * Anderson acceleration (AA-DLADMM) is the generic wrapper's (anderson.h), which reads the
 * merit below. No matrix is factored or
 * inverted: W, b and a move by one step of a quadratic approximation with backtracking, z by
 * exact elementwise or per-sample minimisers. Init, sweep, the W/b and a steps and the
 * Lagrangian are collective over MPI_COMM_WORLD; the z, output and multiplier steps are local.
 *
 * Problem (a_0 = x, h = relu, y the labels, l = 1..L, N samples summed over ranks):
 *   min R(z_L; y) + nu/2 sum_{l<L} (|z_l - W_l a_{l-1} - b_l|^2 + |a_l - h(z_l)|^2)
 *   s.t. z_L = W_L a_{L-1} + b_L
 * R the summed cross-entropy of softmax(z_L) (--loss cross-entropy) or squared hinge (--loss
 * squared-hinge: 1/2 max(1 - z, 0)^2 for the class, 1/2 max(z, 0)^2 for the others, bcd.h's C).
 * Augmented Lagrangian, with the multiplier u (k x N) of the output constraint:
 *   L_rho = R(z_L) + u.(z_L - W_L a_{L-1} - b_L) + rho/2 |z_L - W_L a_{L-1} - b_L|^2
 *         + nu/2 sum_{l<L} (|z_l - W_l a_{l-1} - b_l|^2 + |a_l - h(z_l)|^2)
 * Each constraint's terms are phi_l = c_l/2 |t_l - W_l a_{l-1} - b_l|^2 + const, with c_l = nu and
 * t_l = z_l (l < L), c_L = rho and t_L = z_L + u/rho. One iteration (one epoch):
 *   backward  z_L, b_L, W_L, a_{L-1}, then for l = L-1..1: z_l, b_l, W_l, a_{l-1} (l > 1)
 *   forward   for l = 1..L-1: W_l, b_l, z_l, a_l; then W_L, b_L, z_L
 *   u += rho (z_L - W_L a_{L-1} - b_L); then the rho schedule (dladmm.c).
 * The steps (dladmm.c states their formulas): b exact (its curvature is c_l N, known); W and a
 * one gradient step of length 1/eta, eta the smallest for which phi(new) <= its quadratic
 * model at eta (--dladmm-step exact, the default), or found by the paper's backtracking (eta
 * doubled from a small start until that holds: --dladmm-step backtrack); hidden z exact (both
 * ReLU branches compared); z_L exact for the squared hinge, by a per-sample Newton solve to a
 * stated tolerance for cross-entropy. */
#ifndef NN_DLADMM_H
#define NN_DLADMM_H

#include "method.h"
#include "model.h"
#include "shard.h"

/* The last backtracking search (tests read it): the quadratic model of a block at eta is
 * phi(x) - |g|^2/eta + eta/2 |g/eta|^2, the step x - g/eta. */
typedef struct {
  double start;   /* eta of the first trial */
  double eta;     /* accepted */
  double g2, gHg; /* |g|^2 and g^T H g of the block's gradient g (H its constant Hessian), over all ranks */
  int trials;     /* trials made (1: the start was accepted) */
  int exact;      /* 1: --dladmm-step exact (eta = gHg/g2, no trials; start = eta, trials = 1) */
} nn_dladmm_search;

typedef struct {
  const nn_config *cfg;
  nn_model *net;                /* net->bias must be 1 */
  int L;
  long N, n_global, first;      /* local samples, all samples, global index of the first */
  const int *label;             /* N classes */
  int ce;                       /* 1: R is cross-entropy, 0: squared hinge */
  real *z[NN_MAX_LAYERS + 1];   /* z[l] n[l] x N, l = 1..L */
  real *a[NN_MAX_LAYERS + 1];   /* a[l] n[l] x N, l = 1..L-1; a[0] = the shard's x */
  real *P[NN_MAX_LAYERS + 1];   /* P[l] = W_l a_{l-1}, n[l] x N: recomputed at each sweep's start,
                                   then kept current by every step that moves W_l or a_{l-1} */
  real *u;                      /* k x N multiplier of z_L = W_L a_{L-1} + b_L */
  real *S1, *S2;                /* nmax x N scratch: residuals, gradients, their products */
  real *red;                    /* nmax x nmax + 2 nmax: the one allreduce of a W/b step */
  real *db;                     /* nmax: a bias change */
  real *ones;                   /* N ones: sums over samples by GEMV */
  double *col;                  /* 6 k doubles: one sample's output solve */
  double rho, nu;               /* current penalties */
  int iter;                     /* iterations done */
  nn_dladmm_search last;        /* the last W or a step's search */
  /* The output step's Newton solves (cross-entropy), over the last call on this rank: the
   * largest Newton decrement lambda^2/2 left, the most iterations, the samples at the cap. */
  double newton_dec;
  int newton_iters;
  long newton_capped, newton_capped_total;
} nn_dladmm;

/* Set-up and tear-down (self: an nn_dladmm, net: an nn_model with biases, train: an nn_shard):
 * the method's init and fini, which tests also run on their own. init starts z_l, a_l at the
 * forward pass of the initial weights and u at zero; rho and nu at their configured values. */
void nn_dladmm_init(void *self, const nn_config *cfg, void *net, const void *train, const nn_grid *g);
void nn_dladmm_free(void *self);
/* One iteration (above), then the figures of st (method.h) and the rho schedule. */
void nn_dladmm_sweep(nn_dladmm *s, nn_epoch_stats *st, nn_timer *t);

/* The steps, exposed for tests. Each keeps P current. */
/* P[l] = W_l a_{l-1} for every layer, from scratch. Local. */
void nn_dladmm_products(nn_dladmm *s);
/* b_l and W_l on phi_l: bias_first = 1 (backward order) moves b, then W; 0 (forward) W, then b. */
void nn_dladmm_weight_step(nn_dladmm *s, int l, int bias_first, nn_timer *t);
/* a_l on phi_{l+1} + nu/2 |a_l - h(z_l)|^2, l = 1..L-1. */
void nn_dladmm_activation_step(nn_dladmm *s, int l, nn_timer *t);
/* z_l = argmin |z - W_l a_{l-1} - b_l|^2 + |a_l - h(z)|^2, elementwise, l = 1..L-1. Local. */
void nn_dladmm_z_step(nn_dladmm *s, int l, nn_timer *t);
/* z_L = argmin R(z) + u.(z - m) + rho/2 |z - m|^2, m = W_L a_{L-1} + b_L, per sample. Local. */
void nn_dladmm_output_step(nn_dladmm *s, nn_timer *t);
/* u += rho (z_L - W_L a_{L-1} - b_L). Local. */
void nn_dladmm_multiplier_step(nn_dladmm *s);
/* L_rho above over all ranks, divided by the global sample count, from the current P; fills
 * st's residuals and multiplier norm when st is not NULL. */
double nn_dladmm_lagrangian(nn_dladmm *s, nn_epoch_stats *st);

/* The safeguard's merit (method.h): L_rho without its multiplier term u.r_L, which is
 * unbounded below: R + rho/2 |r_L|^2 + nu/2 sum_{l<L} (...), per sample, >= 0. Recomputes P
 * first. Collective. */
double nn_dladmm_merit(nn_dladmm *s);

/* The backtracking search of a block whose objective phi is quadratic along its gradient g:
 * eta = start, 2 start, 4 start, ... until phi(x - g/eta) <= Q(x - g/eta; eta), the quadratic
 * model. phi(x - g/eta) - phi(x) = -g2/eta + gHg/(2 eta^2) exactly, Q(..) - phi(x) = -g2/(2 eta),
 * so each trial costs two scalars, which every rank holds summed: every rank takes the same
 * decision. Fills *out (may be NULL); returns eta. */
double nn_dladmm_backtrack(double start, double g2, double gHg, nn_dladmm_search *out);
/* --dladmm-step exact: the smallest eta that the same condition admits, eta = gHg / g2 (phi(x -
 * g/eta) - Q(x - g/eta; eta) = (gHg/eta - g2) / (2 eta) changes sign there), which is the
 * exact minimiser of phi along -g. The search above returns an eta in [gHg/g2, 2 gHg/g2) from
 * any start below gHg/g2; this one is a smooth function of g, which Anderson acceleration wants
 * of the map it extrapolates. Fills *out (may be NULL); returns eta. */
double nn_dladmm_exact_step(double g2, double gHg, nn_dladmm_search *out);

/* The output step's 1-sample problems, for tests: f(z) = R(z; y) + u.(z - m) + rho/2 |z - m|^2
 * for one column of k entries, and its minimiser written into z (warm start: z on entry). */
double nn_dladmm_output_objective(const double *z, const double *u, const double *m, int k, int y, double rho,
                                  int ce);

#endif
