/* Distributed pseudo-inverse solves; see pinv.h. Shapes: G, V, G^+ are n x n; B, X are n x nrhs.
 *
 * G = V diag(lambda) V^T (p?syevd, eigenvalues ascending), then
 *   G^+ = U U^T,  U = V_kept diag(lambda_kept)^{-1/2},  X = G^+ B.
 *
 * G^+ is formed on the grid (one PBLAS GEMM per decomposition), so a solve is the ridge path's
 * reduce-scatter of B, one pdgemm and the allgather of X. The alternative, gathering U (n x n) to
 * every rank, forming G^+ there and solving by a local GEMM after an allreduce of B, measured
 * (f64, nb 64, 1 thread per rank, best of 30, this 2-core machine shared with other jobs):
 *   n = 784, 256 right-hand sides (MNIST's layer 1): per solve 9.3 ms grid vs 8.1 ms gathered at
 *     1 rank, 16.2 vs 10.3 ms at 2 ranks;
 *   n = 256, 256 right-hand sides: per solve 1.7 vs 1.3 ms, per decomposition 1.5 vs 1.1 ms
 *     (p?syevd itself: 16 ms at 1 rank).
 * Under 10 ms of a 0.4-0.8 s epoch either way. The gathered GEMM costs 2 n^2 nrhs flops on every
 * rank whatever the rank count; on the grid it divides by the ranks, as the Gram matrices do. */
#include "pinv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/check.h"
#include "scalapack.h"
#include "../common/util.h"

static int imax(int a, int b) { return a > b ? a : b; }

/* p?syevd's workspace: its own query, floored by what its callees need. The query's LWMIN does
 * not always cover the back-transformation p?ormtr, which then rejects its LWORK, prints one line
 * and returns, leaving the eigenvectors of the tridiagonal matrix: wrong vectors with info = 0
 * (seen here, ScaLAPACK 2.2.1: the ADMM test's n = 4..6 came out 1e3 off); nor p?lasrt inside
 * p?stedc (Reference-ScaLAPACK issue #74). Both work past the 2n values p?syevd keeps for itself.
 * This is a few n * nb values more than the query: nothing at our sizes. */
static void query_workspace(nn_pinv *s)
{
  int one = 1, query = -1, info = 0, iw = 0;
  real w0 = 0, dummy = 0;
  pXsyevd_("V", "L", &s->n, &dummy, &one, &one, s->A.desc, &dummy, &dummy, &one, &one, s->A.desc, &w0, &query,
           &iw, &query, &info, 1, 1);
  CHECK_INFO("ScaLAPACK p?syevd workspace query", info);
  int n = s->n, nb = s->g->nb, np = s->A.mloc, nq = s->A.nloc;
  /* The float32 query comes back as a float: round up past its last bit. */
  int lwork = (int)ceil((double)w0 * (1 + 4 * REAL_EPS)) + 1;
  int ormtr = 2 * n + imax(nb * (nb - 1) / 2, (np + nq + 2 * nb) * nb) + nb * nb;
  int lasrt = 2 * n + imax(n, np * (nb + nq));
  s->lwork = imax(lwork, imax(ormtr, lasrt));
  s->liwork = imax(iw, 7 * n + 8 * s->g->npcol + 2);
}

void nn_pinv_init(nn_pinv *s, const nn_grid *g, int n, int nrhs_max)
{
  memset(s, 0, sizeof *s);
  s->g = g;
  s->n = n;
  s->nrhs_max = nrhs_max;
  nn_bc_describe(&s->A, g, n, n);
  size_t loc = nn_bc_local_size(&s->A);
  s->a = nn_alloc(loc, sizeof(real), "the blocks of the Gram matrix");
  s->z = nn_alloc(loc, sizeof(real), "the blocks of its eigenvectors");
  s->p = nn_alloc(loc, sizeof(real), "the blocks of its pseudo-inverse");
  s->w = nn_alloc((size_t)n, sizeof(real), "its eigenvalues");
  nn_bcmat B;
  nn_bc_describe(&B, g, n, nrhs_max);
  s->bloc = nn_alloc(nn_bc_local_size(&B), sizeof(real), "the blocks of the right-hand side");
  s->xloc = nn_alloc(nn_bc_local_size(&B), sizeof(real), "the blocks of the solution");
  nn_bc_exchange_init(&s->x, g, MPI_REAL_T, n, nrhs_max > n ? nrhs_max : n);
  query_workspace(s);
  s->work = nn_alloc((size_t)s->lwork, sizeof(real), "the p?syevd workspace");
  s->iwork = nn_alloc((size_t)s->liwork, sizeof(int), "the p?syevd integer workspace");
}

void nn_pinv_free(nn_pinv *s)
{
  free(s->a);
  free(s->z);
  free(s->p);
  free(s->w);
  free(s->bloc);
  free(s->xloc);
  nn_bc_exchange_free(&s->x);
  free(s->work);
  free(s->iwork);
}

