/* The training driver; see train.h. Compiled twice (float64, float32): R(x) names. */
#include "train.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../io/dataset.h"
#include "../io/inputs.h"
#include "../io/output_guard.h"
#include "../io/results.h"
#include "../common/check.h"
#include "../solver/init_pairs.h"
#include "../solver/method.h"
#include "options.h"
#include "memory_check.h"
#include "run_info.h"
#include "stop_signal.h"

typedef struct {
  double acc, loss;  /* accuracy in [0,1]; mean loss per sample */
} split_score;

/* True forward pass of the network over one split, summed over ranks. Collective. */
static split_score R(score)(const R(nn_model) *net, const R(nn_shard) *s, enum nn_loss loss)
{
  long correct = 0;
  double sums[2] = { 0, 0 };
  R(nn_forward_eval)(net, s->x, s->label, s->n, loss, &correct, &sums[1]);
  sums[0] = (double)correct;
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
  split_score r = { NAN, NAN };
  if (s->n_global > 0) {
    r.acc = sums[0] / (double)s->n_global;
    r.loss = sums[1] / (double)s->n_global;
  }
  return r;
}

/* The method's notes for the console (method.h), printed by rank 0. */
static void print_notes(nn_method_run *run, int final)
{
  if (!run->ops->notes) return;
  char text[4096];
  run->ops->notes(run->self, final, text, sizeof text);
  if (nn_rank() == 0 && text[0]) {
    fputs(text, stdout);
    fflush(stdout);
  }
}

/* 1 when every weight and bias is finite. The weights are replicated, so every rank reaches
 * the same verdict. */
static int R(weights_finite)(const R(nn_model) *net, int *bad_layer)
{
  for (int l = 1; l <= net->L; l++) {
    size_t count = (size_t)net->n[l] * net->n[l - 1];
    int ok = 1;
    for (size_t e = 0; e < count; e++) ok &= isfinite(net->W[l][e]);
    for (int i = 0; i < net->n[l]; i++) ok &= isfinite(net->b[l][i]);
    if (!ok) { *bad_layer = l; return 0; }
  }
  return 1;
}

static double max_over_ranks(double v)
{
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD));
  return v;
}

static nn_attr *final_attr(nn_attr *a, int *k, const char *name, enum nn_attr_type type)
{
  nn_attr *x = &a[(*k)++];
  memset(x, 0, sizeof *x);
  snprintf(x->name, sizeof x->name, "%s", name);
  x->type = type;
  return x;
}

/* The results file, with the options that applied (/config), the run's facts and each split's
 * size and fingerprint as attributes, and the method's phase names. Collective. */
static nn_results *R(open_results)(const nn_config *cfg, const char *path, const nn_grid *grid,
                                   const R(nn_data) *data)
{
  /* /config records --validation as resolved ("auto" on IDX files is only known here). */
  nn_config recorded = *cfg;
  recorded.validation = data->val.n_global;
  static nn_attr config_attrs[64], run_attrs[40];
  int nconfig = nn_options_attrs(&recorded, config_attrs, 64);
  int nrun = nn_run_info_attrs(cfg, grid->nprow, grid->npcol, run_attrs, 32);
  const char *split_names[3] = { "n_train", "n_val", "n_test" };
  const char *sum_names[3] = { "train_checksum", "val_checksum", "test_checksum" };
  const R(nn_shard) *splits[3] = { &data->train, &data->val, &data->test };
  for (int i = 0; i < 3; i++) {
    nn_attr *a = &run_attrs[nrun++];
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "%s", split_names[i]);
    a->type = NN_ATTR_INT;
    a->i = splits[i]->n_global;
    a = &run_attrs[nrun++];
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "%s", sum_names[i]);
    a->type = NN_ATTR_STRING;
    snprintf(a->s, sizeof a->s, "%016llx",
             (unsigned long long)R(nn_split_checksum)(splits[i], data->mean, data->std));
  }
  char phases[256];
  nn_phase_names_csv(nn_method_find(cfg->method)->phases, phases, sizeof phases);
  return nn_results_create(path, config_attrs, nconfig, run_attrs, nrun, phases);
}

