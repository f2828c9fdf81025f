/* One training run between epochs: what the driver (train.c) advances and a checkpoint
 * (run_checkpoint.c) saves and restores. */
#ifndef NN_RUN_H
#define NN_RUN_H

#include <stdint.h>

#include "../common/config.h"
#include "../io/dataset.h"
#include "../io/results.h"
#include "../solver/numerics.h"

typedef struct {
  const nn_config *cfg;
  const nn_numerics *num;   /* the numerics of cfg's precision */
  nn_grid grid;
  nn_data data;
  nn_model *net;            /* the weights being trained */
  nn_model *best;           /* the kept weights: the best validation accuracy so far */
  nn_method_run method;
  nn_results *res;
  char path[1024];          /* the results file */
  char checkpoint[1100];    /* the checkpoint file, or "" for none */
  int total;                /* epochs to run: --warmup + --epochs */
  int epochs_run, best_epoch, since_best;
  double best_val;          /* the kept weights' validation accuracy (the epoch without a validation split) */
  double train_time;        /* the epochs' time, without evaluation and I/O */
  double spent;             /* epochs and evaluation, for the estimate of the time left */
  double last_io;           /* the previous row's write: a row cannot hold its own */
  double t_start, t_train0; /* MPI_Wtime at the start, and at epoch 0 (earlier when resumed) */
  double t_checkpoint;      /* MPI_Wtime of the last checkpoint (or the start) */
  uint64_t split_sum[3];    /* the fingerprints of train, val, test (dataset.h) */
  nn_epoch_row *rows;       /* every row written, this rank's own per-rank figures */
  int nrows, rows_cap;
  const char *stop_reason;
  int stop_sig;             /* the signal that stopped the run, or 0 */
  int resumed_from;         /* the checkpoint's epoch when resumed, else 0 */
} train_run;

#endif
