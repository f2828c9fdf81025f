/* dlADMM, inversion-free; see dladmm.h for the problem, L_rho and the order of the steps.
 * Legend: L layers with weights, n[l] widths, N samples on this rank (Ng over all ranks),
 * k = n[L] classes; column-major, samples as columns. c_l, t_l as in dladmm.h; the residual of
 * constraint l is E_l = t_l - W_l a_{l-1} - b_l = t_l - P_l - b_l (n[l] x N), and
 * phi_l = c_l/2 |E_l|^2 (+ a constant in u).
 *
 *   b_l:  b += sum_j E_lj / Ng. phi_l is quadratic in b with curvature c_l Ng, known exactly, so
 *         the quadratic approximation U(b; B) with B = c_l Ng (the paper's b step) is phi itself
 *         and its minimiser is exact: no backtracking needed. (The public code's reduce_mean
 *         step is the same.)
 *   W_l:  gradient -c_l D, D = sum_j E_lj a_{l-1,j}^T (n[l] x n[l-1], summed over ranks);
 *         W += (c_l / theta) D, with |g|^2 = c^2 |D|^2 and g^T H g = c^3 sum_j |D a_j|^2, and
 *         theta = g^T H g / |g|^2 (--dladmm-step exact) or by backtracking
 *         (nn_dladmm_backtrack) from c_l 2^-20 (--dladmm-step backtrack).
 *   a_l:  (u = l + 1) g = -c_u W_u^T E_u + nu (a_l - h(z_l)), per sample (no sum over ranks);
 *         a -= g / tau, with g^T H g = c_u |W_u g|^2 + nu |g|^2 summed over ranks, and tau =
 *         g^T H g / |g|^2 (exact) or by backtracking from nu (the curvature is at least nu: the
 *         start is never above it, so the accepted tau is within a factor 2 of the exact one).
 *   Both searches accept the paper's condition phi(new) <= U(new; eta); the exact eta is the
 *   smallest that meets it (with equality), the backtracking's the first power-of-2 multiple
 *   of its start that does, in [eta*, 2 eta*): a step up to 2x shorter, and a map that jumps
 *   where eta* crosses a power of 2, which Anderson acceleration extrapolates badly.
 *   z_l:  argmin |z - m|^2 + |a_l - h(z)|^2, m = P_l + b_l: closed_forms.c's ReLU step (nu
 *         cancels), both branches compared.
 *   z_L:  argmin R(z) + u.(z - m) + rho/2 |z - m|^2, m = P_L + b_L, per sample:
 *         squared hinge: per entry, the stationary point of the piece it lies in (closed form);
 *         cross-entropy: Newton's method on the k entries of each sample, Hessian
 *         diag(p) - p p^T + rho I applied through its diagonal-plus-rank-one inverse
 *         (Sherman-Morrison, O(k)), Armijo backtracking, warm-started at the previous z_L, until
 *         the Newton decrement lambda^2/2 (an estimate of f - min f for that sample) is at most
 *         NEWTON_TOL = 1e-18 (so |z - z*| <= sqrt(4e-18 / rho)), or stops falling (double
 *         rounding), or NEWTON_MAX iterations (counted: the notes report any sample at the cap).
 *   u:    u += rho (z_L - P_L - b_L).
 * A W/b step sums [D, sum_j E_j, sum_j a_j] in one MPI_Allreduce (the forward order's bias sum
 * after the W step follows from these sums by algebra: sum_j E_j - s D sum_j a_j), then one
 * scalar allreduce for its search; an a step one allreduce of two scalars. Every replicated
 * quantity (W, b, eta) is computed on every rank from the same summed values: the weights stay
 * identical on every rank. a, z and u never leave their rank.
 *
 * rho schedule: rho_{k+1} = min(rho_k * --dladmm-rho-growth, --dladmm-rho-max), starting at
 * --dladmm-rho, applied after the multiplier step; nu = rho throughout (as the authors' code,
 * which passes its one rho to every penalty) unless --dladmm-nu fixes it.
 *
 * Defaults: rho = nu = 1e-6, constant (growth 1), the authors' values. Measured (MNIST
 * 784-256-256-10, the first 10,000 training samples of which 2,000 for validation, He, 2 ranks,
 * 50 iterations; validation accuracy, forward training loss): the defaults 84.3%, 0.58;
 * growth 1.2: 83.9%, 0.51; rho 1e-4 with growth 1.1: 83.4%, 0.48; rho 1e-6 with nu 1e-5, 1e-4,
 * 1e-3, 1e-2: 84.5, 84.9, 85.9, 86.3%, 0.66-1.02. From nu = 1e-3 on the hidden layers stay
 * where they started (W_1 moves 0.3% of its norm, 0.02% at nu = 1e-2, against 2.7% and W_2
 * 10% at the defaults): a random-features network whose readout takes gradient steps, which
 * is what this method must not become. Every setting stays below the floor of the same
 * initialisation (--method random-features: 87.2%) at 50 iterations: one gradient step per
 * block and iteration is slow, which is what Anderson acceleration (issue 15) is for. With
 * --anderson 8 (anderson.h; the default since) on the same subset: validation 86.95% at 50
 * iterations, the plain run's objective in 27 iterations, still 0.35 points below the floor
 * (README, "Anderson acceleration"). Those measurements ran --dladmm-step backtrack, the only
 * search then. The exact step (the default since) on full MNIST 784-256-256-10, 50 iterations:
 * L_rho 7.81e-7 plain against the backtracking's 8.64e-7, the same validation accuracy within
 * its standard error; with --anderson 8 each reaches its own plain run's 50-iteration L_rho in
 * 24 iterations (2.1x fewer) against the backtracking's 30 (1.67x) (README, "dladmm's step
 * length").
 *
 * Where this departs from the authors' public code (dlADMM/common.py, main.py) and why:
 *  - by default (--dladmm-step exact) no search: eta is the smallest the paper's condition
 *    admits, a closed form because phi is quadratic along g (see the steps above);
 *  - --dladmm-step backtrack starts at nu (a) and c 2^-20 (W) at every step, not at tau = theta = 1: the
 *    gradients scale with rho = 1e-6, so a start at 1 is already 10^6 above the curvature and
 *    is accepted at once with a step 10^6 too short: the hidden layers barely move (the team's
 *    measurement of the public code: it behaves like its random-features floor). Since phi is
 *    quadratic in each block, phi(x - g/eta) is evaluated exactly from two summed scalars, so
 *    each trial is free and every rank decides alike;
 *  - the rho schedule is a fixed geometric growth, not "x10 (at most 0.1) after the training
 *    loss rose 3 iterations running": the latter needs a forward pass of the training set each
 *    iteration and reacts to noise; the growth is a documented function of the iteration;
 *  - initialisation is --init (auto: He) with the auxiliaries at the forward pass, u = 0; the
 *    code draws every layer N(0, 0.01) from one seed and starts z_L at the +-1 labels (which
 *    only warm-starts the first exact z_L step);
 *  - the output step for cross-entropy is Newton's method to NEWTON_TOL per sample, not FISTA
 *    with a fixed step and a 1e-3 tolerance on the summed objective: the problem's condition
 *    number is ~1/(2 rho), 5e5 at rho = 1e-6, which FISTA cannot resolve in 500 iterations.
 * As in that code, the backward pass ends and the forward pass starts with W_1, so W_1 takes
 * two steps in a row.
 * Accuracy is never taken from the auxiliaries: the driver measures the true forward pass. */
