/* Tests of Anderson acceleration (solver/anderson.c), at whatever rank count mpiexec gives:
 *   - a linear contraction x -> A x + c (A symmetric, eigenvalues in [0.5, 0.97], dimension 30:
 *     9 replicated weights of a 2-3 model and 3 x 7 values partitioned by sample over the
 *     ranks), wrapped as a method: every iterate of the wrapper (memory 8) against a plain
 *     serial implementation of the same iteration on the whole vector (Gram matrix recomputed
 *     from scratch, Gaussian elimination, the same regularisation and safeguard), and the
 *     residual after 40 iterations below 1e-8 of the first (float32: 1e-4) while the plain
 *     iteration's is still above 1e-2 of it;
 *   - the safeguard: the same map with a merit that Anderson's proposals sometimes raise
 *     (|x - x_0|^2, bounded below: it rewards staying near the start, which the plain step's
 *     shorter moves often do; a merit of the residual or of |x - x*| refused none here): at every iteration the kept state's merit is at most the plain
 *     step's, and at least one proposal was refused (else the case would not test it);
 *   - `test_anderson dump FILE`: 8 iterations of dladmm with --anderson 3 on a synthetic
 *     problem, weights written by rank 0 (anderson.cmake compares 1 vs 2 ranks within a
 *     tolerance and two 2-rank runs bit for bit); `test_anderson cmp A B TOL` compares. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/check.h"
#include "../io/dataset.h"
#include "../solver/anderson.h"
#include "../solver/dladmm.h"
#include "../solver/scalapack.h"
#include "testing.h"

#ifdef NN_FLOAT32
#define TOL_REF 2e-3
#define CONVERGED 1e-3
#else
#define TOL_REF 1e-6
#define CONVERGED 1e-6
#endif

enum { R = 3, COLS = 7, NW = 9, D = NW + R * COLS, MEM = 8 };

static int rank_(void) { int r; MPI_Comm_rank(MPI_COMM_WORLD, &r); return r; }
static int ranks_(void) { int p; MPI_Comm_size(MPI_COMM_WORLD, &p); return p; }

/* ==================================== the linear method ==================================== */

typedef struct {
  nn_model *net;    /* W1 (3 x 2), b1 (3): the first NW entries of the vector */
  real *x;          /* R x count, columns first .. first + count - 1 of COLS */
  long first, count;
  const double *A, *c, *xstar; /* D x D, D, D: the map and its fixed point */
  int inf_merit;    /* 1: merit |x - x0|^2, 0: |A x + c - x|^2 */
} linear;

/* The whole vector, on every rank (the partitioned part gathered). */
static void whole(const linear *s, double *v)
{
  for (int i = 0; i < 6; i++) v[i] = s->net->W[1][i];
  for (int i = 0; i < 3; i++) v[6 + i] = s->net->b[1][i];
  int P = ranks_(), counts[64], displs[64];
  double mine[R * COLS];
  for (long e = 0; e < R * s->count; e++) mine[e] = s->x[e];
  for (int p = 0, at = 0; p < P; p++) {
    counts[p] = R * (COLS / P + (p < COLS % P));
    displs[p] = at;
    at += counts[p];
  }
  MPI_Allgatherv(mine, (int)(R * s->count), MPI_DOUBLE, v + NW, counts, displs, MPI_DOUBLE, MPI_COMM_WORLD);
}

static void set_whole(linear *s, const double *v)
{
  for (int i = 0; i < 6; i++) s->net->W[1][i] = (real)v[i];
  for (int i = 0; i < 3; i++) s->net->b[1][i] = (real)v[6 + i];
  for (long e = 0; e < R * s->count; e++) s->x[e] = (real)v[NW + R * s->first + e];
}

static void apply_map(const double *A, const double *c, const double *v, double *out)
{
  for (int i = 0; i < D; i++) {
    double y = c[i];
    for (int j = 0; j < D; j++) y += A[i + j * D] * v[j];
    out[i] = y;
  }
}

