/* resnet-admm: proximal (linearised) ADMM for the residual network; see resnet_admm.h.
 * Legend: L = K + 2 layers with weights (1 the input layer, 2..L-1 the K blocks, L the output),
 * n the width, d the inputs, k the outputs, N this rank's samples, Ng all ranks'; column-major,
 * samples as columns; Wbar_l = [W_l b_l] and Abar = [A; 1]. act is --activation, act' its
 * derivative (ReLU: 1 where z > 0).
 *
 * Problem (least-squares loss against T: one-hot classes, or the real targets of regression):
 *   min 1/2 |Wbar_L Vbar_{L-1} - T|^2
 *   s.t. V_1 = Wbar_1 Xbar                                (the linear input layer)
 *        V_l = V_{l-1} + act(Wbar_l Vbar_{l-1})  l = 2..L-1  (2-splitting)
 *   or   U_l = Wbar_l Vbar_{l-1},  V_l = V_{l-1} + act(U_l)  (3-splitting)
 * Augmented Lagrangian: the loss + sum over constraints r = 0 of <Lambda, r> + beta/2 |r|^2, with
 * r = left - right (V_l - a_l, U_l - Wbar_l Vbar_{l-1}); multipliers M_l (V) and MU_l (U).
 *
 * One iteration (= one epoch), serial schedule, Gauss-Seidel from input to output:
 *   for l = 1..L-1:
 *     W step.  l = 1, and every block with 3-splitting (linear constraints): exact proximal least
 *              squares, Wbar = argmin beta/2 |B - Wbar Abar|^2 + mu/2 |Wbar - Wbar_old|^2 with
 *              (A, B) = (X, V_1 + M_1/beta) or (V_{l-1}, U_l + MU_l/beta); mu = --ridge x
 *              trace(beta Abar Abar^T)/(cols + 1) (nn_radmm_ls_step; the input layer's system is
 *              factored once).
 *              Blocks with 2-splitting: one linearised proximal step on
 *              phi(Wbar) = beta/2 |V_l - V_{l-1} - act(Wbar Vbar_{l-1}) + M_l/beta|^2:
 *              Wbar -= grad phi / tau_l, grad phi = -beta [E .* act'(Z)] Vbar_{l-1}^T,
 *              E = V_l - V_{l-1} - act(Z) + M_l/beta, Z = Wbar Vbar_{l-1}, tau_l = --resnet-tau x
 *              beta x lambda_max(Vbar_{l-1} Vbar_{l-1}^T) (the Lipschitz bound of grad phi with
 *              |act'| <= 1, exact for ReLU almost everywhere; lambda_max by power iteration).
 *     U step   (3-splitting, blocks): U = argmin beta/2 |U - Wbar_l Vbar_{l-1} + MU_l/beta|^2
 *              + <grad q(U_old), U> + rho_U/2 |U - U_old|^2, q(U) = beta/2 |V_l - V_{l-1} -
 *              act(U) + M_l/beta|^2 linearised at the old U, rho_U = --resnet-rho x beta;
 *              elementwise closed form.
 *     V step.  V_l is in constraint l (target a_l) and in constraint l + 1 (or the loss, for
 *              l = L-1). 3-splitting: every term is quadratic in V_l, so the step is exact:
 *                l < L-1: (2I + W^T W) V = (a_l - M_l/beta) + W^T (U_{l+1} - b + MU_{l+1}/beta)
 *                         + (V_{l+1} - act(U_{l+1}) + M_{l+1}/beta),  W, b of layer l + 1;
 *                l = L-1: (beta I + W_L^T W_L) V = beta a - M + W_L^T (T - b_L).
 *              2-splitting: l = L-1 the same exact step; l < L-1 a linearised proximal step on
 *              h(V) = beta/2 |V_{l+1} - V - act(Wbar_{l+1} Vbar) + M_{l+1}/beta|^2:
 *                V = (beta a - M - grad h(V_old) + rho_l V_old) / (beta + rho_l),
 *                grad h = -beta [Q + W^T (Q .* act'(Z'))], Q = V_{l+1} - V_old - act(Z') +
 *                M_{l+1}/beta, Z' = Wbar_{l+1} Vbar_old, rho_l = --resnet-rho x beta
 *                (1 + |W_{l+1}|_2)^2 (its Lipschitz bound with |act'| <= 1).
 *              The n x n systems are the same on every rank (replicated W): each rank factors
 *              its own copy (LAPACK potrf) and solves for its own columns.
 *   W_L: exact proximal least squares against T (coefficient 1, mu as above).
 *   Multipliers: M_l += beta (V_l - a_l), MU_l += beta (U_l - Wbar_l Vbar_{l-1}), with a_l from
 *   the new iterates.
 * The epoch's objective is the augmented Lagrangian / Ng after the multiplier step; residual_a
 * = sum |V_l - a_l|^2 / Ng, residual_z = sum |U_l - Wbar_l Vbar_{l-1}|^2 / Ng (3-splitting).
 * What it shares with the gradient methods: nothing is back-propagated through the network;
 * the 2-splitting's linearised steps take the gradient of one constraint's penalty with respect
 * to one block (a local, one-layer gradient), scaled by a Lipschitz bound, not a learning rate.
 *
 * Start: the weights of --init, V and U at the forward pass of those weights, multipliers zero.
 *
 * The method's entry (set-up, epoch, options) is resnet_method.c. Layer groups (--layer-groups
 * G > 1; resnet_groups.c has the data flow and the schedules). The
 * layers split into G contiguous groups; group g owns its layers' W, V, U and the multipliers
 * of their constraints, the boundary constraint of its first layer s included (it reads group
 * g - 1's V_{s-1} through a ghost copy). The steps above are unchanged inside a group; the last
 * layer e of a group takes its V step with layer e + 1's share formed by group g + 1
 * (form_back, v_step_boundary). Schedules: jacobi, every group at once from its neighbours'
 * values of the previous iteration; odd-even, groups 0, 2, .. then 1, 3, .. (= the serial order
 * of --group-schedule serial); then, in both, V forward, the multiplier steps above with the new
 * iterates, the backward shares for the next iteration.
 *
 * Against the paper (Xu, Li, Xing, arXiv 2310.15334v2; issue 16 item 2). What could be read: the
 * project's stored copy of https://arxiv.org/html/2310.15334v2 answers every query (problem
 * formulation, the 2- and 3-splitting augmented Lagrangians, the algorithms' update orders,
 * proximal and penalty parameters, PRU, the Wine Quality settings; nine queries) with its
 * opening only: title, authors, abstract, index terms, the first lines of Section I. The v1
 * abstract and a third-party summary add a little. No equation, algorithm or parameter of the
 * paper could be read, so none is quoted here and none of the choices above is confirmed by it.
 * What those texts do establish, and how this file stands against it:
 *   - serial and parallel proximal (linearized) ADMM for the fully connected ResNet (FCResNet)
 *     training problem, made separable by auxiliary variables, with a two-splitting and a
 *     three-splitting relaxation: as here (V; V and U).
 *   - v1's abstract: "proximal point (gradient) ADMMs", the convergence proof (KL framework,
 *     locally R-linear or sublinear by the KL exponent) for the PROXIMAL POINT version; v2:
 *     R-linear (sublinear) rates for iterates and objective values, convergence to KKT points,
 *     no condition on width, depth or data size. Here the steps whose subproblem is quadratic
 *     are exact proximal-point steps and the others (where act enters) linearised, i.e. the
 *     proximal gradient version there; whether the paper's proven version solves those
 *     nonlinear subproblems exactly is not confirmed.
 *   - parallel regional updates (PRU) of groups of layers; per-node time and memory analysis; a
 *     Python multiprocessing control protocol; experiments on Wine Quality. Here: --layer-groups
 *     (resnet_groups.c; README: Residual networks by ADMM), whose two schedules
 *     are derived from the constraints, not read from the paper.
 * To check against the paper's algorithms when its body can be read, in this order (each a
 * one-place change here): (1) which constraints carry multipliers: here every one, including
 * the nonlinear 2-splitting blocks and 3-splitting's V_l = V_{l-1} + act(U_l); the usual
 * nonconvex ADMM analyses need the multiplier of a constraint to be controlled by the last
 * updated block's optimality condition, which many ADMM-for-DNN schemes meet by giving
 * multipliers only to linear constraints (dlADMM, arXiv 1905.13611, has one, on the output
 * layer's); (2) the multipliers' step (here beta, every one); (3) the order inside a layer
 * (W, U, V here) and across layers (input to output, then W_L); (4) the proximal weights
 * (mu, tau_l, rho_l above) and the conditions on them and on beta; (5) the loss form (here
 * 1/2 |.|^2 summed, not averaged: beta's scale depends on the sample count). */
