/* Distributed SPD solves; see spd.h. Shapes: G, P are n x n; B, X are n x nrhs. */
#include "spd.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "scalapack.h"

static void *xmalloc(size_t bytes)
{
  void *p = malloc(bytes ? bytes : 1);
  CHECK(p, "out of memory allocating %zu bytes", bytes);
  return p;
}

void R(nn_bc_pack)(const nn_grid *g, const real *full, int ld, int m, int n, real *buf)
{
  long off = 0;
  for (int pr = 0; pr < g->nprow; pr++)
    for (int pc = 0; pc < g->npcol; pc++) {
      int mloc = nn_bc_local_rows(g, m, pr), nloc = nn_bc_local_cols(g, n, pc);
      for (int jl = 0; jl < nloc; jl++) {
        const real *col = full + (size_t)nn_bc_global(jl, pc, g->nb, g->npcol) * ld;
        for (int il = 0; il < mloc; il++) buf[off++] = col[nn_bc_global(il, pr, g->nb, g->nprow)];
      }
    }
}

void R(nn_bc_unpack)(const nn_grid *g, const real *buf, int m, int n, real *full, int ld)
{
  long off = 0;
  for (int pr = 0; pr < g->nprow; pr++)
    for (int pc = 0; pc < g->npcol; pc++) {
      int mloc = nn_bc_local_rows(g, m, pr), nloc = nn_bc_local_cols(g, n, pc);
      for (int jl = 0; jl < nloc; jl++) {
        real *col = full + (size_t)nn_bc_global(jl, pc, g->nb, g->npcol) * ld;
        for (int il = 0; il < mloc; il++) col[nn_bc_global(il, pr, g->nb, g->nprow)] = buf[off++];
      }
    }
}

/* Copies this rank's blocks of the full matrix into local block-cyclic storage. */
static void take_own_blocks(const nn_grid *g, const nn_bcmat *A, const real *full, int ld, real *loc)
{
  for (int jl = 0; jl < A->nloc; jl++) {
    const real *col = full + (size_t)nn_bc_global(jl, g->mycol, g->nb, g->npcol) * ld;
    for (int il = 0; il < A->mloc; il++)
      loc[il + (size_t)jl * A->lld] = col[nn_bc_global(il, g->myrow, g->nb, g->nprow)];
  }
}

void R(nn_spd_init)(R(nn_spd) *s, const nn_grid *g, int n, int nrhs_max)
{
  memset(s, 0, sizeof *s);
  s->g = g;
  s->n = n;
  s->nrhs_max = nrhs_max > n ? nrhs_max : n;
  nn_bc_describe(&s->A, g, n, n);
  int np = g->nprow * g->npcol;
  s->a = xmalloc(sizeof(real) * (size_t)s->A.lld * (s->A.nloc ? s->A.nloc : 1));
  s->pack = xmalloc(sizeof(real) * (size_t)n * s->nrhs_max);
  int rhs_cols = nn_bc_local_cols(g, s->nrhs_max, g->mycol);
  s->bloc = xmalloc(sizeof(real) * (size_t)s->A.lld * (rhs_cols ? rhs_cols : 1));
  s->counts = xmalloc(sizeof(int) * np);
  s->displs = xmalloc(sizeof(int) * np);
}

void R(nn_spd_free)(R(nn_spd) *s)
{
  free(s->a);
  free(s->pack);
  free(s->bloc);
  free(s->counts);
  free(s->displs);
}

void R(nn_bc_reduce_scatter)(const nn_grid *g, const real *full, int n, int ncols, real *pack, int *counts,
                             int *displs, real *loc, nn_timer *t)
{
  nn_timer_start(t, PH_COMM_REDUCE);
  R(nn_bc_pack)(g, full, n, n, ncols, pack);
  nn_bc_counts(g, n, ncols, counts, displs);
  /* The piece we receive is column-major with leading dimension mloc; our storage uses
   * lld = max(1, mloc), which differs only when we own nothing, so receive in place. */
  CHECK_MPI(MPI_Reduce_scatter(pack, loc, counts, MPI_REAL_T, MPI_SUM, MPI_COMM_WORLD));
  nn_timer_stop(t);
}

void R(nn_bc_allgather)(const nn_grid *g, const real *loc, int n, int ncols, real *pack, int *counts, int *displs,
                        real *full, nn_timer *t)
{
  nn_timer_start(t, PH_COMM_GATHER);
  nn_bc_counts(g, n, ncols, counts, displs);
  int me = nn_rank();
  CHECK_MPI(MPI_Allgatherv(loc, counts[me], MPI_REAL_T, pack, counts, displs, MPI_REAL_T, MPI_COMM_WORLD));
  R(nn_bc_unpack)(g, pack, n, ncols, full, n);
  nn_timer_stop(t);
}

