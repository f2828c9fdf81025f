/* Gradient baselines by backpropagation on BLAS; see gradient.h and method.h.
 * Legend: L layers with weights, n[l] widths (n[0] inputs, n[L] = k classes), B the global
 * mini-batch, nb the columns of one step that fall in this rank's shard (0 <= nb <= B).
 * Every matrix is column-major with samples as columns: a_l is n[l] x nb, W_l n[l] x n[l-1].
 *
 * One step: gather this rank's columns of the global batch (translated by their --augment draws,
 * augment.h), forward, softmax cross-entropy,
 * backward into one packed gradient buffer (the SUM over the rank's columns), the sum of
 * those buffers over all ranks (node_sum.h: through node-shared memory within a node, one
 * MPI_Allreduce of a slice across nodes; or one MPI_Allreduce of everything with
 * --reduce-group 1), divided by the global batch size; each rank of a node updates its slice
 * of the node-shared parameters, with --reduce-group 1 every rank all of its own. The batch
 * order comes from a stratified permutation of the global indices keyed on (seed, epoch)
 * (shuffle.h), so 1 and P ranks follow the same trajectory up to summation order, and every
 * rank holds the same share of every batch. */
#include "gradient.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/check.h"
#include "augment.h"
#include "node_sum.h"
#include "real_vector.h"
#include "../common/util.h"

/* The phases this method times in its own slots (timer.h), named in its entries below:
 * PH_FORWARD_BACKWARD is the shuffle, the batch's columns, forward and backward (and, fused
 * on one rank with plain SGD, the update); PH_UPDATE the optimiser's step on the summed
 * gradient. */
static const enum nn_phase PH_UPDATE = PH_STEP3;
static const enum nn_phase PH_FORWARD_BACKWARD = PH_STEP4;

enum rule { RULE_PLAIN, RULE_MOMENTUM, RULE_ADAM };

/* PyTorch's Adam defaults. */
#define ADAM_BETA1 0.9
#define ADAM_BETA2 0.999
#define ADAM_EPS 1e-8

/* Scratch of the forward/backward pass for up to `cap` columns. */
typedef struct {
  long cap;
  real *x;                       /* n[0] x cap: the gathered batch (unused when cap == 1) */
  int *y;                        /* cap labels */
  real *a[NN_MAX_LAYERS + 1];    /* a[l]: n[l] x cap, relu outputs (l < L); a[L]: z_L, then delta_L */
  real *d[2];                    /* nmax x cap each: delta ping-pong for the hidden layers */
  real *h[NN_MAX_LAYERS + 1];    /* resnet: h[l] = act(z_l), n[l] x cap, for the blocks l = 2..L-1 */
  real *e;                       /* resnet: nmax x cap, a block's pre-activation delta */
  real *ones;                    /* cap ones: bias gradient = delta * ones */
  int squared;                   /* 1: the squared loss 0.5 |z_L - t|^2 (--loss least-squares); 0: softmax
                                  * cross-entropy */
  const real *t;                 /* squared loss on real targets: n[L] x nb of the step; NULL: t = onehot(y) */
  real *tbuf;                    /* regression: n[L] x cap, the gathered batch's targets */
} workspace;

typedef struct {
  const nn_config *cfg;
  nn_model *net;
  const nn_shard *train;
  enum rule rule;
  long B;
  double lr, mu;
  int fused;          /* 1 rank, plain SGD: the step writes W += -lr/B dW straight into W */
  workspace ws;
  long *perm;         /* n_global: this epoch's global order */
  size_t P;           /* parameter count */
  size_t off_W[NN_MAX_LAYERS + 1], off_b[NN_MAX_LAYERS + 1];
  nn_node_sum red; /* gradient segments, the summed slice, the node-shared parameters */
  nn_model view;   /* the model with W, b pointing into red.param (used during an epoch) */
  real *m, *v;        /* red.hi - red.lo: momentum buffer / Adam first moment; second moment */
  long t;             /* Adam steps taken (bias correction) */
  char note[300];     /* for the console, until the driver takes it (method.h: notes) */
} gradient;