#include "resnet_admm.h"
#include "resnet_seam.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/check.h"
#include "../common/util.h"
#include "layer_groups.h"
#include "real.h"

#ifdef NN_FLOAT32
#define lapack_potrf LAPACKE_spotrf
#define lapack_potrs LAPACKE_spotrs
#else
#define lapack_potrf LAPACKE_dpotrf
#define lapack_potrs LAPACKE_dpotrs
#endif

static nn_timer *timer_of(const nn_resnet_admm *s);

/* ============================================================= elementwise helpers */

static inline real act(const nn_resnet_admm *s, real z)
{
  return s->net->sigmoid ? 1 / (1 + r_exp(-z)) : (z > 0 ? z : 0);
}

static inline real act_slope(const nn_resnet_admm *s, real z)
{
  if (!s->net->sigmoid) return z > 0 ? 1 : 0;
  real h = 1 / (1 + r_exp(-z));
  return h * (1 - h);
}

/* out (rows x N) = Wbar_l Abar for layer l of the model (A is n[l-1] x N). */
static void layer_apply(const nn_resnet_admm *s, int l, const real *A, real *out)
{
  const nn_model *m = s->net;
  nn_affine(m->W[l], m->b[l], m->n[l], m->n[l - 1], A, s->N, out);
}

/* The same for columns j0 .. j0 + nc - 1 of A: out is rows x nc. */
static void layer_apply_cols(const nn_resnet_admm *s, int l, const real *A, long j0, long nc, real *out)
{
  const nn_model *m = s->net;
  nn_affine(m->W[l], m->b[l], m->n[l], m->n[l - 1], A + (size_t)j0 * m->n[l - 1], nc, out);
}

