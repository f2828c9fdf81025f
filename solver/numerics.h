/* The numerics of one precision, as the driver sees them: one table per precision, built from
 * the same sources (real.h): nn_numerics_f64 and nn_numerics_f32. Everything else those builds
 * define stays inside them, so the driver, I/O and options, built once, reach the model and
 * the methods only through this table. The model is opaque here: its weights are reals of the
 * table's precision (model.h, inside the numerics). */
#ifndef NN_NUMERICS_H
#define NN_NUMERICS_H

#include <stddef.h>

#include "../common/config.h"
#include "method.h"
#include "shard.h"

typedef struct nn_model nn_model;

typedef struct {
  const char *precision;  /* "float64" or "float32": the value of --precision */
  size_t real_size;       /* bytes of one value */
  /* Every method in this precision, in the order of --method's choices and --help;
   * NULL-terminated. The two tables list the same methods with the same options; only their
   * operations differ. */
  const nn_method *const *methods;
  /* --anderson: the wrapper (solver/anderson.h) that nn_method_create puts around a method of
   * this table whose operations have a merit. */
  const nn_method_ops *anderson;

  /* A network of cfg's widths and biases, its weights drawn by cfg->init from cfg->seed
   * (--init pairs: He here, then model_init_pairs). With --layer-groups on G x D ranks it holds
   * this rank's layers only (layer_groups.h nn_rank_layers): the others' W and b are absent, and
   * the operations below skip them; the method's weights_export writes the whole network.
   * Local (it reads the rank and rank count). */
  nn_model *(*model_create)(const nn_config *cfg);
  /* Every layer of cfg's network, zero: what weights_export writes into. Local. */
  nn_model *(*model_create_whole)(const nn_config *cfg);
  /* Bytes of the weights and biases m holds. */
  size_t (*model_bytes)(const nn_model *m);
  /* --init pairs: each hidden unit from two training samples (init_pairs.h). Collective. */
  void (*model_init_pairs)(nn_model *m, const nn_shard *train, long seed);
  void (*model_copy)(nn_model *dst, const nn_model *src);
  void (*model_free)(nn_model *m);
  /* 1 when every weight and bias m holds is finite; else 0 and the first bad layer. Local. */
  int (*model_finite)(const nn_model *m, int *bad_layer);
  /* Layer l's weights W[l] (n[l] x n[l-1], column-major) and biases b[l], l = 1..L, as arrays
   * of real_size values (NULL for a layer m does not hold); b is left alone when the model has
   * no biases. Returns L. */
  int (*model_layers)(nn_model *m, void *W[], void *b[]);
  /* The true forward pass over this rank's samples of s: adds the argmax hits to *correct and
   * the summed loss to *loss_sum (model.h); regression shards (s->y) add only the summed
   * squared loss 0.5 |f(x) - y|^2. Local: the caller sums over ranks. */
  void (*forward_eval)(const nn_model *m, const nn_shard *s, enum nn_loss loss, long *correct, double *loss_sum);
} nn_numerics;

extern const nn_numerics nn_numerics_f64, nn_numerics_f32;

/* The table of cfg's precision. */
static inline const nn_numerics *nn_numerics_of(const nn_config *cfg)
{
  return cfg->float32 ? &nn_numerics_f32 : &nn_numerics_f64;
}

#endif
