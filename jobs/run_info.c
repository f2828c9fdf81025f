/* Run facts for the results file; see run_info.h. */
#include "run_info.h"

#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "../common/check.h"
#include "../solver/layer_groups.h"
#include "../solver/method.h"
#include "git_revision.h" /* generated at build time: NN_GIT_REVISION (CMakeLists.txt) */

#ifndef NN_GIT_REVISION
#define NN_GIT_REVISION "unknown"
#endif

/* weak: with another BLAS (MKL, LibSci) it is absent and null, and versions says so */
char *openblas_get_config(void) __attribute__((weak));

static nn_attr *next(nn_attr *out, int *k, int max, const char *name, enum nn_attr_type type)
{
  CHECK(*k < max, "internal: too many run attributes");
  nn_attr *a = &out[(*k)++];
  memset(a, 0, sizeof *a);
  snprintf(a->name, sizeof a->name, "%s", name);
  a->type = type;
  return a;
}

/* Distinct host names of all ranks, comma separated, identical on every rank; their count and
 * the most ranks any one of them runs. */
static void gather_hostnames(char *out, size_t len, long *nodes, long *per_node)
{
  int p = nn_nranks(), nlen;
  char mine[MPI_MAX_PROCESSOR_NAME] = "";
  CHECK_MPI(MPI_Get_processor_name(mine, &nlen));
  char *all = calloc((size_t)p, MPI_MAX_PROCESSOR_NAME);
  CHECK(all, "out of memory");
  CHECK_MPI(MPI_Allgather(mine, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, MPI_COMM_WORLD));
  out[0] = 0;
  *nodes = *per_node = 0;
  for (int r = 0; r < p; r++) {
    const char *h = all + (size_t)r * MPI_MAX_PROCESSOR_NAME;
    int seen = 0;
    long here = 0;
    for (int q = 0; q < r; q++) seen |= strcmp(h, all + (size_t)q * MPI_MAX_PROCESSOR_NAME) == 0;
    if (seen) continue;
    snprintf(out + strlen(out), len - strlen(out), "%s%s", out[0] ? "," : "", h);
    for (int q = r; q < p; q++) here += strcmp(h, all + (size_t)q * MPI_MAX_PROCESSOR_NAME) == 0;
    ++*nodes;
    if (here > *per_node) *per_node = here;
  }
  free(all);
}

/* The threads each rank's BLAS runs, as the environment sets them: OPENBLAS_NUM_THREADS, else
 * OMP_NUM_THREADS; 0 when neither is a positive integer (the BLAS then picks, often every core). */
static long threads_per_rank(void)
{
  const char *names[2] = { "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS" };
  for (int i = 0; i < 2; i++) {
    const char *v = getenv(names[i]);
    char *end;
    long n = v ? strtol(v, &end, 10) : 0;
    if (v && end != v && *end == 0 && n > 0) return n;
  }
  return 0;
}

/* The processor's model: /proc/cpuinfo's first "model name" (x86), else its "Hardware" or
 * "CPU implementer"/"CPU part" lines (Arm), else the machine name uname gives. */
static void cpu_model(char *out, size_t len)
{
  char line[512], implementer[64] = "", part[64] = "";
  out[0] = 0;
  FILE *f = fopen("/proc/cpuinfo", "r");
  while (f && !out[0] && fgets(line, sizeof line, f)) {
    char *colon = strchr(line, ':');
    if (!colon) continue;
    char *v = colon + 1 + strspn(colon + 1, " \t");
    v[strcspn(v, "\n")] = 0;
    if (strncmp(line, "model name", 10) == 0 || strncmp(line, "Hardware", 8) == 0) snprintf(out, len, "%s", v);
    else if (strncmp(line, "CPU implementer", 15) == 0 && !implementer[0]) snprintf(implementer, sizeof implementer, "%s", v);
    else if (strncmp(line, "CPU part", 8) == 0 && !part[0]) snprintf(part, sizeof part, "%s", v);
  }
  if (f) fclose(f);
  struct utsname u;
  if (!out[0] && uname(&u) == 0) {
    if (implementer[0]) snprintf(out, len, "%s (CPU implementer %s, CPU part %s)", u.machine, implementer, part);
    else snprintf(out, len, "%s", u.machine);
  }
  if (!out[0]) snprintf(out, len, "unknown");
}

/* 128 random bits from /dev/urandom as 32 hex digits; 0 when it cannot be read. */
static int random_id(char *out, size_t len)
{
  unsigned char bits[16];
  FILE *f = fopen("/dev/urandom", "rb");
  int ok = f && fread(bits, 1, sizeof bits, f) == sizeof bits;
  if (f) fclose(f);
  out[0] = 0;
  for (int i = 0; ok && i < 16; i++) snprintf(out + 2 * i, len - 2 * (size_t)i, "%02x", bits[i]);
  return ok;
}

/* Rank 0's facts of the machine and the job, the same on every rank. Collective. */
typedef struct {
  char run_id[40], cpu_model[256], when[32];
  char slurm[3][64]; /* SLURM_JOB_ID, SLURM_ARRAY_JOB_ID, SLURM_ARRAY_TASK_ID, or "" */
  long threads;
  int id_ok;
} rank0_facts;

static const char *const slurm_vars[3] = { "SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID" };
static const char *const slurm_attrs[3] = { "slurm_job_id", "slurm_array_job_id", "slurm_array_task_id" };

