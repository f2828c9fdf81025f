/* Checkpoint files: one parallel-HDF5 file of named attributes, replicated arrays and arrays
 * distributed by global sample, written as PATH.tmp.PID, synced and renamed onto PATH only
 * when complete, so PATH always holds the previous complete checkpoint or the new one. Read
 * back at any rank count. Knows nothing of training: the driver decides what goes in.
 * Every function except nn_ckpt_error and nn_ckpt_has is collective over comm, returns the
 * same verdict on every rank, and never ends the process (only the I/O watchdog of
 * io_failure.h does, when HDF5 never returns; it leaves PATH.tmp.PID, which nothing reads).
 * A full disk or quota fails cleanly: each dataset's space is reserved (fallocate) before it
 * is written. ADMM_TEST_CKPT_NO_RESERVE=1 (a test hook) skips that reservation.
 *
 * Integrity: HDF5 checks its own structures, not the data. Each dataset holds a checksum
 * (attribute "checksum", 16 hex digits) verified whenever it is read, and the root holds an
 * index of everything written (dataset "checkpoint_index", text, one line per item, with
 * each attribute's and dataset's checksum; its own checksum in the root attribute
 * "index_checksum"), verified at open together with every attribute's value. The checksum of
 * bytes B with index j is fmix64 of FNV-1a-64 over (j, B as little-endian 64-bit words
 * zero-padded, |B|): a change confined to one aligned 8-byte word always changes it. An
 * array's checksum is that of its bytes with j = 0; a column matrix's is the sum mod 2^64
 * over its columns j of the checksum of column j with index j, so it does not depend on how
 * the columns are spread over ranks.
 *
 * Names: "epoch", "method/lambda" (groups are created as needed); characters A-Z a-z 0-9 _ . -
 * and single inner slashes; at most 200 characters; each name once per checkpoint, attributes
 * and datasets alike; "format", "format_version", "index_checksum", "checkpoint_index" are
 * reserved. Errors are sticky: after a failed call every later call on the handle returns -1
 * at once, so a caller may check each call or only nn_ckpt_commit / nn_ckpt_close. */
#ifndef NN_CHECKPOINT_H
#define NN_CHECKPOINT_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#define NN_CKPT_FORMAT "admm-nn checkpoint"
enum { NN_CKPT_FORMAT_VERSION = 1, NN_CKPT_MAX_DIMS = 8 };

/* Element types, stored little-endian: float64, float32, int64, int32, uint8. */
typedef enum { NN_CK_F64, NN_CK_F32, NN_CK_I64, NN_CK_I32, NN_CK_U8 } nn_ck_type;

typedef struct nn_ckpt nn_ckpt;

/* ---- writing ------------------------------------------------------------------------- */

/* Creates PATH.tmp.PID (PID: rank 0's) in PATH's directory with root attributes format and
 * format_version. NULL with one line in err on failure (every rank). */
nn_ckpt *nn_ckpt_begin(const char *path, MPI_Comm comm, char *err, size_t errlen);

/* An attribute (int64, float64, UTF-8 string). Rank 0's value is written; the other ranks'
 * are not read (v may be NULL there for a string). 0, or -1 (nn_ckpt_error says why). */
int nn_ckpt_put_int(nn_ckpt *c, const char *name, int64_t v);
int nn_ckpt_put_double(nn_ckpt *c, const char *name, double v);
int nn_ckpt_put_string(nn_ckpt *c, const char *name, const char *v);

/* A replicated array (weights, optimiser moments, best weights, result rows): rank 0's data
 * is written, the other ranks' is not read (may be NULL). dims in HDF5 order, the last
 * varying fastest: a column-major m x n matrix is dims {n, m}. ndims 1..NN_CKPT_MAX_DIMS;
 * type, ndims and dims equal on every rank. */
int nn_ckpt_put_array(nn_ckpt *c, const char *name, nn_ck_type type, int ndims, const int64_t *dims,
                      const void *data);

/* A matrix distributed by global sample: data is rows x n_local, column-major (each sample's
 * rows values contiguous), holding global columns [first, first + n_local). Stored as an
 * (n_global, rows) dataset, sample j in row j. The ranks' ranges must cover 0..n_global-1
 * exactly once, in any order (n_local may be 0). Per-rank values (one column per rank) fit
 * this too: n_global = ranks, first = rank, n_local = 1. */
int nn_ckpt_put_columns(nn_ckpt *c, const char *name, nn_ck_type type, int64_t rows, int64_t n_global,
                        int64_t first, int64_t n_local, const void *data);

/* Writes the index, flushes and syncs the file, closes it, renames it onto PATH and syncs the
 * directory. 0, or -1 with one line in err: then PATH.tmp.PID is removed and PATH is as it
 * was (unless the line says it was renamed and only the directory sync failed). Frees c. */
int nn_ckpt_commit(nn_ckpt *c, char *err, size_t errlen);

/* Closes and removes PATH.tmp.PID, leaving PATH as it was. Frees c. */
void nn_ckpt_abort(nn_ckpt *c);

/* ---- reading ------------------------------------------------------------------------- */

/* Opens PATH read-only and verifies format, format_version, the index and every attribute
 * listed in it against their checksums, and that each listed dataset exists with its type,
 * shape and checksum. NULL with one line in err ("PATH: problem") on failure. */
nn_ckpt *nn_ckpt_open(const char *path, MPI_Comm comm, char *err, size_t errlen);

/* Local, from the verified index: 1 if name was written, else 0. For a dataset, also its type
 * and shape (columns: {n_global, rows}); for an attribute *ndims = 0 and *type is not set.
 * Pointers may be NULL; dims has room for NN_CKPT_MAX_DIMS. */
int nn_ckpt_has(const nn_ckpt *c, const char *name, nn_ck_type *type, int *ndims, int64_t *dims);

/* Attributes: a missing name or another kind is refused. A string longer than len - 1 bytes
 * is refused. */
int nn_ckpt_get_int(nn_ckpt *c, const char *name, int64_t *v);
int nn_ckpt_get_double(nn_ckpt *c, const char *name, double *v);
int nn_ckpt_get_string(nn_ckpt *c, const char *name, char *buf, size_t len);

/* A replicated array into data on every rank; type, ndims and dims must match the file's. */
int nn_ckpt_get_array(nn_ckpt *c, const char *name, nn_ck_type type, int ndims, const int64_t *dims, void *data);

/* Columns [first, first + n_local) of a distributed matrix into data (rows x n_local,
 * column-major). The ranks' ranges must cover 0..n_global-1 exactly once (the checksum is
 * verified over the whole matrix), with any rank count and partition: redistribution. */
int nn_ckpt_get_columns(nn_ckpt *c, const char *name, nn_ck_type type, int64_t rows, int64_t n_global,
                        int64_t first, int64_t n_local, void *data);

/* Closes the file. 0, or -1 with the first failure's line in err (when err is not NULL).
 * Frees c. */
int nn_ckpt_close(nn_ckpt *c, char *err, size_t errlen);

/* The first failure's line ("PATH: problem"), or "" while all is well. Local. */
const char *nn_ckpt_error(const nn_ckpt *c);

#endif
