/* The method interface and its registry. A training method is one table entry (nn_method),
 * defined in the method's own file and listed in solver/methods.c: its name and help, the
 * options it takes and their checks, its defaults, its memory estimate, the names of the
 * phases it times, and its operations in each precision (nn_method_ops). The command line,
 * --help, the driver, /config and the results file's phase names all read the entry; nothing
 * outside a method's file names the method. Each precision's numerics lists its own copy of
 * every entry (numerics.h), whose operations work in that precision: they take the model of
 * that precision as a void pointer. Methods never print to stdout:
 * what the user should read goes through the notes operation. An epoch is collective over
 * MPI_COMM_WORLD and leaves identical weights on every rank. */
#ifndef NN_METHOD_H
#define NN_METHOD_H

#include <stddef.h>

#include "blockcyclic.h"
#include "../common/config.h"
#include "../common/timer.h"

/* Figures a method reports for one epoch (NaN where they do not apply). */
typedef struct {
  double objective;    /* the method's own objective, per training sample */
  double residual_z;   /* ADMM: sum_l |z_l - W_l a_{l-1}|^2 / n_train */
  double residual_a;   /* ADMM: sum_l |a_l - h(z_l)|^2 / n_train */
  double multiplier;   /* admm: |lambda|^2 / n_train after the epoch (0 through warm-up) */
  int converged;       /* 1: the method has reached its fixed point (the driver stops) */
  /* --anderson (solver/anderson.h; NaN without it): 1 the accelerated point was kept, 0 it was
   * refused by the safeguard (the plain step kept, the memory restarted), NaN none was tried
   * (no history yet); |f_k| = |g(x_k) - x_k| of the stacked state; |gamma| of the mixing. */
  double aa_accepted, aa_residual, aa_coef_norm;
} nn_epoch_stats;

/* An epoch's figures before the method fills them: NaN, not converged. */
#define NN_EPOCH_STATS_NONE { NAN, NAN, NAN, NAN, 0, NAN, NAN, NAN }

/* One array of a method's state, as a checkpoint holds it: rows x count values, column-major,
 * whose column c is global index first + c of total (a training sample, a parameter, ...).
 * Partitioned arrays are read back on any rank count by global index; a replicated one (the
 * same on every rank: first = 0, count = total) is written once. */
enum nn_state_type { NN_STATE_REAL, NN_STATE_DOUBLE, NN_STATE_LONG, NN_STATE_INT };
typedef struct {
  char name[32];             /* its dataset in the checkpoint's method group */
  void *values;
  enum nn_state_type type;   /* NN_STATE_REAL: the method's precision */
  long rows, first, count, total;
  int replicated;
} nn_state_array;

/* Up to this many arrays per method. */
enum { NN_STATE_ARRAYS_MAX = 64 };

/* Appends an array to out[*k] (of max; more is an internal error): rows x count reals
 * partitioned by global index (this rank's columns first .. first + count - 1 of total). */
void nn_state_partitioned(nn_state_array *out, int *k, int max, const char *name, void *values, long rows,
                          long first, long count, long total);
/* Appends a replicated array of count values of the given type. */
void nn_state_replicated(nn_state_array *out, int *k, int max, const char *name, void *values,
                         enum nn_state_type type, long count);

/* What a method does, in one precision. `model` is the run's nn_model (model.h), `train` its
 * nn_shard (shard.h), `self` the method's state. */