#include "dladmm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/check.h"
#include "closed_forms.h"
#include "../common/util.h"

/* The phases this method times in its own slots (timer.h), named in its entry below:
 * PH_PRODUCTS is the products P_l at a sweep's start and the Lagrangian at its end. */
static const enum nn_phase PH_WB = PH_STEP1;
static const enum nn_phase PH_A_UPDATE = PH_STEP2;
static const enum nn_phase PH_Z_UPDATE = PH_STEP3;
static const enum nn_phase PH_PRODUCTS = PH_STEP4;

enum { NEWTON_MAX = 100, SEARCH_MAX = 200 };
static const double NEWTON_TOL = 1e-18;  /* lambda^2/2 at which a sample's solve stops */
static const double NEWTON_FULL = 1e-8;  /* below this lambda^2/2, full Newton steps */
static const double W_START = 0x1p-20; /* W's search starts at c_l times this */

/* ==================================== the state ==================================== */

void nn_dladmm_init(void *self, const nn_config *cfg, void *model, const void *shard, const nn_grid *g)
{
  (void)g; /* no ScaLAPACK: nothing is factored */
  nn_dladmm *s = self;
  nn_model *net = model;
  const nn_shard *train = shard;
  CHECK(net->bias, "internal: --method dladmm needs a model with biases");
  memset(s, 0, sizeof *s);
  s->cfg = cfg;
  s->net = net;
  s->L = net->L;
  s->N = train->n;
  s->n_global = train->n_global;
  s->first = train->first;
  s->label = train->label;
  s->ce = cfg->loss == NN_LOSS_CROSS_ENTROPY;
  s->rho = cfg->dladmm_rho;
  s->nu = isnan(cfg->dladmm_nu) ? s->rho : cfg->dladmm_nu;
  const int *n = net->n;
  int L = s->L;
  size_t nmax = (size_t)nn_widest_layer(L, n), N = (size_t)s->N;
  s->a[0] = nn_shard_reals(train);
  for (int l = 1; l <= L; l++) {
    s->z[l] = nn_alloc((size_t)n[l] * N, sizeof(real), "z");
    s->P[l] = nn_alloc((size_t)n[l] * N, sizeof(real), "W a products");
    if (l < L) s->a[l] = nn_alloc((size_t)n[l] * N, sizeof(real), "a");
  }
  s->u = nn_alloc((size_t)n[L] * N, sizeof(real), "multiplier");
  s->S1 = nn_alloc(nmax * N, sizeof(real), "scratch");
  s->S2 = nn_alloc(nmax * N, sizeof(real), "scratch");
  s->red = nn_alloc(nmax * nmax + 2 * nmax, sizeof(real), "weight-step sums");
  s->db = nn_alloc(nmax, sizeof(real), "bias change");
  s->ones = nn_alloc(N, sizeof(real), "ones");
  for (size_t j = 0; j < N; j++) s->ones[j] = 1;
  s->col = nn_alloc(6 * (size_t)n[L], sizeof(double), "output solve");
  /* The auxiliaries start at the forward pass of the initial weights (--init decides where
   * the method starts), the multiplier at zero. */
  for (int l = 1; l <= L; l++) {
    nn_affine(net->W[l], net->b[l], n[l], n[l - 1], s->a[l - 1], s->N, s->z[l]);
    if (l < L) nn_relu(s->a[l], s->z[l], (size_t)n[l] * N);
  }
}