static void ws_init(workspace *w, const nn_model *net, long cap)
{
  const int *n = net->n;
  size_t nmax = (size_t)nn_widest_layer(net->L, n);
  size_t c = (size_t)(cap > 0 ? cap : 1);
  memset(w, 0, sizeof *w);
  w->cap = cap;
  w->x = nn_alloc((size_t)n[0] * c, sizeof(real), "batch inputs");
  w->y = nn_alloc(c, sizeof(int), "batch labels");
  for (int l = 1; l <= net->L; l++) w->a[l] = nn_alloc((size_t)n[l] * c, sizeof(real), "activations");
  w->d[0] = nn_alloc(nmax * c, sizeof(real), "deltas");
  w->d[1] = nn_alloc(nmax * c, sizeof(real), "deltas");
  w->ones = nn_alloc(c, sizeof(real), "ones");
  for (size_t j = 0; j < c; j++) w->ones[j] = 1;
  if (net->resnet) {
    for (int l = 2; l < net->L; l++) w->h[l] = nn_alloc((size_t)n[l] * c, sizeof(real), "block activations");
    w->e = nn_alloc(nmax * c, sizeof(real), "deltas");
  }
}

static void ws_free(workspace *w, int L)
{
  free(w->x);
  free(w->y);
  for (int l = 1; l <= L; l++) free(w->a[l]);
  free(w->d[0]);
  free(w->d[1]);
  free(w->ones);
  free(w->tbuf);
  for (int l = 2; l < L; l++) free(w->h[l]);
  free(w->e);
}

size_t nn_gradient_layout(const nn_model *net, size_t *off_W, size_t *off_b)
{
  size_t P = 0;
  for (int l = 1; l <= net->L; l++) {
    off_W[l] = P;
    P += (size_t)net->n[l] * net->n[l - 1];
    off_b[l] = P;
    P += (size_t)net->n[l];
  }
  return P;
}

/* z (rows x nb) = W a + b, W rows x cols, a cols x nb; then relu in place when `relu`.
 * The bias is added in the same pass as the relu rather than copied in before the GEMM. */
static void forward_layer(const real *W, const real *b, int rows, int cols, const real *a, long nb,
                          real *z, int relu)
{
  if (nb == 1)
    cblas_gemv(CblasColMajor, CblasNoTrans, rows, cols, 1, W, rows, a, 1, 0, z, 1);
  else
    cblas_gemm(CblasColMajor, CblasNoTrans, CblasNoTrans, rows, (int)nb, cols, 1, W, rows, a, cols, 0, z, rows);
  for (long j = 0; j < nb; j++) {
    real *c = z + (size_t)j * rows;
    if (relu)
      for (int i = 0; i < rows; i++) {
        real t = c[i] + b[i];
        c[i] = t > 0 ? t : 0;
      }
    else
      for (int i = 0; i < rows; i++) c[i] += b[i];
  }
}

/* z (k x nb) holds the output pre-activations; it becomes delta_L = softmax(z) - onehot(y),
 * the gradient of the summed cross-entropy. Returns the summed loss. */
static double softmax_xent(real *z, const int *y, int k, long nb)
{
  double loss = 0;
  for (long j = 0; j < nb; j++) {
    real *c = z + (size_t)j * k;
    real zmax = c[0];
    for (int i = 1; i < k; i++) zmax = c[i] > zmax ? c[i] : zmax;
    real zy = c[y[j]], s = 0;
    for (int i = 0; i < k; i++) {
      c[i] = r_exp(c[i] - zmax);
      s += c[i];
    }
    loss += (double)(r_log(s) + zmax - zy);
    real inv = 1 / s;
    for (int i = 0; i < k; i++) c[i] *= inv;
    c[y[j]] -= 1;
  }
  return loss;
}

/* z (k x nb) holds the outputs; it becomes delta_L = z - t, the gradient of the summed squared
 * loss 0.5 |z - t|^2, with t = w->t (regression) or onehot(y). Returns the summed loss. */
static double squared_delta(const workspace *w, real *z, const int *y, int k, long nb)
{
  double loss = 0;
  for (long j = 0; j < nb; j++)
    for (int i = 0; i < k; i++) {
      size_t e = (size_t)j * k + i;
      real d = z[e] - (w->t ? w->t[e] : (real)(i == y[j]));
      loss += 0.5 * (double)d * d;
      z[e] = d;
    }
  return loss;
}

/* delta_L in place of the outputs z_L, by the workspace's loss; returns the summed loss. */
static double output_delta(const workspace *w, real *z, const int *y, int k, long nb)
{
  return w->squared ? squared_delta(w, z, y, k, nb) : softmax_xent(z, y, k, nb);
}

