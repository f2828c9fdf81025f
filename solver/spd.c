/* Distributed SPD solves; see spd.h. Shapes: G, P are n x n; B, X are n x nrhs. */
#include "spd.h"

#include <stdlib.h>
#include <string.h>

#include "../common/check.h"
#include "scalapack.h"
#include "../common/util.h"

void nn_spd_init(nn_spd *s, const nn_grid *g, int n, int nrhs_max)
{
  memset(s, 0, sizeof *s);
  s->g = g;
  s->n = n;
  s->nrhs_max = nrhs_max > n ? nrhs_max : n;
  nn_bc_describe(&s->A, g, n, n);
  s->a = nn_alloc(nn_bc_local_size(&s->A), sizeof(real), "the blocks of an SPD system");
  nn_bcmat B;
  nn_bc_describe(&B, g, n, s->nrhs_max);
  s->bloc = nn_alloc(nn_bc_local_size(&B), sizeof(real), "the blocks of its right-hand side");
  nn_bc_exchange_init(&s->x, g, MPI_REAL_T, n, s->nrhs_max);
}

void nn_spd_free(nn_spd *s)
{
  free(s->a);
  free(s->bloc);
  nn_bc_exchange_free(&s->x);
}

/* Adds ridge_rel * trace / n to the diagonal of the distributed matrix in s->a. */
static void add_relative_ridge(nn_spd *s, double ridge_rel)
{
  const nn_grid *g = s->g;
  double local_trace = 0;
  for (int jl = 0; jl < s->A.nloc; jl++) {
    int j = nn_bc_col(g, jl);
    for (int il = 0; il < s->A.mloc; il++)
      if (nn_bc_row(g, il) == j) local_trace += s->a[il + (size_t)jl * s->A.lld];
  }
  double trace = 0;
  CHECK_MPI(MPI_Allreduce(&local_trace, &trace, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
  CHECK(trace == trace, "the Gram matrix contains NaN: the iterates have diverged");
  /* A zero trace (all-zero activations) still needs a positive ridge to be factorable. */
  s->ridge_abs = ridge_rel * (trace > 0 ? trace / s->n : 1.0);
  for (int jl = 0; jl < s->A.nloc; jl++) {
    int j = nn_bc_col(g, jl);
    for (int il = 0; il < s->A.mloc; il++)
      if (nn_bc_row(g, il) == j) s->a[il + (size_t)jl * s->A.lld] += (real)s->ridge_abs;
  }
}

void nn_spd_factor_sum(nn_spd *s, const real *G_local, double ridge_rel, nn_timer *t)
{
  nn_bc_reduce_scatter(&s->x, G_local, s->n, s->a, t);
  nn_timer_start(t, PH_SOLVE);
  add_relative_ridge(s, ridge_rel);
  int one = 1, info = 0;
  pXpotrf_("L", &s->n, s->a, &one, &one, s->A.desc, &info, 1);
  CHECK_INFO("ScaLAPACK p?potrf (weight-step Gram matrix)", info);
  nn_timer_stop(t);
}

void nn_spd_solve_sum(nn_spd *s, const real *B_local, int nrhs, real *X, enum nn_bc_orient orient,
                      nn_timer *t)
{
  CHECK(nrhs <= s->nrhs_max, "internal: %d right-hand sides exceed the %d allocated", nrhs, s->nrhs_max);
  nn_bcmat B;
  nn_bc_describe(&B, s->g, s->n, nrhs);
  nn_bc_reduce_scatter(&s->x, B_local, nrhs, s->bloc, t);
  nn_timer_start(t, PH_SOLVE);
  int one = 1, info = 0;
  pXpotrs_("L", &s->n, &nrhs, s->a, &one, &one, s->A.desc, s->bloc, &one, &one, B.desc, &info, 1);
  CHECK_INFO("ScaLAPACK p?potrs (weight step)", info);
  nn_timer_stop(t);
  nn_bc_allgather(&s->x, s->bloc, nrhs, X, orient, t);
}

void nn_spd_inverse(nn_spd *s, const real *P, real *Pinv, nn_timer *t)
{
  nn_timer_start(t, PH_SOLVE);
  nn_bc_take_own(s->g, MPI_REAL_T, &s->A, P, s->n, s->a);
  int one = 1, info = 0;
  pXpotrf_("L", &s->n, s->a, &one, &one, s->A.desc, &info, 1);
  CHECK_INFO("ScaLAPACK p?potrf (activation step, beta W^T W + gamma I)", info);
  pXpotri_("L", &s->n, s->a, &one, &one, s->A.desc, &info, 1);
  CHECK_INFO("ScaLAPACK p?potri (activation step)", info);
  nn_timer_stop(t);
  nn_bc_allgather(&s->x, s->a, s->n, Pinv, NN_BC_AS_IS, t);
  /* p?potri leaves the upper triangle untouched: mirror the lower one. */
  for (int j = 0; j < s->n; j++)
    for (int i = j + 1; i < s->n; i++) Pinv[j + (size_t)i * s->n] = Pinv[i + (size_t)j * s->n];
}
