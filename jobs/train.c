/* The training driver; see train.h. Built once: the numerics of the run's precision are
 * reached through their table (solver/numerics.h). A run is opened (data, model, method,
 * results file), advanced one epoch at a time, finished (the kept weights and the final
 * figures) and closed; `train_run` holds what lives between epochs. */
#include "train.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/check.h"
#include "../common/util.h"
#include "../io/dataset.h"
#include "../io/inputs.h"
#include "../io/output_guard.h"
#include "../io/results.h"
#include "../solver/numerics.h"
#include "memory_check.h"
#include "options.h"
#include "run.h"
#include "run_checkpoint.h"
#include "run_info.h"
#include "stop_signal.h"


typedef struct {
  double acc, loss;  /* accuracy in [0,1] (NaN for regression); mean loss per sample */
  double mse;        /* regression: mean over samples and outputs of (f(x) - y)^2; NaN for classes */
} split_score;

/* True forward pass of the network over one split, summed over ranks: the method's own where
 * its ranks hold parts of the network (method.h forward_eval; r->net is the network it
 * trains), else the model's. Collective. */
static split_score score(const train_run *r, const nn_model *net, const nn_shard *s)
{
  long correct = 0;
  double sums[2] = { 0, 0 };
  const nn_method_ops *ops = r->method.ops;
  if (ops && ops->forward_eval && ops->forward_eval(r->method.self, s, r->cfg->loss, &correct, &sums[1]))
    sums[0] = (double)correct;
  else {
    r->num->forward_eval(net, s, r->cfg->loss, &correct, &sums[1]);
    sums[0] = (double)correct;
    CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
  }
  split_score sc = { NAN, NAN, NAN };
  if (s->n_global > 0) {
    sc.acc = s->y ? NAN : sums[0] / (double)s->n_global;
    sc.loss = sums[1] / (double)s->n_global;
    if (s->y) sc.mse = 2 * sc.loss / s->classes; /* the loss is 0.5 |f(x) - y|^2 per sample */
  }
  return sc;
}

/* The method's notes for the console (method.h), printed by rank 0. */
static void print_notes(nn_method_run *method, int final)
{
  if (!method->ops->notes) return;
  char text[4096];
  method->ops->notes(method->self, final, text, sizeof text);
  if (nn_rank() == 0 && text[0]) {
    fputs(text, stdout);
    fflush(stdout);
  }
}

static double max_over_ranks(double v)
{
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD));
  return v;
}

static nn_attr *add_attr(nn_attr *a, int *k, const char *name, enum nn_attr_type type)
{
  nn_attr *x = &a[(*k)++];
  memset(x, 0, sizeof *x);
  snprintf(x->name, sizeof x->name, "%s", name);
  x->type = type;
  return x;
}

/* The results file, with the options that applied (/config), the run's facts and each split's
 * size and fingerprint as attributes, and the method's phase names. Collective. */
static nn_results *open_results(train_run *r, const nn_method *method)
{
  enum { CONFIG_MAX = 64, RUN_MAX = 40 };
  const nn_data *data = &r->data;
  /* /config records --validation as resolved ("auto" on IDX files is only known here). */
  nn_config recorded = *r->cfg;
  recorded.validation = data->val.n_global;
  nn_attr *config_attrs = nn_alloc(CONFIG_MAX, sizeof *config_attrs, "the results file's attributes");
  nn_attr *run_attrs = nn_alloc(RUN_MAX, sizeof *run_attrs, "the results file's attributes");
  int nconfig = nn_options_attrs(&recorded, config_attrs, CONFIG_MAX);
  int nrun = nn_run_info_attrs(r->cfg, r->grid.nprow, r->grid.npcol, run_attrs, RUN_MAX - 8);
  const char *split_names[3] = { "n_train", "n_val", "n_test" };
  const char *sum_names[3] = { "train_checksum", "val_checksum", "test_checksum" };
  const nn_shard *splits[3] = { &data->train, &data->val, &data->test };
  for (int i = 0; i < 3; i++) {
    r->split_sum[i] = nn_split_checksum(splits[i], data->mean, data->std);
    add_attr(run_attrs, &nrun, split_names[i], NN_ATTR_INT)->i = splits[i]->n_global;
    snprintf(add_attr(run_attrs, &nrun, sum_names[i], NN_ATTR_STRING)->s, NN_ATTR_STRING_MAX, "%016llx",
             (unsigned long long)r->split_sum[i]);
  }
  /* The weights this driver holds per rank (the model and the kept copy): with --layer-groups a
   * rank holds its group's layers only, which the smallest and the largest rank's figure show. */
  long held[2] = { -(long)(r->num->model_bytes(r->net) + r->num->model_bytes(r->best)), 0 };
  held[1] = -held[0];
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, held, 2, MPI_LONG, MPI_MAX, MPI_COMM_WORLD));
  add_attr(run_attrs, &nrun, "model_bytes_min", NN_ATTR_INT)->i = -held[0];
  add_attr(run_attrs, &nrun, "model_bytes_max", NN_ATTR_INT)->i = held[1];
  char phases[256];
  nn_phase_names_csv(method->phases, phases, sizeof phases);
  nn_results *res = nn_results_create(r->path, config_attrs, nconfig, run_attrs, nrun, phases);
  free(config_attrs);
  free(run_attrs);
  return res;
}

