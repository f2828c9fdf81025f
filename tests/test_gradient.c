/* The gradient baselines (solver/gradient.c) against plain-loop references in double:
 * backpropagation against central finite differences and a naive backward pass; whole
 * epochs of gd, sgd, momentum and adam against a naive optimiser that walks the same global
 * shuffle, at whatever rank count mpiexec gives (so 1 and 2 ranks are both compared with the
 * same 1-process reference), with bit-identical weights on every rank. Compiled once per
 * precision; tolerances scale with it.
 *
 * Extra modes, for the tests that run admm-train itself (tests/gradient.cmake):
 *   test_gradient h5cmp A.h5 B.h5 TOL   /weights of two results files agree: max |A-B| <= TOL max |A|
 *                                        (TOL 0: bit for bit)
 *   test_gradient h5learn F.h5 MIN_ACC  the run learned: objective fell by half, test accuracy
 *                                        rose and ended above MIN_ACC */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../io/dataset.h"
#include "../common/check.h"
#include "../solver/gradient.h"
#include "../solver/node_sum.h"
#include "../solver/numerics.h"
#include "../common/rng.h"
#include "testing.h"

#ifdef NN_FLOAT32
#define TOL_GRAD 1e-4    /* backprop vs the double reference, relative */
#define TOL_TRAJ 2e-5    /* weights after two epochs vs the double reference, relative to max |w| */
#else
#define TOL_GRAD 1e-12
#define TOL_TRAJ 1e-12
#endif

static int me, nranks;

/* ---------------------------------------------------------------------------------------
 * Plain-loop reference, double, sharing no code with solver/: a network is L, n[], and
 * W[l] (n[l] x n[l-1] column-major), b[l]. */

typedef struct {
  int L, n[NN_MAX_LAYERS + 1];
  double *W[NN_MAX_LAYERS + 1], *b[NN_MAX_LAYERS + 1];
} ref_net;

static void ref_alloc(ref_net *r, int L, const int *n)
{
  memset(r, 0, sizeof *r);
  r->L = L;
  for (int l = 0; l <= L; l++) r->n[l] = n[l];
  for (int l = 1; l <= L; l++) {
    r->W[l] = calloc((size_t)n[l] * n[l - 1], sizeof(double));
    r->b[l] = calloc((size_t)n[l], sizeof(double));
  }
}

static void ref_free(ref_net *r)
{
  for (int l = 1; l <= r->L; l++) {
    free(r->W[l]);
    free(r->b[l]);
  }
}

static size_t ref_count(const ref_net *r)
{
  size_t P = 0;
  for (int l = 1; l <= r->L; l++) P += (size_t)r->n[l] * r->n[l - 1] + r->n[l];
  return P;
}

/* Parameters in the packed order of gradient.h: W_1, b_1, W_2, b_2, ... */
static double *ref_param(ref_net *r, size_t k)
{
  for (int l = 1; l <= r->L; l++) {
    size_t nw = (size_t)r->n[l] * r->n[l - 1];
    if (k < nw) return &r->W[l][k];
    k -= nw;
    if (k < (size_t)r->n[l]) return &r->b[l][k];
    k -= r->n[l];
  }
  return NULL;
}

static void ref_from_model(ref_net *r, const nn_model *m)
{
  for (int l = 1; l <= m->L; l++) {
    for (size_t i = 0; i < (size_t)m->n[l] * m->n[l - 1]; i++) r->W[l][i] = m->W[l][i];
    for (int i = 0; i < m->n[l]; i++) r->b[l][i] = m->b[l][i];
  }
}

/* grad (packed) += gradient of the cross-entropy of sample x (n[0]) with label y; returns
 * its loss. One sample at a time, the textbook way. */
