/* Gradient-free block coordinate descent; see bcd.h for the merit F. Legend: L layers with
 * weights, n[l] widths, N samples on this rank, k = n[L] classes, C a column chunk; every
 * matrix is column-major with samples as columns; abar = [a; 1] appends a row of ones, so
 * Wbar_l = [W_l b_l] is n[l] x (n[l-1] + 1) and X = Wbar^T is what the solves return.
 *
 * One sweep, top hidden layer first (u = l + 1, c = 1 if u = L else beta, t = Y if u = L
 * else z_u, h = relu(z_l)):
 *   a_l  = argmin c/2 |t - Wbar_u abar|^2 + gamma/2 |a - h|^2
 *        = h + K (t - W_u h - b_u),  K = (W_u^T W_u + gamma/c I)^{-1} W_u^T
 *                                      = W_u^T (W_u W_u^T + gamma/c I)^{-1}   (smaller order)
 *   z_l  = argmin gamma/2 |a_l - relu(z)|^2 + beta/2 |z - Wbar_l abar_{l-1}|^2  (elementwise,
 *          both ReLU branches compared: closed_forms.c)
 *   Wbar_l = argmin beta/2 |z_l - Wbar abar_{l-1}|^2 + mu/2 |Wbar - Wbar_old|^2 + rho/2 |Wbar|^2
 *          : (abar abar^T + (mu + rho) I) X = abar z_l^T + mu X_old,
 *          mu = --bcd-prox * trace/(n+1), rho = --bcd-decay * trace/(n+1)
 *          (beta is absorbed into mu and rho, which are relative to the Gram matrix's scale)
 * then, after re-anchoring z_l = Wbar_l abar_{l-1}, a_l = relu(z_l) when due, the targets
 * (squared-hinge only, from the second output step on) and the output
 *   T      = argmin_{T in C} |Wbar_L abar_{L-1} - T|^2 = clip of the outputs onto C (bcd.h)
 *   Wbar_L = argmin 1/2 |Wbar abar_{L-1} - T|^2 + ridge |Wbar|^2
 *          : (abar abar^T + ridge I) X = abar T^T.
 * No step evaluates a derivative of the loss: each is the exact minimiser of F over its block.
 * What it shares with back-propagation: after re-anchoring, the top hidden a-step moves a_{L-1}
 * by K (T - f(x)) with K ~ W_L^T (W_L W_L^T + gamma I)^{-1}, the output error carried down
 * through W_L^T, damped and preconditioned (as in target propagation or Gauss-Newton); lower
 * layers receive it through their z targets. The initialisation is the driver's (--init). */
#include "bcd.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/check.h"
#include "augment.h"
#include "closed_forms.h"
#include "layer_fit.h"
#include "../common/util.h"

enum { CHUNK = 2048 };

/* The phases this method times in its own slots (timer.h), named in its entry below:
 * PH_TARGETS is re-anchoring (the forward pass) and the projection of the outputs (T). */
static const enum nn_phase PH_GRAM = PH_STEP1;
static const enum nn_phase PH_A_UPDATE = PH_STEP2;
static const enum nn_phase PH_Z_UPDATE = PH_STEP3;
static const enum nn_phase PH_TARGETS = PH_STEP4;

static void batched_readout(nn_bcd *s, nn_timer *t);

/* ==================================== the state ==================================== */

