/* Parallel-HDF5 results writer; see results.h and SCHEMA.md. Metadata calls (creating
 * objects, attributes, set_extent) are collective; data writes are collective MPI-IO, with
 * ranks that own nothing selecting none. After every collective call the ranks agree that it
 * succeeded everywhere (nn_io_agree) before any rank makes the next one: a rank that went on
 * alone would wait for the failed one for ever. Each public function is one watched region
 * (io_failure.h), so a call that HDF5 itself never returns from still ends the run. */
#include "results.h"

#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "../common/check.h"
#include "io_failure.h"
#include "output_guard.h"

/* Runs one HDF5 call; a negative result records why on this rank (the first failure only).
 * errno is cleared first so that a value left by an earlier, harmless call is not blamed. */
#define TRY(r, what, call) \
  do { errno = 0; if ((long long)(call) < 0) failed((r), (what), errno); } while (0)

enum { SCALARS = 23, REALS = 21 }; /* the first REALS are float64, the rest int64 */
static const char *const scalar_names[SCALARS] = {
  "loss", "objective", "residual_z", "residual_a", "train_acc", "val_acc", "test_acc",
  "t_epoch", "t_eval", "t_wall", "multiplier", "stream_bytes", "stream_calls", "flops_narrow", "flops_local_solve",
  "anderson_accepted", "anderson_residual", "anderson_coef_norm", "train_mse", "val_mse", "test_mse", "epoch", "warmup"
};

/* What every dataset holds: its units (UDUNITS spelling; "1" for a pure number: a fraction, a
 * count, a loss of standardised inputs) and one line of description, written as the
 * attributes `units` and `description` of each dataset (SCHEMA.md says the same at length). */
typedef struct {
  const char *name, *units, *description;
} dataset_doc;

static const dataset_doc docs[] = {
  { "epoch", "1", "epoch number, 1-based, warm-up epochs included" },
  { "warmup", "1", "1 for a warm-up epoch of --method admm (no multiplier update), else 0" },
  { "loss", "1", "training loss of the current weights by a true forward pass, mean per sample (the loss of "
                 "/config/loss; gradient methods: softmax cross-entropy)" },
  { "objective", "1", "the method's own objective after the epoch (admm: augmented Lagrangian / n_train; "
                      "gradient methods: mean mini-batch loss over the epoch)" },
  { "residual_z", "1", "sum over layers of |z_l - W_l a_{l-1}|^2 / n_train (NaN for methods without it)" },
  { "residual_a", "1", "sum over layers of |a_l - relu(z_l)|^2 / n_train (NaN for methods without it)" },
  { "multiplier", "1", "admm: |lambda|^2 / n_train after the epoch, 0 through warm-up (NaN for other methods)" },
  { "anderson_accepted", "1", "--anderson: 1 the accelerated point was kept, 0 the safeguard refused it (plain step "
                              "kept, memory restarted), NaN none tried (no history yet, or no --anderson)" },
  { "anderson_residual", "1", "--anderson: fixed-point residual |g(x_k) - x_k| of the stacked state (weights, "
                              "auxiliaries, multipliers), Euclidean norm (NaN without --anderson)" },
  { "anderson_coef_norm", "1", "--anderson: Euclidean norm of the mixing coefficients gamma (NaN when none were "
                               "computed)" },
  { "train_acc", "1", "fraction of the training samples the current weights classify correctly, in [0, 1] "
                      "(NaN with --eval-train 0)" },
  { "val_acc", "1", "fraction of the validation samples the current weights classify correctly, in [0, 1]" },
  { "test_acc", "1", "fraction of the test samples the current weights classify correctly, in [0, 1]" },
  { "train_mse", "1", "regression: mean over training samples and outputs of (f(x) - y)^2 by a true forward pass "
                      "(NaN for classification or with --eval-train 0)" },
  { "val_mse", "1", "regression: the validation samples' mean squared error (NaN for classification)" },
  { "test_mse", "1", "regression: the test samples' mean squared error (NaN for classification)" },
  { "t_epoch", "s", "wall time of the training step alone, max over ranks" },
  { "t_eval", "s", "wall time of the evaluation forward passes, max over ranks" },
  { "t_wall", "s", "time since the start of training at the end of the epoch, rank 0" },
  { "stream_bytes", "byte", "bytes read and written by the large elementwise loops, max over ranks" },
  { "stream_calls", "1", "calls of the large elementwise loops, max over ranks" },
  { "flops_narrow", "flop", "floating-point operations of the training step's BLAS calls with a matrix "
                            "dimension below 32, max over ranks" },
  { "flops_local_solve", "flop", "floating-point operations of the training step's local LAPACK Cholesky "
                                 "factors and solves (resnet-admm's n x n systems), max over ranks" },
  { "phase_min", "s", "seconds spent in each phase (columns: attribute phase_names), minimum over ranks" },
  { "phase_avg", "s", "seconds spent in each phase (columns: attribute phase_names), mean over ranks" },
  { "phase_max", "s", "seconds spent in each phase (columns: attribute phase_names), maximum over ranks" },
  { "rss_mb", "MiB", "peak resident set size of each rank (columns: ranks) after the epoch" },
  { "phase_rank", "s", "seconds each rank spent in each phase: columns rank x phase (rank r's phases at columns "
                       "r x 9 .. r x 9 + 8, named by attribute phase_names)" },
  { "phase_flops", "flop", "floating-point operations counted in each phase (columns: attribute phase_names), "
                           "max over ranks" },
  { "phase_stream", "byte", "bytes read and written by the large elementwise loops in each phase (columns: "
                            "attribute phase_names), max over ranks" },
  { "comm_calls", "1", "message calls of the training step by kind (columns: attribute kind_names), max over ranks" },
  { "comm_bytes", "byte", "message bytes of the training step by kind (columns: attribute kind_names), max over "
                          "ranks" },
  { "bytes_sent", "byte", "payload bytes each rank (columns: ranks) sent in the training step, all kinds" },
  { "bytes_recv", "byte", "payload bytes each rank (columns: ranks) received in the training step, all kinds" },
};