typedef struct {
  size_t size; /* bytes of the state, which nn_method_create allocates zeroed */
  /* Fills the state for training `model` on `train` (g: the BLACS grid). Collective. */
  void (*init)(void *self, const nn_config *cfg, void *model, const void *train, const nn_grid *g);
  /* One epoch (1-based, warm-up epochs included), training the model in place. Collective. */
  void (*epoch)(void *self, int epoch, nn_epoch_stats *st, nn_timer *t);
  /* Releases what init took (nn_method_destroy frees the state itself). Local. */
  void (*fini)(void *self);
  /* Optional (NULL: none). Writes into out what the user should read since the last call, as
   * whole lines ("" when nothing); final = 1 once, at the end of the run, for a summary. The
   * driver calls it on every rank after init and after every epoch and prints rank 0's. */
  void (*notes)(void *self, int final, char *out, size_t len);
  /* Optional (NULL: the state is rebuilt by init alone). The arrays of the state that a
   * checkpoint must hold beyond the model (auxiliaries, multipliers, optimiser moments,
   * counters): fills up to max entries of out, pointing into the state, and returns how
   * many. Called after init; the driver writes them, or reads a checkpoint into them. */
  int (*state_arrays)(void *self, nn_state_array *out, int max);
  /* Optional: after the driver has read the arrays back, recomputes what derives from them
   * (this rank's sums, say), so the next epoch is the one an uninterrupted run would take.
   * Collective. */
  void (*state_restored)(void *self);
  /* For methods whose ranks own blocks of layers (resnet-admm --layer-groups): writes the
   * whole network into `model`, a transient network with every layer (numerics.h
   * model_create_whole), at least on rank 0 (the one that writes /weights); the driver calls it
   * once, before writing the weights. NULL: it trains `model` in place, whole on every rank.
   * Collective. */
  void (*weights_export)(const void *self, void *model);
  /* Optional (NULL: the method cannot be accelerated; it must not list the option anderson).
   * A merit of the current state (weights and state arrays, after state_restored) that is
   * bounded below, per training sample: the safeguard of --anderson (solver/anderson.h) keeps
   * an accelerated point only where it is no worse than at the plain step. Not an augmented
   * Lagrangian: its <u, r> term is unbounded below. Collective. */
  double (*merit)(void *self);
  /* Optional (NULL: the driver runs the model's forward pass). For a method whose ranks hold
   * parts of the network (resnet-admm --layer-groups): the true forward pass of the current
   * weights over `shard` (this rank's nn_shard of a split), the correct predictions and the
   * loss summed over every rank's samples, identical on every rank. Returns 0 when `model`
   * holds the whole network (the driver's own pass applies). Collective. */
  int (*forward_eval)(void *self, const void *shard, enum nn_loss loss, long *correct, double *loss_sum);
} nn_method_ops;

typedef struct {
  const char *name;    /* --method NAME */
  const char *help;    /* one line for --help */
  /* The method's own options, space separated, without "--": rows of jobs/options.c marked
   * F_METHOD apply to exactly the methods that list them (the rest to every method). */
  const char *options;
  enum nn_init init_auto;  /* what --init auto means */
  enum nn_loss loss_auto;  /* what --loss auto means */
  int anderson_auto;       /* what --anderson auto means (methods that list the option) */
  unsigned losses;         /* the --loss values it trains: bits 1u << enum nn_loss */
  const char *losses_why;  /* ends the refusal of another: "option --loss X: --method NAME <losses_why>" */
  unsigned archs;          /* the --arch values beyond mlp it trains: bits 1u << enum nn_arch (0: mlp only) */
  int regression;          /* 1: it fits real targets too (--data regression, csv), with the squared loss */
  /* Optional (NULL: none): resolves the method's own auto values and checks what one option
   * row cannot, after every option is parsed; on error writes one line into err and returns 0.
   * Runs on every rank. */
  int (*validate)(nn_config *cfg, char *err, size_t errlen);
  /* Bytes of the method's state on a rank holding N training samples (jobs/memory_check.c). */
  double (*state_bytes)(const nn_config *cfg, double N);
  /* Names of its timer slots PH_STEP1..PH_STEP4 (timer.h), NULL for a slot it never enters. */
  const char *phases[NN_STEP_PHASES];
  const nn_method_ops *ops; /* in the precision of the table that lists the entry */
} nn_method;

/* ------------------------------------------------------------ the registry (methods.c) */

/* Every method, in the order of --method's choices and --help; NULL-terminated: the float64
 * table's list (numerics.h), whose names, options and checks are those of both precisions. */
const nn_method *const *nn_method_list(void);
/* The method called `name` in nn_method_list(), or NULL. */
const nn_method *nn_method_find(const char *name);
/* The method called `name` in `list` (a precision's methods, numerics.h), or NULL. */
const nn_method *nn_method_find_in(const nn_method *const *list, const char *name);
/* 1 when `option` (without "--") is one of m's own options. */
int nn_method_takes(const nn_method *m, const char *option);

/* Bytes --anderson M adds to a method's state (solver/anderson.h): 2M + 4 copies of the
 * stacked state, the model's parameters and per_sample reals for each of N samples; 0 when M
 * is 0. Each accelerable method adds it to its state_bytes. */
double nn_anderson_state_bytes(const nn_config *cfg, double per_sample, double N);

/* A method at work: its operations in the run's precision and its state. */
typedef struct {
  const nn_method *method;
  const nn_method_ops *ops;
  void *self;
} nn_method_run;

/* Allocates the state of method m, an entry of the run's precision (numerics.h), and runs its
 * init; with cfg->anderson > 0, inside that precision's Anderson wrapper (numerics.h), whose
 * operations then stand for m's. Collective. */
nn_method_run nn_method_create(const nn_method *m, const nn_config *cfg, void *model, const void *train,
                               const nn_grid *g);
void nn_method_destroy(nn_method_run *run);

#endif
