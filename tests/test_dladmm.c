/* Tests of --method dladmm (solver/dladmm.c) on a small synthetic problem (13-17-11-3, 301
 * samples), at whatever rank count mpiexec gives, every reference a plain loop over samples:
 *   - the backtracking helper and the exact step on numbers worked out by hand;
 *   - every step of two full iterations (both orders, both losses, both --dladmm-step), in the
 *     sweep's order:
 *       b and W: the bias is the exact minimiser of phi_l (its closed form), each of the two
 *         moves lowers phi_l, the W step is -grad/eta with eta accepted by the sufficient-
 *         decrease condition phi(new) <= P(new; eta) and, when the search doubled or the step
 *         is exact, eta/2 failing it; an exact step meets it with equality, which only the
 *         smallest admitted eta does (all evaluated directly, not through the method's identity);
 *       a: the same for phi_a, with its own gradient;
 *       hidden z: no entry beaten by a brute-force grid search of its 1-D objective;
 *       z_L: cross-entropy against a plain gradient descent run to convergence per sample, and
 *         stationarity at rho = 1e-4; squared hinge against a grid search per entry;
 *       u: u_old + rho (z_L - W_L a_{L-1} - b_L);
 *     and after each, the products P_l against W_l a_{l-1};
 *   - the augmented Lagrangian: the method's figure against a plain-loop one, and never rising
 *     over 12 iterations at rho = nu = 2 (both losses), falling overall.
 * Modes: `test_dladmm` runs the checks; `test_dladmm dump FILE` writes the weights after 5
 * iterations (rank 0); `test_dladmm cmp A B TOL` compares two dumps (dladmm.cmake: 1 vs 2
 * ranks). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../io/dataset.h"
#include "../solver/dladmm.h"
#include "../common/check.h"
#include "../solver/scalapack.h"
#include "testing.h"

#ifdef NN_FLOAT32
#define TOL 2e-4
#else
#define TOL 1e-9
#endif

static const int WIDTHS[4] = { 13, 17, 11, 3 };

static void make_config(nn_config *cfg, enum nn_loss loss, double rho, double nu)
{
  memset(cfg, 0, sizeof *cfg);
  snprintf(cfg->method, sizeof cfg->method, "dladmm");
  snprintf(cfg->data, sizeof cfg->data, "synthetic");
  cfg->normalize = NN_NORMALIZE_NONE;
  cfg->L = 3;
  for (int l = 0; l <= 3; l++) cfg->n[l] = WIDTHS[l];
  cfg->n_train = 301;
  cfg->n_test = 16;
  cfg->seed = 5;
  cfg->init = NN_INIT_HE;
  cfg->biases = 1;
  cfg->loss = loss;
  cfg->dladmm_rho = rho;
  cfg->dladmm_nu = nu;
  cfg->dladmm_rho_growth = 1;
  cfg->dladmm_rho_max = 1e6;
  cfg->float32 = sizeof(real) == sizeof(float);
}

static int me_rank(void)
{
  int r;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

static double relu(double v) { return v > 0 ? v : 0; }

static double allsum(double v)
{
  MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  return v;
}

static double allmax(double v)
{
  MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return v;
}

/* ------------------------------------------------------------ plain-loop references */

/* The target t_l of constraint l at sample j, entry i: z_l, or z_L + u/rho. */
static double target(const nn_dladmm *s, int l, long j, int i)
{
  int nl = s->net->n[l];
  double t = s->z[l][i + (size_t)j * nl];
  if (l == s->L) t += s->u[i + (size_t)j * nl] / s->rho;
  return t;
}

static double penalty(const nn_dladmm *s, int l) { return l == s->L ? s->rho : s->nu; }

/* W a_j + b (entry i) for weights W (n[l] x n[l-1]) and b, input a (n[l-1] x N). */
static double affine(const nn_dladmm *s, int l, const double *W, const double *b, const real *a, long j, int i)
{
  int in = s->net->n[l - 1], out = s->net->n[l];
  double v = b[i];
  for (int q = 0; q < in; q++) v += W[i + (size_t)q * out] * a[q + (size_t)j * in];
  return v;
}