void nn_bcd_init(void *self, const nn_config *cfg, void *model, const void *shard, const nn_grid *g)
{
  nn_bcd *s = self;
  nn_model *net = model;
  const nn_shard *train = shard;
  CHECK(net->bias, "internal: --method bcd needs a model with biases");
  memset(s, 0, sizeof *s);
  s->cfg = cfg;
  s->net = net;
  s->g = g;
  s->L = net->L;
  s->N = train->n;
  s->n_global = train->n_global;
  s->first = train->first;
  s->x = nn_shard_reals(train);
  s->label = train->label;
  s->batches = cfg->bcd_batches > 1 ? cfg->bcd_batches : 1;
  s->x_all = s->x, s->label_all = s->label, s->N_all = s->N, s->n_all = s->n_global, s->first_all = s->first;
  CHECK_ALL_RANKS(s->n_all >= s->batches, "option --bcd-batches: %d batches of %ld training samples would leave "
                  "some empty", s->batches, s->n_all);
  s->beta = cfg->beta;
  s->gamma = cfg->gamma;
  s->ridge = cfg->ridge;
  const int *n = net->n;
  int L = s->L;
  size_t nmax = (size_t)nn_widest_layer(L, n);
  /* a batch holds at most ceil(N / B) of this rank's samples */
  size_t N = (size_t)(s->batches > 1 ? s->N / s->batches + 1 : s->N);
  s->a[0] = nn_shard_reals(train);
  if (s->batches > 1) {
    s->xb = nn_alloc((size_t)n[0] * N, sizeof(real), "a batch's inputs");
    s->labelb = nn_alloc(N, sizeof(int), "a batch's labels");
    s->Gsum = nn_alloc((nmax + 1) * (nmax + 1), sizeof(real), "Gram sum");
    s->Bsum = nn_alloc((nmax + 1) * nmax, sizeof(real), "cross product sum");
    s->x = s->a[0] = s->xb, s->label = s->labelb;
  }
  for (int l = 1; l < L; l++) {
    s->z[l] = nn_alloc((size_t)n[l] * N, sizeof(real), "z");
    s->a[l] = nn_alloc((size_t)n[l] * N, sizeof(real), "a");
  }
  s->hinge = cfg->loss == NN_LOSS_SQUARED_HINGE;
  s->T = nn_alloc((size_t)n[L] * N, sizeof(real), "output targets");
  s->ones = nn_alloc(N, sizeof(real), "ones");
  for (size_t j = 0; j < N; j++) s->ones[j] = 1;
  if (s->batches == 1) for (size_t j = 0; j < N; j++) s->T[(size_t)s->label[j] + j * n[L]] = 1;
  s->tsq = (double)N;
  s->G = nn_alloc((nmax + 1) * (nmax + 1), sizeof(real), "Gram");
  s->B = nn_alloc((nmax + 1) * nmax, sizeof(real), "cross product");
  s->X = nn_alloc((nmax + 1) * nmax, sizeof(real), "solution");
  s->P = nn_alloc(nmax * nmax, sizeof(real), "activation matrix");
  s->Pinv = nn_alloc(nmax * nmax, sizeof(real), "activation inverse");
  s->K = nn_alloc(nmax * nmax, sizeof(real), "activation operator");
  s->s1 = nn_alloc(nmax * CHUNK, sizeof(real), "chunk scratch");
  s->s2 = nn_alloc(nmax * CHUNK, sizeof(real), "chunk scratch");
  for (int l = 1; l <= L; l++) nn_spd_init(&s->wsys[l], g, n[l - 1] + 1, n[l]);
  for (int l = 1; l < L; l++) nn_spd_init(&s->asys[l], g, n[l] < n[l + 1] ? n[l] : n[l + 1], n[l + 1]);

  nn_timer t;
  nn_timer_reset(&t);
  if (s->batches > 1) { /* start at the forward pass, the readout solved on every sample */
    batched_readout(s, &t);
    return;
  }
  /* a_0 never changes: its Gram matrix (and so the layer-1 system with its proximal ridge)
   * is summed and factored once, outside the epoch loop. */
  if (L > 1) {
    nn_fit_gram(s->x, n[0], s->N, s->ones, s->G);
    nn_spd_factor_sum(&s->wsys[1], s->G, cfg->bcd_prox + cfg->bcd_decay, &t);
  }
  /* Start at the forward pass, with the output layer already solved for it. */
  nn_bcd_output_step(s, 1, &t);
}

