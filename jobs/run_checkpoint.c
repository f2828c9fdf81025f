/* A run's checkpoint and the resume from it; see run_checkpoint.h. Layout (io/SCHEMA.md):
 * root attributes for the scalars and the recorded options and data, model/ and best/ for
 * the weights, method/ for the method's state arrays, rows and rows_per_rank for the
 * results rows. */
#include "run_checkpoint.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/check.h"
#include "../common/util.h"
#include "options.h"

/* Options that steer a run without shaping what it computes: a resume may change them. */
static const char *const steering[] = { "epochs", "output", "force", "quiet", "checkpoint", "checkpoint_every",
                                        "checkpoint_interval", "resume", NULL };

void nn_run_checkpoint_path(const nn_config *cfg, const char *results, char *out, size_t len)
{
  if (strcmp(cfg->checkpoint, "none") == 0) { out[0] = 0; return; }
  if (cfg->checkpoint[0]) { snprintf(out, len, "%s", cfg->checkpoint); return; }
  size_t n = strlen(results);
  int h5 = n > 3 && strcmp(results + n - 3, ".h5") == 0;
  snprintf(out, len, "%.*s.checkpoint.h5", (int)(h5 ? n - 3 : n), results);
}

/* "name=value" lines of the options that shape the run, as /config records them. */
static void shaping_options(const train_run *r, char *out, size_t len)
{
  enum { MAX = 80 };
  nn_config recorded = *r->cfg;
  recorded.validation = r->data.val.n_global; /* as /config records it */
  nn_attr *a = nn_alloc(MAX, sizeof *a, "the checkpoint's options");
  int n = nn_options_attrs(&recorded, a, MAX);
  size_t k = 0;
  out[0] = 0;
  for (int i = 0; i < n; i++) {
    int skip = a[i].type == NN_ATTR_INTS; /* layer_sizes: the layers option says it */
    for (int s = 0; steering[s] && !skip; s++) skip = strcmp(a[i].name, steering[s]) == 0;
    if (!skip && k < len) k += (size_t)snprintf(out + k, len - k, "%s=%s\n", a[i].name, a[i].s);
  }
  CHECK(k < len, "internal: the checkpoint's options exceed %zu characters", len);
  free(a);
}

static nn_ck_type ck_type(const train_run *r, enum nn_state_type t)
{
  switch (t) {
  case NN_STATE_REAL: return r->num->real_size == sizeof(float) ? NN_CK_F32 : NN_CK_F64;
  case NN_STATE_DOUBLE: return NN_CK_F64;
  case NN_STATE_LONG: return NN_CK_I64;
  default: return NN_CK_I32;
  }
}

/* The weights of m as arrays "prefix/W1", "prefix/b1", ...: put (write) or get (read). */
static int model_arrays(nn_ckpt *c, const train_run *r, nn_model *m, const char *prefix, int put)
{
  void *W[NN_MAX_LAYERS + 1], *b[NN_MAX_LAYERS + 1];
  int L = r->num->model_layers(m, W, b), rc = 0;
  nn_ck_type type = ck_type(r, NN_STATE_REAL);
  const int *n = r->cfg->n;
  for (int l = 1; l <= L && rc == 0; l++) {
    char name[64];
    int64_t dims[2] = { n[l - 1], n[l] }; /* column-major n[l] x n[l-1] */
    snprintf(name, sizeof name, "%s/W%d", prefix, l);
    rc = put ? nn_ckpt_put_array(c, name, type, 2, dims, W[l]) : nn_ckpt_get_array(c, name, type, 2, dims, W[l]);
    if (rc || !r->cfg->biases) continue;
    int64_t nb = n[l];
    snprintf(name, sizeof name, "%s/b%d", prefix, l);
    rc = put ? nn_ckpt_put_array(c, name, type, 1, &nb, b[l]) : nn_ckpt_get_array(c, name, type, 1, &nb, b[l]);
  }
  return rc;
}

/* The method's state arrays under method/: put or get. */
static int method_arrays(nn_ckpt *c, const train_run *r, int put)
{
  const nn_method_ops *ops = r->method.ops;
  if (!ops->state_arrays) return 0;
  nn_state_array a[NN_STATE_ARRAYS_MAX];
  int n = ops->state_arrays(r->method.self, a, NN_STATE_ARRAYS_MAX), rc = 0;
  for (int i = 0; i < n && rc == 0; i++) {
    char name[64];
    snprintf(name, sizeof name, "method/%.31s", a[i].name);
    nn_ck_type type = ck_type(r, a[i].type);
    if (a[i].replicated) {
      int64_t dims[2] = { a[i].count, a[i].rows };
      rc = put ? nn_ckpt_put_array(c, name, type, 2, dims, a[i].values)
               : nn_ckpt_get_array(c, name, type, 2, dims, a[i].values);
    } else
      rc = put ? nn_ckpt_put_columns(c, name, type, a[i].rows, a[i].total, a[i].first, a[i].count, a[i].values)
               : nn_ckpt_get_columns(c, name, type, a[i].rows, a[i].total, a[i].first, a[i].count, a[i].values);
  }
  return rc;
}

