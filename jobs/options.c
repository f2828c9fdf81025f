/* Option table and parser; see options.h. Every option is one row of `table`: its name, type,
 * default, accepted range or choices, whether it is one method's own, where its value lands in
 * nn_config and its help. A value is read from text once, by its row, into its typed field;
 * range checks, --help, the start-up echo and /config all read that row and the typed value.
 * Which methods take an option of their own, and each method's defaults and checks, come from
 * the method registry (solver/method.h); the few checks that involve several options are in
 * check_combinations. */
#include "options.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../io/inputs.h"
#include "../common/check.h"
#include "../solver/method.h"
#include "run_info.h"

/* ------------------------------------------------------------------ the table */

enum opt_type {
  OPT_INT,    /* int or long field (by its size), decimal, range-checked */
  OPT_REAL,   /* double field, finite, range-checked */
  OPT_CHOICE, /* int or enum field: the index of the value in `choices`; char array: the value */
  OPT_STRING, /* char array field */
  OPT_FLAG,   /* int field: 1 when the option is given (no value) */
  OPT_CUSTOM  /* a value with a syntax of its own: the row's parse fills the fields, print writes them back */
};
enum {
  F_AUTO = 1,     /* the word auto is accepted: INT stores -1, REAL stores NaN, resolved later */
  F_LO_OPEN = 2,  /* the range excludes its lower end */
  F_HI_OPEN = 4,  /* ... or its upper end */
  F_METHOD = 8,   /* a method's own: it applies to the methods whose registry entry lists it */
  F_ZERO_OFF = 16 /* where it does not apply, its field holds 0 (warm-up: no epochs of it) */
};

/* OPT_CUSTOM: parse reads text v into cfg (0 and one line in err when it is not valid), print
 * writes the typed value back as text. */
typedef struct {
  int (*parse)(nn_config *cfg, const char *v, char *err, size_t errlen);
  void (*print)(const nn_config *cfg, char *out, size_t len);
} opt_syntax;

typedef struct {
  const char *name;    /* without the leading -- */
  enum opt_type type;
  const char *def;     /* default, as text */
  const char *choices; /* OPT_CHOICE: '|'-separated, in the order of the field's enum */
  const opt_syntax *syntax; /* OPT_CUSTOM: how its text reads and prints */
  double lo, hi;       /* OPT_INT, OPT_REAL: accepted range */
  int flags;           /* F_METHOD: given to a method that does not list it, it is refused */
  size_t offset, size; /* where the value lands in nn_config */
  const char *help;
} opt_spec;

#define AT(field) offsetof(nn_config, field), sizeof(((nn_config *)0)->field)
#define BIG 1e6
#define COUNT (double)INT_MAX

static int parse_layers(nn_config *cfg, const char *v, char *err, size_t errlen);
static void print_layers(const nn_config *cfg, char *out, size_t len);
static int parse_grid(nn_config *cfg, const char *v, char *err, size_t errlen);
static void print_grid(const nn_config *cfg, char *out, size_t len);
static int parse_normalize(nn_config *cfg, const char *v, char *err, size_t errlen);
static void print_normalize(const nn_config *cfg, char *out, size_t len);
static const opt_syntax layers_syntax = { parse_layers, print_layers };
static const opt_syntax grid_syntax = { parse_grid, print_grid };
static const opt_syntax normalize_syntax = { parse_normalize, print_normalize };

static const opt_spec *find(const char *name, size_t len);

/* --method's choices: the registry's names, '|'-separated (filled by method_choices_init). */
static char method_choices[512];