static void allreduce(const nn_resnet_admm *s, void *buf, size_t count, MPI_Datatype type)
{
  nn_timer *t = timer_of(s);
  int back = t ? t->running : -1;
  if (t) nn_timer_start(t, PH_COMM_REDUCE);
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, buf, (int)count, type, MPI_SUM, s->comm));
  if (t && back >= 0) nn_timer_start(t, (enum nn_phase)back);
}

/* The largest eigenvalue of the symmetric positive semidefinite m x m matrix S (ld m) by
 * power iteration from the all-ones vector: deterministic, so every rank gets the same bits. */
static double lambda_max(const real *S, int m, real *work)
{
  real *v = work, *w = work + m;
  for (int i = 0; i < m; i++) v[i] = 1;
  double lam = 0;
  for (int it = 0; it < 60; it++) {
    cblas_gemv(CblasColMajor, CblasNoTrans, m, m, 1, S, m, v, 1, 0, w, 1);
    double nrm = 0, dot = 0;
    for (int i = 0; i < m; i++) {
      nrm += (double)w[i] * w[i];
      dot += (double)w[i] * v[i];
    }
    double vv = 0;
    for (int i = 0; i < m; i++) vv += (double)v[i] * v[i];
    lam = vv > 0 ? dot / vv : 0;
    nrm = sqrt(nrm);
    if (nrm == 0) return 0;
    for (int i = 0; i < m; i++) v[i] = (real)(w[i] / nrm);
  }
  return lam;
}

/* Factors the SPD m x m system S in place (Cholesky, lower). Local. */
static void spd_factor(real *S, int m, const char *what)
{
  nn_count_local_solve((double)m * m * m / 3.0);
  int info = lapack_potrf(LAPACK_COL_MAJOR, 'L', m, S, m);
  CHECK(info == 0, "resnet-admm: the %s system is not positive definite (potrf info %d): raise --ridge or "
        "--resnet-beta", what, info);
}

/* Solves F X = R for nrhs columns of R (ld m) in place, F factored by spd_factor. Local. */
static void spd_solve_factored(const real *F, int m, real *R, long nrhs, const char *what)
{
  nn_count_local_solve(2.0 * m * m * (double)nrhs);
  if (nrhs > 0) {
    int info = lapack_potrs(LAPACK_COL_MAJOR, 'L', m, (int)nrhs, F, m, R, m);
    CHECK(info == 0, "resnet-admm: potrs info %d (%s)", info, what);
  }
}

/* Factors S and solves S X = R in place. Local. */
static void spd_solve(real *S, int m, real *R, long nrhs, const char *what)
{
  spd_factor(S, m, what);
  spd_solve_factored(S, m, R, nrhs, what);
}

/* ============================================================= the steps */

