/* Work counters for the performance model (jobs/study-scaling.sh, analysis/scaling.c):
 * floating-point operations of the BLAS, LAPACK and ScaLAPACK calls this rank makes, and the
 * messages it exchanges, by kind. Every count is this rank's own: a distributed ScaLAPACK
 * call adds its flops divided by the process-grid size.
 *
 * The flops are counted where the calls are made (solver/real.h wraps each BLAS and ScaLAPACK
 * name), the messages by PMPI interposition (common/comm_count.c, linked into admm-train):
 * every MPI call of this program and of the libraries under it (ScaLAPACK's BLACS) passes
 * through it. Traffic through node-shared memory, which MPI never sees, is added by the
 * code that makes it (node_sum.c) as kind `shm`. Plain counters: never synchronised. */
#ifndef NN_COUNTERS_H
#define NN_COUNTERS_H

enum nn_comm_kind {
  NN_COMM_ALLREDUCE, NN_COMM_REDUCE_SCATTER, NN_COMM_BCAST, NN_COMM_ALLGATHER, NN_COMM_REDUCE,
  NN_COMM_P2P, NN_COMM_BARRIER, NN_COMM_SHM, NN_NCOMM
};

extern const char *const nn_comm_kind_names[NN_NCOMM];
#define NN_COMM_KIND_NAMES_CSV "allreduce,reduce_scatter,bcast,allgather,reduce,p2p,barrier,shm"

typedef struct {
  double flops;               /* floating-point operations */
  double flops_narrow;        /* of which in narrow calls: a matrix dimension below NN_NARROW
                                 (the 10-wide output layer's products, matrix-vector calls),
                                 which run far below the GEMM rate */
  double calls[NN_NCOMM];     /* calls (p2p: messages sent or received) */
  double bytes[NN_NCOMM];     /* the size parameter of each call's cost, summed: allreduce,
                                 reduce_scatter, reduce and bcast the vector; allgather the
                                 gathered result; p2p the message; shm the bytes read from
                                 other ranks' segments */
  double sent, received;      /* payload bytes this rank sent and received, all kinds */
  double stream;              /* bytes read and written by the large elementwise loops (ReLU,
                                 the z steps, bias broadcasts, optimiser updates): memory-bound
                                 work that the flop count does not see */
  double stream_calls;        /* calls of those loops: stream / stream_calls is the data one call
                                 touches, which decides whether it runs from cache or memory */
  double flops_local_solve;   /* of flops, those of one rank's own LAPACK Cholesky factors and
                                 triangular solves (resnet-admm's n x n systems with the rank's
                                 N columns as right-hand sides, repeated on every rank): they
                                 run at neither the GEMM nor the ScaLAPACK solve rate */
} nn_counters;

/* This rank's running totals since the process started. */
extern nn_counters nn_count;

enum { NN_NARROW = 32 };

static inline void nn_count_flops(double f) { nn_count.flops += f; }

/* A BLAS call of f flops whose smallest matrix dimension is `dim`. */
static inline void nn_count_blas(double f, double dim)
{
  nn_count.flops += f;
  if (dim < NN_NARROW) nn_count.flops_narrow += f;
}

/* A local LAPACK factor or solve (potrf, potrs) of f flops. */
static inline void nn_count_local_solve(double f)
{
  nn_count.flops += f;
  nn_count.flops_local_solve += f;
}

static inline double nn_min3(double a, double b, double c) { return a < b ? (a < c ? a : c) : (b < c ? b : c); }
static inline void nn_count_stream(double bytes)
{
  nn_count.stream += bytes;
  nn_count.stream_calls += 1;
}

/* One call of `kind` with size parameter `bytes`, `sent` and `received` by this rank. */
static inline void nn_count_comm(enum nn_comm_kind kind, double bytes, double sent, double received)
{
  nn_count.calls[kind] += 1;
  nn_count.bytes[kind] += bytes;
  nn_count.sent += sent;
  nn_count.received += received;
}

/* d = a - b, field by field. */
void nn_counters_diff(nn_counters *d, const nn_counters *a, const nn_counters *b);
/* Collective: every field's maximum over the ranks of MPI_COMM_WORLD, in one message. */
void nn_counters_max(nn_counters *max, const nn_counters *mine);

#endif