static const opt_spec table[] = {
  { "method", OPT_CHOICE, "bcd", method_choices, NULL, 0, 0, 0, AT(method),
    "training method: one of the methods listed below (README, Methods)" },
  { "data", OPT_CHOICE, "mnist", "mnist|fashion-mnist|synthetic|idx|regression|csv", NULL, 0, 0, 0, AT(data),
    "data set; idx reads the four --train-*/--test-* files; regression: synthetic function fitting (README); "
    "csv: the table --csv with the target column --target (both regression: squared loss, MSE reported)" },
  { "csv", OPT_STRING, "", NULL, NULL, 0, 0, 0, AT(csv),
    "--data csv: a numeric table, comma or blank separated, plain or gzip, an optional header row" },
  { "target", OPT_STRING, "last", NULL, NULL, 0, 0, 0, AT(target),
    "--data csv: the target column, by header name or 0-based number, or last" },
  { "csv-skip", OPT_INT, "0", NULL, NULL, 0, BIG, 0, AT(csv_skip),
    "--data csv: lines to skip before the header or the first row" },
  { "data-dir", OPT_STRING, "", NULL, NULL, 0, 0, 0, AT(data_dir),
    "directory of the data set's IDX files (default $ADMM_DATA_DIR, else data/mnist or "
    "/usr/share/datasets/fashion-mnist)" },
  { "train-images", OPT_STRING, "", NULL, NULL, 0, 0, 0, AT(train_images), "IDX training images (implies --data idx)" },
  { "train-labels", OPT_STRING, "", NULL, NULL, 0, 0, 0, AT(train_labels), "IDX training labels (implies --data idx)" },
  { "test-images", OPT_STRING, "", NULL, NULL, 0, 0, 0, AT(test_images), "IDX test images (implies --data idx)" },
  { "test-labels", OPT_STRING, "", NULL, NULL, 0, 0, 0, AT(test_labels), "IDX test labels (implies --data idx)" },
  { "n-train", OPT_INT, "0", NULL, NULL, 0, COUNT, 0, AT(n_train),
    "use the first N training samples (0: all; synthetic, regression: 2048)" },
  { "n-test", OPT_INT, "0", NULL, NULL, 0, COUNT, 0, AT(n_test), "use the first N test samples (0: all; synthetic, regression: 512; csv: 1/5 of the rows)" },
  { "validation", OPT_INT, "auto", NULL, NULL, 0, COUNT, F_AUTO, AT(validation),
    "samples carved from the end of the training range for early stopping and the kept model (0: none; "
    "auto: 5000 for MNIST and Fashion-MNIST, 1/8 of --n-train for synthetic and regression, 1/12 of the file for "
    "idx, 1/8 of the rows left by the test rows for csv)" },
  { "normalize", OPT_CUSTOM, "dataset", NULL, &normalize_syntax, 0, 0, 0, AT(normalize),
    "input scaling of pixel/255: dataset (MNIST 0.1307,0.3081; Fashion 0.2860,0.3530), none, or MEAN,STD" },
  { "layers", OPT_CUSTOM, "784,256,256,10", NULL, &layers_syntax, 0, 0, 0, AT(n),
    "layer widths, input first, classes last" },
  { "arch", OPT_CHOICE, "mlp", "mlp|resnet", NULL, 0, 0, 0, AT(arch),
    "network: mlp (the ReLU layers of --layers) or resnet (a linear input layer to --width, --blocks residual "
    "blocks x_{k+1} = x_k + act(W_k x_k + b_k), a linear output layer; --layers gives only the input and output "
    "widths, its first and last entries)" },
  { "blocks", OPT_INT, "4", NULL, NULL, 1, NN_MAX_LAYERS - 2, 0, AT(blocks), "resnet: residual blocks K" },
  { "width", OPT_INT, "256", NULL, NULL, 1, 1000000, 0, AT(width), "resnet: width n of the input layer and the blocks" },
  { "activation", OPT_CHOICE, "relu", "relu|sigmoid", NULL, 0, 0, 0, AT(activation),
    "resnet: the blocks' activation (the mlp is ReLU throughout)" },
  { "beta", OPT_REAL, "1", NULL, NULL, 0, 1e12, F_LO_OPEN | F_METHOD, AT(beta), "penalty on z_l = W_l a_{l-1}" },
  { "gamma", OPT_REAL, "1", NULL, NULL, 0, 1e12, F_LO_OPEN | F_METHOD, AT(gamma), "penalty on a_l = relu(z_l)" },
  { "warmup", OPT_INT, "2", NULL, NULL, 0, BIG, F_METHOD | F_ZERO_OFF, AT(warmup),
    "epochs without multiplier updates, run before --epochs" },
  { "epochs", OPT_INT, "50", NULL, NULL, 1, BIG, 0, AT(epochs),
    "maximum training epochs (after warm-up); random-features: iterations of the squared-hinge readout" },
  { "patience", OPT_INT, "5", NULL, NULL, 0, BIG, 0, AT(patience),
    "grace patience: stop after this many epochs without a better validation accuracy (0: never)" },
  { "init", OPT_CHOICE, "auto", "he|xavier|normalized|zero|pytorch|pairs|auto", NULL, 0, 0, 0, AT(init),
    "weight initialisation. pytorch: torch.nn.Linear's default, W and b ~ U(+-1/sqrt(fan_in)); pairs: He, then "
    "every hidden unit from two training samples of different classes (w.u + b = -1, w.v + b = +1); "
    "auto: the method's default (methods, below)" },
  { "aux-init", OPT_CHOICE, "forward", "forward|random", NULL, 0, 0, F_METHOD, AT(aux_random),
    "auxiliary variables: forward pass of the initial weights, or z ~ N(0,1), a = relu(z)" },
  { "loss", OPT_CHOICE, "auto", "least-squares|hinge|cross-entropy|squared-hinge|auto", NULL, 0, 0, 0, AT(loss),
    "output loss; each method trains those listed under methods, below. squared-hinge: the squared distance of "
    "the outputs to >= 1 for the class, <= 0 for the others; least-squares: thesis eq. 3.12; hinge: Taylor's; "
    "cross-entropy: softmax" },
  { "biases", OPT_CHOICE, "yes", "no|yes", NULL, 0, 0, F_METHOD, AT(biases),
    "biases of the frozen network: yes as --init sets them (the floor of every method but admm), no (admm's floor)" },
  { "precision", OPT_CHOICE, "float64", "float64|float32", NULL, 0, 0, 0, AT(float32),
    "floating-point precision of all numerics" },
  { "ridge", OPT_REAL, "0.001", NULL, NULL, 0, 1, F_HI_OPEN | F_METHOD, AT(ridge),
    "relative ridge of the least-squares solves (admm: weight steps; bcd, random-features: the output solve), "
    "times trace/n of the Gram matrix (MNIST's constant pixels make a_0 a_0^T singular)" },
  { "weight-solve", OPT_CHOICE, "ridge", "ridge|pinv", NULL, 0, 0, F_METHOD, AT(weight_solve),
    "weight step by ridge normal equations, or by the thesis's pseudo-inverse (eigendecomposition of the "
    "summed Gram matrix, p?syevd, eigenvalues below --pinv-rcond x largest dropped)" },
  { "pinv-rcond", OPT_REAL, "auto", NULL, NULL, 0, 1, F_AUTO | F_HI_OPEN | F_METHOD, AT(pinv_rcond),
    "--weight-solve pinv: relative eigenvalue cutoff (auto: order x machine epsilon)" },
  { "seed", OPT_INT, "1", NULL, NULL, 0, 9007199254740992.0, 0, AT(seed),
    "random seed (initialisation, synthetic data, shuffling)" },
  { "augment", OPT_INT, "0", NULL, NULL, 0, 4, F_METHOD, AT(augment),
    "translate every training image by up to this many pixels in each direction, redrawn per sample and epoch "
    "from --seed (0: off); square images only (mnist, fashion-mnist, idx); bcd with --bcd-batches > 1 only; "
    "evaluation reads the images as stored (solver/augment.h)" },
  { "lr", OPT_REAL, "auto", NULL, NULL, 0, 100, F_AUTO | F_LO_OPEN | F_METHOD, AT(lr), "learning rate (auto: 0.01, adam 0.001)" },
  { "batch", OPT_INT, "auto", NULL, NULL, 1, COUNT, F_AUTO | F_METHOD, AT(batch), "global mini-batch (auto: 128, sgd 1)" },
  { "momentum", OPT_REAL, "0.9", NULL, NULL, 0, 1, F_HI_OPEN | F_METHOD, AT(momentum), "momentum coefficient" },
  { "reduce-group", OPT_INT, "0", NULL, NULL, 0, BIG, F_METHOD, AT(reduce_group),
    "ranks that sum gradients through one node-shared window, each updating a slice (0: every rank of a node; "
    "1: none, one MPI_Allreduce of all gradients and the update on every rank; K: groups of K ranks, as if each "
    "were a node); solver/node_sum.h" },
  { "eval-train", OPT_INT, "1", NULL, NULL, 0, 1, 0, AT(eval_train),
    "1: measure training accuracy and loss every epoch (forward pass)" },
  { "grid", OPT_CUSTOM, "auto", NULL, &grid_syntax, 0, 0, F_METHOD, AT(nprow),
    "BLACS process grid PxQ, or auto (squarest)" },
  { "block", OPT_INT, "64", NULL, NULL, 1, 4096, F_METHOD, AT(block), "ScaLAPACK block size" },
  { "bcd-prox", OPT_REAL, "0.001", NULL, NULL, 0, BIG, F_LO_OPEN | F_HI_OPEN | F_METHOD, AT(bcd_prox),
    "proximal weight on |W - W_old|^2 in the hidden weight steps, relative to trace/n of the Gram matrix" },
  { "bcd-decay", OPT_REAL, "auto", NULL, NULL, 0, BIG, F_AUTO | F_HI_OPEN | F_METHOD, AT(bcd_decay),
    "ridge on |W|^2 in the hidden weight steps (pulls directions the data leave undetermined back to zero), "
    "relative like --bcd-prox; auto: 0 in float64, 1e-3 in float32, whose rounding noise in those directions "
    "otherwise accumulates over sweeps" },
  { "bcd-reanchor", OPT_INT, "1", NULL, NULL, 0, BIG, F_METHOD, AT(bcd_reanchor),
    "reset z_l, a_l to the true forward pass every N sweeps (0: never, the auxiliaries drift)" },
  { "bcd-growth", OPT_REAL, "1", NULL, NULL, 1, 10, F_METHOD, AT(bcd_growth), "--beta and --gamma multiply by this after every sweep" },
  { "bcd-batches", OPT_INT, "1", NULL, NULL, 1, 100000, F_METHOD, AT(bcd_batches),
    "sweeps per epoch, each over 1/B of every rank's samples (mini-batch bcd); the readout is then solved on "
    "all samples once per epoch" },
  { "dladmm-rho", OPT_REAL, "1e-6", NULL, NULL, 0, BIG, F_LO_OPEN | F_METHOD, AT(dladmm_rho),
    "penalty rho of the output constraint z_L = W_L a_{L-1} + b_L (and its multiplier's step) at the first "
    "iteration; 1e-6 is the authors'" },
  { "dladmm-nu", OPT_REAL, "auto", NULL, NULL, 0, BIG, F_AUTO | F_LO_OPEN | F_METHOD, AT(dladmm_nu),
    "penalty nu of the hidden constraints z_l = W_l a_{l-1} + b_l, a_l = relu(z_l) (auto: nu = rho at every "
    "iteration, as the authors' code)" },
  { "dladmm-rho-growth", OPT_REAL, "1", NULL, NULL, 1, 10, F_METHOD, AT(dladmm_rho_growth),
    "the rho schedule: rho multiplies by this after every iteration, up to --dladmm-rho-max (1: constant)" },
  { "dladmm-rho-max", OPT_REAL, "1", NULL, NULL, 0, BIG, F_LO_OPEN | F_METHOD, AT(dladmm_rho_max),
    "the largest rho the schedule reaches" },
  { "dladmm-step", OPT_CHOICE, "exact", "exact|backtrack", NULL, 0, 0, F_METHOD, AT(dladmm_step),
    "length 1/eta of the W and a gradient steps: exact, the smallest eta that the paper's condition "
    "phi(new) <= its quadratic model at eta admits (the exact line search along the gradient, a smooth "
    "function of the state); backtrack, the paper's doubling of eta from a small start (up to 2x shorter)" },
  { "anderson", OPT_INT, "auto", NULL, NULL, 0, 32, F_AUTO | F_METHOD | F_ZERO_OFF, AT(anderson),
    "Anderson acceleration of the fixed-point iteration with this memory M (0: off; auto: the method's default, "
    "below), safeguarded by the method's merit (solver/anderson.h); holds 2M + 4 copies of the state: the "
    "auxiliaries and multipliers of every sample and the weights" },
  { "splitting", OPT_INT, "3", NULL, NULL, 2, 3, F_METHOD, AT(splitting),
    "2: auxiliary block outputs V_l; 3: also the blocks' pre-activations U_l (solver/resnet_admm.c)" },
  { "resnet-beta", OPT_REAL, "10", NULL, NULL, 0, 1e12, F_LO_OPEN | F_METHOD, AT(resnet_beta),
    "penalty beta of every constraint, and the multipliers' step (10: the best validation MSE of 1, 10, 100, 1000 on --data regression, README)" },
  { "resnet-tau", OPT_REAL, "1", NULL, NULL, 0, 1e12, F_LO_OPEN | F_METHOD, AT(resnet_tau),
    "2-splitting block weight steps: proximal weight, in units of beta lambda_max(V V^T) (their Lipschitz bound)" },
  { "resnet-rho", OPT_REAL, "1", NULL, NULL, 0, 1e12, F_LO_OPEN | F_METHOD, AT(resnet_rho),
    "linearised V steps (2-splitting) and U steps (3-splitting): proximal weight, in units of their Lipschitz "
    "bound (beta (1 + |W|_2)^2, beta)" },
  { "layer-groups", OPT_INT, "1", NULL, NULL, 1, NN_MAX_LAYERS, F_METHOD, AT(layer_groups),
    "split the L = K + 2 weight layers into G contiguous groups, each updated by its own ranks (ranks = G x D, "
    "rank r in group r % G, data shard r / G; 1 rank runs the G groups one after another); README" },
  { "group-schedule", OPT_CHOICE, "jacobi", "jacobi|odd-even|serial", NULL, 0, 0, F_METHOD, AT(group_schedule),
    "--layer-groups G > 1: jacobi (every group at once from its neighbours' previous values), odd-even (groups "
    "0, 2, .. then 1, 3, ..), serial (odd-even's serial layer order, every layer on every rank: its check)" },
  { "output", OPT_STRING, "", NULL, NULL, 0, 0, 0, AT(output),
    "results file (default results/<method>-<data>-<UTC time>-p<ranks>.h5)" },
  { "force", OPT_FLAG, "0", NULL, NULL, 0, 0, 0, AT(force), "replace an existing complete results file" },
  { "quiet", OPT_INT, "0", NULL, NULL, 0, 1, 0, AT(quiet), "1: no per-epoch lines" },
  { "checkpoint", OPT_STRING, "", NULL, NULL, 0, 0, 0, AT(checkpoint),
    "checkpoint file, replaced atomically each time (default: the results file's name ending in "
    ".checkpoint.h5; none: no checkpoints)" },
  { "checkpoint-every", OPT_INT, "0", NULL, NULL, 0, BIG, 0, AT(checkpoint_every),
    "write a checkpoint every N epochs (0: by --checkpoint-interval only)" },
  { "checkpoint-interval", OPT_REAL, "600", NULL, NULL, 0, 1e9, 0, AT(checkpoint_interval),
    "write a checkpoint after an epoch that ends this many seconds after the last one (0: not by time); "
    "SIGTERM, SIGINT and SIGUSR1 always write one" },
  { "resume", OPT_STRING, "", NULL, NULL, 0, 0, 0, AT(resume),
    "continue the run saved in this checkpoint, on any rank count: give the same options (--epochs may "
    "change; --output defaults to the checkpoint's)" },
};
enum { NOPT = sizeof table / sizeof table[0] };

