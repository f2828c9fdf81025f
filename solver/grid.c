/* BLACS grid set-up and block-cyclic bookkeeping; see grid.h. */
#include "grid.h"

#include "check.h"
#include "scalapack.h"

void nn_grid_shape_auto(int nranks, int *nprow, int *npcol)
{
  int r = 1;
  for (int d = 1; d * d <= nranks; d++)
    if (nranks % d == 0) r = d;
  *nprow = r;
  *npcol = nranks / r;
}

void nn_grid_init(nn_grid *g, int nprow, int npcol, int nb)
{
  int me, nprocs;
  Cblacs_pinfo(&me, &nprocs);
  if (nprow <= 0 || npcol <= 0) nn_grid_shape_auto(nprocs, &nprow, &npcol);
  CHECK(nprow * npcol == nprocs, "BLACS grid %dx%d does not match %d MPI ranks", nprow, npcol, nprocs);
  CHECK(nb >= 1, "block size must be positive, got %d", nb);
  CHECK(me == nn_rank(), "BLACS rank %d differs from MPI rank %d", me, nn_rank());
  Cblacs_get(-1, 0, &g->ctxt);
  Cblacs_gridinit(&g->ctxt, "Row", nprow, npcol);
  Cblacs_gridinfo(g->ctxt, &g->nprow, &g->npcol, &g->myrow, &g->mycol);
  CHECK(g->myrow * g->npcol + g->mycol == me, "BLACS grid is not row-major in MPI rank order");
  g->nb = nb;
}

void nn_grid_free(nn_grid *g)
{
  Cblacs_gridexit(g->ctxt);
}

int nn_bc_local_rows(const nn_grid *g, int m, int prow)
{
  int zero = 0;
  return numroc_(&m, &g->nb, &prow, &zero, &g->nprow);
}

int nn_bc_local_cols(const nn_grid *g, int n, int pcol)
{
  int zero = 0;
  return numroc_(&n, &g->nb, &pcol, &zero, &g->npcol);
}

void nn_bc_describe(nn_bcmat *A, const nn_grid *g, int m, int n)
{
  int zero = 0, info;
  A->m = m;
  A->n = n;
  A->mloc = nn_bc_local_rows(g, m, g->myrow);
  A->nloc = nn_bc_local_cols(g, n, g->mycol);
  /* ScaLAPACK insists on lld >= 1 even where this rank owns no rows. */
  A->lld = A->mloc > 1 ? A->mloc : 1;
  descinit_(A->desc, &m, &n, &g->nb, &g->nb, &zero, &zero, &g->ctxt, &A->lld, &info);
  CHECK_INFO("descinit", info);
}

long nn_bc_counts(const nn_grid *g, int m, int n, int *counts, int *displs)
{
  long total = 0;
  for (int pr = 0; pr < g->nprow; pr++)
    for (int pc = 0; pc < g->npcol; pc++) {
      int r = pr * g->npcol + pc;
      counts[r] = nn_bc_local_rows(g, m, pr) * nn_bc_local_cols(g, n, pc);
      displs[r] = (int)total;
      total += counts[r];
    }
  return total;
}