static double ref_sample_grad(const ref_net *r, const double *x, int y, double *grad)
{
  int L = r->L;
  const int *n = r->n;
  double *a[NN_MAX_LAYERS + 1], *dl[NN_MAX_LAYERS + 1];
  a[0] = (double *)x;
  for (int l = 1; l <= L; l++) {
    a[l] = malloc(sizeof(double) * n[l]);
    dl[l] = malloc(sizeof(double) * n[l]);
    for (int i = 0; i < n[l]; i++) {
      double z = r->b[l][i];
      for (int j = 0; j < n[l - 1]; j++) z += r->W[l][i + (size_t)j * n[l]] * a[l - 1][j];
      a[l][i] = l < L ? fmax(z, 0) : z;
    }
  }
  int k = n[L];
  double zmax = a[L][0], s = 0;
  for (int i = 1; i < k; i++) zmax = fmax(zmax, a[L][i]);
  for (int i = 0; i < k; i++) s += exp(a[L][i] - zmax);
  double loss = log(s) + zmax - a[L][y];
  for (int i = 0; i < k; i++) dl[L][i] = exp(a[L][i] - zmax) / s - (i == y);
  for (int l = L; l >= 1; l--) {
    if (l > 1)
      for (int j = 0; j < n[l - 1]; j++) {
        double t = 0;
        for (int i = 0; i < n[l]; i++) t += r->W[l][i + (size_t)j * n[l]] * dl[l][i];
        dl[l - 1][j] = a[l - 1][j] > 0 ? t : 0;
      }
  }
  size_t off = 0;
  for (int l = 1; l <= L; l++) {
    for (int j = 0; j < n[l - 1]; j++)
      for (int i = 0; i < n[l]; i++) grad[off + i + (size_t)j * n[l]] += dl[l][i] * a[l - 1][j];
    off += (size_t)n[l] * n[l - 1];
    for (int i = 0; i < n[l]; i++) grad[off + i] += dl[l][i];
    off += n[l];
  }
  for (int l = 1; l <= L; l++) {
    free(a[l]);
    free(dl[l]);
  }
  return loss;
}

/* Epochs of `method` on the full data set X (d x N) by the naive rules (PyTorch's SGD,
 * SGD with momentum, Adam), visiting batches in the order nn_shuffle defines. */
static void ref_train(ref_net *r, const char *method, const double *X, const int *Y, long N, long B, double lr,
                      double mu, long seed, int epochs)
{
  size_t P = ref_count(r);
  double *g = calloc(P, sizeof(double)), *m = calloc(P, sizeof(double)), *v = calloc(P, sizeof(double));
  long *perm = malloc(sizeof(long) * N), t = 0;
  for (int e = 1; e <= epochs; e++) {
    nn_shuffle(perm, N, B, seed, e);
    for (long s0 = 0; s0 < N; s0 += B) {
      long Bs = N - s0 < B ? N - s0 : B;
      memset(g, 0, sizeof(double) * P);
      for (long i = 0; i < Bs; i++) ref_sample_grad(r, X + (size_t)perm[s0 + i] * r->n[0], Y[perm[s0 + i]], g);
      t++;
      for (size_t k = 0; k < P; k++) {
        double gk = g[k] / Bs, *p = ref_param(r, k);
        if (!strcmp(method, "momentum")) {
          m[k] = mu * m[k] + gk;
          *p -= lr * m[k];
        } else if (!strcmp(method, "adam")) {
          m[k] = 0.9 * m[k] + 0.1 * gk;
          v[k] = 0.999 * v[k] + 0.001 * gk * gk;
          double mhat = m[k] / (1 - pow(0.9, t)), vhat = v[k] / (1 - pow(0.999, t));
          *p -= lr * mhat / (sqrt(vhat) + 1e-8);
        } else {
          *p -= lr * gk;
        }
      }
    }
  }
  free(g);
  free(m);
  free(v);
  free(perm);
}

/* ---------------------------------------------------------------------------------------
 * Test data: sample i of a set depends only on (seed, i), as in io/dataset.c. */

static void make_data(double *X, int *Y, int d, int k, long N, uint64_t seed)
{
  for (long j = 0; j < N; j++) {
    Y[j] = (int)(nn_rng_u64(seed, 7, (uint64_t)j) % (uint64_t)k);
    for (int i = 0; i < d; i++) X[i + (size_t)j * d] = nn_rng_normal(seed, 8, (uint64_t)j * d + i) + 0.8 * (i % k == Y[j]);
  }
}

static void random_model(nn_model *m, uint64_t seed)
{
  nn_model_init(m, NN_INIT_HE, (long)seed);
  for (int l = 1; l <= m->L; l++)
    for (int i = 0; i < m->n[l]; i++) m->b[l][i] = (real)(0.1 * nn_rng_normal(seed, 9000 + l, i));
}

/* ---------------------------------------------------------------------------------------
 * Backpropagation */

/* Central finite differences of the summed loss (by the true forward pass, nn_forward_eval)
 * against nn_gradient_sum; float64 only, where h = 1e-6 leaves ~1e-10 of truncation and
 * rounding error. */