static int takes(const nn_method *m, const opt_spec *o)
{
  return !(o->flags & F_METHOD) || nn_method_takes(m, o->name);
}

/* cfg->method is one of the registry's names once its row has read it. */
static int applies(const opt_spec *o, const nn_config *cfg)
{
  const nn_method *m = nn_method_find(cfg->method);
  return m && takes(m, o);
}

static void *field(nn_config *cfg, const opt_spec *o) { return (char *)cfg + o->offset; }
static const void *cfield(const nn_config *cfg, const opt_spec *o) { return (const char *)cfg + o->offset; }

/* ------------------------------------------------------------------ values */

static long get_int(const nn_config *cfg, const opt_spec *o)
{
  return o->size == sizeof(int) ? *(const int *)cfield(cfg, o) : *(const long *)cfield(cfg, o);
}

static void set_int(nn_config *cfg, const opt_spec *o, long v)
{
  if (o->size == sizeof(int)) *(int *)field(cfg, o) = (int)v;
  else *(long *)field(cfg, o) = v;
}

static const char *choice_at(const char *choices, int index, char *buf, size_t len)
{
  const char *p = choices;
  for (int i = 0; i < index && p; i++) {
    p = strchr(p, '|');
    if (p) p++;
  }
  if (!p) return "?";
  size_t n = strcspn(p, "|");
  snprintf(buf, len, "%.*s", (int)n, p);
  return buf;
}