double nn_radmm_ls_step(nn_resnet_admm *s, int l, const real *A, const real *B, const real *lam, double c)
{
  nn_model *net = s->net;
  const int rows = net->n[l], cols = net->n[l - 1], m = cols + 1;
  const long N = s->N;
  int cached = l == 1 && s->in_factor && s->iter > 0;
  real *G = s->sums, *Cx = s->sums + (size_t)m * m;
  size_t count = (size_t)m * m + (size_t)rows * m;
  memset(s->sums, 0, sizeof(real) * count);
  /* G = Abar Abar^T (ld m), Cx = Bt Abar^T (rows x m); the last row/column are the sums */
  if (N > 0 && !cached) cblas_gemm(CblasColMajor, CblasNoTrans, CblasTrans, cols, cols, (int)N, 1, A, cols, A, cols, 0, G, m);
  nn_count_stream((double)sizeof(real) * N * ((cached ? 0 : cols) + rows)); /* counters: A (uncached), Bt */
  if (!cached)
    for (long j = 0; j < N; j++) {
      const real *a = A + (size_t)j * cols;
      for (int i = 0; i < cols; i++) G[(size_t)cols * m + i] += a[i];
      G[(size_t)cols * m + cols] += 1;
    }
  if (!lam) { /* the target is B itself (the output layer's T): one product over every sample */
    if (N > 0) cblas_gemm(CblasColMajor, CblasNoTrans, CblasTrans, rows, cols, (int)N, 1, B, rows, A, cols, 0, Cx, rows);
    for (long j = 0; j < N; j++)
      for (int i = 0; i < rows; i++) Cx[(size_t)cols * rows + i] += B[(size_t)j * rows + i];
  } else { /* Bt = B + lam/beta, a chunk at a time in the scratch A: Cx is summed chunk by chunk */
    const real ib = (real)(1 / s->beta);
    real *Bt = s->A;
    nn_count_stream(3.0 * sizeof(real) * rows * N); /* counters: B, lam in, Bt out */
    FOR_CHUNKS(s, j0, nc) {
      const size_t off = (size_t)j0 * rows;
      for (size_t e = 0; e < (size_t)rows * nc; e++) Bt[e] = B[off + e] + lam[off + e] * ib;
      cblas_gemm(CblasColMajor, CblasNoTrans, CblasTrans, rows, cols, (int)nc, 1, Bt, rows, A + (size_t)j0 * cols, cols,
                 1, Cx, rows);
      for (long j = 0; j < nc; j++)
        for (int i = 0; i < rows; i++) Cx[(size_t)cols * rows + i] += Bt[(size_t)j * rows + i];
    }
  }
  if (cached) allreduce(s, Cx, (size_t)rows * m, MPI_REAL_T);
  else allreduce(s, s->sums, count, MPI_REAL_T);

  real *S = l == 1 && s->in_factor ? s->in_factor : s->sys;
  double mu = s->in_mu;
  if (!cached) {
    for (int j = 0; j < m; j++)
      for (int i = j + 1; i < m; i++) G[(size_t)j * m + i] = G[(size_t)i * m + j]; /* mirror the sums' column */
    double trace = 0;
    for (int i = 0; i < m; i++) trace += c * G[(size_t)i * m + i];
    mu = s->ridge * (trace > 0 ? trace / m : 1);
    for (size_t e = 0; e < (size_t)m * m; e++) S[e] = (real)(c * G[e]);
    for (int i = 0; i < m; i++) S[(size_t)i * m + i] += (real)mu;
  }
  /* S Wbar^T = (c Cx + mu Wbar_old)^T: the right side transposed, m x rows */
  real *Wb = net->W[l], *R = s->rhs;
  for (int i = 0; i < rows; i++)
    for (int j = 0; j < m; j++)
      R[(size_t)i * m + j] = (real)(c * Cx[(size_t)j * rows + i] + mu * Wb[(size_t)j * rows + i]);
  if (cached) {
    nn_count_local_solve(2.0 * m * m * rows);
    int info = lapack_potrs(LAPACK_COL_MAJOR, 'L', m, rows, S, m, R, m);
    CHECK(info == 0, "resnet-admm: potrs info %d (input layer)", info);
  } else {
    spd_solve(S, m, R, rows, "weight step's");
    if (l == 1 && s->in_factor) s->in_mu = mu; /* S now holds the factor, kept */
  }
  for (int i = 0; i < rows; i++)
    for (int j = 0; j < m; j++) Wb[(size_t)j * rows + i] = R[(size_t)i * m + j];
  return mu;
}

double nn_radmm_w_block_linear(nn_resnet_admm *s, int l)
{
  nn_model *net = s->net;
  const int n = s->n, m = n + 1;
  const long N = s->N;
  const real *Vp = s->V[l - 1], *V = s->V[l], *M = s->M[l];
  const real ib = (real)(1 / s->beta);
  real *Z = s->A, *E = s->B;
  real *G = s->sums, *D = s->sums + (size_t)m * m;
  size_t count = (size_t)m * m + (size_t)n * m;
  memset(s->sums, 0, sizeof(real) * count);
  if (N > 0) cblas_gemm(CblasColMajor, CblasNoTrans, CblasTrans, n, n, (int)N, 1, Vp, n, Vp, n, 0, G, m);
  for (long j = 0; j < N; j++) {
    for (int i = 0; i < n; i++) G[(size_t)n * m + i] += Vp[(size_t)j * n + i];
    G[(size_t)n * m + n] += 1;
  }
  nn_count_stream(5.0 * sizeof(real) * n * N); /* counters: Z, V, Vp, M in, E out */
  nn_count_stream(2.0 * sizeof(real) * n * N); /* counters: Vp, E */
  /* E (n x chunk) = (V - Vp - act(Z) + M/beta) .* act'(Z), Z = Wbar Vbar_p; D += E Vbar_p^T */
  FOR_CHUNKS(s, j0, nc) {
    const size_t off = (size_t)j0 * n;
    layer_apply_cols(s, l, Vp, j0, nc, Z);
    for (size_t e = 0; e < (size_t)n * nc; e++) {
      real h = act(s, Z[e]);
      E[e] = (V[off + e] - Vp[off + e] - h + M[off + e] * ib) * act_slope(s, Z[e]);
    }
    cblas_gemm(CblasColMajor, CblasNoTrans, CblasTrans, n, n, (int)nc, 1, E, n, Vp + off, n, 1, D, n);
    for (long j = 0; j < nc; j++)
      for (int i = 0; i < n; i++) D[(size_t)n * n + i] += E[(size_t)j * n + i];
  }
  allreduce(s, s->sums, count, MPI_REAL_T);
  for (int j = 0; j < m; j++)
    for (int i = j + 1; i < m; i++) G[(size_t)j * m + i] = G[(size_t)i * m + j];
  double lam = lambda_max(G, m, s->rhs);
  double tau = s->tau * s->beta * (lam > 0 ? lam : 1);
  /* Wbar -= grad / tau with grad = -beta D */
  real step = (real)(s->beta / tau), *Wb = net->W[l];
  for (size_t e = 0; e < (size_t)n * m; e++) Wb[e] += step * D[e];
  return tau;
}

