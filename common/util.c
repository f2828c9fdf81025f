/* Small helpers; see util.h. */
#include "util.h"

#include <stdlib.h>

#include "check.h"

void *nn_alloc(size_t count, size_t size, const char *what)
{
  void *p = calloc(count ? count : 1, size ? size : 1);
  CHECK(p, "out of memory allocating %s (%zu x %zu bytes)", what, count, size);
  return p;
}

int nn_widest_layer(int L, const int *n)
{
  int w = 0;
  for (int l = 0; l <= L; l++) w = n[l] > w ? n[l] : w;
  return w;
}
