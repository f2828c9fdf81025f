/* Checkpoint files; see checkpoint.h (its integrity paragraph defines the checksums).
 *
 * Layout of a file: root attributes format, format_version, index_checksum and the caller's;
 * the caller's datasets and groups by name, each dataset with its attribute checksum; the
 * dataset checkpoint_index (text, one line per item in writing order):
 *   int NAME HEX | double NAME HEX | string NAME HEX
 *   array NAME TYPE D0,D1,... HEX | columns NAME TYPE N_GLOBAL,ROWS HEX
 *
 * The collective discipline is results.c's: after every collective HDF5 call the ranks agree
 * that it succeeded everywhere before any rank makes the next one, since a rank that went on
 * alone would wait in the next collective call for ever. Unlike results.c a failure does not
 * end the run: agree() tells every rank the lowest failing rank's line, the handle turns
 * failed on all of them at once, and every later call returns -1 without touching HDF5 (so
 * the ranks can never disagree about which HDF5 calls they make). A checkpoint that cannot
 * be written costs the checkpoint, not the run: the caller decides.
 *
 * A full disk: HDF5 1.10 was seen never to return from a collective call that failed on one
 * rank only. So the space of each dataset is reserved before it is written (reserve(): a full
 * disk then fails one plain system call, and the ranks agree on it), a failed file is emptied
 * before its collective close (discard()), and each public function is one region watched by
 * io_failure.h's watchdog, which ends the run if HDF5 still never returns.
 *
 * Data moves collectively (H5FD_MPIO_COLLECTIVE); replicated arrays are written by rank 0
 * with the other ranks selecting nothing, and read by every rank. Metadata reads at open are
 * independent, so a rank that fails one cannot block the others. */
#define _GNU_SOURCE /* O_DIRECTORY, fallocate */
#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/check.h"
#include "io_failure.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "checkpoint checksums hash memory as the file's little-endian bytes: add a byte swap for this target"
#endif

enum { NAME_MAX_LEN = 200, PATH_LEN = 1100, MSG_LEN = 1400 };

/* Kinds of item: attributes by value type, then the two kinds of dataset. */
enum { K_INT = 'i', K_DOUBLE = 'd', K_STRING = 's', K_ARRAY = 'a', K_COLUMNS = 'c' };

typedef struct {
  char kind;
  nn_ck_type type;                 /* datasets */
  int ndims;                       /* datasets; columns: 2, {n_global, rows} */
  int64_t dims[NN_CKPT_MAX_DIMS];
  uint64_t sum;                    /* checksum of the value or the data */
  int64_t i;                       /* attribute values, cached at open (already verified) */
  double d;
  char *s;
  char name[NAME_MAX_LEN + 1];
} item;

struct nn_ckpt {
  char path[PATH_LEN], tmp[PATH_LEN + 32];
  MPI_Comm comm;
  int me, np, writing;
  int created;       /* PATH.tmp.PID exists and is ours to remove */
  int in_begin;      /* writing the format attributes, which the index does not list */
  haddr_t end;       /* the end of the last dataset's storage in the file (reserve()) */
  hid_t file, dxpl;
  int ok;            /* the same on every rank at every function boundary */
  char msg[MSG_LEN]; /* the first failure: "PATH: problem" */
  item *items;
  int n, cap;
};

static const struct { const char *name; size_t size; } ck_types[] = {
  [NN_CK_F64] = { "float64", 8 }, [NN_CK_F32] = { "float32", 4 }, [NN_CK_I64] = { "int64", 8 },
  [NN_CK_I32] = { "int32", 4 },   [NN_CK_U8] = { "uint8", 1 },
};
enum { NTYPES = sizeof ck_types / sizeof ck_types[0] };

static int valid_type(nn_ck_type t) { return (unsigned)t < NTYPES; }

static hid_t file_type(nn_ck_type t)
{
  switch (t) {
  case NN_CK_F64: return H5T_IEEE_F64LE;
  case NN_CK_F32: return H5T_IEEE_F32LE;
  case NN_CK_I64: return H5T_STD_I64LE;
  case NN_CK_I32: return H5T_STD_I32LE;
  default: return H5T_STD_U8LE;
  }
}

static hid_t mem_type(nn_ck_type t)
{
  switch (t) {
  case NN_CK_F64: return H5T_NATIVE_DOUBLE;
  case NN_CK_F32: return H5T_NATIVE_FLOAT;
  case NN_CK_I64: return H5T_NATIVE_INT64;
  case NN_CK_I32: return H5T_NATIVE_INT32;
  default: return H5T_NATIVE_UINT8;
  }
}

/* ---- checksums (the definition is in checkpoint.h) ---------------------------------------- */

static const uint64_t FNV_OFFSET = 0xcbf29ce484222325ULL, FNV_PRIME = 0x100000001b3ULL;

static uint64_t fmix64(uint64_t k)
{
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

/* Word-wise rather than byte-wise FNV: one multiply per 8 bytes keeps the hash of a 117 MB
 * column matrix near memory speed. Each step is a bijection of h (xor, then a multiply by an
 * odd number mod 2^64), so changing one word always changes the result. */
static uint64_t ck_hash(uint64_t index, const void *p, size_t n)
{
  const unsigned char *b = p;
  uint64_t h = (FNV_OFFSET ^ index) * FNV_PRIME, w;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    memcpy(&w, b + i, 8);
    h = (h ^ w) * FNV_PRIME;
  }
  w = 0;
  if (i < n) memcpy(&w, b + i, n - i);
  h = (h ^ w) * FNV_PRIME;
  h = (h ^ (uint64_t)n) * FNV_PRIME;
  return fmix64(h);
}

/* Sum mod 2^64 over columns first..first+n-1, each colbytes long: independent of the split. */
static uint64_t columns_sum(const void *data, size_t colbytes, int64_t first, int64_t n)
{
  uint64_t s = 0;
  for (int64_t j = 0; j < n; j++) s += ck_hash((uint64_t)(first + j), (const char *)data + (size_t)j * colbytes, colbytes);
  return s;
}

/* ---- failures and agreement ------------------------------------------------------------ */

__attribute__((format(printf, 2, 3))) static void fail(nn_ckpt *c, const char *fmt, ...)
{
  if (!c->ok) return;
  c->ok = 0;
  char m[MSG_LEN - PATH_LEN - 4];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(m, sizeof m, fmt, ap);
  va_end(ap);
  snprintf(c->msg, sizeof c->msg, "%s: %s", c->path, m);
}

/* A failed HDF5 call on this rank: the system's reason (io_failure.h) and what was done. */
static void failed_h5(nn_ckpt *c, const char *what, int errno_after)
{
  if (!c->ok) return;
  char why[700];
  nn_io_reason(why, sizeof why, errno_after);
  if (c->writing) fail(c, "%s (%s, writing %s)", why, what, c->tmp);
  else fail(c, "%s (%s)", why, what);
}

/* Runs one HDF5 call; a negative result records why on this rank (the first failure only).
 * errno is cleared first so that a value left by an earlier, harmless call is not blamed. */
#define TRY(c, what, call) \
  do { errno = 0; if ((long long)(call) < 0) failed_h5((c), (what), errno); } while (0)

/* Collective: 0 when every rank is ok; else every rank takes the lowest failing rank's line
 * and the handle is failed everywhere. */
static int agree(nn_ckpt *c)
{
  int first = c->ok ? c->np : c->me;
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN, c->comm));
  if (first == c->np) return 0;
  CHECK_MPI(MPI_Bcast(c->msg, MSG_LEN, MPI_CHAR, first, c->comm));
  c->msg[MSG_LEN - 1] = 0;
  c->ok = 0;
  return -1;
}

/* Every public call after the first is one watched region: enter ... leave. */
static int enter(nn_ckpt *c, const char *what, const char *name)
{
  if (!c->ok) return -1;
  char region[300];
  snprintf(region, sizeof region, "%s %s%.200s", c->writing ? "writing checkpoint" : "reading checkpoint", what,
           name ? name : ""); /* the watchdog keeps 200 characters */
  nn_io_watch_begin(c->writing ? c->tmp : c->path, region);
  return 0;
}