/* p?syevd's info > 0 is its divide and conquer failing, not a property of G we could report. */
static void check_syevd_info(int info, int n)
{
  if (info < 0) CHECK_INFO("ScaLAPACK p?syevd (weight step, --weight-solve pinv)", info);
  CHECK_ALL_RANKS(info == 0, "ScaLAPACK p?syevd (weight step, --weight-solve pinv): info=%d: the divide-and-conquer "
        "eigensolver failed on eigenvalue %d (submatrix at row/column %d) of the %dx%d Gram matrix: "
        "use --weight-solve ridge", info, info / (n + 1), info % (n + 1), n, n);
}

int nn_pinv_factor_sum(nn_pinv *s, const real *G_local, double rcond, nn_timer *t)
{
  const nn_grid *g = s->g;
  int n = s->n;
  nn_bc_reduce_scatter(&s->x, G_local, n, s->a, t);
  nn_timer_start(t, PH_SOLVE);
  /* p?syevd has no NaN check of its own: look at the lower triangle it will read. */
  int finite = 1;
  for (int jl = 0; jl < s->A.nloc; jl++) {
    int j = nn_bc_col(g, jl);
    for (int il = 0; il < s->A.mloc; il++)
      if (nn_bc_row(g, il) >= j) finite &= isfinite(s->a[il + (size_t)jl * s->A.lld]);
  }
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &finite, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
  CHECK_ALL_RANKS(finite, "the weight step's Gram matrix (order %d) contains NaN or Inf: the iterates have diverged "
        "(lower --beta/--gamma)", n);
  int one = 1, info = 0;
  pXsyevd_("V", "L", &n, s->a, &one, &one, s->A.desc, s->w, s->z, &one, &one, s->A.desc, s->work, &s->lwork,
           s->iwork, &s->liwork, &info, 1, 1);
  check_syevd_info(info, n);
  /* Every rank decides which eigenvalues to keep and scales its own columns of V: one copy of
   * lambda makes those decisions agree even for an eigenvalue at the cutoff. */
  CHECK_MPI(MPI_Bcast(s->w, n, MPI_REAL_T, 0, MPI_COMM_WORLD));

  /* G is summed from products rounded in the working precision, so its entries carry errors of
   * about eps * lambda_max, and so do its computed eigenvalues: those below n * eps * lambda_max
   * are rounding noise, whose reciprocals would swamp the solution. MNIST's constant pixels make
   * a_0 a_0^T exactly singular, and its null directions come out of p?syevd as such noise, of
   * either sign (negative eigenvalues of a Gram matrix are rounding too: always dropped). */
  s->rcond = isnan(rcond) ? n * REAL_EPS : rcond; /* NaN: --pinv-rcond auto */
  s->lambda_max = n > 0 ? s->w[n - 1] : 0;
  double cutoff = s->rcond * s->lambda_max;
  s->kept = 0;
  for (int i = 0; i < n; i++) s->kept += s->w[i] > cutoff && s->w[i] > 0;
  /* U = V diag(1/sqrt(lambda)) on the kept columns (the last `kept`: ascending order), 0 elsewhere. */
  for (int jl = 0; jl < s->A.nloc; jl++) {
    int j = nn_bc_col(g, jl);
    real f = j >= n - s->kept ? (real)(1 / sqrt((double)s->w[j])) : 0;
    real *col = s->z + (size_t)jl * s->A.lld;
    for (int il = 0; il < s->A.mloc; il++) col[il] *= f;
  }
  real r1 = 1, r0 = 0;
  pXgemm_("N", "T", &n, &n, &n, &r1, s->z, &one, &one, s->A.desc, s->z, &one, &one, s->A.desc, &r0, s->p, &one,
          &one, s->A.desc);
  nn_timer_stop(t);
  return s->kept;
}

void nn_pinv_solve_sum(nn_pinv *s, const real *B_local, int nrhs, real *X, enum nn_bc_orient orient,
                       nn_timer *t)
{
  CHECK(nrhs <= s->nrhs_max, "internal: %d right-hand sides exceed the %d allocated", nrhs, s->nrhs_max);
  nn_bcmat B;
  nn_bc_describe(&B, s->g, s->n, nrhs);
  nn_bc_reduce_scatter(&s->x, B_local, nrhs, s->bloc, t);
  nn_timer_start(t, PH_SOLVE);
  int one = 1;
  real r1 = 1, r0 = 0;
  pXgemm_("N", "N", &s->n, &nrhs, &s->n, &r1, s->p, &one, &one, s->A.desc, s->bloc, &one, &one, B.desc, &r0,
          s->xloc, &one, &one, B.desc);
  nn_timer_stop(t);
  nn_bc_allgather(&s->x, s->xloc, nrhs, X, orient, t);
}
