/* resnet-admm's layer groups, --layer-groups G > 1 (resnet_seam.h; the steps are resnet_admm.c's;
 * README: Residual networks by ADMM, "Layer groups"). Group g of G owns
 * layers lo..hi (group_layers): their weights, V, U and the multipliers M, MU of their
 * constraints, so the multiplier of the boundary constraint lo (V_lo = V_{lo-1} + act(.), which
 * reads group g - 1's V_{lo-1}) is group g's. Ranks = G x D: rank r is group r % G of data
 * shard (pipe) r / G, so a pipe is G consecutive ranks and holds the union of their samples;
 * the weight steps' sums run over the group communicator (its D pipes), the boundary arrays go
 * point to point along the pipe. On one rank the G groups run one after another as parts of
 * one process, with the same data flow (memcpy for the messages): the reference a G-rank run
 * must match bit for bit at D = 1. Two arrays cross each boundary, both n x N_pipe:
 *   forward  (g -> g + 1): V_hi, into g + 1's ghost V_{lo-1};
 *   backward (g + 1 -> g): form_back's share of V_hi's step, with Wbar_{hi+1} (formed and sent a
 *   chunk of columns at a time, so the sender needs no n x N array for it).
 * Schedules (s->schedule): jacobi (0) every group sweeps at once from the values its
 * neighbours sent at the end of the last iteration; odd-even (1) groups 0, 2, .. sweep, send,
 * then 1, 3, ..; serial (2) is odd-even's serial order on the full state (resnet_admm.c,
 * nn_radmm_sweep). Then, in every schedule, V is sent forward, each group takes its multiplier steps (every constraint
 * with the new iterates) and the backward arrays for the next iteration are sent. */
#include "resnet_seam.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/check.h"
#include "../common/util.h"
#include "layer_groups.h"
#include "real.h"

enum { TAG_V = 1601, TAG_BACK = 1602, TAG_W = 1603, TAG_EVAL = 1604, TAG_EXPORT = 1605 };

static int colour_match(int g, int colour) { return colour < 0 || (g & 1) == colour; }

/* Each part's four sums (constraint_terms), added in group order on one rank, or gathered
 * from every rank and added in rank order, so that D = 1 gives the one-rank run's bits. */
double nn_radmm_grouped_terms(nn_resnet_admm *s, int update, double *res_v, double *res_u)
{
  double total[4] = { 0, 0, 0, 0 };
  if (s->nparts > 1) {
    for (int q = 0; q < s->nparts; q++) {
      double ps[4] = { 0, 0, 0, 0 };
      nn_radmm_constraint_terms(&s->part[q], update, ps);
      for (int i = 0; i < 4; i++) total[i] += ps[i];
    }
  } else {
    double ps[4] = { 0, 0, 0, 0 };
    nn_radmm_constraint_terms(&s->part[0], update, ps);
    int P = nn_nranks();
    double *all = nn_alloc((size_t)4 * P, sizeof(double), "the groups' sums");
    nn_radmm_phase(PH_COMM_REDUCE);
    CHECK_MPI(MPI_Allgather(ps, 4, MPI_DOUBLE, all, 4, MPI_DOUBLE, MPI_COMM_WORLD));
    nn_radmm_phase(PH_MULT);
    for (int r = 0; r < P; r++)
      for (int i = 0; i < 4; i++) total[i] += all[(size_t)4 * r + i];
    free(all);
  }
  double ng = (double)s->n_global;
  *res_v = total[2] / ng;
  *res_u = s->split == 3 ? total[3] / ng : NAN;
  return (total[0] + total[1]) / ng;
}