static int leave(nn_ckpt *c)
{
  int rc = agree(c);
  nn_io_watch_end();
  return rc;
}

/* ---- names and the item list ----------------------------------------------------------- */

static item *find(const nn_ckpt *c, const char *name)
{
  for (int i = 0; i < c->n; i++)
    if (strcmp(c->items[i].name, name) == 0) return &c->items[i];
  return NULL;
}

static item *add_item(nn_ckpt *c, const char *name, char kind)
{
  if (c->n == c->cap) {
    int cap = c->cap ? 2 * c->cap : 32;
    item *p = realloc(c->items, (size_t)cap * sizeof *p);
    CHECK(p, "out of memory (checkpoint index of %d items)", cap);
    c->items = p;
    c->cap = cap;
  }
  item *e = &c->items[c->n++];
  memset(e, 0, sizeof *e);
  e->kind = kind;
  snprintf(e->name, sizeof e->name, "%s", name);
  return e;
}

static const char *const reserved[] = { "format", "format_version", "index_checksum", "checkpoint_index" };

/* 1 if name may name a new item; otherwise records why on this rank. */
static int new_name(nn_ckpt *c, const char *name)
{
  if (!name || !*name) { fail(c, "an item without a name"); return 0; }
  size_t len = strlen(name);
  int ok = len <= NAME_MAX_LEN && name[0] != '/' && name[len - 1] != '/' && !strstr(name, "//");
  for (const char *p = name; ok && *p; p++)
    ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("_.-/", *p);
  for (const char *p = name; ok && p; p = strchr(p, '/'), p = p ? p + 1 : NULL) /* no "." or ".." component */
    ok = !(p[0] == '.' && (p[1] == 0 || p[1] == '/' || (p[1] == '.' && (p[2] == 0 || p[2] == '/'))));
  if (!ok) {
    fail(c, "'%.*s': not a valid item name (A-Z a-z 0-9 _ . - and inner single slashes, at most %d characters)", 220,
         name, NAME_MAX_LEN);
    return 0;
  }
  for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
    if (strcmp(name, reserved[i]) == 0) { fail(c, "'%s': a reserved name", name); return 0; }
  if (find(c, name)) { fail(c, "'%s' written twice", name); return 0; }
  return 1;
}

/* Collective: every rank holds rank 0's v[0..n) in ref; 1 if its own equal them. */
static int same_as_rank0(nn_ckpt *c, const int64_t *v, int64_t *ref, int n)
{
  memcpy(ref, v, (size_t)n * sizeof *v);
  CHECK_MPI(MPI_Bcast(ref, n, MPI_INT64_T, 0, c->comm));
  return memcmp(ref, v, (size_t)n * sizeof *v) == 0;
}

static int64_t name_hash(const char *name) { return (int64_t)ck_hash(0, name ? name : "", name ? strlen(name) : 0); }