#ifndef NN_FLOAT32
/* The summed loss of the true forward pass: cross-entropy against Y, or with T the squared
 * loss against the real targets T (regression). */
static double summed_loss(const nn_model *m, const double *X, const int *Y, const double *T, long N)
{
  long c = 0;
  double f = 0;
  if (T) nn_forward_eval_targets(m, X, T, N, &f);
  else nn_forward_eval(m, X, Y, N, NN_LOSS_CROSS_ENTROPY, &c, &f);
  return f;
}
#endif

static void test_finite_differences(int resnet, int sigmoid, int squared)
{
#ifndef NN_FLOAT32
  /* resnet (model.h): input layer 5 -> 6, two residual blocks of width 6, output 3 */
  int mlp_n[] = { 5, 7, 6, 3 }, res_n[] = { 5, 6, 6, 6, 3 }, *n = resnet ? res_n : mlp_n, L = resnet ? 4 : 3;
  long N = 4;
  nn_model m;
  nn_model_alloc(&m, L, n, 1);
  m.resnet = resnet;
  m.sigmoid = sigmoid;
  random_model(&m, 11);
  double *X = malloc(sizeof(double) * n[0] * N);
  int *Y = malloc(sizeof(int) * N);
  make_data(X, Y, n[0], n[L], N, 12);
  size_t off_W[NN_MAX_LAYERS + 1], off_b[NN_MAX_LAYERS + 1];
  size_t P = nn_gradient_layout(&m, off_W, off_b);
  double *g = malloc(sizeof(double) * P);
  /* squared: real targets, as --data regression trains them */
  double *T = squared ? malloc(sizeof(double) * n[L] * N) : NULL;
  for (long e = 0; squared && e < (long)n[L] * N; e++) T[e] = nn_rng_normal(13, 5, (uint64_t)e);
  double loss = nn_gradient_sum(&m, X, Y, T, squared ? NN_LOSS_LEAST_SQUARES : NN_LOSS_CROSS_ENTROPY, N, g);
  double f0 = summed_loss(&m, X, Y, T, N);
  EXPECT(fabs(loss - f0) <= 1e-12 * fabs(f0), "summed loss %.17g differs from the forward pass %.17g", loss, f0);
  if (resnet && !squared) {
    /* the forward pass itself, by plain loops over the definition (model.h) */
    double ref = 0;
    for (long j = 0; j < N; j++) {
      double v[2][8], *in = v[0], *out = v[1];
      for (int i = 0; i < n[0]; i++) in[i] = X[i + (size_t)j * n[0]];
      for (int l = 1; l <= L; l++) {
        for (int i = 0; i < n[l]; i++) {
          double z = m.b[l][i];
          for (int k = 0; k < n[l - 1]; k++) z += m.W[l][i + (size_t)k * n[l]] * in[k];
          double act = sigmoid ? 1 / (1 + exp(-z)) : fmax(z, 0);
          out[i] = l == 1 || l == L ? z : in[i] + act;
        }
        double *t = in;
        in = out;
        out = t;
      }
      double zmax = in[0], e = 0;
      for (int i = 1; i < n[L]; i++) zmax = fmax(zmax, in[i]);
      for (int i = 0; i < n[L]; i++) e += exp(in[i] - zmax);
      ref += log(e) + zmax - in[Y[j]];
    }
    EXPECT(fabs(ref - f0) <= 1e-12 * fabs(ref), "resnet forward pass %.17g differs from plain loops %.17g", f0, ref);
  }

  double h = 1e-6, num = 0, den = 0, worst = 0;
  for (int l = 1; l <= L; l++)
    for (int which = 0; which < 2; which++) {
      real *p = which ? m.b[l] : m.W[l];
      size_t cnt = which ? (size_t)n[l] : (size_t)n[l] * n[l - 1], off = which ? off_b[l] : off_W[l];
      for (size_t i = 0; i < cnt; i++) {
        double keep = p[i], fp = 0, fm = 0;
        p[i] = keep + h;
        fp = summed_loss(&m, X, Y, T, N);
        p[i] = keep - h;
        fm = summed_loss(&m, X, Y, T, N);
        p[i] = keep;
        double fd = (fp - fm) / (2 * h), e = fabs(fd - g[off + i]);
        num += e * e;
        den += fd * fd;
        worst = fmax(worst, e / fmax(fabs(fd), 1e-3));
      }
    }
  double rel = sqrt(num / den);
  char net[96];
  snprintf(net, sizeof net, "%s, %s", resnet ? sigmoid ? "resnet 5-6-(6)x2-3, sigmoid" : "resnet 5-6-(6)x2-3, relu"
           : "mlp 5-7-6-3", squared ? "squared loss on real targets" : "cross-entropy");
  if (me == 0) printf("backprop vs central differences (%s, 4 samples): relative error %.2e, worst entry %.2e\n", net, rel, worst);
  /* the residual network's summed loss is larger (its outputs grow along the skips), and so is
   * the rounding floor eps |f| / h of the entries with small gradients */
  double worst_tol = resnet ? 1e-5 : 1e-6;
  EXPECT(rel < 1e-6 && worst < worst_tol, "backprop vs finite differences (%s): relative error %.3e, worst entry %.3e", net,
         rel, worst);
  free(X);
  free(Y);
  free(T);
  free(g);
  nn_model_free(&m);
#else
  (void)resnet;
  (void)sigmoid;
  (void)squared;
#endif
}

