/* IDX files (the MNIST format), raw or gzip-compressed (chosen by a ".gz" suffix). Opening
 * refuses anything but a regular file before reading it (a FIFO would block), validates the
 * header and the length, and reads a gzip stream to its end so that zlib checks its CRC and
 * length; reading takes one contiguous slice of samples. Local; errors name the file. */
#ifndef NN_IDX_H
#define NN_IDX_H

#include <stdint.h>

typedef struct {
  char path[1024];
  int ndim;          /* 1 for labels, 3 for images */
  int gzip;          /* 1: the file is a gzip stream (".gz" suffix) */
  long count;        /* samples */
  long sample_size;  /* bytes per sample: rows * cols, or 1 */
  int rows, cols;
} nn_idx;

/* Returns 0 and fills *f, or -1 with a one-line reason (naming the file) in err. */
int nn_idx_open(nn_idx *f, const char *path, int expect_ndim, char *err, int errlen);
/* Reads samples [first, first + count) into out (count * sample_size bytes). */
int nn_idx_read(const nn_idx *f, long first, long count, uint8_t *out, char *err, int errlen);

#endif
