/* Anderson acceleration of a fixed-point method; see anderson.h for the iteration. Legend:
 * m the memory, m_k the differences held, V = 2m + 4 copies of x per segment, in the order
 *   dF_0 .. dF_{m-1}, dG_0 .. dG_{m-1}, F (f_{k-1}, then f_k), G (g_{k-1}, then g_k), X (x_k), GX (g_k);
 * a segment is rows x count (samples as columns); its copies are interleaved per column, so
 * one column's r V values are contiguous and each pass over x reads every copy from cache. */
#include "anderson.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/check.h"
#include "../common/util.h"

#ifdef NN_FLOAT32
static const double REG = 1e-6;
#else
static const double REG = 1e-10;
#endif

enum { ANDERSON_MAX = 32 }; /* the option's range (jobs/options.c) */

static int slot_F(const nn_anderson *s) { return 2 * s->m; }
static int slot_G(const nn_anderson *s) { return 2 * s->m + 1; }
static int slot_X(const nn_anderson *s) { return 2 * s->m + 2; }
static int slot_GX(const nn_anderson *s) { return 2 * s->m + 3; }

/* Copy v of column c of segment g. */
static real *copy_at(const nn_anderson *s, const nn_aa_segment *g, long c, int v)
{
  return g->store + ((size_t)c * s->V + v) * g->rows;
}

static void add_segment(nn_anderson *s, const char *name, real *state, long rows, long first, long count, long total,
                        int replicated)
{
  CHECK(s->nseg < NN_STATE_ARRAYS_MAX, "internal: --anderson: more than %d state pieces", NN_STATE_ARRAYS_MAX);
  nn_aa_segment *g = &s->seg[s->nseg++];
  snprintf(g->name, sizeof g->name, "aa_%.28s", name);
  g->state = state;
  g->rows = rows;
  g->first = first;
  g->count = count;
  g->total = total;
  g->replicated = replicated;
  g->store = nn_alloc((size_t)rows * count * s->V, sizeof(real), "the Anderson history");
}

void nn_anderson_setup(nn_anderson *s, const nn_config *cfg, const nn_method_ops *inner, void *inner_self,
                       nn_model *net)
{
  memset(s, 0, sizeof *s);
  CHECK(cfg->anderson >= 1 && cfg->anderson <= ANDERSON_MAX, "internal: --anderson %d outside [1, %d]", cfg->anderson,
        ANDERSON_MAX);
  CHECK(inner->merit && !inner->weights_export, "internal: --anderson around a method without a merit, or one that "
        "keeps its weights elsewhere");
  s->cfg = cfg;
  s->inner = inner;
  s->inner_self = inner_self;
  s->m = cfg->anderson;
  s->V = 2 * s->m + 4;
  s->reg = REG;
  char name[16];
  for (int l = 1; net && l <= net->L; l++) {
    snprintf(name, sizeof name, "W%d", l);
    add_segment(s, name, net->W[l], (long)net->n[l] * net->n[l - 1], 0, 1, 1, 1);
    if (!net->bias) continue;
    snprintf(name, sizeof name, "b%d", l);
    add_segment(s, name, net->b[l], net->n[l], 0, 1, 1, 1);
  }
  if (inner->state_arrays) {
    nn_state_array a[NN_STATE_ARRAYS_MAX];
    int n = inner->state_arrays(inner_self, a, NN_STATE_ARRAYS_MAX);
    for (int i = 0; i < n; i++)
      if (a[i].type == NN_STATE_REAL && !a[i].replicated)
        add_segment(s, a[i].name, a[i].values, a[i].rows, a[i].first, a[i].count, a[i].total, 0);
  }
  s->H = nn_alloc((size_t)s->m * s->m, sizeof(double), "the Anderson Gram matrix");
  s->dots = nn_alloc(2 * (size_t)s->m + 1, sizeof(double), "the Anderson inner products");
  s->gamma = nn_alloc((size_t)s->m, sizeof(double), "the Anderson coefficients");
  s->merit_plain = s->merit_acc = NAN;
}

