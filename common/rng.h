/* Counter-based random numbers: every value is a pure function of (seed, stream, index), so
 * weights and per-sample draws come out identical whatever the number of ranks and whichever
 * rank draws them. No state, no collective calls. */
#ifndef NN_RNG_H
#define NN_RNG_H

#include <stdint.h>

uint64_t nn_rng_u64(uint64_t seed, uint64_t stream, uint64_t index);
/* Uniform in (0, 1): never exactly 0 or 1. */
double nn_rng_uniform(uint64_t seed, uint64_t stream, uint64_t index);
/* Standard normal (Box-Muller on two counter draws). */
double nn_rng_normal(uint64_t seed, uint64_t stream, uint64_t index);

#endif
