/* results: reads one admm-nn-results file (io/SCHEMA.md, format version 1) into memory and decides
 * whether it is a complete results file; grouping and statistics are in group.h. Serial HDF5 with
 * the default (sec2) driver: nothing here is collective and MPI is never initialised. */
#ifndef ADMM_ANALYSIS_RESULTS_H
#define ADMM_ANALYSIS_RESULTS_H

#include <stddef.h>

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
 * order: phase_avg is (E, P), element [e * P + p]; rss_mb is (E, R), element [e * R + r]. */
typedef struct {
    char *path; /* as found on the command line or while scanning */
    char *method, *status, *stop_reason, *hostnames, *start_time, *git_revision;
    long long ranks, n_train, n_val, n_test, epochs_run, best_epoch;
    double final_train_acc, final_val_acc, final_test_acc, final_loss, total_time_s, train_time_s;
    int ncfg;
    admm_Attr *cfg; /* ncfg, sorted by name */
    int E, P, R;
    char **phase_names;                                 /* P */
    long long *epoch, *warmup;                          /* E */
    double *loss, *objective, *residual_z, *residual_a; /* E */
    double *train_acc, *val_acc, *test_acc;             /* E */
    double *t_epoch, *t_eval, *t_wall;                  /* E */
    double *phase_min, *phase_avg, *phase_max;          /* (E, P) */
    double *rss_mb;                                     /* (E, R) */
} admm_Run;

/* Reads path into *run (zeroed first). Returns 0, or -1 with a one-line reason in why when the file
 * is not a complete results file (not a regular file, not HDF5, truncated, status != "complete", a
 * missing or misshapen attribute or dataset, a root attribute or accuracy outside the ranges of
 * io/SCHEMA.md: the reason names it and its value); *run is then freed. */
int admm_run_read(admm_Run *run, const char *path, char *why, size_t whylen);

/* Reads only the root status attribute, for files refused for another reason (.part files).
 * Returns a malloc'd string or NULL. */
char *admm_run_peek_status(const char *path);

void admm_run_free(admm_Run *run);

/* The /config attribute called name, or NULL. */
const admm_Attr *admm_run_cfg(const admm_Run *run, const char *name);

/* "-" for NULL, integers as %lld, reals as %.10g, arrays joined with ','. */
void admm_attr_format(const admm_Attr *a, char *buf, size_t len);

/* 1 when both are absent or both hold the same kind and values. */
int admm_attr_equal(const admm_Attr *a, const admm_Attr *b);

#endif
