/* The BLACS process grid and the 2-D block-cyclic layout of the matrices we solve with.
 * nn_grid_init and nn_grid_free are collective over MPI_COMM_WORLD; the index helpers are
 * local. BLACS ranks equal MPI_COMM_WORLD ranks, row-major: rank = prow * npcol + pcol. */
#ifndef NN_GRID_H
#define NN_GRID_H

typedef struct {
  int ctxt;
  int nprow, npcol;   /* grid shape */
  int myrow, mycol;   /* this rank's place */
  int nb;             /* square block size of every distributed matrix */
} nn_grid;

/* A m x n matrix in block-cyclic layout on g: this rank holds mloc x nloc, column-major,
 * leading dimension lld = max(1, mloc). */
typedef struct {
  int m, n;
  int mloc, nloc, lld;
  int desc[9];
} nn_bcmat;

/* nprow = npcol = 0 chooses the squarest grid with nprow <= npcol. */
void nn_grid_init(nn_grid *g, int nprow, int npcol, int nb);
void nn_grid_free(nn_grid *g);
void nn_grid_shape_auto(int nranks, int *nprow, int *npcol);

void nn_bc_describe(nn_bcmat *A, const nn_grid *g, int m, int n);
/* Local extent on process (prow, pcol) of an m x n matrix (rows, cols). */
int nn_bc_local_rows(const nn_grid *g, int m, int prow);
int nn_bc_local_cols(const nn_grid *g, int n, int pcol);
/* Global index of local index l on process coordinate p of a dimension cut in nb blocks
 * dealt round-robin over np processes. */
static inline int nn_bc_global(int l, int p, int nb, int np) { return (l / nb) * nb * np + p * nb + l % nb; }

/* Element counts per rank (rank order) of an m x n matrix: the counts for Reduce_scatter and
 * Allgatherv. counts and displs have nprow*npcol entries; returns the total (= m*n). */
long nn_bc_counts(const nn_grid *g, int m, int n, int *counts, int *displs);

#endif