/* Claims the output, reads the data, draws the model, starts the method and creates the
 * results file. Collective. */
static void run_open(train_run *r, const nn_config *cfg)
{
  memset(r, 0, sizeof *r);
  r->cfg = cfg;
  r->num = nn_numerics_of(cfg);
  r->t_start = MPI_Wtime();
  r->total = cfg->warmup + cfg->epochs;
  r->best_val = -INFINITY; /* regression compares -MSE */
  r->stop_reason = "max_epochs";
  nn_options_echo(cfg);
  nn_grid_init(&r->grid, cfg->nprow, cfg->npcol, cfg->block);
  /* --resume: the checkpoint's results file is the default --output, and the interrupted
   * run's own file there (stopped by a signal) may be replaced. */
  nn_ckpt *resume = NULL;
  nn_config claim = *cfg;
  if (cfg->resume[0]) {
    char recorded[1024];
    resume = nn_run_resume_open(cfg, recorded, sizeof recorded);
    if (!claim.output[0]) snprintf(claim.output, sizeof claim.output, "%s", recorded);
    if (strcmp(claim.output, recorded) == 0) claim.force = 1;
  }
  nn_output_path(&claim, r->path, sizeof r->path);
  nn_output_claim(&claim, r->path); /* refuses a harmful --output and locks it, before any data is read */
  nn_run_checkpoint_path(cfg, r->path, r->checkpoint, sizeof r->checkpoint);

  /* The data's size is known from the options for every data set but idx files: check what
   * can be checked before reading anything, the rest once the shards are in. */
  long all, tests;
  nn_input_sizes(cfg, &all, &tests);
  long vals = cfg->validation > 0 ? cfg->validation : 0;
  if (all > 0) nn_memory_check(cfg, all - vals, vals, tests);
  nn_data_load(&r->data, cfg);
  const nn_data *d = &r->data;
  if (all == 0) nn_memory_check(cfg, d->train.n_global, d->val.n_global, d->test.n_global);
  if (nn_rank() == 0)
    printf("data: %s train=%ld val=%ld test=%ld ranks=%d grid=%dx%d precision=%s output=%s\n", cfg->data,
           d->train.n_global, d->val.n_global, d->test.n_global, nn_nranks(), r->grid.nprow, r->grid.npcol,
           r->num->precision, r->path);

  r->net = r->num->model_create(cfg);
  r->best = r->num->model_create(cfg);
  const nn_method *method = nn_method_find_in(r->num->methods, cfg->method);
  CHECK(method, "internal: no method '%s' (options not checked)", cfg->method);
  r->res = open_results(r, method);
  if (resume)
    nn_run_resume_model(resume, r); /* the saved weights, which the method starts from */
  else {
    if (cfg->init == NN_INIT_PAIRS) r->num->model_init_pairs(r->net, &d->train, cfg->seed);
    r->num->model_copy(r->best, r->net);
  }
  r->method = nn_method_create(method, cfg, r->net, &d->train, &r->grid);
  r->t_train0 = MPI_Wtime();
  if (resume) nn_run_resume_state(resume, r);
  r->t_checkpoint = MPI_Wtime();
  print_notes(&r->method, 0);
}

