/* Distributed symmetric positive definite solves on the BLACS grid (ScaLAPACK), for the
 * weight step (sum of per-rank Gram matrices, solved for a few right-hand sides) and the
 * activation step (factor and invert beta W^T W + gamma I). Every call is collective over
 * MPI_COMM_WORLD; inputs are full matrices on each rank, outputs are replicated on all ranks. */
#ifndef NN_SPD_H
#define NN_SPD_H

#include "grid.h"
#include "real.h"
#include "timer.h"

typedef struct {
  const nn_grid *g;
  int n;             /* order of the system */
  nn_bcmat A;        /* n x n, this rank's blocks of the factor */
  real *a;           /* A.lld x A.nloc local storage */
  real *pack;        /* n x max(n, nrhs_max) staging buffer for reduce-scatter / allgather */
  real *bloc;        /* local blocks of the right-hand side */
  int nrhs_max;
  int *counts, *displs;
  double ridge_abs;  /* the ridge actually added to the diagonal, for the record */
} R(nn_spd);

void R(nn_spd_init)(R(nn_spd) *s, const nn_grid *g, int n, int nrhs_max);
void R(nn_spd_free)(R(nn_spd) *s);

/* G_local is n x n (lower triangle read) on each rank. Sums it over ranks straight into the
 * block-cyclic layout (reduce-scatter of each process's blocks), adds ridge_rel * trace / n
 * to the diagonal and factors it (pdpotrf). */
void R(nn_spd_factor_sum)(R(nn_spd) *s, const real *G_local, double ridge_rel, nn_timer *t);

/* B_local is n x nrhs on each rank. Solves (sum of G) X = (sum of B) with the factor from
 * nn_spd_factor_sum and returns X (n x nrhs) on every rank. */
void R(nn_spd_solve_sum)(R(nn_spd) *s, const real *B_local, int nrhs, real *X, nn_timer *t);

/* P is n x n SPD, identical on every rank (lower triangle read). Factors it on the grid,
 * inverts it (pdpotri) and returns the full symmetric inverse on every rank. */
void R(nn_spd_inverse)(R(nn_spd) *s, const real *P, real *Pinv, nn_timer *t);

/* Block-cyclic packing, exposed for tests: the pieces of the m x n column-major matrix
 * `full` (leading dimension ld) owned by each rank, concatenated in rank order, each piece
 * column-major with its own local row count. unpack is the inverse. */
void R(nn_bc_pack)(const nn_grid *g, const real *full, int ld, int m, int n, real *buf);
void R(nn_bc_unpack)(const nn_grid *g, const real *buf, int m, int n, real *full, int ld);

/* The two collectives every distributed solve here is built on (also used by pinv.c).
 * reduce_scatter sums the n x ncols matrix `full` (leading dimension n) over the ranks
 * straight into this rank's block-cyclic pieces `loc` (leading dimension max(1, local rows)),
 * one MPI_Reduce_scatter; allgather rebuilds such a matrix in full on every rank from its
 * pieces. pack (n * ncols values), counts and displs (one per rank) are scratch. */
void R(nn_bc_reduce_scatter)(const nn_grid *g, const real *full, int n, int ncols, real *pack, int *counts,
                             int *displs, real *loc, nn_timer *t);
void R(nn_bc_allgather)(const nn_grid *g, const real *loc, int n, int ncols, real *pack, int *counts, int *displs,
                        real *full, nn_timer *t);

#endif
