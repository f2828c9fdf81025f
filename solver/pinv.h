/* The weight step's pseudo-inverse on the BLACS grid (ScaLAPACK), the thesis's W_l = z_l a_{l-1}^+:
 * the per-rank Gram matrices are summed into block-cyclic layout, eigendecomposed (p?syevd), the
 * eigenvalues at rounding level dropped, G^+ = V diag(1/lambda_kept) V^T formed on the grid, and each
 * solve is one PBLAS GEMM. No ridge (that is nn_spd). The layout and the moves into and out of it
 * are blockcyclic.h's. Every call is collective over MPI_COMM_WORLD; inputs are whole matrices on
 * each rank, outputs are replicated on all ranks. */
#ifndef NN_PINV_H
#define NN_PINV_H

#include "blockcyclic.h"
#include "real.h"
#include "../common/timer.h"

typedef struct {
  const nn_grid *g;
  int n;               /* order of G */
  int nrhs_max;
  nn_bcmat A;          /* n x n: the layout of G, of its eigenvectors and of G^+ */
  real *a;             /* A.lld x A.nloc: the summed G (lower triangle); p?syevd destroys it */
  real *z;             /* A.lld x A.nloc: eigenvectors V, then U = V diag(1/sqrt(lambda)), 0 where dropped */
  real *p;             /* A.lld x A.nloc: G^+ = U U^T */
  real *w;             /* n eigenvalues, ascending, the same on every rank */
  real *bloc, *xloc;   /* local blocks of the right-hand side and of the solution, n x nrhs */
  nn_bc_exchange x;    /* the reduce-scatter and gather of n-row matrices */
  real *work;          /* p?syevd workspace (queried, then floored: see pinv.c) */
  int *iwork;
  int lwork, liwork;
  int kept;            /* eigenvalues kept by the last decomposition */
  double rcond;        /* relative cutoff of the last decomposition (NaN resolved to n * eps) */
  double lambda_max;   /* largest eigenvalue of the last decomposition */
} nn_pinv;

void nn_pinv_init(nn_pinv *s, const nn_grid *g, int n, int nrhs_max);
void nn_pinv_free(nn_pinv *s);

/* G_local is n x n (lower triangle read) on each rank. Sums it over ranks into the block-cyclic
 * layout, eigendecomposes the sum (p?syevd), keeps the eigenvalues above rcond * lambda_max
 * (rcond NaN: n * machine epsilon of the working precision; negative ones are always dropped) and
 * forms G^+ on the grid. Returns the number of eigenvalues kept (the rank used). */
int nn_pinv_factor_sum(nn_pinv *s, const real *G_local, double rcond, nn_timer *t);

/* B_local is n x nrhs on each rank. Returns X = G^+ (sum of B) on every rank, with G^+ from the
 * last nn_pinv_factor_sum: the minimum-norm least-squares solution of G X = B; n x nrhs as is,
 * or X^T (nrhs x n) with NN_BC_TRANSPOSED (a weight step's X = W^T lands in the model's W). */
void nn_pinv_solve_sum(nn_pinv *s, const real *B_local, int nrhs, real *X, enum nn_bc_orient orient,
                       nn_timer *t);

#endif