/* nn_gradient_sum against the one-sample-at-a-time reference, for N = 1 (the gemv/ger
 * path), an odd N, and a wider N, in this build's precision. */
static void test_backprop_reference(void)
{
  int n[] = { 9, 13, 5, 4 }, L = 3;
  long Ns[] = { 1, 7, 130 };
  for (int c = 0; c < 3; c++) {
    long N = Ns[c];
    nn_model m;
    nn_model_alloc(&m, L, n, 1);
    random_model(&m, 21 + c);
    ref_net r;
    ref_alloc(&r, L, n);
    ref_from_model(&r, &m);
    double *X = malloc(sizeof(double) * n[0] * N);
    real *Xr = malloc(sizeof(real) * n[0] * N);
    int *Y = malloc(sizeof(int) * N);
    make_data(X, Y, n[0], n[L], N, 22 + c);
    for (size_t i = 0; i < (size_t)n[0] * N; i++) Xr[i] = (real)X[i];
    for (size_t i = 0; i < (size_t)n[0] * N; i++) X[i] = Xr[i]; /* the reference sees the same inputs */
    size_t off_W[NN_MAX_LAYERS + 1], off_b[NN_MAX_LAYERS + 1];
    size_t P = nn_gradient_layout(&m, off_W, off_b);
    real *g = malloc(sizeof(real) * P);
    double *gr = calloc(P, sizeof(double)), lr_ = 0;
    double loss = nn_gradient_sum(&m, Xr, Y, NULL, NN_LOSS_CROSS_ENTROPY, N, g);
    for (long j = 0; j < N; j++) lr_ += ref_sample_grad(&r, X + (size_t)j * n[0], Y[j], gr);
    double e = 0, s = 0;
    for (size_t i = 0; i < P; i++) {
      e = fmax(e, fabs(g[i] - gr[i]));
      s = fmax(s, fabs(gr[i]));
    }
    EXPECT(e <= TOL_GRAD * s, "backprop of %ld columns vs plain loops: max error %.3e (max |g| %.3e)", N, e, s);
    EXPECT(fabs(loss - lr_) <= TOL_GRAD * fabs(lr_), "loss of %ld columns %.10g vs %.10g", N, loss, lr_);
    free(X);
    free(Xr);
    free(Y);
    free(g);
    free(gr);
    ref_free(&r);
    nn_model_free(&m);
  }
}

