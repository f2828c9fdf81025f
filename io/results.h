/* The run's results file (schema: io/SCHEMA.md), written with parallel HDF5. Every function is
 * collective over MPI_COMM_WORLD, same arguments on all ranks (but each rank's own rss_mb). PATH
 * is claimed first (output_guard.h); it lives as PATH.part, created exclusively, until
 * nn_results_finish renames it; an I/O failure ends every rank and removes it (io_failure.h). */
#ifndef NN_RESULTS_H
#define NN_RESULTS_H

#include <stddef.h>

#include "../common/counters.h"
#include "../common/timer.h"

/* NN_ATTR_STRINGS: s holds the values comma separated; written as a 1-D array of strings. */
enum nn_attr_type { NN_ATTR_INT, NN_ATTR_REAL, NN_ATTR_STRING, NN_ATTR_INTS, NN_ATTR_STRINGS };
/* Bytes of a string attribute, its terminating 0 included: longer values are cut. */
enum { NN_ATTR_STRING_MAX = 4096 };

/* One attribute: a name and a value of one of the types above (ints: up to 32 values). */
typedef struct {
  char name[64];
  enum nn_attr_type type;
  long i;
  double d;
  char s[NN_ATTR_STRING_MAX];
  long ints[32];
  int nints;
} nn_attr;

typedef struct {
  long epoch, warmup;
  double loss, objective, residual_z, residual_a;
  double train_acc, val_acc, test_acc;
  double train_mse, val_mse, test_mse; /* regression data; NaN for classification */
  double t_epoch, t_eval, t_wall;
  double multiplier;  /* admm: |lambda|^2 / n_train; NaN for methods without one */
  double aa_accepted, aa_residual, aa_coef_norm; /* --anderson (method.h); NaN without it */
  double phase_min[NN_NPHASES], phase_avg[NN_NPHASES], phase_max[NN_NPHASES];
  double rss_mb;  /* this rank's peak resident set size */
  double phase_rank[NN_NPHASES]; /* this rank's own seconds in each phase */
  /* The training step's work (counters.h): flops per phase and calls and bytes per message
   * kind, max over ranks; this rank's own bytes sent and received. */
  double phase_flops[NN_NPHASES];
  double phase_stream[NN_NPHASES];    /* elementwise bytes per phase, max over ranks */
  double comm_calls[NN_NCOMM], comm_bytes[NN_NCOMM];
  double bytes_sent, bytes_recv;
  double stream_bytes, stream_calls;  /* max over ranks (counters.h) */
  double flops_narrow;                /* the training step's narrow flops, max over ranks */
  double flops_local_solve;           /* its local LAPACK solves' flops, max over ranks */
} nn_epoch_row;

typedef struct nn_results nn_results;

/* phase_names: the NN_NPHASES names of the run's method, comma separated (nn_phase_names_csv). */
nn_results *nn_results_create(const char *path, const nn_attr *config, int nconfig, const nn_attr *run,
                              int nrun, const char *phase_names);
void nn_results_append(nn_results *r, const nn_epoch_row *row);
/* W[l] is n[l] x n[l-1] column-major (l = 1..L), written as dataset (n[l], n[l-1]) whose
 * row i holds the weights into unit i. b may be NULL (no biases). */
void nn_results_weights(nn_results *r, int L, const int *n, void *const *W, void *const *b, int float32);
/* Adds the final attributes and end_time (rank 0's clock), marks the file complete, closes it
 * and renames PATH.part to PATH. */
void nn_results_finish(nn_results *r, const nn_attr *final, int nfinal);

/* Reads the attributes of /config of the results file PATH into out[0..max-1] (strings and
 * string arrays into s, comma separated) and returns their count; -1 with one line in err when
 * PATH cannot be read or is not an admm-nn results file. Local: one rank reads it, serially. */
int nn_results_read_config(const char *path, nn_attr *out, int max, char *err, size_t errlen);

/* Peak resident set size of this process, MiB. Local. */
double nn_peak_rss_mb(void);

#endif
