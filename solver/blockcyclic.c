/* The 2-D block-cyclic layout; see blockcyclic.h. Legend: m x n a whole matrix (column-major,
 * leading dimension ld), (pr, pc) a grid coordinate, (il, jl) local indices on it, (i, j)
 * global ones, es the element size in bytes.
 *
 * Every move walks the local array column by column in runs: nb consecutive local rows of one
 * block are nb consecutive global rows, so a run is one memcpy (one element at a time only
 * where the whole matrix is stored transposed). */
#include "blockcyclic.h"

#include <stdlib.h>
#include <string.h>

#include "../common/check.h"
#include "scalapack.h"
#include "../common/util.h"

/* ==================================== the grid ==================================== */

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

/* ============================ one matrix: who holds what ============================ */

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

size_t nn_bc_local_size(const nn_bcmat *A)
{
  return (size_t)A->lld * (A->nloc > 1 ? A->nloc : 1);
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

/* ======================== whole matrix <-> blocks (local) ======================== */

static size_t element_size(MPI_Datatype type)
{
  int es = 0;
  CHECK_MPI(MPI_Type_size(type, &es));
  CHECK(es == 4 || es == 8, "internal: block-cyclic elements of %d bytes (float or double expected)", es);
  return (size_t)es;
}

/* The copies of one local column: local rows [0, mloc) of process row pr, between the local
 * column `loc` and the whole matrix's column `col` (or, transposed, its row: stride ld). */
enum direction { TO_LOCAL, TO_FULL };

static void copy_column(const nn_grid *g, int pr, int mloc, size_t es, char *loc, char *col, size_t stride,
                        enum direction dir)
{
  for (int il0 = 0; il0 < mloc; il0 += g->nb) {
    int len = mloc - il0 < g->nb ? mloc - il0 : g->nb;
    size_t i0 = (size_t)nn_bc_global(il0, pr, g->nb, g->nprow);
    char *l = loc + (size_t)il0 * es, *f = col + i0 * stride * es;
    if (stride == 1) {
      if (dir == TO_LOCAL) memcpy(l, f, (size_t)len * es);
      else memcpy(f, l, (size_t)len * es);
    } else if (es == 8) {
      for (int k = 0; k < len; k++)
        if (dir == TO_LOCAL) memcpy(l + 8 * k, f + 8 * k * stride, 8);
        else memcpy(f + 8 * k * stride, l + 8 * k, 8);
    } else {
      for (int k = 0; k < len; k++)
        if (dir == TO_LOCAL) memcpy(l + 4 * k, f + 4 * k * stride, 4);
        else memcpy(f + 4 * k * stride, l + 4 * k, 4);
    }
  }
}

/* Every rank's pieces of the m x n matrix `full`, in rank order, each with leading dimension
 * mloc: the packed buffer, in either direction. */
static void walk_pieces(const nn_grid *g, size_t es, int m, int n, char *full, int ld, enum nn_bc_orient orient,
                        char *buf, enum direction dir)
{
  /* As is, column j starts at j ld and rows are adjacent; transposed, at j and rows are ld apart. */
  size_t col_step = orient == NN_BC_AS_IS ? (size_t)ld : 1, stride = orient == NN_BC_AS_IS ? 1 : (size_t)ld;
  size_t off = 0;
  for (int pr = 0; pr < g->nprow; pr++)
    for (int pc = 0; pc < g->npcol; pc++) {
      int mloc = nn_bc_local_rows(g, m, pr), nloc = nn_bc_local_cols(g, n, pc);
      for (int jl = 0; jl < nloc; jl++) {
        size_t j = (size_t)nn_bc_global(jl, pc, g->nb, g->npcol);
        copy_column(g, pr, mloc, es, buf + off * es, full + j * col_step * es, stride, dir);
        off += (size_t)mloc;
      }
    }
}

void nn_bc_pack(const nn_grid *g, MPI_Datatype type, const void *full, int ld, int m, int n, void *buf)
{
  walk_pieces(g, element_size(type), m, n, (char *)full, ld, NN_BC_AS_IS, buf, TO_LOCAL);
}

void nn_bc_unpack(const nn_grid *g, MPI_Datatype type, const void *buf, int m, int n, void *full, int ld,
                  enum nn_bc_orient orient)
{
  walk_pieces(g, element_size(type), m, n, full, ld, orient, (char *)buf, TO_FULL);
}

void nn_bc_take_own(const nn_grid *g, MPI_Datatype type, const nn_bcmat *A, const void *full, int ld, void *loc)
{
  size_t es = element_size(type);
  for (int jl = 0; jl < A->nloc; jl++)
    copy_column(g, g->myrow, A->mloc, es, (char *)loc + (size_t)jl * A->lld * es,
                (char *)full + (size_t)nn_bc_col(g, jl) * ld * es, 1, TO_LOCAL);
}

/* ================================ the collectives ================================ */

void nn_bc_exchange_init(nn_bc_exchange *x, const nn_grid *g, MPI_Datatype type, int rows, int cols_max)
{
  int np = g->nprow * g->npcol;
  x->g = g;
  x->type = type;
  x->rows = rows;
  x->cols_max = cols_max;
  x->pack = nn_alloc((size_t)rows * cols_max, element_size(type), "the block-cyclic staging buffer");
  x->counts = nn_alloc((size_t)np, sizeof(int), "block-cyclic counts");
  x->displs = nn_alloc((size_t)np, sizeof(int), "block-cyclic displacements");
}

void nn_bc_exchange_free(nn_bc_exchange *x)
{
  free(x->pack);
  free(x->counts);
  free(x->displs);
}

void nn_bc_reduce_scatter(nn_bc_exchange *x, const void *full, int ncols, void *loc, nn_timer *t)
{
  CHECK(ncols <= x->cols_max, "internal: %d columns exceed the %d staged", ncols, x->cols_max);
  nn_timer_start(t, PH_COMM_REDUCE);
  nn_bc_pack(x->g, x->type, full, x->rows, x->rows, ncols, x->pack);
  nn_bc_counts(x->g, x->rows, ncols, x->counts, x->displs);
  /* The piece we receive is column-major with leading dimension mloc; our storage uses
   * lld = max(1, mloc), which differs only when we own nothing, so receive in place. */
  CHECK_MPI(MPI_Reduce_scatter(x->pack, loc, x->counts, x->type, MPI_SUM, MPI_COMM_WORLD));
  nn_timer_stop(t);
}

void nn_bc_allgather(nn_bc_exchange *x, const void *loc, int ncols, void *full, enum nn_bc_orient orient,
                     nn_timer *t)
{
  CHECK(ncols <= x->cols_max, "internal: %d columns exceed the %d staged", ncols, x->cols_max);
  const nn_grid *g = x->g;
  nn_timer_start(t, PH_COMM_GATHER);
  nn_bc_counts(g, x->rows, ncols, x->counts, x->displs);
  int me = g->myrow * g->npcol + g->mycol;
  CHECK_MPI(MPI_Allgatherv(loc, x->counts[me], x->type, x->pack, x->counts, x->displs, x->type, MPI_COMM_WORLD));
  nn_bc_unpack(g, x->type, x->pack, x->rows, ncols, full, orient == NN_BC_AS_IS ? x->rows : ncols, orient);
  nn_timer_stop(t);
}