/* Group g's V_hi into group g + 1's ghost, for the sending groups g of `colour` (-1: all). */
static void send_forward(nn_resnet_admm *s, int colour)
{
  const int G = s->G;
  nn_radmm_phase(PH_COMM_GATHER);
  if (s->nparts > 1) {
    for (int g = 0; g + 1 < G; g++)
      if (colour_match(g, colour))
        memcpy(s->part[g + 1].ghost, s->part[g].V[s->part[g].hi], sizeof(real) * (size_t)s->n * s->N);
    return;
  }
  nn_resnet_admm *p = &s->part[0];
  const int g = p->g, cnt = (int)((size_t)s->n * p->N);
  MPI_Request rq[2];
  MPI_Status st[2];
  int k = 0;
  if (g + 1 < G && colour_match(g, colour))
    CHECK_MPI(MPI_Isend(p->V[p->hi], cnt, MPI_REAL_T, g + 1, TAG_V, s->pipe, &rq[k++]));
  if (g > 0 && colour_match(g - 1, colour))
    CHECK_MPI(MPI_Irecv(p->ghost, cnt, MPI_REAL_T, g - 1, TAG_V, s->pipe, &rq[k++]));
  CHECK_MPI(MPI_Waitall(k, rq, st));
}

/* Group g + 1's backward array (form_back) and Wbar_{lo} to group g, for the sending groups
 * g + 1 of `colour` (-1: all). On one rank the model is shared, so only the array moves. */
void nn_radmm_send_backward(nn_resnet_admm *s, int colour)
{
  const int G = s->G;
  if (s->nparts > 1) {
    nn_radmm_phase(PH_V);
    for (int g = 1; g < G; g++)
      if (colour_match(g, colour)) nn_radmm_form_back(&s->part[g], s->part[g - 1].back);
    return;
  }
  /* The array is formed and sent a chunk at a time from the scratch A (n x chunk), one message
   * per chunk, into the receiver's back at the chunk's columns: both ends cut the pipe's N
   * samples alike. The receives are posted first, so the blocking sends cannot wait on each
   * other. */
  nn_resnet_admm *p = &s->part[0];
  nn_model *net = s->net;
  const int g = p->g, n = s->n;
  const long chunks = p->N > 0 ? (p->N + p->chunk - 1) / p->chunk : 0;
  MPI_Request *rq = nn_alloc((size_t)chunks + 2, sizeof *rq, "the boundary's requests");
  MPI_Status *st = nn_alloc((size_t)chunks + 2, sizeof *st, "the boundary's requests");
  int k = 0;
  int sending = g > 0 && colour_match(g, colour);
  nn_radmm_phase(PH_COMM_GATHER);
  if (g + 1 < G && colour_match(g + 1, colour)) {
    int up = p->hi + 1;
    CHECK_MPI(MPI_Irecv(net->W[up], net->n[up] * (net->n[up - 1] + 1), MPI_REAL_T, g + 1, TAG_W, s->pipe, &rq[k++]));
    FOR_CHUNKS(p, j0, nc)
      CHECK_MPI(MPI_Irecv(p->back + (size_t)j0 * n, (int)((size_t)n * nc), MPI_REAL_T, g + 1, TAG_BACK, s->pipe, &rq[k++]));
  }
  if (sending) {
    CHECK_MPI(MPI_Isend(net->W[p->lo], net->n[p->lo] * (net->n[p->lo - 1] + 1), MPI_REAL_T, g - 1, TAG_W, s->pipe, &rq[k++]));
    FOR_CHUNKS(p, j0, nc) {
      nn_radmm_phase(PH_V);
      nn_radmm_form_back_cols(p, j0, nc, p->A);
      nn_radmm_phase(PH_COMM_GATHER);
      CHECK_MPI(MPI_Send(p->A, (int)((size_t)n * nc), MPI_REAL_T, g - 1, TAG_BACK, s->pipe));
    }
  }
  CHECK_MPI(MPI_Waitall(k, rq, st));
  free(rq);
  free(st);
}

/* The sweeps of the parts of `colour` (-1: all). */
static void run_parts(nn_resnet_admm *s, int colour)
{
  for (int q = 0; q < s->nparts; q++) {
    nn_resnet_admm *p = &s->part[q];
    if (!colour_match(p->g, colour)) continue;
    nn_radmm_sweep(p);
    p->iter++;
  }
}