/* The figures of a row that each rank holds for itself (results.h): peak RSS, bytes sent and
 * received, its own seconds in each phase. */
enum { PER_RANK = 3 + NN_NPHASES };
static double *per_rank_field(nn_epoch_row *row, int f)
{
  return f == 0 ? &row->rss_mb : f == 1 ? &row->bytes_sent : f == 2 ? &row->bytes_recv : &row->phase_rank[f - 3];
}

int nn_run_checkpoint_save(const train_run *r)
{
  if (!r->checkpoint[0]) return 0;
  char err[1200] = "";
  nn_ckpt *c = nn_ckpt_begin(r->checkpoint, MPI_COMM_WORLD, err, sizeof err);
  if (!c) goto failed;
  char *options = nn_alloc(16384, 1, "the checkpoint's options");
  shaping_options(r, options, 16384);
  nn_ckpt_put_string(c, "options", options);
  free(options);
  nn_ckpt_put_string(c, "results_file", r->path);
  nn_ckpt_put_string(c, "method", r->cfg->method);
  nn_ckpt_put_string(c, "precision", r->num->precision);
  nn_ckpt_put_int(c, "ranks", nn_nranks());
  nn_ckpt_put_int(c, "epoch", r->epochs_run);
  nn_ckpt_put_int(c, "best_epoch", r->best_epoch);
  nn_ckpt_put_int(c, "since_best", r->since_best);
  nn_ckpt_put_double(c, "best_val", r->best_val);
  nn_ckpt_put_double(c, "train_time", r->train_time);
  nn_ckpt_put_double(c, "spent", r->spent);
  nn_ckpt_put_double(c, "last_io", r->last_io);
  nn_ckpt_put_double(c, "t_wall", MPI_Wtime() - r->t_train0);
  nn_ckpt_put_double(c, "total_time", MPI_Wtime() - r->t_start);
  const char *split_names[3] = { "n_train", "n_val", "n_test" }, *sum_names[3] = { "train_checksum", "val_checksum",
                                                                                    "test_checksum" };
  const nn_shard *splits[3] = { &r->data.train, &r->data.val, &r->data.test };
  for (int i = 0; i < 3; i++) {
    nn_ckpt_put_int(c, split_names[i], splits[i]->n_global);
    char sum[24];
    snprintf(sum, sizeof sum, "%016llx", (unsigned long long)r->split_sum[i]);
    nn_ckpt_put_string(c, sum_names[i], sum);
  }
  model_arrays(c, r, r->net, "model", 1);
  model_arrays(c, r, r->best, "best", 1);
  method_arrays(c, r, 1);
  /* The rows as this build lays them out (the layout is checked on resume), rank 0's, and
   * the per-rank figures of every rank. */
  nn_ckpt_put_int(c, "row_bytes", (int64_t)sizeof(nn_epoch_row));
  int64_t dims[2] = { r->nrows, (int64_t)sizeof(nn_epoch_row) };
  nn_ckpt_put_array(c, "rows", NN_CK_U8, 2, dims, r->rows);
  double *mine = nn_alloc((size_t)PER_RANK * (r->nrows ? r->nrows : 1), sizeof(double), "the rows' per-rank figures");
  for (int e = 0; e < r->nrows; e++)
    for (int f = 0; f < PER_RANK; f++) mine[(size_t)e * PER_RANK + f] = *per_rank_field(&r->rows[e], f);
  nn_ckpt_put_columns(c, "rows_per_rank", NN_CK_F64, (int64_t)PER_RANK * r->nrows, nn_nranks(), nn_rank(), 1, mine);
  free(mine);
  if (nn_ckpt_commit(c, err, sizeof err) == 0) return 0;
failed:
  if (nn_rank() == 0) {
    fprintf(stderr, "admm-train: warning: checkpoint not written (the previous one stays): %s\n", err);
    fflush(stderr);
  }
  return -1;
}

/* Ends every rank with the checkpoint's first failure, if any. */
static void check_ckpt(nn_ckpt *c, int rc)
{
  char msg[1300];
  snprintf(msg, sizeof msg, "option --resume: %s", nn_ckpt_error(c));
  nn_check_all(rc == 0, msg);
}

