/* ADMM for ReLU networks; see admm.h. Legend: L layers with weights, n[l] widths,
 * N samples on this rank; every matrix is column-major with samples as columns. */
#include "admm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/check.h"
#include "closed_forms.h"
#include "layer_fit.h"
#include "../common/rng.h"
#include "../common/util.h"

/* The phases this method times in its own slots (timer.h), named in its entry below. */
static const enum nn_phase PH_GRAM = PH_STEP1;
static const enum nn_phase PH_A_UPDATE = PH_STEP2;
static const enum nn_phase PH_Z_UPDATE = PH_STEP3;

void nn_admm_init(void *self, const nn_config *cfg, void *model, const void *shard, const nn_grid *g)
{
  nn_admm *s = self;
  nn_model *net = model;
  const nn_shard *train = shard;
  memset(s, 0, sizeof *s);
  s->cfg = cfg;
  s->net = net;
  s->g = g;
  s->L = net->L;
  s->N = train->n;
  s->n_global = train->n_global;
  s->first = train->first;
  s->a0 = nn_shard_reals(train);
  s->label = train->label;
  s->ridge = cfg->ridge;
  const int *n = net->n;
  size_t nmax = (size_t)nn_widest_layer(s->L, n), N = (size_t)s->N;
  s->a[0] = nn_shard_reals(train);
  for (int l = 1; l <= s->L; l++) {
    s->z[l] = nn_alloc((size_t)n[l] * N, sizeof(real), "z");
    if (l < s->L) s->a[l] = nn_alloc((size_t)n[l] * N, sizeof(real), "a");
  }
  s->lambda = nn_alloc((size_t)n[s->L] * N, sizeof(real), "lambda");
  s->m = nn_alloc(nmax * N, sizeof(real), "W a scratch");
  s->h = nn_alloc(nmax * N, sizeof(real), "relu scratch");
  s->G = nn_alloc(nmax * nmax, sizeof(real), "Gram");
  s->B = nn_alloc(nmax * nmax, sizeof(real), "cross product");
  s->P = nn_alloc(nmax * nmax, sizeof(real), "activation matrix");
  s->Pinv = nn_alloc(nmax * nmax, sizeof(real), "activation inverse");
  s->K = nn_alloc(nmax * nmax, sizeof(real), "activation operator");
  s->pinv = cfg->weight_solve == NN_WEIGHT_SOLVE_PINV;
  for (int l = 1; l <= s->L; l++) {
    s->kept_min[l] = s->kept_max[l] = -1;
    if (s->pinv)
      nn_pinv_init(&s->wpinv[l], g, n[l - 1], n[l]);
    else
      nn_spd_init(&s->wsys[l], g, n[l - 1], n[l]);
  }
  for (int l = 1; l < s->L; l++) nn_spd_init(&s->asys[l], g, n[l], n[l]);

  /* Auxiliary variables start at the forward pass of the initial weights (so --init decides
   * where ADMM starts), or at Gaussian draws keyed on the global sample index (so they are
   * the same for every rank count). The multiplier starts at zero. */
  for (int l = 1; l <= s->L; l++) {
    if (cfg->aux_random) {
      for (long j = 0; j < s->N; j++)
        for (int i = 0; i < n[l]; i++)
          s->z[l][i + (size_t)j * n[l]] =
            (real)nn_rng_normal((uint64_t)cfg->seed, 2000 + l, (uint64_t)(train->first + j) * n[l] + i);
    } else
      nn_affine(net->W[l], NULL, n[l], n[l - 1], s->a[l - 1], s->N, s->z[l]);
    if (l < s->L) {
      nn_relu(s->a[l], s->z[l], (size_t)n[l] * N);
    }
  }

  /* a_0 never changes: sum and factor (or eigendecompose) its Gram matrix once, outside the
   * epoch loop. */
  nn_timer t;
  nn_timer_reset(&t);
  cblas_syrk(CblasColMajor, CblasLower, CblasNoTrans, n[0], (int)s->N, 1, s->a0, n[0], 0, s->G, n[0]);
  if (s->pinv)
    nn_pinv_factor_sum(&s->wpinv[1], s->G, cfg->pinv_rcond, &t);
  else
    nn_spd_factor_sum(&s->wsys[1], s->G, s->ridge, &t);
}

void nn_admm_free(void *self)
{
  nn_admm *s = self;
  for (int l = 1; l <= s->L; l++) {
    free(s->z[l]);
    if (l < s->L) free(s->a[l]);
    if (s->pinv)
      nn_pinv_free(&s->wpinv[l]);
    else
      nn_spd_free(&s->wsys[l]);
    if (l < s->L) nn_spd_free(&s->asys[l]);
  }
  free(s->lambda);
  free(s->m);
  free(s->h);
  free(s->G);
  free(s->B);
  free(s->P);
  free(s->Pinv);
  free(s->K);
}