void nn_radmm_u_step(nn_resnet_admm *s, int l)
{
  const int n = s->n;
  const long N = s->N;
  const real beta = (real)s->beta, ib = (real)(1 / s->beta), rho = (real)(s->rho * s->beta);
  const real *Vp = s->V[l - 1], *V = s->V[l], *M = s->M[l], *MU = s->MU[l];
  real *U = s->U[l], *P = s->A;
  nn_count_stream(7.0 * sizeof(real) * n * N); /* counters: P, MU, V, Vp, M, U in, U out */
  FOR_CHUNKS(s, j0, nc) {
    layer_apply_cols(s, l, Vp, j0, nc, P);
    for (size_t i = 0, e = (size_t)j0 * n; i < (size_t)n * nc; i++, e++) {
      real u = U[e], target = P[i] - MU[e] * ib;
      real g = -beta * (V[e] - Vp[e] - act(s, u) + M[e] * ib) * act_slope(s, u); /* grad q at the old U */
      U[e] = (beta * target - g + rho * u) / (beta + rho);
    }
  }
}

/* a_l of columns j0 .. j0 + nc - 1 into out (n x nc). */
static void target_cols(const nn_resnet_admm *s, int l, long j0, long nc, real *out)
{
  const size_t cnt = (size_t)s->n * nc, off = (size_t)j0 * s->n;
  if (l == 1) {
    layer_apply_cols(s, 1, s->X, j0, nc, out);
    return;
  }
  const real *Vp = s->V[l - 1] + off;
  nn_count_stream(3.0 * sizeof(real) * cnt); /* counters: Vp and U (or out) in, out out */
  if (s->split == 3) {
    const real *U = s->U[l] + off;
    for (size_t e = 0; e < cnt; e++) out[e] = Vp[e] + act(s, U[e]);
  } else {
    layer_apply_cols(s, l, s->V[l - 1], j0, nc, out);
    for (size_t e = 0; e < cnt; e++) out[e] = Vp[e] + act(s, out[e]);
  }
}

void nn_radmm_target(const nn_resnet_admm *s, int l, real *out)
{
  target_cols(s, l, 0, s->N, out);
}

/* sys (n x n) = alpha I + W^T W for the square or k x n W of layer l (rows x n). */
static void normal_matrix(nn_resnet_admm *s, int l, double alpha)
{
  const nn_model *net = s->net;
  const int n = s->n, rows = net->n[l];
  cblas_gemm(CblasColMajor, CblasTrans, CblasNoTrans, n, n, rows, 1, net->W[l], rows, net->W[l], rows, 0, s->sys, n);
  for (int i = 0; i < n; i++) s->sys[(size_t)i * n + i] += (real)alpha;
}

/* V_l's step for the last layer l = hi < L of a group: what layer l + 1 contributes, `back`,
 * was formed by group g + 1 (form_back) and Wbar_{l+1} received into net->W[l + 1]; the same
 * formulas as nn_radmm_v_step below, with that share added as one array. */
static double v_step_boundary(nn_resnet_admm *s, int l)
{
  const int n = s->n, up = l + 1;
  const real beta = (real)s->beta, ib = (real)(1 / s->beta);
  real *R = s->A, *a = s->A; /* the right side over the target, in place */
  if (up == s->L || s->split == 3) {
    int last = up == s->L;
    const char *what = last ? "output V step's" : "V step's";
    normal_matrix(s, up, last ? s->beta : 2.0);
    spd_factor(s->sys, n, what);
    FOR_CHUNKS(s, j0, nc) {
      const size_t off = (size_t)j0 * n, cnt = (size_t)n * nc;
      const real *M = s->M[l] + off, *back = s->back + off;
      target_cols(s, l, j0, nc, a);
      for (size_t e = 0; e < cnt; e++) R[e] = (last ? beta * a[e] - M[e] : a[e] - M[e] * ib) + back[e];
      spd_solve_factored(s->sys, n, R, nc, what);
      memcpy(s->V[l] + off, R, sizeof(real) * cnt);
    }
    return 0;
  }
  normal_matrix(s, up, 0.0);
  double w2 = lambda_max(s->sys, n, s->rhs);
  double rho = s->rho * s->beta * (1 + sqrt(fmax(w2, 0))) * (1 + sqrt(fmax(w2, 0)));
  real rr = (real)rho, inv = (real)(1 / (s->beta + rho));
  FOR_CHUNKS(s, j0, nc) {
    const size_t off = (size_t)j0 * n, cnt = (size_t)n * nc;
    real *V = s->V[l] + off;
    const real *M = s->M[l] + off, *back = s->back + off;
    target_cols(s, l, j0, nc, a);
    for (size_t e = 0; e < cnt; e++) V[e] = (beta * a[e] - M[e] + beta * back[e] + rr * V[e]) * inv;
  }
  return rho;
}

