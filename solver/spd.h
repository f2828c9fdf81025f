/* Distributed symmetric positive definite solves on the BLACS grid (ScaLAPACK), for the
 * weight step (sum of per-rank Gram matrices, solved for a few right-hand sides) and the
 * activation step (factor and invert beta W^T W + gamma I). The layout and the moves into and
 * out of it are blockcyclic.h's; this file factors, solves and inverts. Every call is
 * collective over MPI_COMM_WORLD; inputs are whole matrices on each rank, outputs are
 * replicated on all ranks. */
#ifndef NN_SPD_H
#define NN_SPD_H

#include "blockcyclic.h"
#include "real.h"
#include "../common/timer.h"

typedef struct {
  const nn_grid *g;
  int n;             /* order of the system */
  nn_bcmat A;        /* n x n, this rank's blocks of the factor */
  real *a;           /* A.lld x A.nloc local storage */
  real *bloc;        /* local blocks of the right-hand side (n x up to nrhs_max) */
  int nrhs_max;
  nn_bc_exchange x;  /* the reduce-scatter and gather of n-row matrices */
  double ridge_abs;  /* the ridge actually added to the diagonal, for the record */
} nn_spd;

void nn_spd_init(nn_spd *s, const nn_grid *g, int n, int nrhs_max);
void nn_spd_free(nn_spd *s);

/* G_local is n x n (lower triangle read) on each rank. Sums it over ranks straight into the
 * block-cyclic layout (reduce-scatter of each process's blocks), adds ridge_rel * trace / n
 * to the diagonal and factors it (pdpotrf). */
void nn_spd_factor_sum(nn_spd *s, const real *G_local, double ridge_rel, nn_timer *t);

/* B_local is n x nrhs on each rank. Solves (sum of G) X = (sum of B) with the factor from
 * nn_spd_factor_sum and returns X on every rank: n x nrhs as is, or X^T (nrhs x n) with
 * NN_BC_TRANSPOSED, so that a weight step's X = Wbar^T lands in the model's Wbar. */
void nn_spd_solve_sum(nn_spd *s, const real *B_local, int nrhs, real *X, enum nn_bc_orient orient,
                      nn_timer *t);

/* P is n x n SPD, identical on every rank (lower triangle read). Factors it on the grid,
 * inverts it (pdpotri) and returns the full symmetric inverse on every rank. */
void nn_spd_inverse(nn_spd *s, const real *P, real *Pinv, nn_timer *t);

#endif
