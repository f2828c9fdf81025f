/* Before anything large is allocated: an estimate of the memory each rank will need for the
 * data shards, the model and the method's state, held against what this node can give each
 * of its ranks (MemAvailable, the cgroup's memory.max, Slurm's --mem or --mem-per-cpu). A run
 * that cannot fit stops with one line giving both figures, instead of being OOM-killed minutes
 * in. The estimate counts the arrays the methods in solver/ allocate, not malloc overhead.
 * Collective. */
#ifndef NN_MEMORY_CHECK_H
#define NN_MEMORY_CHECK_H

#include "../common/config.h"

/* n_train, n_val, n_test: global sample counts (0 where not known yet). */
double nn_memory_estimate_bytes(const nn_config *cfg, long n_train, long n_val, long n_test);
void nn_memory_check(const nn_config *cfg, long n_train, long n_val, long n_test);

#endif