/* Collective: creates the groups above name ("a/b/x": a and a/b) where missing. */
static void make_parents(nn_ckpt *c, const char *name)
{
  char prefix[NAME_MAX_LEN + 1], what[NAME_MAX_LEN + 32];
  for (const char *s = strchr(name, '/'); s && c->ok; s = strchr(s + 1, '/')) {
    snprintf(prefix, sizeof prefix, "%.*s", (int)(s - name), name);
    snprintf(what, sizeof what, "H5Lexists %s", prefix);
    htri_t exists = -1;
    TRY(c, what, exists = H5Lexists(c->file, prefix, H5P_DEFAULT));
    if (agree(c) || exists > 0) continue;
    hid_t g = -1;
    snprintf(what, sizeof what, "H5Gcreate %s", prefix);
    TRY(c, what, g = H5Gcreate2(c->file, prefix, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    if (g >= 0) TRY(c, what, H5Gclose(g));
    agree(c);
  }
}

/* Splits "a/b/x" into the group "a/b" (or "/") and the last component "x". */
static void split_name(const char *name, char *group, size_t glen, const char **last)
{
  const char *s = strrchr(name, '/');
  if (s) snprintf(group, glen, "%.*s", (int)(s - name), name);
  else snprintf(group, glen, "/");
  *last = s ? s + 1 : name;
}

/* ---- writing --------------------------------------------------------------------------- */

static nn_ckpt *new_handle(const char *path, MPI_Comm comm, int writing)
{
  nn_ckpt *c = calloc(1, sizeof *c);
  CHECK(c, "out of memory");
  c->ok = 1;
  c->writing = writing;
  c->file = c->dxpl = -1;
  /* our own communicator: no message of ours can match one of the caller's */
  CHECK_MPI(MPI_Comm_dup(comm, &c->comm));
  CHECK_MPI(MPI_Comm_rank(c->comm, &c->me));
  CHECK_MPI(MPI_Comm_size(c->comm, &c->np));
  snprintf(c->path, sizeof c->path, "%s", path ? path : "");
  if (!path || !*path || strlen(path) >= PATH_LEN - 1) {
    snprintf(c->path, sizeof c->path, "checkpoint");
    fail(c, "no path, or a path longer than %d characters", PATH_LEN - 2);
  }
  return c;
}

static void free_handle(nn_ckpt *c)
{
  for (int i = 0; i < c->n; i++) free(c->items[i].s);
  free(c->items);
  CHECK_MPI(MPI_Comm_free(&c->comm));
  free(c);
}

static void copy_error(const nn_ckpt *c, char *err, size_t errlen)
{
  if (err && errlen) snprintf(err, errlen, "%s", c->ok ? "" : c->msg);
}

/* MPICH 4.0.2 (Debian 12) releases the MPI_FILE_NULL error handler that a file inherited each
 * time the file is closed, but takes no reference when the file is opened: with io_failure.h's
 * handler installed, the third MPI-IO file opened and closed in a process aborted inside
 * MPI_File_close (assertion ref_count >= 0; met by tests/test_checkpoint, reproduced with bare
 * MPI_File_open/close). One reference taken before each open pays for that close. Where MPI
 * counts correctly it leaks a reference to a handler that lives as long as the process. */
static void pay_for_close(void)
{
  MPI_Errhandler e;
  CHECK_MPI(MPI_File_get_errhandler(MPI_FILE_NULL, &e));
}

/* Collective: the file access list for MPI-IO on c->comm; -1 after a failure. */
static hid_t mpio_fapl(nn_ckpt *c)
{
  hid_t fapl = -1;
  TRY(c, "H5Pcreate", fapl = H5Pcreate(H5P_FILE_ACCESS));
  if (fapl >= 0) TRY(c, "H5Pset_fapl_mpio", H5Pset_fapl_mpio(fapl, c->comm, MPI_INFO_NULL));
  return fapl;
}

/* Collective: installs io_failure.h's MPI-IO error handler (the system's reasons) and
 * silences HDF5's own error printing: failures are reported once, by us. */
static void io_setup(nn_ckpt *c)
{
  char why[600] = "";
  if (nn_io_init(why, sizeof why) != 0) fail(c, "%s", why);
  TRY(c, "H5Eset_auto2", H5Eset_auto2(H5E_DEFAULT, NULL, NULL));
}

nn_ckpt *nn_ckpt_begin(const char *path, MPI_Comm comm, char *err, size_t errlen)
{
  nn_ckpt *c = new_handle(path, comm, 1);
  long pid = (long)getpid();
  CHECK_MPI(MPI_Bcast(&pid, 1, MPI_LONG, 0, c->comm));
  snprintf(c->tmp, sizeof c->tmp, "%s.tmp.%ld", c->path, pid);
  if (agree(c) == 0 && enter(c, "creating ", c->tmp) == 0) {
    io_setup(c);
    if (c->me == 0) {
      /* rename would fail only at commit, after all the writing */
      struct stat st;
      if (lstat(c->path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
        fail(c, "exists and is not a regular file");
      /* our own name, so left by a dead process with our pid: exclusive creation below
       * (O_CREAT|O_EXCL, which never follows a link) needs it gone */
      if (unlink(c->tmp) != 0 && errno != ENOENT) fail(c, "cannot remove the stale %s: %s", c->tmp, strerror(errno));
    }
    if (agree(c) == 0) {
      hid_t fapl = mpio_fapl(c);
      if (agree(c) == 0) {
        pay_for_close();
        errno = 0;
        c->file = H5Fcreate(c->tmp, H5F_ACC_EXCL, H5P_DEFAULT, fapl);
        if (c->file < 0) failed_h5(c, "H5Fcreate", errno);
      }
      c->created = 1; /* on some ranks at least: from here on a failure removes it */
      if (fapl >= 0) TRY(c, "H5Pclose", H5Pclose(fapl));
      TRY(c, "H5Pcreate", c->dxpl = H5Pcreate(H5P_DATASET_XFER));
      if (c->dxpl >= 0) TRY(c, "H5Pset_dxpl_mpio", H5Pset_dxpl_mpio(c->dxpl, H5FD_MPIO_COLLECTIVE));
    }
    leave(c);
  }
  if (c->ok) {
    /* the format first, so that a reader can tell what the file is before anything else; they
     * are checked by name at open, not listed in the index */
    c->in_begin = 1;
    nn_ckpt_put_string(c, "format", NN_CKPT_FORMAT);
    nn_ckpt_put_int(c, "format_version", NN_CKPT_FORMAT_VERSION);
    c->in_begin = 0;
  }
  if (c->ok) return c;
  copy_error(c, err, errlen);
  nn_ckpt_abort(c);
  return NULL;
}

/* Collective: creates attribute `name` on obj (root or a group) holding one int64, float64 or
 * variable-length UTF-8 string. */
static void write_attr(nn_ckpt *c, hid_t obj, const char *name, const char *label, char kind, int64_t i, double d,
                       const char *s)
{
  hid_t space = -1, type = -1, attr = -1;
  char what[NAME_MAX_LEN * 2 + 40];
  snprintf(what, sizeof what, "H5Acreate %s", label);
  TRY(c, what, space = H5Screate(H5S_SCALAR));
  if (kind == K_STRING) {
    TRY(c, what, type = H5Tcopy(H5T_C_S1));
    TRY(c, what, H5Tset_size(type, H5T_VARIABLE));
    TRY(c, what, H5Tset_cset(type, H5T_CSET_UTF8));
  } else {
    TRY(c, what, type = H5Tcopy(kind == K_INT ? H5T_STD_I64LE : H5T_IEEE_F64LE));
  }
  if (c->ok) TRY(c, what, attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT));
  snprintf(what, sizeof what, "H5Awrite %s", label);
  if (c->ok && kind == K_STRING) TRY(c, what, H5Awrite(attr, type, &s));
  else if (c->ok) TRY(c, what, H5Awrite(attr, kind == K_INT ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE,
                                        kind == K_INT ? (const void *)&i : (const void *)&d));
  if (attr >= 0) TRY(c, what, H5Aclose(attr));
  if (type >= 0) TRY(c, what, H5Tclose(type));
  if (space >= 0) TRY(c, what, H5Sclose(space));
}

/* One attribute of the caller's; rank 0's value is broadcast, so every rank writes the same
 * (HDF5 requires identical metadata on every rank). */
static int put_attr(nn_ckpt *c, const char *name, char kind, int64_t i, double d, const char *s)
{
  if (enter(c, "attribute ", name) < 0) return -1;
  if (!c->in_begin) new_name(c, name); /* nn_ckpt_begin writes the reserved format attributes */
  if (kind == K_STRING && c->me == 0 && !s) fail(c, "'%s': no string on rank 0", name);
  int64_t v[3] = { name_hash(name), kind, kind == K_STRING && c->me == 0 && s ? (int64_t)strlen(s) : 0 }, ref[3];
  if (!same_as_rank0(c, v, ref, 2)) fail(c, "'%s': the ranks name different items (rank %d differs from rank 0)", name, c->me);
  ref[2] = v[2];
  CHECK_MPI(MPI_Bcast(&ref[2], 1, MPI_INT64_T, 0, c->comm));
  char *str = NULL;
  if (kind == K_STRING) {
    /* rank 0 may have failed (no string): length 0 then, and the agree below stops everyone */
    str = malloc((size_t)ref[2] + 1);
    CHECK(str, "out of memory (a string attribute of %lld bytes)", (long long)ref[2]);
    if (c->me == 0 && ref[2]) memcpy(str, s, (size_t)ref[2]);
    str[ref[2]] = 0;
    if (ref[2]) CHECK_MPI(MPI_Bcast(str, (int)ref[2], MPI_CHAR, 0, c->comm));
  } else if (kind == K_INT) {
    CHECK_MPI(MPI_Bcast(&i, 1, MPI_INT64_T, 0, c->comm));
  } else {
    CHECK_MPI(MPI_Bcast(&d, 1, MPI_DOUBLE, 0, c->comm));
  }
  if (agree(c) == 0) make_parents(c, name);
  if (c->ok) {
    char group[NAME_MAX_LEN + 2];
    const char *last;
    split_name(name, group, sizeof group, &last);
    hid_t g = -1;
    TRY(c, "H5Gopen", g = H5Gopen2(c->file, group, H5P_DEFAULT));
    if (agree(c) == 0) write_attr(c, g, last, name, kind, i, d, str);
    if (g >= 0) TRY(c, "H5Gclose", H5Gclose(g));
  }
  if (leave(c) == 0 && !c->in_begin) {
    item *e = add_item(c, name, kind);
    e->i = i;
    e->d = d;
    e->sum = kind == K_STRING ? ck_hash(0, str, strlen(str)) : ck_hash(0, kind == K_INT ? (void *)&i : (void *)&d, 8);
  }
  free(str);
  return c->ok ? 0 : -1;
}

int nn_ckpt_put_int(nn_ckpt *c, const char *name, int64_t v) { return put_attr(c, name, K_INT, v, 0, NULL); }
int nn_ckpt_put_double(nn_ckpt *c, const char *name, double v) { return put_attr(c, name, K_DOUBLE, 0, v, NULL); }
int nn_ckpt_put_string(nn_ckpt *c, const char *name, const char *v) { return put_attr(c, name, K_STRING, 0, 0, v); }

/* Bytes of ndims dims of type t, or 0 with a failure recorded (negative, overflowing). */
static size_t byte_count(nn_ckpt *c, const char *name, nn_ck_type t, int ndims, const int64_t *dims)
{
  size_t n = ck_types[t].size;
  for (int k = 0; k < ndims; k++) {
    if (dims[k] < 0) { fail(c, "'%s': negative dimension %lld", name, (long long)dims[k]); return 0; }
    if (dims[k] && n > SIZE_MAX / (size_t)dims[k]) { fail(c, "'%s': too large", name); return 0; }
    n *= (size_t)dims[k];
  }
  return n;
}

/* Rank 0: reserves the file's blocks from 0 to the end of the last dataset created plus
 * RESERVE_SLACK (Linux fallocate, FALLOC_FL_KEEP_SIZE: the size HDF5 sees is unchanged; HDF5
 * 1.10's H5Fget_filesize and H5Fget_eoa both fail with the MPI-IO driver, so the end is the
 * datasets' own: parallel HDF5 allocates their space at creation), so that a full disk
 * or quota shows here, in one plain system call whose failure every rank then learns at the
 * next agree(), and not inside a collective HDF5 write or flush that fails on one rank only:
 * HDF5 1.10 then left the other ranks waiting in the call for ever (see discard). Called after
 * each dataset is created (its space is allocated then) and before the final flush; the slack
 * covers the metadata HDF5 allocates afterwards. A file system without fallocate for this
 * (EOPNOTSUPP: NFS before 4.2, older Lustre) gets no reservation and HDF5's own errors.
 * Test hook: ADMM_TEST_CKPT_NO_RESERVE=1 skips it, so that tests/test_checkpoint_disk.sh can
 * also exercise the failure of a collective HDF5 write itself. */
enum { RESERVE_SLACK = 64 * 1024 };

static void reserve(nn_ckpt *c, hid_t d)
{
  static int skip = -1;
  if (skip < 0) {
    const char *e = getenv("ADMM_TEST_CKPT_NO_RESERVE");
    skip = e && strcmp(e, "1") == 0;
  }
  if (c->me != 0 || !c->ok || skip) return;
  haddr_t at = d >= 0 ? H5Dget_offset(d) : HADDR_UNDEF; /* undefined: no storage (empty) */
  if (at != HADDR_UNDEF && at + H5Dget_storage_size(d) > c->end) c->end = at + H5Dget_storage_size(d);
  int fd = open(c->tmp, O_WRONLY | O_CLOEXEC);
  off_t len = (off_t)c->end + RESERVE_SLACK;
  if (fd < 0) fail(c, "cannot open %s to reserve its space: %s", c->tmp, strerror(errno));
  else if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, len) != 0 && errno != EOPNOTSUPP && errno != ENOSYS)
    fail(c, "%s (reserving %lld bytes for %s)", strerror(errno), (long long)len, c->tmp);
  if (fd >= 0) (void)close(fd); /* nothing was written through it */
}

/* Collective: creates dataset name (type t, HDF5 dims) with no fill (every element is written
 * next, and a parallel fill would write everything twice), and reserves its space. */
static hid_t create_dataset(nn_ckpt *c, const char *name, nn_ck_type t, int ndims, const int64_t *dims)
{
  hsize_t hd[NN_CKPT_MAX_DIMS];
  for (int k = 0; k < ndims; k++) hd[k] = (hsize_t)dims[k];
  char what[NAME_MAX_LEN + 32];
  snprintf(what, sizeof what, "H5Dcreate %s", name);
  hid_t space = -1, dcpl = -1, d = -1;
  TRY(c, what, space = H5Screate_simple(ndims, hd, NULL));
  TRY(c, what, dcpl = H5Pcreate(H5P_DATASET_CREATE));
  TRY(c, what, H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER));
  if (c->ok) TRY(c, what, d = H5Dcreate2(c->file, name, file_type(t), space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
  if (dcpl >= 0) TRY(c, what, H5Pclose(dcpl));
  if (space >= 0) TRY(c, what, H5Sclose(space));
  reserve(c, d);
  return d;
}

/* Collective: the dataset's checksum attribute, then closes it; agrees. */
static void finish_dataset(nn_ckpt *c, hid_t d, const char *name, uint64_t sum)
{
  char hex[17], label[NAME_MAX_LEN + 16];
  snprintf(hex, sizeof hex, "%016" PRIx64, sum);
  snprintf(label, sizeof label, "%s checksum", name);
  if (c->ok) write_attr(c, d, "checksum", label, K_STRING, 0, 0, hex);
  if (d >= 0) TRY(c, "H5Dclose", H5Dclose(d));
}

int nn_ckpt_put_array(nn_ckpt *c, const char *name, nn_ck_type type, int ndims, const int64_t *dims,
                      const void *data)
{
  if (enter(c, "array ", name) < 0) return -1;
  size_t bytes = 0;
  int64_t v[3 + NN_CKPT_MAX_DIMS] = { 0 }, ref[3 + NN_CKPT_MAX_DIMS];
  if (new_name(c, name)) {
    if (!valid_type(type)) fail(c, "'%s': unknown element type %d", name, (int)type);
    else if (ndims < 1 || ndims > NN_CKPT_MAX_DIMS || !dims) fail(c, "'%s': %d dimensions (1 to %d)", name, ndims, NN_CKPT_MAX_DIMS);
    else bytes = byte_count(c, name, type, ndims, dims);
    if (c->ok && c->me == 0 && bytes && !data) fail(c, "'%s': no data on rank 0", name);
  }
  v[0] = name_hash(name);
  v[1] = type;
  v[2] = c->ok ? ndims : 0;
  for (int k = 0; c->ok && k < ndims; k++) v[3 + k] = dims[k];
  if (!same_as_rank0(c, v, ref, 3 + NN_CKPT_MAX_DIMS))
    fail(c, "'%s': the ranks pass different names, types or shapes (rank %d differs from rank 0)", name, c->me);
  uint64_t sum = c->me == 0 && c->ok ? ck_hash(0, data, bytes) : 0;
  CHECK_MPI(MPI_Bcast(&sum, 1, MPI_UINT64_T, 0, c->comm));
  hid_t d = -1;
  if (agree(c) == 0) make_parents(c, name);
  if (c->ok) d = create_dataset(c, name, type, ndims, dims);
  /* an empty dataset has no storage to write to (HDF5 fails on one): rank 0 then writes nothing */
  if (agree(c) == 0 && bytes) {
    char what[NAME_MAX_LEN + 32];
    snprintf(what, sizeof what, "H5Dwrite %s", name);
    hid_t space = -1;
    TRY(c, what, space = H5Dget_space(d));
    if (c->me != 0) TRY(c, what, H5Sselect_none(space)); /* rank 0 writes it all */
    if (c->ok) TRY(c, what, H5Dwrite(d, mem_type(type), space, space, c->dxpl, c->me == 0 && data ? data : (void *)&sum));
    if (space >= 0) TRY(c, what, H5Sclose(space));
    agree(c);
  }
  finish_dataset(c, d, name, sum);
  if (leave(c) == 0) {
    item *e = add_item(c, name, K_ARRAY);
    e->type = type;
    e->ndims = ndims;
    memcpy(e->dims, dims, (size_t)ndims * sizeof *dims);
    e->sum = sum;
  }
  return c->ok ? 0 : -1;
}

static int cmp_range(const void *a, const void *b)
{
  const int64_t *x = a, *y = b;
  return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* Collective: every rank learns every rank's (name, type, rows, n_global, first, n_local) and
 * checks that they name one matrix and that the ranges cover 0..n_global-1 exactly once. The
 * verdict is reached by each rank from the same data, so it is the same everywhere. */
static void check_cover(nn_ckpt *c, const char *name, nn_ck_type type, int64_t rows, int64_t n_global, int64_t first,
                        int64_t n_local)
{
  enum { F = 6 };
  int64_t mine[F] = { name_hash(name), type, rows, n_global, first, n_local };
  int64_t *all = malloc((size_t)c->np * F * sizeof *all), *ranges = malloc((size_t)c->np * 2 * sizeof *ranges);
  CHECK(all && ranges, "out of memory (checkpoint ranges of %d ranks)", c->np);
  CHECK_MPI(MPI_Allgather(mine, F, MPI_INT64_T, all, F, MPI_INT64_T, c->comm));
  int nr = 0;
  for (int r = 0; r < c->np; r++) {
    const int64_t *a = all + (size_t)r * F;
    if (memcmp(a, all, 4 * sizeof *a) != 0) {
      fail(c, "'%s': the ranks pass different names, types or shapes (rank %d: %s, %lld rows of %lld; rank 0: %s, "
           "%lld rows of %lld)", name, r, valid_type((nn_ck_type)a[1]) ? ck_types[a[1]].name : "?", (long long)a[2],
           (long long)a[3], valid_type((nn_ck_type)all[1]) ? ck_types[all[1]].name : "?", (long long)all[2], (long long)all[3]);
      break;
    }
    if (a[5] < 0 || a[4] < 0) {
      fail(c, "'%s': rank %d holds columns [%lld, +%lld)", name, r, (long long)a[4], (long long)a[5]);
      break;
    }
    if (a[5] > 0) { ranges[2 * nr] = a[4]; ranges[2 * nr + 1] = a[5]; nr++; }
  }
  if (c->ok) {
    qsort(ranges, (size_t)nr, 2 * sizeof *ranges, cmp_range);
    int64_t next = 0;
    for (int k = 0; k < nr && c->ok; k++) {
      if (ranges[2 * k] != next)
        fail(c, "'%s': the ranks' columns do not cover 0..%lld exactly once (%s at column %lld)", name,
             (long long)n_global - 1, ranges[2 * k] > next ? "a gap" : "an overlap", (long long)next);
      next = ranges[2 * k] + ranges[2 * k + 1];
    }
    if (c->ok && next != n_global)
      fail(c, "'%s': the ranks' columns do not cover 0..%lld exactly once (they end at %lld)", name,
           (long long)n_global - 1, (long long)next - 1);
  }
  free(ranges);
  free(all);
}

/* The file and memory selections of columns [first, first + n_local) of an (n_global, rows)
 * dataset d; a rank with nothing selects nothing. */
static void select_columns(nn_ckpt *c, hid_t d, const char *what, int64_t rows, int64_t first, int64_t n_local,
                           hid_t *fspace, hid_t *mspace)
{
  hsize_t start[2] = { (hsize_t)first, 0 }, count[2] = { (hsize_t)n_local, (hsize_t)rows };
  hsize_t m = (hsize_t)n_local * (hsize_t)rows;
  TRY(c, what, *fspace = H5Dget_space(d));
  TRY(c, what, *mspace = H5Screate_simple(1, &m, NULL));
  if (!c->ok) return;
  if (m) TRY(c, what, H5Sselect_hyperslab(*fspace, H5S_SELECT_SET, start, NULL, count, NULL));
  else {
    TRY(c, what, H5Sselect_none(*fspace));
    TRY(c, what, H5Sselect_none(*mspace));
  }
}

/* Checks the local part of a columns call; returns its bytes per column (0 after a failure). */
static size_t column_bytes(nn_ckpt *c, const char *name, nn_ck_type type, int64_t rows, int64_t n_global,
                           int64_t first, int64_t n_local, const void *data)
{
  if (!valid_type(type)) { fail(c, "'%s': unknown element type %d", name, (int)type); return 0; }
  if (rows < 0 || n_global < 0 || first < 0 || n_local < 0 || first > n_global - n_local) {
    fail(c, "'%s': columns [%lld, +%lld) of %lld x %lld", name, (long long)first, (long long)n_local,
         (long long)rows, (long long)n_global);
    return 0;
  }
  int64_t dims[2] = { n_local, rows };
  size_t bytes = byte_count(c, name, type, 2, dims);
  if (c->ok && bytes && !data) fail(c, "'%s': no data", name);
  return c->ok ? ck_types[type].size * (size_t)rows : 0;
}

int nn_ckpt_put_columns(nn_ckpt *c, const char *name, nn_ck_type type, int64_t rows, int64_t n_global,
                        int64_t first, int64_t n_local, const void *data)
{
  if (enter(c, "columns ", name) < 0) return -1;
  size_t colbytes = 0;
  if (new_name(c, name)) colbytes = column_bytes(c, name, type, rows, n_global, first, n_local, data);
  check_cover(c, name, type, rows, n_global, first, n_local);
  uint64_t sum = c->ok ? columns_sum(data, colbytes, first, n_local) : 0;
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &sum, 1, MPI_UINT64_T, MPI_SUM, c->comm)); /* wraps: mod 2^64 */
  hid_t d = -1;
  int64_t dims[2] = { n_global, rows };
  if (agree(c) == 0) make_parents(c, name);
  if (c->ok) d = create_dataset(c, name, type, 2, dims);
  if (agree(c) == 0 && rows && n_global) { /* an empty matrix has no storage */
    char what[NAME_MAX_LEN + 32];
    snprintf(what, sizeof what, "H5Dwrite %s", name);
    hid_t fspace = -1, mspace = -1;
    select_columns(c, d, what, rows, first, n_local, &fspace, &mspace);
    if (c->ok) TRY(c, what, H5Dwrite(d, mem_type(type), mspace, fspace, c->dxpl, data ? data : (const void *)&sum));
    if (mspace >= 0) TRY(c, what, H5Sclose(mspace));
    if (fspace >= 0) TRY(c, what, H5Sclose(fspace));
    agree(c);
  }
  finish_dataset(c, d, name, sum);
  if (leave(c) == 0) {
    item *e = add_item(c, name, K_COLUMNS);
    e->type = type;
    e->ndims = 2;
    e->dims[0] = n_global;
    e->dims[1] = rows;
    e->sum = sum;
  }
  return c->ok ? 0 : -1;
}

/* ---- the index ------------------------------------------------------------------------- */

static const char INDEX_HEAD[] = "admm-nn checkpoint index 1\n";

/* The index text: one line per item, in writing order. Malloc'ed. */
static char *index_text(const nn_ckpt *c)
{
  size_t cap = sizeof INDEX_HEAD + (size_t)c->n * (NAME_MAX_LEN + 64 + NN_CKPT_MAX_DIMS * 21), len = 0;
  char *t = malloc(cap);
  CHECK(t, "out of memory (checkpoint index)");
  len += (size_t)snprintf(t, cap, "%s", INDEX_HEAD);
  for (int i = 0; i < c->n; i++) {
    const item *e = &c->items[i];
    if (e->kind == K_INT || e->kind == K_DOUBLE || e->kind == K_STRING) {
      len += (size_t)snprintf(t + len, cap - len, "%s %s %016" PRIx64 "\n",
                              e->kind == K_INT ? "int" : e->kind == K_DOUBLE ? "double" : "string", e->name, e->sum);
      continue;
    }
    len += (size_t)snprintf(t + len, cap - len, "%s %s %s ", e->kind == K_ARRAY ? "array" : "columns", e->name,
                            ck_types[e->type].name);
    for (int k = 0; k < e->ndims; k++)
      len += (size_t)snprintf(t + len, cap - len, "%s%lld", k ? "," : "", (long long)e->dims[k]);
    len += (size_t)snprintf(t + len, cap - len, " %016" PRIx64 "\n", e->sum);
  }
  return t;
}

/* Collective: the index as a scalar fixed-length string dataset (h5dump shows it as text),
 * written by rank 0, and its checksum as a root attribute. */
static void write_index(nn_ckpt *c)
{
  char *t = index_text(c);
  size_t len = strlen(t);
  hid_t type = -1, space = -1, d = -1;
  TRY(c, "H5Dcreate checkpoint_index", type = H5Tcopy(H5T_C_S1));
  TRY(c, "H5Dcreate checkpoint_index", H5Tset_size(type, len));
  TRY(c, "H5Dcreate checkpoint_index", H5Tset_strpad(type, H5T_STR_NULLPAD));
  TRY(c, "H5Dcreate checkpoint_index", space = H5Screate(H5S_SCALAR));
  if (c->ok) TRY(c, "H5Dcreate checkpoint_index", d = H5Dcreate2(c->file, "checkpoint_index", type, space, H5P_DEFAULT,
                                                                H5P_DEFAULT, H5P_DEFAULT));
  reserve(c, d);
  if (agree(c) == 0) {
    if (c->me != 0) TRY(c, "H5Dwrite checkpoint_index", H5Sselect_none(space));
    if (c->ok) TRY(c, "H5Dwrite checkpoint_index", H5Dwrite(d, type, space, space, c->dxpl, t));
    agree(c);
  }
  if (d >= 0) TRY(c, "H5Dclose checkpoint_index", H5Dclose(d));
  if (space >= 0) TRY(c, "H5Sclose", H5Sclose(space));
  if (type >= 0) TRY(c, "H5Tclose", H5Tclose(type));
  char hex[17];
  snprintf(hex, sizeof hex, "%016" PRIx64, ck_hash(0, t, len));
  if (agree(c) == 0) write_attr(c, c->file, "index_checksum", "index_checksum", K_STRING, 0, 0, hex);
  free(t);
}

/* Rank 0: forces PATH.tmp.PID to disk (H5Fflush already had every rank sync its MPI-IO
 * writes; this covers what H5Fclose wrote), renames it onto PATH and syncs the directory, so
 * that after a crash PATH is either the old checkpoint or the new one, complete. Returns 1 if
 * the rename happened. */
static int publish(nn_ckpt *c)
{
  int fd = open(c->tmp, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) != 0) {
    int e = errno;
    if (fd >= 0) (void)close(fd); /* read-only: nothing of ours is lost */
    fail(c, "cannot sync %s: %s", c->tmp, strerror(e));
    return 0;
  }
  if (close(fd) != 0) { fail(c, "cannot close %s: %s", c->tmp, strerror(errno)); return 0; }
  if (rename(c->tmp, c->path) != 0) {
    fail(c, "cannot rename %s onto it: %s", c->tmp, strerror(errno));
    return 0;
  }
  char dir[PATH_LEN];
  snprintf(dir, sizeof dir, "%s", c->path);
  char *slash = strrchr(dir, '/');
  if (!slash) snprintf(dir, sizeof dir, ".");
  else if (slash == dir) dir[1] = 0;
  else *slash = 0;
  fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  /* EINVAL: a file system that cannot sync directories; nothing more can be done there */
  if (fd < 0 || (fsync(fd) != 0 && errno != EINVAL))
    fail(c, "renamed into place, but its directory %s could not be synced: %s", dir, strerror(errno));
  if (fd >= 0) (void)close(fd); /* read-only */
  return 1;
}