struct nn_results {
  char path[1100], part[1100];
  hid_t file, epochs, dxpl;
  hid_t scalar[SCALARS];
  hid_t phase[3];  /* min, avg, max */
  hid_t rss, phase_rank;
  hid_t flops, stream, comm_calls, comm_bytes, sent, recv;
  hsize_t rows;
  int me, nranks;
  int ok;            /* 0 once an HDF5 call failed on this rank */
  char region[96];   /* the watched region, for messages: "appending epoch 7" */
  char msg[2400];    /* the first failure: "FILE: reason (call while region)" */
};

static void failed(nn_results *r, const char *what, int errno_after)
{
  if (!r->ok) return;
  r->ok = 0;
  char why[700];
  nn_io_reason(why, sizeof why, errno_after);
  snprintf(r->msg, sizeof r->msg, "%s: %s (%s while %s)", r->part, why, what, r->region);
}

/* Collective: all ranks stop together, with the first failure's line, if any rank failed. */
static void agree(nn_results *r) { nn_io_agree(r->ok, r->msg); }

static void region_begin(nn_results *r, const char *fmt, long arg)
{
  snprintf(r->region, sizeof r->region, fmt, arg);
  nn_io_watch_begin(r->part, r->region);
}

double nn_peak_rss_mb(void)
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;
}