void nn_bcd_free(void *self)
{
  nn_bcd *s = self;
  for (int l = 1; l <= s->L; l++) {
    if (l < s->L) {
      free(s->z[l]);
      free(s->a[l]);
      nn_spd_free(&s->asys[l]);
    }
    nn_spd_free(&s->wsys[l]);
  }
  free(s->xb); free(s->labelb); free(s->Gsum); free(s->Bsum);
  free(s->T); free(s->ones); free(s->G); free(s->B); free(s->X); free(s->P); free(s->Pinv); free(s->K); free(s->s1); free(s->s2);
}

/* ==================================== the steps ==================================== */

/* a_l = h + K (t - W_u h - b_u); see the top of the file. Columns are independent, so the
 * work runs over chunks of C columns with two nmax x C scratch blocks. */
void nn_bcd_activation_step(nn_bcd *s, int l, nn_timer *t)
{
  const int *n = s->net->n;
  int u = l + 1, nl = n[l], nu = n[u], L = s->L;
  const real *W = s->net->W[u], *b = s->net->b[u];
  double c = u == L ? 1.0 : s->beta, eps = s->gamma / c;
  nn_timer_start(t, PH_A_UPDATE);
  int small = nu < nl ? nu : nl;
  if (nu < nl)
    cblas_syrk(CblasColMajor, CblasLower, CblasNoTrans, nu, nl, 1, W, nu, 0, s->P, nu);
  else
    cblas_syrk(CblasColMajor, CblasLower, CblasTrans, nl, nu, 1, W, nu, 0, s->P, nl);
  for (int i = 0; i < small; i++) s->P[i + (size_t)i * small] += (real)eps;
  nn_timer_stop(t);
  nn_spd_inverse(&s->asys[l], s->P, s->Pinv, t);
  nn_timer_start(t, PH_A_UPDATE);
  if (nu < nl) /* K = W^T Pinv: nl x nu */
    cblas_gemm(CblasColMajor, CblasTrans, CblasNoTrans, nl, nu, nu, 1, W, nu, s->Pinv, nu, 0, s->K, nl);
  else         /* K = Pinv W^T */
    cblas_gemm(CblasColMajor, CblasNoTrans, CblasTrans, nl, nu, nl, 1, s->Pinv, nl, W, nu, 0, s->K, nl);
  for (long j0 = 0; j0 < s->N; j0 += CHUNK) {
    long C = s->N - j0 < CHUNK ? s->N - j0 : CHUNK;
    real *h = s->s1, *r = s->s2, *a = s->a[l] + (size_t)j0 * nl;
    nn_relu(h, s->z[l] + (size_t)j0 * nl, (size_t)nl * C);
    /* r = t - b_u - W_u h */
    const real *tu = (u == L ? s->T : s->z[u]) + (size_t)j0 * nu;
    for (long j = 0; j < C; j++)
      for (int i = 0; i < nu; i++) r[i + (size_t)j * nu] = tu[i + (size_t)j * nu] - b[i];
    cblas_gemm(CblasColMajor, CblasNoTrans, CblasNoTrans, nu, (int)C, nl, -1, W, nu, h, nl, 1, r, nu);
    memcpy(a, h, sizeof(real) * (size_t)nl * C);
    cblas_gemm(CblasColMajor, CblasNoTrans, CblasNoTrans, nl, (int)C, nu, 1, s->K, nl, r, nu, 1, a, nl);
  }
  nn_timer_stop(t);
}

/* z_l by the elementwise closed form against m = Wbar_l abar_{l-1}. Returns this rank's
 * sum (z - m)^2 and in *res_a its sum (a_l - relu(z_l))^2, both after the step. */