/* dW += alpha D A^T, db += alpha D 1 (D rows x nb, A cols x nb), or, with beta = 0, = instead
 * of +=; forward_backward's convention. */
static void weight_gradient(workspace *w, const real *D, const real *A, int rows, int cols, long nb, real *dW,
                            real *db, real alpha, real beta)
{
  if (nb == 1) {
    if (beta == 0) {
      /* outer product written once: no clearing pass */
      for (int j = 0; j < cols; j++) {
        real s = alpha * A[j];
        for (int i = 0; i < rows; i++) dW[i + (size_t)j * rows] = s * D[i];
      }
      for (int i = 0; i < rows; i++) db[i] = alpha * D[i];
    } else {
      cblas_ger(CblasColMajor, rows, cols, alpha, D, 1, A, 1, dW, rows);
      cblas_axpy(rows, alpha, D, 1, db, 1);
    }
  } else {
    cblas_gemm(CblasColMajor, CblasNoTrans, CblasTrans, rows, cols, (int)nb, alpha, D, rows, A, cols, beta, dW, rows);
    cblas_gemv(CblasColMajor, CblasNoTrans, rows, (int)nb, alpha, D, rows, w->ones, 1, beta, db, 1);
  }
}

/* G (cols x nb) = W^T D + beta G, W rows x cols, D rows x nb. */
static void back_through(const real *W, int rows, int cols, const real *D, long nb, real beta, real *G)
{
  if (nb == 1)
    cblas_gemv(CblasColMajor, CblasTrans, rows, cols, 1, W, rows, D, 1, beta, G, 1);
  else
    cblas_gemm(CblasColMajor, CblasTrans, CblasNoTrans, cols, (int)nb, rows, 1, W, rows, D, rows, beta, G, cols);
}

/* forward_backward for --arch resnet (model.h): x_1 = W_1 x + b_1; x_l = x_{l-1} + h_l with
 * h_l = act(W_l x_{l-1} + b_l), l = 2..L-1; output W_L x_{L-1} + b_L. Backward, with g_l the
 * gradient of the loss in x_l: g_{L-1} = W_L^T delta_L; for each block e_l = g_l .* act'(z_l)
 * (relu: h_l > 0; sigmoid: h_l (1 - h_l)), dW_l = e_l x_{l-1}^T and g_{l-1} = g_l + W_l^T e_l
 * (the skip connection carries g_l through unchanged); dW_1 = g_1 x^T. Each g_{l-1} is formed
 * before W_l is written, so the fused SGD step (dW = W) is safe here too. */
static double forward_backward_resnet(nn_model *net, workspace *w, const real *x, const int *y, long nb,
                                      real *const *dW, real *const *db, real alpha, real beta)
{
  const int L = net->L, *n = net->n;
  forward_layer(net->W[1], net->b[1], n[1], n[0], x, nb, w->a[1], 0);
  for (int l = 2; l < L; l++) {
    size_t cnt = (size_t)n[l] * nb;
    forward_layer(net->W[l], net->b[l], n[l], n[l - 1], w->a[l - 1], nb, w->h[l], 0);
    nn_residual(net, w->a[l], w->a[l - 1], w->h[l], cnt);
  }
  forward_layer(net->W[L], net->b[L], n[L], n[L - 1], w->a[L - 1], nb, w->a[L], 0);
  double loss = output_delta(w, w->a[L], y, n[L], nb);

  real *g = w->d[0], *g_next = w->d[1];
  back_through(net->W[L], n[L], n[L - 1], w->a[L], nb, 0, g);
  weight_gradient(w, w->a[L], w->a[L - 1], n[L], n[L - 1], nb, dW[L], db[L], alpha, beta);
  for (int l = L - 1; l >= 2; l--) {
    size_t cnt = (size_t)n[l] * nb;
    const real *h = w->h[l];
    if (net->sigmoid)
      for (size_t i = 0; i < cnt; i++) w->e[i] = g[i] * h[i] * (1 - h[i]);
    else
      for (size_t i = 0; i < cnt; i++) w->e[i] = h[i] > 0 ? g[i] : 0;
    nn_count_stream(3.0 * sizeof(real) * cnt);
    memcpy(g_next, g, sizeof(real) * cnt);
    back_through(net->W[l], n[l], n[l - 1], w->e, nb, 1, g_next);
    weight_gradient(w, w->e, w->a[l - 1], n[l], n[l - 1], nb, dW[l], db[l], alpha, beta);
    real *t = g;
    g = g_next;
    g_next = t;
  }
  weight_gradient(w, g, x, n[1], n[0], nb, dW[1], db[1], alpha, beta);
  return loss;
}