static int choice_index(const char *v, const char *choices)
{
  size_t n = strlen(v);
  int i = 0;
  for (const char *p = choices; p; i++) {
    size_t len = strcspn(p, "|");
    if (len == n && strncmp(p, v, n) == 0) return i;
    p = p[len] ? p + len + 1 : NULL;
  }
  return -1;
}

static int in_range(const opt_spec *o, double v)
{
  int lo_ok = o->flags & F_LO_OPEN ? v > o->lo : v >= o->lo;
  int hi_ok = o->flags & F_HI_OPEN ? v < o->hi : v <= o->hi;
  return lo_ok && hi_ok;
}

static void describe_range(const opt_spec *o, char *buf, size_t len)
{
  snprintf(buf, len, "%c%.15g, %.15g%c", o->flags & F_LO_OPEN ? '(' : '[', o->lo, o->hi,
           o->flags & F_HI_OPEN ? ')' : ']');
}

/* The shortest text that reads back as the same double (%.17g always would, but prints 0.1 as
 * 0.10000000000000001). */
static void real_text(double v, char *out, size_t len)
{
  for (int digits = 15; digits <= 17; digits++) {
    snprintf(out, len, "%.*g", digits, v);
    if (strtod(out, NULL) == v) return;
  }
}

/* Stores the text value v of option o into cfg; on error writes one line into err, returns 0. */
static int set_value(nn_config *cfg, const opt_spec *o, const char *v, char *err, size_t errlen)
{
  char range[96];
  describe_range(o, range, sizeof range);
  if ((o->flags & F_AUTO) && strcmp(v, "auto") == 0) {
    if (o->type == OPT_INT) set_int(cfg, o, -1);
    else *(double *)field(cfg, o) = NAN;
    return 1;
  }
  switch (o->type) {
  case OPT_INT: {
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end) {
      snprintf(err, errlen, "option --%s: '%s' is not an integer%s", o->name, v, o->flags & F_AUTO ? " or auto" : "");
      return 0;
    }
    if (errno == ERANGE || !in_range(o, (double)x)) {
      snprintf(err, errlen, "option --%s: %s is outside %s", o->name, v, range);
      return 0;
    }
    set_int(cfg, o, (long)x);
    return 1;
  }
  case OPT_REAL: {
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || *end || !isfinite(x)) {
      snprintf(err, errlen, "option --%s: '%s' is not a finite number%s", o->name, v, o->flags & F_AUTO ? " or auto" : "");
      return 0;
    }
    if (!in_range(o, x)) {
      snprintf(err, errlen, "option --%s: %s is outside %s", o->name, v, range);
      return 0;
    }
    *(double *)field(cfg, o) = x;
    return 1;
  }
  case OPT_CHOICE: {
    int k = choice_index(v, o->choices);
    if (k < 0) {
      snprintf(err, errlen, "option --%s: '%s' is not one of %s", o->name, v, o->choices);
      return 0;
    }
    if (o->size > sizeof(int)) snprintf(field(cfg, o), o->size, "%s", v); /* kept as its name */
    else *(int *)field(cfg, o) = k;
    return 1;
  }
  case OPT_STRING:
    if (strlen(v) >= o->size) {
      snprintf(err, errlen, "option --%s: value longer than %zu characters", o->name, o->size - 1);
      return 0;
    }
    memcpy(field(cfg, o), v, strlen(v) + 1);
    return 1;
  case OPT_FLAG:
    *(int *)field(cfg, o) = strcmp(v, "0") != 0;
    return 1;
  case OPT_CUSTOM:
    return o->syntax->parse(cfg, v, err, errlen);
  }
  return 0;
}

/* The effective value of option o as text. */
static void value_text(const nn_config *cfg, const opt_spec *o, char *out, size_t len)
{
  switch (o->type) {
  case OPT_INT: {
    long v = get_int(cfg, o);
    if (v < 0 && (o->flags & F_AUTO)) snprintf(out, len, "auto");
    else snprintf(out, len, "%ld", v);
    break;
  }
  case OPT_REAL: {
    double v = *(const double *)cfield(cfg, o);
    if (isnan(v)) snprintf(out, len, "auto");
    else real_text(v, out, len);
    break;
  }
  case OPT_CHOICE:
    if (o->size > sizeof(int)) snprintf(out, len, "%s", (const char *)cfield(cfg, o));
    else choice_at(o->choices, *(const int *)cfield(cfg, o), out, len);
    break;
  case OPT_STRING: snprintf(out, len, "%s", (const char *)cfield(cfg, o)); break;
  case OPT_FLAG: snprintf(out, len, "%d", *(const int *)cfield(cfg, o)); break;
  case OPT_CUSTOM: o->syntax->print(cfg, out, len); break;
  }
}

/* ------------------------------------------------------------------ values with a syntax */

/* --layers W0,W1,...,WL */
static int parse_layers(nn_config *cfg, const char *v, char *err, size_t errlen)
{
  int L = -1;
  const char *p = v;
  while (*p) {
    char *end;
    errno = 0;
    long w = strtol(p, &end, 10);
    if (end == p || errno || w < 1 || w > 1000000 || (*end && *end != ',')) {
      snprintf(err, errlen, "option --layers: '%s' is not a comma-separated list of widths in [1, 1000000]", v);
      return 0;
    }
    if (++L > NN_MAX_LAYERS) {
      snprintf(err, errlen, "option --layers: more than %d layers", NN_MAX_LAYERS);
      return 0;
    }
    cfg->n[L] = (int)w;
    p = *end ? end + 1 : end;
  }
  if (L < 1) {
    snprintf(err, errlen, "option --layers: need at least an input and an output width, got '%s'", v);
    return 0;
  }
  cfg->L = L;
  return 1;
}

static void print_layers(const nn_config *cfg, char *out, size_t len)
{
  size_t k = 0;
  out[0] = 0;
  for (int l = 0; l <= cfg->L && k < len; l++) k += (size_t)snprintf(out + k, len - k, "%s%d", l ? "," : "", cfg->n[l]);
}

/* --grid PxQ, or auto (0 x 0: nn_grid_init picks the squarest) */
static int parse_grid(nn_config *cfg, const char *v, char *err, size_t errlen)
{
  cfg->nprow = cfg->npcol = 0;
  if (strcmp(v, "auto") == 0) return 1;
  long p, q;
  char tail;
  if (sscanf(v, "%ldx%ld%c", &p, &q, &tail) != 2 || p < 1 || q < 1 || p > 1000000 || q > 1000000) {
    snprintf(err, errlen, "option --grid: '%s' is not PxQ (each 1 to 1000000) or auto", v);
    return 0;
  }
  if (p * q != nn_nranks()) {
    snprintf(err, errlen, "option --grid: %ldx%ld needs %ld ranks, running on %d", p, q, p * q, nn_nranks());
    return 0;
  }
  cfg->nprow = (int)p;
  cfg->npcol = (int)q;
  return 1;
}

static void print_grid(const nn_config *cfg, char *out, size_t len)
{
  if (cfg->nprow == 0) snprintf(out, len, "auto");
  else snprintf(out, len, "%dx%d", cfg->nprow, cfg->npcol);
}

