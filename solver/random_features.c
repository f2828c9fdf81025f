/* The floor (--method random-features): the hidden layers stay exactly at the initialisation
 * the compared run starts from (same --init, seed and biases) and only the output layer is
 * solved, exactly, for the compared run's readout loss. Whatever a trained method reaches
 * above this is what training its hidden layers added.
 *
 * Legend: H = a_{L-1} (nh x N, this rank's frozen features), abar = [H; 1] with biases, Y the
 * one-hot labels (k x N), X = Wbar_L^T (the solve writes it into the model's Wbar_L), rho =
 * --ridge * trace/ld of the summed Gram matrix.
 *   least-squares:  X = argmin 1/2 |X^T abar - Y|^2 + rho/2 |X|^2: one solve, one epoch.
 *   squared-hinge:  min over X and T in C of 1/2 |X^T abar - T|^2 + rho/2 |X|^2, where C is the
 *                   set of targets >= 1 for the class, <= 0 for the others (bcd.h), so that
 *                   min over T is the squared-hinge loss. Each epoch minimises exactly over T
 *                   (the projection of the outputs onto C) and then over X (the ridge solve
 *                   against T); the objective never rises, and the run reports `converged`
 *                   once a step lowers it by less than RF_TOL relative.
 * The Gram matrix of abar never changes: it is summed and factored once. Collective. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/check.h"
#include "closed_forms.h"
#include "layer_fit.h"
#include "method.h"
#include "model.h"
#include "shard.h"
#include "spd.h"
#include "../common/util.h"

/* The phases this method times in its own slots (timer.h), named in its entry below: PH_READOUT
 * is the outputs of the new weights, their projection (squared hinge) and the objective. */
static const enum nn_phase PH_GRAM = PH_STEP1;
static const enum nn_phase PH_READOUT = PH_STEP3;

typedef struct {
  nn_model *net;
  long N, n_global;
  long first;       /* global index of the first local sample */
  const int *label;
  int hinge;
  real *H;          /* nh x N frozen features */
  real *ones;       /* N ones with biases, else NULL */
  real *T;          /* k x N targets: Y (one-hot, or regression's real targets), or the projection of
                     * the outputs (hinge) */
  real *B, *O;      /* ld x k cross product, k x N outputs */
  nn_spd sys;
} rf_state;

/* One exact minimisation over X (the ridge solve against T), then the objective of the new
 * weights; for the hinge, the projection that is the exact minimisation over T on the way.
 * Returns the objective per training sample. */
static double rf_alternate(rf_state *s, nn_timer *t)
{
  nn_model *net = s->net;
  int L = net->L, nh = net->n[L - 1], k = net->n[L];
  nn_timer_start(t, PH_GRAM);
  nn_fit_cross(s->H, nh, s->T, k, s->N, s->ones, s->B);
  nn_timer_stop(t);
  nn_spd_solve_sum(&s->sys, s->B, k, nn_fit_solution(net, L), NN_BC_TRANSPOSED, t);
  nn_timer_start(t, PH_READOUT);
  real *O = s->hinge ? s->T : s->O;
  nn_affine(net->W[L], net->bias ? net->b[L] : NULL, k, nh, s->H, s->N, O);
  double f = 0, tsq = 0;
  if (s->hinge) {
    nn_hinge_targets(O, s->label, k, s->N, &tsq, &f);
  } else {
    for (size_t e = 0; e < (size_t)k * s->N; e++) {
      double d = O[e] - s->T[e];
      f += d * d;
    }
  }
  nn_timer_stop(t);
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &f, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
  return 0.5 * f / (double)s->n_global;
}

/* Least squares: one solve is the whole method. Squared hinge: the alternation converges
 * linearly (about 1e-3 relative per step on MNIST 784-256-256-10), and one step costs a few
 * percent of the driver's evaluation, so an epoch runs up to RF_INNER of them. */
enum { RF_INNER = 25 };
#define RF_TOL 1e-7

static void rf_epoch(void *self, int epoch, nn_epoch_stats *st, nn_timer *t)
{
  (void)epoch;
  rf_state *s = self;
  double f = rf_alternate(s, t);
  int done = !s->hinge;
  for (int i = 1; i < RF_INNER && !done; i++) {
    double prev = f;
    f = rf_alternate(s, t);
    done = prev - f <= RF_TOL * prev;
  }
  st->objective = f;
  st->residual_z = st->residual_a = NAN;
  st->converged = done;
}

static void rf_fini(void *self)
{
  rf_state *s = self;
  nn_spd_free(&s->sys);
  free(s->H); free(s->ones); free(s->T); free(s->B); free(s->O);
}