/* Creates (or replaces) one attribute on obj. Collective: every rank, same value. */
static void write_attr(nn_results *r, hid_t obj, const nn_attr *a)
{
  hid_t space = -1, type = -1, attr = -1;
  char what[120];
  snprintf(what, sizeof what, "writing attribute %s", a->name);
  htri_t exists = -1;
  TRY(r, what, exists = H5Aexists(obj, a->name));
  agree(r); /* deleting is collective: no rank may skip it alone */
  if (exists > 0) TRY(r, what, H5Adelete(obj, a->name));
  if (a->type == NN_ATTR_STRING || a->type == NN_ATTR_STRINGS) {
    /* NN_ATTR_STRINGS: one array element per comma-separated value of s */
    char copy[NN_ATTR_STRING_MAX];
    const char *str[NN_ATTR_STRING_MAX / 2 + 1];
    hsize_t n = 1;
    str[0] = a->s;
    if (a->type == NN_ATTR_STRINGS) {
      snprintf(copy, sizeof copy, "%s", a->s);
      str[0] = copy;
      for (char *c = copy; *c; c++)
        if (*c == ',') { *c = 0; str[n++] = c + 1; }
    }
    TRY(r, what, type = H5Tcopy(H5T_C_S1));
    TRY(r, what, H5Tset_size(type, H5T_VARIABLE));
    TRY(r, what, H5Tset_cset(type, H5T_CSET_UTF8));
    TRY(r, what, space = a->type == NN_ATTR_STRING ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, NULL));
    TRY(r, what, attr = H5Acreate2(obj, a->name, type, space, H5P_DEFAULT, H5P_DEFAULT));
    if (r->ok) TRY(r, what, H5Awrite(attr, type, str));
  } else if (a->type == NN_ATTR_INTS) {
    hsize_t dim = (hsize_t)a->nints;
    TRY(r, what, space = H5Screate_simple(1, &dim, NULL));
    TRY(r, what, attr = H5Acreate2(obj, a->name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT));
    if (r->ok) TRY(r, what, H5Awrite(attr, H5T_NATIVE_LONG, a->ints));
  } else {
    int integer = a->type == NN_ATTR_INT;
    TRY(r, what, space = H5Screate(H5S_SCALAR));
    TRY(r, what, attr = H5Acreate2(obj, a->name, integer ? H5T_STD_I64LE : H5T_IEEE_F64LE, space, H5P_DEFAULT,
                                   H5P_DEFAULT));
    if (r->ok)
      TRY(r, what, H5Awrite(attr, integer ? H5T_NATIVE_LONG : H5T_NATIVE_DOUBLE,
                            integer ? (const void *)&a->i : (const void *)&a->d));
  }
  if (attr >= 0) TRY(r, what, H5Aclose(attr));
  if (space >= 0) TRY(r, what, H5Sclose(space));
  if (type >= 0) TRY(r, what, H5Tclose(type));
  agree(r);
}

/* Writes the attributes units and description on dataset d. Collective. */
static void describe(nn_results *r, hid_t d, const char *units, const char *description)
{
  nn_attr a = { .name = "units", .type = NN_ATTR_STRING };
  snprintf(a.s, sizeof a.s, "%s", units);
  write_attr(r, d, &a);
  snprintf(a.name, sizeof a.name, "description");
  snprintf(a.s, sizeof a.s, "%s", description);
  write_attr(r, d, &a);
}