/* Collective: closes the file after a failure (or an abort) and removes PATH.tmp.PID (rank 0).
 * The results of these calls are not reported: the verdict is already failure, the file is
 * being thrown away, and the temporary name is ours, so whatever they say changes nothing. */
static void discard(nn_ckpt *c, int renamed)
{
  nn_io_watch_begin(c->tmp, "discarding a checkpoint");
  /* HDF5's collective close still writes the metadata it holds; on a full disk that write
   * failed on one rank and the close never returned (2 ranks, tmpfs: one rank in the metadata
   * flush's barrier, the other already truncating the file). The file is thrown away anyway:
   * emptying it first gives its blocks back, so that those last writes find room. */
  if (c->me == 0 && c->created && !renamed && c->file >= 0) (void)truncate(c->tmp, 0);
  CHECK_MPI(MPI_Barrier(c->comm));
  if (c->dxpl >= 0) (void)H5Pclose(c->dxpl);
  if (c->file >= 0) (void)H5Fclose(c->file);
  c->dxpl = c->file = -1;
  if (c->me == 0 && c->created && !renamed) (void)unlink(c->tmp);
  /* nobody returns while the temporary file may still exist */
  CHECK_MPI(MPI_Barrier(c->comm));
  nn_io_watch_end();
}

int nn_ckpt_commit(nn_ckpt *c, char *err, size_t errlen)
{
  int renamed = 0;
  if (enter(c, "committing ", c->path) == 0) {
    write_index(c);
    /* a global flush makes every rank MPI_File_sync its share of the data */
    if (agree(c) == 0) reserve(c, -1);
    if (agree(c) == 0) TRY(c, "H5Fflush", H5Fflush(c->file, H5F_SCOPE_GLOBAL));
    if (agree(c) == 0) {
      TRY(c, "H5Pclose", H5Pclose(c->dxpl));
      c->dxpl = -1;
      /* closing writes what is still cached: the last place a full disk can show */
      TRY(c, "H5Fclose", H5Fclose(c->file));
      c->file = -1;
    }
    if (agree(c) == 0 && c->me == 0) renamed = publish(c);
    leave(c);
  }
  int rc = c->ok ? 0 : -1;
  CHECK_MPI(MPI_Bcast(&renamed, 1, MPI_INT, 0, c->comm));
  if (rc && !renamed) {
    size_t len = strlen(c->msg);
    snprintf(c->msg + len, sizeof c->msg - len, "; %s is left as it was", c->path);
  }
  copy_error(c, err, errlen);
  if (rc) discard(c, renamed);
  free_handle(c);
  return rc;
}