/* What group g + 1 sends group g for its last V step (v_step_boundary): from this part's first
 * layer s = lo and the ghost V_{s-1} (group g's V as this part last received it), columns j0 ..
 * j0 + nc - 1 into out (n x nc; not the scratch B):
 *   s = L:        W_L^T (T - b_L)
 *   3-splitting:  (V_s - act(U_s) + M_s/beta) + W_s^T (U_s - b_s + MU_s/beta)
 *   2-splitting:  Q + W_s^T (Q .* act'(Z)), Q = V_s - V_{s-1} - act(Z) + M_s/beta, Z = Wbar_s Vbar_{s-1}
 * the same terms nn_radmm_v_step forms from layer l + 1 when it holds it. */
void nn_radmm_form_back_cols(nn_resnet_admm *s, long j0, long N, real *out)
{
  const nn_model *net = s->net;
  const int n = s->n, up = s->lo, rows = net->n[up];
  const size_t cnt = (size_t)n * N, off = (size_t)j0 * n;
  const real ib = (real)(1 / s->beta);
  const real *Wu = net->W[up], *bu = net->b[up];
  real *P = s->B;
  if (up == s->L) {
    const real *T = s->T + (size_t)j0 * rows;
    for (long j = 0; j < N; j++)
      for (int i = 0; i < rows; i++) P[(size_t)j * rows + i] = T[(size_t)j * rows + i] - bu[i];
    if (N > 0) cblas_gemm(CblasColMajor, CblasTrans, CblasNoTrans, n, (int)N, rows, 1, Wu, rows, P, rows, 0, out, n);
    return;
  }
  const real *Vn = s->V[up] + off, *Mn = s->M[up] + off;
  if (s->split == 3) {
    const real *Un = s->U[up] + off, *MUn = s->MU[up] + off;
    for (long j = 0; j < N; j++)
      for (int i = 0; i < n; i++) {
        size_t e = (size_t)j * n + i;
        P[e] = Un[e] - bu[i] + MUn[e] * ib;
      }
    for (size_t e = 0; e < cnt; e++) out[e] = Vn[e] - act(s, Un[e]) + Mn[e] * ib;
  } else {
    const real *Vold = s->V[up - 1] + off;
    layer_apply_cols(s, up, s->V[up - 1], j0, N, P);
    for (size_t e = 0; e < cnt; e++) {
      real z = P[e], q = Vn[e] - Vold[e] - act(s, z) + Mn[e] * ib;
      out[e] = q;
      P[e] = q * act_slope(s, z);
    }
  }
  if (N > 0) cblas_gemm(CblasColMajor, CblasTrans, CblasNoTrans, n, (int)N, n, 1, Wu, n, P, n, 1, out, n);
}

/* form_back_cols over every column, into out (n x N). */
void nn_radmm_form_back(nn_resnet_admm *s, real *out)
{
  FOR_CHUNKS(s, j0, nc) nn_radmm_form_back_cols(s, j0, nc, out + (size_t)j0 * s->n);
}