/* Creates /epochs/NAME, (rows, cols) or (rows) when cols == 0, with its units and description. */
static hid_t create_extendable(nn_results *r, hid_t group, const char *name, hid_t type, int cols)
{
  hsize_t dims[2] = { 0, (hsize_t)cols }, maxd[2] = { H5S_UNLIMITED, (hsize_t)cols };
  hsize_t chunk[2] = { 64, (hsize_t)cols };
  int rank = cols > 0 ? 2 : 1;
  hid_t space = -1, dcpl = -1, d = -1;
  char what[120];
  snprintf(what, sizeof what, "H5Dcreate /epochs/%s", name);
  TRY(r, what, space = H5Screate_simple(rank, dims, maxd));
  TRY(r, what, dcpl = H5Pcreate(H5P_DATASET_CREATE));
  TRY(r, what, H5Pset_chunk(dcpl, rank, chunk));
  if (r->ok) TRY(r, what, d = H5Dcreate2(group, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
  if (dcpl >= 0) TRY(r, what, H5Pclose(dcpl));
  if (space >= 0) TRY(r, what, H5Sclose(space));
  agree(r);
  const dataset_doc *doc = NULL;
  for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
    if (strcmp(docs[i].name, name) == 0) doc = &docs[i];
  CHECK(doc, "internal: /epochs/%s has no units and description (io/results.c: docs)", name);
  describe(r, d, doc->units, doc->description);
  return d;
}

nn_results *nn_results_create(const char *path, const nn_attr *config, int nconfig, const nn_attr *run, int nrun,
                              const char *phase_names)
{
  nn_results *r = calloc(1, sizeof *r);
  CHECK(r, "out of memory");
  r->ok = 1;
  CHECK_MPI(MPI_Comm_rank(MPI_COMM_WORLD, &r->me));
  CHECK_MPI(MPI_Comm_size(MPI_COMM_WORLD, &r->nranks));
  snprintf(r->path, sizeof r->path, "%s", path);
  snprintf(r->part, sizeof r->part, "%s.part", path);
  char msg[1300] = "";
  nn_check_all(nn_io_init(msg, sizeof msg) == 0, msg);

  region_begin(r, "creating the file", 0);
  TRY(r, "H5Eset_auto2", H5Eset_auto2(H5E_DEFAULT, NULL, NULL)); /* failures are reported by us, once */
  /* H5F_ACC_EXCL: MPI-IO creates with O_CREAT|O_EXCL, which never follows a symbolic link and
   * fails if the name exists. nn_output_claim removed any stale OUT.part under the run's lock,
   * so "exists" here means a writer that ignores the lock. */
  hid_t fapl = -1;
  TRY(r, "H5Pset_fapl_mpio", fapl = H5Pcreate(H5P_FILE_ACCESS));
  TRY(r, "H5Pset_fapl_mpio", H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL));
  agree(r);
  errno = 0;
  r->file = H5Fcreate(r->part, H5F_ACC_EXCL, H5P_DEFAULT, fapl);
  if (r->file < 0) {
    char why[700];
    nn_io_reason(why, sizeof why, errno);
    snprintf(r->msg, sizeof r->msg, "--output %s: cannot create %s: %s%s", path, r->part, why,
             strstr(why, "exists") ? " (another program writes it without taking the lock)" : "");
    r->ok = 0;
  }
  if (fapl >= 0) TRY(r, "H5Pclose", H5Pclose(fapl));
  agree(r);
  nn_output_part_created(); /* from here a failure removes it (output_guard.h) */
  TRY(r, "H5Pset_dxpl_mpio", r->dxpl = H5Pcreate(H5P_DATASET_XFER));
  TRY(r, "H5Pset_dxpl_mpio", H5Pset_dxpl_mpio(r->dxpl, H5FD_MPIO_COLLECTIVE));
  agree(r);

  nn_attr a = { .type = NN_ATTR_STRING };
  snprintf(a.name, sizeof a.name, "format");
  snprintf(a.s, sizeof a.s, "admm-nn-results");
  write_attr(r, r->file, &a);
  nn_attr v = { .name = "format_version", .type = NN_ATTR_INT, .i = 1 };
  write_attr(r, r->file, &v);
  snprintf(a.name, sizeof a.name, "status");
  snprintf(a.s, sizeof a.s, "running");
  write_attr(r, r->file, &a);
  for (int i = 0; i < nrun; i++) write_attr(r, r->file, &run[i]);
  hid_t cfg = -1;
  TRY(r, "H5Gcreate /config", cfg = H5Gcreate2(r->file, "config", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  agree(r);
  for (int i = 0; i < nconfig; i++) write_attr(r, cfg, &config[i]);
  TRY(r, "H5Gclose /config", H5Gclose(cfg));

  TRY(r, "H5Gcreate /epochs", r->epochs = H5Gcreate2(r->file, "epochs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  agree(r);
  for (int i = 0; i < SCALARS; i++)
    r->scalar[i] = create_extendable(r, r->epochs, scalar_names[i], i < REALS ? H5T_IEEE_F64LE : H5T_STD_I64LE, 0);
  static const char *const pn[3] = { "phase_min", "phase_avg", "phase_max" };
  nn_attr names = { .name = "phase_names", .type = NN_ATTR_STRINGS };
  snprintf(names.s, sizeof names.s, "%s", phase_names);
  for (int i = 0; i < 3; i++) {
    r->phase[i] = create_extendable(r, r->epochs, pn[i], H5T_IEEE_F64LE, NN_NPHASES);
    write_attr(r, r->phase[i], &names);
  }
  r->rss = create_extendable(r, r->epochs, "rss_mb", H5T_IEEE_F64LE, r->nranks);
  r->phase_rank = create_extendable(r, r->epochs, "phase_rank", H5T_IEEE_F64LE, r->nranks * NN_NPHASES);
  write_attr(r, r->phase_rank, &names);
  r->flops = create_extendable(r, r->epochs, "phase_flops", H5T_IEEE_F64LE, NN_NPHASES);
  write_attr(r, r->flops, &names);
  r->stream = create_extendable(r, r->epochs, "phase_stream", H5T_IEEE_F64LE, NN_NPHASES);
  write_attr(r, r->stream, &names);
  nn_attr kinds = { .name = "kind_names", .type = NN_ATTR_STRINGS, .s = NN_COMM_KIND_NAMES_CSV };
  r->comm_calls = create_extendable(r, r->epochs, "comm_calls", H5T_IEEE_F64LE, NN_NCOMM);
  write_attr(r, r->comm_calls, &kinds);
  r->comm_bytes = create_extendable(r, r->epochs, "comm_bytes", H5T_IEEE_F64LE, NN_NCOMM);
  write_attr(r, r->comm_bytes, &kinds);
  r->sent = create_extendable(r, r->epochs, "bytes_sent", H5T_IEEE_F64LE, r->nranks);
  r->recv = create_extendable(r, r->epochs, "bytes_recv", H5T_IEEE_F64LE, r->nranks);
  TRY(r, "H5Fflush", H5Fflush(r->file, H5F_SCOPE_GLOBAL));
  agree(r);
  nn_io_watch_end();
  return r;
}

/* Grows dataset d by one row and writes `values` (cols of them, or 1 for a 1-D dataset)
 * into it from rank `writer` (all ranks when writer < 0, each its own cols / ranks columns). */
static void append_row(nn_results *r, hid_t d, const char *name, hid_t memtype, const void *values, int cols,
                       int writer)
{
  char what[120];
  hsize_t rows = r->rows + 1;
  hsize_t dims[2] = { rows, (hsize_t)cols };
  snprintf(what, sizeof what, "H5Dset_extent /epochs/%s", name);
  TRY(r, what, H5Dset_extent(d, dims));
  agree(r);
  snprintf(what, sizeof what, "H5Dwrite /epochs/%s", name);
  hid_t fspace = -1, mspace = -1;
  hsize_t start[2] = { r->rows, 0 }, count[2] = { 1, (hsize_t)(cols > 0 ? cols : 1) };
  int mine = writer < 0 || writer == r->me;
  if (writer < 0) {
    hsize_t per = (hsize_t)cols / (hsize_t)r->nranks;
    start[1] = (hsize_t)r->me * per;
    count[1] = per;
  }
  hsize_t mcount = mine ? count[1] : 0;
  TRY(r, what, fspace = H5Dget_space(d));
  TRY(r, what, mspace = H5Screate_simple(1, &mcount, NULL));
  if (r->ok && mine)
    TRY(r, what, H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL));
  else if (r->ok) {
    TRY(r, what, H5Sselect_none(fspace));
    TRY(r, what, H5Sselect_none(mspace));
  }
  agree(r);
  TRY(r, what, H5Dwrite(d, memtype, mspace, fspace, r->dxpl, values));
  agree(r);
  TRY(r, what, H5Sclose(mspace));
  TRY(r, what, H5Sclose(fspace));
}

void nn_results_append(nn_results *r, const nn_epoch_row *row)
{
  region_begin(r, "appending epoch %ld", row->epoch);
  double s[REALS] = { row->loss, row->objective, row->residual_z, row->residual_a, row->train_acc, row->val_acc,
                      row->test_acc, row->t_epoch, row->t_eval, row->t_wall, row->multiplier, row->stream_bytes, row->stream_calls, row->flops_narrow, row->flops_local_solve,
                      row->aa_accepted, row->aa_residual, row->aa_coef_norm, row->train_mse, row->val_mse, row->test_mse };
  for (int i = 0; i < REALS; i++) append_row(r, r->scalar[i], scalar_names[i], H5T_NATIVE_DOUBLE, &s[i], 0, 0);
  append_row(r, r->scalar[REALS], scalar_names[REALS], H5T_NATIVE_LONG, &row->epoch, 0, 0);
  append_row(r, r->scalar[REALS + 1], scalar_names[REALS + 1], H5T_NATIVE_LONG, &row->warmup, 0, 0);
  append_row(r, r->phase[0], "phase_min", H5T_NATIVE_DOUBLE, row->phase_min, NN_NPHASES, 0);
  append_row(r, r->phase[1], "phase_avg", H5T_NATIVE_DOUBLE, row->phase_avg, NN_NPHASES, 0);
  append_row(r, r->phase[2], "phase_max", H5T_NATIVE_DOUBLE, row->phase_max, NN_NPHASES, 0);
  append_row(r, r->rss, "rss_mb", H5T_NATIVE_DOUBLE, &row->rss_mb, r->nranks, -1);
  append_row(r, r->phase_rank, "phase_rank", H5T_NATIVE_DOUBLE, row->phase_rank, r->nranks * NN_NPHASES, -1);
  append_row(r, r->flops, "phase_flops", H5T_NATIVE_DOUBLE, row->phase_flops, NN_NPHASES, 0);
  append_row(r, r->stream, "phase_stream", H5T_NATIVE_DOUBLE, row->phase_stream, NN_NPHASES, 0);
  append_row(r, r->comm_calls, "comm_calls", H5T_NATIVE_DOUBLE, row->comm_calls, NN_NCOMM, 0);
  append_row(r, r->comm_bytes, "comm_bytes", H5T_NATIVE_DOUBLE, row->comm_bytes, NN_NCOMM, 0);
  append_row(r, r->sent, "bytes_sent", H5T_NATIVE_DOUBLE, &row->bytes_sent, r->nranks, -1);
  append_row(r, r->recv, "bytes_recv", H5T_NATIVE_DOUBLE, &row->bytes_recv, r->nranks, -1);
  r->rows++;
  /* A crash later still leaves every finished epoch readable in the .part file. */
  TRY(r, "H5Fflush", H5Fflush(r->file, H5F_SCOPE_GLOBAL));
  agree(r);
  nn_io_watch_end();
}

void nn_results_weights(nn_results *r, int L, const int *n, void *const *W, void *const *b, int float32)
{
  region_begin(r, "writing the weights", 0);
  hid_t g = -1;
  TRY(r, "H5Gcreate /weights", g = H5Gcreate2(r->file, "weights", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  agree(r);
  nn_attr sizes = { .name = "layer_sizes", .type = NN_ATTR_INTS, .nints = L + 1 };
  for (int l = 0; l <= L; l++) sizes.ints[l] = n[l];
  write_attr(r, g, &sizes);
  hid_t ftype = float32 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE, mtype = float32 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
  size_t esize = float32 ? sizeof(float) : sizeof(double);
  for (int l = 1; l <= L; l++) {
    for (int which = 0; which < (b ? 2 : 1); which++) {
      char name[16], what[64];
      snprintf(name, sizeof name, "%c%d", which ? 'b' : 'W', l);
      hsize_t dims[2] = { (hsize_t)n[l], (hsize_t)n[l - 1] };
      hid_t space = -1, d = -1;
      snprintf(what, sizeof what, "H5Dcreate /weights/%s", name);
      TRY(r, what, space = H5Screate_simple(which ? 1 : 2, dims, NULL));
      if (r->ok) TRY(r, what, d = H5Dcreate2(g, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
      agree(r);
      char description[160];
      if (which) snprintf(description, sizeof description, "biases of the %d units of layer %d of the kept (best-validation) model", n[l], l);
      else
        snprintf(description, sizeof description, "weights of layer %d of the kept (best-validation) model: row i holds "
                 "those into unit i, z_%d = W%d a_%d", l, l, l, l - 1);
      describe(r, d, "1", description);
      /* Memory is column-major n[l] x n[l-1]; the dataset is row-major (n[l], n[l-1]),
       * so rank 0 writes a transposed copy. */
      const char *src = which ? b[l] : W[l];
      char *buf = NULL;
      if (r->me == 0 && !which) {
        buf = malloc(esize * dims[0] * dims[1]);
        CHECK(buf, "out of memory writing weights");
        for (hsize_t i = 0; i < dims[0]; i++)
          for (hsize_t j = 0; j < dims[1]; j++)
            memcpy(buf + (i * dims[1] + j) * esize, src + (i + j * dims[0]) * esize, esize);
        src = buf;
      }
      snprintf(what, sizeof what, "H5Dwrite /weights/%s", name);
      if (r->me != 0) TRY(r, what, H5Sselect_none(space));
      agree(r);
      TRY(r, what, H5Dwrite(d, mtype, space, space, r->dxpl, src));
      agree(r);
      free(buf);
      TRY(r, what, H5Dclose(d));
      TRY(r, what, H5Sclose(space));
    }
  }
  TRY(r, "H5Gclose /weights", H5Gclose(g));
  agree(r);
  nn_io_watch_end();
}

void nn_results_finish(nn_results *r, const nn_attr *final, int nfinal)
{
  region_begin(r, "closing the file", 0);
  for (int i = 0; i < nfinal; i++) write_attr(r, r->file, &final[i]);
  nn_attr end = { .name = "end_time", .type = NN_ATTR_STRING };
  if (r->me == 0) {
    time_t now = time(NULL);
    strftime(end.s, sizeof end.s, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  }
  CHECK_MPI(MPI_Bcast(end.s, 32, MPI_CHAR, 0, MPI_COMM_WORLD)); /* rank 0's clock for everyone */
  write_attr(r, r->file, &end);
  nn_attr st = { .name = "status", .type = NN_ATTR_STRING, .s = "complete" };
  write_attr(r, r->file, &st);
  for (int i = 0; i < SCALARS; i++) TRY(r, "H5Dclose", H5Dclose(r->scalar[i]));
  for (int i = 0; i < 3; i++) TRY(r, "H5Dclose", H5Dclose(r->phase[i]));
  TRY(r, "H5Dclose", H5Dclose(r->rss));
  TRY(r, "H5Dclose", H5Dclose(r->phase_rank));
  hid_t work[6] = { r->flops, r->stream, r->comm_calls, r->comm_bytes, r->sent, r->recv };
  for (int i = 0; i < 6; i++) TRY(r, "H5Dclose", H5Dclose(work[i]));
  TRY(r, "H5Gclose /epochs", H5Gclose(r->epochs));
  TRY(r, "H5Pclose", H5Pclose(r->dxpl));
  /* closing flushes everything still cached: the last place a full disk can show */
  TRY(r, "H5Fclose", H5Fclose(r->file));
  agree(r);
  if (r->me == 0 && rename(r->part, r->path) != 0) {
    r->ok = 0;
    snprintf(r->msg, sizeof r->msg, "%s: cannot rename it to %s: %s", r->part, r->path, strerror(errno));
  }
  agree(r);
  nn_output_release();
  nn_io_watch_end();
  CHECK_MPI(MPI_Barrier(MPI_COMM_WORLD));
  free(r);
}

/* ------------------------------------------------------------------ reading /config */

/* Reads attribute `name` of obj as text into out (strings; string arrays comma separated).
 * Returns 0, or -1 when it is missing or not a string. */
static int read_text_attr(hid_t obj, const char *name, char *out, size_t len)
{
  out[0] = 0;
  if (H5Aexists(obj, name) <= 0) return -1;
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT), ft = a >= 0 ? H5Aget_type(a) : -1;
  hid_t sp = a >= 0 ? H5Aget_space(a) : -1, mt = -1;
  hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
  int rc = -1;
  if (ft >= 0 && n >= 1 && n <= 1024 && H5Tget_class(ft) == H5T_STRING) {
    mt = H5Tcopy(H5T_C_S1);
    H5Tset_cset(mt, H5Tget_cset(ft)); /* HDF5 converts no string between ASCII and UTF-8 */
    if (H5Tis_variable_str(ft) > 0) {
      char *v[1024] = { 0 };
      H5Tset_size(mt, H5T_VARIABLE);
      if (H5Aread(a, mt, v) >= 0) {
        size_t k = 0;
        for (hssize_t i = 0; i < n; i++)
          k += (size_t)snprintf(out + k, k < len ? len - k : 0, "%s%s", i ? "," : "", v[i] ? v[i] : "");
        H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, v);
        rc = 0;
      }
    } else {
      size_t size = H5Tget_size(ft);
      char *raw = size ? calloc((size_t)n, size + 1) : NULL;
      H5Tset_size(mt, size);
      if (raw && H5Aread(a, mt, raw) >= 0) {
        size_t k = 0;
        for (hssize_t i = 0; i < n; i++)
          k += (size_t)snprintf(out + k, k < len ? len - k : 0, "%s%.*s", i ? "," : "", (int)strnlen(raw + i * size, size),
                                raw + i * size);
        rc = 0;
      }
      free(raw);
    }
  }
  if (mt >= 0) H5Tclose(mt);
  if (sp >= 0) H5Sclose(sp);
  if (ft >= 0) H5Tclose(ft);
  if (a >= 0) H5Aclose(a);
  return rc;
}

typedef struct {
  nn_attr *out;
  int max, n;
  const char *path;
  char *err;
  size_t errlen;
} config_walk;

/* One attribute of /config into walk->out: scalar integers and reals, integer arrays (up to 32),
 * strings. */
static herr_t read_config_attr(hid_t loc, const char *name, const H5A_info_t *info, void *data)
{
  (void)info;
  config_walk *w = data;
  if (w->n == w->max) {
    snprintf(w->err, w->errlen, "--config %s: /config holds more than %d attributes", w->path, w->max);
    return -1;
  }
  nn_attr *x = &w->out[w->n];
  memset(x, 0, sizeof *x);
  snprintf(x->name, sizeof x->name, "%s", name);
  hid_t a = H5Aopen(loc, name, H5P_DEFAULT), ft = a >= 0 ? H5Aget_type(a) : -1, sp = a >= 0 ? H5Aget_space(a) : -1;
  hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
  int scalar = sp >= 0 && H5Sget_simple_extent_type(sp) == H5S_SCALAR;
  H5T_class_t cls = ft >= 0 ? H5Tget_class(ft) : H5T_NO_CLASS;
  int ok = 0;
  if (cls == H5T_INTEGER && scalar) {
    x->type = NN_ATTR_INT;
    ok = H5Aread(a, H5T_NATIVE_LONG, &x->i) >= 0;
  } else if (cls == H5T_INTEGER && n >= 1 && n <= 32) {
    x->type = NN_ATTR_INTS;
    x->nints = (int)n;
    ok = H5Aread(a, H5T_NATIVE_LONG, x->ints) >= 0;
  } else if (cls == H5T_FLOAT && scalar) {
    x->type = NN_ATTR_REAL;
    ok = H5Aread(a, H5T_NATIVE_DOUBLE, &x->d) >= 0;
  } else if (cls == H5T_STRING) {
    x->type = scalar ? NN_ATTR_STRING : NN_ATTR_STRINGS;
    ok = read_text_attr(loc, name, x->s, sizeof x->s) == 0;
  }
  if (sp >= 0) H5Sclose(sp);
  if (ft >= 0) H5Tclose(ft);
  if (a >= 0) H5Aclose(a);
  if (!ok) {
    snprintf(w->err, w->errlen, "--config %s: /config/%s is not an integer, real or string this admm-train can read",
             w->path, name);
    return -1;
  }
  w->n++;
  return 0;
}

int nn_results_read_config(const char *path, nn_attr *out, int max, char *err, size_t errlen)
{
  FILE *probe = fopen(path, "rb"); /* the system's reason, where there is one */
  if (!probe) {
    snprintf(err, errlen, "--config %s: cannot read it: %s", path, strerror(errno));
    return -1;
  }
  fclose(probe);
  H5E_auto2_t print;
  void *print_data;
  H5Eget_auto2(H5E_DEFAULT, &print, &print_data);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* our one line says what failed */
  /* No file lock: a results file is written once and never changed, and a live run's .part is
   * written without one (SCHEMA.md). */
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), f = -1, g = -1;
#if H5_VERSION_GE(1, 10, 7)
  H5Pset_file_locking(fapl, 0, 1);
#endif
  f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
  H5Pclose(fapl);
  int n = -1;
  char format[64];
  long version = 0;
  hid_t va = -1;
  if (f < 0)
    snprintf(err, errlen, "--config %s: not an HDF5 file (--config takes a results file of admm-train)", path);
  else if (read_text_attr(f, "format", format, sizeof format) != 0 || strcmp(format, "admm-nn-results") != 0)
    snprintf(err, errlen, "--config %s: not an admm-nn results file (format %s%s%s)%s", path, format[0] ? "\"" : "",
             format[0] ? format : "missing", format[0] ? "\"" : "",
             strstr(format, "checkpoint") ? ": a checkpoint continues its run with --resume" : "");
  else if (H5Aexists(f, "format_version") <= 0 || (va = H5Aopen(f, "format_version", H5P_DEFAULT)) < 0 ||
           H5Aread(va, H5T_NATIVE_LONG, &version) < 0 || version != 1)
    snprintf(err, errlen, "--config %s: results format_version %ld, this admm-train reads 1", path, version);
  else if (H5Lexists(f, "config", H5P_DEFAULT) <= 0 || (g = H5Gopen2(f, "config", H5P_DEFAULT)) < 0)
    snprintf(err, errlen, "--config %s: a results file without the group /config", path);
  else {
    config_walk w = { out, max, 0, path, err, errlen };
    hsize_t idx = 0;
    err[0] = 0;
    if (H5Aiterate2(g, H5_INDEX_NAME, H5_ITER_INC, &idx, read_config_attr, &w) >= 0) n = w.n;
    else if (!err[0]) snprintf(err, errlen, "--config %s: cannot read the attributes of /config", path);
  }
  if (va >= 0) H5Aclose(va);
  if (g >= 0) H5Gclose(g);
  if (f >= 0) H5Fclose(f);
  H5Eset_auto2(H5E_DEFAULT, print, print_data);
  return n;
}