void nn_ckpt_abort(nn_ckpt *c)
{
  if (!c) return;
  discard(c, 0);
  free_handle(c);
}

/* ---- reading --------------------------------------------------------------------------- */

static int parse_hex(const char *s, uint64_t *v)
{
  char *end;
  if (strlen(s) != 16) return -1;
  errno = 0;
  *v = strtoull(s, &end, 16);
  return errno || *end ? -1 : 0;
}

/* Reads a scalar attribute of obj; kind K_INT, K_DOUBLE or K_STRING (*s malloc'ed).
 * Local; a failure is recorded with `label` naming the item. */
static void read_attr(nn_ckpt *c, hid_t obj, const char *aname, const char *label, char kind, int64_t *i, double *d,
                      char **s)
{
  char what[NAME_MAX_LEN * 2 + 40];
  snprintf(what, sizeof what, "H5Aopen %s", label);
  htri_t exists = -1;
  TRY(c, what, exists = H5Aexists(obj, aname));
  if (!c->ok) return;
  if (exists == 0) { fail(c, "%s: missing (the file is damaged or not a checkpoint)", label); return; }
  hid_t a = -1, ft = -1, space = -1, mt = -1;
  TRY(c, what, a = H5Aopen(obj, aname, H5P_DEFAULT));
  TRY(c, what, ft = H5Aget_type(a));
  TRY(c, what, space = H5Aget_space(a));
  if (c->ok) {
    H5T_class_t cls = H5Tget_class(ft);
    hssize_t np = H5Sget_simple_extent_npoints(space);
    int want = kind == K_STRING ? H5T_STRING : kind == K_INT ? H5T_INTEGER : H5T_FLOAT;
    if ((int)cls != want || np != 1 || (kind == K_STRING && H5Tis_variable_str(ft) <= 0))
      fail(c, "%s: not a%s", label, kind == K_STRING ? " string" : kind == K_INT ? "n integer" : " real number");
  }
  snprintf(what, sizeof what, "H5Aread %s", label);
  if (c->ok && kind == K_STRING) {
    char *v = NULL;
    H5T_cset_t cset = H5T_CSET_ERROR;
    TRY(c, what, cset = H5Tget_cset(ft));
    TRY(c, what, mt = H5Tcopy(H5T_C_S1));
    TRY(c, what, H5Tset_size(mt, H5T_VARIABLE));
    if (c->ok) TRY(c, what, H5Tset_cset(mt, cset)); /* HDF5 converts no string between character sets */
    if (c->ok) TRY(c, what, H5Aread(a, mt, &v));
    if (c->ok) {
      *s = strdup(v ? v : "");
      CHECK(*s, "out of memory");
    }
    if (v) TRY(c, what, H5free_memory(v));
  } else if (c->ok && kind == K_INT) {
    TRY(c, what, H5Aread(a, H5T_NATIVE_INT64, i));
  } else if (c->ok) {
    TRY(c, what, H5Aread(a, H5T_NATIVE_DOUBLE, d));
  }
  if (mt >= 0) TRY(c, what, H5Tclose(mt));
  if (space >= 0) TRY(c, what, H5Sclose(space));
  if (ft >= 0) TRY(c, what, H5Tclose(ft));
  if (a >= 0) TRY(c, what, H5Aclose(a));
}

