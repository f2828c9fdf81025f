/* --augment R: every epoch, each training image is seen translated by (dx, dy), each drawn
 * uniformly from -R..R, a pure function of (seed, epoch, global sample index): the same shift
 * on every rank and for every rank count, and again after a resume. The pixels a shift
 * uncovers repeat the nearest border pixel (MNIST's and Fashion-MNIST's borders are
 * background). Only the training steps see shifted images; evaluation, validation and the
 * floors read the data as stored. No MPI. */
#ifndef NN_AUGMENT_H
#define NN_AUGMENT_H

#include <stdint.h>

#include "real.h"

/* Stream of the shifts, apart from those listed in shuffle.h. */
#define NN_AUGMENT_STREAM 0x4155474d00000000ULL

/* The shift of sample `global_index` in `epoch`: *dx (columns, + moves right), *dy (rows,
 * + moves down), each in -radius..radius. */
void nn_augment_draw(uint64_t seed, int epoch, long global_index, int radius, int *dx, int *dy);

/* dst = src (a side x side image stored row by row) translated by (dx, dy), border pixels
 * repeated into what it uncovers. dst and src must not overlap. */
void nn_augment_shift(real *dst, const real *src, int side, int dx, int dy);

/* Copies column `global_index` of the training inputs, an image of `pixels` = side x side
 * values, into dst, shifted by its draw for `epoch` (radius 0: a plain copy). */
void nn_augment_copy(real *dst, const real *src, int pixels, int radius, uint64_t seed, int epoch, long global_index);

#endif