void nn_anderson_release(nn_anderson *s)
{
  for (int i = 0; i < s->nseg; i++) free(s->seg[i].store);
  free(s->H);
  free(s->dots);
  free(s->gamma);
}

/* ==================================== passes over x ==================================== */

/* Copy v = the current state (the model and the method's arrays). Local. */
static void gather(nn_anderson *s, int v)
{
  for (int k = 0; k < s->nseg; k++) {
    const nn_aa_segment *g = &s->seg[k];
    for (long c = 0; c < g->count; c++)
      memcpy(copy_at(s, g, c, v), g->state + (size_t)c * g->rows, sizeof(real) * g->rows);
  }
}

/* The state = copy v. Local. */
static void scatter(nn_anderson *s, int v)
{
  for (int k = 0; k < s->nseg; k++) {
    const nn_aa_segment *g = &s->seg[k];
    for (long c = 0; c < g->count; c++)
      memcpy(g->state + (size_t)c * g->rows, copy_at(s, g, c, v), sizeof(real) * g->rows);
  }
}

/* Values of x on this rank. */
static double local_size(const nn_anderson *s)
{
  double n = 0;
  for (int k = 0; k < s->nseg; k++) n += (double)s->seg[k].rows * s->seg[k].count;
  return n;
}

static double dot(const real *x, const real *y, long n)
{
  double d = 0;
#pragma omp simd reduction(+ : d)
  for (long i = 0; i < n; i++) d += (double)x[i] * y[i];
  return d;
}

/* f_k = GX - X; with slot c >= 0: dF_c = f_k - F, dG_c = GX - G; then F = f_k, G = GX. This
 * rank's share of the inner products into s->dots: [0, m_k) <dF_c, dF_i>, [m, m + m_k)
 * <f_k, dF_i>, [2m] |f_k|^2 (replicated segments on rank 0 only: counted once). Local. */
static void differences(nn_anderson *s, int c)
{
  int m = s->m, mk = s->ring[0], F = slot_F(s), G = slot_G(s), X = slot_X(s), GX = slot_GX(s);
  memset(s->dots, 0, sizeof(double) * (2 * (size_t)m + 1));
  int me = nn_rank();
  for (int k = 0; k < s->nseg; k++) {
    const nn_aa_segment *g = &s->seg[k];
    long r = g->rows;
    int counted = !g->replicated || me == 0;
    for (long j = 0; j < g->count; j++) {
      real *f = copy_at(s, g, j, F), *gp = copy_at(s, g, j, G);
      const real *x = copy_at(s, g, j, X), *gx = copy_at(s, g, j, GX);
      if (c >= 0) {
        real *df = copy_at(s, g, j, c), *dg = copy_at(s, g, j, m + c);
        for (long i = 0; i < r; i++) {
          real fk = gx[i] - x[i];
          df[i] = fk - f[i];
          dg[i] = gx[i] - gp[i];
          f[i] = fk;
        }
      } else
        for (long i = 0; i < r; i++) f[i] = gx[i] - x[i];
      memcpy(gp, gx, sizeof(real) * r);
      if (!counted) continue;
      s->dots[2 * m] += dot(f, f, r);
      for (int i = 0; i < mk; i++) {
        const real *dfi = copy_at(s, g, j, i);
        if (c >= 0) s->dots[i] += dot(copy_at(s, g, j, c), dfi, r);
        s->dots[m + i] += dot(f, dfi, r);
      }
    }
  }
  nn_count_flops(2.0 * (2 * mk + 1) * local_size(s));
}

/* The state = GX - sum_i gamma_i dG_i. Local. */
static void mix(nn_anderson *s)
{
  int m = s->m, mk = s->ring[0], GX = slot_GX(s);
  for (int k = 0; k < s->nseg; k++) {
    const nn_aa_segment *g = &s->seg[k];
    long r = g->rows;
    for (long j = 0; j < g->count; j++) {
      real *x = g->state + (size_t)j * r;
      memcpy(x, copy_at(s, g, j, GX), sizeof(real) * r);
      for (int i = 0; i < mk; i++) {
        const real *dg = copy_at(s, g, j, m + i);
        real a = (real)-s->gamma[i];
        for (long e = 0; e < r; e++) x[e] += a * dg[e];
      }
    }
  }
  nn_count_flops(2.0 * mk * local_size(s));
}