/* Keeps a copy of row: a checkpoint holds every row so far. */
static void keep_row(train_run *r, const nn_epoch_row *row)
{
  if (r->nrows == r->rows_cap) {
    int cap = r->rows_cap ? 2 * r->rows_cap : 64;
    nn_epoch_row *grown = realloc(r->rows, sizeof *grown * (size_t)cap);
    CHECK(grown, "out of memory for %d results rows", cap);
    r->rows = grown;
    r->rows_cap = cap;
  }
  r->rows[r->nrows++] = *row;
}

/* Writes a checkpoint after epoch e when --checkpoint-every or --checkpoint-interval asks for
 * one, or when the run stops on a signal. The time since the last one is the slowest rank's,
 * so every rank decides alike. Collective. */
static void maybe_checkpoint(train_run *r, int e, int stopping_on_signal)
{
  if (!r->checkpoint[0]) return;
  const nn_config *cfg = r->cfg;
  double since = max_over_ranks(MPI_Wtime() - r->t_checkpoint);
  int due = stopping_on_signal || (cfg->checkpoint_every > 0 && e % cfg->checkpoint_every == 0) ||
            (cfg->checkpoint_interval > 0 && since >= cfg->checkpoint_interval);
  if (!due) return;
  double t0 = MPI_Wtime();
  if (nn_run_checkpoint_save(r) == 0 && nn_rank() == 0 && !cfg->quiet) {
    printf("checkpoint: epoch=%d file=%s t=%.3fs\n", e, r->checkpoint, MPI_Wtime() - t0);
    fflush(stdout);
  }
  r->t_checkpoint = MPI_Wtime();
}

/* The per-epoch row: the figures, the phase times and the work counters. */
static void write_row(train_run *r, nn_epoch_row *row, nn_timer *t, const nn_counters *work)
{
  t->total[PH_IO] = r->last_io;
  nn_timer_reduce(t, row->phase_min, row->phase_avg, row->phase_max, row->phase_flops, row->phase_stream);
  memcpy(row->phase_rank, t->total, sizeof row->phase_rank);
  nn_counters most; /* the critical path: each count's maximum over the ranks */
  nn_counters_max(&most, work);
  memcpy(row->comm_calls, most.calls, sizeof row->comm_calls);
  memcpy(row->comm_bytes, most.bytes, sizeof row->comm_bytes);
  row->stream_bytes = most.stream;
  row->stream_calls = most.stream_calls;
  row->flops_narrow = most.flops_narrow;
  row->flops_local_solve = most.flops_local_solve;
  row->bytes_sent = work->sent; /* each rank its own */
  row->bytes_recv = work->received;
  double tio = MPI_Wtime();
  nn_results_append(r->res, row);
  r->last_io = MPI_Wtime() - tio;
  keep_row(r, row);
}

/* Epoch e (1-based, warm-up included): trains, evaluates with a true forward pass, keeps the
 * best weights by validation, writes the row. Returns 1 when the run should stop (and sets
 * stop_reason). Collective. */