/* Sums the n x ncols matrix `full` over ranks into this rank's blocks `loc` (lld = A.lld). */
static void reduce_scatter_blocks(R(nn_spd) *s, const real *full, int ncols, real *loc, nn_timer *t)
{
  R(nn_bc_reduce_scatter)(s->g, full, s->n, ncols, s->pack, s->counts, s->displs, loc, t);
}

/* Gathers every rank's blocks of an n x ncols matrix and rebuilds it in full on all ranks. */
static void allgather_blocks(R(nn_spd) *s, const real *loc, int ncols, real *full, nn_timer *t)
{
  R(nn_bc_allgather)(s->g, loc, s->n, ncols, s->pack, s->counts, s->displs, full, t);
}

/* Adds ridge_rel * trace / n to the diagonal of the distributed matrix in s->a. */
static void add_relative_ridge(R(nn_spd) *s, double ridge_rel)
{
  const nn_grid *g = s->g;
  double local_trace = 0;
  for (int jl = 0; jl < s->A.nloc; jl++) {
    int j = nn_bc_global(jl, g->mycol, g->nb, g->npcol);
    for (int il = 0; il < s->A.mloc; il++)
      if (nn_bc_global(il, g->myrow, g->nb, g->nprow) == j) local_trace += s->a[il + (size_t)jl * s->A.lld];
  }
  double trace = 0;
  CHECK_MPI(MPI_Allreduce(&local_trace, &trace, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
  CHECK(trace == trace, "the Gram matrix contains NaN: the iterates have diverged");
  /* A zero trace (all-zero activations) still needs a positive ridge to be factorable. */
  s->ridge_abs = ridge_rel * (trace > 0 ? trace / s->n : 1.0);
  for (int jl = 0; jl < s->A.nloc; jl++) {
    int j = nn_bc_global(jl, g->mycol, g->nb, g->npcol);
    for (int il = 0; il < s->A.mloc; il++)
      if (nn_bc_global(il, g->myrow, g->nb, g->nprow) == j) s->a[il + (size_t)jl * s->A.lld] += (real)s->ridge_abs;
  }
}

void R(nn_spd_factor_sum)(R(nn_spd) *s, const real *G_local, double ridge_rel, nn_timer *t)
{
  reduce_scatter_blocks(s, G_local, s->n, s->a, t);
  nn_timer_start(t, PH_SOLVE);
  add_relative_ridge(s, ridge_rel);
  int one = 1, info = 0;
  pXpotrf_("L", &s->n, s->a, &one, &one, s->A.desc, &info, 1);
  CHECK_INFO("ScaLAPACK p?potrf (weight-step Gram matrix)", info);
  nn_timer_stop(t);
}

void R(nn_spd_solve_sum)(R(nn_spd) *s, const real *B_local, int nrhs, real *X, nn_timer *t)
{
  CHECK(nrhs <= s->nrhs_max, "internal: %d right-hand sides exceed the %d allocated", nrhs, s->nrhs_max);
  nn_bcmat B;
  nn_bc_describe(&B, s->g, s->n, nrhs);
  reduce_scatter_blocks(s, B_local, nrhs, s->bloc, t);
  nn_timer_start(t, PH_SOLVE);
  int one = 1, info = 0;
  pXpotrs_("L", &s->n, &nrhs, s->a, &one, &one, s->A.desc, s->bloc, &one, &one, B.desc, &info, 1);
  CHECK_INFO("ScaLAPACK p?potrs (weight step)", info);
  nn_timer_stop(t);
  allgather_blocks(s, s->bloc, nrhs, X, t);
}

void R(nn_spd_inverse)(R(nn_spd) *s, const real *P, real *Pinv, nn_timer *t)
{
  nn_timer_start(t, PH_SOLVE);
  take_own_blocks(s->g, &s->A, P, s->n, s->a);
  int one = 1, info = 0;
  pXpotrf_("L", &s->n, s->a, &one, &one, s->A.desc, &info, 1);
  CHECK_INFO("ScaLAPACK p?potrf (activation step, beta W^T W + gamma I)", info);
  pXpotri_("L", &s->n, s->a, &one, &one, s->A.desc, &info, 1);
  CHECK_INFO("ScaLAPACK p?potri (activation step)", info);
  nn_timer_stop(t);
  allgather_blocks(s, s->a, s->n, Pinv, t);
  /* p?potri leaves the upper triangle untouched: mirror the lower one. */
  for (int j = 0; j < s->n; j++)
    for (int i = j + 1; i < s->n; i++) Pinv[j + (size_t)i * s->n] = Pinv[i + (size_t)j * s->n];
}
