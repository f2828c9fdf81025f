/* Run facts for the results file; see run_info.h. */
#include "run_info.h"

#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/check.h"
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

/* Distinct host names of all ranks, comma separated, identical on every rank. */
static void gather_hostnames(char *out, size_t len)
{
  int p = nn_nranks(), nlen;
  char mine[MPI_MAX_PROCESSOR_NAME] = "";
  CHECK_MPI(MPI_Get_processor_name(mine, &nlen));
  char *all = calloc((size_t)p, MPI_MAX_PROCESSOR_NAME);
  CHECK(all, "out of memory");
  CHECK_MPI(MPI_Allgather(mine, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, MPI_COMM_WORLD));
  out[0] = 0;
  for (int r = 0; r < p; r++) {
    const char *h = all + (size_t)r * MPI_MAX_PROCESSOR_NAME;
    int seen = 0;
    for (int q = 0; q < r; q++) seen |= strcmp(h, all + (size_t)q * MPI_MAX_PROCESSOR_NAME) == 0;
    if (!seen) snprintf(out + strlen(out), len - strlen(out), "%s%s", out[0] ? "," : "", h);
  }
  free(all);
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
  gather_hostnames(next(out, &k, max, "hostnames", NN_ATTR_STRING)->s, NN_ATTR_STRING_MAX);
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
  char when[64] = "";
  if (nn_rank() == 0) {
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  }
  CHECK_MPI(MPI_Bcast(when, sizeof when, MPI_CHAR, 0, MPI_COMM_WORLD));
  snprintf(next(out, &k, max, "start_time", NN_ATTR_STRING)->s, NN_ATTR_STRING_MAX, "%s", when);
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