/* ==================================== the small problem ==================================== */

/* gamma = (H + lam I)^{-1} rhs over slots 0..mk-1, by Cholesky in double; returns 0 when the
 * system is not numerically positive definite or gamma is not finite. */
static int solve_small(const double *H, int ld, const double *rhs, int mk, double reg, double *gamma)
{
  double A[ANDERSON_MAX * ANDERSON_MAX], trace = 0;
  for (int i = 0; i < mk; i++) trace += H[i + (size_t)i * ld];
  if (!(trace > 0) || !isfinite(trace)) return 0;
  double lam = reg * trace / mk;
  for (int j = 0; j < mk; j++)
    for (int i = 0; i < mk; i++) A[i + j * mk] = H[i + (size_t)j * ld] + (i == j ? lam : 0);
  for (int j = 0; j < mk; j++) { /* A = L L^T, L in the lower triangle */
    double d = A[j + j * mk];
    for (int k = 0; k < j; k++) d -= A[j + k * mk] * A[j + k * mk];
    if (!(d > 0)) return 0;
    d = sqrt(d);
    A[j + j * mk] = d;
    for (int i = j + 1; i < mk; i++) {
      double v = A[i + j * mk];
      for (int k = 0; k < j; k++) v -= A[i + k * mk] * A[j + k * mk];
      A[i + j * mk] = v / d;
    }
  }
  for (int i = 0; i < mk; i++) { /* L y = rhs */
    double v = rhs[i];
    for (int k = 0; k < i; k++) v -= A[i + k * mk] * gamma[k];
    gamma[i] = v / A[i + i * mk];
  }
  for (int i = mk - 1; i >= 0; i--) { /* L^T gamma = y */
    double v = gamma[i];
    for (int k = i + 1; k < mk; k++) v -= A[k + i * mk] * gamma[k];
    gamma[i] = v / A[i + i * mk];
  }
  for (int i = 0; i < mk; i++)
    if (!isfinite(gamma[i])) return 0;
  return 1;
}

static void restart(nn_anderson *s)
{
  s->ring[0] = s->ring[1] = 0;
}

static void restored(nn_anderson *s)
{
  if (s->inner->state_restored) s->inner->state_restored(s->inner_self);
}

/* ==================================== the epoch ==================================== */

void nn_anderson_step(nn_anderson *s, int epoch, nn_epoch_stats *st, nn_timer *t)
{
  int m = s->m;
  s->merit_plain = s->merit_acc = NAN;
  if (epoch <= s->cfg->warmup) { /* another map: no memory across it */
    s->inner->epoch(s->inner_self, epoch, st, t);
    restart(s);
    s->ring[2] = 0;
    return;
  }
  gather(s, slot_X(s));
  s->inner->epoch(s->inner_self, epoch, st, t);
  gather(s, slot_GX(s));
  int c = -1;
  if (s->ring[2]) {
    c = s->ring[1];
    s->ring[1] = (c + 1) % m;
    if (s->ring[0] < m) s->ring[0]++;
  }
  int mk = s->ring[0];
  differences(s, c);
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, s->dots, 2 * m + 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
  s->ring[2] = 1;
  for (int i = 0; c >= 0 && i < mk; i++) s->H[i + (size_t)c * m] = s->H[c + (size_t)i * m] = s->dots[i];
  st->aa_residual = sqrt(s->dots[2 * m]);
  if (mk == 0) return; /* nothing to mix yet: the plain step */

  s->tally[0]++;
  int solved = solve_small(s->H, m, s->dots + m, mk, s->reg, s->gamma);
  double g2 = 0;
  for (int i = 0; solved && i < mk; i++) g2 += s->gamma[i] * s->gamma[i];
  st->aa_coef_norm = solved ? sqrt(g2) : NAN;
  s->merit_plain = s->inner->merit(s->inner_self);
  if (solved) {
    mix(s);
    restored(s);
    s->merit_acc = s->inner->merit(s->inner_self);
  }
  /* The merits are sums over all ranks: every rank takes the same branch. */
  if (solved && s->merit_acc <= s->merit_plain) {
    s->tally[1]++;
    st->aa_accepted = 1;
    return;
  }
  st->aa_accepted = 0;
  if (solved) {
    scatter(s, slot_GX(s));
    restored(s);
  }
  restart(s);
}

