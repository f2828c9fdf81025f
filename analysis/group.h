/* group: sorts runs into groups (identical configuration, ranks and threads per rank, except seed
 * and output), pools each group's statistics, and finds the families that the scaling and
 * sensitivity tables compare: groups that differ only in ranks (strong scaling), only in ranks and
 * n_train at a fixed number of samples per rank (weak scaling), or only in one of beta, gamma,
 * warmup, init; pairs each trained group with its random-features floor. Pure computation over
 * admm_Run; no I/O. */
#ifndef ADMM_ANALYSIS_GROUP_H
#define ADMM_ANALYSIS_GROUP_H

#include "results.h"

#include <stddef.h>

/* NaN inputs are skipped; n counts the rest. std is the sample standard deviation (n - 1), 0 when
 * n == 1; every field is NaN when n == 0. */
typedef struct {
    int n;
    double mean, std, min, max;
} admm_Stat;

void admm_stat(admm_Stat *s, const double *x, int n);

typedef struct {
    int id; /* shown as G<id> */
    int nrun;
    int *run;          /* nrun indices into the run array, ascending (path order) */
    int npartial;      /* of them partial runs (admm-analyze --include-partial only) */
    char *label;       /* method, then the keys that differ between groups of that method:
                          "admm beta=5 ranks=2 threads=4" */
    admm_Stat val_pct; /* final_val_acc x 100, over runs: what a method's group is chosen by */
    admm_Stat acc_pct; /* final_test_acc x 100, over runs: reported, never used to choose */
    admm_Stat loss;    /* final_loss, over runs */
    admm_Stat epochs;  /* epochs_run, over runs */
    admm_Stat t_epoch; /* t_epoch of every epoch of every run, pooled */
    double
        comm_share; /* sum of comm_* phase_avg / sum of t_epoch, whole group; NaN: no comm_ phase */
    double peak_rss; /* max of rss_mb over epochs, ranks and runs */
} admm_Group;

typedef enum { ADMM_FAMILY_STRONG, ADMM_FAMILY_WEAK, ADMM_FAMILY_PARAM } admm_FamilyKind;

typedef struct {
    char name[48]; /* "strong-1", "weak-1", "beta-1", ... (also the stem of its figure) */
    admm_FamilyKind kind;
    const char *param; /* "ranks" for scaling, else the /config key */
    int ngroup;
    int *group; /* ngroup indices into the group array, sorted by the parameter's value */
} admm_Family;

typedef struct {
    int nrun;
    const admm_Run *run;
    int nignore;
    const char *const *ignore; /* extra /config keys left out of every grouping key (--ignore) */
    int ngroup;
    admm_Group *group; /* sorted by method, ranks, threads per rank, first path */
    int nfam;
    admm_Family *fam; /* strong, weak, then one block per admm_sensitivity_params entry */
} admm_Analysis;

enum { ADMM_NSENS = 4 };
extern const char *const admm_sensitivity_params[ADMM_NSENS]; /* beta, gamma, warmup, init */

/* Builds groups and families over run[0..nrun). ignore is kept by pointer. */
void admm_analysis_build(admm_Analysis *an, const admm_Run *run, int nrun,
                         const char *const *ignore, int nignore);
void admm_analysis_free(admm_Analysis *an);

/* The first run of group g: every run of the group has its configuration. */
const admm_Run *admm_group_rep(const admm_Analysis *an, int g);

/* The value of param ("ranks", "threads_per_rank" or a /config key) in group g, formatted; "-"
 * when absent ("unknown" for threads_per_rank). */
void admm_group_param(const admm_Analysis *an, int g, const char *param, char *buf, size_t len);

/* Seeds of group g joined with ',' ("-" when the runs have no seed attribute). */
void admm_group_seeds(const admm_Analysis *an, int g, char *buf, size_t len);

/* ---------------------------------------------------------------------------------------------- */
/* The random-features floor of a trained group: the same network with its hidden layers frozen at
 * the initialisation and only the output layer solved exactly for the readout loss. A floor run
 * (method random-features) matches a trained group when its /config data, layers and init equal the
 * trained group's, its loss is the trained method's (least-squares for the gradient methods, whose
 * cross-entropy has no exact readout solve) and its biases are the trained method's (admm: no,
 * every other method: yes). Among matching floor groups the one sharing most seeds with the
 * trained group wins, then the first. A one-run trained group is compared with the floor runs of
 * its own seed when the floor group has them (its own initialisation, readout solved); otherwise
 * with the floor group's mean. */

#define ADMM_FLOOR_METHOD "random-features"

typedef struct {
    int group;      /* index of the floor group; -1: none matches (or g is itself a floor) */
    int nrun;       /* floor runs averaged */
    int seed_only;  /* 1: only the floor runs with the trained group's one seed were averaged */
    double acc_pct; /* mean final_test_acc x 100 of those runs; NaN when group < 0 */
    int proxy_loss; /* 1: the method's loss has no readout solve; least-squares stands in */
    char loss[64];  /* the /config/loss and /config/biases a matching floor run must have */
    char biases[8];
} admm_Floor;

/* Fills *fl for group g. Returns 1 for a floor group itself (nothing to compare), 0 otherwise
 * (fl->group < 0 when no floor run matches). */
int admm_group_floor(const admm_Analysis *an, int g, admm_Floor *fl);

/* One value per (run, epoch e, 0-based). */
typedef double (*admm_EpochField)(const admm_Run *run, int e);
double admm_field_test_acc_pct(const admm_Run *run, int e);
double admm_field_train_acc_pct(const admm_Run *run, int e);
double admm_field_val_acc_pct(const admm_Run *run, int e);
double admm_field_loss(const admm_Run *run, int e);
double admm_field_t_epoch(const admm_Run *run, int e);
double admm_field_t_wall(const admm_Run *run, int e);
double admm_field_objective(const admm_Run *run, int e);
double admm_field_residual_z(const admm_Run *run, int e);
double admm_field_residual_a(const admm_Run *run, int e);
double admm_field_multiplier(const admm_Run *run, int e);
double admm_field_rss_max(const admm_Run *run, int e); /* max over ranks */
/* Seconds of training so far: t_epoch summed over epochs 1..e+1 (the training steps only, Anderson
 * acceleration's own work included; evaluation and I/O left out, which cost every method alike) */
double admm_field_t_train(const admm_Run *run, int e);
double admm_field_aa_residual(const admm_Run *run, int e); /* |g(x_k) - x_k| of --anderson */

/* ---------------------------------------------------------------------------------------------- */
/* Anderson acceleration (--anderson M, /config/anderson): M is a /config key, so runs with other M
 * are never one group. The plain group of g is the group equal to g in every key but anderson,
 * epochs and patience (where a run stops, not its iterates) whose M is 0 (recorded 0 before not recorded, then the first): the same method and options without
 * acceleration, whose curve sets the objective levels of the reach table. g itself when its M is 0;
 * -1 when no such group was read. */
int admm_group_plain(const admm_Analysis *an, int g);

/* Spread of field over the runs of group g, per epoch: mean, lo (min), hi (max) of the runs that
 * reached epoch e, NaN skipped (all NaN when none has a value). Arrays are malloc'd, length = the
 * most epochs any run of the group ran, which is returned. */
int admm_group_band(const admm_Analysis *an, int g, admm_EpochField field, double **mean,
                    double **lo, double **hi);

#endif