/* One iteration's primal steps and forward messages; the multiplier steps and the backward
 * messages follow in nn_radmm_multipliers (grouped_terms, then radmm_epoch). */
void nn_radmm_grouped_iteration(nn_resnet_admm *s)
{
  if (s->schedule == 0) {
    run_parts(s, -1);
    send_forward(s, -1);
  } else {
    run_parts(s, 0);
    send_forward(s, 0);
    nn_radmm_send_backward(s, 0);
    run_parts(s, 1);
    send_forward(s, 1);
  }
  s->iter++;
}

/* Allocates a part for group g of the top-level state s: the arrays of its layers only. */
static void part_alloc(nn_resnet_admm *s, nn_resnet_admm *p, int g, MPI_Comm comm, long N, const real *X, real *T)
{
  memset(p, 0, sizeof *p);
  p->net = s->net;
  p->L = s->L, p->n = s->n, p->d = s->d, p->k = s->k, p->split = s->split;
  p->beta = s->beta, p->tau = s->tau, p->rho = s->rho, p->ridge = s->ridge;
  p->N = N, p->n_global = s->n_global, p->first = s->first;
  p->X = X, p->T = T;
  p->g = g, p->G = 1, p->comm = comm, p->chunk = s->chunk;
  nn_group_layers(s->L, s->G, g, &p->lo, &p->hi);
  const nn_model *net = s->net;
  const int n = s->n, L = s->L;
  /* the model holds this group's layers and the next group's first (layer_groups.h nn_rank_layers) */
  CHECK(net->lo <= p->lo && (p->hi < L ? p->hi + 1 : L) <= net->hi, "internal: group %d needs layers %d..%d, the "
        "model holds %d..%d", g, p->lo, p->hi < L ? p->hi + 1 : L, net->lo, net->hi);
  const size_t c = (size_t)(N > 0 ? N : 1), rows = (size_t)(n > s->k ? n : s->k);
  const size_t cc = (size_t)(N < s->chunk ? c : (size_t)s->chunk); /* the scratch's columns */
  for (int l = p->lo; l < L && l <= p->hi; l++) {
    p->V[l] = nn_alloc((size_t)n * c, sizeof(real), "the block outputs V");
    p->M[l] = nn_alloc((size_t)n * c, sizeof(real), "the multipliers");
    if (s->split == 3 && l > 1) {
      p->U[l] = nn_alloc((size_t)n * c, sizeof(real), "the pre-activations U");
      p->MU[l] = nn_alloc((size_t)n * c, sizeof(real), "the multipliers");
    }
  }
  if (p->lo > 1) p->V[p->lo - 1] = p->ghost = nn_alloc((size_t)n * c, sizeof(real), "the boundary V");
  if (p->hi < L) p->back = nn_alloc((size_t)n * c, sizeof(real), "the boundary's backward share");
  p->A = nn_alloc(rows * cc, sizeof(real), "scratch");
  p->B = nn_alloc(rows * cc, sizeof(real), "scratch");
  size_t mc = 0, mr = 0;
  for (int l = p->lo; l <= p->hi; l++) {
    if ((size_t)net->n[l - 1] + 1 > mc) mc = (size_t)net->n[l - 1] + 1;
    if ((size_t)net->n[l] > mr) mr = (size_t)net->n[l];
  }
  size_t sq = mc * mc > (size_t)n * n ? mc * mc : (size_t)n * n, r = mc * mr;
  if (r < 2 * mc) r = 2 * mc;
  if (r < 2 * (size_t)n) r = 2 * (size_t)n;
  p->sums = nn_alloc(mc * mc + mr * mc, sizeof(real), "the Gram sums");
  p->sys = nn_alloc(sq, sizeof(real), "a system");
  p->rhs = nn_alloc(r, sizeof(real), "a right side");
  if (p->lo == 1) p->in_factor = nn_alloc((size_t)(s->d + 1) * (s->d + 1), sizeof(real), "the input layer's factor");
}

