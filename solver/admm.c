/* ADMM for ReLU networks; see admm.h. Legend: L layers with weights, n[l] widths,
 * N samples on this rank; every matrix is column-major with samples as columns. */
#include "admm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "closed_forms.h"
#include "layer_fit.h"
#include "rng.h"
#include "util.h"

void R(nn_admm_init)(void *self, const nn_config *cfg, R(nn_model) *net, const R(nn_shard) *train,
                     const nn_grid *g)
{
  R(nn_admm) *s = self;
  memset(s, 0, sizeof *s);
  s->cfg = cfg;
  s->net = net;
  s->g = g;
  s->L = net->L;
  s->N = train->n;
  s->n_global = train->n_global;
  s->a0 = train->x;
  s->label = train->label;
  s->ridge = cfg->ridge;
  const int *n = net->n;
  size_t nmax = (size_t)nn_widest_layer(s->L, n), N = (size_t)s->N;
  s->a[0] = (real *)train->x;
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
      R(nn_pinv_init)(&s->wpinv[l], g, n[l - 1], n[l]);
    else
      R(nn_spd_init)(&s->wsys[l], g, n[l - 1], n[l]);
  }
  for (int l = 1; l < s->L; l++) R(nn_spd_init)(&s->asys[l], g, n[l], n[l]);

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
      R(nn_affine)(net->W[l], NULL, n[l], n[l - 1], s->a[l - 1], s->N, s->z[l]);
    if (l < s->L) {
      R(nn_relu)(s->a[l], s->z[l], (size_t)n[l] * N);
    }
  }

  /* a_0 never changes: sum and factor (or eigendecompose) its Gram matrix once, outside the
   * epoch loop. */
  nn_timer t;
  nn_timer_reset(&t);
  cblas_syrk(CblasColMajor, CblasLower, CblasNoTrans, n[0], (int)s->N, 1, s->a0, n[0], 0, s->G, n[0]);
  if (s->pinv)
    R(nn_pinv_factor_sum)(&s->wpinv[1], s->G, cfg->pinv_rcond, &t);
  else
    R(nn_spd_factor_sum)(&s->wsys[1], s->G, s->ridge, &t);
}