/* --normalize: the inputs become (pixel/255 - MEAN) / STD for pixels in [0, 1]; both ends of
 * that range must stay finite and moderate, or the Gram matrices overflow (1e-200 as STD
 * trained to NaN weights) or every input vanishes. */
static int parse_normalize(nn_config *cfg, const char *v, char *err, size_t errlen)
{
  cfg->norm_mean = 0;
  cfg->norm_std = 1;
  if (strcmp(v, "dataset") == 0) { cfg->normalize = NN_NORMALIZE_DATASET; return 1; }
  if (strcmp(v, "none") == 0) { cfg->normalize = NN_NORMALIZE_NONE; return 1; }
  double m, s;
  char tail;
  if (sscanf(v, "%lf,%lf%c", &m, &s, &tail) != 2 || !isfinite(m) || !isfinite(s) || !(s > 0)) {
    snprintf(err, errlen, "option --normalize: '%s' is not dataset, none or MEAN,STD with finite MEAN and STD > 0", v);
    return 0;
  }
  double reach = fmax(fabs(m), fabs(1 - m)) / s;
  if (s < 1e-6 || s > 1e6 || reach > 1e6) {
    snprintf(err, errlen, "option --normalize: %s maps pixels to [%g, %g]; STD must be in [1e-6, 1e6] and the "
             "inputs within +-1e6", v, -m / s, (1 - m) / s);
    return 0;
  }
  cfg->normalize = NN_NORMALIZE_GIVEN;
  cfg->norm_mean = m;
  cfg->norm_std = s;
  return 1;
}

static void print_normalize(const nn_config *cfg, char *out, size_t len)
{
  if (cfg->normalize != NN_NORMALIZE_GIVEN) {
    snprintf(out, len, "%s", cfg->normalize == NN_NORMALIZE_NONE ? "none" : "dataset");
    return;
  }
  char m[32], s[32];
  real_text(cfg->norm_mean, m, sizeof m);
  real_text(cfg->norm_std, s, sizeof s);
  snprintf(out, len, "%s,%s", m, s);
}

/* ------------------------------------------------------------------ the methods */

/* --method's choices from the registry, and a check that the registry and the table agree:
 * every option a method lists is a row marked F_METHOD, and every such row has a method. */
static void method_choices_init(void)
{
  const nn_method *const *methods = nn_method_list();
  size_t k = 0;
  for (int i = 0; methods[i]; i++) {
    const nn_method *m = methods[i];
    k += (size_t)snprintf(method_choices + k, sizeof method_choices - k, "%s%s", i ? "|" : "", m->name);
    CHECK(k < sizeof method_choices, "internal: the method names exceed %zu characters", sizeof method_choices);
    for (const char *p = m->options; *p;) {
      p += strspn(p, " ");
      size_t w = strcspn(p, " ");
      const opt_spec *o = NULL;
      for (int r = 0; r < NOPT && w; r++)
        if (strlen(table[r].name) == w && strncmp(table[r].name, p, w) == 0) o = &table[r];
      CHECK(!w || (o && (o->flags & F_METHOD)), "internal: --method %s lists '%.*s', which is no option of a method's own "
            "(jobs/options.c)", m->name, (int)w, p);
      p += w;
    }
  }
  for (int i = 0; methods[i]; i++)
    CHECK(!nn_method_takes(methods[i], "anderson") == !methods[i]->ops->merit, "internal: --method %s %s --anderson "
          "but %s a merit (solver/method.h)", methods[i]->name, methods[i]->ops->merit ? "does not list" : "lists",
          methods[i]->ops->merit ? "has" : "has no");
  for (int r = 0; r < NOPT; r++) {
    int taken = !(table[r].flags & F_METHOD);
    for (int i = 0; methods[i] && !taken; i++) taken = nn_method_takes(methods[i], table[r].name);
    CHECK(taken, "internal: option --%s is a method's own (F_METHOD) but no method lists it", table[r].name);
  }
}

/* ------------------------------------------------------------------ help */

/* The methods that take option o, comma separated; "" when every method does. */
static void methods_text(const opt_spec *o, char *buf, size_t len)
{
  buf[0] = 0;
  if (!(o->flags & F_METHOD)) return;
  const nn_method *const *methods = nn_method_list();
  size_t k = 0;
  for (int i = 0; methods[i]; i++)
    if (nn_method_takes(methods[i], o->name))
      k += (size_t)snprintf(buf + k, k < len ? len - k : 0, "%s%s", k ? "," : "", methods[i]->name);
}

void nn_options_print_help(void)
{
  method_choices_init();
  printf("usage: mpiexec -n RANKS admm-train [options]\n\n"
         "Trains a fully connected ReLU network without back-propagation (bcd, admm), as the floor of no\n"
         "training (random-features), or by gradient methods, on MPI ranks, and writes every measurement to\n"
         "one HDF5 file (schema: io/SCHEMA.md). An option that does not apply to --method is refused.\n\n"
         "options (default in brackets; {methods} when not every method takes it):\n");
  for (int i = 0; i < NOPT; i++) {
    const opt_spec *o = &table[i];
    char left[96], who[96];
    snprintf(left, sizeof left, "--%s%s%s", o->name, o->type == OPT_FLAG ? "" : " ",
             o->type == OPT_CHOICE ? o->choices : o->type == OPT_INT ? "N" : o->type == OPT_REAL ? "X"
                                                : o->type == OPT_FLAG ? "" : "S");
    methods_text(o, who, sizeof who);
    printf("  %-44s %s%s%s%s [%s]\n", left, who[0] ? "{" : "", who, who[0] ? "} " : "", o->help,
           o->type == OPT_FLAG ? "no" : o->def[0] ? o->def : "none");
  }
  printf("  %-44s %s\n", "--help", "this text");
  printf("  %-44s %s\n", "--version", "the version and the git revision it was built from");
  printf("  %-44s %s\n", "--config RUN.h5", "replay a run: the options recorded in the results file's /config (those "
         "that applied to it, auto resolved), then those given here over them; --output, --force, --checkpoint and "
         "--resume are never taken from the file");
  printf("\nmethods (--method):\n");
  const opt_spec *init = find("init", 4), *loss = find("loss", 4);
  const nn_method *const *methods = nn_method_list();
  for (int i = 0; methods[i]; i++) {
    const nn_method *m = methods[i];
    char name[32], losses[128] = "";
    size_t k = 0;
    for (int l = 0; l < NN_LOSS_AUTO; l++)
      if (m->losses & 1u << l)
        k += (size_t)snprintf(losses + k, sizeof losses - k, "%s%s%s", k ? ", " : "", choice_at(loss->choices, l, name, sizeof name),
                              l == (int)m->loss_auto ? " (auto)" : "");
    char aa[48] = "";
    if (nn_method_takes(m, "anderson")) snprintf(aa, sizeof aa, "; --anderson auto: %d", m->anderson_auto);
    printf("  %-16s %s\n  %-16s --init auto: %s; --loss: %s%s\n", m->name, m->help, "",
           choice_at(init->choices, m->init_auto, name, sizeof name), losses, aa);
  }
  printf("\nPer-epoch lines on rank 0: epoch= loss= objective= train_acc= val_acc= test_acc= t_epoch= (seconds,\n"
         "training step only) t_eval= eta=. Environment: OPENBLAS_NUM_THREADS should be cores per rank.\n");
}