/* Forward and backward over the nb columns of x (n[0] x nb). For each layer, with
 * D = delta_l (n[l] x nb) and A = a_{l-1}:  dW[l] = alpha D A^T + beta dW[l] and
 * db[l] = alpha D 1 + beta db[l]. With dW[l] = W[l], alpha = -lr/B, beta = 1 this is the
 * plain SGD update itself; delta_{l-1} is taken from W[l] before W[l] is written, so that
 * is safe. Returns the summed loss. */
static double forward_backward(nn_model *net, workspace *w, const real *x, const int *y, long nb,
                               real *const *dW, real *const *db, real alpha, real beta)
{
  if (net->resnet) return forward_backward_resnet(net, w, x, y, nb, dW, db, alpha, beta);
  const int L = net->L, *n = net->n;
  const real *in = x;
  for (int l = 1; l <= L; l++) {
    forward_layer(net->W[l], net->b[l], n[l], n[l - 1], in, nb, w->a[l], l < L);
    in = w->a[l];
  }
  double loss = output_delta(w, w->a[L], y, n[L], nb);

  real *D = w->a[L];
  for (int l = L; l >= 1; l--) {
    const real *A = l > 1 ? w->a[l - 1] : x;
    int rows = n[l], cols = n[l - 1];
    real *Dn = NULL;
    if (l > 1) {
      /* delta_{l-1} = (W_l^T delta_l) .* relu'(z_{l-1}), and a_{l-1} > 0 exactly where z_{l-1} > 0 */
      Dn = w->d[l & 1];
      back_through(net->W[l], rows, cols, D, nb, 0, Dn);
      size_t cnt = (size_t)cols * nb;
      for (size_t i = 0; i < cnt; i++) Dn[i] = A[i] > 0 ? Dn[i] : 0;
      nn_count_stream(3.0 * sizeof(real) * cnt);
    }
    weight_gradient(w, D, A, rows, cols, nb, dW[l], db[l], alpha, beta);
    D = Dn;
  }
  return loss;
}

double nn_gradient_sum(const nn_model *net, const real *x, const int *label, const real *target, enum nn_loss loss_kind,
                       long N, real *grad)
{
  size_t off_W[NN_MAX_LAYERS + 1], off_b[NN_MAX_LAYERS + 1];
  size_t P = nn_gradient_layout(net, off_W, off_b);
  if (N <= 0) {
    memset(grad, 0, sizeof(real) * P);
    return 0;
  }
  workspace w;
  ws_init(&w, net, N);
  w.squared = loss_kind == NN_LOSS_LEAST_SQUARES;
  w.t = target;
  real *dW[NN_MAX_LAYERS + 1], *db[NN_MAX_LAYERS + 1];
  for (int l = 1; l <= net->L; l++) {
    dW[l] = grad + off_W[l];
    db[l] = grad + off_b[l];
  }
  /* forward_backward leaves the model alone when beta = 0 (dW is not the model) */
  double loss = forward_backward((nn_model *)net, &w, x, label, N, dW, db, 1, 0);
  ws_free(&w, net->L);
  return loss;
}

/* p -= lr g / Bs, plain SGD (the non-fused path: several ranks). */
void nn_gradient_update_plain(real *restrict p, const real *restrict g, size_t cnt, real lr, real inv_b)
{
  for (size_t i = 0; i < cnt; i++) p[i] -= lr * (g[i] * inv_b);
}

/* Heavy ball as torch.optim.SGD(momentum=mu): v = mu v + g; p -= lr v. */
void nn_gradient_update_momentum(real *restrict p, real *restrict v, const real *restrict g, size_t cnt, real lr,
                                 real mu, real inv_b)
{
  for (size_t i = 0; i < cnt; i++) {
    v[i] = mu * v[i] + g[i] * inv_b;
    p[i] -= lr * v[i];
  }
}

/* Adam as torch.optim.Adam: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * p -= (lr / bc1) m / (sqrt(v) / sqrt(bc2) + eps), bc_i = 1 - b_i^t.
 * GCC will not vectorise sqrtf/sqrt while -fmath-errno is in force (not even under omp
 * simd), and a scalar square root per parameter costs ~18% of an MNIST epoch, so the AVX
 * build spells the vector loop out (real_vector.h); the scalar loop finishes the tail. */