double nn_radmm_v_step(nn_resnet_admm *s, int l)
{
  nn_model *net = s->net;
  const int n = s->n, L = s->L, up = l + 1, rows = net->n[up];
  const long N = s->N;
  const size_t all = (size_t)n * N;
  const real beta = (real)s->beta, ib = (real)(1 / s->beta);
  /* two scratch arrays of a chunk's columns: the exact steps build their right side over a,
   * in place, and solve it with the system factored once */
  real *a = s->A, *R = s->A;
  const real *Wu = net->W[up], *bu = net->b[up];
  if (l == s->hi) return v_step_boundary(s, l);

  if (l == L - 1) { /* (beta I + W_L^T W_L) V = beta a - M + W_L^T (T - b_L), exact */
    real *TB = s->B;
    nn_count_stream(2.0 * sizeof(real) * rows * N), nn_count_stream(3.0 * sizeof(real) * all), nn_count_stream(2.0 * sizeof(real) * all); /* counters, a call a loop: TB (2 arrays), R (3), the copy (2) */
    normal_matrix(s, up, s->beta);
    spd_factor(s->sys, n, "output V step's");
    FOR_CHUNKS(s, j0, nc) {
      const size_t off = (size_t)j0 * n, cnt = (size_t)n * nc;
      const real *M = s->M[l] + off, *T = s->T + (size_t)j0 * rows;
      target_cols(s, l, j0, nc, a);
      for (long j = 0; j < nc; j++)
        for (int i = 0; i < rows; i++) TB[(size_t)j * rows + i] = T[(size_t)j * rows + i] - bu[i];
      for (size_t e = 0; e < cnt; e++) R[e] = beta * a[e] - M[e];
      cblas_gemm(CblasColMajor, CblasTrans, CblasNoTrans, n, (int)nc, rows, 1, Wu, rows, TB, rows, 1, R, n);
      spd_solve_factored(s->sys, n, R, nc, "output V step's");
      memcpy(s->V[l] + off, R, sizeof(real) * cnt);
    }
    return 0;
  }
  if (s->split == 3) { /* exact: (2I + W^T W) V = (a - M/beta) + W^T (U' - b + MU'/beta) + (V' - act(U') + M'/beta) */
    real *P = s->B;
    nn_count_stream(3.0 * sizeof(real) * all), nn_count_stream(6.0 * sizeof(real) * all), nn_count_stream(2.0 * sizeof(real) * all); /* counters, a call a loop: P (3 arrays), R (6), the copy (2) */
    normal_matrix(s, up, 2.0);
    spd_factor(s->sys, n, "V step's");
    FOR_CHUNKS(s, j0, nc) {
      const size_t off = (size_t)j0 * n, cnt = (size_t)n * nc;
      const real *M = s->M[l] + off, *Vn = s->V[up] + off, *Mn = s->M[up] + off, *Un = s->U[up] + off,
                 *MUn = s->MU[up] + off;
      target_cols(s, l, j0, nc, a);
      for (long j = 0; j < nc; j++)
        for (int i = 0; i < n; i++) {
          size_t e = (size_t)j * n + i;
          P[e] = Un[e] - bu[i] + MUn[e] * ib;
        }
      for (size_t e = 0; e < cnt; e++) R[e] = a[e] - M[e] * ib + Vn[e] - act(s, Un[e]) + Mn[e] * ib;
      cblas_gemm(CblasColMajor, CblasTrans, CblasNoTrans, n, (int)nc, n, 1, Wu, n, P, n, 1, R, n);
      spd_solve_factored(s->sys, n, R, nc, "V step's");
      memcpy(s->V[l] + off, R, sizeof(real) * cnt);
    }
    return 0;
  }
  /* 2-splitting, linearised: V = (beta a - M + beta (Q + W^T (Q .* act'(Z'))) + rho V) / (beta + rho) */
  nn_count_stream(6.0 * sizeof(real) * all), nn_count_stream(5.0 * sizeof(real) * all); /* counters, a call a loop: Zq, Vn, V, Mn in, R, Zq out; a, M, R, V in, V out */
  normal_matrix(s, up, 0.0); /* W^T W, for |W|_2^2 */
  double w2 = lambda_max(s->sys, n, s->rhs);
  double rho = s->rho * s->beta * (1 + sqrt(fmax(w2, 0))) * (1 + sqrt(fmax(w2, 0)));
  real rr = (real)rho, inv = (real)(1 / (s->beta + rho));
  real *Zq = s->B;
  FOR_CHUNKS(s, j0, nc) {
    const size_t off = (size_t)j0 * n, cnt = (size_t)n * nc;
    real *V = s->V[l] + off;
    const real *M = s->M[l] + off, *Vn = s->V[up] + off, *Mn = s->M[up] + off;
    layer_apply_cols(s, up, s->V[l], j0, nc, Zq);
    for (size_t e = 0; e < cnt; e++) {
      real z = Zq[e], q = Vn[e] - V[e] - act(s, z) + Mn[e] * ib;
      R[e] = q;
      Zq[e] = q * act_slope(s, z);
    }
    cblas_gemm(CblasColMajor, CblasTrans, CblasNoTrans, n, (int)nc, n, 1, Wu, n, Zq, n, 1, R, n);
    a = s->B; /* the target where Zq was: R holds the A array */
    target_cols(s, l, j0, nc, a);
    for (size_t e = 0; e < cnt; e++) V[e] = (beta * a[e] - M[e] + beta * R[e] + rr * V[e]) * inv;
  }
  return rho;
}

/* One constraint lhs = rhs over cnt entries, r = lhs - rhs: with update, first Lambda += beta r;
 * adds <Lambda, r> + beta/2 |r|^2 to *lagr and |r|^2 to *sq. */
static void constraint_term(const nn_resnet_admm *s, const real *lhs, const real *rhs, real *lambda, size_t cnt,
                            int update, double *lagr, double *sq)
{
  const real beta = (real)s->beta;
  nn_count_stream((update ? 4.0 : 3.0) * sizeof(real) * cnt); /* counters: lhs, rhs, lambda (and its update) */
  for (size_t e = 0; e < cnt; e++) {
    real r = lhs[e] - rhs[e];
    if (update) lambda[e] += beta * r;
    *lagr += (double)lambda[e] * r + 0.5 * s->beta * (double)r * r;
    *sq += (double)r * r;
  }
}

/* Adds over this rank's columns, for every constraint: <Lambda, r> + beta/2 |r|^2 into sums[1],
 * |r_V|^2 into sums[2], |r_U|^2 into sums[3]; the loss into sums[0]. With update, first
 * Lambda += beta r. */