/* ------------------------------------------------------------------ parsing */

static const opt_spec *find(const char *name, size_t len)
{
  for (int i = 0; i < NOPT; i++)
    if (strlen(table[i].name) == len && strncmp(table[i].name, name, len) == 0) return &table[i];
  return NULL;
}

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return 0; } while (0)

/* Every option at its default; no option given. */
static int set_defaults(nn_config *cfg, int *given, char *err, size_t errlen)
{
  for (int i = 0; i < NOPT; i++) {
    given[i] = 0;
    if (!set_value(cfg, &table[i], table[i].def, err, errlen)) return 0;
  }
  return 1;
}

/* argv over cfg; given[i] marks options set there. *config: the file of the last --config, or
 * NULL (--config is no row of the table: it says where options come from and is not one). */
static int apply_argv(nn_config *cfg, int *given, int argc, char **argv, int *help, const char **config, char *err,
                      size_t errlen)
{
  *help = 0;
  *config = NULL;
  for (int a = 1; a < argc; a++) {
    const char *arg = argv[a];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) { *help = 1; return 1; }
    if (strcmp(arg, "--version") == 0) { *help = 2; return 1; }
    if (strncmp(arg, "--", 2) != 0) FAIL("unexpected argument '%s' (options start with --; see --help)", arg);
    if (strcmp(arg, "--config") == 0 || strncmp(arg, "--config=", 9) == 0) {
      const char *v = arg[8] ? arg + 9 : a + 1 < argc && strncmp(argv[a + 1], "--", 2) != 0 ? argv[++a] : NULL;
      if (!v || !v[0]) FAIL("option --config needs a value (a results file of admm-train)");
      *config = v;
      continue;
    }
    const char *name = arg + 2, *eq = strchr(name, '=');
    size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
    const opt_spec *o = find(name, nlen);
    if (!o) FAIL("unknown option '--%.*s' (see --help)", (int)nlen, name);
    const char *val;
    if (o->type == OPT_FLAG) {
      val = eq ? eq + 1 : "1";
      if (strcmp(val, "0") && strcmp(val, "1")) FAIL("option --%s takes no value (or =0, =1), got '%s'", o->name, val);
    } else {
      /* "--epochs --beta 2" is a missing value, not the value "--beta" */
      val = eq ? eq + 1 : (a + 1 < argc && strncmp(argv[a + 1], "--", 2) != 0 ? argv[++a] : NULL);
      if (!val) FAIL("option --%s needs a value", o->name);
    }
    /* given twice: the later value wins, so scripts can append overrides to a base line */
    if (!set_value(cfg, o, val, err, errlen)) return 0;
    given[o - table] = 1;
  }
  return 1;
}

/* Options a replay never takes from its file: they name the run's own files, or allow it to
 * replace one, and say nothing of how it trained. A replay writes files of its own (taking
 * --output and --force from the file could replace the very file it replays). */
static const char *const not_replayed[] = { "output", "force", "checkpoint", "resume" };

/* Options added with a default other than the behaviour before them (options.h). */
static const struct {
  const char *method, *attr, *option, *value; /* a file of this method without attr ran as option value */
} implied_when_absent[] = {
  { "dladmm", "dladmm_step", "dladmm-step", "backtrack" }, /* the default became exact */
};

const char *nn_options_implied_when_absent(const char *method, const char *attr)
{
  for (size_t k = 0; k < sizeof implied_when_absent / sizeof implied_when_absent[0]; k++)
    if (strcmp(implied_when_absent[k].method, method) == 0 && strcmp(implied_when_absent[k].attr, attr) == 0)
      return implied_when_absent[k].value;
  return NULL;
}

/* /config's attributes of results file PATH as "name\0value\0" pairs, each value as its option
 * reads it, plus the implied values of options newer than the file; buf is malloc'd. On rank 0
 * only. 0 and one line in err when the file cannot serve. */
static int config_file_text(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
  enum { MAX = 128 };
  nn_attr *attrs = calloc(MAX, sizeof *attrs);
  CHECK(attrs, "out of memory reading --config");
  int n = nn_results_read_config(path, attrs, MAX, err, errlen);
  size_t cap = 1, used = 0;
  *buf = NULL;
  for (int i = 0; i < n; i++) cap += strlen(attrs[i].name) + sizeof attrs[i].s + 2;
  for (size_t k = 0; k < sizeof implied_when_absent / sizeof implied_when_absent[0]; k++)
    cap += strlen(implied_when_absent[k].option) + strlen(implied_when_absent[k].value) + 2;
  if (n >= 0) *buf = calloc(1, cap);
  CHECK(n < 0 || *buf, "out of memory reading --config");
  int ok = n >= 0;
  for (int i = 0; ok && i < n; i++) {
    const nn_attr *a = &attrs[i];
    char name[64], value[NN_ATTR_STRING_MAX];
    snprintf(name, sizeof name, "%s", a->name);
    for (char *c = name; *c; c++)
      if (*c == '_') *c = '-';
    const opt_spec *o = find(name, strlen(name));
    if (!o && strcmp(a->name, "layer_sizes") == 0) continue; /* --layers, as numbers */
    if (!o) {
      snprintf(err, errlen, "--config %s: /config/%s is no option of this admm-train (a file of another version?)",
               path, a->name);
      ok = 0;
      break;
    }
    int skip = 0;
    for (size_t k = 0; k < sizeof not_replayed / sizeof not_replayed[0]; k++) skip |= strcmp(o->name, not_replayed[k]) == 0;
    if (skip) continue;
    if (a->type == NN_ATTR_INT) {
      if (a->i < 0 && (o->flags & F_AUTO)) snprintf(value, sizeof value, "auto");
      else snprintf(value, sizeof value, "%ld", a->i);
    } else if (a->type == NN_ATTR_REAL) {
      if (isnan(a->d) && (o->flags & F_AUTO)) snprintf(value, sizeof value, "auto"); /* pinv_rcond: NaN is auto */
      else real_text(a->d, value, sizeof value);
    } else if (a->type == NN_ATTR_STRING)
      snprintf(value, sizeof value, "%s", a->s);
    else {
      snprintf(err, errlen, "--config %s: /config/%s is an array, option --%s takes one value", path, a->name, o->name);
      ok = 0;
      break;
    }
    used += (size_t)snprintf(*buf + used, cap - used, "%s", o->name) + 1;
    used += (size_t)snprintf(*buf + used, cap - used, "%s", value) + 1;
  }
  for (size_t k = 0; ok && k < sizeof implied_when_absent / sizeof implied_when_absent[0]; k++) {
    int present = 0, method = 0;
    for (int i = 0; i < n; i++) {
      present |= strcmp(attrs[i].name, implied_when_absent[k].attr) == 0;
      method |= strcmp(attrs[i].name, "method") == 0 && attrs[i].type == NN_ATTR_STRING &&
                strcmp(attrs[i].s, implied_when_absent[k].method) == 0;
    }
    if (present || !method) continue;
    used += (size_t)snprintf(*buf + used, cap - used, "%s", implied_when_absent[k].option) + 1;
    used += (size_t)snprintf(*buf + used, cap - used, "%s", implied_when_absent[k].value) + 1;
  }
  free(attrs);
  if (!ok) {
    free(*buf);
    *buf = NULL;
  }
  *len = used;
  return ok;
}