nn_ckpt *nn_run_resume_open(const nn_config *cfg, char *output, size_t len)
{
  char err[1200] = "", msg[1300];
  nn_ckpt *c = nn_ckpt_open(cfg->resume, MPI_COMM_WORLD, err, sizeof err);
  snprintf(msg, sizeof msg, "option --resume: %s", err);
  nn_check_all(c != NULL, msg);
  check_ckpt(c, nn_ckpt_get_string(c, "results_file", output, len));
  return c;
}

/* A checkpoint written before an option existed has no line for it; its run behaved as the
 * option's implied value (options.h). Drops from `now` each line name=value whose name `saved`
 * lacks and whose value is the one implied, so such a checkpoint resumes with that value; for
 * another value writes one line into out (else leaves out empty). */
static void drop_implied(const char *method, const char *saved, char *now, char *out, size_t len)
{
  out[0] = 0;
  for (char *line = now; *line;) {
    size_t ln = strcspn(line, "\n"), name = strcspn(line, "="), next = ln + (line[ln] == '\n');
    const char *implied = NULL;
    if (name < ln && name < 64) {
      char attr[64], key[66];
      snprintf(attr, sizeof attr, "%.*s", (int)name, line);
      snprintf(key, sizeof key, "\n%s=", attr);
      int in_saved = strncmp(saved, key + 1, strlen(key + 1)) == 0 || strstr(saved, key) != NULL;
      if (!in_saved) implied = nn_options_implied_when_absent(method, attr);
    }
    size_t vlen = ln - name - 1;
    if (implied && vlen == strlen(implied) && strncmp(line + name + 1, implied, vlen) == 0) {
      memmove(line, line + next, strlen(line + next) + 1);
      continue;
    }
    if (implied && !out[0]) {
      snprintf(out, len, "option --%.*s: the checkpoint's run has %s (written before the option existed), this run %.*s",
               (int)name, line, implied, (int)vlen, line + name + 1);
      for (char *p = out + 9; *p && *p != ':'; p++)
        if (*p == '_') *p = '-';
    }
    line += next;
  }
}

/* One line naming the first option whose value differs, or "" when none does. */
static void first_difference(const char *saved, const char *now, char *out, size_t len)
{
  out[0] = 0;
  while (*saved || *now) {
    size_t ls = strcspn(saved, "\n"), ln = strcspn(now, "\n");
    if (ls != ln || strncmp(saved, now, ls) != 0) {
      size_t name = strcspn(saved, "=");
      if (name > ls) name = ls;
      const char *eq_now = memchr(now, '=', ln);
      if (eq_now && (size_t)(eq_now - now) == name && strncmp(saved, now, name) == 0)
        snprintf(out, len, "option --%.*s: the checkpoint's run has %.*s, this run %.*s", (int)name, saved,
                 (int)(ls - name - 1), saved + name + 1, (int)(ln - name - 1), now + name + 1);
      else
        snprintf(out, len, "the checkpoint's run has the option '%.*s', this run '%.*s'", (int)ls, saved, (int)ln, now);
      for (char *p = out; *p; p++)
        if (*p == '_' && p < out + 9 + name) *p = '-';
      return;
    }
    saved += ls + (saved[ls] == '\n');
    now += ln + (now[ln] == '\n');
  }
}

void nn_run_options_difference(const char *method, const char *saved, char *now, char *out, size_t len)
{
  drop_implied(method, saved, now, out, len);
  if (!out[0]) first_difference(saved, now, out, len);
}

void nn_run_resume_model(nn_ckpt *c, train_run *r)
{
  enum { LEN = 16384 };
  char *saved = nn_alloc(LEN, 1, "the checkpoint's options"), *now = nn_alloc(LEN, 1, "the run's options");
  char line[1500] = "", msg[1700];
  check_ckpt(c, nn_ckpt_get_string(c, "options", saved, LEN));
  shaping_options(r, now, LEN);
  nn_run_options_difference(r->cfg->method, saved, now, line, sizeof line);
  snprintf(msg, sizeof msg, "option --resume %s: %s", r->cfg->resume, line);
  nn_check_all(line[0] == 0, msg);
  free(saved);
  free(now);

  const char *split_names[3] = { "n_train", "n_val", "n_test" }, *sum_names[3] = { "train_checksum", "val_checksum",
                                                                                    "test_checksum" };
  const nn_shard *splits[3] = { &r->data.train, &r->data.val, &r->data.test };
  for (int i = 0; i < 3; i++) {
    int64_t n = -1;
    char sum[24] = "", want[24];
    check_ckpt(c, nn_ckpt_get_int(c, split_names[i], &n));
    check_ckpt(c, nn_ckpt_get_string(c, sum_names[i], sum, sizeof sum));
    snprintf(want, sizeof want, "%016llx", (unsigned long long)r->split_sum[i]);
    snprintf(msg, sizeof msg, "option --resume %s: the checkpoint's run read other data (%s: %lld samples, "
             "fingerprint %s; this run: %ld, %s)", r->cfg->resume, split_names[i] + 2, (long long)n, sum,
             splits[i]->n_global, want);
    nn_check_all(n == splits[i]->n_global && strcmp(sum, want) == 0, msg);
  }
  check_ckpt(c, model_arrays(c, r, r->net, "model", 0));
  check_ckpt(c, model_arrays(c, r, r->best, "best", 0));
}