static double Q[D * D], X0[D]; /* A = Q diag(0.5 .. 0.97) Q^T; the start */

static double merit_of(const double *A, const double *c, const double *xstar, int inf, const double *v)
{
  double y[D], f = 0;
  (void)xstar;
  if (inf) { /* |x - x0|^2: staying near the start, which the plain step's shorter moves often win */
    for (int i = 0; i < D; i++) f += (v[i] - X0[i]) * (v[i] - X0[i]);
    return f;
  }
  apply_map(A, c, v, y);
  for (int i = 0; i < D; i++) f += (y[i] - v[i]) * (y[i] - v[i]);
  return f;
}

static void lin_epoch(void *self, int epoch, nn_epoch_stats *st, nn_timer *t)
{
  (void)epoch, (void)t;
  linear *s = self;
  double v[D], y[D];
  whole(s, v);
  apply_map(s->A, s->c, v, y);
  set_whole(s, y);
  st->objective = NAN;
}

static double lin_merit(void *self)
{
  linear *s = self;
  double v[D];
  whole(s, v);
  return merit_of(s->A, s->c, s->xstar, s->inf_merit, v);
}

static int lin_arrays(void *self, nn_state_array *out, int max)
{
  linear *s = self;
  int k = 0;
  nn_state_partitioned(out, &k, max, "x", s->x, R, s->first, s->count, COLS);
  return k;
}

static const nn_method_ops linear_ops = { .size = sizeof(linear), .epoch = lin_epoch, .state_arrays = lin_arrays,
                                          .merit = lin_merit };

/* A = Q diag(0.5 .. 0.97) Q^T, Q orthonormalised from a fixed pseudo-random matrix; c fixed;
 * x* = (I - A)^{-1} c by the plain iteration run to convergence. */
static void make_map(double *A, double *c, double *xstar, double *x0)
{
  unsigned long z = 12345;
  for (int e = 0; e < D * D; e++) {
    z = z * 6364136223846793005ul + 1442695040888963407ul;
    Q[e] = (double)(z >> 11) / 9007199254740992.0 - 0.5;
  }
  for (int j = 0; j < D; j++) { /* Gram-Schmidt, twice for orthogonality to rounding */
    for (int pass = 0; pass < 2; pass++)
      for (int k = 0; k < j; k++) {
        double d = 0;
        for (int i = 0; i < D; i++) d += Q[i + k * D] * Q[i + j * D];
        for (int i = 0; i < D; i++) Q[i + j * D] -= d * Q[i + k * D];
      }
    double n = 0;
    for (int i = 0; i < D; i++) n += Q[i + j * D] * Q[i + j * D];
    for (int i = 0; i < D; i++) Q[i + j * D] /= sqrt(n);
  }
  for (int i = 0; i < D; i++)
    for (int j = 0; j < D; j++) {
      double a = 0;
      for (int k = 0; k < D; k++) a += Q[i + k * D] * (0.5 + 0.47 * k / (D - 1)) * Q[j + k * D];
      A[i + j * D] = a;
    }
  for (int i = 0; i < D; i++) {
    c[i] = sin(1.0 + i);
    X0[i] = x0[i] = cos(2.0 * i);
    xstar[i] = 0;
  }
  double y[D];
  for (int it = 0; it < 3000; it++) {
    apply_map(A, c, xstar, y);
    memcpy(xstar, y, sizeof y);
  }
}

/* ==================================== the serial reference ==================================== */