/* --config PATH: the options /config of results file PATH holds (those that applied to its run,
 * auto resolved), not_replayed aside, set through their rows as if given as text. Rank 0 reads
 * the file; every rank sets the same values. Collective. */
static int apply_config_file(nn_config *cfg, const char *path, char *err, size_t errlen)
{
  char *buf = NULL;
  size_t len = 0;
  int ok = 1;
  if (nn_rank() == 0) ok = config_file_text(path, &buf, &len, err, errlen);
  long head[2] = { ok, (long)len };
  CHECK_MPI(MPI_Bcast(head, 2, MPI_LONG, 0, MPI_COMM_WORLD));
  if (!head[0]) {
    CHECK_MPI(MPI_Bcast(err, (int)errlen, MPI_CHAR, 0, MPI_COMM_WORLD)); /* every rank explains alike */
    return 0;
  }
  len = (size_t)head[1];
  if (nn_rank() != 0) buf = calloc(1, len + 1);
  CHECK(buf || len == 0, "out of memory reading --config");
  if (len) CHECK_MPI(MPI_Bcast(buf, (int)len, MPI_CHAR, 0, MPI_COMM_WORLD));
  char msg[1200];
  for (size_t k = 0; ok && k < len;) {
    const char *name = buf + k, *value = name + strlen(name) + 1;
    k = (size_t)(value - buf) + strlen(value) + 1;
    ok = set_value(cfg, find(name, strlen(name)), value, msg, sizeof msg);
    if (!ok) snprintf(err, errlen, "--config %s: %s", path, msg);
  }
  free(buf);
  return ok;
}

/* Defaults; with --config, the file's options over them; then argv over those. given[i] marks
 * the options of the command line: only those are refused when they do not apply to the
 * method, so a replay under another --method drops the file's options of the old one. */
static int read_argv(nn_config *cfg, int *given, int argc, char **argv, int *help, char *err, size_t errlen)
{
  const char *config;
  if (!set_defaults(cfg, given, err, errlen) || !apply_argv(cfg, given, argc, argv, help, &config, err, errlen))
    return 0;
  if (*help || !config) return 1;
  return set_defaults(cfg, given, err, errlen) && apply_config_file(cfg, config, err, errlen) &&
         apply_argv(cfg, given, argc, argv, help, &config, err, errlen);
}

static int given_name(const int *given, const char *name)
{
  const opt_spec *o = find(name, strlen(name));
  return o && given[o - table];
}

/* --data regression and csv fit real targets with the squared loss (--loss least-squares,
 * resolved here for auto); the classifiers' checks for the rest. */
static int check_regression(nn_config *cfg, const nn_method *m, const int *given, char *err, size_t errlen)
{
  int csv = strcmp(cfg->data, "csv") == 0, regression = csv || strcmp(cfg->data, "regression") == 0;
  const char *csv_only[] = { "csv", "target", "csv-skip" };
  for (int i = 0; i < 3 && !csv; i++)
    if (given_name(given, csv_only[i])) FAIL("option --%s: goes with --data csv, not --data %s", csv_only[i], cfg->data);
  if (!regression) {
    if (cfg->n[cfg->L] < 2) FAIL("option --layers: the last width is the number of classes, at least 2");
    return 1;
  }
  if (!m->regression) FAIL("option --data %s: --method %s trains classifiers only", cfg->data, m->name);
  if (csv && !cfg->csv[0]) FAIL("option --data csv needs --csv PATH");
  if (csv && cfg->n[cfg->L] != 1) FAIL("option --layers: --data csv fits one target column, the last width is %d", cfg->n[cfg->L]);
  if (cfg->loss == NN_LOSS_AUTO) cfg->loss = NN_LOSS_LEAST_SQUARES;
  if (cfg->loss != NN_LOSS_LEAST_SQUARES)
    FAIL("option --loss: --data %s fits real targets, with --loss least-squares (the squared loss)", cfg->data);
  if (cfg->init == NN_INIT_PAIRS) FAIL("option --init pairs: needs classes; --data %s has real targets", cfg->data);
  if (cfg->init == NN_INIT_AUTO && m->init_auto == NN_INIT_PAIRS) cfg->init = NN_INIT_HE;
  return 1;
}

/* --arch resnet: the widths become input, --width (K + 1 times: the input layer and the K
 * blocks), output, with the input and output of --layers; the MLP refuses the resnet's options. */
static int resolve_arch(nn_config *cfg, const nn_method *m, const int *given, char *err, size_t errlen)
{
  if (cfg->arch == NN_ARCH_MLP) {
    const char *resnet_only[] = { "blocks", "width", "activation" };
    for (int i = 0; i < 3; i++)
      if (given_name(given, resnet_only[i])) FAIL("option --%s: applies to --arch resnet only", resnet_only[i]);
    return 1;
  }
  if (!(m->archs & 1u << NN_ARCH_RESNET)) FAIL("option --arch resnet: --method %s trains the MLP only", m->name);
  if (given_name(given, "layers") && cfg->L != 1)
    FAIL("option --layers: with --arch resnet it gives only the input and output widths (IN,OUT); the depth is "
         "--blocks, the width --width");
  if (cfg->init == NN_INIT_PAIRS)
    FAIL("option --init pairs: builds MLP hidden units from sample pairs; --arch resnet takes the other schemes");
  int in = cfg->n[0], out = cfg->n[cfg->L];
  cfg->L = cfg->blocks + 2;
  cfg->n[0] = in;
  for (int l = 1; l < cfg->L; l++) cfg->n[l] = cfg->width;
  cfg->n[cfg->L] = out;
  return 1;
}