/* Parses one index line into a new item; 0, or -1 when the line is not one. */
static int parse_line(nn_ckpt *c, char *line)
{
  char kw[16], name[NAME_MAX_LEN + 1], tname[24], dims[NN_CKPT_MAX_DIMS * 21 + 1], hex[24];
  int n = sscanf(line, "%15s %200s %23s %168s %23s", kw, name, tname, dims, hex);
  char kind = strcmp(kw, "int") == 0 ? K_INT : strcmp(kw, "double") == 0 ? K_DOUBLE : strcmp(kw, "string") == 0 ? K_STRING
            : strcmp(kw, "array") == 0 ? K_ARRAY : strcmp(kw, "columns") == 0 ? K_COLUMNS : 0;
  int attr = kind == K_INT || kind == K_DOUBLE || kind == K_STRING;
  if (!kind || n != (attr ? 3 : 5) || find(c, name)) return -1;
  item *e = add_item(c, name, kind);
  if (attr) return parse_hex(tname, &e->sum);
  int t = 0;
  while (t < NTYPES && strcmp(ck_types[t].name, tname) != 0) t++;
  if (t == NTYPES) return -1;
  e->type = (nn_ck_type)t;
  for (char *p = dims, *end; *p; p = *end == ',' ? end + 1 : end) {
    if (e->ndims == NN_CKPT_MAX_DIMS) return -1;
    errno = 0;
    long long v = strtoll(p, &end, 10);
    if (errno || end == p || v < 0 || (*end && *end != ',')) return -1;
    e->dims[e->ndims++] = v;
  }
  if (e->ndims == 0 || (kind == K_COLUMNS && e->ndims != 2)) return -1;
  return parse_hex(hex, &e->sum);
}

