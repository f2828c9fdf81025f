/* Tests of the BCD engine (--method admm --preset best) (solver/bcd.c) on a small synthetic problem (13-17-11-3, block size 4
 * so block-cyclic edges are exercised), at whatever rank count mpiexec gives:
 *   - each step is the exact minimiser of its block: the optimality condition of the strictly
 *     convex block problem (a, W, output) is checked with plain loops; the z step against a
 *     brute-force grid search of its 1-D objective;
 *   - the merit F never rises within a sweep (no re-anchoring: pure BCD), step by step;
 *   - after re-anchoring, F equals the least-squares loss of the true forward pass;
 *   - the pair initialisation puts each unit's two samples at pre-activations -1 and +1;
 *   - mini-batch bcd: the readout after an epoch is the ridge solution on every sample, and
 *     the objective is the forward loss; its batches do not depend on the rank count.
 * Modes: `test_bcd` runs the checks; `test_bcd dump FILE` writes the weights after 3 sweeps
 * (rank 0), `test_bcd dump-batches FILE` after 3 mini-batch epochs; `test_bcd cmp A B TOL` compares two dumps (rank-count agreement, see bcd.cmake). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../io/dataset.h"
#include "../solver/bcd.h"
#include "../common/check.h"
#include "../solver/init_pairs.h"
#include "../common/rng.h"
#include "../solver/scalapack.h"
#include "testing.h"

#ifdef NN_FLOAT32
#define TOL 2e-3
#define PAIR_TOL 1e-3
#else
#define TOL 1e-8
#define PAIR_TOL 1e-6
#endif

static const int WIDTHS[4] = { 13, 17, 11, 3 };

static void make_config(nn_config *cfg, int reanchor)
{
  memset(cfg, 0, sizeof *cfg);
  snprintf(cfg->method, sizeof cfg->method, "bcd");
  snprintf(cfg->data, sizeof cfg->data, "synthetic");
  cfg->normalize = NN_NORMALIZE_NONE;
  cfg->L = 3;
  for (int l = 0; l <= 3; l++) cfg->n[l] = WIDTHS[l];
  cfg->n_train = 301;
  cfg->n_test = 16;
  cfg->beta = 0.7;
  cfg->gamma = 1.3;
  cfg->ridge = 1e-3;
  cfg->seed = 5;
  cfg->init = NN_INIT_PAIRS;
  cfg->bcd_prox = 0.05;
  cfg->bcd_decay = 0.02;
  cfg->bcd_reanchor = reanchor;
  cfg->bcd_growth = 1;
  cfg->float32 = sizeof(real) == sizeof(float);
}

static int me_rank(void)
{
  int r;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

static double relu(double v) { return v > 0 ? v : 0; }

/* sum over ranks of a local double */
static double allsum(double v)
{
  MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  return v;
}

/* m = Wbar_l abar (one column j of a_{l-1}), plain loops */
static double pre(const nn_model *net, int l, const real *a, long j, int i)
{
  int in = net->n[l - 1], out = net->n[l];
  double s = net->b[l][i];
  for (int q = 0; q < in; q++) s += (double)net->W[l][i + (size_t)q * out] * a[q + (size_t)j * in];
  return s;
}

/* Optimality of the a step: c W_u^T (W_u a + b_u - t) + gamma (a - relu(z_l)) = 0, per column. */
static void check_activation_step(nn_bcd *s, int l)
{
  const nn_model *net = s->net;
  int u = l + 1, nl = net->n[l], nu = net->n[u];
  double c = u == s->L ? 1 : s->beta, worst = 0, scale = 1e-30;
  for (long j = 0; j < s->N; j++) {
    double r[64];
    for (int i = 0; i < nu; i++) {
      double t = u == s->L ? s->T[i + (size_t)j * nu] : s->z[u][i + (size_t)j * nu];
      r[i] = pre(net, u, s->a[l], j, i) - t;
    }
    for (int q = 0; q < nl; q++) {
      double g = s->gamma * (s->a[l][q + (size_t)j * nl] - relu(s->z[l][q + (size_t)j * nl]));
      double h = 0;
      for (int i = 0; i < nu; i++) h += c * net->W[u][i + (size_t)q * nu] * r[i];
      worst = fmax(worst, fabs(g + h));
      scale = fmax(scale, fabs(g));
    }
  }
  EXPECT(worst <= TOL * 10 * fmax(scale, 1), "a step of layer %d: optimality residual %.3g (scale %.3g)", l, worst, scale);
}