/* The rank the pseudo-inverse used for layer l: noted once, at the layer's first weight step
 * (the user sees how singular a_0 a_0^T is), and tallied for the summary at the end. The count
 * is the same on every rank (pinv.c broadcasts the eigenvalues). */
static void note_kept(nn_admm *s, int l)
{
  const nn_pinv *p = &s->wpinv[l];
  int first = s->kept_min[l] < 0;
  if (first || p->kept < s->kept_min[l]) s->kept_min[l] = p->kept;
  if (first || p->kept > s->kept_max[l]) s->kept_max[l] = p->kept;
  size_t k = strlen(s->notes);
  if (first && k < sizeof s->notes)
    snprintf(s->notes + k, sizeof s->notes - k, "admm: pinv layer %d keeps %d of %d eigenvalues (cutoff %.3g x largest %.4g)\n",
             l, p->kept, p->n, p->rcond, p->lambda_max);
}

/* W_l = z_l a_{l-1}^T (a_{l-1} a_{l-1}^T + ridge)^{-1}, i.e. G W_l^T = a_{l-1} z_l^T with G
 * and the right-hand side summed over ranks: the least-squares fit, W_l = z_l a_{l-1}^+ in the
 * limit ridge -> 0. --weight-solve pinv takes that limit: W_l^T = G^+ a_{l-1} z_l^T, which is
 * z_l a_{l-1}^+ exactly (a^+ = a^T (a a^T)^+). */
void nn_admm_weight_step(nn_admm *s, int l, nn_timer *t)
{
  const int *n = s->net->n;
  int in = n[l - 1], out = n[l];
  const real *a = s->a[l - 1];
  nn_timer_start(t, PH_GRAM);
  if (l > 1)
    cblas_syrk(CblasColMajor, CblasLower, CblasNoTrans, in, (int)s->N, 1, a, in, 0, s->G, in);
  /* B = a_{l-1} z_l^T: in x out */
  cblas_gemm(CblasColMajor, CblasNoTrans, CblasTrans, in, out, (int)s->N, 1, a, in, s->z[l], out, 0,
             s->B, in);
  nn_timer_stop(t);
  /* The solution X = W_l^T (in x out) is gathered transposed, straight into W_l. */
  real *W = nn_fit_solution(s->net, l);
  if (s->pinv) {
    if (l > 1) nn_pinv_factor_sum(&s->wpinv[l], s->G, s->cfg->pinv_rcond, t);
    nn_pinv_solve_sum(&s->wpinv[l], s->B, out, W, NN_BC_TRANSPOSED, t);
    note_kept(s, l);
  } else {
    if (l > 1) nn_spd_factor_sum(&s->wsys[l], s->G, s->ridge, t);
    nn_spd_solve_sum(&s->wsys[l], s->B, out, W, NN_BC_TRANSPOSED, t);
  }
}

/* a_l = (beta W^T W + gamma I)^{-1} (beta W^T z_{l+1} + gamma relu(z_l)), W = W_{l+1}.
 * The inverse is formed once per step (it is small) so both products run as GEMMs. */
void nn_admm_activation_step(nn_admm *s, int l, nn_timer *t)
{
  const int *n = s->net->n;
  int nl = n[l], nn = n[l + 1];
  double beta = s->cfg->beta, gamma = s->cfg->gamma;
  const real *W = s->net->W[l + 1];
  nn_timer_start(t, PH_A_UPDATE);
  cblas_syrk(CblasColMajor, CblasLower, CblasTrans, nl, nn, (real)beta, W, nn, 0, s->P, nl);
  for (int i = 0; i < nl; i++) s->P[i + (size_t)i * nl] += (real)gamma;
  nn_timer_stop(t);
  nn_spd_inverse(&s->asys[l], s->P, s->Pinv, t);
  nn_timer_start(t, PH_A_UPDATE);
  /* K = beta Pinv W^T: nl x nn */
  cblas_gemm(CblasColMajor, CblasNoTrans, CblasTrans, nl, nn, nl, (real)beta, s->Pinv, nl, W, nn, 0,
             s->K, nl);
  nn_relu(s->h, s->z[l], (size_t)nl * s->N);
  cblas_gemm(CblasColMajor, CblasNoTrans, CblasNoTrans, nl, (int)s->N, nn, 1, s->K, nl, s->z[l + 1], nn,
             0, s->a[l], nl);
  cblas_gemm(CblasColMajor, CblasNoTrans, CblasNoTrans, nl, (int)s->N, nl, (real)gamma, s->Pinv, nl,
             s->h, nl, 1, s->a[l], nl);
  nn_timer_stop(t);
}