/* Resolves the auto values for the chosen method and checks what one row cannot. */
static int check_combinations(nn_config *cfg, const int *given, char *err, size_t errlen)
{
  const nn_method *m = nn_method_find(cfg->method); /* found: --method's row checked the name */
  for (int i = 0; i < NOPT; i++) {
    const opt_spec *o = &table[i];
    if (takes(m, o)) continue;
    if (given[i]) {
      char who[96];
      methods_text(o, who, sizeof who);
      FAIL("option --%s: does not apply to --method %s (it applies to %s)", o->name, m->name, who);
    }
    if (o->flags & F_ZERO_OFF) memset(field(cfg, o), 0, o->size);
  }

  if (!check_regression(cfg, m, given, err, errlen)) return 0;
  if (cfg->init == NN_INIT_AUTO) cfg->init = m->init_auto;
  if (cfg->loss == NN_LOSS_AUTO) cfg->loss = m->loss_auto;
  if (!(m->losses & 1u << cfg->loss)) {
    char loss[32];
    value_text(cfg, find("loss", 4), loss, sizeof loss);
    FAIL("option --loss %s: --method %s %s", loss, m->name, m->losses_why);
  }
  if (!resolve_arch(cfg, m, given, err, errlen)) return 0;
  if (m->validate && !m->validate(cfg, err, errlen)) return 0;
  if (cfg->anderson < 0) cfg->anderson = m->anderson_auto; /* after validate: a method may settle auto itself */
  if ((long)cfg->warmup + cfg->epochs > 1000000) FAIL("options --warmup + --epochs: %ld epochs exceed 1000000", (long)cfg->warmup + cfg->epochs);

  int paths_given = given_name(given, "train-images") || given_name(given, "train-labels") ||
                    given_name(given, "test-images") || given_name(given, "test-labels");
  if (paths_given && !given_name(given, "data")) snprintf(cfg->data, sizeof cfg->data, "idx"); /* paths imply idx */
  if (paths_given && strcmp(cfg->data, "idx") != 0)
    FAIL("options --train-images/--train-labels/--test-images/--test-labels go with --data idx, not --data %s", cfg->data);
  if (strcmp(cfg->data, "idx") == 0 && !(cfg->train_images[0] && cfg->train_labels[0] && cfg->test_images[0] && cfg->test_labels[0]))
    FAIL("option --data idx needs --train-images, --train-labels, --test-images and --test-labels");
  int images = strcmp(cfg->data, "mnist") == 0 || strcmp(cfg->data, "fashion-mnist") == 0;
  if (images && cfg->n[0] != 784) FAIL("option --layers: %s images have 784 pixels, the first width is %d", cfg->data, cfg->n[0]);
  if (images && cfg->n[cfg->L] != 10) FAIL("option --layers: %s has 10 classes, the last width is %d", cfg->data, cfg->n[cfg->L]);
  int side = (int)lround(sqrt((double)cfg->n[0]));
  if (cfg->augment > 0 && !(images || strcmp(cfg->data, "idx") == 0))
    FAIL("option --augment %d: translates images, and --data %s holds none (mnist, fashion-mnist, idx)", cfg->augment, cfg->data);
  if (cfg->augment > 0 && side * side != cfg->n[0])
    FAIL("option --augment %d: translates square images, and %d inputs are no square", cfg->augment, cfg->n[0]);
  if (cfg->augment > 0 && 2 * cfg->augment >= side)
    FAIL("option --augment %d: would shift a %d x %d image by half its side or more", cfg->augment, side, side);
  if (cfg->validation < 0) {
    if (images) cfg->validation = 5000;
    else if (strcmp(cfg->data, "synthetic") == 0 || strcmp(cfg->data, "regression") == 0) {
      long n_all, n_test;
      nn_input_sizes(cfg, &n_all, &n_test);
      cfg->validation = n_all / 8;
    }
    /* idx: left at -1, io/dataset.c takes 1/12 of the file once it knows its size */
  }
  if (!cfg->data_dir[0]) {
    const char *env = getenv("ADMM_DATA_DIR");
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "%s",
             env && env[0] ? env : strcmp(cfg->data, "fashion-mnist") == 0 ? "/usr/share/datasets/fashion-mnist" : "data/mnist");
  }
  return 1;
}

int nn_options_parse(nn_config *cfg, int argc, char **argv)
{
  static int given[NOPT];
  char err[1400] = "";
  int help = 0;
  memset(cfg, 0, sizeof *cfg);
  method_choices_init();
  int ok = read_argv(cfg, given, argc, argv, &help, err, sizeof err);
  if (ok && help) {
    if (nn_rank() == 0 && help == 1) nn_options_print_help();
    if (nn_rank() == 0 && help == 2) printf("admm-train %s (git %s)\n", NN_VERSION, nn_git_revision());
    return 1;
  }
  if (ok) ok = check_combinations(cfg, given, err, sizeof err);
  nn_check_all_status(ok, err, 2); /* usage errors exit 2, as admm-analyze's do */
  /* The command line as a shell would read it back: words with anything but safe characters
   * are single-quoted (a ' inside becomes '\''). */
  size_t len = 0;
  for (int a = 0; a < argc && len + 8 < sizeof cfg->command_line; a++) {
    const char *w = argv[a];
    /* the program's own word also quotes '=' and '%': a shell would read NAME=VALUE there as an
     * assignment, and %N as a job */
    int plain = w[0] != 0 && strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.,/:+@=%") ==
                strlen(w) && (a > 0 || strpbrk(w, "=%") == NULL);
    len += (size_t)snprintf(cfg->command_line + len, sizeof cfg->command_line - len, "%s%s", a ? " " : "", plain ? "" : "'");
    for (const char *c = w; *c && len + 6 < sizeof cfg->command_line; c++)
      len += (size_t)snprintf(cfg->command_line + len, sizeof cfg->command_line - len, *c == '\'' ? "'\\''" : "%c", *c);
    if (!plain && len + 2 < sizeof cfg->command_line) cfg->command_line[len++] = '\'', cfg->command_line[len] = 0;
  }
  return 0;
}

/* ------------------------------------------------------------------ echo and /config */

int nn_options_attrs(const nn_config *cfg, nn_attr *out, int max)
{
  int k = 0;
  for (int i = 0; i < NOPT && k < max; i++) {
    const opt_spec *o = &table[i];
    if (!applies(o, cfg)) continue; /* /config holds what shaped the run, nothing else */
    nn_attr *a = &out[k++];
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "%s", o->name);
    for (char *c = a->name; *c; c++)
      if (*c == '-') *c = '_';
    value_text(cfg, o, a->s, sizeof a->s);
    if (o->type == OPT_INT || o->type == OPT_FLAG) {
      a->type = NN_ATTR_INT;
      a->i = o->type == OPT_FLAG ? *(const int *)cfield(cfg, o) : get_int(cfg, o);
    } else if (o->type == OPT_REAL) {
      a->type = NN_ATTR_REAL;
      a->d = *(const double *)cfield(cfg, o);
    } else
      a->type = NN_ATTR_STRING;
  }
  if (k < max) {
    nn_attr *a = &out[k++];
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "layer_sizes");
    a->type = NN_ATTR_INTS;
    a->nints = cfg->L + 1;
    for (int l = 0; l <= cfg->L; l++) a->ints[l] = cfg->n[l];
  }
  return k;
}

void nn_options_echo(const nn_config *cfg)
{
  if (nn_rank() != 0) return;
  printf("config:");
  for (int i = 0; i < NOPT; i++) {
    if (!applies(&table[i], cfg)) continue;
    char v[1024];
    value_text(cfg, &table[i], v, sizeof v);
    printf(" %s=%s", table[i].name, v[0] ? v : "-");
  }
  printf("\n");
  fflush(stdout);
}

void nn_options_value(const nn_config *cfg, const char *name, char *out, size_t len)
{
  const opt_spec *o = find(name, strlen(name));
  CHECK(o, "internal: no option --%s", name);
  value_text(cfg, o, out, len);
}
