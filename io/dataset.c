/* Data shards; see dataset.h. Column-major, samples are columns: x is d x n per shard. */
#include "dataset.h"

#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/check.h"
#include "../common/rng.h"
#include "../common/util.h"
#include "idx.h"
#include "csv.h"
#include "inputs.h"

static void shard_alloc(nn_shard *s, int d, int classes, long n_global, long first, long n, int float32)
{
  s->d = d;
  s->float32 = float32;
  s->classes = classes;
  s->n_global = n_global;
  s->first = first;
  s->n = n;
  s->x = malloc((float32 ? sizeof(float) : sizeof(double)) * (size_t)d * (n ? n : 1));
  s->label = calloc((size_t)(n ? n : 1), sizeof(int));
  CHECK(s->x && s->label, "out of memory for a data shard of %ld samples", n);
}

/* A regression shard: classes outputs per sample, in s->y. */
static void shard_alloc_targets(nn_shard *s)
{
  s->y = malloc((s->float32 ? sizeof(float) : sizeof(double)) * (size_t)s->classes * (s->n ? s->n : 1));
  CHECK(s->y, "out of memory for the targets of %ld samples", s->n);
}

/* Stores v as target k of s->y. */
static inline void put_target(nn_shard *s, size_t k, double v)
{
  if (s->float32)
    ((float *)s->y)[k] = (float)v;
  else
    ((double *)s->y)[k] = v;
}

/* Stores v as value k of s->x, in the shard's precision. */
static inline void put_value(nn_shard *s, size_t k, double v)
{
  if (s->float32)
    ((float *)s->x)[k] = (float)v;
  else
    ((double *)s->x)[k] = v;
}

/* Value k of s->x, in double. */
static inline double get_value(const nn_shard *s, size_t k)
{
  return s->float32 ? (double)((const float *)s->x)[k] : ((const double *)s->x)[k];
}

/* Reads samples [first, first+n) of an image/label pair into shard columns [col, col+n). */
static int read_slice(const nn_idx *img, const nn_idx *lab, long first, long n, nn_shard *s, long col,
                      double mean, double std, char *err, int errlen)
{
  if (n == 0) return 0;
  uint8_t *px = malloc((size_t)n * img->sample_size), *lb = malloc((size_t)n);
  if (!px || !lb) { snprintf(err, errlen, "out of memory reading %s", img->path); free(px); free(lb); return -1; }
  int rc = nn_idx_read(img, first, n, px, err, errlen);
  if (rc == 0) rc = nn_idx_read(lab, first, n, lb, err, errlen);
  for (long j = 0; rc == 0 && j < n; j++) {
    if (lb[j] >= s->classes) {
      snprintf(err, errlen, "%s: label %d of sample %ld is out of range for %d classes (--layers ends in %d)",
               lab->path, lb[j], first + j, s->classes, s->classes);
      rc = -1;
      break;
    }
    s->label[col + j] = lb[j];
    size_t x = (size_t)(col + j) * s->d;
    const uint8_t *p = px + (size_t)j * img->sample_size;
    for (int i = 0; i < s->d; i++) put_value(s, x + i, (p[i] / 255.0 - mean) / std);
  }
  free(px);
  free(lb);
  return rc;
}

static void normalization(const nn_config *cfg, double *mean, double *std)
{
  if (cfg->normalize == NN_NORMALIZE_NONE) { *mean = 0; *std = 1; return; }
  if (cfg->normalize == NN_NORMALIZE_DATASET) {
    /* The usual per-data-set statistics of pixel/255 over the training images. */
    if (strcmp(cfg->data, "fashion-mnist") == 0) { *mean = 0.2860; *std = 0.3530; }
    else if (strcmp(cfg->data, "mnist") == 0) { *mean = 0.1307; *std = 0.3081; }
    else { *mean = 0; *std = 1; }
    return;
  }
  *mean = cfg->norm_mean; /* MEAN,STD as the option parser read and checked them */
  *std = cfg->norm_std;
}

/* Deterministic, rank-count independent synthetic classification set: class centres in
 * d dimensions, samples = centre + unit Gaussian noise; sample i depends only on (seed, i). */
static void synth_fill(nn_shard *s, long global_first, uint64_t seed, uint64_t stream)
{
  for (long j = 0; j < s->n; j++) {
    long g = global_first + j;
    int y = (int)(nn_rng_u64(seed, stream, (uint64_t)g) % (uint64_t)s->classes);
    s->label[j] = y;
    size_t x = (size_t)j * s->d;
    for (int i = 0; i < s->d; i++) {
      double centre = 1.5 * nn_rng_normal(seed, 77, (uint64_t)y * s->d + i);
      put_value(s, x + i, centre + nn_rng_normal(seed, stream + 1, (uint64_t)g * s->d + i));
    }
  }
}

