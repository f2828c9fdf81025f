/* Data shards; see dataset.h. Column-major, samples are columns: x is d x n per shard. */
#include "dataset.h"

#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/check.h"
#include "../common/rng.h"
#include "idx.h"
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
  s->label = malloc(sizeof(int) * (size_t)(n ? n : 1));
  CHECK(s->x && s->label, "out of memory for a data shard of %ld samples", n);
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

void nn_data_load(nn_data *d, const nn_config *cfg)
{
  int me = nn_rank(), p = nn_nranks();
  memset(d, 0, sizeof *d);
  if (strcmp(cfg->data, "synthetic") == 0) { load_synthetic(d, cfg, me, p); return; }

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
  }
}

uint64_t nn_split_checksum(const nn_shard *s, double mean, double std)
{
  uint64_t sum = 0;
  for (long j = 0; j < s->n; j++) {
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
