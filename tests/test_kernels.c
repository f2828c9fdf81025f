/* Each numerical kernel against a plain-loop reference (tests/reference.h), on odd sizes
 * so block-cyclic edges are exercised, at whatever rank count mpiexec gives. Compiled once
 * per precision; tolerances scale with the precision's epsilon. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../io/dataset.h"
#include "../solver/admm.h"
#include "../solver/augment.h"
#include "../common/check.h"
#include "../solver/closed_forms.h"
#include "../solver/pinv.h"
#include "../common/rng.h"
#include "../solver/scalapack.h"
#include "../solver/spd.h"
#include "reference.h"
#include "testing.h"

#ifdef NN_FLOAT32
#define TOL 2e-3
#else
#define TOL 1e-9
#endif

static int me, nranks;

static double rnd(uint64_t stream, uint64_t i) { return nn_rng_normal(42, stream, i); }

static void to_double(const real *src, double *dst, size_t n) { for (size_t i = 0; i < n; i++) dst[i] = src[i]; }

static void test_pack_roundtrip(const nn_grid *g)
{
  int m = 37, n = 23;
  real *full = malloc(sizeof(real) * m * n), *buf = malloc(sizeof(real) * m * n), *back = calloc(m * n, sizeof(real));
  for (int i = 0; i < m * n; i++) full[i] = (real)i;
  nn_bc_pack(g, MPI_REAL_T, full, m, m, n, buf);
  nn_bc_unpack(g, MPI_REAL_T, buf, m, n, back, m, NN_BC_AS_IS);
  int same = memcmp(full, back, sizeof(real) * m * n) == 0;
  EXPECT(same, "block-cyclic pack/unpack of a %dx%d matrix (nb=%d) is not the identity", m, n, g->nb);
  /* Transposed: element (i, j) at back[j + i n]. */
  nn_bc_unpack(g, MPI_REAL_T, buf, m, n, back, n, NN_BC_TRANSPOSED);
  int ok = 1;
  for (int j = 0; j < n; j++)
    for (int i = 0; i < m; i++) ok &= back[j + i * n] == full[i + j * m];
  EXPECT(ok, "block-cyclic unpack of a %dx%d matrix (nb=%d) into its transpose is wrong", m, n, g->nb);
  int *counts = malloc(sizeof(int) * nranks), *displs = malloc(sizeof(int) * nranks);
  long total = nn_bc_counts(g, m, n, counts, displs);
  EXPECT(total == (long)m * n, "block-cyclic counts add up to %ld, not %d", total, m * n);
  /* This rank's piece in the packed buffer is exactly its local block-cyclic array, and so is
   * what nn_bc_take_own copies out of the whole matrix (leading dimension lld). */
  nn_bcmat A;
  nn_bc_describe(&A, g, m, n);
  real *own = malloc(sizeof(real) * nn_bc_local_size(&A));
  nn_bc_take_own(g, MPI_REAL_T, &A, full, m, own);
  ok = counts[me] == A.mloc * A.nloc;
  int ok_own = 1;
  for (int jl = 0; ok && jl < A.nloc; jl++)
    for (int il = 0; il < A.mloc; il++) {
      int i = nn_bc_global(il, g->myrow, g->nb, g->nprow), j = nn_bc_global(jl, g->mycol, g->nb, g->npcol);
      ok &= buf[displs[me] + il + jl * A.mloc] == full[i + j * m];
      ok_own &= own[il + jl * A.lld] == full[i + j * m] && nn_bc_row(g, il) == i && nn_bc_col(g, jl) == j;
    }
  EXPECT(ok, "packed piece of rank %d is not its local block-cyclic array", me);
  EXPECT(ok_own, "nn_bc_take_own on rank %d does not give its local block-cyclic array", me);
  free(full); free(buf); free(back); free(counts); free(displs); free(own);
}

/* The two collectives against plain loops: the reduce-scatter of per-rank m x ncols matrices
 * gives each rank its blocks of the sum (integers, so the sum is exact in any order), and the
 * gather of those blocks rebuilds the sum on every rank, as is and transposed. */
static void test_exchange(const nn_grid *g)
{
  int m = 37, cmax = 29, ncols = 23;
  real *full = malloc(sizeof(real) * m * ncols), *sum = calloc(m * ncols, sizeof(real));
  real *back = malloc(sizeof(real) * m * ncols);
  for (int i = 0; i < m * ncols; i++) full[i] = (real)(i % 97 + 100 * me);
  for (int r = 0; r < nranks; r++)
    for (int i = 0; i < m * ncols; i++) sum[i] += (real)(i % 97 + 100 * r);
  nn_bc_exchange x;
  nn_bc_exchange_init(&x, g, MPI_REAL_T, m, cmax);
  nn_bcmat A;
  nn_bc_describe(&A, g, m, ncols);
  real *loc = malloc(sizeof(real) * nn_bc_local_size(&A));
  nn_timer t;
  nn_timer_reset(&t);
  nn_bc_reduce_scatter(&x, full, ncols, loc, &t);
  int ok = 1;
  for (int jl = 0; jl < A.nloc; jl++)
    for (int il = 0; il < A.mloc; il++)
      ok &= loc[il + jl * A.lld] == sum[nn_bc_row(g, il) + nn_bc_col(g, jl) * m];
  EXPECT(ok, "reduce-scatter of a %dx%d matrix (nb=%d): rank %d's blocks are not those of the sum", m, ncols, g->nb, me);
  nn_bc_allgather(&x, loc, ncols, back, NN_BC_AS_IS, &t);
  EXPECT(memcmp(back, sum, sizeof(real) * m * ncols) == 0, "allgather of a %dx%d matrix (nb=%d) is not the sum",
         m, ncols, g->nb);
  nn_bc_allgather(&x, loc, ncols, back, NN_BC_TRANSPOSED, &t);
  ok = 1;
  for (int j = 0; j < ncols; j++)
    for (int i = 0; i < m; i++) ok &= back[j + i * ncols] == sum[i + j * m];
  EXPECT(ok, "transposed allgather of a %dx%d matrix (nb=%d) is not the sum's transpose", m, ncols, g->nb);
  nn_bc_exchange_free(&x);
  free(full); free(sum); free(back); free(loc);
}

