/* Random translations of training images (augment.h). */
#include "augment.h"

#include <math.h>
#include <string.h>

#include "../common/rng.h"

void nn_augment_draw(uint64_t seed, int epoch, long global_index, int radius, int *dx, int *dy)
{
  uint64_t span = 2 * (uint64_t)radius + 1;
  uint64_t stream = NN_AUGMENT_STREAM + (uint64_t)epoch;
  *dx = (int)(nn_rng_u64(seed, stream, 2 * (uint64_t)global_index) % span) - radius;
  *dy = (int)(nn_rng_u64(seed, stream, 2 * (uint64_t)global_index + 1) % span) - radius;
}

static int clamp(int v, int hi)
{
  return v < 0 ? 0 : v > hi ? hi : v;
}

void nn_augment_shift(real *dst, const real *src, int side, int dx, int dy)
{
  for (int r = 0; r < side; r++) {
    const real *row = src + (size_t)clamp(r - dy, side - 1) * side;
    for (int c = 0; c < side; c++) dst[(size_t)r * side + c] = row[clamp(c - dx, side - 1)];
  }
}

void nn_augment_copy(real *dst, const real *src, int pixels, int radius, uint64_t seed, int epoch, long global_index)
{
  if (radius == 0) {
    memcpy(dst, src, sizeof(real) * (size_t)pixels);
    return;
  }
  int dx, dy;
  nn_augment_draw(seed, epoch, global_index, radius, &dx, &dy);
  nn_augment_shift(dst, src, (int)lround(sqrt((double)pixels)), dx, dy); /* the options checked it is a square */
}
