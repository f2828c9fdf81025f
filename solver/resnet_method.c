/* resnet-admm's entry (method.h): its set-up, epoch and tear-down, the checkpoint's share, the
 * option checks and the memory estimate, and the three calls that choose between the plain
 * method (resnet_admm.c: the steps, one part holding every layer) and --layer-groups
 * (resnet_groups.c: the groups, which run those steps). The one file that knows both, so that
 * neither of them calls the other back. */
#include "resnet_admm.h"
#include "resnet_seam.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/check.h"
#include "../common/util.h"
#include "layer_groups.h"
#include "real.h"

/* ============================================================= the plain method or the groups */

double nn_radmm_multipliers(nn_resnet_admm *s, double *res_v, double *res_u)
{
  if (s->part) return nn_radmm_grouped_terms(s, 1, res_v, res_u);
  return nn_radmm_plain_terms(s, 1, res_v, res_u);
}

double nn_radmm_lagrangian(nn_resnet_admm *s, double *res_v, double *res_u)
{
  if (s->part) return nn_radmm_grouped_terms(s, 0, res_v, res_u);
  return nn_radmm_plain_terms(s, 0, res_v, res_u);
}

void nn_radmm_iteration(nn_resnet_admm *s, nn_timer *t)
{
  nn_radmm_set_timer(t);
  if (s->part) nn_radmm_grouped_iteration(s);
  else {
    nn_radmm_sweep(s);
    s->iter++;
  }
  nn_radmm_phase(PH_MULT);
  if (t) nn_timer_stop(t);
  nn_radmm_set_timer(NULL);
}

/* ============================================================= the method's operations */

static void radmm_init(void *self, const nn_config *cfg, void *model, const void *shard, const nn_grid *g)
{
  (void)g;
  nn_resnet_admm *s = self;
  nn_model *net = model;
  const nn_shard *train = shard;
  CHECK(net->resnet && net->L >= 3 && net->bias, "internal: resnet-admm needs the residual network with biases");
  s->net = net;
  s->L = net->L;
  s->n = net->n[1];
  s->d = net->n[0];
  s->k = net->n[net->L];
  s->split = cfg->splitting;
  s->beta = cfg->resnet_beta;
  s->tau = cfg->resnet_tau;
  s->rho = cfg->resnet_rho;
  s->ridge = cfg->ridge;
  s->N = train->n;
  s->n_global = train->n_global;
  s->first = train->first;
  s->X = nn_shard_reals(train);
  s->G = cfg->layer_groups > 1 ? cfg->layer_groups : 1;
  s->schedule = cfg->group_schedule;
  s->D = 1;
  s->chunk = NN_RADMM_CHUNK;
  if (s->G > 1 && s->schedule != 2) {
    nn_radmm_grouped_init(s, train);
    return;
  }
  s->lo = 1, s->hi = s->L, s->comm = MPI_COMM_WORLD;
  CHECK(net->lo == 1 && net->hi == net->L, "internal: resnet-admm without groups needs the whole network");
  const int n = s->n, k = s->k;
  const size_t c = (size_t)(s->N > 0 ? s->N : 1), nmax = (size_t)nn_widest_layer(net->L, net->n);
  /* the scratch holds n or k rows (targets, pre-activations, right sides), never the inputs */
  const size_t rows = (size_t)(n > k ? n : k);
  s->T = nn_alloc((size_t)k * c, sizeof(real), "the targets");
  if (train->y) memcpy(s->T, train->y, sizeof(real) * (size_t)k * s->N);
  else
    for (long j = 0; j < s->N; j++) s->T[(size_t)j * k + train->label[j]] = 1;
  for (int l = 1; l < s->L; l++) {
    s->V[l] = nn_alloc((size_t)n * c, sizeof(real), "the block outputs V");
    s->M[l] = nn_alloc((size_t)n * c, sizeof(real), "the multipliers");
    if (s->split == 3 && l > 1) {
      s->U[l] = nn_alloc((size_t)n * c, sizeof(real), "the pre-activations U");
      s->MU[l] = nn_alloc((size_t)n * c, sizeof(real), "the multipliers");
    }
  }
  const size_t cc = (size_t)(s->N < s->chunk ? c : (size_t)s->chunk); /* the scratch's columns */
  s->A = nn_alloc(rows * cc, sizeof(real), "scratch");
  s->B = nn_alloc(rows * cc, sizeof(real), "scratch");
  s->sums = nn_alloc((nmax + 1) * (nmax + 1) + (nmax + 1) * nmax, sizeof(real), "the Gram sums");
  s->sys = nn_alloc((nmax + 1) * (nmax + 1), sizeof(real), "a system");
  s->rhs = nn_alloc((nmax + 1) * nmax > 2 * (nmax + 1) ? (nmax + 1) * nmax : 2 * (nmax + 1), sizeof(real), "a right side");
  s->in_factor = nn_alloc((size_t)(s->d + 1) * (s->d + 1), sizeof(real), "the input layer's factor");
  nn_radmm_part_forward(s); /* V and U at the forward pass of the initial weights */
}