/* Solves (H + lam I) g = r (k x k) by Gaussian elimination with partial pivoting. */
static void ref_solve(int k, double *H, double *r, double *g)
{
  for (int p = 0; p < k; p++) {
    int best = p;
    for (int i = p + 1; i < k; i++)
      if (fabs(H[i + p * k]) > fabs(H[best + p * k])) best = i;
    for (int j = 0; j < k; j++) { double t = H[p + j * k]; H[p + j * k] = H[best + j * k]; H[best + j * k] = t; }
    double t = r[p]; r[p] = r[best]; r[best] = t;
    for (int i = p + 1; i < k; i++) {
      double f = H[i + p * k] / H[p + p * k];
      for (int j = p; j < k; j++) H[i + j * k] -= f * H[p + j * k];
      r[i] -= f * r[p];
    }
  }
  for (int i = k - 1; i >= 0; i--) {
    double v = r[i];
    for (int j = i + 1; j < k; j++) v -= H[i + j * k] * g[j];
    g[i] = v / H[i + i * k];
  }
}

typedef struct {
  double x[D], F[D], G[D], dF[MEM][D], dG[MEM][D];
  int held, have;
} ref_state;

/* One iteration of type-II Anderson with the wrapper's rules (anderson.h), on whole vectors;
 * the differences are kept oldest first. */
static void ref_step(ref_state *r, const double *A, const double *c, const double *xs, int inf, double reg)
{
  double g[D], f[D];
  apply_map(A, c, r->x, g);
  for (int i = 0; i < D; i++) f[i] = g[i] - r->x[i];
  if (r->have) {
    if (r->held == MEM) {
      memmove(r->dF[0], r->dF[1], sizeof(double) * D * (MEM - 1));
      memmove(r->dG[0], r->dG[1], sizeof(double) * D * (MEM - 1));
      r->held--;
    }
    for (int i = 0; i < D; i++) {
      r->dF[r->held][i] = f[i] - r->F[i];
      r->dG[r->held][i] = g[i] - r->G[i];
    }
    r->held++;
  }
  memcpy(r->F, f, sizeof f);
  memcpy(r->G, g, sizeof g);
  r->have = 1;
  int k = r->held;
  if (k == 0) { memcpy(r->x, g, sizeof g); return; }
  double H[MEM * MEM], rhs[MEM], gam[MEM], trace = 0;
  for (int a = 0; a < k; a++) {
    rhs[a] = 0;
    for (int i = 0; i < D; i++) rhs[a] += r->dF[a][i] * f[i];
    for (int b = 0; b < k; b++) {
      double h = 0;
      for (int i = 0; i < D; i++) h += r->dF[a][i] * r->dF[b][i];
      H[a + b * k] = h;
    }
    trace += H[a + a * k];
  }
  for (int a = 0; a < k; a++) H[a + a * k] += reg * trace / k;
  ref_solve(k, H, rhs, gam);
  double acc[D];
  for (int i = 0; i < D; i++) {
    acc[i] = g[i];
    for (int a = 0; a < k; a++) acc[i] -= gam[a] * r->dG[a][i];
  }
  if (merit_of(A, c, xs, inf, acc) <= merit_of(A, c, xs, inf, g))
    memcpy(r->x, acc, sizeof acc);
  else {
    memcpy(r->x, g, sizeof g);
    r->held = 0;
  }
}

/* ==================================== the tests ==================================== */

typedef struct {
  double A[D * D], c[D], xstar[D], x0[D];
} problem;

/* A linear method at x0 and its Anderson wrapper of memory m. */
typedef struct {
  nn_config cfg;
  nn_model net;
  linear s;
  nn_anderson aa;
  nn_timer t;
} wrapped_linear;

static void lin_start(linear *s, nn_model *net, nn_config *cfg, const problem *pb, int inf, int m)
{
  memset(cfg, 0, sizeof *cfg);
  cfg->anderson = m;
  int n[2] = { 2, 3 };
  nn_model_alloc(net, 1, n, 1);
  memset(s, 0, sizeof *s);
  int P = ranks_(), me = rank_();
  s->net = net;
  s->count = COLS / P + (me < COLS % P);
  for (int p = 0; p < me; p++) s->first += COLS / P + (p < COLS % P);
  s->x = calloc(R * COLS, sizeof(real));
  s->A = pb->A;
  s->c = pb->c;
  s->xstar = pb->xstar;
  s->inf_merit = inf;
  set_whole(s, pb->x0);
}

