/* A run's checkpoint (run.h) in one parallel-HDF5 file (io/checkpoint.h), and the resume
 * from it. It holds the options that shape the run and the data's fingerprints (a resume
 * with others is refused), the weights and the kept weights, each method's state arrays
 * (method.h: auxiliaries by global sample, optimiser moments by parameter, counters), the
 * epoch, the early-stopping state and clocks, and every results row so far. There is no RNG
 * state to save: every draw is counter-based on (seed, stream, index), and a batch order on
 * (seed, epoch). So a resume on the same rank count continues bit for bit; on another, the
 * partitioned arrays are redistributed by global index. */
#ifndef NN_RUN_CHECKPOINT_H
#define NN_RUN_CHECKPOINT_H

#include <stddef.h>

#include "../io/checkpoint.h"
#include "run.h"

/* The checkpoint of a run whose results file is `results`: --checkpoint, or the results
 * file's name with ".h5" replaced by ".checkpoint.h5"; "" for --checkpoint none. */
void nn_run_checkpoint_path(const nn_config *cfg, const char *results, char *out, size_t len);

/* Writes r's checkpoint beside the previous one and renames it into place. Returns 0, or -1
 * after one line on stderr (rank 0): the previous checkpoint stays, and the run goes on.
 * Collective. */
int nn_run_checkpoint_save(const train_run *r);

/* Opens and verifies cfg->resume, and writes the results file it recorded into output.
 * Ends every rank with one line when the file is missing, damaged or no checkpoint.
 * Collective. */
nn_ckpt *nn_run_resume_open(const nn_config *cfg, char *output, size_t len);

/* Checks that the checkpoint's options and data are this run's (one line naming the first
 * difference otherwise) and loads the weights and kept weights into r. Before the method is
 * created: it starts from these weights. Collective. */
void nn_run_resume_model(nn_ckpt *c, train_run *r);

/* The comparison it makes, for tests: saved and now are "name=value" lines (the checkpoint's and
 * the run's options, `method` the run's); writes one line naming the first difference into
 * out, or "" when none. A line of now that saved lacks is no difference when its value is the
 * one the option implies for files older than it (options.h); now loses that line. */
void nn_run_options_difference(const char *method, const char *saved, char *now, char *out, size_t len);

/* After the method is created: loads the weights again (its init may have moved them), the
 * method's state arrays, the epoch, the early-stopping state and the clocks,
 * writes the saved rows into r's results file, and closes c. Collective. */
void nn_run_resume_state(nn_ckpt *c, train_run *r);

#endif