static void radmm_fini(void *self)
{
  nn_resnet_admm *s = self;
  if (s->part)
    nn_radmm_grouped_fini(s);
  else
    nn_radmm_part_free(s); /* the plain method is one part: layers lo = 1 .. hi = L, no boundary arrays */
  free(s->T);
}

static void radmm_epoch(void *self, int epoch, nn_epoch_stats *st, nn_timer *t)
{
  (void)epoch;
  nn_resnet_admm *s = self;
  nn_radmm_iteration(s, t);
  nn_timer_start(t, PH_MULT);
  nn_radmm_set_timer(t);
  st->objective = nn_radmm_multipliers(s, &st->residual_a, &st->residual_z);
  /* the groups' backward messages for the next iteration, from the new multipliers: every
   * group's (jacobi), or the odd groups' (odd-even: the even ones send theirs mid-iteration) */
  if (s->part) nn_radmm_send_backward(s, s->schedule == 1 ? 1 : -1);
  nn_radmm_set_timer(NULL);
  nn_timer_stop(t);
  CHECK_ALL_RANKS(isfinite(st->objective), "--method resnet-admm diverged at iteration %d (augmented Lagrangian %g): "
                  "raise --resnet-beta or --resnet-tau", epoch, st->objective);
}

/* The checkpoint's share (method.h): V, U and the multipliers by sample, and the iteration
 * count (the input layer's factor is rebuilt at the first step after a resume). */
static int radmm_state_arrays(void *self, nn_state_array *out, int max)
{
  nn_resnet_admm *s = self;
  int k = 0;
  char name[16];
  if (s->part) return 0; /* --layer-groups refuses checkpoints (radmm_validate) */
  for (int l = 1; l < s->L; l++) {
    snprintf(name, sizeof name, "V%d", l);
    nn_state_partitioned(out, &k, max, name, s->V[l], s->n, s->first, s->N, s->n_global);
    snprintf(name, sizeof name, "M%d", l);
    nn_state_partitioned(out, &k, max, name, s->M[l], s->n, s->first, s->N, s->n_global);
    if (!s->U[l]) continue;
    snprintf(name, sizeof name, "U%d", l);
    nn_state_partitioned(out, &k, max, name, s->U[l], s->n, s->first, s->N, s->n_global);
    snprintf(name, sizeof name, "MU%d", l);
    nn_state_partitioned(out, &k, max, name, s->MU[l], s->n, s->first, s->N, s->n_global);
  }
  return k;
}

/* A resumed run refactors the input layer's system at its first step. */
static void radmm_state_restored(void *self)
{
  nn_resnet_admm *s = self;
  s->iter = 0;
}

const nn_method_ops nn_resnet_admm_ops = {
  .size = sizeof(nn_resnet_admm), .init = radmm_init, .epoch = radmm_epoch, .fini = radmm_fini,
  .state_arrays = radmm_state_arrays, .state_restored = radmm_state_restored,
  .weights_export = nn_radmm_weights_export, .forward_eval = nn_radmm_forward_eval,
};

