/* Guards the run's results file OUT: before training, refuses an OUT that is an input file, a
 * directory, in a missing or unwritable directory, or existing without --force 1; rank 0 then
 * holds a flock on OUT.lock ("host pid") for the run and clears a stale OUT.part. Writes no
 * HDF5 (results.h). nn_output_claim is collective; the rest is local. */
#ifndef NN_OUTPUT_GUARD_H
#define NN_OUTPUT_GUARD_H

#include "../common/config.h"

/* Collective: checks path (the resolved --output) against cfg's inputs and the file system,
 * creates the default results/ directory when path lies in it, takes the lock, removes a stale
 * OUT.part. On refusal every rank exits non-zero after one line naming the option and problem. */
void nn_output_claim(const nn_config *cfg, const char *path);

/* Records that this run created OUT.part (every rank), so that a failure removes it. */
void nn_output_part_created(void);
/* Ends the claim after OUT.part was renamed to OUT: rank 0 removes the lock file and unlocks. */
void nn_output_release(void);
/* Removes this run's OUT.part and its lock file now, from any rank (the lock stays held by
 * rank 0 until it ends). Async-signal-safe: the I/O watchdog calls it from its thread just
 * before ending the process. */
void nn_output_abandon(void);

#endif