void nn_dladmm_free(void *self)
{
  nn_dladmm *s = self;
  for (int l = 1; l <= s->L; l++) {
    free(s->z[l]);
    free(s->P[l]);
    if (l < s->L) free(s->a[l]);
  }
  free(s->u); free(s->S1); free(s->S2); free(s->red); free(s->db); free(s->ones); free(s->col);
}

/* ==================================== helpers ==================================== */

static double sum_sq(const real *x, size_t count)
{
  double q = 0;
  nn_count_stream((double)sizeof(real) * count);
#pragma omp simd reduction(+ : q)
  for (size_t e = 0; e < count; e++) q += (double)x[e] * x[e];
  return q;
}

/* Sums count doubles over ranks, timed as communication; then phase `back` resumes. */
static void allsum(double *v, int count, nn_timer *t, enum nn_phase back)
{
  nn_timer_stop(t);
  nn_timer_start(t, PH_COMM_REDUCE);
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, v, count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
  nn_timer_stop(t);
  nn_timer_start(t, back);
}

/* E = t_l - P_l - b_l (n[l] x N): t_l = z_l, or z_L + u / rho at the output. */
static void residual(const nn_dladmm *s, int l, real *E)
{
  int nl = s->net->n[l];
  const real *z = s->z[l], *P = s->P[l], *b = s->net->b[l];
  size_t count = (size_t)nl * s->N;
  nn_count_stream(4.0 * sizeof(real) * count);
  for (long j = 0; j < s->N; j++) {
    size_t o = (size_t)j * nl;
    for (int i = 0; i < nl; i++) E[o + i] = z[o + i] - P[o + i] - b[i];
  }
  if (l == s->L) {
    const real inv = (real)(1.0 / s->rho);
    nn_count_stream(3.0 * sizeof(real) * count); /* E, u in, E out */
    for (size_t e = 0; e < count; e++) E[e] += inv * s->u[e];
  }
}

double nn_dladmm_backtrack(double start, double g2, double gHg, nn_dladmm_search *out)
{
  double eta = start;
  int trials = 1;
  for (; trials < SEARCH_MAX; trials++, eta *= 2) {
    double phi = -g2 / eta + gHg / (2 * eta * eta); /* phi(x - g/eta) - phi(x) */
    double Q = -g2 / (2 * eta);                     /* Q(x - g/eta; eta) - phi(x) */
    if (phi <= Q) break;
  }
  if (out) *out = (nn_dladmm_search){ .start = start, .eta = eta, .g2 = g2, .gHg = gHg, .trials = trials };
  return eta;
}

