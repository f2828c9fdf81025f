/* Named phases of an epoch, accumulated per rank and reduced to min/avg/max over ranks, with
 * the flops counted inside each (counters.h).
 * nn_timer_reduce is collective; the rest is local. Order and names match io/SCHEMA.md. */
#ifndef NN_TIMER_H
#define NN_TIMER_H

enum nn_phase {
  PH_GRAM, PH_COMM_REDUCE, PH_SOLVE, PH_COMM_GATHER, PH_A_UPDATE, PH_Z_UPDATE,
  PH_FORWARD_BACKWARD, PH_EVAL, PH_IO, NN_NPHASES
};

extern const char *const nn_phase_names[NN_NPHASES];
#define NN_PHASE_NAMES_CSV \
  "gram,comm_reduce,solve,comm_gather,a_update,z_update,forward_backward,eval,io"

typedef struct {
  double total[NN_NPHASES];   /* seconds accumulated since the last reset */
  double flops[NN_NPHASES];   /* floating-point operations counted in each phase (counters.h) */
  double flops_started;       /* the flop counter at nn_timer_start */
  double started;             /* MPI_Wtime at nn_timer_start, for the phase in progress */
  int running;                /* phase in progress, or -1 */
} nn_timer;

void nn_timer_reset(nn_timer *t);
void nn_timer_start(nn_timer *t, enum nn_phase p);
void nn_timer_stop(nn_timer *t);
/* Collective: min, avg, max of each phase's seconds over the ranks of MPI_COMM_WORLD, and the
 * max over ranks of each phase's flops (flops_max may be NULL). */
void nn_timer_reduce(const nn_timer *t, double *min, double *avg, double *max, double *flops_max);

#endif