static void load_synthetic(nn_data *d, const nn_config *cfg, int me, int p)
{
  long n_all, n_test;
  nn_input_sizes(cfg, &n_all, &n_test);
  nn_check_all(cfg->validation < n_all, "--validation must leave training samples (synthetic data)");
  long n_train = n_all - cfg->validation, f, c;
  int dim = cfg->n[0], k = cfg->n[cfg->L];
  uint64_t seed = (uint64_t)cfg->seed;
  nn_partition(n_train, me, p, &f, &c);
  shard_alloc(&d->train, dim, k, n_train, f, c, cfg->float32);
  synth_fill(&d->train, f, seed, 100);
  nn_partition(cfg->validation, me, p, &f, &c);
  shard_alloc(&d->val, dim, k, cfg->validation, f, c, cfg->float32);
  synth_fill(&d->val, n_train + f, seed, 100);
  nn_partition(n_test, me, p, &f, &c);
  shard_alloc(&d->test, dim, k, n_test, f, c, cfg->float32);
  synth_fill(&d->test, f, seed, 200);
  d->mean = 0;
  d->std = 1;
  snprintf(d->source, sizeof d->source, "synthetic(seed=%ld)", cfg->seed);
}

/* --data regression: function fitting, sample g a pure function of (seed, stream, g). Inputs
 * x ~ U[-1, 1]^d; target k of k = 0..m-1:
 *   y_k = (1/sqrt d) sum_{i=1..d} sin(pi x_i + i + k) + x_1 x_d + 0.05 eps,  eps ~ N(0, 1),
 * a smooth, non-separable function (the product term) with a little noise, so the best test
 * MSE is about 0.0025. */
static void regression_fill(nn_shard *s, long global_first, uint64_t seed, uint64_t stream)
{
  int d = s->d;
  for (long j = 0; j < s->n; j++) {
    uint64_t g = (uint64_t)(global_first + j);
    size_t x = (size_t)j * d;
    double sx[NN_REGRESSION_MAX_INPUTS];
    for (int i = 0; i < d; i++) {
      sx[i] = 2.0 * nn_rng_uniform(seed, stream, g * (uint64_t)d + (uint64_t)i) - 1.0;
      put_value(s, x + i, sx[i]);
    }
    for (int k = 0; k < s->classes; k++) {
      double v = 0;
      for (int i = 0; i < d; i++) v += sin(3.14159265358979323846 * sx[i] + (i + 1) + k);
      v = v / sqrt((double)d) + sx[0] * sx[d - 1] +
          0.05 * nn_rng_normal(seed, stream + 1, g * (uint64_t)s->classes + (uint64_t)k);
      put_target(s, (size_t)j * s->classes + k, v);
    }
  }
}

static void load_regression(nn_data *d, const nn_config *cfg, int me, int p)
{
  long n_all, n_test;
  nn_input_sizes(cfg, &n_all, &n_test);
  int dim = cfg->n[0], k = cfg->n[cfg->L];
  nn_check_all(cfg->validation < n_all, "--validation must leave training samples (regression data)");
  nn_check_all(dim <= NN_REGRESSION_MAX_INPUTS, "option --layers: --data regression takes at most "
               NN_STR(NN_REGRESSION_MAX_INPUTS) " inputs");
  long n_train = n_all - cfg->validation, f, c;
  uint64_t seed = (uint64_t)cfg->seed;
  nn_shard *split[3] = { &d->train, &d->val, &d->test };
  long total[3] = { n_train, cfg->validation, n_test }, offset[3] = { 0, n_train, 0 };
  uint64_t stream[3] = { 400, 400, 500 };
  for (int i = 0; i < 3; i++) {
    nn_partition(total[i], me, p, &f, &c);
    shard_alloc(split[i], dim, k, total[i], f, c, cfg->float32);
    shard_alloc_targets(split[i]);
    regression_fill(split[i], offset[i] + f, seed, stream[i]);
  }
  d->mean = 0;
  d->std = 1;
  snprintf(d->source, sizeof d->source, "regression(seed=%ld)", cfg->seed);
}

/* --data csv: every rank reads the whole table (csv.h), shuffles its rows by the seed (row
 * order in such files is often sorted), and keeps its slice of each split: the last test rows
 * of the shuffled order are the test split, the validation rows precede them, the rest train.
 * Inputs and target are standardised by the training rows' mean and standard deviation (a
 * constant column keeps standard deviation 1), so the MSE is in units of the target's
 * training variance. */