/* x (rows x n, this rank's columns, `type`) of every rank of the pipe, in pipe order, onto its
 * rank `root` (NULL elsewhere); *Np = the pipe's sample count, on every rank of it. */
static void *pipe_gather(const nn_resnet_admm *s, const void *x, MPI_Datatype type, size_t elem, int rows, long n,
                         int root, long *Np)
{
  const int G = s->G;
  long *each = nn_alloc((size_t)G, sizeof(long), "the pipe's counts");
  CHECK_MPI(MPI_Allgather(&n, 1, MPI_LONG, each, 1, MPI_LONG, s->pipe));
  int *cnt = nn_alloc((size_t)G, sizeof(int), "the pipe's counts"), *at = nn_alloc((size_t)G, sizeof(int), "the pipe's offsets");
  long total = 0;
  for (int i = 0; i < G; i++) {
    CHECK((total + each[i]) * rows < 2147483647L, "--layer-groups: the pipe's %ld samples of %d values exceed one "
          "MPI message (use more data shards D)", total + each[i], rows);
    at[i] = (int)(total * rows);
    cnt[i] = (int)(each[i] * rows);
    total += each[i];
  }
  int me;
  CHECK_MPI(MPI_Comm_rank(s->pipe, &me));
  void *out = me == root ? nn_alloc((size_t)rows * (size_t)(total > 0 ? total : 1), elem, "the pipe's samples") : NULL;
  CHECK_MPI(MPI_Gatherv(x, (int)(n * rows), type, out, cnt, at, type, root, s->pipe));
  *Np = total;
  free(each);
  free(cnt);
  free(at);
  return out;
}

/* One-hot targets k x N of labels (NULL) or a copy of real targets y. */
static real *targets_of(int k, long N, const int *label, const real *y)
{
  real *T = nn_alloc((size_t)k * (size_t)(N > 0 ? N : 1), sizeof(real), "the targets");
  if (y) memcpy(T, y, sizeof(real) * (size_t)k * N);
  else
    for (long j = 0; j < N; j++) T[(size_t)j * k + label[j]] = 1;
  return T;
}

/* The groups' set-up: communicators, the pipe's samples (inputs on the first group, targets
 * on the last), the parts, and V, U at the forward pass, piped group to group. */
void nn_radmm_grouped_init(nn_resnet_admm *s, const nn_shard *train)
{
  const int G = s->G, P = nn_nranks(), n = s->n;
  s->eval = calloc(4, sizeof *s->eval);
  CHECK(s->eval, "out of memory");
  if (P == 1) {
    s->D = 1, s->nparts = G;
    s->part = nn_alloc((size_t)G, sizeof *s->part, "the groups");
    s->T = targets_of(s->k, s->N, train->label, train->y);
    for (int g = 0; g < G; g++) part_alloc(s, &s->part[g], g, MPI_COMM_WORLD, s->N, s->X, s->T);
    for (int g = 0; g < G; g++) {
      nn_radmm_part_forward(&s->part[g]);
      if (g + 1 < G) memcpy(s->part[g + 1].ghost, s->part[g].V[s->part[g].hi], sizeof(real) * (size_t)n * s->N);
    }
  } else {
    const int me = nn_rank(), g = me % G;
    s->D = P / G, s->nparts = 1;
    CHECK_MPI(MPI_Comm_split(MPI_COMM_WORLD, me / G, g, &s->pipe));
    CHECK_MPI(MPI_Comm_split(MPI_COMM_WORLD, g, me / G, &s->group));
    long Np = 0;
    s->Xp = pipe_gather(s, train->x, MPI_REAL_T, sizeof(real), s->d, train->n, 0, &Np);
    if (train->y) s->Tp = pipe_gather(s, train->y, MPI_REAL_T, sizeof(real), s->k, train->n, G - 1, &Np);
    else {
      int *lab = pipe_gather(s, train->label, MPI_INT, sizeof(int), 1, train->n, G - 1, &Np);
      if (lab) s->Tp = targets_of(s->k, Np, lab, NULL);
      free(lab);
    }
    long first = train->first;
    CHECK_MPI(MPI_Bcast(&first, 1, MPI_LONG, 0, s->pipe));
    s->first = first;
    s->part = nn_alloc(1, sizeof *s->part, "the groups");
    nn_resnet_admm *p = &s->part[0];
    part_alloc(s, p, g, s->group, Np, s->Xp, s->Tp);
    const int cnt = (int)((size_t)n * Np);
    if (g > 0) CHECK_MPI(MPI_Recv(p->ghost, cnt, MPI_REAL_T, g - 1, TAG_V, s->pipe, MPI_STATUS_IGNORE));
    nn_radmm_part_forward(p);
    if (g + 1 < G) CHECK_MPI(MPI_Send(p->V[p->hi], cnt, MPI_REAL_T, g + 1, TAG_V, s->pipe));
  }
  nn_radmm_send_backward(s, -1);
}

