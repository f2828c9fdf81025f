/* Small helpers any file may use, with no numerics and no MPI of their own: the one allocator
 * (zeroed memory, or a CHECK failure naming what could not be allocated) and the widest layer
 * of a network. Built once. */
#ifndef NN_UTIL_H
#define NN_UTIL_H

#include <stddef.h>

/* count elements of size bytes, zeroed; never NULL (fails, naming `what`, when memory runs out).
 * count = 0 still returns a unique pointer that free accepts. */
void *nn_alloc(size_t count, size_t size, const char *what);

/* The largest of n[0..L]: the widths of a network, input first. */
int nn_widest_layer(int L, const int *n);

#endif
