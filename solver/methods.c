/* The method registry; see method.h. A new method is one file that defines its entry (as
 * admm.c defines nn_admm) and one line here: its name in the declaration and in the list. */
#include "method.h"

#include <stdlib.h>
#include <string.h>

#include "../common/check.h"
#include "../common/util.h"

extern const nn_method nn_bcd, nn_admm, nn_random_features, nn_gd, nn_sgd, nn_momentum, nn_adam;

/* The first is --method's default (jobs/options.c). */
const nn_method *const nn_methods[] = {
  &nn_bcd, &nn_admm, &nn_random_features, &nn_gd, &nn_sgd, &nn_momentum, &nn_adam, NULL
};

const nn_method *nn_method_find(const char *name)
{
  for (int i = 0; nn_methods[i]; i++)
    if (strcmp(nn_methods[i]->name, name) == 0) return nn_methods[i];
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

nn_method_run nn_method_create(const nn_config *cfg, void *model, const void *train, const nn_grid *g)
{
  nn_method_run run = { .method = nn_method_find(cfg->method) };
  CHECK(run.method, "internal: no method '%s' (options not checked)", cfg->method);
  run.ops = run.method->ops[cfg->float32 ? 1 : 0];
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