double nn_bcd_z_step(nn_bcd *s, int l, double *res_a, nn_timer *t)
{
  const int *n = s->net->n;
  int nl = n[l], in = n[l - 1];
  double rz = 0, ra = 0;
  nn_timer_start(t, PH_Z_UPDATE);
  for (long j0 = 0; j0 < s->N; j0 += CHUNK) {
    long C = s->N - j0 < CHUNK ? s->N - j0 : CHUNK;
    nn_affine(s->net->W[l], s->net->b[l], nl, in, s->a[l - 1] + (size_t)j0 * in, C, s->s1);
    double r = 0;
    rz += nn_relu_z_update(s->z[l] + (size_t)j0 * nl, s->a[l] + (size_t)j0 * nl, s->s1, (long)nl * C,
                           s->beta, s->gamma, &r);
    ra += r;
  }
  nn_timer_stop(t);
  *res_a = ra;
  return rz;
}

/* Wbar_l: the proximal least-squares fit of z_l on abar_{l-1}, Gram and right-hand side
 * summed over ranks. The proximal pull mu X_old enters the summed right-hand side once
 * (rank 0); the factorisation added mu + rho, of which mu is the --bcd-prox share. */
void nn_bcd_weight_step(nn_bcd *s, int l, nn_timer *t)
{
  const int *n = s->net->n;
  int in = n[l - 1], out = n[l], ld = in + 1;
  const real *a = s->a[l - 1];
  nn_timer_start(t, PH_GRAM);
  if (l > 1 || s->batches > 1) nn_fit_gram(a, in, s->N, s->ones, s->G); /* a batch: its own a_0 */
  nn_fit_cross(a, in, s->z[l], out, s->N, s->ones, s->B);
  nn_timer_stop(t);
  double prox = s->cfg->bcd_prox, decay = s->cfg->bcd_decay;
  if (l > 1 || s->batches > 1) nn_spd_factor_sum(&s->wsys[l], s->G, prox + decay, t);
  if (nn_rank() == 0) {
    nn_fit_weights_to_x(s->net, l, s->X);
    real mu = (real)(s->wsys[l].ridge_abs * prox / (prox + decay));
    for (size_t e = 0; e < (size_t)ld * out; e++) s->B[e] += mu * s->X[e];
  }
  nn_spd_solve_sum(&s->wsys[l], s->B, out, nn_fit_solution(s->net, l), NN_BC_TRANSPOSED, t);
}

/* T = the projection of the network's outputs Wbar_L abar_{L-1} onto C (bcd.h). */
static void targets_step(nn_bcd *s, nn_timer *t)
{
  const int *n = s->net->n;
  int L = s->L, in = n[L - 1], k = n[L];
  double tsq = 0;
  nn_timer_start(t, PH_TARGETS);
  for (long j0 = 0; j0 < s->N; j0 += CHUNK) {
    long C = s->N - j0 < CHUNK ? s->N - j0 : CHUNK;
    real *T = s->T + (size_t)j0 * k;
    nn_affine(s->net->W[L], s->net->b[L], k, in, s->a[L - 1] + (size_t)j0 * in, C, T);
    double dist2 = 0;
    nn_hinge_targets(T, s->label + j0, k, C, &tsq, &dist2);
  }
  s->tsq = tsq;
  nn_timer_stop(t);
}

/* F right after re-anchoring: every hidden term is exactly zero (z_l, a_l were just set to
 * the forward pass), so F is the output term alone,
 *   1/2 sum_j |X^T abar_j - t_j|^2 = 1/2 (tr(X^T G X) - 2 tr(X^T B) + |T|^2),
 * from this rank's Gram matrix G and cross product B that the output solve summed: no
 * second forward pass, which would be 10-16% of a sweep of a wide network. */
