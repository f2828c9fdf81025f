/* resnet-admm's steps (solver/resnet_admm.c) against direct computations by plain loops, on a
 * tiny residual network with odd sizes and non-zero multipliers: each exact step must make the
 * gradient of its own subproblem vanish; each linearised step must equal the old point minus
 * the central-difference gradient of the penalty it linearises over its proximal weight. Then
 * whole iterations on a tiny problem: the true forward loss falls, the residuals shrink, the
 * augmented Lagrangian decreases over the run. Runs on any number of ranks (the sums are
 * allreduced; the references sum over ranks too). float64. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../io/dataset.h"
#include "../solver/numerics.h"
#include "../solver/real.h"
#include "../solver/resnet_admm.h"
#include "../common/rng.h"
#include "testing.h"

static int me, nranks;

enum { D = 4, W = 5, K = 2, BLOCKS = 2, L = BLOCKS + 2, NG = 13 };

typedef struct {
  nn_config cfg;
  nn_model m;
  nn_shard sh;
  nn_method_run run;
  nn_resnet_admm *s;
} fixture;

static double act(int sigmoid, double z) { return sigmoid ? 1 / (1 + exp(-z)) : fmax(z, 0); }

/* out_i = b_i + sum_k W_ik a_k for every column: layer l of the model, plain loops. */
static void ref_affine(const nn_model *m, int l, const double *A, long N, double *out)
{
  int r = m->n[l], c = m->n[l - 1];
  for (long j = 0; j < N; j++)
    for (int i = 0; i < r; i++) {
      double z = m->b[l][i];
      for (int q = 0; q < c; q++) z += m->W[l][i + (size_t)q * r] * A[(size_t)j * c + q];
      out[(size_t)j * r + i] = z;
    }
}

static double rnd(uint64_t stream, uint64_t i) { return nn_rng_normal(77, stream, i); }

static void setup(fixture *f, int split, int sigmoid)
{
  memset(f, 0, sizeof *f);
  nn_config *cfg = &f->cfg;
  snprintf(cfg->method, sizeof cfg->method, "resnet-admm");
  cfg->arch = NN_ARCH_RESNET;
  cfg->blocks = BLOCKS;
  cfg->width = W;
  cfg->activation = sigmoid ? NN_ACT_SIGMOID : NN_ACT_RELU;
  cfg->L = L;
  cfg->n[0] = D;
  for (int l = 1; l < L; l++) cfg->n[l] = W;
  cfg->n[L] = K;
  cfg->splitting = split;
  cfg->resnet_beta = 2;
  cfg->resnet_tau = 1;
  cfg->resnet_rho = 1;
  cfg->ridge = 1e-3;
  cfg->loss = NN_LOSS_LEAST_SQUARES;
  cfg->biases = 1;
  nn_model_alloc(&f->m, L, cfg->n, 1);
  f->m.resnet = 1;
  f->m.sigmoid = sigmoid;
  nn_model_init(&f->m, NN_INIT_HE, 5);
  for (int l = 1; l <= L; l++)
    for (int i = 0; i < f->m.n[l]; i++) f->m.b[l][i] = 0.1 * rnd(90 + l, i);
  /* this rank's columns of NG samples: real targets (regression) */
  nn_shard *sh = &f->sh;
  sh->d = D;
  sh->classes = K;
  sh->n_global = NG;
  nn_partition(NG, me, nranks, &sh->first, &sh->n);
  long c = sh->n ? sh->n : 1;
  double *x = malloc(sizeof(double) * D * c), *y = malloc(sizeof(double) * K * c);
  sh->label = calloc(c, sizeof(int));
  for (long j = 0; j < sh->n; j++) {
    for (int i = 0; i < D; i++) x[j * D + i] = rnd(1, (uint64_t)(sh->first + j) * D + i);
    for (int i = 0; i < K; i++) y[j * K + i] = rnd(2, (uint64_t)(sh->first + j) * K + i);
  }
  sh->x = x;
  sh->y = y;
  const nn_method *entry = nn_method_find_in(nn_numerics_of(cfg)->methods, cfg->method);
  f->run = nn_method_create(entry, cfg, &f->m, sh, NULL);
  f->s = f->run.self;
  /* chunks of 3 columns (the scratch holds more): each step below runs over several chunks and
   * a shorter last one on 1 and 2 ranks (13 samples: 3+3+3+3+1; 7: 3+3+1) */
  f->s->chunk = 3;
  /* move every auxiliary and multiplier off the forward pass, so no term vanishes */
  nn_resnet_admm *s = f->s;
  for (int l = 1; l < L; l++)
    for (long e = 0; e < (long)W * sh->n; e++) {
      uint64_t g = (uint64_t)(sh->first * W + e);
      s->V[l][e] += 0.3 * rnd(10 + l, g);
      s->M[l][e] = 0.5 * rnd(20 + l, g);
      if (s->U[l]) {
        s->U[l][e] += 0.3 * rnd(30 + l, g);
        s->MU[l][e] = 0.5 * rnd(40 + l, g);
      }
    }
}