/* ==================================== the wrapper as a method ==================================== */

typedef struct {
  nn_anderson aa;
} wrapped;

static void aa_init(void *self, const nn_config *cfg, void *model, const void *train, const nn_grid *g)
{
  wrapped *w = self;
  const nn_method *m = nn_method_find_in(NN_NUMERICS_TABLE.methods, cfg->method);
  CHECK(m && m->ops->merit, "internal: --anderson with --method %s, which has no merit", cfg->method);
  void *inner_self = nn_alloc(1, m->ops->size, "the method's state");
  m->ops->init(inner_self, cfg, model, train, g);
  nn_anderson_setup(&w->aa, cfg, m->ops, inner_self, model);
}

static void aa_fini(void *self)
{
  wrapped *w = self;
  w->aa.inner->fini(w->aa.inner_self);
  free(w->aa.inner_self);
  nn_anderson_release(&w->aa);
}

static void aa_epoch(void *self, int epoch, nn_epoch_stats *st, nn_timer *t)
{
  nn_anderson_step(&((wrapped *)self)->aa, epoch, st, t);
}

/* The method's notes, then at the end how many accelerated points the safeguard kept. */
static void aa_notes(void *self, int final, char *out, size_t len)
{
  nn_anderson *s = &((wrapped *)self)->aa;
  out[0] = 0;
  if (s->inner->notes) s->inner->notes(s->inner_self, final, out, len);
  size_t k = strlen(out);
  if (final && k + 1 < len)
    snprintf(out + k, len - k, "anderson: M=%d, accelerated points kept %ld of %ld tried\n", s->m, s->tally[1],
             s->tally[0]);
}

/* The method's arrays, then the history (anderson.h: by global sample like the method's),
 * the Gram matrix, the ring and the tally: a resumed run mixes as the uninterrupted one. */
static int aa_state_arrays(void *self, nn_state_array *out, int max)
{
  nn_anderson *s = &((wrapped *)self)->aa;
  int k = s->inner->state_arrays ? s->inner->state_arrays(s->inner_self, out, max) : 0;
  for (int i = 0; i < s->nseg; i++) {
    const nn_aa_segment *g = &s->seg[i];
    if (g->replicated)
      nn_state_replicated(out, &k, max, g->name, g->store, NN_STATE_REAL, g->rows * s->V);
    else
      nn_state_partitioned(out, &k, max, g->name, g->store, g->rows * s->V, g->first, g->count, g->total);
  }
  nn_state_replicated(out, &k, max, "aa_gram", s->H, NN_STATE_DOUBLE, (long)s->m * s->m);
  nn_state_replicated(out, &k, max, "aa_ring", s->ring, NN_STATE_INT, 3);
  nn_state_replicated(out, &k, max, "aa_tally", s->tally, NN_STATE_LONG, 2);
  return k;
}

static void aa_state_restored(void *self)
{
  restored(&((wrapped *)self)->aa);
}

static double aa_merit(void *self)
{
  nn_anderson *s = &((wrapped *)self)->aa;
  return s->inner->merit(s->inner_self);
}

const nn_method_ops nn_anderson_ops = {
  .size = sizeof(wrapped), .init = aa_init, .epoch = aa_epoch, .fini = aa_fini, .notes = aa_notes,
  .state_arrays = aa_state_arrays, .state_restored = aa_state_restored, .merit = aa_merit,
};