static double anchored_merit(nn_bcd *s, int ld, int k)
{
  nn_fit_weights_to_x(s->net, s->L, s->X); /* the solution X, read back from the model */
  real *T = s->s1; /* ld x k <= (nmax + 1) x nmax <= nmax x CHUNK */
  cblas_symm(CblasColMajor, CblasLeft, CblasLower, ld, k, 1, s->G, ld, s->X, ld, 0, T, ld);
  double q = 0, c = 0;
  for (size_t e = 0; e < (size_t)ld * k; e++) {
    q += (double)s->X[e] * T[e];
    c += (double)s->X[e] * s->B[e];
  }
  double f = 0.5 * (q - 2 * c + s->tsq);
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &f, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
  return f / (double)s->n_global;
}

/* Re-anchoring: z_l, a_l = the forward pass of the current weights. */
static void anchor_forward(nn_bcd *s, nn_timer *t)
{
  const int *n = s->net->n;
  nn_timer_start(t, PH_TARGETS);
  for (int l = 1; l < s->L; l++) {
    nn_affine(s->net->W[l], s->net->b[l], n[l], n[l - 1], s->a[l - 1], s->N, s->z[l]);
    nn_relu(s->a[l], s->z[l], (size_t)n[l] * s->N);
  }
  nn_timer_stop(t);
}

/* Optionally re-anchor (z_l, a_l = forward pass of the current weights), then solve the
 * output layer exactly on abar_{L-1}. */
void nn_bcd_output_step(nn_bcd *s, int anchor, nn_timer *t)
{
  const int *n = s->net->n;
  int L = s->L, in = n[L - 1], k = n[L], ld = in + 1;
  if (anchor) anchor_forward(s, t);
  const real *a = s->a[L - 1];
  if (s->hinge && s->sweeps > 0) targets_step(s, t);
  nn_timer_start(t, PH_GRAM);
  nn_fit_gram(a, in, s->N, s->ones, s->G);
  nn_fit_cross(a, in, s->T, k, s->N, s->ones, s->B);
  nn_timer_stop(t);
  nn_spd_factor_sum(&s->wsys[L], s->G, s->ridge, t);
  nn_spd_solve_sum(&s->wsys[L], s->B, k, nn_fit_solution(s->net, L), NN_BC_TRANSPOSED, t);
  s->merit_anchored = anchor ? anchored_merit(s, ld, k) : NAN;
}

/* F (bcd.h) at the current state; project = 1: with T replaced by the projection of the
 * outputs onto C (the squared-hinge case's min over T of F). */
static double merit(nn_bcd *s, int project)
{
  const int *n = s->net->n;
  int L = s->L;
  double f = 0;
  for (long j0 = 0; j0 < s->N; j0 += CHUNK) {
    long C = s->N - j0 < CHUNK ? s->N - j0 : CHUNK;
    for (int l = 1; l <= L; l++) {
      nn_affine(s->net->W[l], s->net->b[l], n[l], n[l - 1], s->a[l - 1] + (size_t)j0 * n[l - 1], C, s->s1);
      if (l == L) {
        for (size_t e = 0; e < (size_t)n[L] * C; e++) {
          double o = s->s1[e], d = o - s->T[e + (size_t)j0 * n[L]];
          if (project) /* the distance to C: the class's output below 1, another's above 0 */
            d = (long)(e % n[L]) == s->label[j0 + (long)(e / n[L])] ? fmin(o - 1, 0) : fmax(o, 0);
          f += 0.5 * d * d;
        }
      } else {
        const real *z = s->z[l] + (size_t)j0 * n[l], *a = s->a[l] + (size_t)j0 * n[l];
        double fz = 0, fa = 0;
        for (size_t e = 0; e < (size_t)n[l] * C; e++) {
          double dz = z[e] - s->s1[e], h = z[e] > 0 ? z[e] : 0, da = a[e] - h;
          fz += dz * dz;
          fa += da * da;
        }
        f += 0.5 * s->beta * fz + 0.5 * s->gamma * fa;
      }
    }
  }
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &f, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
  return f / (double)s->n_global;
}

double nn_bcd_merit(nn_bcd *s)
{
  return merit(s, 0);
}

double nn_bcd_merit_projected(nn_bcd *s)
{
  return merit(s, s->hinge);
}