static void teardown(fixture *f)
{
  nn_method_destroy(&f->run);
  nn_model_free(&f->m);
  free(f->sh.x);
  free(f->sh.y);
  free(f->sh.label);
}

static double sum_all(double v)
{
  MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  return v;
}

/* ------------------------------------------------------------ exact least-squares weight steps */

/* grad of c/2 |B - Wbar Abar|^2 + mu/2 |Wbar - Wold|^2 at the new Wbar, by plain loops, relative
 * to the size of its two parts. */
static void check_ls(fixture *f, int l, const double *A, const double *B, const double *src, const double *lam, double c,
                     const char *what)
{
  nn_model *m = &f->m;
  int r = m->n[l], cols = m->n[l - 1];
  long N = f->sh.n;
  size_t P = (size_t)r * (cols + 1);
  double *old = malloc(sizeof(double) * P), *g = calloc(P, sizeof(double)), *out = malloc(sizeof(double) * r * (N ? N : 1));
  memcpy(old, m->W[l], sizeof(double) * P);
  double mu = nn_radmm_ls_step(f->s, l, A, src, lam, c); /* its target src + lam/beta is B */
  ref_affine(m, l, A, N, out);
  for (long j = 0; j < N; j++)
    for (int i = 0; i < r; i++) {
      double e = c * (out[(size_t)j * r + i] - B[(size_t)j * r + i]);
      for (int q = 0; q < cols; q++) g[i + (size_t)q * r] += e * A[(size_t)j * cols + q];
      g[i + (size_t)cols * r] += e;
    }
  MPI_Allreduce(MPI_IN_PLACE, g, (int)P, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  double num = 0, den = 0;
  for (size_t e = 0; e < P; e++) {
    double prox = mu * (m->W[l][e] - old[e]);
    num += (g[e] + prox) * (g[e] + prox);
    den += g[e] * g[e] + prox * prox;
  }
  double res = sqrt(num / fmax(den, 1e-300));
  if (me == 0) printf("%s: scaled residual of the subproblem's gradient %.2e (mu %.3g) %s\n", what, res, mu, res < 1e-10 ? "PASSED" : "FAILED");
  EXPECT(res < 1e-10 && mu > 0, "%s: scaled residual %.3e", what, res);
  free(old);
  free(g);
  free(out);
}

/* ------------------------------------------------------------ the linearised weight step (2-splitting) */

/* phi(Wbar) = beta/2 |V_l - V_{l-1} - act(Wbar Vbar_{l-1}) + M_l/beta|^2 summed over ranks. */
static double phi(fixture *f, int l)
{
  nn_resnet_admm *s = f->s;
  long N = f->sh.n;
  double *z = malloc(sizeof(double) * W * (N ? N : 1)), v = 0;
  ref_affine(&f->m, l, s->V[l - 1], N, z);
  for (long e = 0; e < (long)W * N; e++) {
    double q = s->V[l][e] - s->V[l - 1][e] - act(f->m.sigmoid, z[e]) + s->M[l][e] / s->beta;
    v += 0.5 * s->beta * q * q;
  }
  free(z);
  return sum_all(v);
}

static void test_w_linear(int sigmoid)
{
  fixture f;
  setup(&f, 2, sigmoid);
  int l = 2;
  size_t P = (size_t)W * (W + 1);
  double *old = malloc(sizeof(double) * P), *fd = malloc(sizeof(double) * P), h = 1e-6;
  memcpy(old, f.m.W[l], sizeof(double) * P);
  for (size_t e = 0; e < P; e++) {
    f.m.W[l][e] = old[e] + h;
    double fp = phi(&f, l);
    f.m.W[l][e] = old[e] - h;
    double fm = phi(&f, l);
    f.m.W[l][e] = old[e];
    fd[e] = (fp - fm) / (2 * h);
  }
  double tau = nn_radmm_w_block_linear(f.s, l), num = 0, den = 0;
  for (size_t e = 0; e < P; e++) {
    double want = old[e] - fd[e] / tau, d = f.m.W[l][e] - want;
    num += d * d;
    den += (old[e] - want) * (old[e] - want);
  }
  double res = sqrt(num / den);
  if (me == 0) printf("2-splitting W step (%s): step vs central differences %.2e (tau %.3g) %s\n", sigmoid ? "sigmoid" : "relu", res, tau, res < 1e-6 ? "PASSED" : "FAILED");
  EXPECT(res < 1e-6 && tau > 0, "2-splitting W step: relative error %.3e", res);
  free(old);
  free(fd);
  teardown(&f);
}

/* ------------------------------------------------------------ the U step (3-splitting) */

static void test_u(int sigmoid)
{
  fixture f;
  setup(&f, 3, sigmoid);
  nn_resnet_admm *s = f.s;
  int l = 2;
  long N = f.sh.n;
  size_t cnt = (size_t)W * N;
  double *old = malloc(sizeof(double) * (cnt ? cnt : 1)), *P = malloc(sizeof(double) * (cnt ? cnt : 1));
  memcpy(old, s->U[l], sizeof(double) * cnt);
  ref_affine(&f.m, l, s->V[l - 1], N, P);
  nn_radmm_u_step(s, l);
  double beta = s->beta, rho = s->rho * beta, h = 1e-6, worst = 0;
  for (size_t e = 0; e < cnt; e++) {
    double c = s->V[l][e] - s->V[l - 1][e] + s->M[l][e] / beta;
    double qp = 0.5 * beta * pow(c - act(sigmoid, old[e] + h), 2), qm = 0.5 * beta * pow(c - act(sigmoid, old[e] - h), 2);
    double g = (qp - qm) / (2 * h), u = s->U[l][e];
    double stat = beta * (u - (P[e] - s->MU[l][e] / beta)) + g + rho * (u - old[e]);
    worst = fmax(worst, fabs(stat) / (beta * fabs(u) + fabs(g) + beta * fabs(P[e]) + 1));
  }
  worst = sum_all(worst);
  if (me == 0) printf("3-splitting U step (%s): stationarity vs central differences %.2e %s\n", sigmoid ? "sigmoid" : "relu", worst, worst < 1e-7 ? "PASSED" : "FAILED");
  EXPECT(worst < 1e-7, "U step: stationarity %.3e", worst);
  free(old);
  free(P);
  teardown(&f);
}

/* ------------------------------------------------------------ the V steps */

/* a_l by the definition (resnet_admm.h), plain loops. */
static void ref_target(fixture *f, int l, double *a)
{
  nn_resnet_admm *s = f->s;
  long N = f->sh.n;
  if (l == 1) { ref_affine(&f->m, 1, f->sh.x, N, a); return; }
  if (s->split == 2) ref_affine(&f->m, l, s->V[l - 1], N, a);
  for (long e = 0; e < (long)W * N; e++)
    a[e] = s->V[l - 1][e] + act(f->m.sigmoid, s->split == 3 ? s->U[l][e] : a[e]);
}

/* Exact V steps: the gradient of the whole subproblem in V_l at the new V, by plain loops. */
static void test_v_exact(int split, int l, int sigmoid)
{
  fixture f;
  setup(&f, split, sigmoid);
  nn_resnet_admm *s = f.s;
  nn_model *m = &f.m;
  long N = f.sh.n;
  size_t cnt = (size_t)W * N, c1 = cnt ? cnt : 1;
  double *a = malloc(sizeof(double) * c1), *z = malloc(sizeof(double) * (W > K ? W : K) * (N ? N : 1));
  double *g = malloc(sizeof(double) * c1), beta = s->beta;
  ref_target(&f, l, a);
  double prox = nn_radmm_v_step(s, l);
  const double *V = s->V[l];
  double num = 0, den = 0;
  for (size_t e = 0; e < cnt; e++) g[e] = beta * (V[e] - a[e]) + s->M[l][e];
  den = 0;
  for (size_t e = 0; e < cnt; e++) den += g[e] * g[e];
  int up = l + 1, r = m->n[up];
  ref_affine(m, up, V, N, z);
  for (long j = 0; j < N; j++)
    for (int i = 0; i < r; i++) {
      size_t e = (size_t)j * r + i;
      /* the next constraint's (or the loss's) residual in W V + b */
      double res = up == L ? z[e] - s->T[e] : beta * (z[e] - s->U[up][e]) - s->MU[up][e];
      for (int q = 0; q < W; q++) {
        double t = m->W[up][i + (size_t)q * r] * res;
        g[(size_t)j * W + q] += t;
        den += t * t;
      }
    }
  if (up < L)
    for (size_t e = 0; e < cnt; e++) {
      double t = -(beta * (s->V[up][e] - V[e] - act(m->sigmoid, s->U[up][e])) + s->M[up][e]);
      g[e] += t;
      den += t * t;
    }
  for (size_t e = 0; e < cnt; e++) num += g[e] * g[e];
  double res = sqrt(sum_all(num) / sum_all(den));
  if (me == 0) printf("%d-splitting exact V_%d step (%s): scaled residual of the gradient %.2e %s\n", split, l, sigmoid ? "sigmoid" : "relu", res, res < 1e-10 ? "PASSED" : "FAILED");
  EXPECT(res < 1e-10 && prox == 0, "%d-splitting V_%d step: scaled residual %.3e", split, l, res);
  free(a);
  free(z);
  free(g);
  teardown(&f);
}

/* h(V) = beta/2 |V_{l+1} - V - act(Wbar_{l+1} Vbar) + M_{l+1}/beta|^2, summed over ranks, with V
 * held in s->V[l]. */
static double h_of(fixture *f, int l)
{
  nn_resnet_admm *s = f->s;
  long N = f->sh.n;
  double *z = malloc(sizeof(double) * W * (N ? N : 1)), v = 0;
  ref_affine(&f->m, l + 1, s->V[l], N, z);
  for (long e = 0; e < (long)W * N; e++) {
    double q = s->V[l + 1][e] - s->V[l][e] - act(f->m.sigmoid, z[e]) + s->M[l + 1][e] / s->beta;
    v += 0.5 * s->beta * q * q;
  }
  free(z);
  return v; /* local: h's gradient in this rank's columns involves only them */
}

static void test_v_linear(int l, int sigmoid)
{
  fixture f;
  setup(&f, 2, sigmoid);
  nn_resnet_admm *s = f.s;
  long N = f.sh.n;
  size_t cnt = (size_t)W * N, c1 = cnt ? cnt : 1;
  double *old = malloc(sizeof(double) * c1), *fd = malloc(sizeof(double) * c1), *a = malloc(sizeof(double) * c1);
  double h = 1e-6, beta = s->beta;
  memcpy(old, s->V[l], sizeof(double) * cnt);
  ref_target(&f, l, a);
  for (size_t e = 0; e < cnt; e++) {
    s->V[l][e] = old[e] + h;
    double fp = h_of(&f, l);
    s->V[l][e] = old[e] - h;
    double fm = h_of(&f, l);
    s->V[l][e] = old[e];
    fd[e] = (fp - fm) / (2 * h);
  }
  double rho = nn_radmm_v_step(s, l), num = 0, den = 0;
  for (size_t e = 0; e < cnt; e++) {
    double want = (beta * a[e] - s->M[l][e] - fd[e] + rho * old[e]) / (beta + rho), d = s->V[l][e] - want;
    num += d * d;
    den += want * want;
  }
  double res = sqrt(sum_all(num) / sum_all(den));
  if (me == 0) printf("2-splitting linearised V_%d step (%s): vs central differences %.2e (rho %.3g) %s\n", l, sigmoid ? "sigmoid" : "relu", res, rho, res < 1e-7 ? "PASSED" : "FAILED");
  EXPECT(res < 1e-7 && rho > 0, "2-splitting V_%d step: relative error %.3e", l, res);
  free(old);
  free(fd);
  free(a);
  teardown(&f);
}

/* ------------------------------------------------------------ whole iterations */

static double forward_loss(fixture *f)
{
  double v = 0;
  nn_forward_eval_targets(&f->m, f->sh.x, f->sh.y, f->sh.n, &v);
  return sum_all(v) / NG;
}

static void test_iterations(int split, int sigmoid)
{
  fixture f;
  setup(&f, split, sigmoid);
  nn_resnet_admm *s = f.s;
  /* start from the forward pass, multipliers zero: the method's own start */
  for (int l = 1; l < L; l++) {
    memset(s->M[l], 0, sizeof(double) * W * f.sh.n);
    if (s->MU[l]) memset(s->MU[l], 0, sizeof(double) * W * f.sh.n);
    if (split == 3 && l > 1) {
      ref_affine(&f.m, l, s->V[l - 1], f.sh.n, s->U[l]);
      for (long e = 0; e < (long)W * f.sh.n; e++) s->V[l][e] = s->V[l - 1][e] + act(sigmoid, s->U[l][e]);
    } else
      ref_target(&f, l, s->V[l]);
  }
  /* a penalty large enough for the convergence theory: at beta = 10 the 2-splitting with sigmoid
   * still leaves residual_V 5e-2 after 300 iterations on this problem, at 100 its augmented
   * Lagrangian rises before it falls */
  s->beta = 1000;
  double loss0 = forward_loss(&f), rv, ru, al[301];
  for (int it = 1; it <= 300; it++) {
    nn_radmm_iteration(s, NULL);
    al[it] = nn_radmm_multipliers(s, &rv, &ru);
  }
  double loss1 = forward_loss(&f);
  if (me == 0)
    printf("%d-splitting (%s), 300 iterations: forward loss %.4f -> %.4f, augmented Lagrangian %.4g (iteration 1) -> "
           "%.4g (150) -> %.4g (300), residual_V %.2e residual_U %.2e\n", split, sigmoid ? "sigmoid" : "relu", loss0, loss1, al[1], al[150], al[300], rv, ru);
  EXPECT(loss1 < 0.5 * loss0, "%d-splitting: the forward loss fell from %.4f only to %.4f", split, loss0, loss1);
  EXPECT(al[300] < al[150] && al[150] < al[1], "%d-splitting: the augmented Lagrangian did not decrease (%.4g, %.4g, %.4g)",
         split, al[1], al[150], al[300]);
  EXPECT(rv < 1e-3, "%d-splitting: residual_V %.3e after 300 iterations", split, rv);
  teardown(&f);
}

int main(int argc, char **argv)
{
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &me);
  MPI_Comm_size(MPI_COMM_WORLD, &nranks);
  for (int sg = 0; sg < 2; sg++) {
    /* exact least squares: the input layer (A = X), a 3-splitting block, the output layer */
    fixture f;
    setup(&f, 3, sg);
    long c = W * (f.sh.n ? f.sh.n : 1);
    double *B = malloc(sizeof(double) * c), *T = malloc(sizeof(double) * K * (f.sh.n ? f.sh.n : 1));
    for (long e = 0; e < W * f.sh.n; e++) B[e] = f.s->V[1][e] + f.s->M[1][e] / f.s->beta;
    check_ls(&f, 1, f.sh.x, B, f.s->V[1], f.s->M[1], f.s->beta, "input layer W step");
    f.s->iter = 1; /* from the second iteration on, the input layer's factor is reused */
    for (long e = 0; e < W * f.sh.n; e++) f.s->V[1][e] += 0.2 * rnd(50, (uint64_t)(f.sh.first * W + e)); /* a new target */
    for (long e = 0; e < W * f.sh.n; e++) B[e] = f.s->V[1][e] + f.s->M[1][e] / f.s->beta;
    check_ls(&f, 1, f.sh.x, B, f.s->V[1], f.s->M[1], f.s->beta, "input layer W step, cached factor");
    for (long e = 0; e < W * f.sh.n; e++) B[e] = f.s->U[2][e] + f.s->MU[2][e] / f.s->beta;
    check_ls(&f, 2, f.s->V[1], B, f.s->U[2], f.s->MU[2], f.s->beta, "3-splitting block W step");
    memcpy(T, f.s->T, sizeof(double) * K * f.sh.n);
    check_ls(&f, L, f.s->V[L - 1], T, T, NULL, 1.0, "output W step");
    free(B);
    free(T);
    teardown(&f);
    test_w_linear(sg);
    test_u(sg);
    test_v_exact(3, 1, sg);
    test_v_exact(3, 2, sg);
    test_v_exact(3, L - 1, sg);
    test_v_exact(2, L - 1, sg);
    test_v_linear(1, sg);
    test_v_linear(2, sg);
  }
  test_iterations(3, 0);
  test_iterations(2, 0);
  test_iterations(3, 1);
  test_iterations(2, 1);
  int rc = testing_finish();
  MPI_Finalize();
  return rc;
}
