/* Named phases of an epoch, accumulated per rank and reduced to min/avg/max over ranks, with
 * the flops and elementwise bytes counted inside each (counters.h).
 * nn_timer_reduce is collective; the rest is local. Order and names match io/SCHEMA.md. */
#ifndef NN_TIMER_H
#define NN_TIMER_H

#include <stddef.h>

/* The timer slots, in the column order of the results file. Five keep one name whatever the
 * method: comm_reduce, solve, comm_gather (the block-cyclic layer and the ScaLAPACK solves
 * time them) and eval, io (the driver's). The four PH_STEP slots are the method's own steps:
 * each method names them in its registry entry (method.h: nn_method.phases) and times them
 * under names of its own (admm.c: PH_GRAM = PH_STEP1, ...). */
enum nn_phase {
  PH_STEP1, PH_COMM_REDUCE, PH_SOLVE, PH_COMM_GATHER, PH_STEP2, PH_STEP3, PH_STEP4,
  PH_EVAL, PH_IO, NN_NPHASES
};
enum { NN_STEP_PHASES = 4 };

/* The nine names, comma separated, of a method whose own slots PH_STEP1..4 are called
 * steps[0..3] (NULL: a slot it never enters, written "unused"). */
void nn_phase_names_csv(const char *const steps[NN_STEP_PHASES], char *out, size_t len);

typedef struct {
  double total[NN_NPHASES];   /* seconds accumulated since the last reset */
  double flops[NN_NPHASES];   /* floating-point operations counted in each phase (counters.h) */
  double flops_started;       /* the flop counter at nn_timer_start */
  double stream[NN_NPHASES];  /* bytes of the elementwise loops counted in each phase (counters.h) */
  double stream_started;      /* the stream counter at nn_timer_start */
  double started;             /* MPI_Wtime at nn_timer_start, for the phase in progress */
  int running;                /* phase in progress, or -1 */
} nn_timer;

void nn_timer_reset(nn_timer *t);
void nn_timer_start(nn_timer *t, enum nn_phase p);
void nn_timer_stop(nn_timer *t);
/* Collective: min, avg, max of each phase's seconds over the ranks of MPI_COMM_WORLD, and the
 * max over ranks of each phase's flops and elementwise bytes (flops_max, stream_max may be NULL). */
void nn_timer_reduce(const nn_timer *t, double *min, double *avg, double *max, double *flops_max,
                     double *stream_max);

#endif