void nn_gradient_update_adam(real *restrict p, real *restrict m, real *restrict v, const real *restrict g, size_t cnt,
                             real step, real inv_sqrt_bc2, real inv_b)
{
  const real b1 = (real)ADAM_BETA1, b2 = (real)ADAM_BETA2, eps = (real)ADAM_EPS;
  size_t i = 0;
#ifdef __AVX__
  const vreal B1 = vset1(b1), C1 = vset1(1 - b1), B2 = vset1(b2), C2 = vset1(1 - b2), E = vset1(eps),
              S = vset1(step), Q = vset1(inv_sqrt_bc2), IB = vset1(inv_b);
  for (; i + VLEN <= cnt; i += VLEN) {
    vreal gi = vmul(vload(g + i), IB);
    vreal mi = vadd(vmul(B1, vload(m + i)), vmul(C1, gi));
    vreal vi = vadd(vmul(B2, vload(v + i)), vmul(vmul(C2, gi), gi));
    vstore(m + i, mi);
    vstore(v + i, vi);
    vstore(p + i, vsub(vload(p + i), vdiv(vmul(S, mi), vadd(vmul(vsqrt(vi), Q), E))));
  }
#endif
  for (; i < cnt; i++) {
    real gi = g[i] * inv_b;
    m[i] = b1 * m[i] + (1 - b1) * gi;
    v[i] = b2 * v[i] + (1 - b2) * gi * gi;
    p[i] -= step * m[i] / (r_sqrt(v[i]) * inv_sqrt_bc2 + eps);
  }
}

/* Applies the averaged gradient sum / Bs to this rank's slice of the packed parameters. */
static void apply_update(gradient *s, long Bs)
{
  nn_node_sum *red = &s->red;
  real inv_b = (real)(1.0 / (double)Bs), lr = (real)s->lr;
  real *p = red->param + red->lo;
  size_t cnt = red->hi - red->lo;
  /* streams: plain reads p, g and writes p; momentum also reads and writes v; Adam m and v */
  nn_count_stream((s->rule == RULE_PLAIN ? 3.0 : s->rule == RULE_MOMENTUM ? 5.0 : 7.0) * sizeof(real) * cnt);
  if (s->rule == RULE_PLAIN) {
    nn_gradient_update_plain(p, red->sum, cnt, lr, inv_b);
  } else if (s->rule == RULE_MOMENTUM) {
    nn_gradient_update_momentum(p, s->m, red->sum, cnt, lr, (real)s->mu, inv_b);
  } else {
    s->t++;
    double bc1 = 1 - pow(ADAM_BETA1, (double)s->t), bc2 = 1 - pow(ADAM_BETA2, (double)s->t);
    nn_gradient_update_adam(p, s->m, s->v, red->sum, cnt, (real)(s->lr / bc1), (real)(1 / sqrt(bc2)), inv_b);
  }
}

/* The model's parameters into / out of the packed, node-shared copy the steps work on.
 * Between epochs the driver owns the model (evaluation, best-model copies); during one the
 * steps read and write red.param through s->view. */
static void pack_params(gradient *s)
{
  if (s->red.local == 0) nn_model_copy(&s->view, s->net);
  nn_node_sum_publish(&s->red);
}

static void unpack_params(gradient *s)
{
  nn_model_copy(s->net, &s->view);
  nn_node_sum_publish(&s->red); /* the next pack_params must not overwrite what is still being read */
}