static void test_shuffle(void)
{
  long n = 1000, *p = malloc(sizeof(long) * n), *q = malloc(sizeof(long) * n);
  char *seen = calloc(n, 1);
  nn_shuffle(p, n, 7, 5, 3);
  int ok = 1;
  for (long i = 0; i < n; i++) {
    ok &= p[i] >= 0 && p[i] < n && !seen[p[i]];
    if (p[i] >= 0 && p[i] < n) seen[p[i]] = 1;
  }
  EXPECT(ok, "the shuffle is not a permutation of 0..%ld", n - 1);
  nn_shuffle(q, n, 7, 5, 3);
  EXPECT(memcmp(p, q, sizeof(long) * n) == 0, "the same (seed, epoch) gave two different orders");
  nn_shuffle(q, n, 7, 5, 4);
  long same = 0;
  for (long i = 0; i < n; i++) same += p[i] == q[i];
  EXPECT(same < 20, "epochs 3 and 4 share %ld of %ld positions (expected about 1)", same, n);
  free(p);
  free(q);
  free(seen);

  /* Balance: with shards cut by nn_partition, every full batch gives each of P ranks exactly
   * batch / P columns when P divides the batch, and one more or less than that otherwise; every
   * batch (short last one included) is a set of distinct samples and all batches together
   * are 0..n-1. */
  const long ns[] = { 1000, 997, 60000, 11 }, Bs[] = { 1, 2, 7, 64, 128, 1000 };
  int balanced = 1, perm_ok = 1;
  for (size_t a = 0; a < sizeof ns / sizeof *ns; a++)
    for (size_t b = 0; b < sizeof Bs / sizeof *Bs; b++) {
      long N = ns[a], B = Bs[b];
      long *o = malloc(sizeof(long) * N);
      char *hit = calloc(N, 1);
      EXPECT(nn_shuffle(o, N, B, 9, 1) == 0, "nn_shuffle failed for n=%ld", N);
      for (long i = 0; i < N; i++) {
        perm_ok &= o[i] >= 0 && o[i] < N && !hit[o[i]];
        if (o[i] >= 0 && o[i] < N) hit[o[i]] = 1;
      }
      for (int P = 1; P <= 8; P++)
        for (long s0 = 0; s0 + B <= N; s0 += B)
          for (int r = 0; r < P; r++) {
            long first, count, mine = 0;
            nn_partition(N, r, P, &first, &count);
            for (long i = s0; i < s0 + B; i++) mine += o[i] >= first && o[i] < first + count;
            /* exact when P divides B; otherwise a shard also meets two strata in part */
            long lo = B % P ? B / P - 1 : B / P, hi = B % P ? (B + P - 1) / P + 1 : B / P;
            if (B <= N && (mine < lo || mine > hi)) {
              if (balanced) printf("unbalanced: n=%ld batch=%ld P=%d rank %d holds %ld of batch at %ld\n", N, B, P,
                                   r, mine, s0);
              balanced = 0;
            }
          }
      free(o);
      free(hit);
    }
  EXPECT(perm_ok, "a stratified shuffle is not a permutation");
  EXPECT(balanced, "a full batch is split unevenly between ranks");
}

/* ---------------------------------------------------------------------------------------
 * The hierarchical gradient sum (solver/node_sum.c) against its closed form. Segment
 * values are small integers, so every sum is exact in either precision and checked bit for
 * bit; the slices must cover each group's buffer exactly once and match across groups; the
 * parameters must be one array per group, visible to all of it after a publish. */

static void test_node_sum(int group, size_t P)
{
  nn_node_sum s;
  char note[256];
  EXPECT(nn_node_sum_create(&s, P, group, note, sizeof note) == 0, "nn_node_sum_create failed (P=%zu)", P);
  /* groups of `group` ranks (the test runs on one node); uneven groups fall back to 1 */
  int want = group == 0 ? nranks : group < nranks ? group : nranks;
  int uneven = nranks % want != 0;
  EXPECT(uneven ? s.nlocal == 1 && note[0] : s.nlocal == want && !note[0],
         "--reduce-group %d on %d ranks: %d ranks share a window (note: '%s')", group, nranks, s.nlocal, note);
  EXPECT(s.nlocal * s.ngroups == nranks, "%d ranks per group x %d groups != %d ranks", s.nlocal, s.ngroups, nranks);

  for (size_t i = 0; i < P; i++) s.mine[i] = (real)((me + 1) * 1000 + (long)(i % 997));
  nn_node_sum_reduce(&s);
  long bad = 0;
  for (size_t i = s.lo; i < s.hi; i++) {
    double want_sum = 1000.0 * nranks * (nranks + 1) / 2 + (double)nranks * (double)(i % 997);
    bad += s.sum[i - s.lo] != want_sum;
  }
  EXPECT(bad == 0, "group %d, P=%zu: %ld of %zu summed values wrong", group, P, bad, s.hi - s.lo);

  int *cover = calloc(P, sizeof(int));
  for (size_t i = s.lo; i < s.hi && i < P; i++) cover[i]++;
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, cover, (int)P, MPI_INT, MPI_SUM, s.node));
  long once = 0;
  for (size_t i = 0; i < P; i++) once += cover[i] == 1;
  long bounds[2] = { (long)s.lo, -(long)s.lo }, bounds_hi[2] = { (long)s.hi, -(long)s.hi };
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, bounds, 2, MPI_LONG, MPI_MAX, s.cross));
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, bounds_hi, 2, MPI_LONG, MPI_MAX, s.cross));
  EXPECT(once == (long)P && s.lo <= s.hi && s.hi <= P, "group %d, P=%zu: slices cover %ld of %zu values once",
         group, P, once, P);
  EXPECT(bounds[0] == -bounds[1] && bounds_hi[0] == -bounds_hi[1],
         "group %d, P=%zu: the ranks of one slice across groups disagree on its bounds", group, P);
  free(cover);

  /* One writer, then every rank its slice: all of the group reads both. */
  if (s.local == 0)
    for (size_t i = 0; i < P; i++) s.param[i] = (real)i;
  nn_node_sum_publish(&s);
  long seen = 0;
  for (size_t i = 0; i < P; i++) seen += s.param[i] == (real)i;
  nn_node_sum_publish(&s); /* nobody overwrites what another still reads */
  for (size_t i = s.lo; i < s.hi; i++) s.param[i] = -(real)i - 1;
  nn_node_sum_publish(&s);
  for (size_t i = 0; i < P; i++) seen += s.param[i] == -(real)i - 1;
  EXPECT(seen == 2 * (long)P, "group %d, P=%zu: %ld of %zu shared parameters as written", group, P, seen, 2 * P);
  nn_node_sum_free(&s);
}