double nn_dladmm_exact_step(double g2, double gHg, nn_dladmm_search *out)
{
  double eta = gHg / g2;
  if (out) *out = (nn_dladmm_search){ .start = eta, .eta = eta, .g2 = g2, .gHg = gHg, .trials = 1, .exact = 1 };
  return eta;
}

/* The W and a steps' eta, by --dladmm-step; start: the backtracking's first trial. */
static double step_eta(nn_dladmm *s, double start, double g2, double gHg)
{
  if (s->cfg->dladmm_step == NN_DLADMM_STEP_EXACT) return nn_dladmm_exact_step(g2, gHg, &s->last);
  return nn_dladmm_backtrack(start, g2, gHg, &s->last);
}

/* ==================================== the steps ==================================== */

void nn_dladmm_products(nn_dladmm *s)
{
  const int *n = s->net->n;
  for (int l = 1; l <= s->L; l++) nn_affine(s->net->W[l], NULL, n[l], n[l - 1], s->a[l - 1], s->N, s->P[l]);
}

void nn_dladmm_weight_step(nn_dladmm *s, int l, int bias_first, nn_timer *t)
{
  const int *n = s->net->n;
  int out = n[l], in = n[l - 1], N = (int)s->N;
  const real *a = s->a[l - 1];
  real *W = s->net->W[l], *b = s->net->b[l], *E = s->S1, *Da = s->S2;
  real *D = s->red, *er = D + (size_t)out * in, *sa = er + out;
  double c = l == s->L ? s->rho : s->nu, Ng = (double)s->n_global;
  nn_timer_start(t, PH_WB);
  residual(s, l, E);
  cblas_gemm(CblasColMajor, CblasNoTrans, CblasTrans, out, in, N, 1, E, out, a, in, 0, D, out);
  cblas_gemv(CblasColMajor, CblasNoTrans, out, N, 1, E, out, s->ones, 1, 0, er, 1);
  cblas_gemv(CblasColMajor, CblasNoTrans, in, N, 1, a, in, s->ones, 1, 0, sa, 1);
  nn_timer_stop(t);
  nn_timer_start(t, PH_COMM_REDUCE);
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, D, out * in + out + in, MPI_REAL_T, MPI_SUM, MPI_COMM_WORLD));
  nn_timer_stop(t);
  nn_timer_start(t, PH_WB);
  if (bias_first) {
    /* b exact, then the sums of the residual with the new b: D - db sa^T */
    for (int i = 0; i < out; i++) {
      s->db[i] = (real)(er[i] / Ng);
      b[i] += s->db[i];
    }
    cblas_ger(CblasColMajor, out, in, -1, s->db, 1, sa, 1, D, out);
  }
  /* W: the search needs sum_j |D a_j|^2 */
  cblas_gemm(CblasColMajor, CblasNoTrans, CblasNoTrans, out, N, in, 1, D, out, a, in, 0, Da, out);
  double q[1] = { sum_sq(Da, (size_t)out * s->N) };
  allsum(q, 1, t, PH_WB);
  double d2 = sum_sq(D, (size_t)out * in);
  if (d2 > 0 && q[0] > 0) {
    double eta = step_eta(s, c * W_START, c * c * d2, c * c * c * q[0]);
    real step = (real)(c / eta);
    /* the axpys are memory-bound: 3 arrays each (x, y in, y out), beside their 2n flops */
    nn_count_stream(3.0 * sizeof(real) * out * in);
    nn_count_stream(3.0 * sizeof(real) * out * N);
    cblas_axpy(out * in, step, D, 1, W, 1);
    cblas_axpy(out * N, step, Da, 1, s->P[l], 1);
    if (!bias_first) {
      /* b exact against the new W: sum_j E_j becomes er - step D sa */
      cblas_gemv(CblasColMajor, CblasNoTrans, out, in, -step, D, out, sa, 1, 1, er, 1);
    }
  }
  if (!bias_first)
    for (int i = 0; i < out; i++) b[i] += (real)(er[i] / Ng);
  nn_timer_stop(t);
}