void nn_bcd_sweep(nn_bcd *s, nn_epoch_stats *st, nn_timer *t)
{
  double local[2] = { 0, 0 };
  for (int l = s->L - 1; l >= 1; l--) {
    nn_bcd_activation_step(s, l, t);
    double ra = 0;
    local[0] += nn_bcd_z_step(s, l, &ra, t);
    local[1] += ra;
    nn_bcd_weight_step(s, l, t);
  }
  s->sweeps++;
  int every = s->cfg->bcd_reanchor;
  nn_bcd_output_step(s, every > 0 && s->sweeps % every == 0, t);
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, local, 2, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
  st->objective = isnan(s->merit_anchored) ? nn_bcd_merit(s) : s->merit_anchored;
  st->residual_z = local[0] / (double)s->n_global;
  st->residual_a = local[1] / (double)s->n_global;
  CHECK_ALL_RANKS(isfinite(st->objective), "BCD iterates became NaN or Inf (merit %g): raise --bcd-prox "
                  "or --ridge", st->objective);
  s->beta *= s->cfg->bcd_growth;
  s->gamma *= s->cfg->bcd_growth;
}

/* ================================ mini-batch sweeps ================================ */

/* Gathers batch b (the shard's samples with global index j = b mod B) into x, label and T
 * (one-hot), and sets N, n_global to the batch's counts. epoch > 0: the inputs translated by
 * their --augment draws for that epoch; 0: as stored (the readout's pass). */
static void batch_select(nn_bcd *s, int b, int epoch, nn_timer *t)
{
  const int n0 = s->net->n[0], k = s->net->n[s->L];
  const long B = s->batches;
  const int radius = epoch > 0 ? s->cfg->augment : 0;
  nn_timer_start(t, PH_TARGETS);
  long m = 0;
  for (long c = ((b - s->first_all) % B + B) % B; c < s->N_all; c += B, m++) {
    nn_augment_copy(s->xb + (size_t)m * n0, s->x_all + (size_t)c * n0, n0, radius, (uint64_t)s->cfg->seed, epoch,
                    s->first_all + c); /* radius 0: a plain copy */
    s->labelb[m] = s->label_all[c];
  }
  s->N = m;
  s->first = s->first_all; /* not a contiguous range: only the counts are used */
  s->n_global = (s->n_all - b + B - 1) / B;
  memset(s->T, 0, sizeof(real) * (size_t)k * m);
  for (long j = 0; j < m; j++) s->T[(size_t)s->labelb[j] + (size_t)j * k] = 1;
  s->tsq = (double)m;
  nn_timer_stop(t);
}

/* The readout solved on every sample, batch by batch: each batch's forward pass and targets
 * (the outputs' projection, squared hinge), their Gram and cross sums added up, one solve.
 * F of the result (anchored_merit over the sums) is the training loss of the network. */
static void batched_readout(nn_bcd *s, nn_timer *t)
{
  const int *n = s->net->n;
  const int L = s->L, in = n[L - 1], k = n[L], ld = in + 1;
  const size_t gsize = (size_t)ld * ld, bsize = (size_t)ld * k;
  memset(s->Gsum, 0, sizeof(real) * gsize);
  memset(s->Bsum, 0, sizeof(real) * bsize);
  double tsq = 0;
  for (int b = 0; b < s->batches; b++) {
    batch_select(s, b, 0, t);
    anchor_forward(s, t);
    if (s->hinge && s->sweeps > 0) targets_step(s, t);
    nn_timer_start(t, PH_GRAM);
    nn_fit_gram(s->a[L - 1], in, s->N, s->ones, s->G);
    nn_fit_cross(s->a[L - 1], in, s->T, k, s->N, s->ones, s->B);
    for (size_t e = 0; e < gsize; e++) s->Gsum[e] += s->G[e];
    for (size_t e = 0; e < bsize; e++) s->Bsum[e] += s->B[e];
    nn_timer_stop(t);
    tsq += s->tsq;
  }
  memcpy(s->G, s->Gsum, sizeof(real) * gsize); /* where the solve and anchored_merit read them */
  memcpy(s->B, s->Bsum, sizeof(real) * bsize);
  nn_spd_factor_sum(&s->wsys[L], s->G, s->ridge, t);
  nn_spd_solve_sum(&s->wsys[L], s->B, k, nn_fit_solution(s->net, L), NN_BC_TRANSPOSED, t);
  long batch_global = s->n_global;
  double batch_tsq = s->tsq;
  s->n_global = s->n_all, s->tsq = tsq;
  s->merit_anchored = anchored_merit(s, ld, k);
  s->n_global = batch_global, s->tsq = batch_tsq;
}

