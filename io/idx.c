/* IDX reader; see idx.h. Header: 2 zero bytes, type 0x08 (unsigned byte), ndim, then ndim
 * big-endian 32-bit sizes. For gzip files the trailer's ISIZE (uncompressed length mod 2^32)
 * stands in for the file length, and gzseek skips to the slice. */
#include "idx.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

static int has_gz_suffix(const char *p)
{
  size_t n = strlen(p);
  return n > 3 && strcmp(p + n - 3, ".gz") == 0;
}

static uint32_t be32(const unsigned char *b) { return (uint32_t)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]; }

/* Uncompressed length of a gzip file, mod 2^32, from its last four bytes. */
static int gzip_isize(const char *path, uint32_t *isize)
{
  FILE *fp = fopen(path, "rb");
  unsigned char b[4];
  if (!fp) return -1;
  int ok = fseek(fp, -4, SEEK_END) == 0 && fread(b, 1, 4, fp) == 4;
  fclose(fp);
  if (!ok) return -1;
  *isize = (uint32_t)b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
  return 0;
}

int nn_idx_open(nn_idx *f, const char *path, int expect_ndim, char *err, int errlen)
{
  memset(f, 0, sizeof *f);
  snprintf(f->path, sizeof f->path, "%s", path);
  gzFile gz = gzopen(path, "rb");
  if (!gz) { snprintf(err, errlen, "%s: cannot open (missing file or no permission)", path); return -1; }
  unsigned char h[16];
  int hlen = 4 + 4 * expect_ndim;
  int got = gzread(gz, h, hlen);
  gzclose(gz);
  if (got < 4) { snprintf(err, errlen, "%s: too short for an IDX header (%d bytes)", path, got < 0 ? 0 : got); return -1; }
  if (h[0] != 0 || h[1] != 0 || h[2] != 0x08) {
    snprintf(err, errlen, "%s: not an unsigned-byte IDX file (magic %02x%02x%02x%02x)", path, h[0], h[1], h[2], h[3]);
    return -1;
  }
  if (h[3] != expect_ndim) {
    snprintf(err, errlen, "%s: IDX rank %d, expected %d (%s)", path, h[3], expect_ndim,
             expect_ndim == 3 ? "an image file" : "a label file");
    return -1;
  }
  if (got < hlen) { snprintf(err, errlen, "%s: truncated IDX header", path); return -1; }
  f->ndim = expect_ndim;
  f->count = be32(h + 4);
  f->rows = expect_ndim == 3 ? (int)be32(h + 8) : 1;
  f->cols = expect_ndim == 3 ? (int)be32(h + 12) : 1;
  if (f->count <= 0 || f->rows <= 0 || f->cols <= 0 || (long)f->rows * f->cols > 1L << 24) {
    snprintf(err, errlen, "%s: implausible dimensions %ld x %d x %d", path, f->count, f->rows, f->cols);
    return -1;
  }
  f->sample_size = (long)f->rows * f->cols;
  long expect = hlen + f->count * f->sample_size;
  if (has_gz_suffix(path)) {
    uint32_t isize = 0;
    if (gzip_isize(path, &isize) != 0 || isize != (uint32_t)expect) {
      snprintf(err, errlen, "%s: gzip data holds %u bytes, the header promises %ld (truncated or corrupt)",
               path, isize, expect);
      return -1;
    }
  } else {
    struct stat st;
    if (stat(path, &st) != 0 || st.st_size != expect) {
      snprintf(err, errlen, "%s: file has %lld bytes, the header promises %ld (truncated or corrupt)", path,
               (long long)st.st_size, expect);
      return -1;
    }
  }
  return 0;
}

int nn_idx_read(const nn_idx *f, long first, long count, uint8_t *out, char *err, int errlen)
{
  if (first < 0 || first + count > f->count) {
    snprintf(err, errlen, "%s: samples %ld..%ld requested, the file holds %ld", f->path, first, first + count, f->count);
    return -1;
  }
  long offset = 4 + 4L * f->ndim + first * f->sample_size;
  long bytes = count * f->sample_size;
  gzFile gz = gzopen(f->path, "rb");
  if (!gz) { snprintf(err, errlen, "%s: cannot open", f->path); return -1; }
  gzbuffer(gz, 1 << 17);
  int ok = gzseek(gz, offset, SEEK_SET) == offset;
  long done = 0;
  while (ok && done < bytes) {
    long chunk = bytes - done > (1L << 30) ? (1L << 30) : bytes - done;
    int got = gzread(gz, out + done, (unsigned)chunk);
    if (got <= 0) ok = 0;
    else done += got;
  }
  gzclose(gz);
  if (!ok) { snprintf(err, errlen, "%s: read failed at sample %ld (truncated or corrupt)", f->path, first); return -1; }
  return 0;
}