void nn_admm_sweep(nn_admm *s, int update_multiplier, nn_epoch_stats *st, nn_timer *t)
{
  const int *n = s->net->n;
  int L = s->L;
  double beta = s->cfg->beta, gamma = s->cfg->gamma;
  double local[5] = {0, 0, 0, 0, 0}; /* hidden objective, res_z, res_a, output objective, |lambda|^2 */
  for (int l = 1; l < L; l++) {
    nn_admm_weight_step(s, l, t);
    nn_admm_activation_step(s, l, t);
    nn_timer_start(t, PH_Z_UPDATE);
    nn_affine(s->net->W[l], NULL, n[l], n[l - 1], s->a[l - 1], s->N, s->m);
    double ra = 0;
    double rz = nn_relu_z_update(s->z[l], s->a[l], s->m, (long)n[l] * s->N, beta, gamma, &ra);
    local[0] += gamma * ra + beta * rz;
    local[1] += rz;
    local[2] += ra;
    nn_timer_stop(t);
  }
  nn_admm_weight_step(s, L, t);
  nn_timer_start(t, PH_Z_UPDATE);
  int k = n[L];
  nn_affine(s->net->W[L], NULL, k, n[L - 1], s->a[L - 1], s->N, s->m);
  int hinge = s->cfg->loss == NN_LOSS_HINGE;
  nn_output_z_update(s->z[L], s->label, s->lambda, s->m, k, s->N, beta, hinge);
  /* Augmented Lagrangian of the output block, before the multiplier moves. */
  double out_obj = 0, rz = 0;
  for (long j = 0; j < s->N; j++)
    for (int i = 0; i < k; i++) {
      size_t e = (size_t)j * k + i;
      double d = s->z[L][e] - s->m[e];
      out_obj += nn_output_objective(s->z[L][e], s->label[j] == i, s->lambda[e], s->m[e], beta, hinge)
                 - s->lambda[e] * s->m[e];
      rz += d * d;
    }
  local[1] += rz;
  local[3] = out_obj;
  size_t cnt = (size_t)k * s->N;
  if (update_multiplier) {
    for (size_t e = 0; e < cnt; e++) s->lambda[e] += (real)(beta * (s->z[L][e] - s->m[e]));
    nn_count_stream(3.0 * sizeof(real) * cnt);
  }
  for (size_t e = 0; e < cnt; e++) local[4] += (double)s->lambda[e] * s->lambda[e];
  nn_timer_stop(t);
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, local, 5, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
  double ng = (double)s->n_global;
  st->objective = (local[0] + local[3]) / ng;
  st->residual_z = local[1] / ng;
  st->residual_a = local[2] / ng;
  st->multiplier = local[4] / ng;
  CHECK_ALL_RANKS(isfinite(st->objective), "ADMM iterates became NaN or Inf (objective %g): lower --beta/--gamma "
        "or raise --ridge", st->objective);
}

/* ==================================== the entry ==================================== */

/* Warm-up (--warmup) is this method's: its first epochs leave the multiplier alone. */
static void admm_epoch(void *self, int epoch, nn_epoch_stats *st, nn_timer *t)
{
  nn_admm *s = self;
  nn_admm_sweep(s, epoch > s->cfg->warmup, st, t);
}

/* The pseudo-inverse's first-step notes; at the end, the eigenvalues it kept over the run. */
static void admm_notes(void *self, int final, char *out, size_t len)
{
  nn_admm *s = self;
  snprintf(out, len, "%s", s->notes);
  s->notes[0] = 0;
  if (!final || !s->pinv || s->kept_min[1] < 0) return;
  size_t k = strlen(out);
  k += (size_t)snprintf(out + k, k < len ? len - k : 0, "admm: pinv eigenvalues kept over the run:");
  for (int l = 1; l <= s->L && k < len; l++) {
    const char *sep = l < s->L ? "," : "";
    if (s->kept_min[l] == s->kept_max[l])
      k += (size_t)snprintf(out + k, len - k, " layer %d %d of %d%s", l, s->kept_min[l], s->wpinv[l].n, sep);
    else
      k += (size_t)snprintf(out + k, len - k, " layer %d %d-%d of %d%s", l, s->kept_min[l], s->kept_max[l],
                            s->wpinv[l].n, sep);
  }
  if (k + 1 < len) strcat(out, "\n");
}

