/* Independent checks of a results file against its raw IDX data, for the driver's guards
 * (tests/test_guards.sh). Plain loops in double, no MPI, nothing from the trainer's code:
 *   check_run checksum IMAGES LABELS FIRST COUNT
 *       the split fingerprint of samples [FIRST, FIRST+COUNT) as io/dataset.h defines it
 *   check_run accuracy RESULTS.h5 IMAGES LABELS FIRST COUNT MEAN STD
 *       correct predictions of the weights stored under /weights on those samples,
 *       inputs (pixel/255 - MEAN) / STD, ReLU between layers
 *   check_run column RESULTS.h5 DATASET
 *       the values of a 1-D dataset (e.g. /epochs/val_acc), one per line
 * Prints one number; exits 2 on bad input. */
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *read_idx(const char *path, long first, long count, long *size)
{
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); exit(2); }
  unsigned char h[4];
  if (fread(h, 1, 4, f) != 4) { fprintf(stderr, "%s: short\n", path); exit(2); }
  long dims = h[3], sz = 1, n = 0;
  for (int d = 0; d < dims; d++) {
    unsigned char b[4];
    if (fread(b, 1, 4, f) != 4) exit(2);
    long v = (long)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
    if (d == 0) n = v; else sz *= v;
  }
  if (first + count > n) { fprintf(stderr, "%s: has %ld samples\n", path, n); exit(2); }
  unsigned char *buf = malloc((size_t)(count * sz) + 1);
  fseek(f, (long)(4 + 4 * dims) + first * sz, SEEK_SET);
  if (fread(buf, 1, (size_t)(count * sz), f) != (size_t)(count * sz)) exit(2);
  fclose(f);
  *size = sz;
  return buf;
}

static double *read_dataset(hid_t file, const char *name, hsize_t *dims)
{
  hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
  if (d < 0) return NULL;
  hid_t s = H5Dget_space(d);
  dims[0] = dims[1] = 1;
  H5Sget_simple_extent_dims(s, dims, NULL);
  double *v = malloc(sizeof(double) * dims[0] * dims[1]);
  H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
  H5Sclose(s);
  H5Dclose(d);
  return v;
}

int main(int argc, char **argv)
{
  if (argc == 6 && strcmp(argv[1], "checksum") == 0) {
    long first = atol(argv[4]), count = atol(argv[5]), sz, one;
    unsigned char *px = read_idx(argv[2], first, count, &sz), *lb = read_idx(argv[3], first, count, &one);
    uint64_t sum = 0;
    for (long j = 0; j < count; j++) {
      uint64_t h = 14695981039346656037ull;
      h = (h ^ lb[j]) * 1099511628211ull;
      for (long i = 0; i < sz; i++) h = (h ^ px[j * sz + i]) * 1099511628211ull;
      sum += h;
    }
    printf("%016llx\n", (unsigned long long)sum);
    return 0;
  }
  if (argc == 9 && strcmp(argv[1], "accuracy") == 0) {
    long first = atol(argv[5]), count = atol(argv[6]), sz, one;
    double mean = atof(argv[7]), std = atof(argv[8]);
    unsigned char *px = read_idx(argv[3], first, count, &sz), *lb = read_idx(argv[4], first, count, &one);
    hid_t file = H5Fopen(argv[2], H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) return 2;
    double *W[17], *b[17];
    hsize_t dims[17][2];
    int L = 0;
    for (int l = 1; l <= 16; l++) {
      char name[32];
      snprintf(name, sizeof name, "/weights/W%d", l);
      H5E_BEGIN_TRY { W[l] = read_dataset(file, name, dims[l]); } H5E_END_TRY;
      if (!W[l]) break;
      hsize_t bd[2];
      snprintf(name, sizeof name, "/weights/b%d", l);
      H5E_BEGIN_TRY { b[l] = read_dataset(file, name, bd); } H5E_END_TRY;
      L = l;
    }
    if (L == 0 || (long)dims[1][1] != sz) { fprintf(stderr, "no weights matching %ld inputs\n", sz); return 2; }
    long correct = 0, wmax = sz;
    for (int l = 1; l <= L; l++) wmax = (long)dims[l][0] > wmax ? (long)dims[l][0] : wmax;
    double *in = malloc(sizeof(double) * wmax), *out = malloc(sizeof(double) * wmax);
    for (long j = 0; j < count; j++) {
      for (long i = 0; i < sz; i++) in[i] = (px[j * sz + i] / 255.0 - mean) / std;
      for (int l = 1; l <= L; l++) {
        long rows = (long)dims[l][0], cols = (long)dims[l][1]; /* row r: the weights into unit r */
        for (long r = 0; r < rows; r++) {
          double z = b[l] ? b[l][r] : 0;
          for (long c = 0; c < cols; c++) z += W[l][r * cols + c] * in[c];
          out[r] = l < L && z < 0 ? 0 : z;
        }
        double *t = in; in = out; out = t;
      }
      long best = 0;
      for (long r = 1; r < (long)dims[L][0]; r++)
        if (in[r] > in[best]) best = r;
      correct += best == lb[j];
    }
    printf("%ld\n", correct);
    H5Fclose(file);
    return 0;
  }
  if (argc == 4 && strcmp(argv[1], "column") == 0) {
    hid_t file = H5Fopen(argv[2], H5F_ACC_RDONLY, H5P_DEFAULT);
    hsize_t dims[2];
    double *v = file < 0 ? NULL : read_dataset(file, argv[3], dims);
    if (!v) return 2;
    for (hsize_t i = 0; i < dims[0]; i++) printf("%.17g\n", v[i]);
    return 0;
  }
  fprintf(stderr, "usage: check_run checksum IMAGES LABELS FIRST COUNT | accuracy RESULTS IMAGES LABELS FIRST COUNT MEAN STD | column RESULTS DATASET\n");
  return 2;
}
