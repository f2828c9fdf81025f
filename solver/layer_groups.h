/* The layout of --layer-groups G, one rule for the method that trains by it (resnet_admm.c)
 * and the driver that records it (jobs/run_info.c): the L weight layers in G contiguous groups,
 * as even as integer division makes them. */
#ifndef NN_LAYER_GROUPS_H
#define NN_LAYER_GROUPS_H

/* The layers of group g of G: lo..hi (1-based). */
static inline void nn_group_layers(int L, int G, int g, int *lo, int *hi)
{
  *lo = g * L / G + 1;
  *hi = (g + 1) * L / G;
}

#endif
