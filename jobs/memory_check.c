/* Memory estimate and check; see memory_check.h. */
#include "memory_check.h"

#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/check.h"
#include "../solver/layer_groups.h"
#include "../solver/method.h"
#include "options.h"

double nn_memory_estimate_bytes(const nn_config *cfg, long n_train, long n_val, long n_test)
{
  const nn_method *m = nn_method_find(cfg->method);
  CHECK(m, "internal: no method '%s'", cfg->method);
  double P = nn_nranks(), r = cfg->float32 ? 4 : 8;
  const int *n = cfg->n;
  /* the weights of the busiest rank: every layer, or with --layer-groups on G x D ranks a group's
   * and the next group's first (layer_groups.h) */
  double params = 0;
  for (int rk = 0; rk < nn_nranks() && rk < (cfg->layer_groups > 1 ? cfg->layer_groups : 1); rk++) {
    int lo, hi;
    nn_rank_layers(cfg->L, cfg->layer_groups, cfg->group_schedule == 2, rk, nn_nranks(), &lo, &hi);
    double held = 0;
    for (int l = lo; l <= hi; l++) held += (double)n[l] * (n[l - 1] + 1);
    params = fmax(params, held);
  }
  double N = ceil(n_train / P); /* training samples on the busiest rank */
  double bytes = ceil((double)(n_train + n_val + n_test) / P) * (n[0] * r + sizeof(int));
  bytes += 2 * params * r; /* the model and the kept best model */
  return bytes + m->state_bytes(cfg, N);
}

/* What the node can give each of its ranks, in bytes; +inf when nothing says. */
static double available_per_rank(int ranks_here)
{
  double avail = INFINITY;
  FILE *f = fopen("/proc/meminfo", "r");
  if (f) {
    char line[256];
    double kb;
    while (fgets(line, sizeof line, f))
      if (sscanf(line, "MemAvailable: %lf kB", &kb) == 1) avail = fmin(avail, kb * 1024 / ranks_here);
    fclose(f);
  }
  f = fopen("/sys/fs/cgroup/memory.max", "r");
  if (f) {
    double v;
    if (fscanf(f, "%lf", &v) == 1) avail = fmin(avail, v / ranks_here); /* "max" reads as no number */
    fclose(f);
  }
  const char *per_node = getenv("SLURM_MEM_PER_NODE"), *per_cpu = getenv("SLURM_MEM_PER_CPU"),
             *cpus = getenv("SLURM_CPUS_PER_TASK");
  if (per_node && atof(per_node) > 0) avail = fmin(avail, atof(per_node) * 1048576.0 / ranks_here);
  if (per_cpu && atof(per_cpu) > 0) avail = fmin(avail, atof(per_cpu) * 1048576.0 * (cpus ? fmax(1, atof(cpus)) : 1));
  return avail;
}

void nn_memory_check(const nn_config *cfg, long n_train, long n_val, long n_test)
{
  MPI_Comm node;
  int ranks_here = 1;
  if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) == MPI_SUCCESS) {
    CHECK_MPI(MPI_Comm_size(node, &ranks_here));
    CHECK_MPI(MPI_Comm_free(&node));
  }
  double need = nn_memory_estimate_bytes(cfg, n_train, n_val, n_test), have = available_per_rank(ranks_here);
  char msg[1024], layers[256];
  nn_options_value(cfg, "layers", layers, sizeof layers);
  snprintf(msg, sizeof msg, "the run needs about %.3g GiB per rank (--method %s, --layers %s, %ld training samples "
           "over %d ranks) but %.3g GiB are available to each of the %d ranks on this node (MemAvailable, the "
           "cgroup's memory.max or Slurm's --mem): use more nodes, fewer ranks per node%s or smaller --layers",
           need / 1073741824.0, cfg->method, layers, n_train, nn_nranks(), have / 1073741824.0, ranks_here,
           cfg->anderson > 0 ? ", a smaller --anderson (2M + 4 copies of the state)" : "");
  nn_check_all(need <= have, msg);
}
