/* The data-parallel gradient sum of the gradient methods, hierarchical:
 *
 *   1. every rank writes its gradient into its own segment of a node-shared window;
 *   2. after a barrier, rank r of a node sums slice r of the packed buffer over the node's
 *      segments (in local-rank order, so the bits do not depend on timing);
 *   3. if there are several nodes, one MPI_Allreduce of that slice among the ranks holding
 *      the same slice on every node;
 *   4. rank r applies the optimiser to slice r of the parameters, which also live in the
 *      node-shared window, so no allgather is needed: a second barrier publishes them.
 *
 * Against one MPI_Allreduce of the whole buffer followed by the same update on every rank
 * this removes, within a node, the message copies of the allreduce and (P-1)/P of the
 * update (Adam's 7 streams over every parameter), and across nodes each rank reduces only
 * its slice. The optimiser state (momentum, Adam's moments) is kept for the slice only.
 *
 * `group` caps the ranks that share one window: 0 = all ranks of a node; 1 = each rank
 * alone, which is exactly "one MPI_Allreduce of the whole buffer, update everywhere" (the
 * reference path); K > 1 = groups of at most K consecutive ranks of a node, so that one
 * node can stand in for several (tests). Groups of unequal size would give unequal slices:
 * nn_node_sum_create then falls back to group 1 and says so in *note. */
#ifndef NN_NODE_SUM_H
#define NN_NODE_SUM_H

#include <stddef.h>

#include "real.h"

typedef struct {
  MPI_Comm node;        /* ranks sharing the window */
  MPI_Comm cross;       /* the ranks with this local rank in every group */
  MPI_Win win;
  MPI_Op sum_op;        /* vectorised MPI_SUM over real (see node_sum.c) */
  int local, nlocal;    /* this rank in `node`, its size */
  int ngroups;          /* size of `cross` */
  size_t P;             /* values in the buffer */
  real **seg;           /* nlocal: every local rank's gradient segment, P values each */
  real *mine;           /* this rank's segment: write the local gradient here */
  real *param;          /* P packed parameters, shared by the node */
  size_t lo, hi;        /* this rank's slice [lo, hi) of the buffer */
  real *sum;            /* hi - lo: the global sum of the slice, after nn_node_sum_reduce */
} nn_node_sum;

/* Collective over MPI_COMM_WORLD. Returns 0, or -1 when out of memory (on every rank).
 * *note (may be NULL) receives a line for the user when the groups fell back to 1. */
int nn_node_sum_create(nn_node_sum *s, size_t P, int group, char *note, size_t note_len);

/* Collective. Every segment written -> s->sum holds slice [lo, hi) of the sum over all ranks.
 * Segments may be rewritten after the following nn_node_sum_publish. */
void nn_node_sum_reduce(nn_node_sum *s);

/* Collective: every rank's slice of s->param written -> all of s->param visible to all. */
void nn_node_sum_publish(nn_node_sum *s);

void nn_node_sum_free(nn_node_sum *s);

#endif