/* ---------------------------------------------------------------------------------------
 * Whole epochs, distributed over however many ranks run this program. */

typedef struct {
  const char *method;
  long B;
  double lr;
} traj_case;

static void test_trajectory(const traj_case *tc, int group)
{
  int n[] = { 5, 7, 6, 3 }, L = 3, epochs = 2;
  long N = 11, seed = 31;
  double *X = malloc(sizeof(double) * n[0] * N);
  int *Y = malloc(sizeof(int) * N);
  make_data(X, Y, n[0], n[L], N, 32);
  for (size_t i = 0; i < (size_t)n[0] * N; i++) X[i] = (real)X[i];

  nn_shard sh = { .d = n[0], .classes = n[L], .n_global = N };
  nn_partition(N, me, nranks, &sh.first, &sh.n);
  real *shx = malloc(sizeof(real) * n[0] * (sh.n ? sh.n : 1));
  sh.x = shx;
  sh.float32 = sizeof(real) == sizeof(float);
  sh.label = malloc(sizeof(int) * (sh.n ? sh.n : 1));
  for (long j = 0; j < sh.n; j++) {
    for (int i = 0; i < n[0]; i++) shx[i + (size_t)j * n[0]] = (real)X[i + (size_t)(sh.first + j) * n[0]];
    sh.label[j] = Y[sh.first + j];
  }

  nn_config cfg;
  memset(&cfg, 0, sizeof cfg);
  snprintf(cfg.method, sizeof cfg.method, "%s", tc->method);
  cfg.float32 = sizeof(real) == sizeof(float);
  cfg.L = L;
  for (int l = 0; l <= L; l++) cfg.n[l] = n[l];
  cfg.loss = NN_LOSS_CROSS_ENTROPY;
  cfg.lr = tc->lr;
  cfg.batch = tc->B;
  cfg.momentum = 0.9;
  cfg.seed = seed;
  cfg.reduce_group = group;

  nn_model m;
  nn_model_alloc(&m, L, n, 1);
  random_model(&m, 33);
  ref_net r;
  ref_alloc(&r, L, n);
  ref_from_model(&r, &m);

  /* through the registry of this precision's table, as the driver */
  const nn_method *entry = nn_method_find_in(nn_numerics_of(&cfg)->methods, cfg.method);
  nn_method_run meth = nn_method_create(entry, &cfg, &m, &sh, NULL);
  nn_epoch_stats st;
  nn_timer t;
  nn_timer_reset(&t);
  for (int e = 1; e <= epochs; e++) meth.ops->epoch(meth.self, e, &st, &t);
  nn_method_destroy(&meth);
  ref_train(&r, tc->method, X, Y, N, tc->B, tc->lr, 0.9, seed, epochs);

  /* batches in which some rank held no column: the case that must still work */
  long *perm = malloc(sizeof(long) * N), empty = 0;
  for (int e = 1; e <= epochs; e++) {
    nn_shuffle(perm, N, tc->B, seed, e);
    for (long s0 = 0; s0 < N; s0 += tc->B) {
      long mine = 0;
      for (long i = s0; i < N && i < s0 + tc->B; i++) mine += perm[i] >= sh.first && perm[i] < sh.first + sh.n;
      empty += mine == 0;
    }
  }
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &empty, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD));

  double e = 0, s = 0;
  int same = 1;
  for (int l = 1; l <= L; l++) {
    size_t cnt = (size_t)n[l] * n[l - 1];
    for (size_t i = 0; i < cnt; i++) {
      e = fmax(e, fabs(m.W[l][i] - r.W[l][i]));
      s = fmax(s, fabs(r.W[l][i]));
    }
    for (int i = 0; i < n[l]; i++) {
      e = fmax(e, fabs(m.b[l][i] - r.b[l][i]));
      s = fmax(s, fabs(r.b[l][i]));
    }
    /* every rank must hold the very same bits */
    real *w0 = malloc(sizeof(real) * (cnt + n[l]));
    memcpy(w0, m.W[l], sizeof(real) * cnt);
    memcpy(w0 + cnt, m.b[l], sizeof(real) * n[l]);
    CHECK_MPI(MPI_Bcast(w0, (int)(cnt + n[l]), MPI_REAL_T, 0, MPI_COMM_WORLD));
    same &= memcmp(w0, m.W[l], sizeof(real) * cnt) == 0 && memcmp(w0 + cnt, m.b[l], sizeof(real) * n[l]) == 0;
    free(w0);
  }
  if (me == 0)
    printf("%-8s batch %3ld, %d ranks, --reduce-group %d (%ld batch(es) with an idle rank), 2 epochs vs "
           "reference: max error %.2e (max |w| %.2f), objective %.4f\n",
           tc->method, tc->B, nranks, group, empty, e, s, st.objective);
  EXPECT(e <= TOL_TRAJ * s,
         "%s batch %ld on %d ranks, --reduce-group %d: weights differ from the reference by %.3e (max |w| %.3e)",
         tc->method, tc->B, nranks, group, e, s);
  EXPECT(same, "%s batch %ld: ranks hold different weights", tc->method, tc->B);
  EXPECT(isfinite(st.objective) && isnan(st.residual_z) && isnan(st.residual_a), "%s: epoch statistics %g %g %g",
         tc->method, st.objective, st.residual_z, st.residual_a);

  free(perm);
  free(X);
  free(Y);
  free(sh.x);
  free(sh.label);
  ref_free(&r);
  nn_model_free(&m);
}