static int radmm_validate(nn_config *cfg, char *err, size_t errlen)
{
  if (cfg->arch != NN_ARCH_RESNET) {
    snprintf(err, errlen, "option --method resnet-admm: trains the residual network only (give --arch resnet)");
    return 0;
  }
  const int G = cfg->layer_groups, L = cfg->blocks + 2, P = nn_nranks();
  if (G <= 1) return 1;
  if (G > L) {
    snprintf(err, errlen, "option --layer-groups %d: more groups than the %d weight layers (--blocks %d + 2)", G, L,
             cfg->blocks);
    return 0;
  }
  if (P > 1 && P % G != 0 && cfg->group_schedule != 2) { /* serial: every layer on every rank */
    snprintf(err, errlen, "option --layer-groups %d: the rank count %d is not a multiple of it (ranks = G x D; or "
             "run 1 rank, which runs the groups one after another)", G, P);
    return 0;
  }
  /* The checkpoint would need every group's arrays gathered by sample and the weights by
   * layer: not built; a run with groups writes none, not even on a signal. */
  if (cfg->resume[0]) {
    snprintf(err, errlen, "option --resume: not supported with --layer-groups %d (no checkpoints with groups)", G);
    return 0;
  }
  if ((cfg->checkpoint[0] && strcmp(cfg->checkpoint, "none") != 0) || cfg->checkpoint_every > 0) {
    snprintf(err, errlen, "option --checkpoint: not supported with --layer-groups %d (give --checkpoint none or "
             "leave it out: a run with groups writes no checkpoint)", G);
    return 0;
  }
  snprintf(cfg->checkpoint, sizeof cfg->checkpoint, "none");
  return 1;
}

/* V and M per layer but the output, U and MU per block, targets, two scratch blocks of a
 * chunk's columns; the Gram sums, a system, a right side and the input layer's factor. */
static double radmm_state_bytes(const nn_config *cfg, double N)
{
  const int *n = cfg->n;
  int L = cfg->L, G = cfg->layer_groups > 1 ? cfg->layer_groups : 1, P = nn_nranks();
  double r = cfg->float32 ? 4 : 8, nmax = nn_widest_layer(L, n), w = n[1], rows = w > n[L] ? w : n[L];
  double square = (nmax + 1) * (nmax + 1), fixed = (3 * square + (nmax + 1) * nmax + (n[0] + 1.0) * (n[0] + 1)) * r;
  double scratch = 2 * rows * fmin(N, NN_RADMM_CHUNK) * r; /* A and B: the busiest rank's (or pipe's) N caps them */
  if (G == 1 || cfg->group_schedule == 2 || P == 1) {
    double per_sample = 2.0 * (L - 1) * w + (cfg->splitting == 3 ? 2.0 * (L - 2) * w : 0) + n[L];
    if (G > 1 && cfg->group_schedule != 2) { /* ghosts and backs; each group's own scratch */
      per_sample += 2.0 * (G - 1) * w;
      scratch *= G;
    }
    return per_sample * N * r + scratch + fixed;
  }
  /* G x D ranks: a rank holds its group's layers for the pipe's G N samples (the gathered
   * inputs on the first group, the targets on the last); the heaviest group counts */
  double most = 0;
  for (int g = 0; g < G; g++) {
    int lo, hi;
    nn_group_layers(L, G, g, &lo, &hi);
    double per_sample = 0;
    for (int l = lo; l <= hi && l < L; l++) per_sample += 2 * w + (cfg->splitting == 3 && l > 1 ? 2 * w : 0);
    if (lo > 1) per_sample += w;
    if (hi < L) per_sample += w;
    if (lo == 1) per_sample += n[0];
    if (hi == L) per_sample += n[L];
    if (per_sample > most) most = per_sample;
  }
  return most * G * N * r + 2 * rows * fmin(G * N, NN_RADMM_CHUNK) * r + fixed;
}

const nn_method nn_method_resnet_admm = {
  .name = "resnet-admm",
  .help = "proximal (linearised) ADMM for --arch resnet with --splitting 2 (block outputs V) or 3 (also "
          "pre-activations U), after Xu, Li and Xing (arXiv 2310.15334); serial schedule, or --layer-groups G on "
          "G x D ranks (solver/resnet_admm.c)",
  .options = "splitting resnet-beta resnet-tau resnet-rho ridge layer-groups group-schedule",
  .init_auto = NN_INIT_HE,
  .loss_auto = NN_LOSS_LEAST_SQUARES,
  .losses = 1u << NN_LOSS_LEAST_SQUARES,
  .losses_why = "fits the squared loss (least-squares) only",
  .archs = 1u << NN_ARCH_RESNET,
  .regression = 1,
  .validate = radmm_validate,
  .state_bytes = radmm_state_bytes,
  .phases = { "w_step", "u_step", "v_step", "multipliers" },
  .ops = &nn_resnet_admm_ops,
};