static void wl_start(wrapped_linear *w, const problem *pb, int inf)
{
  lin_start(&w->s, &w->net, &w->cfg, pb, inf, MEM);
  nn_anderson_setup(&w->aa, &w->cfg, &linear_ops, &w->s, &w->net);
  nn_timer_reset(&w->t);
}

static void wl_stop(wrapped_linear *w)
{
  nn_anderson_release(&w->aa);
  free(w->s.x);
  nn_model_free(&w->net);
}

static double residual(const problem *pb, const double *v)
{
  return sqrt(merit_of(pb->A, pb->c, pb->xstar, 0, v));
}

static void test_reference(const problem *pb)
{
  static wrapped_linear w;
  wl_start(&w, pb, 0);
  linear *s = &w.s;
  nn_anderson *aa = &w.aa;
  static ref_state ref;
  memset(&ref, 0, sizeof ref);
  memcpy(ref.x, pb->x0, sizeof ref.x);
  double worst = 0, v[D], r0 = residual(pb, pb->x0);
  int kept = 0;
  for (int k = 1; k <= 40; k++) {
    nn_epoch_stats st = NN_EPOCH_STATS_NONE;
    nn_anderson_step(aa, k, &st, &w.t);
    kept += st.aa_accepted == 1;
    if (k > 20) continue; /* compared while the residual is far above rounding */
    ref_step(&ref, pb->A, pb->c, pb->xstar, 0, aa->reg);
    whole(s, v);
    double scale = 0;
    for (int i = 0; i < D; i++) scale = fmax(scale, fabs(ref.x[i]));
    for (int i = 0; i < D; i++) worst = fmax(worst, fabs(v[i] - ref.x[i]) / scale);
  }
  whole(s, v);
  double r = residual(pb, v);
  EXPECT(worst <= TOL_REF, "Anderson iterates against the serial reference: max relative difference %.3g over 20 "
         "iterations (tolerance %.1g)", worst, TOL_REF);
  EXPECT(r <= CONVERGED * r0, "Anderson(8) on the linear contraction: residual %.3g after 40 iterations, first %.3g "
         "(wanted <= %.0e of it)", r, r0, CONVERGED);
  EXPECT(kept > 20, "Anderson(8) on the linear contraction kept only %d of 39 accelerated points", kept);
  /* the plain iteration from the same point, for contrast */
  double x[D], y[D];
  memcpy(x, pb->x0, sizeof x);
  for (int k = 0; k < 40; k++) {
    apply_map(pb->A, pb->c, x, y);
    memcpy(x, y, sizeof y);
  }
  double rp = residual(pb, x);
  EXPECT(rp > 1e-2 * r0, "the plain iteration converged too fast to show acceleration: %.3g of %.3g", rp, r0);
  if (rank_() == 0)
    printf("linear contraction, %d ranks: Anderson(8) residual %.3g -> %.3g in 40 iterations (%d points kept), "
           "plain %.3g; max difference from the serial reference %.3g\n", ranks_(), r0, r, kept, rp, worst);
  wl_stop(&w);
}

static void test_safeguard(const problem *pb)
{
  static wrapped_linear w;
  wl_start(&w, pb, 1);
  linear *s = &w.s;
  nn_anderson *aa = &w.aa;
  int refused = 0, rose = 0, tried = 0, not_plain = 0;
  double worst = 0;
  for (int k = 1; k <= 40; k++) {
    nn_epoch_stats st = NN_EPOCH_STATS_NONE;
    nn_anderson_step(aa, k, &st, &w.t);
    if (isnan(aa->merit_plain)) continue;
    tried++;
    refused += st.aa_accepted == 0;
    double kept = lin_merit(s);
    not_plain += st.aa_accepted == 0 && kept != aa->merit_plain; /* refused: the plain step, bit for bit */
    if (kept > aa->merit_plain) {
      rose++;
      worst = fmax(worst, kept / aa->merit_plain);
    }
  }
  EXPECT(rose == 0, "the kept state's merit rose above the plain step's at %d of %d iterations (by up to x%.3g)", rose,
         tried, worst);
  EXPECT(not_plain == 0, "after %d of %d refusals the state was not the plain step's", not_plain, refused);
  EXPECT(refused > 0, "no accelerated point was refused in %d tries: this case does not exercise the safeguard", tried);
  if (rank_() == 0)
    printf("safeguard, merit |x - x0|^2: %d of %d accelerated points refused, kept merit above the plain step's %d "
           "times\n", refused, tried, rose);
  wl_stop(&w);
}