void nn_radmm_grouped_fini(nn_resnet_admm *s)
{
  for (int q = 0; q < s->nparts; q++) nn_radmm_part_free(&s->part[q]);
  free(s->part);
  free(s->Xp);
  free(s->Tp);
  for (int i = 0; s->eval && i < 4; i++) {
    if (s->nparts == 1) { /* gathered copies; one rank points at the driver's shards */
      free(s->eval[i].x);
      free(s->eval[i].label);
      free(s->eval[i].y);
    }
  }
  free(s->eval);
  if (s->nparts == 1) {
    MPI_Comm_free(&s->pipe);
    MPI_Comm_free(&s->group);
  }
}

/* ------------------------------------------------------------- the groups' forward pass */

static struct nn_radmm_eval_data *eval_data(nn_resnet_admm *s, const nn_shard *sh)
{
  for (int i = 0; i < 4; i++)
    if (s->eval[i].shard == sh) return &s->eval[i];
  int i = 0;
  while (i < 4 && s->eval[i].shard) i++;
  CHECK(i < 4, "internal: resnet-admm evaluates at most 4 splits");
  struct nn_radmm_eval_data *e = &s->eval[i];
  e->shard = sh;
  if (s->nparts > 1) {
    e->N = sh->n;
    e->x = sh->x;
    e->y = sh->y;
    e->label = sh->label;
    return e;
  }
  const int G = s->G;
  e->x = pipe_gather(s, sh->x, MPI_REAL_T, sizeof(real), sh->d, sh->n, 0, &e->N);
  if (sh->y) e->y = pipe_gather(s, sh->y, MPI_REAL_T, sizeof(real), sh->classes, sh->n, G - 1, &e->N);
  else e->label = pipe_gather(s, sh->label, MPI_INT, sizeof(int), 1, sh->n, G - 1, &e->N);
  return e;
}

/* Layers lo..hi of the network on `in` (n[lo-1] x N), ping-ponging between buf[0] and buf[1]
 * (each at least max(n, k) x N); returns the output. The true forward pass of model.c, layer by layer. */
static const real *apply_layers(const nn_model *m, int lo, int hi, const real *in, long N, real *buf[2])
{
  for (int l = lo; l <= hi; l++) {
    real *out = in == buf[0] ? buf[1] : buf[0];
    nn_affine(m->W[l], m->b[l], m->n[l], m->n[l - 1], in, N, out);
    if (l > 1 && l < m->L) nn_residual(m, out, in, out, (size_t)m->n[l] * N);
    in = out;
  }
  return in;
}

/* method.h forward_eval: the first group applies its layers to the pipe's inputs and sends the
 * activations on, each group applies its own, the last scores them (least squares: 0.5 |f(x) -
 * t|^2 per sample, t one-hot or real; correct = argmax is the class); the sums over the last
 * group's ranks reach every rank. */
