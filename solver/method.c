/* The create and destroy the grid methods share; see method.h. */
#include "method.h"

#include <stdlib.h>

#include "util.h"

/* The method's self: the table and the state it drives. */
typedef struct {
  const R(nn_grid_method) *m;
  void *state;
} R(grid_self);

static void R(grid_epoch)(void *self, int epoch, int warmup, nn_epoch_stats *st, nn_timer *t)
{
  R(grid_self) *s = self;
  s->m->epoch(s->state, epoch, warmup, st, t);
}

static void R(grid_destroy)(void *self)
{
  R(grid_self) *s = self;
  s->m->fini(s->state);
  free(s->state);
  free(s);
}

R(nn_method) R(nn_grid_method_create)(const R(nn_grid_method) *m, const nn_config *cfg, R(nn_model) *net,
                                      const R(nn_shard) *train, const nn_grid *g)
{
  R(grid_self) *s = nn_alloc(1, sizeof *s, m->name);
  s->m = m;
  s->state = nn_alloc(1, m->size, m->name);
  m->init(s->state, cfg, net, train, g);
  return (R(nn_method)){ .self = s, .epoch = R(grid_epoch), .destroy = R(grid_destroy) };
}