static void rank0_facts_get(rank0_facts *f)
{
  memset(f, 0, sizeof *f);
  if (nn_rank() == 0) {
    f->id_ok = random_id(f->run_id, sizeof f->run_id);
    cpu_model(f->cpu_model, sizeof f->cpu_model);
    time_t now = time(NULL);
    strftime(f->when, sizeof f->when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    for (int i = 0; i < 3; i++) {
      const char *v = getenv(slurm_vars[i]);
      snprintf(f->slurm[i], sizeof f->slurm[i], "%s", v ? v : "");
    }
    f->threads = threads_per_rank();
  }
  CHECK_MPI(MPI_Bcast(f, sizeof *f, MPI_BYTE, 0, MPI_COMM_WORLD)); /* plain bytes: one machine's layout */
  nn_check_all(f->id_ok, "cannot read 16 bytes from /dev/urandom for the run id");
}

int nn_run_info_attrs(const nn_config *cfg, int nprow, int npcol, nn_attr *out, int max)
{
  int k = 0;
  nn_attr *a;
  snprintf(next(out, &k, max, "method", NN_ATTR_STRING)->s, NN_ATTR_STRING_MAX, "%s", cfg->method);
  next(out, &k, max, "ranks", NN_ATTR_INT)->i = nn_nranks();
  a = next(out, &k, max, "blacs_grid", NN_ATTR_INTS);
  a->nints = 2;
  a->ints[0] = nprow;
  a->ints[1] = npcol;
  rank0_facts f;
  rank0_facts_get(&f);
  snprintf(next(out, &k, max, "run_id", NN_ATTR_STRING)->s, NN_ATTR_STRING_MAX, "%s", f.run_id);
  long nodes, per_node;
  gather_hostnames(next(out, &k, max, "hostnames", NN_ATTR_STRING)->s, NN_ATTR_STRING_MAX, &nodes, &per_node);
  next(out, &k, max, "nodes", NN_ATTR_INT)->i = nodes;
  next(out, &k, max, "ranks_per_node", NN_ATTR_INT)->i = per_node;
  next(out, &k, max, "threads_per_rank", NN_ATTR_INT)->i = f.threads;
  snprintf(next(out, &k, max, "cpu_model", NN_ATTR_STRING)->s, NN_ATTR_STRING_MAX, "%s", f.cpu_model);
  for (int i = 0; i < 3; i++)
    snprintf(next(out, &k, max, slurm_attrs[i], NN_ATTR_STRING)->s, NN_ATTR_STRING_MAX, "%s", f.slurm[i]);
  char mpi[MPI_MAX_LIBRARY_VERSION_STRING];
  int len;
  CHECK_MPI(MPI_Get_library_version(mpi, &len));
  char *nl = strchr(mpi, '\n');
  if (nl) *nl = 0;
  unsigned maj, min, rel;
  CHECK(H5get_libversion(&maj, &min, &rel) >= 0, "H5get_libversion failed");
  snprintf(next(out, &k, max, "versions", NN_ATTR_STRING)->s, NN_ATTR_STRING_MAX,
           "%.1000s; HDF5 %u.%u.%u; OpenBLAS %.200s; %s", mpi, maj, min, rel,
           openblas_get_config ? openblas_get_config() : "absent (another BLAS)", "gcc " __VERSION__);
  snprintf(next(out, &k, max, "git_revision", NN_ATTR_STRING)->s, NN_ATTR_STRING_MAX, "%s", NN_GIT_REVISION);
  snprintf(next(out, &k, max, "version", NN_ATTR_STRING)->s, NN_ATTR_STRING_MAX, "%s", NN_VERSION);
  snprintf(next(out, &k, max, "command_line", NN_ATTR_STRING)->s, NN_ATTR_STRING_MAX, "%s", cfg->command_line);
  snprintf(next(out, &k, max, "start_time", NN_ATTR_STRING)->s, NN_ATTR_STRING_MAX, "%s", f.when);
  /* --layer-groups (a method that takes it): G, the data shards D and each group's first
   * layer; rank r is group r % G of shard r / G (one rank: every group, D = 1) */
  const nn_method *m = nn_method_find(cfg->method);
  if (m && nn_method_takes(m, "layer-groups")) {
    int G = cfg->layer_groups > 1 ? cfg->layer_groups : 1, P = nn_nranks();
    next(out, &k, max, "layer_groups", NN_ATTR_INT)->i = G;
    next(out, &k, max, "data_shards", NN_ATTR_INT)->i = G == 1 || cfg->group_schedule == 2 ? P : P > 1 ? P / G : 1;
    a = next(out, &k, max, "group_first_layer", NN_ATTR_INTS);
    a->nints = G;
    for (int g = 0; g < G; g++) {
      int lo, hi;
      nn_group_layers(cfg->L, G, g, &lo, &hi);
      a->ints[g] = lo;
    }
  }
  return k;
}

/* Only names the file: nn_output_claim (io/output_guard.h) checks it, and creates the default
 * results/ directory, before anything is written. */
void nn_output_path(const nn_config *cfg, char *path, size_t len)
{
  char buf[1024] = "";
  if (nn_rank() == 0) {
    if (cfg->output[0]) snprintf(buf, sizeof buf, "%s", cfg->output);
    else {
      char when[32];
      time_t now = time(NULL);
      strftime(when, sizeof when, "%Y%m%dT%H%M%SZ", gmtime(&now));
      snprintf(buf, sizeof buf, "results/%s-%s-%s-p%d.h5", cfg->method, cfg->data, when, nn_nranks());
    }
  }
  /* rank 0's clock names the file for everyone */
  CHECK_MPI(MPI_Bcast(buf, sizeof buf, MPI_CHAR, 0, MPI_COMM_WORLD));
  snprintf(path, len, "%s", buf);
}

const char *nn_git_revision(void) { return NN_GIT_REVISION; }
