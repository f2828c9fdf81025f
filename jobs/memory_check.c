/* Memory estimate and check; see memory_check.h. */
#include "memory_check.h"

#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../solver/check.h"
#include "../solver/util.h"

double nn_memory_estimate_bytes(const nn_config *cfg, long n_train, long n_val, long n_test)
{
  double P = nn_nranks(), r = cfg->float32 ? 4 : 8;
  const int *n = cfg->n;
  int L = cfg->L;
  double nmax = nn_widest_layer(L, n), params = 0;
  for (int l = 1; l <= L; l++) params += (double)n[l] * (n[l - 1] + 1);
  double N = ceil(n_train / P); /* training samples on the busiest rank */
  double bytes = ceil((double)(n_train + n_val + n_test) / P) * (n[0] * r + sizeof(int));
  bytes += 2 * params * r; /* the model and the kept best model */
  double hidden = 0;
  for (int l = 1; l < L; l++) hidden += n[l];
  double square = (nmax + 1) * (nmax + 1) * r; /* a Gram matrix of the widest layer */
  if (strcmp(cfg->method, "bcd") == 0)
    /* z, a per hidden layer; targets, ones; Gram, cross product, solution, P, Pinv, K;
     * chunk scratch; the block-cyclic systems (a local share plus a full staging copy each) */
    bytes += (2 * hidden + n[L] + 1) * N * r + 6 * square + 2 * nmax * 2048 * r + 2 * L * square * (1 + 1 / P);
  else if (strcmp(cfg->method, "admm") == 0)
    bytes += (2 * hidden + 2 * n[L] + 2 * nmax) * N * r + 6 * square + 2 * L * square * (1 + 1 / P);
  else if (strcmp(cfg->method, "random-features") == 0)
    bytes += (n[L - 1] + 2 * n[L] + 1) * N * r + 2 * square * (1 + 1 / P);
  else /* gradients, optimiser state, the node-shared window, activations of one batch */
    bytes += 6 * params * r + 4 * hidden * (double)cfg->batch * r;
  return bytes;
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
  char msg[1024];
  snprintf(msg, sizeof msg, "the run needs about %.3g GiB per rank (--method %s, --layers %s, %ld training samples "
           "over %d ranks) but %.3g GiB are available to each of the %d ranks on this node (MemAvailable, the "
           "cgroup's memory.max or Slurm's --mem): use more nodes, fewer ranks per node or smaller --layers",
           need / 1073741824.0, cfg->method, cfg->layers, n_train, nn_nranks(), have / 1073741824.0, ranks_here);
  nn_check_all(need <= have, msg);
}