/* The checkpoint's share (method.h): z, a and lambda by sample, the pinv statistics. */
static int admm_state_arrays(void *self, nn_state_array *out, int max)
{
  nn_admm *s = self;
  const int *n = s->net->n;
  long first = s->first, N = s->N, total = s->n_global;
  int k = 0;
  char name[16];
  for (int l = 1; l <= s->L; l++) {
    snprintf(name, sizeof name, "z%d", l);
    nn_state_partitioned(out, &k, max, name, s->z[l], n[l], first, N, total);
    if (l == s->L) continue;
    snprintf(name, sizeof name, "a%d", l);
    nn_state_partitioned(out, &k, max, name, s->a[l], n[l], first, N, total);
  }
  nn_state_partitioned(out, &k, max, "lambda", s->lambda, n[s->L], first, N, total);
  nn_state_replicated(out, &k, max, "kept_min", s->kept_min, NN_STATE_INT, NN_MAX_LAYERS + 1);
  nn_state_replicated(out, &k, max, "kept_max", s->kept_max, NN_STATE_INT, NN_MAX_LAYERS + 1);
  return k;
}

/* The safeguard's merit (method.h): the augmented Lagrangian without its multiplier term,
 *   sum_l<L (gamma/2 |a_l - h(z_l)|^2 + beta/2 |z_l - W_l a_{l-1}|^2) + loss(z_L) + beta/2 |z_L - W_L a_{L-1}|^2,
 * per sample: bounded below by 0. */
static double admm_merit(void *self)
{
  nn_admm *s = self;
  const int *n = s->net->n;
  int L = s->L, hinge = s->cfg->loss == NN_LOSS_HINGE;
  double beta = s->cfg->beta, gamma = s->cfg->gamma, f = 0;
  for (int l = 1; l <= L; l++) {
    nn_affine(s->net->W[l], NULL, n[l], n[l - 1], s->a[l - 1], s->N, s->m);
    const real *z = s->z[l];
    for (long j = 0; j < s->N; j++)
      for (int i = 0; i < n[l]; i++) {
        size_t e = (size_t)j * n[l] + i;
        if (l == L) {
          f += nn_output_objective(z[e], s->label[j] == i, 0, s->m[e], beta, hinge);
          continue;
        }
        double dz = z[e] - s->m[e], h = z[e] > 0 ? z[e] : 0, da = s->a[l][e] - h;
        f += 0.5 * (beta * dz * dz + gamma * da * da);
      }
  }
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &f, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
  return f / (double)s->n_global;
}

const nn_method_ops nn_admm_ops = {
  .size = sizeof(nn_admm), .init = nn_admm_init, .epoch = admm_epoch, .fini = nn_admm_free,
  .notes = admm_notes, .state_arrays = admm_state_arrays, .merit = admm_merit,
};

/* Taylor's ADMM has no biases: the model is made without them. */
static int admm_validate(nn_config *cfg, char *err, size_t errlen)
{
  (void)err, (void)errlen;
  cfg->biases = 0;
  return 1;
}

/* z and a per hidden layer, z_L and lambda, two nmax x N scratch blocks; Gram, cross product,
 * P, Pinv, K; the block-cyclic systems (a local share plus a full staging copy each). */
static double admm_state_bytes(const nn_config *cfg, double N)
{
  const int *n = cfg->n;
  int L = cfg->L;
  double P = nn_nranks(), r = cfg->float32 ? 4 : 8, nmax = nn_widest_layer(L, n), hidden = 0;
  for (int l = 1; l < L; l++) hidden += n[l];
  double square = (nmax + 1) * (nmax + 1) * r;
  return (2 * hidden + 2 * n[L] + 2 * nmax) * N * r + 6 * square + 2 * L * square * (1 + 1 / P) +
         nn_anderson_state_bytes(cfg, 2 * hidden + 2 * n[L], N); /* --anderson: z, a, lambda */
}

const nn_method nn_method_admm = {
  .name = "admm",
  .help = "Taylor et al.'s ADMM as the thesis runs it: no biases, least-squares weight steps, closed-form a and "
          "z steps, one multiplier on the output constraint, updated after --warmup epochs (solver/admm.c)",
  .options = "beta gamma warmup aux-init ridge weight-solve pinv-rcond grid block anderson",
  .init_auto = NN_INIT_HE,
  .anderson_auto = 0, /* by validation: --anderson 8 on full MNIST 784-256-256-10 kept the same accuracy at 2.3x the
                         time per iteration (bench/bench-issue15-table.sh; README "Anderson acceleration") */
  .loss_auto = NN_LOSS_LEAST_SQUARES, /* the thesis's eq. 3.12 */
  .losses = 1u << NN_LOSS_LEAST_SQUARES | 1u << NN_LOSS_HINGE,
  .losses_why = "has closed-form output steps for least-squares and hinge only",
  .validate = admm_validate,
  .state_bytes = admm_state_bytes,
  .phases = { "gram", "a_update", "z_update", NULL },
  .ops = &nn_admm_ops,
};