int R(nn_train_run)(const nn_config *cfg)
{
  int me = nn_rank();
  double t_start = MPI_Wtime();
  nn_options_echo(cfg);

  nn_grid grid;
  nn_grid_init(&grid, cfg->nprow, cfg->npcol, cfg->block);

  char path[1024];
  nn_output_path(cfg, path, sizeof path);
  nn_output_claim(cfg, path); /* refuses a harmful --output and locks it, before any data is read */

  /* The data's size is known from the options for every data set but idx files: check what
   * can be checked before reading anything, the rest once the shards are in. */
  long all, tests;
  nn_input_sizes(cfg, &all, &tests);
  long vals = cfg->validation > 0 ? cfg->validation : 0;
  if (all > 0) nn_memory_check(cfg, all - vals, vals, tests);
  R(nn_data) data;
  R(nn_data_load)(&data, cfg);
  if (all == 0) nn_memory_check(cfg, data.train.n_global, data.val.n_global, data.test.n_global);
  if (me == 0)
    printf("data: %s train=%ld val=%ld test=%ld ranks=%d grid=%dx%d precision=%s output=%s\n", cfg->data,
           data.train.n_global, data.val.n_global, data.test.n_global, nn_nranks(), grid.nprow, grid.npcol,
           REAL_NAME, path);

  R(nn_model) net, best;
  R(nn_model_alloc)(&net, cfg->L, cfg->n, cfg->biases);
  R(nn_model_alloc)(&best, cfg->L, cfg->n, cfg->biases);
  R(nn_model_init)(&net, cfg->init, cfg->seed);
  if (cfg->init == NN_INIT_PAIRS) R(nn_init_pairs)(&net, &data.train, cfg->seed);
  R(nn_model_copy)(&best, &net);

  static nn_attr final[16];
  nn_results *res = R(open_results)(cfg, path, &grid, &data);

  nn_method_run method = nn_method_create(cfg, &net, &data.train, &grid);
  print_notes(&method, 0);
  enum nn_loss loss = cfg->loss;

  int total = cfg->warmup + cfg->epochs, best_epoch = 0, since_best = 0, epochs_run = 0;
  double best_val = -1, train_time = 0, spent = 0, last_io = 0;
  const char *stop_reason = "max_epochs";
  int stop_sig = 0; /* the signal that stopped the run, or 0 */
  double t_train0 = MPI_Wtime();
  for (int e = 1; e <= total; e++) {
    int warm = e <= cfg->warmup; /* --warmup: admm's own; 0 for every other method */
    nn_timer t;
    nn_timer_reset(&t);
    nn_epoch_stats st = { NAN, NAN, NAN, NAN, 0 };
    CHECK_MPI(MPI_Barrier(MPI_COMM_WORLD));
    nn_counters before = nn_count, work;
    double t0 = MPI_Wtime();
    method.ops->epoch(method.self, e, &st, &t);
    double t_epoch = max_over_ranks(MPI_Wtime() - t0);
    nn_counters_diff(&work, &nn_count, &before);

    double t1 = MPI_Wtime();
    nn_timer_start(&t, PH_EVAL);
    split_score tr = { NAN, NAN };
    if (cfg->eval_train) tr = R(score)(&net, &data.train, loss);
    split_score va = R(score)(&net, &data.val, loss);
    split_score te = R(score)(&net, &data.test, loss);
    nn_timer_stop(&t);
    double t_eval = max_over_ranks(MPI_Wtime() - t1);
    /* The loss can stay finite while some weights are not (a unit that no sample activates). */
    int bad_layer = 0, finite = R(weights_finite)(&net, &bad_layer);
    char msg[300];
    snprintf(msg, sizeof msg, "the weights of layer %d became NaN or Inf at epoch %d (diverged: check --normalize, "
             "lower --lr, or --beta/--gamma)", bad_layer, e);
    nn_check_all(finite, msg);
    CHECK_ALL_RANKS(!cfg->eval_train || isfinite(tr.loss), "the network's outputs became NaN or Inf at epoch %d "
          "(diverged: lower --lr, or --beta/--gamma)", e);

    /* Early stopping and the kept model follow the validation slice only, never the test set.
     * Warm-up epochs are not candidates; without a validation slice the last epoch is kept. */
    if (!warm) {
      double v = data.val.n_global > 0 ? va.acc : (double)e;
      if (v > best_val) {
        best_val = v;
        best_epoch = e;
        since_best = 0;
        R(nn_model_copy)(&best, &net);
      } else
        since_best++;
    }
    epochs_run = e;
    train_time += t_epoch;
    spent += t_epoch + t_eval;
    double eta = spent / e * (total - e);

    nn_epoch_row row = { .epoch = e, .warmup = warm, .loss = tr.loss, .objective = st.objective,
                         .residual_z = st.residual_z, .residual_a = st.residual_a, .multiplier = st.multiplier, .train_acc = tr.acc,
                         .val_acc = va.acc, .test_acc = te.acc, .t_epoch = t_epoch, .t_eval = t_eval,
                         .t_wall = MPI_Wtime() - t_train0, .rss_mb = nn_peak_rss_mb() };
    t.total[PH_IO] = last_io; /* the previous row's write: a row cannot hold its own */
    nn_timer_reduce(&t, row.phase_min, row.phase_avg, row.phase_max, row.phase_flops);
    nn_counters most; /* the critical path: each count's maximum over the ranks */
    nn_counters_max(&most, &work);
    memcpy(row.comm_calls, most.calls, sizeof row.comm_calls);
    memcpy(row.comm_bytes, most.bytes, sizeof row.comm_bytes);
    row.stream_bytes = most.stream;
    row.stream_calls = most.stream_calls;
    row.flops_narrow = most.flops_narrow;
    row.bytes_sent = work.sent; /* each rank its own */
    row.bytes_recv = work.received;
    double tio = MPI_Wtime();
    nn_results_append(res, &row);
    tio = MPI_Wtime() - tio;
    last_io = tio;
    print_notes(&method, 0);
    if (me == 0 && !cfg->quiet) {
      printf("epoch=%d%s loss=%.6g objective=%.6g res_z=%.4g train_acc=%.4f val_acc=%.4f test_acc=%.4f "
             "t_epoch=%.3f t_eval=%.3f t_io=%.3f eta=%.0fs\n",
             e, warm ? " warmup=1" : "", tr.loss, st.objective, st.residual_z, tr.acc, va.acc, te.acc, t_epoch,
             t_eval, tio, eta);
      fflush(stdout);
    }
    if (!warm && cfg->patience > 0 && data.val.n_global > 0 && since_best >= cfg->patience) {
      stop_reason = "early_stopping";
      break;
    }
    if (st.converged) {
      stop_reason = "converged";
      break;
    }
    /* A signal keeps the work done: the file is closed as complete with the best weights so far. */
    stop_sig = nn_stop_signal_any();
    if (stop_sig) {
      stop_reason = "signal";
      break;
    }
    nn_test_fail_point(e); /* inert unless ADMM_TEST_FAIL_EPOCH is set (check.h) */
  }

  R(nn_model_copy)(&net, &best);
  split_score tr = R(score)(&net, &data.train, loss);
  split_score va = R(score)(&net, &data.val, loss);
  split_score te = R(score)(&net, &data.test, loss);
  void *W[NN_MAX_LAYERS + 1], *b[NN_MAX_LAYERS + 1];
  for (int l = 1; l <= net.L; l++) {
    W[l] = net.W[l];
    b[l] = net.b[l];
  }
  nn_results_weights(res, net.L, net.n, W, net.bias ? b : NULL, cfg->float32);
  int nf = 0;
  final_attr(final, &nf, "epochs_run", NN_ATTR_INT)->i = epochs_run;
  final_attr(final, &nf, "best_epoch", NN_ATTR_INT)->i = best_epoch;
  final_attr(final, &nf, "final_train_acc", NN_ATTR_REAL)->d = tr.acc;
  final_attr(final, &nf, "final_val_acc", NN_ATTR_REAL)->d = va.acc;
  final_attr(final, &nf, "final_test_acc", NN_ATTR_REAL)->d = te.acc;
  final_attr(final, &nf, "final_loss", NN_ATTR_REAL)->d = tr.loss;
  snprintf(final_attr(final, &nf, "stop_reason", NN_ATTR_STRING)->s, NN_ATTR_STRING_MAX, "%s", stop_reason);
  if (stop_sig)
    snprintf(final_attr(final, &nf, "stop_signal", NN_ATTR_STRING)->s, NN_ATTR_STRING_MAX, "%s",
             nn_stop_signal_name(stop_sig));
  final_attr(final, &nf, "train_time_s", NN_ATTR_REAL)->d = train_time;
  final_attr(final, &nf, "total_time_s", NN_ATTR_REAL)->d = MPI_Wtime() - t_start;
  nn_results_finish(res, final, nf);
  if (me == 0) {
    printf("final: method=%s best_epoch=%d epochs_run=%d stop=%s train_acc=%.4f val_acc=%.4f test_acc=%.4f "
           "loss=%.6g train_time=%.2fs total_time=%.2fs output=%s\n",
           cfg->method, best_epoch, epochs_run, stop_reason, tr.acc, va.acc, te.acc, tr.loss, train_time,
           MPI_Wtime() - t_start, path);
    fflush(stdout);
  }
  if (me == 0 && stop_sig) {
    fprintf(stderr, "admm-train: stopped by %s after epoch %d of %d: %s is complete, stop_reason=signal, with the "
            "weights of epoch %d (exit %d)\n", nn_stop_signal_name(stop_sig), epochs_run, total, path, best_epoch,
            128 + stop_sig);
    fflush(stderr);
  }
  print_notes(&method, 1);
  nn_method_destroy(&method);
  R(nn_model_free)(&net);
  R(nn_model_free)(&best);
  R(nn_data_free)(&data);
  nn_grid_free(&grid);
  return stop_sig ? 128 + stop_sig : 0;
}