void nn_run_resume_state(nn_ckpt *c, train_run *r)
{
  /* The weights once more: a method's init may have moved them (bcd solves the output layer). */
  check_ckpt(c, model_arrays(c, r, r->net, "model", 0));
  check_ckpt(c, method_arrays(c, r, 0));
  if (r->method.ops->state_restored) r->method.ops->state_restored(r->method.self);
  int64_t epoch, best_epoch, since_best, ranks, row_bytes;
  double t_wall, total_time;
  check_ckpt(c, nn_ckpt_get_int(c, "epoch", &epoch));
  check_ckpt(c, nn_ckpt_get_int(c, "best_epoch", &best_epoch));
  check_ckpt(c, nn_ckpt_get_int(c, "since_best", &since_best));
  check_ckpt(c, nn_ckpt_get_int(c, "ranks", &ranks));
  check_ckpt(c, nn_ckpt_get_double(c, "best_val", &r->best_val));
  check_ckpt(c, nn_ckpt_get_double(c, "train_time", &r->train_time));
  check_ckpt(c, nn_ckpt_get_double(c, "spent", &r->spent));
  check_ckpt(c, nn_ckpt_get_double(c, "last_io", &r->last_io));
  check_ckpt(c, nn_ckpt_get_double(c, "t_wall", &t_wall));
  check_ckpt(c, nn_ckpt_get_double(c, "total_time", &total_time));
  check_ckpt(c, nn_ckpt_get_int(c, "row_bytes", &row_bytes));
  char msg[1300];
  snprintf(msg, sizeof msg, "option --resume %s: its rows are laid out by another build (%lld bytes, this build %zu)",
           r->cfg->resume, (long long)row_bytes, sizeof(nn_epoch_row));
  nn_check_all(row_bytes == (int64_t)sizeof(nn_epoch_row), msg);
  snprintf(msg, sizeof msg, "option --resume %s: it was written after epoch %lld, and this run stops at epoch %d "
           "(--warmup + --epochs)", r->cfg->resume, (long long)epoch, r->total);
  nn_check_all(epoch >= 0 && epoch <= r->total, msg);
  r->epochs_run = r->resumed_from = (int)epoch;
  r->best_epoch = (int)best_epoch;
  r->since_best = (int)since_best;

  r->nrows = r->rows_cap = (int)epoch;
  r->rows = nn_alloc((size_t)(epoch ? epoch : 1), sizeof *r->rows, "the results rows");
  int64_t dims[2] = { epoch, (int64_t)sizeof(nn_epoch_row) };
  check_ckpt(c, nn_ckpt_get_array(c, "rows", NN_CK_U8, 2, dims, r->rows));
  /* Each rank's own figures when the rank count is the same; unknown (NaN) on another. */
  double *mine = nn_alloc((size_t)PER_RANK * (epoch ? epoch : 1), sizeof(double), "the rows' per-rank figures");
  int same = ranks == nn_nranks();
  if (same) check_ckpt(c, nn_ckpt_get_columns(c, "rows_per_rank", NN_CK_F64, PER_RANK * epoch, ranks, nn_rank(), 1, mine));
  for (int e = 0; e < epoch; e++)
    for (int f = 0; f < PER_RANK; f++) *per_rank_field(&r->rows[e], f) = same ? mine[(size_t)e * PER_RANK + f] : NAN;
  free(mine);
  char err[1200] = "";
  int rc = nn_ckpt_close(c, err, sizeof err);
  snprintf(msg, sizeof msg, "option --resume: %s", err);
  nn_check_all(rc == 0, msg);

  for (int e = 0; e < r->nrows; e++) nn_results_append(r->res, &r->rows[e]);
  /* The clocks go on from the interrupted run's: t_wall of the rows, and total_time_s, which
   * like train_time_s counts every attempt. */
  r->t_train0 = MPI_Wtime() - t_wall;
  r->t_start -= total_time;
  if (nn_rank() == 0) {
    printf("resumed: %s after epoch %lld (best epoch %lld), written by %lld ranks\n", r->cfg->resume,
           (long long)epoch, (long long)best_epoch, (long long)ranks);
    fflush(stdout);
  }
}
