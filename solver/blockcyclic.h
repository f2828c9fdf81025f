/* The 2-D block-cyclic layout every distributed solve here works in, in one module: the BLACS
 * process grid, ScaLAPACK descriptors, which rank holds which element, and the moves between a
 * matrix held whole by every rank and each rank's blocks of it (pack and unpack, the
 * reduce-scatter that sums per-rank matrices straight into blocks, the gather that rebuilds the
 * whole matrix on every rank). The solves (spd.c, pinv.c) call ScaLAPACK on the blocks and use
 * this module for everything else.
 *
 * Layout: an m x n matrix is cut into nb x nb blocks, dealt round-robin over an nprow x npcol
 * grid; each rank keeps its blocks column-major in an mloc x nloc array, leading dimension
 * lld = max(1, mloc). BLACS ranks equal MPI_COMM_WORLD ranks, row-major: rank = prow * npcol +
 * pcol. A packed buffer holds every rank's local array, in rank order, each with leading
 * dimension mloc: the send buffer of MPI_Reduce_scatter and the receive buffer of
 * MPI_Allgatherv.
 *
 * Precision-free, built once: it only moves elements, of the MPI type the caller names
 * (MPI_DOUBLE or MPI_FLOAT; the reduce-scatter sums them with MPI_SUM). nn_grid_init,
 * nn_grid_free and the collectives are collective over MPI_COMM_WORLD; the rest is local. */
#ifndef NN_BLOCKCYCLIC_H
#define NN_BLOCKCYCLIC_H

#include <mpi.h>
#include <stddef.h>

#include "../common/timer.h"

/* ---- the grid ---- */
typedef struct {
  int ctxt;
  int nprow, npcol;   /* grid shape */
  int myrow, mycol;   /* this rank's place */
  int nb;             /* square block size of every distributed matrix */
} nn_grid;

/* nprow = npcol = 0 chooses the squarest grid with nprow <= npcol. */
void nn_grid_init(nn_grid *g, int nprow, int npcol, int nb);
void nn_grid_free(nn_grid *g);
void nn_grid_shape_auto(int nranks, int *nprow, int *npcol);

/* ---- one distributed matrix: where its elements live ---- */
/* A m x n matrix in block-cyclic layout on g: this rank holds mloc x nloc, column-major,
 * leading dimension lld = max(1, mloc); desc is its ScaLAPACK descriptor. */
typedef struct {
  int m, n;
  int mloc, nloc, lld;
  int desc[9];
} nn_bcmat;

void nn_bc_describe(nn_bcmat *A, const nn_grid *g, int m, int n);
/* Elements to allocate for this rank's blocks of A: lld * max(1, nloc). */
size_t nn_bc_local_size(const nn_bcmat *A);
/* Local extent on process (prow, pcol) of an m x n matrix (rows, cols). */
int nn_bc_local_rows(const nn_grid *g, int m, int prow);
int nn_bc_local_cols(const nn_grid *g, int n, int pcol);
/* Global index of local index l on process coordinate p of a dimension cut in nb blocks
 * dealt round-robin over np processes. */
static inline int nn_bc_global(int l, int p, int nb, int np) { return (l / nb) * nb * np + p * nb + l % nb; }
/* The global row (column) of this rank's local row il (column jl). */
static inline int nn_bc_row(const nn_grid *g, int il) { return nn_bc_global(il, g->myrow, g->nb, g->nprow); }
static inline int nn_bc_col(const nn_grid *g, int jl) { return nn_bc_global(jl, g->mycol, g->nb, g->npcol); }

/* Element counts per rank (rank order) of an m x n matrix: the counts for Reduce_scatter and
 * Allgatherv. counts and displs have nprow*npcol entries; returns the total (= m*n). */
long nn_bc_counts(const nn_grid *g, int m, int n, int *counts, int *displs);

/* ---- moving a whole matrix into and out of the layout (local) ---- */
/* How a whole matrix is stored: as is (element (i, j) at full[i + j ld]), or transposed
 * (element (i, j) at full[j + i ld]), which is how a weight solve's X = Wbar^T lands in the
 * model's Wbar (model.h) without a copy in between. */
enum nn_bc_orient { NN_BC_AS_IS = 0, NN_BC_TRANSPOSED = 1 };

/* The m x n matrix `full` (leading dimension ld) into every rank's pieces, concatenated in rank
 * order (buf: m * n elements of `type`). unpack is the inverse, storing the matrix as `orient`
 * says. */
void nn_bc_pack(const nn_grid *g, MPI_Datatype type, const void *full, int ld, int m, int n, void *buf);
void nn_bc_unpack(const nn_grid *g, MPI_Datatype type, const void *buf, int m, int n, void *full, int ld,
                  enum nn_bc_orient orient);
/* This rank's blocks of A, taken from the whole matrix `full` (leading dimension ld) that every
 * rank holds, into loc (leading dimension A->lld). No communication. */
void nn_bc_take_own(const nn_grid *g, MPI_Datatype type, const nn_bcmat *A, const void *full, int ld, void *loc);

/* ---- the two collectives every distributed solve here is built on ---- */
/* Their staging: matrices of `rows` rows and up to cols_max columns, elements of `type`. */
typedef struct {
  const nn_grid *g;
  MPI_Datatype type;
  int rows, cols_max;
  void *pack;           /* rows x cols_max elements: the packed pieces of every rank */
  int *counts, *displs; /* one per rank */
} nn_bc_exchange;

void nn_bc_exchange_init(nn_bc_exchange *x, const nn_grid *g, MPI_Datatype type, int rows, int cols_max);
void nn_bc_exchange_free(nn_bc_exchange *x);
/* Sums the rows x ncols matrix `full` (leading dimension rows) over the ranks straight into
 * this rank's blocks loc (leading dimension max(1, local rows)): one MPI_Reduce_scatter.
 * Timed as PH_COMM_REDUCE. */
void nn_bc_reduce_scatter(nn_bc_exchange *x, const void *full, int ncols, void *loc, nn_timer *t);
/* Rebuilds on every rank the rows x ncols matrix whose blocks loc each rank holds: one
 * MPI_Allgatherv, then the unpack into full, as is (leading dimension rows) or transposed
 * (ncols x rows, leading dimension ncols). Timed as PH_COMM_GATHER. */
void nn_bc_allgather(nn_bc_exchange *x, const void *loc, int ncols, void *full, enum nn_bc_orient orient,
                     nn_timer *t);

#endif
