/* The method registry's lookups; see method.h. The list itself is in each precision's table
 * (numerics.c); names, options and checks are the same in both, so these read float64's. */
#include "method.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/check.h"
#include "../common/util.h"
#include "numerics.h"

const nn_method *const *nn_method_list(void)
{
  return nn_numerics_f64.methods;
}

const nn_method *nn_method_find(const char *name)
{
  return nn_method_find_in(nn_method_list(), name);
}

const nn_method *nn_method_find_in(const nn_method *const *list, const char *name)
{
  for (int i = 0; list[i]; i++)
    if (strcmp(list[i]->name, name) == 0) return list[i];
  return NULL;
}

int nn_method_takes(const nn_method *m, const char *option)
{
  size_t n = strlen(option);
  for (const char *p = m->options; p && *p;) {
    p += strspn(p, " ");
    size_t w = strcspn(p, " ");
    if (w == n && strncmp(p, option, n) == 0) return 1;
    p += w;
  }
  return 0;
}

nn_method_run nn_method_create(const nn_method *m, const nn_config *cfg, void *model, const void *train,
                               const nn_grid *g)
{
  nn_method_run run = { .method = m, .ops = m->ops };
  if (cfg->anderson > 0) {
    CHECK(m->ops->merit, "internal: --anderson with --method %s, which has no merit", m->name);
    run.ops = nn_numerics_of(cfg)->anderson; /* it finds m by cfg->method in its own table */
  }
  run.self = nn_alloc(1, run.ops->size, "the method's state");
  run.ops->init(run.self, cfg, model, train, g);
  return run;
}

void nn_method_destroy(nn_method_run *run)
{
  run->ops->fini(run->self);
  free(run->self);
  run->self = NULL;
}

double nn_anderson_state_bytes(const nn_config *cfg, double per_sample, double N)
{
  if (cfg->anderson <= 0) return 0;
  double params = 0;
  for (int l = 1; l <= cfg->L; l++) params += (double)cfg->n[l] * (cfg->n[l - 1] + 1);
  return (2.0 * cfg->anderson + 4) * (params + per_sample * N) * (cfg->float32 ? 4 : 8);
}

static nn_state_array *state_slot(nn_state_array *out, int *k, int max, const char *name)
{
  CHECK(*k < max, "internal: a method lists more than %d state arrays", max);
  nn_state_array *a = &out[(*k)++];
  memset(a, 0, sizeof *a);
  CHECK(strlen(name) < sizeof a->name, "internal: state array name '%s' is too long", name);
  snprintf(a->name, sizeof a->name, "%s", name);
  return a;
}

void nn_state_partitioned(nn_state_array *out, int *k, int max, const char *name, void *values, long rows,
                          long first, long count, long total)
{
  nn_state_array *a = state_slot(out, k, max, name);
  a->values = values;
  a->type = NN_STATE_REAL;
  a->rows = rows;
  a->first = first;
  a->count = count;
  a->total = total;
}

void nn_state_replicated(nn_state_array *out, int *k, int max, const char *name, void *values,
                         enum nn_state_type type, long count)
{
  nn_state_array *a = state_slot(out, k, max, name);
  a->values = values;
  a->type = type;
  a->rows = 1;
  a->count = a->total = count;
  a->replicated = 1;
}
