/* resnet-admm: proximal (linearised) ADMM for the fully connected residual network of
 * --arch resnet (model.h), with 2-splitting (auxiliary block outputs V_l) or 3-splitting (also
 * the blocks' pre-activations U_l), after Xu, Li and Xing, "ADMM Algorithms for Residual Network
 * Training" (arXiv 2310.15334). Serial schedule: the blocks in sequence, input to output.
 * Data-parallel like every method here: per-sample variables stay on their rank, every sum over
 * samples is one MPI_Allreduce, the weights are replicated and identical on every rank. Every
 * step is collective over MPI_COMM_WORLD. With --layer-groups G > 1 the layers are split into G
 * groups on G x D ranks (resnet_groups.c): a rank holds its group's layers only.
 * resnet_admm.c states the problem and every update. The step functions are exported (to the
 * numerics only) so tests/test_resnet_admm.c can check each against a direct computation. */
#ifndef NN_RESNET_ADMM_H
#define NN_RESNET_ADMM_H

#include <mpi.h>

#include "method.h"
#include "model.h"
#include "shard.h"

/* The state. Layers l = 1..L of the model: 1 the input layer, 2..L-1 the blocks, L the output.
 * V[l] (l = 1..L-1) is n x N, U[l] (blocks, 3-splitting) n x N; multipliers M[l] of
 * "V_l = a_l" and MU[l] of "U_l = W_l V_{l-1} + b_l", the same shapes. With --layer-groups G > 1
 * (resnet_groups.c) the top-level state holds the groups this rank runs in
 * `part`: each part is a state of its own whose arrays exist for its layers lo..hi only. */
/* Columns per pass of the scratch arrays: 1024 keeps them at 2 x 1 MiB for width 128 in float64,
 * and the products over a chunk still run near the full GEMM rate. */
enum { NN_RADMM_CHUNK = 1024 };

/* --layer-groups: a split's samples as the pipe holds them: inputs on the first group, classes
 * or targets on the last (gathered once per split by resnet_groups.c: the shards do not change
 * during a run). */
struct nn_radmm_eval_data {
  const void *shard;
  long N;
  real *x, *y;
  int *label;
};

typedef struct nn_resnet_admm nn_resnet_admm;
struct nn_resnet_admm {
  nn_model *net;
  int L, n, d, k, split;   /* layers, width, inputs, outputs, 2 or 3 */
  long N, n_global, first; /* samples on this rank, over all ranks, this rank's first */
  double beta;             /* penalty of every constraint, and the multipliers' step */
  double tau;              /* 2-splitting weight steps: proximal weight, times their Lipschitz bound */
  double rho;              /* linearised V and U steps: proximal weight, times their Lipschitz bound */
  double ridge;            /* exact weight steps: proximal weight mu = ridge x trace(Gram) / order */
  const real *X;           /* d x N inputs (the shard's; a part: the pipe's, first group only) */
  real *T;                 /* k x N targets: one-hot classes or real targets (a part: last group only) */
  real *V[NN_MAX_LAYERS + 1], *U[NN_MAX_LAYERS + 1], *M[NN_MAX_LAYERS + 1], *MU[NN_MAX_LAYERS + 1];
  real *A, *B;             /* max(n, k) x chunk scratch: the steps run over N in chunks of columns */
  long chunk;              /* NN_RADMM_CHUNK (a test may lower it to exercise partial chunks) */
  real *sums;              /* (nmax + 1) x (nmax + 1) + (nmax + 1) x nmax: Gram and cross product */
  real *sys, *rhs;         /* (nmax + 1)^2 and (nmax + 1) x nmax: one solve's system and right side */
  real *in_factor;         /* (d + 1)^2: the input layer's system, factored once (X never changes) */
  double in_mu;
  long iter;
  /* --layer-groups. A part (or the whole network when G = 1: lo = 1, hi = L) updates layers
   * lo..hi. ghost = V[lo - 1] (n x N) is group g - 1's boundary output as last received; back
   * (n x N) is the share of V_hi's step that group g + 1 forms from its layer hi + 1, whose
   * Wbar it sends into net->W[hi + 1]. comm carries the sums over samples: the group's D
   * shards (MPI_COMM_WORLD when G = 1). */
  int lo, hi, g;
  MPI_Comm comm;
  real *ghost, *back;
  /* The top-level state with G > 1: G groups, D data shards, the schedule (0 jacobi, 1
   * odd-even, 2 serial), the parts this rank runs (1 on G x D ranks, G on one rank), the pipe
   * communicator (the G ranks holding the same samples; pipe rank = group) and the group's. */
  int G, D, schedule, nparts;
  nn_resnet_admm *part;
  MPI_Comm pipe, group;
  real *Xp, *Tp;           /* the pipe's inputs (first group) and targets (last group) */
  struct nn_radmm_eval_data *eval; /* the pipe's evaluation samples, gathered once per split */
};

/* Exact proximal least squares for layer l's Wbar = [W_l b_l] (rows x (cols + 1)):
 *   Wbar = argmin c/2 |Bt - Wbar Abar|^2 + mu/2 |Wbar - Wbar_old|^2,  Abar = [A; 1],
 * A cols x N, Bt = B + lam/beta rows x N (lam NULL: B; this rank's columns; the sums are
 * allreduced), mu = ridge x trace(c Abar Abar^T) / (cols + 1). Returns mu. */
double nn_radmm_ls_step(nn_resnet_admm *s, int l, const real *A, const real *B, const real *lam, double c);
/* 2-splitting: block l's linearised weight step Wbar -= grad / tau_l (resnet_admm.c). Returns
 * tau_l. */
double nn_radmm_w_block_linear(nn_resnet_admm *s, int l);
/* 3-splitting: block l's pre-activation step (elementwise; resnet_admm.c). */
void nn_radmm_u_step(nn_resnet_admm *s, int l);
/* V_l's step, exact or linearised by the splitting and the layer (resnet_admm.c). Returns the
 * proximal weight it used (0 for an exact step). */
double nn_radmm_v_step(nn_resnet_admm *s, int l);
/* a_l, what V_l is constrained to equal, into out (n x N): W_1 X + b_1 (l = 1); blocks:
 * V_{l-1} + act(U_l) (3-splitting) or V_{l-1} + act(W_l V_{l-1} + b_l) (2-splitting). */
void nn_radmm_target(const nn_resnet_admm *s, int l, real *out);
/* The multiplier steps, then the augmented Lagrangian / n_global and the residuals (summed
 * over ranks): *res_v = sum |V_l - a_l|^2 / n_global, *res_u = sum |U_l - W_l V_{l-1} - b_l|^2 /
 * n_global (NaN for 2-splitting). */
double nn_radmm_multipliers(nn_resnet_admm *s, double *res_v, double *res_u);
/* The augmented Lagrangian / n_global at the current point (no update). */
double nn_radmm_lagrangian(nn_resnet_admm *s, double *res_v, double *res_u);
/* One iteration of the serial schedule (the epoch's work, without timers). */
void nn_radmm_iteration(nn_resnet_admm *s, nn_timer *t);

#endif