static void load_csv(nn_data *d, const nn_config *cfg, int me, int p)
{
  double *v;
  long rows;
  int cols, t;
  char err[1400] = "";
  int ok = nn_csv_read(cfg->csv, cfg->csv_skip, cfg->target, &v, &rows, &cols, &t, err, sizeof err) == 0;
  if (ok && cols - 1 != cfg->n[0]) {
    snprintf(err, sizeof err, "--csv %s: %d input columns (besides the target) but --layers starts with %d", cfg->csv,
             cols - 1, cfg->n[0]);
    ok = 0;
  }
  long n_test = cfg->n_test > 0 ? cfg->n_test : rows / 5;
  long n_val = cfg->validation >= 0 ? cfg->validation : (rows - n_test) / 8;
  long n_train = rows - n_test - n_val;
  if (ok && (n_test >= rows || n_train < 1)) {
    snprintf(err, sizeof err, "--csv %s: %ld rows leave no training rows after %ld test and %ld validation rows",
             cfg->csv, rows, n_test, n_val);
    ok = 0;
  }
  nn_check_all(ok, err);

  /* Fisher-Yates by counter-based draws: the same order on every rank and rank count. */
  long *order = nn_alloc((size_t)rows, sizeof(long), "the row order");
  for (long i = 0; i < rows; i++) order[i] = i;
  for (long i = rows - 1; i > 0; i--) {
    long j = (long)(nn_rng_u64((uint64_t)cfg->seed, 600, (uint64_t)i) % (uint64_t)(i + 1)), keep = order[i];
    order[i] = order[j];
    order[j] = keep;
  }
  double *mean = nn_alloc((size_t)cols, sizeof(double), "column statistics");
  double *sd = nn_alloc((size_t)cols, sizeof(double), "column statistics");
  for (int c = 0; c < cols; c++) {
    double s = 0, q = 0;
    for (long i = 0; i < n_train; i++) s += v[(size_t)order[i] * cols + c];
    mean[c] = s / (double)n_train;
    for (long i = 0; i < n_train; i++) {
      double e = v[(size_t)order[i] * cols + c] - mean[c];
      q += e * e;
    }
    sd[c] = n_train > 1 && q > 0 ? sqrt(q / (double)(n_train - 1)) : 1;
  }
  nn_shard *split[3] = { &d->train, &d->val, &d->test };
  long total[3] = { n_train, n_val, n_test }, offset[3] = { 0, n_train, n_train + n_val };
  for (int s = 0; s < 3; s++) {
    long f, c;
    nn_partition(total[s], me, p, &f, &c);
    shard_alloc(split[s], cols - 1, 1, total[s], f, c, cfg->float32);
    shard_alloc_targets(split[s]);
    for (long j = 0; j < c; j++) {
      const double *row = v + (size_t)order[offset[s] + f + j] * cols;
      for (int col = 0, i = 0; col < cols; col++) {
        double z = (row[col] - mean[col]) / sd[col];
        if (col == t) put_target(split[s], (size_t)j, z);
        else put_value(split[s], (size_t)j * (cols - 1) + i++, z);
      }
    }
  }
  d->mean = 0;
  d->std = 1;
  snprintf(d->source, sizeof d->source, "csv(%.1000s, target column %d of %d, %ld rows, seed=%ld)", cfg->csv, t, cols,
           rows, cfg->seed);
  free(order);
  free(mean);
  free(sd);
  free(v);
}