void nn_dladmm_activation_step(nn_dladmm *s, int l, nn_timer *t)
{
  const int *n = s->net->n;
  int u = l + 1, nl = n[l], nu_ = n[u], N = (int)s->N;
  const real *W = s->net->W[u], *z = s->z[l];
  real *a = s->a[l], *E = s->S1, *g = s->S2;
  double c = u == s->L ? s->rho : s->nu;
  size_t count = (size_t)nl * s->N;
  nn_timer_start(t, PH_A_UPDATE);
  residual(s, u, E);
  const real nu = (real)s->nu, zero = 0;
  nn_count_stream(3.0 * sizeof(real) * count);
#pragma omp simd
  for (size_t e = 0; e < count; e++) g[e] = nu * (a[e] - (z[e] > zero ? z[e] : zero));
  cblas_gemm(CblasColMajor, CblasTrans, CblasNoTrans, nl, N, nu_, -c, W, nu_, E, nu_, 1, g, nl);
  cblas_gemm(CblasColMajor, CblasNoTrans, CblasNoTrans, nu_, N, nl, 1, W, nu_, g, nl, 0, E, nu_); /* W g */
  double q[2] = { sum_sq(g, count), sum_sq(E, (size_t)nu_ * s->N) };
  allsum(q, 2, t, PH_A_UPDATE);
  if (q[0] > 0) {
    double tau = step_eta(s, s->nu, q[0], c * q[1] + s->nu * q[0]);
    real step = (real)(-1.0 / tau);
    nn_count_stream(3.0 * sizeof(real) * nl * N); /* memory-bound axpys, as in the weight step */
    nn_count_stream(3.0 * sizeof(real) * nu_ * N);
    cblas_axpy(nl * N, step, g, 1, a, 1);
    cblas_axpy(nu_ * N, step, E, 1, s->P[u], 1);
  }
  nn_timer_stop(t);
}

void nn_dladmm_z_step(nn_dladmm *s, int l, nn_timer *t)
{
  int nl = s->net->n[l];
  const real *P = s->P[l], *b = s->net->b[l];
  real *m = s->S1;
  nn_timer_start(t, PH_Z_UPDATE);
  nn_count_stream(3.0 * sizeof(real) * nl * s->N);
  for (long j = 0; j < s->N; j++)
    for (int i = 0; i < nl; i++) m[(size_t)j * nl + i] = P[(size_t)j * nl + i] + b[i];
  double ra;
  nn_relu_z_update(s->z[l], s->a[l], m, (long)nl * s->N, 1, 1, &ra);
  nn_timer_stop(t);
}

double nn_dladmm_output_objective(const double *z, const double *u, const double *m, int k, int y, double rho,
                                  int ce)
{
  double f = 0;
  if (ce) {
    double zmax = z[0], e = 0;
    for (int i = 1; i < k; i++) zmax = fmax(zmax, z[i]);
    for (int i = 0; i < k; i++) e += exp(z[i] - zmax);
    f = log(e) + zmax - z[y];
  } else {
    for (int i = 0; i < k; i++) {
      double d = i == y ? fmax(1 - z[i], 0) : fmax(z[i], 0);
      f += 0.5 * d * d;
    }
  }
  for (int i = 0; i < k; i++) f += u[i] * (z[i] - m[i]) + 0.5 * rho * (z[i] - m[i]) * (z[i] - m[i]);
  return f;
}

/* Cross-entropy: Newton's method for one sample (dladmm.c's legend). z: the start on entry,
 * the minimiser on return; w: 3 k doubles. Returns the iterations, *dec the last decrement. */
