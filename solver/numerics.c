/* This precision's table (numerics.h): the list of methods, and the model operations the
 * driver needs. Compiled twice like every numerical file (real.h); its table is the only
 * symbol each build exports. A new method is one file that defines its entry (as admm.c
 * defines nn_method_admm) and one line here: its name in the declaration and in the list. */
#include "numerics.h"

#include <math.h>
#include <stdlib.h>

#include "../common/util.h"
#include "../common/check.h"
#include "init_pairs.h"
#include "layer_groups.h"
#include "model.h"

extern const nn_method nn_method_bcd, nn_method_admm, nn_method_random_features, nn_method_gd, nn_method_sgd,
  nn_method_momentum, nn_method_adam, nn_method_dladmm, nn_method_resnet_admm;
extern const nn_method_ops nn_anderson_ops;

/* The first is --method's default (jobs/options.c). */
static const nn_method *const methods[] = {
  &nn_method_bcd, &nn_method_admm, &nn_method_random_features, &nn_method_gd, &nn_method_sgd, &nn_method_momentum,
  &nn_method_adam, &nn_method_dladmm, &nn_method_resnet_admm, NULL
};

/* --layer-groups on G x D ranks: this rank's layers only (cfg->layer_groups > 1 only for a
 * method that takes the option: options.c refuses it elsewhere). */
static nn_model *model_create(const nn_config *cfg)
{
  nn_model *m = nn_alloc(1, sizeof *m, "the model");
  int lo, hi;
  nn_rank_layers(cfg->L, cfg->layer_groups, cfg->group_schedule == 2, nn_rank(), nn_nranks(), &lo, &hi);
  nn_model_alloc_layers(m, cfg->L, cfg->n, cfg->biases, lo, hi);
  m->resnet = cfg->arch == NN_ARCH_RESNET;
  m->sigmoid = cfg->activation == NN_ACT_SIGMOID;
  nn_model_init(m, cfg->init, cfg->seed); /* each layer's draw is its own: the held ones get the whole model's bits */
  return m;
}

static nn_model *model_create_whole(const nn_config *cfg)
{
  nn_model *m = nn_alloc(1, sizeof *m, "the whole network");
  nn_model_alloc(m, cfg->L, cfg->n, cfg->biases);
  m->resnet = cfg->arch == NN_ARCH_RESNET;
  m->sigmoid = cfg->activation == NN_ACT_SIGMOID;
  return m;
}

static size_t model_bytes(const nn_model *m) { return nn_model_bytes(m); }

static void model_free(nn_model *m)
{
  nn_model_free(m);
  free(m);
}

static int model_finite(const nn_model *m, int *bad_layer)
{
  for (int l = m->lo; l <= m->hi; l++) {
    size_t count = (size_t)m->n[l] * m->n[l - 1];
    int ok = 1;
    for (size_t e = 0; e < count; e++) ok &= isfinite(m->W[l][e]);
    for (int i = 0; i < m->n[l]; i++) ok &= isfinite(m->b[l][i]);
    if (!ok) { *bad_layer = l; return 0; }
  }
  return 1;
}

static int model_layers(nn_model *m, void *W[], void *b[])
{
  for (int l = 1; l <= m->L; l++) {
    W[l] = m->W[l];
    if (m->bias) b[l] = m->b[l];
  }
  return m->L;
}

static void forward_eval(const nn_model *m, const nn_shard *s, enum nn_loss loss, long *correct, double *loss_sum)
{
  if (s->y) nn_forward_eval_targets(m, nn_shard_reals(s), s->y, s->n, loss_sum);
  else nn_forward_eval(m, nn_shard_reals(s), s->label, s->n, loss, correct, loss_sum);
}

__attribute__((visibility("default"))) const nn_numerics NN_NUMERICS_TABLE = {
  .precision = REAL_NAME,
  .real_size = sizeof(real),
  .methods = methods,
  .anderson = &nn_anderson_ops,
  .model_create = model_create,
  .model_create_whole = model_create_whole,
  .model_bytes = model_bytes,
  .model_init_pairs = nn_init_pairs,
  .model_copy = nn_model_copy,
  .model_free = model_free,
  .model_finite = model_finite,
  .model_layers = model_layers,
  .forward_eval = forward_eval,
};
