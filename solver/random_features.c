/* The random-features floor (issue 6's yardstick): hidden layers stay at their random
 * initialisation and only the output layer is solved, by ridge least squares against the
 * one-hot labels, on the same block-cyclic ScaLAPACK path as ADMM's weight step. Any trained
 * network must beat this for its own architecture. One epoch computes the solution; further
 * epochs recompute the same thing (the driver runs one). Collective. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "method.h"
#include "spd.h"

typedef struct {
  const nn_config *cfg;
  R(nn_model) *net;
  const R(nn_shard) *train;
  const nn_grid *g;
} R(rf_state);

enum { RF_CHUNK = 2048 };

static void rf_epoch(void *self, int epoch, int warmup, nn_epoch_stats *st, nn_timer *t)
{
  (void)epoch;
  (void)warmup;
  R(rf_state) *s = self;
  R(nn_model) *net = s->net;
  int L = net->L, nh = net->n[L - 1], k = net->n[L], wmax = 0;
  for (int l = 0; l < L; l++) wmax = net->n[l] > wmax ? net->n[l] : wmax;
  real *buf[2], *G = calloc((size_t)nh * nh, sizeof(real)), *B = calloc((size_t)nh * k, sizeof(real));
  real *Y = calloc((size_t)k * RF_CHUNK, sizeof(real)), *X = malloc(sizeof(real) * (size_t)nh * k);
  buf[0] = malloc(sizeof(real) * (size_t)wmax * RF_CHUNK);
  buf[1] = malloc(sizeof(real) * (size_t)wmax * RF_CHUNK);
  CHECK(G && B && Y && X && buf[0] && buf[1], "out of memory in the random-features solve (%d hidden units)", nh);
  /* Stream the shard in chunks: hidden features h (nh x c), then G += h h^T, B += h y^T. */
  nn_timer_start(t, PH_GRAM);
  for (long j0 = 0; j0 < s->train->n; j0 += RF_CHUNK) {
    long c = s->train->n - j0 < RF_CHUNK ? s->train->n - j0 : RF_CHUNK;
    const real *h = R(nn_forward_layers)(net, s->train->x + (size_t)j0 * net->n[0], c, L - 1, buf);
    memset(Y, 0, sizeof(real) * (size_t)k * c);
    for (long j = 0; j < c; j++) Y[(size_t)j * k + s->train->label[j0 + j]] = 1;
    cblas_syrk(CblasColMajor, CblasLower, CblasNoTrans, nh, (int)c, 1, h, nh, 1, G, nh);
    cblas_gemm(CblasColMajor, CblasNoTrans, CblasTrans, nh, k, (int)c, 1, h, nh, Y, k, 1, B, nh);
  }
  nn_timer_stop(t);
  R(nn_spd) sys;
  R(nn_spd_init)(&sys, s->g, nh, k);
  R(nn_spd_factor_sum)(&sys, G, s->cfg->ridge, t);
  R(nn_spd_solve_sum)(&sys, B, k, X, t);
  R(nn_spd_free)(&sys);
  for (int i = 0; i < k; i++)
    for (int j = 0; j < nh; j++) net->W[L][i + (size_t)j * k] = X[j + (size_t)i * nh];
  st->objective = st->residual_z = st->residual_a = NAN;
  free(G); free(B); free(Y); free(X); free(buf[0]); free(buf[1]);
}

static void rf_destroy(void *self) { free(self); }

R(nn_method) R(nn_random_features_create)(const nn_config *cfg, R(nn_model) *net, const R(nn_shard) *train,
                                          const nn_grid *g)
{
  R(rf_state) *s = malloc(sizeof *s);
  CHECK(s, "out of memory");
  *s = (R(rf_state)){ .cfg = cfg, .net = net, .train = train, .g = g };
  return (R(nn_method)){ .self = s, .epoch = rf_epoch, .destroy = rf_destroy };
}
