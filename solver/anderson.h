/* Anderson acceleration (--anderson M): one wrapper around any method whose epoch is a
 * fixed-point map x_{k+1} = g(x_k) and whose operations have a merit (method.h). Leaves the
 * method itself alone: it only reads and writes the method's state between epochs. The epoch
 * and the merit are collective over MPI_COMM_WORLD; set-up and tear-down are local.
 *
 * State x (stacked, never formed as one array): the model's weights and biases (replicated:
 * their inner products are counted once, by rank 0) and the method's real partitioned state
 * arrays (state_arrays: auxiliaries, multipliers, targets; each rank its own samples).
 * One epoch k (type II, as AA-DLADMM; Walker and Ni 2011):
 *   g_k = g(x_k) by the method's own epoch, f_k = g_k - x_k;
 *   dF, dG: the last m differences f_{i+1} - f_i, g_{i+1} - g_i (a ring, restarted below);
 *   gamma = argmin |f_k - dF gamma|^2 + lam |gamma|^2, lam = reg trace(dF^T dF)/m_k
 *           (reg 1e-10 in float64, 1e-6 in float32: the differences carry the precision's
 *           rounding), from the m_k x m_k Gram matrix summed over ranks (one MPI_Allreduce of
 *           its new row, the right-hand side and |f_k|^2 per epoch), solved by Cholesky in
 *           double on every rank alike, so every rank mixes with the same gamma;
 *   x_acc = g_k - dG gamma, written into the model and the state, then state_restored;
 *   safeguard: x_{k+1} = x_acc when merit(x_acc) <= merit(g_k), else x_{k+1} = g_k and the
 *   memory restarts (dF, dG emptied; f_k, g_k kept to form the next difference).
 * The merit is the method's (method.h), bounded below. Epochs up to --warmup are plain and
 * start no memory (admm's warm-up is another map). Memory: 2M + 4 copies of x (the ring, f_k
 * and g_k of the last epoch, x_k and g_k of this one), interleaved per sample column so a
 * checkpoint holds the history by global sample like the method's own arrays. */
#ifndef NN_ANDERSON_H
#define NN_ANDERSON_H

#include "method.h"
#include "model.h"

/* One piece of x: rows x count reals at `state` (column c is global index first + c of
 * total), and its V = 2M + 4 copies at `store`: element i of copy v in column c at
 * store[(c V + v) rows + i]. The weights: one segment per W_l and b_l, count = 1, replicated. */
typedef struct {
  char name[32];
  real *state, *store;
  long rows, first, count, total;
  int replicated;
} nn_aa_segment;

typedef struct {
  const nn_config *cfg;
  const nn_method_ops *inner; /* the accelerated method */
  void *inner_self;
  int m, V;                   /* memory, copies of x */
  double reg;                 /* relative regularisation of the small problem */
  int nseg;
  nn_aa_segment seg[NN_STATE_ARRAYS_MAX];
  /* The memory (in checkpoints): ring[0] columns held (m_k), ring[1] the slot the next
   * difference takes, ring[2] 1 when f_{k-1}, g_{k-1} are held. */
  int ring[3];
  double *H;                  /* m x m: <dF_i, dF_j> over all ranks, slots 0..m_k-1 */
  long tally[2];              /* accelerated points tried, kept */
  double *dots;               /* 2m + 1: this epoch's new Gram row, <f, dF_i>, |f|^2 */
  double *gamma;              /* m: the last mixing coefficients */
  /* The last epoch's safeguard (tests read them; NaN when nothing was tried). */
  double merit_plain, merit_acc;
} nn_anderson;

/* Wraps inner (its state inner_self already initialised for `net`, which may be NULL: no
 * weights in x) with memory cfg->anderson. Local. */
void nn_anderson_setup(nn_anderson *s, const nn_config *cfg, const nn_method_ops *inner, void *inner_self,
                       nn_model *net);
/* Frees what setup took (not the inner method). Local. */
void nn_anderson_release(nn_anderson *s);
/* One accelerated epoch (above): the inner epoch's figures in st plus st->aa_*. Collective. */
void nn_anderson_step(nn_anderson *s, int epoch, nn_epoch_stats *st, nn_timer *t);

#endif
