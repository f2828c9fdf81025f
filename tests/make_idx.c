/* Writes small IDX files for the tests, deterministic from their arguments:
 *   make_idx images FILE COUNT ROWS COLS [zero|SEED]   pixels from a hash (seeded), or all zero
 *   make_idx labels FILE COUNT CLASSES [BAD]      labels i % CLASSES, sample 0 set to BAD
 * The image content is class-dependent so that a network can learn from it: a bright bar
 * at a position set by the label i % 10. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void be32(FILE *f, uint32_t v)
{
  unsigned char b[4] = { v >> 24, v >> 16, v >> 8, v };
  fwrite(b, 1, 4, f);
}

int main(int argc, char **argv)
{
  if (argc < 5) {
    fprintf(stderr, "usage: make_idx images FILE COUNT ROWS COLS [zero|SEED] | labels FILE COUNT CLASSES [BAD]\n");
    return 2;
  }
  FILE *f = fopen(argv[2], "wb");
  if (!f) { perror(argv[2]); return 1; }
  long count = atol(argv[3]);
  if (strcmp(argv[1], "images") == 0 && argc >= 6) {
    int rows = atoi(argv[4]), cols = atoi(argv[5]), zero = argc > 6 && strcmp(argv[6], "zero") == 0;
    uint32_t h = argc > 6 && !zero ? (uint32_t)strtoul(argv[6], NULL, 10) : 12345;
    unsigned char hdr[4] = { 0, 0, 8, 3 };
    fwrite(hdr, 1, 4, f);
    be32(f, (uint32_t)count); be32(f, (uint32_t)rows); be32(f, (uint32_t)cols);
    for (long i = 0; i < count; i++)
      for (int p = 0; p < rows * cols; p++) {
        h = h * 1103515245u + 12345u;
        int bar = (p % cols) == (int)(i % 10) % cols;
        fputc(zero ? 0 : (int)(((h >> 16) & 63) + (bar ? 180 : 0)), f);
      }
  } else {
    int classes = atoi(argv[4]), bad = argc > 5 ? atoi(argv[5]) : -1;
    unsigned char hdr[4] = { 0, 0, 8, 1 };
    fwrite(hdr, 1, 4, f);
    be32(f, (uint32_t)count);
    for (long i = 0; i < count; i++) fputc(i == 0 && bad >= 0 ? bad : (int)(i % 10) % classes, f);
  }
  return fclose(f) == 0 ? 0 : 1;
}