static int ce_newton(double *z, const double *u, const double *m, int k, int y, double rho, double *w, double *dec)
{
  double *grad = w, *d = w + k, *trial = w + 2 * k;
  double f = nn_dladmm_output_objective(z, u, m, k, y, rho, 1), prev = INFINITY;
  int it = 0;
  *dec = INFINITY;
  for (; it < NEWTON_MAX; it++, prev = *dec) {
    double zmax = z[0], S = 0;
    for (int i = 1; i < k; i++) zmax = fmax(zmax, z[i]);
    for (int i = 0; i < k; i++) S += exp(z[i] - zmax);
    /* grad = p - e_y + u + rho (z - m); H = D - p p^T, D = diag(p + rho):
     * H^-1 grad = D^-1 grad + D^-1 p (p^T D^-1 grad) / (1 - p^T D^-1 p), and
     * 1 - p^T D^-1 p = sum_i p_i rho / (p_i + rho) > 0 (summed so: no cancellation) */
    double pv = 0, den = 0;
    for (int i = 0; i < k; i++) {
      double p = exp(z[i] - zmax) / S;
      grad[i] = p - (i == y) + u[i] + rho * (z[i] - m[i]);
      d[i] = p; /* kept for the second loop */
      pv += p * grad[i] / (p + rho);
      den += p * rho / (p + rho);
    }
    double lam2 = 0;
    for (int i = 0; i < k; i++) {
      double p = d[i];
      d[i] = -(grad[i] + p * pv / den) / (p + rho);
      lam2 -= grad[i] * d[i];
    }
    *dec = 0.5 * lam2;
    if (*dec <= NEWTON_TOL) break;
    if (*dec < NEWTON_FULL) {
      /* Newton's quadratic region: the full step, which f's rounding (~1e-16 |f|) could no
       * longer confirm by its value; stop where the decrement stops falling (rounding) */
      if (*dec >= prev) break;
      for (int i = 0; i < k; i++) z[i] += d[i];
      f = nn_dladmm_output_objective(z, u, m, k, y, rho, 1);
      continue;
    }
    /* Armijo backtracking on the Newton step */
    double step = 1, ft = f;
    for (int h = 0; h < 60; h++, step *= 0.5) {
      for (int i = 0; i < k; i++) trial[i] = z[i] + step * d[i];
      ft = nn_dladmm_output_objective(trial, u, m, k, y, rho, 1);
      if (ft <= f - 0.25 * step * lam2) break;
    }
    if (!(ft < f)) break; /* no decrease left at this precision */
    memcpy(z, trial, sizeof(double) * k);
    f = ft;
  }
  return it;
}

/* Squared hinge, one entry: argmin hinge(z)^2/2 + u z + rho/2 (z - m)^2 with the hinge's knot
 * at 1 (the class: loss below it) or 0 (another class: loss above it). The objective is convex
 * and piecewise quadratic; the stationary point of the flat piece, z = m - u/rho, is the answer
 * when it lies on that piece, else the stationary point of the other piece. */
static double hinge_z(int cls, double u, double m, double rho)
{
  double flat = m - u / rho;
  if (cls) return flat >= 1 ? flat : (1 - u + rho * m) / (1 + rho);
  return flat <= 0 ? flat : (rho * m - u) / (1 + rho);
}

void nn_dladmm_output_step(nn_dladmm *s, nn_timer *t)
{
  int L = s->L, k = s->net->n[L];
  const real *P = s->P[L], *b = s->net->b[L];
  real *z = s->z[L];
  double *zc = s->col, *uc = zc + k, *mc = uc + k, *w = mc + k;
  nn_timer_start(t, PH_Z_UPDATE);
  s->newton_dec = 0;
  s->newton_iters = 0;
  s->newton_capped = 0;
  for (long j = 0; j < s->N; j++) {
    size_t o = (size_t)j * k;
    if (!s->ce) {
      for (int i = 0; i < k; i++)
        z[o + i] = (real)hinge_z(i == s->label[j], s->u[o + i], (double)P[o + i] + b[i], s->rho);
      continue;
    }
    for (int i = 0; i < k; i++) {
      zc[i] = z[o + i];
      uc[i] = s->u[o + i];
      mc[i] = (double)P[o + i] + b[i];
    }
    double dec;
    int it = ce_newton(zc, uc, mc, k, s->label[j], s->rho, w, &dec);
    for (int i = 0; i < k; i++) z[o + i] = (real)zc[i];
    if (dec > s->newton_dec) s->newton_dec = dec;
    if (it > s->newton_iters) s->newton_iters = it;
    s->newton_capped += it >= NEWTON_MAX;
  }
  s->newton_capped_total += s->newton_capped;
  nn_count_stream(4.0 * sizeof(real) * k * s->N);
  nn_timer_stop(t);
}

void nn_dladmm_multiplier_step(nn_dladmm *s)
{
  int L = s->L, k = s->net->n[L];
  const real *z = s->z[L], *P = s->P[L], *b = s->net->b[L];
  const real rho = (real)s->rho;
  nn_count_stream(4.0 * sizeof(real) * k * s->N);
  for (long j = 0; j < s->N; j++)
    for (int i = 0; i < k; i++) {
      size_t e = (size_t)j * k + i;
      s->u[e] += rho * (z[e] - P[e] - b[i]);
    }
}

/* The terms of L_rho over all ranks, from the current P: v[0] hidden |r|^2, v[1] hidden
 * |a - h(z)|^2, v[2] R, v[3] u.r_L, v[4] |r_L|^2, v[5] |u|^2. */