/* ---------------------------------------------------------------------------------------
 * Checks on admm-train's results files. */

/* Reads a floating-point dataset or attribute as double; returns its element count, or -1. */
static long h5_read(hid_t file, const char *dset, double **out)
{
  hid_t d = H5Dopen2(file, dset, H5P_DEFAULT);
  if (d < 0) return -1;
  hid_t sp = H5Dget_space(d);
  hssize_t cnt = H5Sget_simple_extent_npoints(sp);
  *out = malloc(sizeof(double) * (cnt > 0 ? cnt : 1));
  herr_t rc = H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out);
  H5Sclose(sp);
  H5Dclose(d);
  return rc < 0 ? -1 : (long)cnt;
}

static int h5cmp(const char *fa, const char *fb, double tol)
{
  hid_t a = H5Fopen(fa, H5F_ACC_RDONLY, H5P_DEFAULT), b = H5Fopen(fb, H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT(a >= 0 && b >= 0, "cannot open %s or %s", fa, fb);
  if (a < 0 || b < 0) return testing_finish();
  int layers = 0;
  double layer_scale = 0; /* a layer's max |W|: its biases are compared on the layer's scale (ADMM
                           * runs can keep biases at rounding level, where a relative check of the
                           * biases alone compares rounding errors) */
  for (int l = 1; l <= NN_MAX_LAYERS; l++)
    for (int which = 0; which < 2; which++) {
      char name[32];
      snprintf(name, sizeof name, "/weights/%c%d", which ? 'b' : 'W', l);
      if (H5Lexists(a, name, H5P_DEFAULT) <= 0) continue;
      double *x = NULL, *y = NULL;
      long nx = h5_read(a, name, &x), ny = h5_read(b, name, &y);
      EXPECT(nx > 0 && nx == ny, "%s: %ld values in %s, %ld in %s", name, nx, fa, ny, fb);
      if (nx > 0 && nx == ny) {
        double e = 0, s = 0;
        for (long i = 0; i < nx; i++) {
          e = fmax(e, fabs(x[i] - y[i]));
          s = fmax(s, fabs(x[i]));
        }
        if (which) s = fmax(s, layer_scale);
        else layer_scale = s;
        if (tol == 0) {
          EXPECT(memcmp(x, y, sizeof(double) * nx) == 0, "%s differs (max %.3e): expected identical bits", name, e);
        } else {
          EXPECT(e <= tol * s, "%s: max difference %.3e exceeds %.1e x max |w| = %.3e", name, e, tol, tol * s);
        }
        printf("%s: %ld values, max |difference| %.3e (max |w| %.3e)\n", name, nx, e, s);
        layers += !which;
      }
      free(x);
      free(y);
    }
  EXPECT(layers > 0, "no /weights/W* datasets in %s", fa);
  H5Fclose(a);
  H5Fclose(b);
  return testing_finish();
}

static int h5learn(const char *f, double min_acc)
{
  hid_t h = H5Fopen(f, H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT(h >= 0, "cannot open %s", f);
  if (h < 0) return testing_finish();
  double *obj = NULL, *acc = NULL;
  long E = h5_read(h, "/epochs/objective", &obj), E2 = h5_read(h, "/epochs/test_acc", &acc);
  EXPECT(E >= 2 && E == E2, "need at least two epochs in %s (got %ld, %ld)", f, E, E2);
  if (E >= 2 && E == E2) {
    printf("%s: objective %.4f -> %.4f, test accuracy %.4f -> %.4f over %ld epochs\n", f, obj[0], obj[E - 1],
           acc[0], acc[E - 1], E);
    EXPECT(obj[E - 1] < 0.5 * obj[0], "objective did not halve: %.4f -> %.4f", obj[0], obj[E - 1]);
    EXPECT(acc[E - 1] > acc[0], "test accuracy did not rise: %.4f -> %.4f", acc[0], acc[E - 1]);
    EXPECT(acc[E - 1] > min_acc, "final test accuracy %.4f is not above %.2f", acc[E - 1], min_acc);
  }
  free(obj);
  free(acc);
  H5Fclose(h);
  return testing_finish();
}

int main(int argc, char **argv)
{
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &me);
  MPI_Comm_size(MPI_COMM_WORLD, &nranks);
  int rc;
  if (argc == 5 && !strcmp(argv[1], "h5cmp"))
    rc = h5cmp(argv[2], argv[3], atof(argv[4]));
  else if (argc == 4 && !strcmp(argv[1], "h5learn"))
    rc = h5learn(argv[2], atof(argv[3]));
  else {
    test_finite_differences(0, 0, 0);
    test_finite_differences(1, 0, 0);
    test_finite_differences(1, 1, 0);
    test_finite_differences(0, 0, 1);
    test_finite_differences(1, 0, 1);
    test_backprop_reference();
    test_shuffle();
    traj_case cases[] = {
      { "gd", 3, 0.1 },        /* short last batch (11 = 3+3+3+2) */
      { "gd", 2, 0.1 },        /* at 2 ranks some batches miss a rank entirely */
      { "gd", 64, 0.5 },       /* batch larger than the data: one full-batch step */
      { "momentum", 4, 0.05 },
      { "adam", 5, 0.01 },
      { "adam", 1, 0.01 },     /* batch 1 into the gradient buffer (outer products, no fusing) */
      { "sgd", 1, 0.05 },      /* pure SGD: the fused gemv/ger path, 1 rank only */
    };
    /* node_sum: whole node, every rank alone, pairs (two "nodes" at 4 ranks), uneven groups */
    const int groups[] = { 0, 1, 2, 3 };
    const size_t sizes[] = { 1, 5, 100, 1003 };
    for (size_t g = 0; g < 4; g++)
      for (size_t k = 0; k < 4; k++) test_node_sum(groups[g], sizes[k]);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
      if (cases[c].B == 1 && nranks > 1) continue; /* refused on several ranks, by design */
      for (int group = 0; group <= (nranks > 2 ? 2 : 1); group++) test_trajectory(&cases[c], group);
    }
    rc = testing_finish();
  }
  MPI_Finalize();
  return rc;
}