/* The z step against a grid search of gamma (a - relu(z))^2 + beta (z - m)^2 on a few entries. */
static void check_z_step(nn_bcd *s, int l)
{
  const nn_model *net = s->net;
  int nl = net->n[l], bad = 0;
  for (long j = 0; j < s->N && j < 20; j++)
    for (int i = 0; i < nl; i++) {
      double a = s->a[l][i + (size_t)j * nl], m = pre(net, l, s->a[l - 1], j, i), z = s->z[l][i + (size_t)j * nl];
      double fz = s->gamma * (a - relu(z)) * (a - relu(z)) + s->beta * (z - m) * (z - m);
      for (double v = -6; v <= 6; v += 1e-3) {
        double f = s->gamma * (a - relu(v)) * (a - relu(v)) + s->beta * (v - m) * (v - m);
        if (f < fz - 1e-9 * (1 + fabs(fz))) { bad++; break; }
      }
    }
  EXPECT(bad == 0, "z step of layer %d: %d entries beaten by a grid search", l, bad);
}

/* Optimality of a weight (or output) step: (abar abar^T + mu I) X = abar t^T + mu X_old,
 * summed over ranks, with t = z_l (hidden) or the targets T (output, X_old term absent); a
 * hidden step also has the decay: + rho X. */
static void check_weight_step(nn_bcd *s, int l, const real *Wold, const real *bold, double mu, double rho)
{
  const nn_model *net = s->net;
  int in = net->n[l - 1], out = net->n[l];
  const real *a = s->a[l - 1];
  double *res = calloc((size_t)(in + 1) * out, sizeof(double)), scale = 1e-30;
  for (long j = 0; j < s->N; j++)
    for (int i = 0; i < out; i++) {
      double t = l == s->L ? s->T[i + (size_t)j * out] : s->z[l][i + (size_t)j * out];
      double e = pre(net, l, a, j, i) - t; /* Wbar abar - t */
      for (int q = 0; q <= in; q++) res[q + (size_t)i * (in + 1)] += (q < in ? a[q + (size_t)j * in] : 1.0) * e;
    }
  MPI_Allreduce(MPI_IN_PLACE, res, (in + 1) * out, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  double worst = 0;
  for (int i = 0; i < out; i++)
    for (int q = 0; q <= in; q++) {
      double w = q < in ? net->W[l][i + (size_t)q * out] : net->b[l][i];
      double w0 = Wold ? (q < in ? Wold[i + (size_t)q * out] : bold[i]) : 0;
      double r = res[q + (size_t)i * (in + 1)] + mu * (w - w0) + rho * w;
      worst = fmax(worst, fabs(r));
      scale = fmax(scale, fabs(res[q + (size_t)i * (in + 1)]));
    }
  EXPECT(worst <= TOL * 100 * fmax(scale, 1), "weight step of layer %d: normal-equation residual %.3g (scale %.3g)",
         l, worst, scale);
  free(res);
}

/* T after a targets step must be the clip of the outputs W_L a_{L-1} + b_L onto C (bcd.h),
 * computed here by plain loops; returns the number of wrong entries on this rank. */
static long check_targets(const nn_bcd *s)
{
  const nn_model *net = s->net;
  int L = s->L, k = net->n[L], in = net->n[L - 1];
  long bad = 0;
  for (long j = 0; j < s->N; j++)
    for (int i = 0; i < k; i++) {
      double o = net->b[L][i];
      for (int p = 0; p < in; p++) o += (double)net->W[L][i + (size_t)p * k] * s->a[L - 1][p + (size_t)j * in];
      double want = i == s->label[j] ? fmax(o, 1) : fmin(o, 0);
      bad += fabs(s->T[i + (size_t)j * k] - want) > 10 * TOL * (1 + fabs(want));
    }
  return bad;
}

static double wbar_norm2(const nn_model *net, int l)
{
  double w2 = 0;
  for (size_t e = 0; e < (size_t)net->n[l] * net->n[l - 1]; e++) w2 += (double)net->W[l][e] * net->W[l][e];
  for (int e = 0; e < net->n[l]; e++) w2 += (double)net->b[l][e] * net->b[l][e];
  return w2;
}

static void test_steps_and_merit(const nn_grid *g, enum nn_loss loss)
{
  nn_config cfg;
  make_config(&cfg, 0);
  cfg.loss = loss;
  const char *name = loss == NN_LOSS_SQUARED_HINGE ? "squared-hinge" : "least-squares";
  long bad_targets = 0, clipped = 0;
  nn_data data;
  nn_data_load(&data, &cfg);
  nn_model net;
  nn_model_alloc(&net, cfg.L, cfg.n, 1);
  nn_model_init(&net, cfg.init, cfg.seed);
  nn_init_pairs(&net, &data.train, cfg.seed);
  nn_bcd s;
  nn_bcd_init(&s, &cfg, &net, &data.train, g);
  nn_timer t;
  nn_timer_reset(&t);
  check_weight_step(&s, s.L, NULL, NULL, s.wsys[s.L].ridge_abs, 0);
  double f = nn_bcd_merit(&s), rise = 0;
  real *Wold = malloc(sizeof(real) * 17 * 17), *bold = malloc(sizeof(real) * 17);
  for (int sweep = 0; sweep < 4; sweep++) {
    for (int l = s.L - 1; l >= 1; l--) {
      nn_bcd_activation_step(&s, l, &t);
      double fa = nn_bcd_merit(&s);
      check_activation_step(&s, l);
      double ra;
      nn_bcd_z_step(&s, l, &ra, &t);
      double fz = nn_bcd_merit(&s);
      check_z_step(&s, l);
      memcpy(Wold, net.W[l], sizeof(real) * net.n[l] * net.n[l - 1]);
      memcpy(bold, net.b[l], sizeof(real) * net.n[l]);
      double w2old = wbar_norm2(&net, l);
      nn_bcd_weight_step(&s, l, &t);
      double fw = nn_bcd_merit(&s);
      /* the step's ridge mu + rho splits as --bcd-prox : --bcd-decay; F + rho/2 |Wbar_l|^2 must not rise */
      double share = cfg.bcd_decay / (cfg.bcd_prox + cfg.bcd_decay), rho = s.wsys[l].ridge_abs * share;
      check_weight_step(&s, l, Wold, bold, s.wsys[l].ridge_abs - rho, rho);
      double dw = 0.5 * rho * (wbar_norm2(&net, l) - w2old) / (double)data.train.n_global;
      rise = fmax(rise, fmax(fa - f, fmax(fz - fa, fw + dw - fz)) / f);
      f = fw;
    }
    /* The output solve minimises F + mu/2 |Wbar_L|^2 (mu the ridge it adds, which follows the
     * Gram matrix's trace): that sum, with the new mu on both sides, must not rise. */
    double w2old = 0, w2new = 0;
    int L = s.L, nW = net.n[L] * net.n[L - 1];
    for (int e = 0; e < nW; e++) w2old += (double)net.W[L][e] * net.W[L][e];
    for (int e = 0; e < net.n[L]; e++) w2old += (double)net.b[L][e] * net.b[L][e];
    /* Its targets step (squared-hinge) runs from the second output step on, W_L as it was. */
    nn_model before;
    nn_model_alloc(&before, net.L, net.n, 1);
    nn_model_copy(&before, &net);
    s.sweeps = sweep + 1;
    nn_bcd_output_step(&s, 0, &t);
    if (loss == NN_LOSS_SQUARED_HINGE) {
      s.net = &before;
      bad_targets += check_targets(&s);
      s.net = &net;
      for (size_t e = 0; e < (size_t)net.n[L] * s.N; e++) clipped += s.T[e] != 0 && s.T[e] != 1;
    }
    nn_model_free(&before);
    double fo = nn_bcd_merit(&s), mu = s.wsys[L].ridge_abs / (double)data.train.n_global;
    for (int e = 0; e < nW; e++) w2new += (double)net.W[L][e] * net.W[L][e];
    for (int e = 0; e < net.n[L]; e++) w2new += (double)net.b[L][e] * net.b[L][e];
    rise = fmax(rise, ((fo + 0.5 * mu * w2new) - (f + 0.5 * mu * w2old)) / f);
    check_weight_step(&s, s.L, NULL, NULL, s.wsys[s.L].ridge_abs, 0);
    if (me_rank() == 0) printf("bcd %s sweep %d: merit %.10g\n", name, sweep + 1, fo);
    f = fo;
  }
  EXPECT(rise <= 10 * TOL, "%s: the merit rose within a sweep by %.3g (relative)", name, rise);
  if (loss == NN_LOSS_SQUARED_HINGE) {
    EXPECT(bad_targets == 0, "squared-hinge: %ld targets are not the clipped outputs", bad_targets);
    /* not a vacuous check: the targets must have moved off the one-hot labels */
    EXPECT(allsum((double)clipped) > 0, "squared-hinge: no target ever left the one-hot labels");
  }

  /* Re-anchoring: F becomes the loss of the true forward pass (least squares), or bounds it
   * from above (squared hinge: T is the projection of the outputs before the output solve,
   * the loss the distance of the outputs after it). The sweep reports F computed from the
   * output solve's Gram matrix; it must equal F by the forward pass. */
  s.sweeps++;
  nn_bcd_output_step(&s, 1, &t);
  double fm = nn_bcd_merit(&s);
  long correct = 0;
  double fwd = 0;
  nn_forward_eval(&net, data.train.x, data.train.label, data.train.n, cfg.loss, &correct, &fwd);
  fwd = allsum(fwd) / (double)data.train.n_global;
  if (loss == NN_LOSS_LEAST_SQUARES)
    EXPECT(fabs(fm - fwd) <= TOL * 10 * (1 + fwd), "re-anchored merit %.10g is not the forward loss %.10g", fm, fwd);
  else
    EXPECT(fwd <= fm * (1 + 10 * TOL) && fwd > 0.2 * fm, "%s: forward loss %.10g vs re-anchored merit %.10g", name,
           fwd, fm);
  EXPECT(fabs(s.merit_anchored - fm) <= TOL * 10 * (1 + fm), "%s: merit from the Gram matrix %.10g, by the forward "
         "pass %.10g", name, s.merit_anchored, fm);
  double acc = allsum((double)correct) / (double)data.train.n_global;
  EXPECT(acc > 0.9, "training accuracy after 4 sweeps is %.3f (synthetic, 3 classes)", acc);
  free(Wold); free(bold);
  nn_bcd_free(&s);
  nn_model_free(&net);
  nn_data_free(&data);
}

/* Pair initialisation: every unit of layer 1 has pre-activation -1 at one training sample and
 * +1 at another of a different class. Checked by searching the training set (over ranks). */
static void test_pair_init(void)
{
  nn_config cfg;
  make_config(&cfg, 1);
  nn_data data;
  nn_data_load(&data, &cfg);
  nn_model net;
  nn_model_alloc(&net, cfg.L, cfg.n, 1);
  nn_model_init(&net, cfg.init, cfg.seed);
  nn_init_pairs(&net, &data.train, cfg.seed);
  int H = net.n[1], found = 0;
  double *cls = malloc(sizeof(double) * 2 * H);
  for (int i = 0; i < H; i++) {
    double c[2] = { -1, -1 };
    for (long j = 0; j < data.train.n; j++) {
      double v = pre(&net, 1, data.train.x, j, i);
      if (fabs(v + 1) < PAIR_TOL) c[0] = data.train.label[j];
      if (fabs(v - 1) < PAIR_TOL) c[1] = data.train.label[j];
    }
    cls[2 * i] = c[0];
    cls[2 * i + 1] = c[1];
  }
  MPI_Allreduce(MPI_IN_PLACE, cls, 2 * H, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  for (int i = 0; i < H; i++) found += cls[2 * i] >= 0 && cls[2 * i + 1] >= 0 && cls[2 * i] != cls[2 * i + 1];
  EXPECT(found == H, "pair initialisation: %d of %d units have their pair at -1/+1 with different classes", found, H);
  free(cls);
  nn_model_free(&net);
  nn_data_free(&data);
}

/* The problem of cfg (the data, the pair-initialised network) and a bcd state on it. */
typedef struct {
  nn_data data;
  nn_model net;
  nn_bcd s;
} problem;

static void problem_open(problem *p, const nn_config *cfg, const nn_grid *g)
{
  nn_data_load(&p->data, cfg);
  nn_model_alloc(&p->net, cfg->L, cfg->n, 1);
  nn_model_init(&p->net, cfg->init, cfg->seed);
  nn_init_pairs(&p->net, &p->data.train, cfg->seed);
  nn_bcd_init(&p->s, cfg, &p->net, &p->data.train, g);
}

static void problem_close(problem *p)
{
  nn_bcd_free(&p->s);
  nn_model_free(&p->net);
  nn_data_free(&p->data);
}

/* a_{L-1} of sample x (n[0] entries) by plain loops, into h (the last of two 17-entry rows). */
static const double *plain_forward(const nn_model *net, const real *x, double *h)
{
  double *cur = h, *next = h + 17;
  for (int i = 0; i < net->n[0]; i++) cur[i] = x[i];
  for (int l = 1; l < net->L; l++) {
    for (int i = 0; i < net->n[l]; i++) {
      double v = net->b[l][i];
      for (int c = 0; c < net->n[l - 1]; c++) v += (double)net->W[l][i + (size_t)c * net->n[l]] * cur[c];
      next[i] = relu(v);
    }
    double *swap = cur;
    cur = next, next = swap;
  }
  return cur;
}

/* Mini-batch bcd (--bcd-batches 5, --augment 1 on 4 x 4 inputs), least squares, two epochs:
 * after each, the readout is the exact ridge solution on every sample as stored (its gradient,
 * summed by plain loops over the true forward pass of the untranslated inputs, vanishes), and
 * the reported objective is the forward pass's loss. */
static void test_batches(const nn_grid *g)
{
  nn_config cfg;
  make_config(&cfg, 1);
  cfg.loss = NN_LOSS_LEAST_SQUARES;
  cfg.bcd_batches = 5;
  cfg.augment = 1;
  cfg.n[0] = 16;
  problem p;
  problem_open(&p, &cfg, g);
  const nn_model *net = &p.net;
  const nn_shard *train = &p.data.train;
  nn_timer t;
  nn_timer_reset(&t);
  nn_epoch_stats st;
  const int L = net->L, in = net->n[L - 1], k = net->n[L];
  double *grad = calloc((size_t)(in + 1) * k, sizeof(double)), h[2 * 17];
  for (int epoch = 1; epoch <= 2; epoch++) {
    nn_bcd_batched_epoch(&p.s, epoch, &st, &t);
    memset(grad, 0, sizeof(double) * (size_t)(in + 1) * k);
    double loss = 0, scale = 0;
    for (long j = 0; j < train->n; j++) {
      const double *a = plain_forward(net, (const real *)train->x + (size_t)j * net->n[0], h);
      for (int o = 0; o < k; o++) {
        double r = net->b[L][o] - (o == train->label[j]);
        for (int c = 0; c < in; c++) r += (double)net->W[L][o + (size_t)c * k] * a[c];
        loss += 0.5 * r * r;
        for (int c = 0; c < in; c++) grad[c + (size_t)o * (in + 1)] += r * a[c];
        grad[in + (size_t)o * (in + 1)] += r;
        for (int c = 0; c < in; c++) scale += fabs(a[c]) * fabs(r);
      }
    }
    MPI_Allreduce(MPI_IN_PLACE, grad, (in + 1) * k, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    loss = allsum(loss) / (double)train->n_global;
    scale = allsum(scale);
    double worst = 0, mu = p.s.wsys[L].ridge_abs;
    for (int o = 0; o < k; o++)
      for (int c = 0; c <= in; c++) {
        double w = c < in ? net->W[L][o + (size_t)c * k] : net->b[L][o];
        worst = fmax(worst, fabs(grad[c + (size_t)o * (in + 1)] + mu * w));
      }
    EXPECT(worst <= 100 * TOL * (1 + scale), "batches: epoch %d's readout is not the ridge solution on every "
           "sample (gradient %.3g, scale %.3g)", epoch, worst, scale);
    EXPECT(fabs(st.objective - loss) <= 10 * TOL * (1 + loss), "batches: epoch %d's objective %.10g is not the "
           "forward loss %.10g", epoch, st.objective, loss);
    if (me_rank() == 0) printf("bcd batches epoch %d: loss %.10g, readout gradient %.3g\n", epoch, loss, worst);
  }
  free(grad);
  problem_close(&p);
}

/* Three full sweeps with re-anchoring (or, batches > 1, three mini-batch epochs; augment > 0:
 * on 4 x 4 inputs translated by --augment's draws); rank 0 writes the weights and biases as
 * doubles. */
static void dump_sweeps(const nn_grid *g, const char *path, int batches, int augment)
{
  nn_config cfg;
  make_config(&cfg, 1);
  cfg.bcd_batches = batches;
  cfg.augment = augment;
  if (augment) cfg.n[0] = 16;
  problem p;
  problem_open(&p, &cfg, g);
  nn_timer t;
  nn_timer_reset(&t);
  nn_epoch_stats st;
  for (int e = 0; e < 3; e++) {
    if (batches > 1)
      nn_bcd_batched_epoch(&p.s, e + 1, &st, &t);
    else
      nn_bcd_sweep(&p.s, &st, &t);
  }
  nn_model *net = &p.net;
  testing_dump_weights(path, net->L, net->n, (void *const *)net->W, (void *const *)net->b, sizeof(real));
  if (me_rank() == 0) printf("bcd dump: merit %.12g after 3 sweeps -> %s\n", st.objective, path);
  problem_close(&p);
}

static void dump(const void *grid, const char *path)
{
  dump_sweeps(grid, path, 1, 0);
}

int main(int argc, char **argv)
{
  MPI_Init(&argc, &argv);
  nn_grid g;
  nn_grid_init(&g, 0, 0, 4);
  if (argc == 3 && strcmp(argv[1], "dump-batches") == 0) /* --bcd-batches 7: batches set by global index */
    dump_sweeps(&g, argv[2], 7, 0);
  else if (argc == 3 && strcmp(argv[1], "dump-augment") == 0) /* and --augment 1: shifts drawn by global index */
    dump_sweeps(&g, argv[2], 7, 1);
  else if (!testing_dump_modes(argc, argv, "bcd", dump, &g)) {
    test_steps_and_merit(&g, NN_LOSS_LEAST_SQUARES);
    test_steps_and_merit(&g, NN_LOSS_SQUARED_HINGE);
    test_pair_init();
    test_batches(&g);
  }
  int rc = testing_finish();
  nn_grid_free(&g);
  Cblacs_exit(1);
  MPI_Finalize();
  return rc;
}