static void gradient_epoch(void *self, int epoch, nn_epoch_stats *st, nn_timer *t)
{
  gradient *s = self;
  nn_model *net = &s->view;
  const nn_shard *tr = s->train;
  const real *X = nn_shard_reals(tr);
  const int L = net->L, d = net->n[0], k = net->n[L];
  const long N = tr->n_global, first = tr->first, nloc = tr->n;
  real *dW[NN_MAX_LAYERS + 1], *db[NN_MAX_LAYERS + 1];
  for (int l = 1; l <= L; l++) {
    dW[l] = s->fused ? net->W[l] : s->red.mine + s->off_W[l];
    db[l] = s->fused ? net->b[l] : s->red.mine + s->off_b[l];
  }
#ifdef OPENBLAS_VERSION
  /* One column per step: BLAS-2 calls on a ~1 MB model, where waking a second OpenBLAS
   * thread 3 times per layer costs more than it saves (2.1 s vs 1.7 s per MNIST epoch). */
  int threads = openblas_get_num_threads();
  if (s->B == 1) openblas_set_num_threads(1);
#endif
  nn_timer_start(t, PH_FORWARD_BACKWARD);
  pack_params(s);
  CHECK(nn_shuffle(s->perm, N, s->B, s->cfg->seed, epoch) == 0, "out of memory shuffling %ld samples", N);
  double loss = 0;
  for (long s0 = 0; s0 < N; s0 += s->B) {
    long Bs = N - s0 < s->B ? N - s0 : s->B; /* the last batch may be short */
    /* This rank's columns of the global batch, in batch order; possibly none. */
    const real *x = s->ws.x;
    long nb = 0;
    for (long i = 0; i < Bs; i++) {
      long j = s->perm[s0 + i] - first;
      if ((unsigned long)j >= (unsigned long)nloc) continue;
      if (s->cfg->augment > 0) /* translated by its draw for this epoch (augment.h) */
        nn_augment_copy(s->ws.x + (size_t)nb * d, X + (size_t)j * d, d, s->cfg->augment, (uint64_t)s->cfg->seed,
                        epoch, first + j);
      else if (Bs == 1) x = X + (size_t)j * d; /* one column: use it where it lies */
      else memcpy(s->ws.x + (size_t)nb * d, X + (size_t)j * d, sizeof(real) * d);
      if (s->ws.tbuf) memcpy(s->ws.tbuf + (size_t)nb * k, (const real *)tr->y + (size_t)j * k, sizeof(real) * k);
      s->ws.y[nb++] = tr->label[j];
    }
    if (s->fused) {
      loss += forward_backward(net, &s->ws, x, s->ws.y, nb, dW, db, (real)(-s->lr / (double)Bs), 1);
      continue;
    }
    if (nb > 0)
      loss += forward_backward(net, &s->ws, x, s->ws.y, nb, dW, db, 1, 0);
    else
      memset(s->red.mine, 0, sizeof(real) * s->P);
    nn_timer_start(t, PH_COMM_REDUCE);
    nn_node_sum_reduce(&s->red);
    nn_timer_start(t, PH_UPDATE);
    apply_update(s, Bs);
    nn_timer_start(t, PH_COMM_REDUCE);
    nn_node_sum_publish(&s->red);
    nn_timer_start(t, PH_FORWARD_BACKWARD);
  }
  unpack_params(s);
  nn_timer_stop(t);
#ifdef OPENBLAS_VERSION
  if (s->B == 1) openblas_set_num_threads(threads);
#endif
  nn_timer_start(t, PH_COMM_REDUCE);
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &loss, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
  nn_timer_stop(t);
  st->objective = N > 0 ? loss / (double)N : NAN;
  st->residual_z = NAN;
  st->residual_a = NAN;
  CHECK_ALL_RANKS(isfinite(st->objective), "--method %s diverged at epoch %d (mean mini-batch loss %g): lower --lr",
        s->cfg->method, epoch, st->objective);
}

static void gradient_fini(void *self)
{
  gradient *s = self;
  ws_free(&s->ws, s->net->L);
  nn_node_sum_free(&s->red);
  free(s->perm);
  free(s->m);
  free(s->v);
}

static void gradient_notes(void *self, int final, char *out, size_t len)
{
  (void)final;
  gradient *s = self;
  snprintf(out, len, "%s", s->note);
  s->note[0] = 0;
}

/* Fills a zeroed state for the update `rule`. --batch 1 on several ranks works, but is refused
 * on the command line (gradient_validate): one rank would work while the others idle. */