void nn_data_load(nn_data *d, const nn_config *cfg)
{
  int me = nn_rank(), p = nn_nranks();
  memset(d, 0, sizeof *d);
  if (strcmp(cfg->data, "synthetic") == 0) { load_synthetic(d, cfg, me, p); return; }
  if (strcmp(cfg->data, "regression") == 0) { load_regression(d, cfg, me, p); return; }
  if (strcmp(cfg->data, "csv") == 0) { load_csv(d, cfg, me, p); return; }

  char paths[4][NN_INPUT_PATH_MAX];
  nn_input_files(cfg, paths, NULL);
  snprintf(d->source, sizeof d->source, "%s;%s;%s;%s", paths[0], paths[1], paths[2], paths[3]);

  /* Every rank opens and validates the headers itself, so all ranks reach the same verdict
   * and stop together with the first rank's message. */
  nn_idx f[4];
  char err[2600] = "";
  int ok = 1;
  for (int i = 0; i < 4 && ok; i++) ok = nn_idx_open(&f[i], paths[i], i % 2 ? 1 : 3, err, sizeof err) == 0;
  if (ok && f[0].count != f[1].count) {
    snprintf(err, sizeof err, "%s has %ld images but %s has %ld labels", paths[0], f[0].count, paths[1], f[1].count);
    ok = 0;
  }
  if (ok && f[2].count != f[3].count) {
    snprintf(err, sizeof err, "%s has %ld images but %s has %ld labels", paths[2], f[2].count, paths[3], f[3].count);
    ok = 0;
  }
  if (ok && (f[2].rows != f[0].rows || f[2].cols != f[0].cols)) {
    snprintf(err, sizeof err, "%s holds %d x %d images (%ld pixels) but the training images %s are %d x %d (%ld pixels)",
             paths[2], f[2].rows, f[2].cols, f[2].sample_size, paths[0], f[0].rows, f[0].cols, f[0].sample_size);
    ok = 0;
  }
  if (ok && f[0].sample_size != cfg->n[0]) {
    snprintf(err, sizeof err, "%s: images have %ld pixels but --layers starts with %d", paths[0],
             f[0].sample_size, cfg->n[0]);
    ok = 0;
  }
  long n_all = ok ? f[0].count : 0, n_test = ok ? f[2].count : 0;
  if (ok && cfg->n_train > n_all) {
    snprintf(err, sizeof err, "--n-train %ld exceeds the %ld samples of %s", cfg->n_train, n_all, paths[0]);
    ok = 0;
  }
  if (ok && cfg->n_train > 0) n_all = cfg->n_train;
  if (ok && cfg->n_test > 0) n_test = cfg->n_test < n_test ? cfg->n_test : n_test;
  /* --validation auto on IDX files: 1/12 of the training samples (MNIST's 5000 of 60000) */
  long n_val = cfg->validation >= 0 ? cfg->validation : n_all / 12;
  if (ok && n_val >= n_all) {
    snprintf(err, sizeof err, "--validation %ld leaves no training samples out of %ld", n_val, n_all);
    ok = 0;
  }
  nn_check_all(ok, err);

  double mean, std;
  normalization(cfg, &mean, &std);
  d->mean = mean;
  d->std = std;
  int dim = cfg->n[0], k = cfg->n[cfg->L];
  long n_train = n_all - n_val, first, count;
  nn_partition(n_train, me, p, &first, &count);
  shard_alloc(&d->train, dim, k, n_train, first, count, cfg->float32);
  ok = read_slice(&f[0], &f[1], first, count, &d->train, 0, mean, std, err, sizeof err) == 0;
  nn_partition(n_val, me, p, &first, &count);
  shard_alloc(&d->val, dim, k, n_val, first, count, cfg->float32);
  if (ok) ok = read_slice(&f[0], &f[1], n_train + first, count, &d->val, 0, mean, std, err, sizeof err) == 0;
  nn_partition(n_test, me, p, &first, &count);
  shard_alloc(&d->test, dim, k, n_test, first, count, cfg->float32);
  if (ok) ok = read_slice(&f[2], &f[3], first, count, &d->test, 0, mean, std, err, sizeof err) == 0;
  nn_check_all(ok, err);
}

void nn_data_free(nn_data *d)
{
  nn_shard *s[3] = { &d->train, &d->val, &d->test };
  for (int i = 0; i < 3; i++) {
    free(s[i]->x);
    free(s[i]->label);
    free(s[i]->y);
  }
}

/* FNV-1a 64 over the bytes of count values of x from k, as doubles. */
static uint64_t hash_values(uint64_t h, const nn_shard *s, const void *x, size_t k, size_t count)
{
  for (size_t i = 0; i < count; i++) {
    double v = s->float32 ? (double)((const float *)x)[k + i] : ((const double *)x)[k + i];
    unsigned char b[sizeof v];
    memcpy(b, &v, sizeof v);
    for (size_t c = 0; c < sizeof v; c++) h = (h ^ b[c]) * 1099511628211ull;
  }
  return h;
}

uint64_t nn_split_checksum(const nn_shard *s, double mean, double std)
{
  uint64_t sum = 0;
  for (long j = 0; s->y && j < s->n; j++) { /* regression: the values themselves */
    uint64_t h = hash_values(14695981039346656037ull, s, s->x, (size_t)j * s->d, (size_t)s->d);
    sum += hash_values(h, s, s->y, (size_t)j * s->classes, (size_t)s->classes);
  }
  for (long j = 0; !s->y && j < s->n; j++) {
    uint64_t h = 14695981039346656037ull; /* FNV-1a 64 */
    h = (h ^ (uint8_t)s->label[j]) * 1099511628211ull;
    size_t x = (size_t)j * s->d;
    for (int i = 0; i < s->d; i++) {
      long px = lround(255.0 * (get_value(s, x + i) * std + mean));
      h = (h ^ (uint8_t)px) * 1099511628211ull;
    }
    sum += h;
  }
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &sum, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD));
  return sum;
}
