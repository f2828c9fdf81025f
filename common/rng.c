/* SplitMix64 finaliser over a mixed counter: a strong 64-bit hash, enough for initialisation
 * and shuffling (not for cryptography). */
#include "rng.h"

#include <math.h>

static uint64_t mix64(uint64_t z)
{
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t nn_rng_u64(uint64_t seed, uint64_t stream, uint64_t index)
{
  return mix64(mix64(mix64(seed) ^ stream) ^ index);
}

double nn_rng_uniform(uint64_t seed, uint64_t stream, uint64_t index)
{
  /* 53 random bits, shifted by half an ulp so the result lies strictly inside (0, 1). */
  return ((double)(nn_rng_u64(seed, stream, index) >> 11) + 0.5) * 0x1.0p-53;
}

double nn_rng_normal(uint64_t seed, uint64_t stream, uint64_t index)
{
  double u1 = nn_rng_uniform(seed, stream, 2 * index);
  double u2 = nn_rng_uniform(seed, stream, 2 * index + 1);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
