/* results: reads one admm-nn-results file (io/SCHEMA.md, format version 1) into memory and decides
 * whether it is a complete results file, a partial run (stopped by a signal, or a FILE.h5.part
 * left by a run that died or is still going) or neither; grouping and statistics are in group.h.
 * Serial HDF5 with the default (sec2) driver: nothing here is collective and MPI is never
 * initialised. */
#ifndef ADMM_ANALYSIS_RESULTS_H
#define ADMM_ANALYSIS_RESULTS_H

#include <stddef.h>

/* threads_per_rank of a file written before admm-train recorded it: unknown, a grouping value of
 * its own (such runs group only with each other). */
#define ADMM_THREADS_UNKNOWN (-1LL)

typedef enum { ADMM_ATTR_INT, ADMM_ATTR_REAL, ADMM_ATTR_STR } admm_AttrKind;

/* One /config attribute (an effective option of the run). Arrays such as layer_sizes keep all n
 * elements; a string array is joined with ','. */
typedef struct {
    char *name;
    admm_AttrKind kind;
    int n;
    long long *i; /* n values when kind == ADMM_ATTR_INT */
    double *r;    /* n values when kind == ADMM_ATTR_REAL */
    char *s;      /* kind == ADMM_ATTR_STR */
} admm_Attr;

/* One run. E = epochs_run, P = phases, R = ranks. The per-epoch 2-D datasets keep HDF5's row-major
 * order: phase_avg is (E, P), element [e * P + p]; rss_mb is (E, R), element [e * R + r].
 *
 * A partial run (partial = 1) is one whose epochs are usable but which did not run to its end:
 * a complete file with stop_reason "signal", or a FILE.h5.part (status "running": the run died or
 * is still being written; "complete": rank 0 did not rename it). A .part file's /epochs datasets
 * may differ in length (the writer stopped between two of them): E is the rows all of them hold.
 * When its final root attributes were never written (has_final = 0), epochs_run is E, best_epoch
 * is the epoch of highest validation accuracy (the last when none was measured), the final_*
 * values are that epoch's row, train_time_s is the sum of t_epoch, stop_reason is NULL and
 * total_time_s NaN. */
typedef struct {
    char *path; /* as found on the command line or while scanning */
    char *method, *status, *stop_reason, *hostnames, *start_time, *git_revision;
    char *stop_signal; /* only with stop_reason "signal": SIGTERM, SIGINT, SIGUSR1; else NULL */
    long long ranks, n_train, n_val, n_test, epochs_run, best_epoch;
    long long threads_per_rank; /* root threads_per_rank: OpenBLAS threads per rank, 0 when the
                                   BLAS chose (neither variable set); ADMM_THREADS_UNKNOWN when
                                   the file predates the attribute */
    double final_train_acc, final_val_acc, final_test_acc, final_loss, total_time_s, train_time_s;
    int partial;        /* 1: a partial run (above); never averaged with complete runs unless
                           admm-analyze --include-partial */
    char *partial_why;  /* partial runs: why, one line ("stopped by a signal after 12 epochs ...") */
    int has_final;      /* 1: the final root attributes are the file's; 0: derived (above) */
    int ncfg;
    admm_Attr *cfg; /* ncfg, sorted by name */
    int nroot;
    admm_Attr *root; /* nroot: every root attribute as stored (none derived), sorted by name */
    int E, P, R;
    char **phase_names;                                 /* P */
    long long *epoch, *warmup;                          /* E */
    double *loss, *objective, *residual_z, *residual_a; /* E */
    double *multiplier;                                 /* E; NaN when the file has none */
    double *aa_accepted, *aa_residual, *aa_coef_norm;   /* E: /epochs/anderson_accepted,
                                                           anderson_residual, anderson_coef_norm;
                                                           NaN when the file has none (a file
                                                           older than --anderson) */
    long long anderson; /* /config/anderson, the memory M (0: off); 0 when the file has no such
                           attribute (a file older than --anderson, or a method it does not
                           apply to: no acceleration ran) with anderson_recorded = 0 */
    int anderson_recorded;
    double *train_acc, *val_acc, *test_acc;             /* E */
    double *t_epoch, *t_eval, *t_wall;                  /* E */
    double *phase_min, *phase_avg, *phase_max;          /* (E, P) */
    double *rss_mb;                                     /* (E, R) */
} admm_Run;

/* Reads path into *run (zeroed first). Returns 0 for a complete results file or a partial run
 * (run->partial), or -1 with a one-line reason in why when the file is neither (not a regular
 * file, not HDF5, truncated, status != "complete" outside a .part file, a missing or misshapen
 * attribute or dataset, a root attribute or accuracy outside the ranges of io/SCHEMA.md, a .part
 * file without one whole epoch: the reason names it and its value); *run is then freed. A path
 * ending in .part is read as a partial run: opened read-only without HDF5's file lock (its writer
 * may still be running), its final root attributes and /weights optional. */
int admm_run_read(admm_Run *run, const char *path, char *why, size_t whylen);

void admm_run_free(admm_Run *run);

/* threads_per_rank as a table cell: "unknown" for ADMM_THREADS_UNKNOWN, else the number. */
void admm_threads_format(long long threads, char *buf, size_t len);

/* The /config attribute called name, or NULL. */
const admm_Attr *admm_run_cfg(const admm_Run *run, const char *name);

/* "-" for NULL, integers as %lld, reals as %.10g, arrays joined with ','. */
void admm_attr_format(const admm_Attr *a, char *buf, size_t len);

/* 1 when both are absent or both hold the same kind and values. */
int admm_attr_equal(const admm_Attr *a, const admm_Attr *b);

#endif