/* Local: reads and checks the index (its checksum, then its syntax) into c->items. */
static void read_index(nn_ckpt *c)
{
  char *stored = NULL;
  read_attr(c, c->file, "index_checksum", "index_checksum", K_STRING, NULL, NULL, &stored);
  if (!c->ok) return;
  htri_t exists = -1;
  TRY(c, "H5Lexists checkpoint_index", exists = H5Lexists(c->file, "checkpoint_index", H5P_DEFAULT));
  if (c->ok && exists == 0) fail(c, "no checkpoint_index: the file is damaged or was not finished");
  hid_t d = -1, ft = -1;
  char *t = NULL;
  size_t len = 0;
  TRY(c, "H5Dopen checkpoint_index", d = H5Dopen2(c->file, "checkpoint_index", H5P_DEFAULT));
  TRY(c, "H5Dopen checkpoint_index", ft = H5Dget_type(d));
  if (c->ok && (H5Tget_class(ft) != H5T_STRING || H5Tis_variable_str(ft) != 0))
    fail(c, "checkpoint_index: not a fixed-length string");
  if (c->ok) {
    len = H5Tget_size(ft);
    t = malloc(len + 1);
    CHECK(t, "out of memory (checkpoint index of %zu bytes)", len);
    TRY(c, "H5Dread checkpoint_index", H5Dread(d, ft, H5S_ALL, H5S_ALL, H5P_DEFAULT, t));
  }
  if (ft >= 0) TRY(c, "H5Tclose", H5Tclose(ft));
  if (d >= 0) TRY(c, "H5Dclose", H5Dclose(d));
  uint64_t want = 0;
  if (c->ok && parse_hex(stored, &want) != 0) fail(c, "index_checksum '%.20s': not 16 hex digits", stored);
  if (c->ok) {
    t[len] = 0;
    len = strnlen(t, len); /* null-padded */
    uint64_t got = ck_hash(0, t, len);
    if (got != want)
      fail(c, "checkpoint_index: checksum %016" PRIx64 ", expected %016" PRIx64 ": the file is corrupted", got, want);
  }
  if (c->ok && strncmp(t, INDEX_HEAD, sizeof INDEX_HEAD - 1) != 0) fail(c, "checkpoint_index: unknown layout");
  int line_no = 1;
  for (char *p = c->ok ? t + sizeof INDEX_HEAD - 1 : NULL, *nl; p && *p && c->ok; p = nl + 1) {
    line_no++;
    nl = strchr(p, '\n');
    if (!nl) { fail(c, "checkpoint_index: line %d unterminated", line_no); break; }
    *nl = 0;
    if (parse_line(c, p) != 0) fail(c, "checkpoint_index: line %d unreadable: '%.80s'", line_no, p);
  }
  free(t);
  free(stored);
}

/* Local: every item of the index against the file. Attribute values are read, checked against
 * their checksums and kept; datasets are checked for type, shape and checksum attribute (the
 * data itself when it is read). */
static void verify_items(nn_ckpt *c)
{
  for (int k = 0; k < c->n && c->ok; k++) {
    item *e = &c->items[k];
    char group[NAME_MAX_LEN + 2], what[NAME_MAX_LEN + 32];
    const char *last;
    if (e->kind == K_INT || e->kind == K_DOUBLE || e->kind == K_STRING) {
      split_name(e->name, group, sizeof group, &last);
      hid_t g = -1;
      snprintf(what, sizeof what, "H5Gopen %s", group);
      TRY(c, what, g = H5Gopen2(c->file, group, H5P_DEFAULT));
      if (c->ok) read_attr(c, g, last, e->name, e->kind, &e->i, &e->d, &e->s);
      if (g >= 0) TRY(c, "H5Gclose", H5Gclose(g));
      if (!c->ok) break;
      uint64_t got = e->kind == K_STRING ? ck_hash(0, e->s, strlen(e->s))
                   : ck_hash(0, e->kind == K_INT ? (void *)&e->i : (void *)&e->d, 8);
      if (got != e->sum)
        fail(c, "attribute '%s': checksum %016" PRIx64 ", expected %016" PRIx64 ": the file is corrupted", e->name, got,
             e->sum);
      continue;
    }
    hid_t d = -1, ft = -1, space = -1;
    snprintf(what, sizeof what, "H5Dopen %s", e->name);
    TRY(c, what, d = H5Dopen2(c->file, e->name, H5P_DEFAULT));
    TRY(c, what, ft = H5Dget_type(d));
    TRY(c, what, space = H5Dget_space(d));
    if (c->ok) {
      hsize_t hd[NN_CKPT_MAX_DIMS + 1];
      int nd = H5Sget_simple_extent_ndims(space);
      int same = nd == e->ndims && H5Sget_simple_extent_dims(space, hd, NULL) == nd;
      for (int i = 0; same && i < nd; i++) same = hd[i] == (hsize_t)e->dims[i];
      if (H5Tequal(ft, file_type(e->type)) <= 0 || !same)
        fail(c, "%s: type or shape differs from the index: the file is damaged", e->name);
    }
    char *stored = NULL;
    char label[NAME_MAX_LEN + 16];
    snprintf(label, sizeof label, "%s checksum", e->name);
    if (c->ok) read_attr(c, d, "checksum", label, K_STRING, NULL, NULL, &stored);
    uint64_t v = 0;
    if (c->ok && (parse_hex(stored, &v) != 0 || v != e->sum))
      fail(c, "%s: checksum attribute '%.20s' differs from the index's %016" PRIx64 ": the file is corrupted", e->name,
           stored, e->sum);
    free(stored);
    if (space >= 0) TRY(c, "H5Sclose", H5Sclose(space));
    if (ft >= 0) TRY(c, "H5Tclose", H5Tclose(ft));
    if (d >= 0) TRY(c, "H5Dclose", H5Dclose(d));
  }
}

nn_ckpt *nn_ckpt_open(const char *path, MPI_Comm comm, char *err, size_t errlen)
{
  nn_ckpt *c = new_handle(path, comm, 0);
  if (agree(c) == 0 && enter(c, "opening ", c->path) == 0) {
    io_setup(c);
    if (c->me == 0) {
      /* HDF5's words for these are vague ("unable to open file") */
      struct stat st;
      if (stat(c->path, &st) != 0) fail(c, "%s", strerror(errno));
      else if (!S_ISREG(st.st_mode)) fail(c, "not a regular file");
    }
    if (agree(c) == 0) {
      hid_t fapl = mpio_fapl(c);
      if (agree(c) == 0) {
        pay_for_close();
        errno = 0;
        c->file = H5Fopen(c->path, H5F_ACC_RDONLY, fapl);
        if (c->file < 0) {
          char why[700];
          nn_io_reason(why, sizeof why, errno);
          fail(c, "not a readable HDF5 file, or truncated (%s)", why);
        }
      }
      if (fapl >= 0) TRY(c, "H5Pclose", H5Pclose(fapl));
      TRY(c, "H5Pcreate", c->dxpl = H5Pcreate(H5P_DATASET_XFER));
      if (c->dxpl >= 0) TRY(c, "H5Pset_dxpl_mpio", H5Pset_dxpl_mpio(c->dxpl, H5FD_MPIO_COLLECTIVE));
    }
    if (agree(c) == 0) {
      char *format = NULL;
      int64_t version = -1;
      htri_t is = -1;
      TRY(c, "H5Aexists format", is = H5Aexists(c->file, "format"));
      if (c->ok && is == 0) fail(c, "not an admm-nn checkpoint (no root attribute format)");
      if (c->ok) read_attr(c, c->file, "format", "format", K_STRING, NULL, NULL, &format);
      if (c->ok && strcmp(format, NN_CKPT_FORMAT) != 0)
        fail(c, "not an admm-nn checkpoint (format \"%.60s\")", format);
      if (c->ok) read_attr(c, c->file, "format_version", "format_version", K_INT, &version, NULL, NULL);
      if (c->ok && version != NN_CKPT_FORMAT_VERSION)
        fail(c, "checkpoint format version %lld; this build reads version %d", (long long)version,
             NN_CKPT_FORMAT_VERSION);
      free(format);
      if (c->ok) read_index(c);
      if (c->ok) verify_items(c);
    }
    leave(c);
  }
  if (c->ok) return c;
  copy_error(c, err, errlen);
  nn_ckpt_close(c, NULL, 0);
  return NULL;
}