void nn_bcd_batched_epoch(nn_bcd *s, int epoch, nn_epoch_stats *st, nn_timer *t)
{
  double res_z = 0, res_a = 0;
  for (int b = 0; b < s->batches; b++) {
    batch_select(s, b, epoch, t);
    nn_bcd_output_step(s, 1, t); /* the batch's forward pass, targets and readout */
    nn_bcd_sweep(s, st, t);
    res_z += st->residual_z * (double)s->n_global;
    res_a += st->residual_a * (double)s->n_global;
  }
  batched_readout(s, t);
  st->objective = s->merit_anchored;
  st->residual_z = res_z / (double)s->n_all;
  st->residual_a = res_a / (double)s->n_all;
}

/* ==================================== the entry ==================================== */

static void bcd_epoch(void *self, int epoch, nn_epoch_stats *st, nn_timer *t)
{
  nn_bcd *s = self;
  if (s->batches > 1)
    nn_bcd_batched_epoch(s, epoch, st, t);
  else
    nn_bcd_sweep(s, st, t);
}

/* The checkpoint's share (method.h): z, a and the output targets by sample, the penalties
 * as they have grown, the sweep count, the last re-anchored merit. */
static int bcd_state_arrays(void *self, nn_state_array *out, int max)
{
  nn_bcd *s = self;
  const int *n = s->net->n;
  int k = 0;
  char name[16];
  for (int l = 1; l < s->L && s->batches == 1; l++) { /* batches: no per-sample state outlives a batch */
    snprintf(name, sizeof name, "z%d", l);
    nn_state_partitioned(out, &k, max, name, s->z[l], n[l], s->first, s->N, s->n_global);
    snprintf(name, sizeof name, "a%d", l);
    nn_state_partitioned(out, &k, max, name, s->a[l], n[l], s->first, s->N, s->n_global);
  }
  if (s->batches == 1) nn_state_partitioned(out, &k, max, "targets", s->T, n[s->L], s->first, s->N, s->n_global);
  nn_state_replicated(out, &k, max, "beta", &s->beta, NN_STATE_DOUBLE, 1);
  nn_state_replicated(out, &k, max, "gamma", &s->gamma, NN_STATE_DOUBLE, 1);
  nn_state_replicated(out, &k, max, "sweeps", &s->sweeps, NN_STATE_INT, 1);
  nn_state_replicated(out, &k, max, "merit_anchored", &s->merit_anchored, NN_STATE_DOUBLE, 1);
  return k;
}

/* |T|^2 of this rank's targets, summed in the order targets_step sums it. */
static void bcd_state_restored(void *self)
{
  nn_bcd *s = self;
  size_t count = (size_t)s->net->n[s->L] * s->N;
  double tsq = 0;
  for (size_t e = 0; e < count; e++) tsq += (double)s->T[e] * s->T[e];
  s->tsq = tsq;
}

static double bcd_merit(void *self)
{
  return nn_bcd_merit_projected(self);
}