static void lagrangian_terms(nn_dladmm *s, double v[6])
{
  const int *n = s->net->n;
  int L = s->L, k = n[L];
  memset(v, 0, 6 * sizeof *v);
  for (int l = 1; l <= L; l++) {
    const real *z = s->z[l], *P = s->P[l], *b = s->net->b[l];
    nn_count_stream(3.0 * sizeof(real) * n[l] * s->N);
    for (long j = 0; j < s->N; j++) {
      size_t o = (size_t)j * n[l];
      double rr = 0, ra = 0, ur = 0;
      for (int i = 0; i < n[l]; i++) {
        double r = (double)z[o + i] - P[o + i] - b[i];
        rr += r * r;
        if (l < L) {
          double h = z[o + i] > 0 ? z[o + i] : 0, d = s->a[l][o + i] - h;
          ra += d * d;
        } else
          ur += s->u[o + i] * r;
      }
      if (l < L) {
        v[0] += rr;
        v[1] += ra;
      } else {
        double *zc = s->col, *zero = zc + k;
        for (int i = 0; i < k; i++) {
          zc[i] = z[o + i];
          zero[i] = 0;
        }
        v[2] += nn_dladmm_output_objective(zc, zero, zero, k, s->label[j], 0, s->ce);
        v[3] += ur;
        v[4] += rr;
      }
    }
  }
  v[5] = sum_sq(s->u, (size_t)k * s->N);
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, v, 6, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
}

double nn_dladmm_lagrangian(nn_dladmm *s, nn_epoch_stats *st)
{
  double v[6];
  lagrangian_terms(s, v);
  double Ng = (double)s->n_global;
  double f = v[2] + v[3] + 0.5 * s->rho * v[4] + 0.5 * s->nu * (v[0] + v[1]);
  if (st) {
    st->objective = f / Ng;
    st->residual_z = (v[0] + v[4]) / Ng;
    st->residual_a = v[1] / Ng;
    st->multiplier = v[5] / Ng;
  }
  return f / Ng;
}

void nn_dladmm_sweep(nn_dladmm *s, nn_epoch_stats *st, nn_timer *t)
{
  int L = s->L;
  nn_timer_start(t, PH_PRODUCTS);
  nn_dladmm_products(s);
  nn_timer_stop(t);
  /* backward */
  nn_dladmm_output_step(s, t);
  nn_dladmm_weight_step(s, L, 1, t);
  nn_dladmm_activation_step(s, L - 1, t);
  for (int l = L - 1; l >= 1; l--) {
    nn_dladmm_z_step(s, l, t);
    nn_dladmm_weight_step(s, l, 1, t);
    if (l > 1) nn_dladmm_activation_step(s, l - 1, t);
  }
  /* forward */
  for (int l = 1; l < L; l++) {
    nn_dladmm_weight_step(s, l, 0, t);
    nn_dladmm_z_step(s, l, t);
    nn_dladmm_activation_step(s, l, t);
  }
  nn_dladmm_weight_step(s, L, 0, t);
  nn_dladmm_output_step(s, t);
  nn_timer_start(t, PH_Z_UPDATE);
  nn_dladmm_multiplier_step(s);
  nn_timer_stop(t);
  nn_timer_start(t, PH_PRODUCTS);
  nn_dladmm_lagrangian(s, st);
  nn_timer_stop(t);
  s->iter++;
  CHECK_ALL_RANKS(isfinite(st->objective), "dlADMM iterates became NaN or Inf (augmented Lagrangian %g): lower "
                  "--dladmm-rho-max or raise --dladmm-rho", st->objective);
  s->rho = fmin(s->rho * s->cfg->dladmm_rho_growth, s->cfg->dladmm_rho_max);
  if (isnan(s->cfg->dladmm_nu)) s->nu = s->rho;
}

/* ==================================== the entry ==================================== */

static void dladmm_epoch(void *self, int epoch, nn_epoch_stats *st, nn_timer *t)
{
  (void)epoch;
  nn_dladmm_sweep(self, st, t);
}

/* Samples whose Newton solve reached its iteration cap (none expected). */
static void dladmm_notes(void *self, int final, char *out, size_t len)
{
  nn_dladmm *s = self;
  out[0] = 0;
  if (!final) return;
  double capped = (double)s->newton_capped_total;
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &capped, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
  if (capped > 0)
    snprintf(out, len, "dladmm: %.0f output solves stopped at %d Newton iterations before the tolerance\n", capped,
             NEWTON_MAX);
}