static void gradient_init(gradient *s, enum rule rule, const nn_config *cfg, nn_model *net,
                          const nn_shard *train)
{
  int p = nn_nranks();
  CHECK(net->bias && net->b[1], "gradient methods need a model with biases (internal)");
  CHECK(train->n_global > 0, "no training samples");
  CHECK(cfg->batch >= 1 && cfg->lr > 0, "--batch and --lr must be positive (internal: options not resolved)");
  CHECK(train->n_global <= 2147483647L && train->d == net->n[0],
        "training shard does not match the network (%d inputs vs %d)", train->d, net->n[0]);

  s->cfg = cfg;
  s->net = net;
  s->train = train;
  s->rule = rule;
  s->B = cfg->batch;
  s->lr = cfg->lr;
  s->mu = cfg->momentum;
  s->fused = p == 1 && s->rule == RULE_PLAIN;
  long cap = s->B < train->n ? s->B : train->n;
  ws_init(&s->ws, net, cap);
  s->ws.squared = cfg->loss == NN_LOSS_LEAST_SQUARES;
  if (train->y) {
    s->ws.tbuf = nn_alloc((size_t)net->n[net->L] * (cap > 0 ? cap : 1), sizeof(real), "batch targets");
    s->ws.t = s->ws.tbuf;
  }
  s->perm = nn_alloc((size_t)train->n_global, sizeof(long), "the shuffle");
  s->P = nn_gradient_layout(net, s->off_W, s->off_b);
  char note[256];
  CHECK_ALL_RANKS(nn_node_sum_create(&s->red, s->P, cfg->reduce_group, note, sizeof note) == 0,
                  "out of memory allocating the gradient buffers (%zu values)", s->P);
  if (note[0]) snprintf(s->note, sizeof s->note, "admm-train: note: %s\n", note);
  s->view = *net;
  for (int l = 1; l <= net->L; l++) {
    s->view.W[l] = s->red.param + s->off_W[l];
    s->view.b[l] = s->red.param + s->off_b[l];
  }
  size_t slice = s->red.hi - s->red.lo;
  if (s->rule != RULE_PLAIN) s->m = nn_alloc(slice, sizeof(real), "first moments");
  if (s->rule == RULE_ADAM) s->v = nn_alloc(slice, sizeof(real), "second moments");
}

/* ==================================== the entries ==================================== */

/* gd and sgd differ only in their default --batch: one rule, one set of operations. */
static void plain_init(void *self, const nn_config *cfg, void *net, const void *train, const nn_grid *g)
{
  (void)g;
  gradient_init(self, RULE_PLAIN, cfg, net, train);
}

static void momentum_init(void *self, const nn_config *cfg, void *net, const void *train, const nn_grid *g)
{
  (void)g;
  gradient_init(self, RULE_MOMENTUM, cfg, net, train);
}

static void adam_init(void *self, const nn_config *cfg, void *net, const void *train, const nn_grid *g)
{
  (void)g;
  gradient_init(self, RULE_ADAM, cfg, net, train);
}

/* The checkpoint's share (method.h): the optimiser's moments, by parameter (each rank holds
 * its slice of the summed gradient's), and Adam's step count. */
static int gradient_state_arrays(void *self, nn_state_array *out, int max)
{
  gradient *s = self;
  long lo = (long)s->red.lo, count = (long)(s->red.hi - s->red.lo), total = (long)s->P;
  int k = 0;
  if (s->m) nn_state_partitioned(out, &k, max, "moment1", s->m, 1, lo, count, total);
  if (s->v) nn_state_partitioned(out, &k, max, "moment2", s->v, 1, lo, count, total);
  nn_state_replicated(out, &k, max, "adam_steps", &s->t, NN_STATE_LONG, 1);
  return k;
}

const nn_method_ops nn_plain_ops = {
  .size = sizeof(gradient), .init = plain_init, .epoch = gradient_epoch, .fini = gradient_fini,
  .notes = gradient_notes, .state_arrays = gradient_state_arrays,
};
const nn_method_ops nn_momentum_ops = {
  .size = sizeof(gradient), .init = momentum_init, .epoch = gradient_epoch, .fini = gradient_fini,
  .notes = gradient_notes, .state_arrays = gradient_state_arrays,
};
const nn_method_ops nn_adam_ops = {
  .size = sizeof(gradient), .init = adam_init, .epoch = gradient_epoch, .fini = gradient_fini,
  .notes = gradient_notes, .state_arrays = gradient_state_arrays,
};

/* --lr auto and --batch auto, and the refusal of pure SGD on several ranks. */
static int gradient_validate(nn_config *cfg, double lr_auto, long batch_auto, char *err, size_t errlen)
{
  if (isnan(cfg->lr)) cfg->lr = lr_auto;
  if (cfg->batch < 0) cfg->batch = batch_auto;
  int p = nn_nranks();
  if (cfg->batch == 1 && p > 1) {
    snprintf(err, errlen, "--method %s --batch 1 on %d ranks: pure SGD takes one sample per step, so one rank would "
             "work while the others idle and every sample would cost an allreduce; run it with -n 1 (or use a "
             "--batch of at least the rank count)", cfg->method, p);
    return 0;
  }
  return 1;
}