/* phi_l(W, b) = c/2 sum_j |t_j - W a_j - b|^2 over all ranks, a = a_{l-1} */
static double phi_w(const nn_dladmm *s, int l, const double *W, const double *b)
{
  double f = 0;
  for (long j = 0; j < s->N; j++)
    for (int i = 0; i < s->net->n[l]; i++) {
      double r = target(s, l, j, i) - affine(s, l, W, b, s->a[l - 1], j, i);
      f += r * r;
    }
  return 0.5 * penalty(s, l) * allsum(f);
}

/* its gradient in W: -c sum_j (t_j - W a_j - b) a_j^T, over all ranks */
static void grad_w(const nn_dladmm *s, int l, const double *W, const double *b, double *G)
{
  int in = s->net->n[l - 1], out = s->net->n[l];
  memset(G, 0, sizeof(double) * out * in);
  for (long j = 0; j < s->N; j++)
    for (int i = 0; i < out; i++) {
      double r = target(s, l, j, i) - affine(s, l, W, b, s->a[l - 1], j, i);
      for (int q = 0; q < in; q++) G[i + (size_t)q * out] -= penalty(s, l) * r * s->a[l - 1][q + (size_t)j * in];
    }
  MPI_Allreduce(MPI_IN_PLACE, G, out * in, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

/* phi_a(A) = c_u/2 |t_u - W_u A - b_u|^2 + nu/2 |A - h(z_l)|^2 for activations A (n[l] x N,
 * doubles), over all ranks */
static double phi_a(const nn_dladmm *s, int l, const double *A)
{
  int u = l + 1, nl = s->net->n[l], nu_ = s->net->n[u];
  const real *W = s->net->W[u], *b = s->net->b[u];
  double f = 0, g = 0;
  for (long j = 0; j < s->N; j++) {
    for (int i = 0; i < nu_; i++) {
      double v = b[i];
      for (int q = 0; q < nl; q++) v += (double)W[i + (size_t)q * nu_] * A[q + (size_t)j * nl];
      double r = target(s, u, j, i) - v;
      f += r * r;
    }
    for (int q = 0; q < nl; q++) {
      double d = A[q + (size_t)j * nl] - relu(s->z[l][q + (size_t)j * nl]);
      g += d * d;
    }
  }
  return allsum(0.5 * penalty(s, u) * f + 0.5 * s->nu * g);
}

static void grad_a(const nn_dladmm *s, int l, const double *A, double *G)
{
  int u = l + 1, nl = s->net->n[l], nu_ = s->net->n[u];
  const real *W = s->net->W[u], *b = s->net->b[u];
  for (long j = 0; j < s->N; j++) {
    double r[64];
    for (int i = 0; i < nu_; i++) {
      double v = b[i];
      for (int q = 0; q < nl; q++) v += (double)W[i + (size_t)q * nu_] * A[q + (size_t)j * nl];
      r[i] = target(s, u, j, i) - v;
    }
    for (int q = 0; q < nl; q++) {
      double g = s->nu * (A[q + (size_t)j * nl] - relu(s->z[l][q + (size_t)j * nl]));
      for (int i = 0; i < nu_; i++) g -= penalty(s, u) * W[i + (size_t)q * nu_] * r[i];
      G[q + (size_t)j * nl] = g;
    }
  }
}

/* The augmented Lagrangian of dladmm.h by plain loops, per sample. */
static double lagrangian(const nn_dladmm *s)
{
  const nn_model *net = s->net;
  int L = s->L, k = net->n[L];
  double f = 0;
  for (int l = 1; l <= L; l++)
    for (long j = 0; j < s->N; j++) {
      double rr = 0, ur = 0, ra = 0;
      for (int i = 0; i < net->n[l]; i++) {
        double v = net->b[l][i];
        for (int q = 0; q < net->n[l - 1]; q++)
          v += (double)net->W[l][i + (size_t)q * net->n[l]] * s->a[l - 1][q + (size_t)j * net->n[l - 1]];
        double z = s->z[l][i + (size_t)j * net->n[l]], r = z - v;
        rr += r * r;
        if (l == L) ur += s->u[i + (size_t)j * k] * r;
        else {
          double d = s->a[l][i + (size_t)j * net->n[l]] - relu(z);
          ra += d * d;
        }
      }
      if (l < L) f += 0.5 * s->nu * (rr + ra);
      else {
        const real *z = s->z[L] + (size_t)j * k;
        int y = s->label[j];
        double R = 0;
        if (s->ce) {
          double zmax = z[0], e = 0;
          for (int i = 1; i < k; i++) zmax = fmax(zmax, z[i]);
          for (int i = 0; i < k; i++) e += exp(z[i] - zmax);
          R = log(e) + zmax - z[y];
        } else
          for (int i = 0; i < k; i++) {
            double d = i == y ? fmax(1 - z[i], 0) : fmax(z[i], 0);
            R += 0.5 * d * d;
          }
        f += R + ur + 0.5 * s->rho * rr;
      }
    }
  return allsum(f) / (double)s->n_global;
}

static void copy_layer(const nn_dladmm *s, int l, double *W, double *b)
{
  int count = s->net->n[l] * s->net->n[l - 1];
  for (int e = 0; e < count; e++) W[e] = s->net->W[l][e];
  for (int i = 0; i < s->net->n[l]; i++) b[i] = s->net->b[l][i];
}

/* max |P_l - W_l a_{l-1}| over every layer, relative to max(1, max |P|) */
static double products_error(const nn_dladmm *s)
{
  double worst = 0;
  for (int l = 1; l <= s->L; l++) {
    int out = s->net->n[l], in = s->net->n[l - 1];
    for (long j = 0; j < s->N; j++)
      for (int i = 0; i < out; i++) {
        double v = 0;
        for (int q = 0; q < in; q++) v += (double)s->net->W[l][i + (size_t)q * out] * s->a[l - 1][q + (size_t)j * in];
        double p = s->P[l][i + (size_t)j * out];
        worst = fmax(worst, fabs(p - v) / fmax(1, fabs(v)));
      }
  }
  return allmax(worst);
}

/* ------------------------------------------------------------ the step checks */

static int bad_condition, bad_step, bad_minimal, bad_decrease, bad_bias, bad_products, checked_steps;
static int minimality_checked, bad_exact;

/* The search's accepted eta: the step is x - g/eta, phi(new) <= P(new; eta) directly, and
 * eta/2 would have failed when the search doubled to reach eta or the step is exact (which
 * also meets the condition with equality). phi_old, phi_new, phi_half
 * (phi at x - 2 g/eta), g2 = |g|^2 from the plain-loop gradient, step_err: max |dx + g/eta|. */
static void check_search(const char *what, int l, const nn_dladmm_search *sr, double phi_old, double phi_new,
                         double phi_half, double g2, double step_err, double gmax)
{
  double eta = sr->eta, scale = fmax(1e-30, fabs(phi_old));
  double P = phi_old - g2 / (2 * eta);           /* P(x - g/eta; eta) */
  double P_half = phi_old - g2 / eta;            /* P(x - 2g/eta; eta/2) */
  checked_steps++;
  if (phi_new > P + TOL * 10 * scale) {
    bad_condition++;
    if (me_rank() == 0) printf("%s layer %d: phi(new) %.12g > P(new; eta) %.12g\n", what, l, phi_new, P);
  }
  if (sr->exact && fabs(phi_new - P) > TOL * 10 * scale) {
    bad_exact++;
    if (me_rank() == 0) printf("%s layer %d: exact eta %.6g, yet phi(new) - P(new; eta) = %.3g\n", what, l, eta,
                               phi_new - P);
  }
  if (sr->trials > 1 || sr->exact) {
    minimality_checked++;
    if (!(phi_half > P_half - TOL * 10 * scale)) {
      bad_minimal++;
      if (me_rank() == 0) printf("%s layer %d: eta/2 = %.6g already met the condition\n", what, l, eta / 2);
    }
  }
  if (step_err > TOL * 100 * fmax(1, gmax / eta)) {
    bad_step++;
    if (me_rank() == 0) printf("%s layer %d: the step is not -grad/eta (error %.3g)\n", what, l, step_err);
  }
  if (phi_new > phi_old + TOL * 10 * scale) {
    bad_decrease++;
    if (me_rank() == 0) printf("%s layer %d: phi rose from %.12g to %.12g\n", what, l, phi_old, phi_new);
  }
}

static void weight_step(nn_dladmm *s, int l, int bias_first, nn_timer *t)
{
  int out = s->net->n[l], in = s->net->n[l - 1];
  double *W0 = malloc(sizeof(double) * out * in), *b0 = malloc(sizeof(double) * out);
  double *W1 = malloc(sizeof(double) * out * in), *b1 = malloc(sizeof(double) * out);
  double *G = malloc(sizeof(double) * out * in), *Wh = malloc(sizeof(double) * out * in);
  copy_layer(s, l, W0, b0);
  double phi0 = phi_w(s, l, W0, b0);
  /* the exact bias for a given W: b + mean(t - W a - b) */
  double *bx = malloc(sizeof(double) * out);
  s->last.trials = 0;
  nn_dladmm_weight_step(s, l, bias_first, t);
  copy_layer(s, l, W1, b1);
  /* the W move, from the bias the W step saw: bias_first: b1; else b0 */
  const double *bW = bias_first ? b1 : b0;
  const double *Wb = bias_first ? W0 : W1; /* the weights the bias step saw */
  for (int i = 0; i < out; i++) {
    double r = 0;
    for (long j = 0; j < s->N; j++) r += target(s, l, j, i) - affine(s, l, Wb, b0, s->a[l - 1], j, i);
    bx[i] = b0[i] + allsum(r) / (double)s->n_global;
  }
  double bias_err = 0, bmax = 1;
  for (int i = 0; i < out; i++) {
    bias_err = fmax(bias_err, fabs(bx[i] - b1[i]));
    bmax = fmax(bmax, fabs(bx[i]));
  }
  if (bias_err > TOL * 100 * bmax) {
    bad_bias++;
    if (me_rank() == 0) printf("b step layer %d: not the exact minimiser (error %.3g)\n", l, bias_err);
  }
  /* phi at each point of the two moves */
  double phi_mid = bias_first ? phi_w(s, l, W0, b1) : phi_w(s, l, W1, b0), phi1 = phi_w(s, l, W1, b1);
  grad_w(s, l, W0, bW, G);
  double g2 = 0, gmax = 0, err = 0;
  for (int e = 0; e < out * in; e++) {
    g2 += G[e] * G[e];
    gmax = fmax(gmax, fabs(G[e]));
  }
  if (s->last.trials > 0) {
    double eta = s->last.eta;
    for (int e = 0; e < out * in; e++) {
      err = fmax(err, fabs(W1[e] - W0[e] + G[e] / eta));
      Wh[e] = W0[e] - 2 * G[e] / eta;
    }
    double phiW0 = bias_first ? phi_mid : phi0, phiW1 = bias_first ? phi1 : phi_mid;
    check_search("W step", l, &s->last, phiW0, phiW1, phi_w(s, l, Wh, bW), g2, err, gmax);
  }
  double scale = fmax(1e-30, fabs(phi0));
  if (phi_mid > phi0 + TOL * 10 * scale || phi1 > phi_mid + TOL * 10 * scale) {
    bad_decrease++;
    if (me_rank() == 0) printf("W/b step layer %d: phi %.12g -> %.12g -> %.12g\n", l, phi0, phi_mid, phi1);
  }
  if (products_error(s) > TOL * 100) bad_products++;
  free(W0); free(b0); free(W1); free(b1); free(G); free(Wh); free(bx);
}

static void activation_step(nn_dladmm *s, int l, nn_timer *t)
{
  size_t count = (size_t)s->net->n[l] * s->N;
  double *A0 = calloc(count + 1, sizeof(double)), *A1 = calloc(count + 1, sizeof(double));
  double *G = malloc(sizeof(double) * count), *Ah = malloc(sizeof(double) * count);
  for (size_t e = 0; e < count; e++) A0[e] = s->a[l][e];
  double phi0 = phi_a(s, l, A0);
  grad_a(s, l, A0, G);
  s->last.trials = 0;
  nn_dladmm_activation_step(s, l, t);
  for (size_t e = 0; e < count; e++) A1[e] = s->a[l][e];
  double g2 = 0, gmax = 0, err = 0;
  for (size_t e = 0; e < count; e++) {
    g2 += G[e] * G[e];
    gmax = fmax(gmax, fabs(G[e]));
  }
  g2 = allsum(g2);
  gmax = allmax(gmax);
  if (s->last.trials > 0) {
    double eta = s->last.eta;
    for (size_t e = 0; e < count; e++) {
      err = fmax(err, fabs(A1[e] - A0[e] + G[e] / eta));
      Ah[e] = A0[e] - 2 * G[e] / eta;
    }
    check_search("a step", l, &s->last, phi0, phi_a(s, l, A1), phi_a(s, l, Ah), g2, allmax(err), gmax);
  }
  if (products_error(s) > TOL * 100) bad_products++;
  free(A0); free(A1); free(G); free(Ah);
}

/* The hidden z step against a grid search of |z - m|^2 + |a - h(z)|^2 on every entry of the
 * first 25 samples. */
static int bad_z;
static void z_step(nn_dladmm *s, int l, nn_timer *t)
{
  nn_dladmm_z_step(s, l, t);
  int nl = s->net->n[l];
  double W[17 * 17], b[17];
  copy_layer(s, l, W, b);
  for (long j = 0; j < s->N && j < 25; j++)
    for (int i = 0; i < nl; i++) {
      double a = s->a[l][i + (size_t)j * nl], m = affine(s, l, W, b, s->a[l - 1], j, i);
      double z = s->z[l][i + (size_t)j * nl];
      double fz = (z - m) * (z - m) + (a - relu(z)) * (a - relu(z));
      double lo = fmin(fmin(m, a), 0) - 1, hi = fmax(fmax(m, a), 0) + 1;
      for (double v = lo; v <= hi; v += 1e-3 * (hi - lo)) {
        double f = (v - m) * (v - m) + (a - relu(v)) * (a - relu(v));
        if (f < fz - TOL * 10 * (1 + fabs(fz))) { bad_z++; break; }
      }
    }
}

/* The output step. Cross-entropy: each of the first 20 samples against plain gradient descent
 * on f from z = m (step 1/(1 + rho): f's gradient is (1 + rho)-Lipschitz), 20000 iterations;
 * squared hinge: each entry against a grid search. */
static int bad_out;
static double out_worst;
static void output_step(nn_dladmm *s, nn_timer *t)
{
  nn_dladmm_output_step(s, t);
  int L = s->L, k = s->net->n[L];
  double W[3 * 11], b[3];
  copy_layer(s, L, W, b);
  for (long j = 0; j < s->N && j < 20; j++) {
    double z[3], u[3], m[3], ref[3], grad[3];
    int y = s->label[j];
    for (int i = 0; i < k; i++) {
      z[i] = s->z[L][i + (size_t)j * k];
      u[i] = s->u[i + (size_t)j * k];
      m[i] = affine(s, L, W, b, s->a[L - 1], j, i);
      ref[i] = m[i];
    }
    if (s->ce) {
      for (int it = 0; it < 20000; it++) {
        double zmax = fmax(ref[0], fmax(ref[1], ref[2])), e = 0;
        for (int i = 0; i < k; i++) e += exp(ref[i] - zmax);
        for (int i = 0; i < k; i++) grad[i] = exp(ref[i] - zmax) / e - (i == y) + u[i] + s->rho * (ref[i] - m[i]);
        for (int i = 0; i < k; i++) ref[i] -= grad[i] / (1 + s->rho);
      }
      for (int i = 0; i < k; i++) {
        double d = fabs(z[i] - ref[i]) / (1 + fabs(ref[i]));
        out_worst = fmax(out_worst, d);
        /* Newton stops at lambda^2/2 <= 1e-18, so |z - z*|^2 <= 4e-18 / rho (strong convexity rho) */
        bad_out += d > (sizeof(real) == 4 ? 1e-5 : sqrt(4e-18 / s->rho) + 1e-12);
      }
    } else {
      for (int i = 0; i < k; i++) {
        double f1[3] = { 0, 0, 0 };
        /* f restricted to entry i: the other entries' terms are constants */
        double fz, lo = fmin(m[i], 0) - 2 - fabs(u[i]) / s->rho, hi = fmax(m[i], 1) + 2 + fabs(u[i]) / s->rho;
        memcpy(f1, z, sizeof f1);
        fz = nn_dladmm_output_objective(f1, u, m, k, y, s->rho, 0);
        for (double v = lo; v <= hi; v += 1e-4 * (hi - lo)) {
          f1[i] = v;
          if (nn_dladmm_output_objective(f1, u, m, k, y, s->rho, 0) < fz - TOL * 10 * (1 + fabs(fz))) {
            bad_out++;
            break;
          }
        }
      }
    }
  }
}

static int bad_u;
static void multiplier_step(nn_dladmm *s)
{
  int L = s->L, k = s->net->n[L];
  size_t count = (size_t)k * s->N;
  double *want = malloc(sizeof(double) * count), W[3 * 11], b[3];
  copy_layer(s, L, W, b);
  for (long j = 0; j < s->N; j++)
    for (int i = 0; i < k; i++)
      want[i + (size_t)j * k] = s->u[i + (size_t)j * k] +
                                s->rho * (s->z[L][i + (size_t)j * k] - affine(s, L, W, b, s->a[L - 1], j, i));
  nn_dladmm_multiplier_step(s);
  for (size_t e = 0; e < count; e++) bad_u += fabs(s->u[e] - want[e]) > TOL * 100 * (1 + fabs(want[e]));
  free(want);
}

static void test_steps(const nn_grid *g, enum nn_loss loss, enum nn_dladmm_step step)
{
  char name[64];
  snprintf(name, sizeof name, "%s, %s steps", loss == NN_LOSS_CROSS_ENTROPY ? "cross-entropy" : "squared-hinge",
           step == NN_DLADMM_STEP_EXACT ? "exact" : "backtracking");
  nn_config cfg;
  make_config(&cfg, loss, 0.5, 0.3);
  cfg.dladmm_step = step;
  nn_data data;
  nn_data_load(&data, &cfg);
  nn_model net;
  nn_model_alloc(&net, cfg.L, cfg.n, 1);
  nn_model_init(&net, cfg.init, cfg.seed);
  nn_dladmm s;
  nn_dladmm_init(&s, &cfg, &net, &data.train, g);
  nn_timer t;
  nn_timer_reset(&t);
  bad_condition = bad_step = bad_minimal = bad_decrease = bad_bias = bad_products = checked_steps = minimality_checked = 0;
  bad_exact = 0;
  bad_z = bad_out = bad_u = 0;
  out_worst = 0;
  int L = s.L;
  for (int it = 0; it < 2; it++) {
    nn_dladmm_products(&s);
    output_step(&s, &t);
    weight_step(&s, L, 1, &t);
    activation_step(&s, L - 1, &t);
    for (int l = L - 1; l >= 1; l--) {
      z_step(&s, l, &t);
      weight_step(&s, l, 1, &t);
      if (l > 1) activation_step(&s, l - 1, &t);
    }
    for (int l = 1; l < L; l++) {
      weight_step(&s, l, 0, &t);
      z_step(&s, l, &t);
      activation_step(&s, l, &t);
    }
    weight_step(&s, L, 0, &t);
    output_step(&s, &t);
    multiplier_step(&s);
    double f = nn_dladmm_lagrangian(&s, NULL), ref = lagrangian(&s);
    EXPECT(fabs(f - ref) <= TOL * 100 * (1 + fabs(ref)), "%s: augmented Lagrangian %.12g, plain loops %.12g", name,
           f, ref);
  }
  EXPECT(bad_condition == 0, "%s: %d of %d searches accepted a step that breaks phi <= P", name, bad_condition,
         checked_steps);
  EXPECT(bad_minimal == 0, "%s: %d searches went past the first eta that met the condition", name, bad_minimal);
  EXPECT(bad_exact == 0, "%s: %d exact steps are not at the smallest eta that meets the condition", name, bad_exact);
  EXPECT(bad_step == 0, "%s: %d steps are not -grad/eta", name, bad_step);
  EXPECT(bad_decrease == 0, "%s: %d steps raised their subproblem's objective", name, bad_decrease);
  EXPECT(bad_bias == 0, "%s: %d bias steps are not exact", name, bad_bias);
  EXPECT(bad_products == 0, "%s: the products P_l drifted from W_l a_{l-1} after %d steps", name, bad_products);
  EXPECT(allsum(bad_z) == 0, "%s: %g hidden z entries beaten by a grid search", name, allsum(bad_z));
  EXPECT(allsum(bad_out) == 0, "%s: %g output entries off their reference (worst %.3g)", name, allsum(bad_out),
         allmax(out_worst));
  EXPECT(allsum(bad_u) == 0, "%s: %g multiplier entries wrong", name, allsum(bad_u));
  /* not vacuous: the searches ran, and some were checked for minimality (doubled, or exact) */
  EXPECT(checked_steps == 2 * (2 * L + 2 * (L - 1)) && minimality_checked > 0,
         "%s: %d searches checked, %d for minimality", name, checked_steps, minimality_checked);
  if (me_rank() == 0)
    printf("%s: %d searches checked (%d for minimality: doubled or exact), output worst %.3g (rank 0)\n", name,
           checked_steps, minimality_checked, out_worst);
  nn_dladmm_free(&s);
  nn_model_free(&net);
  nn_data_free(&data);
}

/* Cross-entropy at a small rho (condition number ~ 1/rho): every sample's solution is
 * stationary, |grad f|_inf within the tolerance the decrement implies. */
static void test_output_small_rho(const nn_grid *g)
{
  nn_config cfg;
  make_config(&cfg, NN_LOSS_CROSS_ENTROPY, 1e-4, 1e-4);
  nn_data data;
  nn_data_load(&data, &cfg);
  nn_model net;
  nn_model_alloc(&net, cfg.L, cfg.n, 1);
  nn_model_init(&net, cfg.init, cfg.seed);
  nn_dladmm s;
  nn_dladmm_init(&s, &cfg, &net, &data.train, g);
  nn_timer t;
  nn_timer_reset(&t);
  nn_epoch_stats st;
  for (int it = 0; it < 3; it++) nn_dladmm_sweep(&s, &st, &t);
  nn_dladmm_products(&s);
  nn_dladmm_output_step(&s, &t);
  int L = s.L, k = net.n[L];
  double worst = 0, zbig = 0;
  for (long j = 0; j < s.N; j++) {
    const real *z = s.z[L] + (size_t)j * k;
    double zmax = fmax(z[0], fmax(z[1], z[2])), e = 0;
    for (int i = 0; i < k; i++) e += exp(z[i] - zmax);
    for (int i = 0; i < k; i++) {
      double m = (double)s.P[L][i + (size_t)j * k] + net.b[L][i];
      double gi = exp(z[i] - zmax) / e - (i == s.label[j]) + s.u[i + (size_t)j * k] + s.rho * (z[i] - m);
      worst = fmax(worst, fabs(gi));
      zbig = fmax(zbig, fabs(z[i] - m));
    }
  }
  worst = allmax(worst);
  /* float32: z is rounded to 24 bits after the solve, which moves p by ~|z| 6e-8 */
  double tol = sizeof(real) == 4 ? 1e-5 * fmax(1, allmax(zbig)) : 1e-8;
  EXPECT(worst <= tol && allsum((double)s.newton_capped) == 0,
         "rho 1e-4: output solutions have |grad|_inf %.3g (tolerance %.3g), %ld at the Newton cap", worst, tol,
         s.newton_capped);
  zbig = allmax(zbig);
  if (me_rank() == 0)
    printf("rho 1e-4: output |grad|_inf %.3g, |z_L - m| up to %.3g, at most %d Newton iterations\n", worst, zbig,
           s.newton_iters);
  nn_dladmm_free(&s);
  nn_model_free(&net);
  nn_data_free(&data);
}

/* The augmented Lagrangian over 12 iterations at rho = nu = 2 (above the threshold of the
 * convergence theory for these losses, whose gradients are 1-Lipschitz): never rises, falls. */
static void test_lagrangian(const nn_grid *g, enum nn_loss loss)
{
  const char *name = loss == NN_LOSS_CROSS_ENTROPY ? "cross-entropy" : "squared-hinge";
  nn_config cfg;
  make_config(&cfg, loss, 2, 2);
  nn_data data;
  nn_data_load(&data, &cfg);
  nn_model net;
  nn_model_alloc(&net, cfg.L, cfg.n, 1);
  nn_model_init(&net, cfg.init, cfg.seed);
  nn_dladmm s;
  nn_dladmm_init(&s, &cfg, &net, &data.train, g);
  nn_timer t;
  nn_timer_reset(&t);
  nn_epoch_stats st;
  nn_dladmm_products(&s);
  double first = lagrangian(&s), prev = first, rise = 0;
  for (int it = 0; it < 12; it++) {
    nn_dladmm_sweep(&s, &st, &t);
    double f = lagrangian(&s);
    EXPECT(fabs(st.objective - f) <= TOL * 100 * (1 + fabs(f)), "%s: reported objective %.12g, plain loops %.12g",
           name, st.objective, f);
    rise = fmax(rise, (f - prev) / fabs(first));
    if (me_rank() == 0) printf("%s rho 2: iteration %d L_rho %.10g res_z %.4g res_a %.4g |u|^2 %.4g\n", name, it + 1, f,
                               st.residual_z, st.residual_a, st.multiplier);
    prev = f;
  }
  EXPECT(rise <= TOL * 10, "%s: the augmented Lagrangian rose by %.3g (relative) in an iteration", name, rise);
  EXPECT(prev < 0.9 * first, "%s: the augmented Lagrangian went from %.6g to %.6g only", name, first, prev);
  nn_dladmm_free(&s);
  nn_model_free(&net);
  nn_data_free(&data);
}

static void test_backtrack(void)
{
  nn_dladmm_search sr;
  /* curvature gHg/g2 = 3: from 0.1 the search doubles to 3.2 (1.6 fails), 6 trials */
  double eta = nn_dladmm_backtrack(0.1, 1, 3, &sr);
  EXPECT(eta == 3.2 && sr.trials == 6, "backtrack from 0.1 to curvature 3: eta %g after %d trials", eta, sr.trials);
  /* a start above the curvature is accepted at once */
  eta = nn_dladmm_backtrack(5, 2, 6, &sr);
  EXPECT(eta == 5 && sr.trials == 1, "backtrack from 5 to curvature 3: eta %g after %d trials", eta, sr.trials);
  /* exactly at the curvature: accepted (phi = P there) */
  eta = nn_dladmm_backtrack(0.75, 1, 3, &sr);
  EXPECT(eta == 3 && sr.trials == 3, "backtrack from 0.75 to curvature 3: eta %g after %d trials", eta, sr.trials);
  /* the exact step: the curvature itself, from |g|^2 = 2, g^T H g = 6 */
  eta = nn_dladmm_exact_step(2, 6, &sr);
  EXPECT(eta == 3 && sr.exact && sr.trials == 1, "exact step at curvature 3: eta %g", eta);
}

/* Five iterations at the defaults' penalties; rank 0 writes the weights and biases as doubles. */
static void dump(const void *grid, const char *path)
{
  const nn_grid *g = grid;
  nn_config cfg;
  make_config(&cfg, NN_LOSS_CROSS_ENTROPY, 1e-3, 1e-2);
  cfg.dladmm_rho_growth = 1.5;
  nn_data data;
  nn_data_load(&data, &cfg);
  nn_model net;
  nn_model_alloc(&net, cfg.L, cfg.n, 1);
  nn_model_init(&net, cfg.init, cfg.seed);
  nn_dladmm s;
  nn_dladmm_init(&s, &cfg, &net, &data.train, g);
  nn_timer t;
  nn_timer_reset(&t);
  nn_epoch_stats st;
  for (int e = 0; e < 5; e++) nn_dladmm_sweep(&s, &st, &t);
  testing_dump_weights(path, net.L, net.n, (void *const *)net.W, (void *const *)net.b, sizeof(real));
  if (me_rank() == 0) printf("dladmm dump: L_rho %.12g after 5 iterations -> %s\n", st.objective, path);
  nn_dladmm_free(&s);
  nn_model_free(&net);
  nn_data_free(&data);
}

int main(int argc, char **argv)
{
  MPI_Init(&argc, &argv);
  nn_grid g;
  nn_grid_init(&g, 0, 0, 4);
  if (!testing_dump_modes(argc, argv, "dladmm", dump, &g)) {
    test_backtrack();
    for (int step = NN_DLADMM_STEP_EXACT; step <= NN_DLADMM_STEP_BACKTRACK; step++) {
      test_steps(&g, NN_LOSS_CROSS_ENTROPY, (enum nn_dladmm_step)step);
      test_steps(&g, NN_LOSS_SQUARED_HINGE, (enum nn_dladmm_step)step);
    }
    test_output_small_rho(&g);
    test_lagrangian(&g, NN_LOSS_CROSS_ENTROPY);
    test_lagrangian(&g, NN_LOSS_SQUARED_HINGE);
  }
  int rc = testing_finish();
  nn_grid_free(&g);
  Cblacs_exit(1);
  MPI_Finalize();
  return rc;
}