int nn_radmm_forward_eval(void *self, const void *shard, enum nn_loss loss, long *correct, double *loss_sum)
{
  nn_resnet_admm *s = self;
  if (!s->part) return 0;
  CHECK(loss == NN_LOSS_LEAST_SQUARES, "internal: resnet-admm scores the squared loss only");
  /* chunks of samples, as model.c's pass: two chunk-sized buffers, not two n x N arrays (they
   * would count in every rank's peak memory); one rank and G ranks cut the same chunks */
  enum { CHUNK = 1024 };
  const nn_shard *sh = shard;
  const nn_model *m = s->net;
  struct nn_radmm_eval_data *e = eval_data(s, sh);
  const long N = e->N;
  const int L = s->L, k = s->k, n = s->n, d = s->d;
  const size_t rows = (size_t)(n > k ? n : k);
  real *buf[2] = { nn_alloc(rows * CHUNK, sizeof(real), "the forward pass's scratch"),
                   nn_alloc(rows * CHUNK, sizeof(real), "the forward pass's scratch") };
  const nn_resnet_admm *p = &s->part[0];
  const int g = s->nparts > 1 ? 0 : p->g, last = s->nparts > 1 || g + 1 == s->G;
  double sums[2] = { 0, 0 };
  for (long j0 = 0; j0 < N; j0 += CHUNK) {
    const long nc = N - j0 < CHUNK ? N - j0 : CHUNK;
    const int cnt = (int)((size_t)n * nc);
    const real *out;
    if (s->nparts > 1) out = apply_layers(m, 1, L, e->x + (size_t)j0 * d, nc, buf);
    else {
      const real *in = g == 0 ? e->x + (size_t)j0 * d : buf[0];
      if (g > 0) CHECK_MPI(MPI_Recv(buf[0], cnt, MPI_REAL_T, g - 1, TAG_EVAL, s->pipe, MPI_STATUS_IGNORE));
      out = apply_layers(m, p->lo, p->hi, in, nc, buf);
      if (!last) CHECK_MPI(MPI_Send(out, cnt, MPI_REAL_T, g + 1, TAG_EVAL, s->pipe));
    }
    if (!last) continue;
    for (long j = 0; j < nc; j++) {
      const real *z = out + (size_t)j * k;
      const long col = j0 + j;
      if (e->y) {
        for (int i = 0; i < k; i++) {
          double dd = (double)z[i] - (double)e->y[(size_t)col * k + i];
          sums[1] += 0.5 * dd * dd;
        }
        continue;
      }
      int best = 0, y = e->label[col];
      for (int i = 1; i < k; i++)
        if (z[i] > z[best]) best = i;
      sums[0] += best == y;
      for (int i = 0; i < k; i++) {
        double dd = z[i] - (i == y);
        sums[1] += 0.5 * dd * dd;
      }
    }
  }
  free(buf[0]);
  free(buf[1]);
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
  *correct = (long)sums[0];
  *loss_sum = sums[1];
  return 1;
}

/* method.h weights_export: each layer from its group (pipe 0's rank of it: world rank g) to
 * rank 0, which writes /weights; no other rank receives another group's weights. Called at
 * write time only. Collective. */
void nn_radmm_weights_export(const void *self, void *model)
{
  const nn_resnet_admm *s = self;
  nn_model *out = model;
  if (!s->part || s->nparts > 1) { /* one rank, or the full state: this rank holds every layer */
    nn_model_copy(out, s->net);
    return;
  }
  const int me = nn_rank();
  for (int g = 0; g < s->G; g++) {
    int lo, hi;
    nn_group_layers(s->L, s->G, g, &lo, &hi);
    for (int l = lo; l <= hi; l++) {
      const int count = out->n[l] * (out->n[l - 1] + 1); /* W[l] and b[l], its last column */
      if (me == 0 && g == 0) memcpy(out->W[l], s->net->W[l], sizeof(real) * (size_t)count);
      else if (me == 0) CHECK_MPI(MPI_Recv(out->W[l], count, MPI_REAL_T, g, TAG_EXPORT, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
      else if (me == g) CHECK_MPI(MPI_Send(s->net->W[l], count, MPI_REAL_T, 0, TAG_EXPORT, MPI_COMM_WORLD));
    }
  }
}