void R(nn_admm_free)(void *self)
{
  R(nn_admm) *s = self;
  for (int l = 1; l <= s->L; l++) {
    free(s->z[l]);
    if (l < s->L) free(s->a[l]);
    if (s->pinv)
      R(nn_pinv_free)(&s->wpinv[l]);
    else
      R(nn_spd_free)(&s->wsys[l]);
    if (l < s->L) R(nn_spd_free)(&s->asys[l]);
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

/* The rank the pseudo-inverse used for layer l: told once, at the layer's first weight step
 * (the user sees how singular a_0 a_0^T is), and tallied for the summary at the end. The count
 * is the same on every rank (pinv.c broadcasts the eigenvalues). */
static void note_kept(R(nn_admm) *s, int l)
{
  const R(nn_pinv) *p = &s->wpinv[l];
  int first = s->kept_min[l] < 0;
  if (first || p->kept < s->kept_min[l]) s->kept_min[l] = p->kept;
  if (first || p->kept > s->kept_max[l]) s->kept_max[l] = p->kept;
  if (first && nn_rank() == 0) {
    printf("admm: pinv layer %d keeps %d of %d eigenvalues (cutoff %.3g x largest %.4g)\n", l, p->kept, p->n,
           p->rcond, p->lambda_max);
    fflush(stdout);
  }
}

/* W_l = z_l a_{l-1}^T (a_{l-1} a_{l-1}^T + ridge)^{-1}, i.e. G W_l^T = a_{l-1} z_l^T with G
 * and the right-hand side summed over ranks: the least-squares fit, W_l = z_l a_{l-1}^+ in the
 * limit ridge -> 0. --weight-solve pinv takes that limit: W_l^T = G^+ a_{l-1} z_l^T, which is
 * z_l a_{l-1}^+ exactly (a^+ = a^T (a a^T)^+). */
void R(nn_admm_weight_step)(R(nn_admm) *s, int l, nn_timer *t)
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
  real *W = R(nn_fit_solution)(s->net, l);
  if (s->pinv) {
    if (l > 1) R(nn_pinv_factor_sum)(&s->wpinv[l], s->G, s->cfg->pinv_rcond, t);
    R(nn_pinv_solve_sum)(&s->wpinv[l], s->B, out, W, NN_BC_TRANSPOSED, t);
    note_kept(s, l);
  } else {
    if (l > 1) R(nn_spd_factor_sum)(&s->wsys[l], s->G, s->ridge, t);
    R(nn_spd_solve_sum)(&s->wsys[l], s->B, out, W, NN_BC_TRANSPOSED, t);
  }
}

/* a_l = (beta W^T W + gamma I)^{-1} (beta W^T z_{l+1} + gamma relu(z_l)), W = W_{l+1}.
 * The inverse is formed once per step (it is small) so both products run as GEMMs. */
void R(nn_admm_activation_step)(R(nn_admm) *s, int l, nn_timer *t)
{
  const int *n = s->net->n;
  int nl = n[l], nn = n[l + 1];
  double beta = s->cfg->beta, gamma = s->cfg->gamma;
  const real *W = s->net->W[l + 1];
  nn_timer_start(t, PH_A_UPDATE);
  cblas_syrk(CblasColMajor, CblasLower, CblasTrans, nl, nn, (real)beta, W, nn, 0, s->P, nl);
  for (int i = 0; i < nl; i++) s->P[i + (size_t)i * nl] += (real)gamma;
  nn_timer_stop(t);
  R(nn_spd_inverse)(&s->asys[l], s->P, s->Pinv, t);
  nn_timer_start(t, PH_A_UPDATE);
  /* K = beta Pinv W^T: nl x nn */
  cblas_gemm(CblasColMajor, CblasNoTrans, CblasTrans, nl, nn, nl, (real)beta, s->Pinv, nl, W, nn, 0,
             s->K, nl);
  R(nn_relu)(s->h, s->z[l], (size_t)nl * s->N);
  cblas_gemm(CblasColMajor, CblasNoTrans, CblasNoTrans, nl, (int)s->N, nn, 1, s->K, nl, s->z[l + 1], nn,
             0, s->a[l], nl);
  cblas_gemm(CblasColMajor, CblasNoTrans, CblasNoTrans, nl, (int)s->N, nl, (real)gamma, s->Pinv, nl,
             s->h, nl, 1, s->a[l], nl);
  nn_timer_stop(t);
}

void R(nn_admm_sweep)(R(nn_admm) *s, int update_multiplier, nn_epoch_stats *st, nn_timer *t)
{
  const int *n = s->net->n;
  int L = s->L;
  double beta = s->cfg->beta, gamma = s->cfg->gamma;
  double local[5] = {0, 0, 0, 0, 0}; /* hidden objective, res_z, res_a, output objective, |lambda|^2 */
  for (int l = 1; l < L; l++) {
    R(nn_admm_weight_step)(s, l, t);
    R(nn_admm_activation_step)(s, l, t);
    nn_timer_start(t, PH_Z_UPDATE);
    R(nn_affine)(s->net->W[l], NULL, n[l], n[l - 1], s->a[l - 1], s->N, s->m);
    double ra = 0;
    double rz = R(nn_relu_z_update)(s->z[l], s->a[l], s->m, (long)n[l] * s->N, beta, gamma, &ra);
    local[0] += gamma * ra + beta * rz;
    local[1] += rz;
    local[2] += ra;
    nn_timer_stop(t);
  }
  R(nn_admm_weight_step)(s, L, t);
  nn_timer_start(t, PH_Z_UPDATE);
  int k = n[L];
  R(nn_affine)(s->net->W[L], NULL, k, n[L - 1], s->a[L - 1], s->N, s->m);
  int hinge = s->cfg->loss == NN_LOSS_HINGE;
  R(nn_output_z_update)(s->z[L], s->label, s->lambda, s->m, k, s->N, beta, hinge);
  /* Augmented Lagrangian of the output block, before the multiplier moves. */
  double out_obj = 0, rz = 0;
  for (long j = 0; j < s->N; j++)
    for (int i = 0; i < k; i++) {
      size_t e = (size_t)j * k + i;
      double d = s->z[L][e] - s->m[e];
      out_obj += R(nn_output_objective)(s->z[L][e], s->label[j] == i, s->lambda[e], s->m[e], beta, hinge)
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

static void admm_epoch(void *self, int epoch, int warmup, nn_epoch_stats *st, nn_timer *t)
{
  (void)epoch;
  R(nn_admm_sweep)(self, !warmup, st, t);
}

static void admm_fini(void *self)
{
  R(nn_admm) *s = self;
  if (s->pinv && s->kept_min[1] >= 0 && nn_rank() == 0) {
    printf("admm: pinv eigenvalues kept over the run:");
    for (int l = 1; l <= s->L; l++) {
      const char *sep = l < s->L ? "," : "";
      if (s->kept_min[l] == s->kept_max[l])
        printf(" layer %d %d of %d%s", l, s->kept_min[l], s->wpinv[l].n, sep);
      else
        printf(" layer %d %d-%d of %d%s", l, s->kept_min[l], s->kept_max[l], s->wpinv[l].n, sep);
    }
    printf("\n");
    fflush(stdout);
  }
  R(nn_admm_free)(s);
}

static const R(nn_grid_method) R(admm_method) = {
  .name = "the admm state", .size = sizeof(R(nn_admm)), .init = R(nn_admm_init), .epoch = admm_epoch, .fini = admm_fini
};

R(nn_method) R(nn_admm_create)(const nn_config *cfg, R(nn_model) *net, const R(nn_shard) *train,
                               const nn_grid *g)
{
  return R(nn_grid_method_create)(&R(admm_method), cfg, net, train, g);
}