void nn_radmm_constraint_terms(nn_resnet_admm *s, int update, double sums[4])
{
  const int L = s->L, k = s->k, n = s->n;
  real *a = s->A;
  /* chunk by chunk in column order: each sum adds its terms in the order of one pass */
  for (int l = s->lo; l < L && l <= s->hi; l++) {
    FOR_CHUNKS(s, j0, nc) {
      const size_t off = (size_t)j0 * n;
      target_cols(s, l, j0, nc, a);
      constraint_term(s, s->V[l] + off, a, s->M[l] + off, (size_t)n * nc, update, &sums[1], &sums[2]);
    }
    if (s->split == 3 && l > 1)
      FOR_CHUNKS(s, j0, nc) {
        const size_t off = (size_t)j0 * n;
        layer_apply_cols(s, l, s->V[l - 1], j0, nc, a);
        constraint_term(s, s->U[l] + off, a, s->MU[l] + off, (size_t)n * nc, update, &sums[1], &sums[3]);
      }
  }
  if (s->hi < L) return; /* the loss is the last group's */
  real *out = s->B;
  nn_count_stream(2.0 * sizeof(real) * k * s->N); /* counters: out, T */
  FOR_CHUNKS(s, j0, nc) {
    const real *T = s->T + (size_t)j0 * k;
    layer_apply_cols(s, L, s->V[L - 1], j0, nc, out);
    for (size_t e = 0; e < (size_t)k * nc; e++) {
      double r = (double)out[e] - T[e];
      sums[0] += 0.5 * r * r;
    }
  }
}

static double finish_terms(nn_resnet_admm *s, double sums[4], double *res_v, double *res_u)
{
  allreduce(s, sums, 4, MPI_DOUBLE);
  double ng = (double)s->n_global;
  *res_v = sums[2] / ng;
  *res_u = s->split == 3 ? sums[3] / ng : NAN;
  return (sums[0] + sums[1]) / ng;
}

double nn_radmm_plain_terms(nn_resnet_admm *s, int update, double *res_v, double *res_u)
{
  double sums[4] = { 0, 0, 0, 0 };
  nn_radmm_constraint_terms(s, update, sums);
  return finish_terms(s, sums, res_v, res_u);
}

/* The timer of the epoch in progress (NULL outside one: the tests call the steps directly). */
static nn_timer *current_timer;
static nn_timer *timer_of(const nn_resnet_admm *s)
{
  (void)s;
  return current_timer;
}

void nn_radmm_phase(enum nn_phase p)
{
  if (current_timer) nn_timer_start(current_timer, p);
}

void nn_radmm_set_timer(nn_timer *t)
{
  current_timer = t;
}

/* Layer l's steps: W, U (3-splitting blocks), V for l < L; the output weights for l = L. */
static void layer_steps(nn_resnet_admm *s, int l)
{
  const int L = s->L;
  nn_radmm_phase(PH_W);
  if (l == L) {
    nn_radmm_ls_step(s, L, s->V[L - 1], s->T, NULL, 1.0);
    return;
  }
  if (l == 1 || s->split == 3) /* the linear constraint's target: V_1 + M_1/beta, or U_l + MU_l/beta */
    nn_radmm_ls_step(s, l, l == 1 ? s->X : s->V[l - 1], l == 1 ? s->V[1] : s->U[l], l == 1 ? s->M[1] : s->MU[l],
                     s->beta);
  else
    nn_radmm_w_block_linear(s, l);
  if (s->split == 3 && l > 1) {
    nn_radmm_phase(PH_U);
    nn_radmm_u_step(s, l);
  }
  nn_radmm_phase(PH_V);
  nn_radmm_v_step(s, l);
}

/* The serial sweep of a part's layers, input to output (G = 1: every layer; --group-schedule
 * serial: the groups' layers in odd-even's order, colour 0 first). */
void nn_radmm_sweep(nn_resnet_admm *s)
{
  if (s->G > 1 && s->schedule == 2) {
    for (int colour = 0; colour < 2; colour++)
      for (int g = colour; g < s->G; g += 2) {
        int lo, hi;
        nn_group_layers(s->L, s->G, g, &lo, &hi);
        for (int l = lo; l <= hi; l++) layer_steps(s, l);
      }
    return;
  }
  for (int l = s->lo; l <= s->hi; l++) layer_steps(s, l);
}

/* ============================================================= a part's start and end
 * (the plain method is one part; resnet_groups.c runs G of them) */

/* V and U of a part's layers at the forward pass of the current weights (its ghost set). */
void nn_radmm_part_forward(nn_resnet_admm *p)
{
  const size_t cnt = (size_t)p->n * p->N;
  for (int l = p->lo; l < p->L && l <= p->hi; l++) {
    if (p->split == 3 && l > 1) {
      layer_apply(p, l, p->V[l - 1], p->U[l]);
      for (size_t e = 0; e < cnt; e++) p->V[l][e] = p->V[l - 1][e] + act(p, p->U[l][e]);
    } else
      nn_radmm_target(p, l, p->V[l]);
  }
}

void nn_radmm_part_free(nn_resnet_admm *p)
{
  for (int l = p->lo; l < p->L && l <= p->hi; l++) {
    free(p->V[l]);
    free(p->M[l]);
    free(p->U[l]);
    free(p->MU[l]);
  }
  free(p->ghost);
  free(p->back);
  free(p->A);
  free(p->B);
  free(p->sums);
  free(p->sys);
  free(p->rhs);
  free(p->in_factor);
}