const nn_method_ops nn_bcd_ops = {
  .size = sizeof(nn_bcd), .init = nn_bcd_init, .epoch = bcd_epoch, .fini = nn_bcd_free,
  .state_arrays = bcd_state_arrays, .state_restored = bcd_state_restored, .merit = bcd_merit,
};

/* Measured: Fashion-MNIST 784-256-256-10 in float32 without decay peaks at sweep 8 and falls
 * to 10% by sweep 25; 1e-3 keeps it rising (83.4% at 20), but costs float64 0.3-1.3 points. */
static int bcd_validate(nn_config *cfg, char *err, size_t errlen)
{
  if (isnan(cfg->bcd_decay)) cfg->bcd_decay = cfg->float32 ? 1e-3 : 0;
  if (cfg->bcd_batches > 1) { /* an epoch is then no fixed-point map of the state Anderson mixes */
    if (cfg->anderson > 0) {
      snprintf(err, errlen, "option --anderson %d: mini-batch bcd (--bcd-batches %d) takes --anderson 0 only",
               cfg->anderson, cfg->bcd_batches);
      return 0;
    }
    cfg->anderson = 0;
  }
  if (cfg->augment > 0 && cfg->bcd_batches == 1) { /* the auxiliaries z, a belong to the inputs as stored */
    snprintf(err, errlen, "option --augment %d: bcd translates its inputs per batch only: add --bcd-batches "
             "(20 on MNIST); a full sweep keeps each sample's auxiliaries across epochs", cfg->augment);
    return 0;
  }
  return 1;
}

/* z, a per hidden layer; targets, ones; Gram, cross product, solution, P, Pinv, K; chunk
 * scratch; the block-cyclic systems (a local share plus a full staging copy each). */
static double bcd_state_bytes(const nn_config *cfg, double N)
{
  const int *n = cfg->n;
  int L = cfg->L;
  double P = nn_nranks(), r = cfg->float32 ? 4 : 8, nmax = nn_widest_layer(L, n), hidden = 0;
  for (int l = 1; l < L; l++) hidden += n[l];
  double square = (nmax + 1) * (nmax + 1) * r;
  if (cfg->bcd_batches > 1) /* one batch's z, a, targets, ones and gathered inputs; the readout's sums */
    return (2 * hidden + n[L] + 1 + n[0]) * (N / cfg->bcd_batches + 1) * r + 8 * square + 2 * nmax * CHUNK * r +
           2 * L * square * (1 + 1 / P);
  return (2 * hidden + n[L] + 1) * N * r + 6 * square + 2 * nmax * CHUNK * r + 2 * L * square * (1 + 1 / P) +
         nn_anderson_state_bytes(cfg, 2 * hidden + n[L], N); /* --anderson: z, a, targets */
}

const nn_method nn_method_bcd = {
  .name = "bcd",
  .help = "block coordinate descent on a quadratic-penalty merit, every block step an exact minimiser; not ADMM "
          "(no multipliers); it never forms the loss gradient, but its top a-step carries the output error "
          "T - f(x) back through W_L^T, damped and preconditioned (solver/bcd.c)",
  .options = "beta gamma ridge grid block bcd-prox bcd-decay bcd-reanchor bcd-growth bcd-batches augment anderson",
  .init_auto = NN_INIT_PAIRS,
  .anderson_auto = 3, /* by validation on full MNIST 784-256-256-10, 50 sweeps (bench/bench-issue15-table.sh): the
                         smallest M within one standard error of the best; README "Anderson acceleration" */
  .loss_auto = NN_LOSS_SQUARED_HINGE, /* measured best readout: see README, Methods */
  .losses = 1u << NN_LOSS_SQUARED_HINGE | 1u << NN_LOSS_LEAST_SQUARES,
  .losses_why = "fits the output by squared-hinge or least-squares",
  .validate = bcd_validate,
  .state_bytes = bcd_state_bytes,
  .phases = { "gram", "a_update", "z_update", "forward_targets" },
  .ops = &nn_bcd_ops,
};
