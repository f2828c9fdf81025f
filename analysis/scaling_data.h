/* scaling_data: a scaling study's folder read back (jobs/study-scaling.sh): the machine
 * constants admm-microbench measured at each rank count, and every run's epoch time and work
 * counters (io/SCHEMA.md), repeats of one point reduced to the run with their median time.
 * Legend: P ranks; per epoch and per rank (max over ranks): F flops of the training step, S
 * bytes streamed by elementwise loops, c_k calls and b_k bytes of message kind k
 * (common/counters.h). */
#ifndef ADMM_ANALYSIS_SCALING_DATA_H
#define ADMM_ANALYSIS_SCALING_DATA_H

#include <stddef.h>

enum { NKIND = 8, MAXSIZES = 16, ADMM_SC_MAXRUN = 512, MAXP = 64, MAXGEMM = 4 };
/* Phases of a results file (io/SCHEMA.md: nine columns, the last two eval and io outside the
 * training step; column 3 the solve phase of every method). */
enum { ADMM_SC_NPH = 9, ADMM_SC_PH_SOLVE = 2 };
enum { K_BARRIER = 6, K_SHM = 7 };
/* The gradient methods' update rules (solver/gradient.c): gd and sgd plain, momentum, adam. */
enum { ADMM_SC_RULE_PLAIN, ADMM_SC_RULE_MOMENTUM, ADMM_SC_RULE_ADAM };

typedef struct {
    int ranks;
    int ngemm, nsweep;
    double gemm_cols[MAXGEMM], gemm_rate[MAXGEMM];   /* flop/s per rank, one m x k x n GEMM */
    double sweep_cols[MAXGEMM], sweep_rate[MAXGEMM]; /* flop/s per rank, a sweep's products */
    int nnarrow;
    double narrow_cols[MAXGEMM], narrow_rate[MAXGEMM]; /* flop/s per rank, narrow products */
    double step_cols, step_rate;                      /* flop/s per rank, lockstep steps */
    /* step_cycle: the same products inside the training's cycle (a batch gathered from the
     * rank's samples, the node-shared sum and update around them), per update rule, at
     * cycle_cols samples per rank; none in files before it */
    int ncycle[3];
    double cycle_cols[3][MAXGEMM], cycle_rate[3][MAXGEMM];
    int medians; /* the figures are their median rounds (0: files before them, the best round) */
    double solve_rate; /* flop/s per rank, one bcd sweep's ScaLAPACK calls on the run's grid
                          (solve_sweep); 0 in files before it: the solves at the sweep rate */
    int nlocal;        /* local_solve: one rank's LAPACK potrf + potrs of order n with nrhs of
                          its columns, all ranks at once; none in files before it */
    double local_cols[MAXGEMM], local_rate[MAXGEMM];
    double stream, stream_cache;                      /* bytes/s per rank */
    /* node_sum: seconds of one step of the gradient methods' node-shared sum (reduce, the
     * update of the rank's slice, publish) per update rule (ADMM_SC_RULE_*), measured for a
     * buffer of node_sum_params values; 0 in files before it */
    double node_sum[3], node_sum_params;
    int nat;                                          /* stream_at: bandwidth by data size */
    double at_bytes[MAXSIZES], at_bw[MAXSIZES];
    int nsize[NKIND];
    double size[NKIND][MAXSIZES], secs[NKIND][MAXSIZES];
} admm_Machine;

typedef struct {
    char *path, *series, *method;
    int ranks, E;
    long n_train;
    double t_epoch;                  /* measured: median over the epochs used */
    double F, S, calls[NKIND], bytes[NKIND], sent, recv; /* medians, per epoch */
    double S_calls;                  /* elementwise calls (0 in files before stream_calls) */
    double F_narrow;                 /* flops of narrow BLAS calls (0 in files before flops_narrow) */
    double F_solve;                  /* flops of the solve phase: ScaLAPACK factor, solve, inverse */
    double F_local;                  /* flops of local LAPACK factors and solves (resnet-admm's
                                        n x n systems; 0 in files before flops_local_solve) */
    double t_to[3];                  /* training seconds to 90, 95, 97% validation; NAN: never */
    int epochs_to[3];
    /* the training step's phases (all but eval and io), medians over the epochs used of each
     * column of phase_min / phase_avg / phase_max / phase_flops; F is the sum of ph_flops */
    int nph;
    char ph_name[ADMM_SC_NPH][32];
    double ph_min[ADMM_SC_NPH], ph_avg[ADMM_SC_NPH], ph_max[ADMM_SC_NPH], ph_flops[ADMM_SC_NPH];
    double ph_stream[ADMM_SC_NPH];   /* elementwise bytes per phase (phase_stream); -1: not recorded */
    double model, t_compute, t_stream, t_comm, err;
    /* the model by phase (admm_sc_model): ph_model[p] the phase's flops at its rate; t_narrow
     * and t_local what pricing the narrow products and the local solves at their own rates adds
     * (their phases are not recorded): t_compute = sum of ph_model + t_narrow + t_local.
     * ph_tstream[p] the phase's elementwise bytes at the run's bandwidth, where the file records
     * them by phase (else 0: all of t_stream is unplaced). Messages are not recorded by phase. */
    double ph_model[ADMM_SC_NPH], ph_tstream[ADMM_SC_NPH], t_narrow, t_local;
    double speedup, efficiency;      /* strong: T1 / TP and T1 / (P TP); weak: T1 / TP for both */
    double params;                   /* weights and biases, from /config/layer_sizes */
    long batch;                      /* gradient methods: the global mini-batch (/config/batch) */
    int repeats;                     /* runs of this point; the one kept has their median time */
    double t_min, t_max;             /* epoch time over the repeats */
} admm_ScalingRun;

/* The admm-microbench file at path into *m; -1 when it holds no GEMM or bandwidth figure. */
int admm_sc_read_machine(const char *path, admm_Machine *m);
/* The time of one call of kind k with s bytes on m's ranks (a latency-bandwidth line per
 * measured size range). */
double admm_sc_call_time(const admm_Machine *m, int k, double s);
/* The rate measured at the column count nearest (in ratio) to cols. */
double admm_sc_nearest_rate(int n, const double *at, const double *rate, double cols);
double admm_sc_sweep_rate(const admm_Machine *m, double cols);
/* A gradient method's step rate at n_rank samples per rank (step_cycle, else step). */
double admm_sc_step_rate(const admm_Machine *m, const char *method, double n_rank);
/* One rank's bandwidth for loops that touch `bytes` each. */
double admm_sc_bandwidth_at(const admm_Machine *m, double bytes);
int admm_sc_gradient_method(const char *method);
/* A gradient method's update rule (ADMM_SC_RULE_*), and the arrays its update streams per
 * parameter (plain reads p, g and writes p: 3; momentum also v twice: 5; Adam m and v: 7). */
int admm_sc_update_rule(const char *method);
double admm_sc_update_streams(const char *method);
/* The runs under dir/series/ (every .h5 file) appended to runs (*n of them, at most ADMM_SC_MAXRUN);
 * returns how many files were refused (each named on stderr). */
int admm_sc_scan_series(const char *dir, const char *series, admm_ScalingRun *runs, int *n);
/* qsort order: by series, method, ranks, then epoch time. */
int admm_sc_cmp_run(const void *a, const void *b);
/* Sorted runs with repeats of a point reduced to one (the median time); returns the count. */
int admm_sc_collapse_repeats(admm_ScalingRun *runs, int n);

#endif
