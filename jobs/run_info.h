/* Facts about the run that are not options: a run id, ranks, hosts and nodes, threads per rank,
 * the CPU model, the Slurm job, library versions, git revision, start time, the default output
 * name. Collective where it gathers from every rank. */
#ifndef NN_RUN_INFO_H
#define NN_RUN_INFO_H

#include <stddef.h>

#include "../io/results.h"
#include "../common/config.h"

/* Fills out[0..] with the root attributes of SCHEMA.md known at start; returns the count. */
int nn_run_info_attrs(const nn_config *cfg, int nprow, int npcol, nn_attr *out, int max);
/* The output path (default name if --output is empty), identical on all ranks. Creates
 * nothing: nn_output_claim (io/output_guard.h) checks and locks it. */
void nn_output_path(const nn_config *cfg, char *path, size_t len);

/* The git revision the binary was built from (`git describe --always --dirty` at configure time). */
const char *nn_git_revision(void);

#endif
