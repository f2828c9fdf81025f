/* The layout of --layer-groups G, one rule for the method that trains by it (resnet_admm.c),
 * the driver that records it (jobs/run_info.c) and the model storage (numerics.c): the L
 * weight layers in G contiguous groups, as even as integer division makes them. */
#ifndef NN_LAYER_GROUPS_H
#define NN_LAYER_GROUPS_H

/* The layers of group g of G: lo..hi (1-based). */
static inline void nn_group_layers(int L, int G, int g, int *lo, int *hi)
{
  *lo = g * L / G + 1;
  *hi = (g + 1) * L / G;
}

/* The layers whose weights rank r of P holds, lo..hi: on G x D ranks (P > 1, not --group-schedule
 * serial) rank r runs group r % G, so its own layers and the next group's first, whose Wbar it
 * receives for its last V step (resnet_admm.c, send_backward); else every layer (G = 1, one
 * rank running every group, or serial: the full state on every rank). */
static inline void nn_rank_layers(int L, int G, int serial, int r, int P, int *lo, int *hi)
{
  *lo = 1, *hi = L;
  if (G <= 1 || serial || P == 1) return;
  nn_group_layers(L, G, r % G, lo, hi);
  if (*hi < L) ++*hi;
}

#endif