static void rf_init(void *self, const nn_config *cfg, void *model, const void *shard, const nn_grid *g)
{
  rf_state *s = self;
  nn_model *net = model;
  const nn_shard *train = shard;
  int L = net->L, nh = net->n[L - 1], k = net->n[L], ld = nh + net->bias;
  size_t widest = (size_t)nn_widest_layer(L, net->n);
  s->net = net;
  s->N = train->n;
  s->n_global = train->n_global;
  s->first = train->first;
  s->label = train->label;
  s->hinge = cfg->loss == NN_LOSS_SQUARED_HINGE;
  s->H = nn_alloc((size_t)nh * s->N, sizeof(real), "the frozen features");
  s->T = nn_alloc((size_t)k * s->N, sizeof(real), "the output targets");
  s->O = s->hinge ? NULL : nn_alloc((size_t)k * s->N, sizeof(real), "the outputs");
  s->B = nn_alloc((size_t)ld * k, sizeof(real), "the cross product");
  real *G = nn_alloc((size_t)ld * ld, sizeof(real), "the Gram matrix");
  if (net->bias) {
    s->ones = nn_alloc((size_t)s->N, sizeof(real), "ones");
    for (long j = 0; j < s->N; j++) s->ones[j] = 1;
  }
  if (train->y) /* regression: the real targets */
    memcpy(s->T, train->y, sizeof(real) * (size_t)k * s->N);
  else
    for (long j = 0; j < s->N; j++) s->T[(size_t)s->label[j] + (size_t)j * k] = 1;

  /* The forward pass to layer L-1, in chunks so its scratch stays small. */
  enum { CHUNK = 2048 };
  real *buf[2] = { nn_alloc(widest * CHUNK, sizeof(real), "scratch"),
                   nn_alloc(widest * CHUNK, sizeof(real), "scratch") };
  for (long j0 = 0; j0 < s->N; j0 += CHUNK) {
    long c = s->N - j0 < CHUNK ? s->N - j0 : CHUNK;
    const real *h = nn_forward_layers(net, nn_shard_reals(train) + (size_t)j0 * net->n[0], c, L - 1, buf);
    memcpy(s->H + (size_t)j0 * nh, h, sizeof(real) * (size_t)nh * c);
  }
  free(buf[0]);
  free(buf[1]);

  nn_timer t;
  nn_timer_reset(&t);
  nn_fit_gram(s->H, nh, s->N, s->ones, G);
  nn_spd_init(&s->sys, g, ld, k);
  nn_spd_factor_sum(&s->sys, G, cfg->ridge, &t);
  free(G);
}

/* ==================================== the entry ==================================== */

/* The checkpoint's share (method.h): the targets by sample (the squared hinge moves them);
 * the features are the frozen layers' forward pass, which init recomputes. */
static int rf_state_arrays(void *self, nn_state_array *out, int max)
{
  rf_state *s = self;
  int k = 0;
  nn_state_partitioned(out, &k, max, "targets", s->T, s->net->n[s->net->L], s->first, s->N, s->n_global);
  return k;
}

const nn_method_ops nn_random_features_ops = {
  .size = sizeof(rf_state), .init = rf_init, .epoch = rf_epoch, .fini = rf_fini, .state_arrays = rf_state_arrays,
};

/* The features, targets and outputs, ones; the Gram matrix and its block-cyclic system. */
static double rf_state_bytes(const nn_config *cfg, double N)
{
  const int *n = cfg->n;
  int L = cfg->L;
  double P = nn_nranks(), r = cfg->float32 ? 4 : 8, nmax = nn_widest_layer(L, n);
  double square = (nmax + 1) * (nmax + 1) * r;
  return (n[L - 1] + 2 * n[L] + 1) * N * r + 2 * square * (1 + 1 / P);
}

const nn_method nn_method_random_features = {
  .name = "random-features",
  .help = "the floor: hidden layers frozen at --init, the output layer solved exactly for --loss "
          "(solver/random_features.c)",
  .options = "biases ridge grid block",
  .init_auto = NN_INIT_PAIRS,
  .loss_auto = NN_LOSS_SQUARED_HINGE, /* bcd's readout, so that the default floor is bcd's */
  .losses = 1u << NN_LOSS_SQUARED_HINGE | 1u << NN_LOSS_LEAST_SQUARES,
  .losses_why = "fits the output by squared-hinge or least-squares",
  .archs = 1u << NN_ARCH_RESNET, .regression = 1,
  .state_bytes = rf_state_bytes,
  .phases = { "gram", NULL, "readout", NULL },
  .ops = &nn_random_features_ops,
};