/* The checkpoint's share (method.h): z, a and u by sample, rho, nu and the iteration count.
 * P is recomputed at every sweep's start. */
static int dladmm_state_arrays(void *self, nn_state_array *out, int max)
{
  nn_dladmm *s = self;
  const int *n = s->net->n;
  int k = 0;
  char name[16];
  for (int l = 1; l <= s->L; l++) {
    snprintf(name, sizeof name, "z%d", l);
    nn_state_partitioned(out, &k, max, name, s->z[l], n[l], s->first, s->N, s->n_global);
    if (l == s->L) continue;
    snprintf(name, sizeof name, "a%d", l);
    nn_state_partitioned(out, &k, max, name, s->a[l], n[l], s->first, s->N, s->n_global);
  }
  nn_state_partitioned(out, &k, max, "u", s->u, n[s->L], s->first, s->N, s->n_global);
  nn_state_replicated(out, &k, max, "rho", &s->rho, NN_STATE_DOUBLE, 1);
  nn_state_replicated(out, &k, max, "nu", &s->nu, NN_STATE_DOUBLE, 1);
  nn_state_replicated(out, &k, max, "iter", &s->iter, NN_STATE_INT, 1);
  return k;
}

double nn_dladmm_merit(nn_dladmm *s)
{
  double v[6];
  nn_dladmm_products(s); /* the state may have been written since the last sweep (--anderson) */
  lagrangian_terms(s, v);
  return (v[2] + 0.5 * s->rho * v[4] + 0.5 * s->nu * (v[0] + v[1])) / (double)s->n_global;
}

static double dladmm_merit(void *self)
{
  return nn_dladmm_merit(self);
}

const nn_method_ops nn_dladmm_ops = {
  .size = sizeof(nn_dladmm), .init = nn_dladmm_init, .epoch = dladmm_epoch, .fini = nn_dladmm_free,
  .notes = dladmm_notes, .state_arrays = dladmm_state_arrays, .merit = dladmm_merit,
};

static int dladmm_validate(nn_config *cfg, char *err, size_t errlen)
{
  if (cfg->dladmm_rho_max < cfg->dladmm_rho) {
    snprintf(err, errlen, "option --dladmm-rho-max %g: below --dladmm-rho %g", cfg->dladmm_rho_max, cfg->dladmm_rho);
    return 0;
  }
  return 1;
}

/* z and P per layer, a per hidden layer and u (n[L]): 3 n[l] per sample per layer; two
 * nmax x N scratch blocks, ones; the sums. */
static double dladmm_state_bytes(const nn_config *cfg, double N)
{
  const int *n = cfg->n;
  int L = cfg->L;
  double r = cfg->float32 ? 4 : 8, nmax = nn_widest_layer(L, n), per_sample = 0;
  for (int l = 1; l <= L; l++) per_sample += 3.0 * n[l];
  double hist = 0; /* --anderson: z_l and a_l (l < L), z_L and u per sample */
  for (int l = 1; l <= L; l++) hist += 2.0 * n[l];
  return (per_sample + 2 * nmax + 1) * N * r + (nmax * nmax + 3 * nmax) * r + nn_anderson_state_bytes(cfg, hist, N);
}

const nn_method nn_method_dladmm = {
  .name = "dladmm",
  .help = "dlADMM (Wang et al., KDD 2019): ADMM with biases, layers updated backward then forward, W, b and a by "
          "one step of a quadratic approximation, its length by --dladmm-step (nothing factored or inverted), exact z steps, "
          "one multiplier on the output constraint (solver/dladmm.c)",
  .options = "dladmm-rho dladmm-nu dladmm-rho-growth dladmm-rho-max dladmm-step anderson",
  .init_auto = NN_INIT_HE,
  .anderson_auto = 8, /* by validation: bench/bench-anderson.sh, README "Anderson acceleration" */
  .loss_auto = NN_LOSS_CROSS_ENTROPY, /* the paper's */
  .losses = 1u << NN_LOSS_CROSS_ENTROPY | 1u << NN_LOSS_SQUARED_HINGE,
  .losses_why = "has output steps for cross-entropy and squared-hinge only",
  .validate = dladmm_validate,
  .state_bytes = dladmm_state_bytes,
  .phases = { "wb_step", "a_update", "z_update", "products" },
  .ops = &nn_dladmm_ops,
};