/* dladmm with --anderson 3 for 8 iterations on a synthetic problem; rank 0 writes the weights
 * and biases as doubles. */
static void dump(const void *grid, const char *path)
{
  const nn_grid *g = grid;
  nn_config cfg;
  memset(&cfg, 0, sizeof cfg);
  snprintf(cfg.method, sizeof cfg.method, "dladmm");
  snprintf(cfg.data, sizeof cfg.data, "synthetic");
  cfg.normalize = NN_NORMALIZE_NONE;
  int widths[4] = { 13, 17, 11, 3 };
  cfg.L = 3;
  for (int l = 0; l <= 3; l++) cfg.n[l] = widths[l];
  cfg.n_train = 301;
  cfg.n_test = 16;
  cfg.seed = 5;
  cfg.init = NN_INIT_HE;
  cfg.biases = 1;
  cfg.loss = NN_LOSS_CROSS_ENTROPY;
  cfg.dladmm_rho = 1e-3;
  cfg.dladmm_nu = 1e-2;
  cfg.dladmm_rho_growth = 1;
  cfg.dladmm_rho_max = 1;
  cfg.float32 = sizeof(real) == sizeof(float);
  cfg.anderson = 3;
  nn_data data;
  nn_data_load(&data, &cfg);
  nn_model net;
  nn_model_alloc(&net, cfg.L, cfg.n, 1);
  nn_model_init(&net, cfg.init, cfg.seed);
  extern const nn_method_ops nn_dladmm_ops;
  nn_dladmm s;
  nn_dladmm_init(&s, &cfg, &net, &data.train, g);
  nn_anderson aa;
  nn_anderson_setup(&aa, &cfg, &nn_dladmm_ops, &s, &net);
  nn_timer t;
  nn_timer_reset(&t);
  nn_epoch_stats st = NN_EPOCH_STATS_NONE;
  for (int e = 1; e <= 8; e++) nn_anderson_step(&aa, e, &st, &t);
  EXPECT(aa.tally[1] > 0, "dladmm with --anderson 3: no accelerated point kept in %ld tries: the dump would not "
         "test the mixing", aa.tally[0]);
  double merit = nn_dladmm_merit(&s); /* collective */
  testing_dump_weights(path, net.L, net.n, (void *const *)net.W, (void *const *)net.b, sizeof(real));
  if (rank_() == 0)
    printf("anderson dump: dladmm, 8 iterations, %ld of %ld accelerated points kept, merit %.12g -> %s\n", aa.tally[1],
           aa.tally[0], merit, path);
  nn_anderson_release(&aa);
  nn_dladmm_free(&s);
  nn_model_free(&net);
  nn_data_free(&data);
}

int main(int argc, char **argv)
{
  MPI_Init(&argc, &argv);
  nn_grid g;
  nn_grid_init(&g, 0, 0, 4);
  if (!testing_dump_modes(argc, argv, "anderson", dump, &g)) {
    static problem pb;
    make_map(pb.A, pb.c, pb.xstar, pb.x0);
    test_reference(&pb);
    test_safeguard(&pb);
  }
  int rc = testing_finish();
  nn_grid_free(&g);
  Cblacs_exit(1);
  MPI_Finalize();
  return rc;
}