static void test_spd_solve(const nn_grid *g)
{
  int n = 37, nrhs = 7, k = 50 + 3 * me;
  real *A = malloc(sizeof(real) * n * k), *Z = malloc(sizeof(real) * nrhs * k);
  for (int i = 0; i < n * k; i++) A[i] = (real)rnd(10 + me, i);
  for (int i = 0; i < nrhs * k; i++) Z[i] = (real)rnd(20 + me, i);
  real *G = calloc(n * n, sizeof(real)), *B = malloc(sizeof(real) * n * nrhs), *X = malloc(sizeof(real) * n * nrhs);
  cblas_syrk(CblasColMajor, CblasLower, CblasNoTrans, n, k, 1, A, n, 0, G, n);
  cblas_gemm(CblasColMajor, CblasNoTrans, CblasTrans, n, nrhs, k, 1, A, n, Z, nrhs, 0, B, n);
  nn_spd s;
  nn_timer t;
  nn_timer_reset(&t);
  nn_spd_init(&s, g, n, nrhs);
  double ridge = 1e-3;
  nn_spd_factor_sum(&s, G, ridge, &t);
  nn_spd_solve_sum(&s, B, nrhs, X, NN_BC_AS_IS, &t);

  /* Reference: the same sums by plain loops, then a textbook Cholesky. */
  double *Gd = calloc(n * n, sizeof(double)), *Bd = calloc(n * nrhs, sizeof(double));
  double *Ad = malloc(sizeof(double) * n * k), *Zd = malloc(sizeof(double) * nrhs * k);
  to_double(A, Ad, n * k);
  to_double(Z, Zd, nrhs * k);
  ref_gemm(0, 1, n, n, k, Ad, Ad, Gd);
  ref_gemm(0, 1, n, nrhs, k, Ad, Zd, Bd);
  MPI_Allreduce(MPI_IN_PLACE, Gd, n * n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, Bd, n * nrhs, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  double trace = 0;
  for (int i = 0; i < n; i++) trace += Gd[i + i * n];
  for (int i = 0; i < n; i++) Gd[i + i * n] += ridge * trace / n;
  double *Gcopy = malloc(sizeof(double) * n * n), *Xref = malloc(sizeof(double) * n * nrhs), *Xd = malloc(sizeof(double) * n * nrhs);
  memcpy(Gcopy, Gd, sizeof(double) * n * n);
  memcpy(Xref, Bd, sizeof(double) * n * nrhs);
  EXPECT(ref_cholesky_solve(n, Gcopy, nrhs, Xref) == 0, "reference Cholesky failed");
  to_double(X, Xd, n * nrhs);
  /* Scaled residual, as HPL prints it: |G X - B| / (|G| |X| n eps). */
  double *R_ = malloc(sizeof(double) * n * nrhs);
  ref_gemm(0, 0, n, nrhs, n, Gd, Xd, R_);
  for (int i = 0; i < n * nrhs; i++) R_[i] -= Bd[i];
  double scaled = max_abs(R_, n * nrhs) / (max_abs(Gd, n * n) * max_abs(Xd, n * nrhs) * n * REAL_EPS);
  if (me == 0) printf("spd solve n=%d nrhs=%d nb=%d grid=%dx%d: scaled residual %.3g %s\n", n, nrhs, g->nb, g->nprow,
                      g->npcol, scaled, scaled < 16 ? "PASSED" : "FAILED");
  EXPECT(scaled < 16, "weight-step solve: scaled residual %.3g", scaled);
  double rel = max_abs_diff(Xd, Xref, n * nrhs) / max_abs(Xref, n * nrhs);
  EXPECT(rel < TOL * 100, "weight-step solve differs from the reference by %.3g (relative)", rel);
  nn_spd_free(&s);
  free(A); free(Z); free(G); free(B); free(X); free(Gd); free(Bd); free(Ad); free(Zd); free(Gcopy); free(Xref);
  free(Xd); free(R_);
}

static void test_spd_inverse(const nn_grid *g)
{
  int n = 37, rows = 11;
  double beta = 1.7, gamma = 0.6;
  real *W = malloc(sizeof(real) * rows * n), *P = calloc(n * n, sizeof(real)), *Pinv = malloc(sizeof(real) * n * n);
  for (int i = 0; i < rows * n; i++) W[i] = (real)rnd(30, i);
  double *Wd = malloc(sizeof(double) * rows * n), *Pd = malloc(sizeof(double) * n * n);
  to_double(W, Wd, rows * n);
  ref_gemm(1, 0, n, n, rows, Wd, Wd, Pd);
  for (int i = 0; i < n * n; i++) Pd[i] *= beta;
  for (int i = 0; i < n; i++) Pd[i + i * n] += gamma;
  for (int i = 0; i < n * n; i++) P[i] = (real)Pd[i];
  nn_spd s;
  nn_timer t;
  nn_timer_reset(&t);
  nn_spd_init(&s, g, n, n);
  nn_spd_inverse(&s, P, Pinv, &t);
  double *Id = malloc(sizeof(double) * n * n), *Pinvd = malloc(sizeof(double) * n * n);
  to_double(Pinv, Pinvd, n * n);
  ref_gemm(0, 0, n, n, n, Pd, Pinvd, Id);
  for (int i = 0; i < n; i++) Id[i + i * n] -= 1;
  double err = max_abs(Id, n * n);
  EXPECT(err < TOL * 1000, "activation-step inverse: |P P^-1 - I| = %.3g", err);
  nn_spd_free(&s);
  free(W); free(P); free(Pinv); free(Wd); free(Pd); free(Id); free(Pinvd);
}

/* ---- the pseudo-inverse weight solve (pinv.c) against the SPD solve and a Jacobi reference ---- */

/* The local Gram matrix and right-hand side as the weight step forms them (G lower triangle,
 * working precision), and their sums over ranks in double with G mirrored to full. */
static void pinv_system(int n, int nrhs, int k, const real *A, const real *Z, real *G, real *B, double *Gd, double *Bd)
{
  cblas_syrk(CblasColMajor, CblasLower, CblasNoTrans, n, k, 1, A, n, 0, G, n);
  cblas_gemm(CblasColMajor, CblasNoTrans, CblasTrans, n, nrhs, k, 1, A, n, Z, nrhs, 0, B, n);
  for (int j = 0; j < n; j++)
    for (int i = 0; i < n; i++) Gd[i + j * n] = i >= j ? G[i + j * n] : G[j + i * n];
  to_double(B, Bd, (size_t)n * nrhs);
  MPI_Allreduce(MPI_IN_PLACE, Gd, n * n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, Bd, n * nrhs, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

/* Full-rank G = sum of A A^T (2n + 3 rank samples per rank): the pseudo-inverse solve is the
 * solve of the normal equations. Compared with nn_spd (no ridge); the forward error of either
 * is bounded by kappa(G) times a backward error of order n eps, so the tolerance is
 * 10 n eps kappa, kappa from the reference's eigenvalues. */
static void test_pinv_full_rank(const nn_grid *g, int n, int nrhs)
{
  int k = 2 * n + 3 * me;
  real *A = malloc(sizeof(real) * n * k), *Z = malloc(sizeof(real) * nrhs * k);
  for (int i = 0; i < n * k; i++) A[i] = (real)rnd(70 + me, i);
  for (int i = 0; i < nrhs * k; i++) Z[i] = (real)rnd(80 + me, i);
  real *G = calloc(n * n, sizeof(real)), *B = malloc(sizeof(real) * n * nrhs);
  real *Xp = malloc(sizeof(real) * n * nrhs), *Xs = malloc(sizeof(real) * n * nrhs);
  double *Gd = malloc(sizeof(double) * n * n), *Bd = malloc(sizeof(double) * n * nrhs);
  pinv_system(n, nrhs, k, A, Z, G, B, Gd, Bd);
  nn_timer t;
  nn_timer_reset(&t);
  nn_pinv p;
  nn_pinv_init(&p, g, n, nrhs);
  int kept = nn_pinv_factor_sum(&p, G, NAN, &t);
  nn_pinv_solve_sum(&p, B, nrhs, Xp, NN_BC_AS_IS, &t);
  nn_spd s;
  nn_spd_init(&s, g, n, nrhs);
  nn_spd_factor_sum(&s, G, 0, &t);
  nn_spd_solve_sum(&s, B, nrhs, Xs, NN_BC_AS_IS, &t);

  double *Xpd = malloc(sizeof(double) * n * nrhs), *Xsd = malloc(sizeof(double) * n * nrhs);
  double *Res = malloc(sizeof(double) * n * nrhs), *Xr = malloc(sizeof(double) * n * nrhs);
  double *S = malloc(sizeof(double) * n * n);
  to_double(Xp, Xpd, n * nrhs);
  to_double(Xs, Xsd, n * nrhs);
  double kappa;
  memcpy(S, Gd, sizeof(double) * n * n);
  ref_pinv_solve(n, S, nrhs, Bd, 0, Xr, &kappa);
  ref_gemm(0, 0, n, nrhs, n, Gd, Xpd, Res);
  for (int i = 0; i < n * nrhs; i++) Res[i] -= Bd[i];
  double scaled = max_abs(Res, n * nrhs) / (max_abs(Gd, n * n) * max_abs(Xpd, n * nrhs) * n * REAL_EPS);
  double rel = max_abs_diff(Xpd, Xsd, n * nrhs) / max_abs(Xsd, n * nrhs), tol = 10 * n * REAL_EPS * kappa;
  int ok = kept == n && scaled < 16 && rel < tol;
  if (me == 0)
    printf("pinv full rank n=%d nrhs=%d nb=%d grid=%dx%d: kept %d of %d, scaled residual %.3g, vs spd solve %.3g "
           "(tolerance %.3g, kappa %.3g) %s\n", n, nrhs, g->nb, g->nprow, g->npcol, kept, n, scaled, rel, tol, kappa,
           ok ? "PASSED" : "FAILED");
  EXPECT(kept == n, "pinv of a full-rank G (n=%d) kept %d eigenvalues", n, kept);
  EXPECT(scaled < 16, "pinv solve n=%d: scaled residual %.3g", n, scaled);
  EXPECT(rel < tol, "pinv solve n=%d differs from the spd solve by %.3g (tolerance %.3g)", n, rel, tol);
  nn_pinv_free(&p);
  nn_spd_free(&s);
  free(A); free(Z); free(G); free(B); free(Xp); free(Xs); free(Gd); free(Bd); free(Xpd); free(Xsd); free(Res);
  free(S); free(Xr);
}

/* Rank-deficient G = sum of A A^T with A = P Q of rank r < n, where P (n x r) has an all-zero
 * row and two equal rows, as MNIST's constant pixels give a_0 (zero, or after standardisation
 * equal). Checks: the rank found is r; X against the Jacobi reference (same cutoff rule;
 * tolerance 10 n eps kappa_r, kappa_r = largest / smallest kept eigenvalue); and the four
 * Moore-Penrose conditions on G^+ (solved for B = I), each scaled HPL-style by the norms of
 * its terms times n eps, PASSED below 16. */
static void test_pinv_rank_deficient(const nn_grid *g, int n, int r, int nrhs)
{
  int k = 2 * r + 3 + 3 * me, big = nrhs > n ? nrhs : n;
  real *P = malloc(sizeof(real) * n * r), *Q = malloc(sizeof(real) * r * k), *A = malloc(sizeof(real) * n * k);
  real *Z = malloc(sizeof(real) * nrhs * k);
  for (int i = 0; i < n * r; i++) P[i] = (real)rnd(90, i); /* P is the same on every rank */
  for (int c = 0; c < r; c++) {
    P[n / 2 + c * n] = 0;
    P[n - 1 + c * n] = P[1 + c * n];
  }
  for (int i = 0; i < r * k; i++) Q[i] = (real)rnd(100 + me, i);
  for (int i = 0; i < nrhs * k; i++) Z[i] = (real)rnd(110 + me, i);
  cblas_gemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, k, r, 1, P, n, Q, r, 0, A, n);
  for (int j = 0; j < k; j++) A[n / 2 + j * n] = 0; /* exactly, as the pixels are */
  real *G = calloc(n * n, sizeof(real)), *B = malloc(sizeof(real) * n * big), *X = malloc(sizeof(real) * n * big);
  double *Gd = malloc(sizeof(double) * n * n), *Bd = malloc(sizeof(double) * n * nrhs);
  pinv_system(n, nrhs, k, A, Z, G, B, Gd, Bd);
  nn_timer t;
  nn_timer_reset(&t);
  nn_pinv p;
  nn_pinv_init(&p, g, n, big);
  int kept = nn_pinv_factor_sum(&p, G, NAN, &t);
  nn_pinv_solve_sum(&p, B, nrhs, X, NN_BC_AS_IS, &t);

  double rcond = n * REAL_EPS, kappa;
  double *S = malloc(sizeof(double) * n * n), *Xr = malloc(sizeof(double) * n * nrhs);
  double *Xd = malloc(sizeof(double) * n * big);
  memcpy(S, Gd, sizeof(double) * n * n);
  int kept_ref = ref_pinv_solve(n, S, nrhs, Bd, rcond, Xr, &kappa);
  to_double(X, Xd, n * nrhs);
  double rel = max_abs_diff(Xd, Xr, n * nrhs) / max_abs(Xr, n * nrhs), tol = 10 * n * REAL_EPS * kappa;

  /* G^+ itself: the solve of B = I (rank 0 contributes I, the others 0). */
  for (int i = 0; i < n * n; i++) B[i] = 0;
  if (me == 0)
    for (int i = 0; i < n; i++) B[i + i * n] = 1;
  nn_pinv_solve_sum(&p, B, n, X, NN_BC_AS_IS, &t);
  to_double(X, Xd, n * n);
  double *GX = malloc(sizeof(double) * n * n), *XG = malloc(sizeof(double) * n * n);
  double *T = malloc(sizeof(double) * n * n);
  ref_gemm(0, 0, n, n, n, Gd, Xd, GX);
  ref_gemm(0, 0, n, n, n, Xd, Gd, XG);
  double ng = max_abs(Gd, n * n), nx = max_abs(Xd, n * n), unit = n * REAL_EPS, mp[4];
  ref_gemm(0, 0, n, n, n, GX, Gd, T); /* G X G - G */
  for (int i = 0; i < n * n; i++) T[i] -= Gd[i];
  mp[0] = max_abs(T, n * n) / (ng * nx * ng * unit);
  ref_gemm(0, 0, n, n, n, XG, Xd, T); /* X G X - X */
  for (int i = 0; i < n * n; i++) T[i] -= Xd[i];
  mp[1] = max_abs(T, n * n) / (nx * ng * nx * unit);
  for (int j = 0; j < n; j++) /* (G X)^T - G X and (X G)^T - X G */
    for (int i = 0; i < n; i++) {
      T[i + j * n] = GX[j + i * n] - GX[i + j * n];
      S[i + j * n] = XG[j + i * n] - XG[i + j * n];
    }
  mp[2] = max_abs(T, n * n) / (ng * nx * unit);
  mp[3] = max_abs(S, n * n) / (nx * ng * unit);
  double worst = fmax(fmax(mp[0], mp[1]), fmax(mp[2], mp[3]));
  int ok = kept == r && kept_ref == r && rel < tol && worst < 16;
  if (me == 0)
    printf("pinv rank %d of n=%d nrhs=%d nb=%d grid=%dx%d: kept %d (reference %d), vs Jacobi reference %.3g "
           "(tolerance %.3g, kappa_r %.3g), Moore-Penrose scaled residuals GXG-G %.3g XGX-X %.3g (GX)^T-GX %.3g "
           "(XG)^T-XG %.3g %s\n", r, n, nrhs, g->nb, g->nprow, g->npcol, kept, kept_ref, rel, tol, kappa, mp[0],
           mp[1], mp[2], mp[3], ok ? "PASSED" : "FAILED");
  EXPECT(kept == r && kept_ref == r, "pinv of a rank-%d G (n=%d) kept %d eigenvalues (reference %d)", r, n, kept,
         kept_ref);
  EXPECT(rel < tol, "pinv solve (rank %d of %d) differs from the Jacobi reference by %.3g (tolerance %.3g)", r, n, rel,
         tol);
  EXPECT(worst < 16, "pinv (rank %d of %d): Moore-Penrose scaled residuals %.3g %.3g %.3g %.3g", r, n, mp[0], mp[1],
         mp[2], mp[3]);
  nn_pinv_free(&p);
  free(P); free(Q); free(A); free(Z); free(G); free(B); free(X); free(Gd); free(Bd); free(S); free(Xr); free(Xd);
  free(GX); free(XG); free(T);
}

/* Independent statements of the 1-D objectives. */
static double relu_obj(double z, const double *p) { double h = z > 0 ? z : 0; return p[3] * (p[0] - h) * (p[0] - h) + p[2] * (z - p[1]) * (z - p[1]); }
static double ls_obj(double z, const double *p) { return 0.5 * (z - p[0]) * (z - p[0]) + p[1] * z + 0.5 * p[3] * (z - p[2]) * (z - p[2]); }
static double hinge_obj(double z, const double *p)
{
  double l = p[0] > 0.5 ? fmax(1 - z, 0) : fmax(z, 0);
  return l + p[1] * z + 0.5 * p[3] * (z - p[2]) * (z - p[2]);
}

static void test_closed_forms(void)
{
  int bad_relu = 0, bad_out = 0, cases = 400;
  for (int c = 0; c < cases; c++) {
    double a = 2 * rnd(40, c), m = 2 * rnd(41, c);
    double beta = 0.05 + 5 * nn_rng_uniform(42, 42, c), gamma = 0.05 + 5 * nn_rng_uniform(42, 43, c);
    if (c % 4 == 0) a = fabs(a); /* activations are mostly non-negative */
    real ar = (real)a, mr = (real)m, z;
    double res_a;
    nn_relu_z_update(&z, &ar, &mr, 1, beta, gamma, &res_a);
    double p[4] = { ar, mr, beta, gamma };
    double zref = ref_minimize_1d(relu_obj, p, -20, 20);
    /* compare objective values: the minimiser can be non-unique at a tie */
    if (relu_obj(z, p) > relu_obj(zref, p) + 1e-6 * (1 + fabs(relu_obj(zref, p)))) bad_relu++;
    for (int hinge = 0; hinge < 2; hinge++) {
      int label = c % 3 == 0;
      real lam = (real)rnd(44, c), zo;
      double q[4] = { (double)label, lam, mr, beta };
      nn_output_z_update(&zo, &label, &lam, &mr, 1, 1, beta, hinge);
      /* one-hot with k = 1: class 0 means y = 1 for this single output */
      q[0] = label == 0;
      double (*f)(double, const double *) = hinge ? hinge_obj : ls_obj;
      double zr = ref_minimize_1d(f, q, -30, 30);
      if (f(zo, q) > f(zr, q) + 1e-6 * (1 + fabs(f(zr, q))) || fabs(zo - zr) > 1e-3 * (1 + fabs(zr))) bad_out++;
    }
  }
  EXPECT(bad_relu == 0, "ReLU z-update is not the minimiser in %d of %d cases", bad_relu, cases);
  EXPECT(bad_out == 0, "output z-update is not the minimiser in %d of %d cases", bad_out, 2 * cases);
}

/* --augment's translation: a hand-worked 3 x 3 case; every shift of a 5 x 5 image against two
 * 1-D passes (rows, then columns), an independent way to write the same map; radius 0 copies.
 * The draws: each of -2..2 within 10% of its share over 20,000 samples (7 standard errors),
 * dx and dy not the same draw, a pure function of (seed, epoch, index), new per epoch. */
static void test_augment(void)
{
  const real src3[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, want3[9] = { 4, 4, 5, 7, 7, 8, 7, 7, 8 };
  real dst3[9];
  nn_augment_shift(dst3, src3, 3, 1, -1); /* one column right, one row up */
  EXPECT(memcmp(dst3, want3, sizeof dst3) == 0, "augment: (dx, dy) = (1, -1) of 1..9 is %g %g %g / %g %g %g / %g %g %g",
         dst3[0], dst3[1], dst3[2], dst3[3], dst3[4], dst3[5], dst3[6], dst3[7], dst3[8]);
  enum { S = 5 };
  real src[S * S], dst[S * S], rows[S * S], ref[S * S];
  for (int e = 0; e < S * S; e++) src[e] = (real)(10 * (e / S) + e % S);
  int bad = 0;
  for (int dy = -2; dy <= 2; dy++)
    for (int dx = -2; dx <= 2; dx++) {
      for (int r = 0; r < S; r++) { /* rows: output row r is input row r - dy, held at the border */
        int from = r - dy < 0 ? 0 : r - dy >= S ? S - 1 : r - dy;
        memcpy(rows + r * S, src + from * S, sizeof(real) * S);
      }
      for (int r = 0; r < S; r++)
        for (int c = 0; c < S; c++) {
          int from = c - dx < 0 ? 0 : c - dx >= S ? S - 1 : c - dx;
          ref[r * S + c] = rows[r * S + from];
        }
      nn_augment_shift(dst, src, S, dx, dy);
      if (memcmp(dst, ref, sizeof dst) != 0) bad++;
    }
  EXPECT(bad == 0, "augment: %d of 25 shifts of a 5 x 5 image differ from the two 1-D passes", bad);
  nn_augment_copy(dst, src, S * S, 0, 7, 3, 11);
  EXPECT(memcmp(dst, src, sizeof dst) == 0, "augment: radius 0 does not copy the image");

  enum { N = 20000 };
  long count_x[5] = { 0 }, count_y[5] = { 0 }, same = 0, moved = 0, unstable = 0, out = 0;
  for (long j = 0; j < N; j++) {
    int dx, dy, dx2, dy2, ex, ey;
    nn_augment_draw(7, 3, j, 2, &dx, &dy);
    nn_augment_draw(7, 3, j, 2, &dx2, &dy2);
    nn_augment_draw(7, 4, j, 2, &ex, &ey);
    if (dx < -2 || dx > 2 || dy < -2 || dy > 2) { out++; continue; }
    count_x[dx + 2]++, count_y[dy + 2]++;
    same += dx == dy;
    unstable += dx != dx2 || dy != dy2;
    moved += dx != ex || dy != ey;
  }
  int skew = 0;
  for (int v = 0; v < 5; v++) skew += labs(count_x[v] - N / 5) > N / 50 || labs(count_y[v] - N / 5) > N / 50;
  EXPECT(out == 0 && skew == 0, "augment: draws outside -2..2 (%ld) or off uniform (%d of 10 counts)", out, skew);
  EXPECT(labs(same - N / 5) <= N / 50, "augment: dx = dy in %ld of %d draws, not about a fifth", same, N);
  EXPECT(unstable == 0 && moved > N / 2, "augment: %ld draws not reproducible, %ld of %d change with the epoch",
         unstable, moved, N);
}

/* Initialisation schemes against their stated distributions: the sample variance of a
 * 200 x 400 layer (80,000 draws: a 5% band is over 10 standard errors wide), the uniform
 * schemes' bounds, and the biases (zero except for pytorch, which draws them like W). */
static void test_init(void)
{
  int n[3] = { 400, 200, 3 };
  struct { enum nn_init init; const char *name; double var, bound; } c[] = {
    { NN_INIT_HE, "he", 2.0 / 400, 0 },
    { NN_INIT_XAVIER, "xavier", 2.0 / 600, 0 },
    { NN_INIT_NORMALIZED, "normalized", 6.0 / 600 / 3, sqrt(6.0 / 600) },
    { NN_INIT_PYTORCH, "pytorch", 1.0 / 400 / 3, 1 / sqrt(400.0) },
  };
  for (size_t k = 0; k < sizeof c / sizeof *c; k++) {
    nn_model m;
    nn_model_alloc(&m, 2, n, 1);
    nn_model_init(&m, c[k].init, 3);
    size_t cnt = (size_t)n[1] * n[0];
    double s = 0, s2 = 0, amax = 0, bmax = 0;
    for (size_t i = 0; i < cnt; i++) {
      s += m.W[1][i];
      s2 += (double)m.W[1][i] * m.W[1][i];
      amax = fmax(amax, fabs(m.W[1][i]));
    }
    for (int i = 0; i < n[1]; i++) bmax = fmax(bmax, fabs(m.b[1][i]));
    double mean = s / cnt, var = s2 / cnt - mean * mean;
    EXPECT(fabs(var / c[k].var - 1) < 0.05, "--init %s: weight variance %.4g, expected %.4g", c[k].name, var,
           c[k].var);
    EXPECT(c[k].bound == 0 || amax <= c[k].bound, "--init %s: |w| %.4g exceeds %.4g", c[k].name, amax, c[k].bound);
    if (c[k].init == NN_INIT_PYTORCH)
      EXPECT(bmax > 0.5 * c[k].bound && bmax <= c[k].bound, "--init pytorch: max |b| %.4g, bound %.4g", bmax,
             c[k].bound);
    else
      EXPECT(bmax == 0, "--init %s: biases not zero (max %.4g)", c[k].name, bmax);
    nn_model_free(&m);
  }
}

static void test_forward(void)
{
  int n[4] = { 5, 7, 6, 3 }, N = 33;
  nn_model m;
  nn_model_alloc(&m, 3, n, 1);
  nn_model_init(&m, NN_INIT_HE, 5);
  for (int l = 1; l <= 3; l++)
    for (int i = 0; i < n[l]; i++) m.b[l][i] = (real)(0.1 * rnd(50 + l, i));
  real *x = malloc(sizeof(real) * n[0] * N);
  int *y = malloc(sizeof(int) * N);
  for (int i = 0; i < n[0] * N; i++) x[i] = (real)rnd(55, i);
  for (int j = 0; j < N; j++) y[j] = j % 3;
  for (int loss = 0; loss < 3; loss++) {
    long correct = 0;
    double lsum = 0;
    nn_forward_eval(&m, x, y, N, (enum nn_loss)loss, &correct, &lsum);
    long rc = 0;
    double rl = 0;
    for (int j = 0; j < N; j++) {
      double h[8], o[8];
      for (int i = 0; i < n[0]; i++) h[i] = x[i + j * n[0]];
      int w = n[0];
      for (int l = 1; l <= 3; l++) {
        for (int i = 0; i < n[l]; i++) {
          double s = m.b[l][i];
          for (int p = 0; p < w; p++) s += m.W[l][i + p * n[l]] * h[p];
          o[i] = l < 3 ? fmax(s, 0) : s;
        }
        memcpy(h, o, sizeof o);
        w = n[l];
      }
      int best = 0;
      for (int i = 1; i < 3; i++) if (h[i] > h[best]) best = i;
      rc += best == y[j];
      for (int i = 0; i < 3; i++) {
        double t = i == y[j];
        if (loss == 0) rl += 0.5 * (h[i] - t) * (h[i] - t);
        else if (loss == 1) rl += t ? fmax(1 - h[i], 0) : fmax(h[i], 0);
      }
      if (loss == 2) rl += log(exp(h[0]) + exp(h[1]) + exp(h[2])) - h[y[j]];
    }
    EXPECT(rc == correct && fabs(rl - lsum) < TOL * 100 * (1 + fabs(rl)),
           "forward pass (loss %d): %ld correct / loss %.9g, reference %ld / %.9g", loss, correct, lsum, rc, rl);
  }
  nn_model_free(&m);
  free(x); free(y);
}

/* ---- one ADMM run on a tiny problem against a plain-loop ADMM on the full data ---- */

enum { TL = 3, TD = 6, TN = 41 };
static const int tn[TL + 1] = { TD, 5, 4, 3 };

typedef struct { double *W[TL + 1], *z[TL + 1], *a[TL + 1], *lambda; } naive_state;

static void naive_relu_z(double *z, const double *a, const double *m, int count, double beta, double gamma)
{
  for (int i = 0; i < count; i++) {
    double p[4] = { a[i], m[i], beta, gamma };
    double zp = fmax((gamma * a[i] + beta * m[i]) / (gamma + beta), 0), zn = fmin(m[i], 0);
    z[i] = relu_obj(zp, p) <= relu_obj(zn, p) ? zp : zn;
  }
}

/* pinv: the weight step by the pseudo-inverse, with the product's cutoff rule (n eps of the
 * working precision), instead of the ridge normal equations. */
static void naive_sweep(naive_state *s, const int *label, double beta, double gamma, double ridge, int hinge,
                        int update, int pinv)
{
  double G[64 * 64], S[64 * 64], B[64 * 64], X[64 * 64], m[64 * TN], R_[64 * TN];
  for (int l = 1; l <= TL; l++) {
    int in = tn[l - 1], out = tn[l];
    /* weight step: (a a^T + ridge) W^T = a z^T, or W^T = (a a^T)^+ a z^T */
    ref_gemm(0, 1, in, in, TN, s->a[l - 1], s->a[l - 1], G);
    ref_gemm(0, 1, in, out, TN, s->a[l - 1], s->z[l], B);
    if (pinv) {
      ref_pinv_solve(in, G, out, B, in * REAL_EPS, X, NULL);
      memcpy(B, X, sizeof(double) * in * out);
    } else {
      double tr = 0;
      for (int i = 0; i < in; i++) tr += G[i + i * in];
      for (int i = 0; i < in; i++) G[i + i * in] += ridge * tr / in;
      ref_cholesky_solve(in, G, out, B);
    }
    for (int i = 0; i < out; i++)
      for (int j = 0; j < in; j++) s->W[l][i + j * out] = B[j + i * in];
    if (l < TL) {
      /* activation step */
      int nx = tn[l + 1];
      ref_gemm(1, 0, out, out, nx, s->W[l + 1], s->W[l + 1], S);
      for (int i = 0; i < out * out; i++) S[i] *= beta;
      for (int i = 0; i < out; i++) S[i + i * out] += gamma;
      ref_gemm(1, 0, out, TN, nx, s->W[l + 1], s->z[l + 1], R_);
      for (int i = 0; i < out * TN; i++) R_[i] = beta * R_[i] + gamma * fmax(s->z[l][i], 0);
      ref_cholesky_solve(out, S, TN, R_);
      memcpy(s->a[l], R_, sizeof(double) * out * TN);
      ref_gemm(0, 0, out, TN, in, s->W[l], s->a[l - 1], m);
      naive_relu_z(s->z[l], s->a[l], m, out * TN, beta, gamma);
    } else {
      ref_gemm(0, 0, out, TN, in, s->W[l], s->a[l - 1], m);
      for (int j = 0; j < TN; j++)
        for (int i = 0; i < out; i++) {
          int e = i + j * out;
          double q[4] = { (double)(label[j] == i), s->lambda[e], m[e], beta };
          s->z[l][e] = hinge ? ref_minimize_1d(hinge_obj, q, -30, 30) : (q[0] - q[1] + beta * m[e]) / (1 + beta);
        }
      if (update)
        for (int e = 0; e < out * TN; e++) s->lambda[e] += beta * (s->z[l][e] - m[e]);
    }
  }
}

/* pinv: --weight-solve pinv, on inputs with a zero and a repeated row (a_0 a_0^T singular). */
static void test_admm_sweeps(const nn_grid *g, int hinge, int pinv)
{
  double beta = 1.3, gamma = 0.7, ridge = 1e-4;
  /* global data, identical on every rank */
  real *x = malloc(sizeof(real) * TD * TN);
  int label[TN];
  for (int i = 0; i < TD * TN; i++) x[i] = (real)rnd(60, i);
  if (pinv)
    for (int j = 0; j < TN; j++) {
      x[TD - 1 + j * TD] = 0;
      x[TD - 2 + j * TD] = x[j * TD];
    }
  for (int j = 0; j < TN; j++) label[j] = (int)(nn_rng_u64(42, 61, j) % 3);
  nn_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.beta = beta; cfg.gamma = gamma; cfg.ridge = ridge; cfg.loss = hinge ? NN_LOSS_HINGE : NN_LOSS_LEAST_SQUARES;
  cfg.weight_solve = pinv ? NN_WEIGHT_SOLVE_PINV : NN_WEIGHT_SOLVE_RIDGE;
  cfg.pinv_rcond = NAN; /* auto: order x machine epsilon */
  cfg.L = TL;
  for (int l = 0; l <= TL; l++) cfg.n[l] = tn[l];
  nn_model net;
  nn_model_alloc(&net, TL, tn, 0);
  nn_model_init(&net, NN_INIT_HE, 9);
  long first, count;
  nn_partition(TN, me, nranks, &first, &count);
  nn_shard shard = { .d = TD, .classes = 3, .n = count, .n_global = TN, .first = first,
                     .float32 = sizeof(real) == sizeof(float), .x = x + first * TD, .label = label + first };
  naive_state ns;
  ns.a[0] = malloc(sizeof(double) * TD * TN);
  to_double(x, ns.a[0], TD * TN);
  for (int l = 1; l <= TL; l++) {
    ns.W[l] = malloc(sizeof(double) * tn[l] * tn[l - 1]);
    to_double(net.W[l], ns.W[l], tn[l] * tn[l - 1]);
    ns.z[l] = malloc(sizeof(double) * tn[l] * TN);
    ns.a[l] = malloc(sizeof(double) * tn[l] * TN);
    ref_gemm(0, 0, tn[l], TN, tn[l - 1], ns.W[l], ns.a[l - 1], ns.z[l]);
    for (int i = 0; i < tn[l] * TN; i++) ns.a[l][i] = fmax(ns.z[l][i], 0);
  }
  ns.lambda = calloc(tn[TL] * TN, sizeof(double));

  nn_admm s;
  nn_admm_init(&s, &cfg, &net, &shard, g);
  nn_timer t;
  nn_timer_reset(&t);
  nn_epoch_stats st;
  for (int sweep = 0; sweep < 3; sweep++) {
    int update = sweep > 0; /* one warm-up sweep, then two with the multiplier */
    nn_admm_sweep(&s, update, &st, &t);
    naive_sweep(&ns, label, beta, gamma, ridge, hinge, update, pinv);
  }
  double worst = 0;
  for (int l = 1; l <= TL; l++) {
    double *w = malloc(sizeof(double) * tn[l] * tn[l - 1]);
    to_double(net.W[l], w, tn[l] * tn[l - 1]);
    worst = fmax(worst, max_abs_diff(w, ns.W[l], tn[l] * tn[l - 1]) / (1 + max_abs(ns.W[l], tn[l] * tn[l - 1])));
    free(w);
    /* this rank's columns of z, a against the reference's */
    int rows = tn[l];
    double *zl = malloc(sizeof(double) * rows * (count ? count : 1));
    to_double(s.z[l], zl, rows * count);
    worst = fmax(worst, max_abs_diff(zl, ns.z[l] + first * rows, rows * count) / (1 + max_abs(ns.z[l], rows * TN)));
    if (l < TL) {
      to_double(s.a[l], zl, rows * count);
      worst = fmax(worst, max_abs_diff(zl, ns.a[l] + first * rows, rows * count) / (1 + max_abs(ns.a[l], rows * TN)));
    } else {
      to_double(s.lambda, zl, rows * count);
      worst = fmax(worst, max_abs_diff(zl, ns.lambda + first * rows, rows * count) / (1 + max_abs(ns.lambda, rows * TN)));
    }
    free(zl);
  }
  double tol = hinge ? fmax(TOL * 1000, 1e-5) : TOL * 1000;
  const char *what = pinv ? (hinge ? "hinge, pinv" : "least squares, pinv") : (hinge ? "hinge" : "least squares");
  if (me == 0)
    printf("admm 3 sweeps (%s) vs plain loops: max relative difference %.3g (tolerance %.1g) %s\n", what, worst, tol,
           worst < tol ? "PASSED" : "FAILED");
  EXPECT(worst < tol, "ADMM (%s) differs from the plain-loop reference by %.3g (tolerance %.1g)", what, worst, tol);
  nn_admm_free(&s);
  nn_model_free(&net);
  for (int l = 0; l <= TL; l++) { free(ns.a[l]); if (l) { free(ns.W[l]); free(ns.z[l]); } }
  free(ns.lambda);
  free(x);
}

int main(int argc, char **argv)
{
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &me);
  MPI_Comm_size(MPI_COMM_WORLD, &nranks);
  int nbs[2] = { 4, 5 };
  for (int b = 0; b < 2; b++) {
    nn_grid g;
    nn_grid_init(&g, 0, 0, nbs[b]);
    test_pack_roundtrip(&g);
    test_exchange(&g);
    test_spd_solve(&g);
    test_spd_inverse(&g);
    int sizes[3][2] = { { 7, 3 }, { 13, 6 }, { 37, 20 } }; /* n, rank */
    for (int c = 0; c < 3; c++) {
      test_pinv_full_rank(&g, sizes[c][0], 5);
      test_pinv_rank_deficient(&g, sizes[c][0], sizes[c][1], 5);
    }
    test_admm_sweeps(&g, 0, 0);
    test_admm_sweeps(&g, 1, 0);
    test_admm_sweeps(&g, 0, 1);
    nn_grid_free(&g);
  }
  test_closed_forms();
  test_augment();
  test_forward();
  test_init();
  int rc = testing_finish();
  Cblacs_exit(1);
  MPI_Finalize();
  return rc;
}