static int gd_validate(nn_config *cfg, char *err, size_t errlen) { return gradient_validate(cfg, 1e-2, 128, err, errlen); }
static int sgd_validate(nn_config *cfg, char *err, size_t errlen) { return gradient_validate(cfg, 1e-2, 1, err, errlen); }
static int adam_validate(nn_config *cfg, char *err, size_t errlen) { return gradient_validate(cfg, 1e-3, 128, err, errlen); }

/* Gradients, optimiser state, the node-shared window, activations of one batch. */
static double gradient_state_bytes(const nn_config *cfg, double N)
{
  (void)N;
  const int *n = cfg->n;
  int L = cfg->L;
  double r = cfg->float32 ? 4 : 8, params = 0, hidden = 0;
  for (int l = 1; l <= L; l++) params += (double)n[l] * (n[l - 1] + 1);
  for (int l = 1; l < L; l++) hidden += n[l];
  if (cfg->arch == NN_ARCH_RESNET) hidden *= 2; /* the blocks' act(z_l) beside x_l, for act' */
  return 6 * params * r + 4 * hidden * (double)cfg->batch * r;
}

/* The four share everything but the default --lr and --batch, momentum's coefficient, and the
 * update rule (their operations). */
const nn_method nn_method_gd = {
  .name = "gd",
  .help = "mini-batch gradient descent by backpropagation (solver/gradient.c)",
  .options = "lr batch reduce-group augment",
  .init_auto = NN_INIT_HE,
  .loss_auto = NN_LOSS_CROSS_ENTROPY, .losses = 1u << NN_LOSS_CROSS_ENTROPY | 1u << NN_LOSS_LEAST_SQUARES,
  .losses_why = "trains softmax cross-entropy or the squared loss (least-squares)",
  .archs = 1u << NN_ARCH_RESNET, .regression = 1,
  .validate = gd_validate,
  .state_bytes = gradient_state_bytes,
  .phases = { NULL, NULL, "update", "forward_backward" },
  .ops = &nn_plain_ops,
};
const nn_method nn_method_sgd = {
  .name = "sgd",
  .help = "pure stochastic gradient descent: --batch auto is 1, on one rank",
  .options = "lr batch reduce-group augment",
  .init_auto = NN_INIT_HE,
  .loss_auto = NN_LOSS_CROSS_ENTROPY, .losses = 1u << NN_LOSS_CROSS_ENTROPY | 1u << NN_LOSS_LEAST_SQUARES,
  .losses_why = "trains softmax cross-entropy or the squared loss (least-squares)",
  .archs = 1u << NN_ARCH_RESNET, .regression = 1,
  .validate = sgd_validate,
  .state_bytes = gradient_state_bytes,
  .phases = { NULL, NULL, "update", "forward_backward" },
  .ops = &nn_plain_ops,
};
const nn_method nn_method_momentum = {
  .name = "momentum",
  .help = "heavy-ball momentum, as torch.optim.SGD(momentum=--momentum)",
  .options = "lr batch reduce-group momentum augment",
  .init_auto = NN_INIT_HE,
  .loss_auto = NN_LOSS_CROSS_ENTROPY, .losses = 1u << NN_LOSS_CROSS_ENTROPY | 1u << NN_LOSS_LEAST_SQUARES,
  .losses_why = "trains softmax cross-entropy or the squared loss (least-squares)",
  .archs = 1u << NN_ARCH_RESNET, .regression = 1,
  .validate = gd_validate,
  .state_bytes = gradient_state_bytes,
  .phases = { NULL, NULL, "update", "forward_backward" },
  .ops = &nn_momentum_ops,
};
const nn_method nn_method_adam = {
  .name = "adam",
  .help = "Adam, as torch.optim.Adam: --lr auto is 0.001",
  .options = "lr batch reduce-group augment",
  .init_auto = NN_INIT_HE,
  .loss_auto = NN_LOSS_CROSS_ENTROPY, .losses = 1u << NN_LOSS_CROSS_ENTROPY | 1u << NN_LOSS_LEAST_SQUARES,
  .losses_why = "trains softmax cross-entropy or the squared loss (least-squares)",
  .archs = 1u << NN_ARCH_RESNET, .regression = 1,
  .validate = adam_validate,
  .state_bytes = gradient_state_bytes,
  .phases = { NULL, NULL, "update", "forward_backward" },
  .ops = &nn_adam_ops,
};