static int run_epoch(train_run *r, int e)
{
  const nn_config *cfg = r->cfg;
  int warm = e <= cfg->warmup; /* --warmup: admm's own; 0 for every other method */
  nn_timer t;
  nn_timer_reset(&t);
  nn_epoch_stats st = NN_EPOCH_STATS_NONE;
  CHECK_MPI(MPI_Barrier(MPI_COMM_WORLD));
  nn_counters before = nn_count, work;
  double t0 = MPI_Wtime();
  r->method.ops->epoch(r->method.self, e, &st, &t);
  double t_epoch = max_over_ranks(MPI_Wtime() - t0);
  nn_counters_diff(&work, &nn_count, &before);

  double t1 = MPI_Wtime();
  nn_timer_start(&t, PH_EVAL);
  split_score tr = { NAN, NAN, NAN };
  if (cfg->eval_train) tr = score(r, r->net, &r->data.train);
  split_score va = score(r, r->net, &r->data.val);
  split_score te = score(r, r->net, &r->data.test);
  nn_timer_stop(&t);
  double t_eval = max_over_ranks(MPI_Wtime() - t1);
  /* The loss can stay finite while some weights are not (a unit that no sample activates).
   * Each rank checks the layers it holds; the lowest failing rank names its bad layer. */
  int bad_layer = 0, finite = r->num->model_finite(r->net, &bad_layer);
  char msg[300];
  snprintf(msg, sizeof msg, "the weights of layer %d became NaN or Inf at epoch %d (diverged: check --normalize, "
           "lower --lr, or --beta/--gamma)", bad_layer, e);
  nn_check_all(finite, msg);
  CHECK_ALL_RANKS(!cfg->eval_train || isfinite(tr.loss), "the network's outputs became NaN or Inf at epoch %d "
                  "(diverged: lower --lr, or --beta/--gamma)", e);

  /* Early stopping and the kept model follow the validation slice only, never the test set.
   * Warm-up epochs are not candidates; without a validation slice the last epoch is kept. */
  if (!warm) {
    /* regression: the lowest validation MSE */
    double v = r->data.val.n_global > 0 ? (r->data.val.y ? -va.mse : va.acc) : (double)e;
    if (v > r->best_val) {
      r->best_val = v;
      r->best_epoch = e;
      r->since_best = 0;
      r->num->model_copy(r->best, r->net);
    } else
      r->since_best++;
  }
  r->epochs_run = e;
  r->train_time += t_epoch;
  r->spent += t_epoch + t_eval;

  nn_epoch_row row = { .epoch = e, .warmup = warm, .loss = tr.loss, .objective = st.objective,
                       .residual_z = st.residual_z, .residual_a = st.residual_a, .multiplier = st.multiplier,
                       .aa_accepted = st.aa_accepted, .aa_residual = st.aa_residual, .aa_coef_norm = st.aa_coef_norm,
                       .train_acc = tr.acc, .val_acc = va.acc, .test_acc = te.acc, .train_mse = tr.mse,
                       .val_mse = va.mse, .test_mse = te.mse, .t_epoch = t_epoch,
                       .t_eval = t_eval, .t_wall = MPI_Wtime() - r->t_train0, .rss_mb = nn_peak_rss_mb() };
  write_row(r, &row, &t, &work);
  print_notes(&r->method, 0);
  int regression = r->data.train.y != NULL;
  if (nn_rank() == 0 && !cfg->quiet) {
    printf("epoch=%d%s loss=%.6g objective=%.6g res_z=%.4g %s=%.4f %s=%.4f %s=%.4f "
           "t_epoch=%.3f t_eval=%.3f t_io=%.3f eta=%.0fs\n",
           e, warm ? " warmup=1" : "", tr.loss, st.objective, st.residual_z, regression ? "train_mse" : "train_acc",
           regression ? tr.mse : tr.acc, regression ? "val_mse" : "val_acc", regression ? va.mse : va.acc,
           regression ? "test_mse" : "test_acc", regression ? te.mse : te.acc, t_epoch, t_eval, r->last_io,
           r->spent / e * (r->total - e));
    fflush(stdout);
  }

  if (!warm && cfg->patience > 0 && r->data.val.n_global > 0 && r->since_best >= cfg->patience) {
    r->stop_reason = "early_stopping";
    return 1;
  }
  if (st.converged) {
    r->stop_reason = "converged";
    return 1;
  }
  /* A signal keeps the work done: a checkpoint to resume from, and the results file closed as
   * complete with the best weights so far. */
  r->stop_sig = nn_stop_signal_any();
  maybe_checkpoint(r, e, r->stop_sig != 0);
  if (r->stop_sig) {
    r->stop_reason = "signal";
    return 1;
  }
  nn_test_fail_point(e); /* inert unless ADMM_TEST_FAIL_EPOCH is set (check.h) */
  return 0;
}

/* Restores the kept weights, scores them, and closes the results file with them and the final
 * figures. Collective. */