int nn_ckpt_has(const nn_ckpt *c, const char *name, nn_ck_type *type, int *ndims, int64_t *dims)
{
  const item *e = name ? find(c, name) : NULL;
  if (!e) return 0;
  int ds = e->kind == K_ARRAY || e->kind == K_COLUMNS;
  if (type && ds) *type = e->type;
  if (ndims) *ndims = ds ? e->ndims : 0;
  if (dims && ds) memcpy(dims, e->dims, (size_t)e->ndims * sizeof *dims);
  return 1;
}

static const char *kind_words(char kind)
{
  return kind == K_INT ? "an integer attribute" : kind == K_DOUBLE ? "a real attribute"
       : kind == K_STRING ? "a string attribute" : kind == K_ARRAY ? "an array" : "a column matrix";
}

/* Local: the item name of the expected kind, or NULL with a failure recorded. */
static item *expect(nn_ckpt *c, const char *name, char kind)
{
  item *e = name ? find(c, name) : NULL;
  if (!e) fail(c, "no %s '%s' in the checkpoint", kind_words(kind) + (kind_words(kind)[1] == 'n' ? 3 : 2),
               name ? name : "(null)");
  else if (e->kind != kind) fail(c, "'%s' is %s, not %s", name, kind_words(e->kind), kind_words(kind));
  return c->ok ? e : NULL;
}

static int get_attr(nn_ckpt *c, const char *name, char kind, int64_t *i, double *d, char *buf, size_t len)
{
  if (enter(c, "attribute ", name) < 0) return -1;
  item *e = expect(c, name, kind);
  if (e && kind == K_INT) *i = e->i;
  else if (e && kind == K_DOUBLE) *d = e->d;
  else if (e && (!buf || strlen(e->s) >= len))
    fail(c, "'%s': a string of %zu bytes does not fit a buffer of %zu", name, strlen(e->s), buf ? len : 0);
  else if (e) memcpy(buf, e->s, strlen(e->s) + 1);
  return leave(c);
}

int nn_ckpt_get_int(nn_ckpt *c, const char *name, int64_t *v) { return get_attr(c, name, K_INT, v, NULL, NULL, 0); }
int nn_ckpt_get_double(nn_ckpt *c, const char *name, double *v) { return get_attr(c, name, K_DOUBLE, NULL, v, NULL, 0); }
int nn_ckpt_get_string(nn_ckpt *c, const char *name, char *buf, size_t len)
{
  return get_attr(c, name, K_STRING, NULL, NULL, buf, len);
}

/* "(784,256)" */
static void shape_text(char *out, size_t len, int ndims, const int64_t *dims)
{
  size_t n = (size_t)snprintf(out, len, "(");
  for (int k = 0; k < ndims && n < len; k++) n += (size_t)snprintf(out + n, len - n, "%s%lld", k ? "," : "", (long long)dims[k]);
  if (n < len) snprintf(out + n, len - n, ")");
}

/* Local: the dataset item name of this kind, type and shape, or NULL with a failure recorded. */
static item *expect_dataset(nn_ckpt *c, const char *name, char kind, nn_ck_type type, int ndims, const int64_t *dims)
{
  item *e = expect(c, name, kind);
  if (!e) return NULL;
  if (!valid_type(type)) fail(c, "'%s': unknown element type %d", name, (int)type);
  else if (e->type != type) fail(c, "'%s' holds %s, not %s", name, ck_types[e->type].name, ck_types[type].name);
  else if (ndims < 1 || ndims > NN_CKPT_MAX_DIMS || !dims) fail(c, "'%s': %d dimensions asked for", name, ndims);
  else if (ndims != e->ndims || memcmp(dims, e->dims, (size_t)ndims * sizeof *dims) != 0) {
    char have[200], want[200];
    shape_text(have, sizeof have, e->ndims, e->dims);
    shape_text(want, sizeof want, ndims, dims);
    fail(c, "'%s' has shape %s%s, expected %s", name, have, kind == K_COLUMNS ? " (samples, rows)" : "", want);
  }
  return c->ok ? e : NULL;
}

int nn_ckpt_get_array(nn_ckpt *c, const char *name, nn_ck_type type, int ndims, const int64_t *dims, void *data)
{
  if (enter(c, "array ", name) < 0) return -1;
  item *e = expect_dataset(c, name, K_ARRAY, type, ndims, dims);
  size_t bytes = e ? byte_count(c, name, type, ndims, dims) : 0;
  if (e && bytes && !data) fail(c, "'%s': no buffer", name);
  hid_t d = -1;
  char what[NAME_MAX_LEN + 32];
  snprintf(what, sizeof what, "H5Dopen %s", name ? name : "");
  if (agree(c) == 0) TRY(c, what, d = H5Dopen2(c->file, name, H5P_DEFAULT));
  if (agree(c) == 0 && bytes) { /* an empty dataset has no storage */
    snprintf(what, sizeof what, "H5Dread %s", name);
    uint64_t dummy;
    TRY(c, what, H5Dread(d, mem_type(type), H5S_ALL, H5S_ALL, c->dxpl, bytes ? data : (void *)&dummy));
  }
  if (c->ok) {
    uint64_t got = ck_hash(0, data, bytes);
    if (got != e->sum)
      fail(c, "'%s': checksum %016" PRIx64 ", expected %016" PRIx64 ": the data is corrupted", name, got, e->sum);
  }
  if (d >= 0) TRY(c, "H5Dclose", H5Dclose(d));
  return leave(c);
}

int nn_ckpt_get_columns(nn_ckpt *c, const char *name, nn_ck_type type, int64_t rows, int64_t n_global,
                        int64_t first, int64_t n_local, void *data)
{
  if (enter(c, "columns ", name) < 0) return -1;
  int64_t dims[2] = { n_global, rows };
  item *e = expect_dataset(c, name, K_COLUMNS, type, 2, dims);
  size_t colbytes = e ? column_bytes(c, name, type, rows, n_global, first, n_local, data) : 0;
  check_cover(c, name, type, rows, n_global, first, n_local);
  hid_t d = -1;
  char what[NAME_MAX_LEN + 32];
  snprintf(what, sizeof what, "H5Dopen %s", name ? name : "");
  if (agree(c) == 0) TRY(c, what, d = H5Dopen2(c->file, name, H5P_DEFAULT));
  if (agree(c) == 0 && rows && n_global) { /* an empty matrix has no storage */
    snprintf(what, sizeof what, "H5Dread %s", name);
    hid_t fspace = -1, mspace = -1;
    uint64_t dummy;
    select_columns(c, d, what, rows, first, n_local, &fspace, &mspace);
    if (c->ok) TRY(c, what, H5Dread(d, mem_type(type), mspace, fspace, c->dxpl, data ? data : (void *)&dummy));
    if (mspace >= 0) TRY(c, what, H5Sclose(mspace));
    if (fspace >= 0) TRY(c, what, H5Sclose(fspace));
  }
  /* the whole matrix's checksum, summed over the ranks' columns: any partition gives it */
  uint64_t got = agree(c) == 0 ? columns_sum(data, colbytes, first, n_local) : 0;
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &got, 1, MPI_UINT64_T, MPI_SUM, c->comm));
  if (c->ok && got != e->sum)
    fail(c, "'%s': checksum %016" PRIx64 ", expected %016" PRIx64 ": the data is corrupted", name, got, e->sum);
  if (d >= 0) TRY(c, "H5Dclose", H5Dclose(d));
  return leave(c);
}

int nn_ckpt_close(nn_ckpt *c, char *err, size_t errlen)
{
  if (!c) return -1;
  nn_io_watch_begin(c->path, "closing a checkpoint");
  if (c->dxpl >= 0) TRY(c, "H5Pclose", H5Pclose(c->dxpl));
  if (c->file >= 0) TRY(c, "H5Fclose", H5Fclose(c->file));
  agree(c);
  nn_io_watch_end();
  int rc = c->ok ? 0 : -1;
  copy_error(c, err, errlen);
  free_handle(c);
  return rc;
}

const char *nn_ckpt_error(const nn_ckpt *c) { return c && !c->ok ? c->msg : ""; }
