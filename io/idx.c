/* IDX reader; see idx.h. Header: 2 zero bytes, type 0x08 (unsigned byte), ndim, then ndim
 * big-endian 32-bit sizes. A gzip file is decompressed once to its end at opening: zlib checks
 * the CRC and length only there, and a slice that stops short of the end would accept a
 * corrupt file (costs one pass over the data per rank: about 0.3 s for Fashion-MNIST). */
#include "idx.h"
#include "inputs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static int has_gz_suffix(const char *p)
{
  size_t n = strlen(p);
  return n > 3 && strcmp(p + n - 3, ".gz") == 0;
}

static uint32_t be32(const unsigned char *b) { return (uint32_t)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]; }

/* A read-only descriptor of the regular file at path, or -1 with the reason in err. The type
 * is checked by stat before opening (opening a FIFO blocks, opening a device may act on it)
 * and again on the descriptor, so a file swapped in between cannot slip through; O_NONBLOCK
 * keeps that open from blocking. */
static int open_regular(const char *path, char *err, int errlen)
{
  struct stat st;
  if (stat(path, &st) != 0) {
    snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "%s: is %s, not an IDX file", path, nn_file_kind(st.st_mode));
    return -1;
  }
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    return -1;
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "%s: is %s, not an IDX file", path, nn_file_kind(st.st_mode));
    close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

/* The error of a gzip stream that ended early or failed, as a reason naming the file; 0 when
 * the stream ended cleanly. */
static int gzip_error(gzFile gz, const char *path, char *err, int errlen)
{
  int code = Z_OK;
  const char *msg = gzerror(gz, &code);
  if (code == Z_OK || code == Z_STREAM_END) return 0;
  if (code == Z_BUF_ERROR)
    snprintf(err, errlen, "%s: truncated gzip stream", path);
  else if (code == Z_DATA_ERROR && strstr(msg, "incorrect data check"))
    snprintf(err, errlen, "%s: gzip data corrupt (CRC mismatch)", path);
  else if (code == Z_DATA_ERROR && strstr(msg, "incorrect length check"))
    snprintf(err, errlen, "%s: gzip data corrupt (length mismatch)", path);
  else if (code == Z_DATA_ERROR)
    snprintf(err, errlen, "%s: gzip data corrupt (%s)", path, msg);
  else if (code == Z_ERRNO)
    snprintf(err, errlen, "%s: read failed: %s", path, strerror(errno));
  else
    snprintf(err, errlen, "%s: gzip error: %s", path, msg);
  return -1;
}

/* Decompresses the whole gzip stream on fd (taken over), keeping its first hlen bytes in h;
 * *total is the uncompressed length. */
static int gzip_scan(int fd, const char *path, unsigned char *h, int hlen, long *total, char *err, int errlen)
{
  unsigned char magic[2];
  if (pread(fd, magic, 2, 0) != 2 || magic[0] != 0x1f || magic[1] != 0x8b) {
    snprintf(err, errlen, "%s: not a gzip file (the name ends in .gz, the data lacks the gzip magic 1f 8b)", path);
    close(fd);
    return -1;
  }
  gzFile gz = gzdopen(fd, "rb");
  if (!gz) {
    snprintf(err, errlen, "%s: cannot open: out of memory", path);
    close(fd);
    return -1;
  }
  gzbuffer(gz, 1 << 17);
  enum { CHUNK = 1 << 18 };
  unsigned char *buf = malloc(CHUNK);
  int rc = 0, got;
  *total = 0;
  if (!buf) {
    snprintf(err, errlen, "%s: out of memory", path);
    rc = -1;
  }
  while (rc == 0 && (got = gzread(gz, buf, CHUNK)) > 0) {
    for (long i = *total; i < hlen && i < *total + got; i++) h[i] = buf[i - *total];
    *total += got;
  }
  if (rc == 0) rc = gzip_error(gz, path, err, errlen);
  free(buf);
  gzclose(gz);
  return rc;
}

int nn_idx_open(nn_idx *f, const char *path, int expect_ndim, char *err, int errlen)
{
  memset(f, 0, sizeof *f);
  snprintf(f->path, sizeof f->path, "%s", path);
  f->gzip = has_gz_suffix(path);
  int fd = open_regular(path, err, errlen);
  if (fd < 0) return -1;
  unsigned char h[16] = { 0 };
  int hlen = 4 + 4 * expect_ndim;
  long size = 0; /* uncompressed bytes */
  if (f->gzip) {
    if (gzip_scan(fd, path, h, hlen, &size, err, errlen) != 0) return -1;
  } else {
    struct stat st;
    fstat(fd, &st);
    size = (long)st.st_size;
    ssize_t n = pread(fd, h, (size_t)hlen, 0);
    close(fd);
    if (n < 0) { snprintf(err, errlen, "%s: read failed: %s", path, strerror(errno)); return -1; }
  }
  long got = size < hlen ? size : hlen;
  if (got < 4) { snprintf(err, errlen, "%s: too short for an IDX header (%ld bytes)", path, got); return -1; }
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
  if (size != expect) {
    snprintf(err, errlen, "%s: %s %ld bytes, the header promises %ld (truncated or corrupt)", path,
             f->gzip ? "gzip data holds" : "file has", size, expect);
    return -1;
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
  long bytes = count * f->sample_size, done = 0;
  int fd = open_regular(f->path, err, errlen);
  if (fd < 0) return -1;
  int ok = 1;
  if (!f->gzip) {
    while (ok && done < bytes) {
      ssize_t got = pread(fd, out + done, (size_t)(bytes - done), offset + done);
      if (got <= 0) ok = 0;
      else done += got;
    }
    close(fd);
  } else {
    gzFile gz = gzdopen(fd, "rb");
    if (!gz) { close(fd); snprintf(err, errlen, "%s: cannot open: out of memory", f->path); return -1; }
    gzbuffer(gz, 1 << 17);
    ok = gzseek(gz, offset, SEEK_SET) == offset;
    while (ok && done < bytes) {
      long chunk = bytes - done > (1L << 30) ? (1L << 30) : bytes - done;
      int got = gzread(gz, out + done, (unsigned)chunk);
      if (got <= 0) ok = 0;
      else done += got;
    }
    if (!ok && gzip_error(gz, f->path, err, errlen) != 0) { gzclose(gz); return -1; }
    gzclose(gz);
  }
  /* the file changed since it was opened and validated */
  if (!ok) { snprintf(err, errlen, "%s: read failed at sample %ld (truncated or corrupt)", f->path, first); return -1; }
  return 0;
}