static void run_finish(train_run *r)
{
  const nn_config *cfg = r->cfg;
  r->num->model_copy(r->net, r->best);
  split_score tr = score(r, r->net, &r->data.train);
  split_score va = score(r, r->net, &r->data.val);
  split_score te = score(r, r->net, &r->data.test);
  /* a method whose ranks own groups of layers gathers the whole network into a transient
   * copy, here only */
  nn_model *whole = r->net;
  if (r->method.ops->weights_export) {
    whole = r->num->model_create_whole(cfg);
    r->method.ops->weights_export(r->method.self, whole);
  }
  void *W[NN_MAX_LAYERS + 1], *b[NN_MAX_LAYERS + 1];
  int L = r->num->model_layers(whole, W, b);
  nn_results_weights(r->res, L, cfg->n, W, cfg->biases ? b : NULL, cfg->float32);
  if (whole != r->net) r->num->model_free(whole);
  nn_attr final[16];
  int nf = 0;
  add_attr(final, &nf, "epochs_run", NN_ATTR_INT)->i = r->epochs_run;
  add_attr(final, &nf, "best_epoch", NN_ATTR_INT)->i = r->best_epoch;
  add_attr(final, &nf, "final_train_acc", NN_ATTR_REAL)->d = tr.acc;
  add_attr(final, &nf, "final_val_acc", NN_ATTR_REAL)->d = va.acc;
  add_attr(final, &nf, "final_test_acc", NN_ATTR_REAL)->d = te.acc;
  add_attr(final, &nf, "final_loss", NN_ATTR_REAL)->d = tr.loss;
  int regression = r->data.train.y != NULL;
  if (regression) {
    add_attr(final, &nf, "final_train_mse", NN_ATTR_REAL)->d = tr.mse;
    add_attr(final, &nf, "final_val_mse", NN_ATTR_REAL)->d = va.mse;
    add_attr(final, &nf, "final_test_mse", NN_ATTR_REAL)->d = te.mse;
  }
  snprintf(add_attr(final, &nf, "stop_reason", NN_ATTR_STRING)->s, NN_ATTR_STRING_MAX, "%s", r->stop_reason);
  if (r->stop_sig)
    snprintf(add_attr(final, &nf, "stop_signal", NN_ATTR_STRING)->s, NN_ATTR_STRING_MAX, "%s",
             nn_stop_signal_name(r->stop_sig));
  add_attr(final, &nf, "train_time_s", NN_ATTR_REAL)->d = r->train_time;
  add_attr(final, &nf, "total_time_s", NN_ATTR_REAL)->d = MPI_Wtime() - r->t_start;
  nn_results_finish(r->res, final, nf);
  if (nn_rank() == 0) {
    printf("final: method=%s best_epoch=%d epochs_run=%d stop=%s %s=%.6g %s=%.6g %s=%.6g "
           "loss=%.6g train_time=%.2fs total_time=%.2fs output=%s\n",
           cfg->method, r->best_epoch, r->epochs_run, r->stop_reason, regression ? "train_mse" : "train_acc",
           regression ? tr.mse : tr.acc, regression ? "val_mse" : "val_acc", regression ? va.mse : va.acc,
           regression ? "test_mse" : "test_acc", regression ? te.mse : te.acc, tr.loss,
           r->train_time, MPI_Wtime() - r->t_start, r->path);
    fflush(stdout);
  }
  if (nn_rank() == 0 && r->stop_sig) {
    fprintf(stderr, "admm-train: stopped by %s after epoch %d of %d: %s is complete, stop_reason=signal, with the "
            "weights of epoch %d (exit %d)\n", nn_stop_signal_name(r->stop_sig), r->epochs_run, r->total, r->path,
            r->best_epoch, 128 + r->stop_sig);
    fflush(stderr);
  }
  print_notes(&r->method, 1);
  /* A finished run needs no default checkpoint (it can be large: the auxiliaries); one named
   * by --checkpoint is the user's, and a signal's is there to be resumed. */
  if (!r->stop_sig && !cfg->checkpoint[0] && r->checkpoint[0] && nn_rank() == 0) remove(r->checkpoint);
}

static void run_close(train_run *r)
{
  nn_method_destroy(&r->method);
  r->num->model_free(r->net);
  r->num->model_free(r->best);
  nn_data_free(&r->data);
  nn_grid_free(&r->grid);
  free(r->rows);
}

int nn_train_run(const nn_config *cfg)
{
  train_run r;
  run_open(&r, cfg);
  for (int e = r.epochs_run + 1; e <= r.total; e++)
    if (run_epoch(&r, e)) break;
  run_finish(&r);
  run_close(&r);
  return r.stop_sig ? 128 + r.stop_sig : 0;
}
