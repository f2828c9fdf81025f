/* Option table and parser; see options.h. */
#include "options.h"

#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../solver/check.h"

enum opt_type { T_INT, T_REAL, T_STRING, T_CHOICE };

typedef struct {
  const char *name;      /* without the leading -- */
  enum opt_type type;
  const char *def;       /* default, as text */
  const char *choices;   /* T_CHOICE: '|'-separated */
  const char *help;
} opt_spec;

static const opt_spec table[] = {
  { "method", T_CHOICE, "admm", "admm|gd|sgd|momentum|adam|random-features",
    "training method: admm is gradient-free (see --preset); random-features leaves the hidden layers at --init "
    "and solves the output layer by ridge least squares (the floor, one epoch); the others use gradients" },
  { "preset", T_CHOICE, "best", "best|thesis",
    "--method admm: best = the gradient-free formulation that beats the random-features floor (biases, "
    "hidden units from sample pairs, proximal weight steps, auxiliaries re-anchored to the forward pass, "
    "squared-hinge output targets; "
    "solver/bcd.c); thesis = Taylor et al.'s ADMM exactly as the thesis runs it (solver/admm.c)" },
  { "data", T_CHOICE, "mnist", "mnist|fashion-mnist|synthetic|idx",
    "data set; idx reads the four --train-*/--test-* files" },
  { "data-dir", T_STRING, "", NULL,
    "directory of the data set's IDX files (default $ADMM_DATA_DIR, else data/mnist or "
    "/usr/share/datasets/fashion-mnist)" },
  { "train-images", T_STRING, "", NULL, "IDX training images (with --data idx)" },
  { "train-labels", T_STRING, "", NULL, "IDX training labels (with --data idx)" },
  { "test-images", T_STRING, "", NULL, "IDX test images (with --data idx)" },
  { "test-labels", T_STRING, "", NULL, "IDX test labels (with --data idx)" },
  { "n-train", T_INT, "0", NULL, "use the first N training samples (0: all; synthetic: 2048)" },
  { "n-test", T_INT, "0", NULL, "use the first N test samples (0: all; synthetic: 512)" },
  { "validation", T_INT, "5000", NULL,
    "samples carved from the end of the training range for early stopping (0: no early stopping)" },
  { "normalize", T_STRING, "dataset", NULL,
    "input scaling of pixel/255: dataset (MNIST 0.1307,0.3081; Fashion 0.2860,0.3530), none, or MEAN,STD" },
  { "layers", T_STRING, "784,256,256,10", NULL, "layer widths, input first, classes last" },
  { "beta", T_REAL, "1", NULL, "ADMM penalty on z_l = W_l a_{l-1}" },
  { "gamma", T_REAL, "1", NULL, "ADMM penalty on a_l = relu(z_l)" },
  { "warmup", T_INT, "2", NULL, "ADMM warm-up epochs without multiplier updates (run before --epochs)" },
  { "epochs", T_INT, "50", NULL, "maximum training epochs (after warm-up)" },
  { "patience", T_INT, "5", NULL,
    "grace patience: stop after this many epochs without a better validation accuracy (0: never)" },
  { "init", T_CHOICE, "he", "he|xavier|normalized|zero|pytorch",
    "weight initialisation (pytorch: torch.nn.Linear's default, W and b ~ U(+-1/sqrt(fan_in)))" },
  { "aux-init", T_CHOICE, "forward", "forward|random",
    "ADMM auxiliary variables: forward pass of the initial weights, or z ~ N(0,1), a = relu(z)" },
  { "loss", T_CHOICE, "auto", "auto|least-squares|hinge|cross-entropy|squared-hinge",
    "output loss. --preset thesis: least-squares (eq. 3.12, auto) or Taylor's hinge; --preset best: "
    "squared-hinge (auto: the squared distance to outputs >= 1 for the class, <= 0 for the others) or "
    "least-squares; random-features: least-squares; gradient methods: cross-entropy" },
  { "precision", T_CHOICE, "float64", "float64|float32", "floating-point precision of all numerics" },
  { "ridge", T_REAL, "0.001", NULL,
    "relative ridge added to the weight step's Gram matrices, times trace/n (MNIST's constant pixels make "
    "a_0 a_0^T singular; 1e-3 serves both precisions and regularises the fits)" },
  { "weight-solve", T_CHOICE, "ridge", "ridge|pinv",
    "--preset thesis: weight step by ridge normal equations, or by the thesis's pseudo-inverse (eigendecomposition "
    "of the summed Gram matrix, p?syevd, eigenvalues below --pinv-rcond x largest dropped)" },
  { "pinv-rcond", T_REAL, "0", NULL, "--weight-solve pinv: relative eigenvalue cutoff (0: n x machine epsilon)" },
  { "seed", T_INT, "1", NULL, "random seed (initialisation, synthetic data, shuffling)" },
  { "lr", T_REAL, "-1", NULL, "learning rate (gradient methods; -1: 0.01, adam 0.001)" },
  { "batch", T_INT, "-1", NULL, "global mini-batch (gradient methods; -1: 128, sgd 1)" },
  { "momentum", T_REAL, "0.9", NULL, "momentum coefficient (--method momentum)" },
  { "reduce-group", T_INT, "0", NULL,
    "gradient methods: ranks that sum gradients through one node-shared window, each updating a slice "
    "(0: every rank of a node; 1: none, one MPI_Allreduce of all gradients and the update on every rank; "
    "K: groups of K ranks, as if each were a node); solver/node_sum.h" },
  { "eval-train", T_INT, "1", NULL, "1: measure training accuracy and loss every epoch (forward pass)" },
  { "grid", T_STRING, "auto", NULL, "BLACS process grid PxQ, or auto (squarest)" },
  { "block", T_INT, "64", NULL, "ScaLAPACK block size" },
  { "bcd-init", T_CHOICE, "pairs", "pairs|random",
    "--preset best: hidden units from pairs of training samples of different classes, or from --init" },
  { "bcd-prox", T_REAL, "0.001", NULL,
    "--preset best: proximal weight on |W - W_old|^2 in the hidden weight steps, relative to trace/n of the Gram matrix" },
  { "bcd-decay", T_REAL, "-1", NULL,
    "--preset best: ridge on |W|^2 in the hidden weight steps (pulls directions the data leave undetermined "
    "back to zero), relative to trace/n like --bcd-prox; -1: 0 in float64, 1e-3 in float32, whose rounding "
    "noise in those directions otherwise accumulates over sweeps" },
  { "bcd-reanchor", T_INT, "1", NULL,
    "--preset best: reset z_l, a_l to the true forward pass every N sweeps (0: never, the auxiliaries drift)" },
  { "bcd-growth", T_REAL, "1", NULL, "--preset best: --beta and --gamma multiply by this after every sweep" },
  { "output", T_STRING, "", NULL,
    "results file (default results/<method>-<data>-<UTC time>-p<ranks>.h5)" },
  { "force", T_INT, "0", NULL, "1: replace an existing complete results file" },
  { "quiet", T_INT, "0", NULL, "1: no per-epoch lines" },
};
enum { NOPT = sizeof table / sizeof table[0] };

/* Raw option values as text, indexed like table[]. */
typedef struct {
  char v[NOPT][1024];
  int given[NOPT]; /* 1: set on the command line */
} raw_values;

static const char *value_of(const raw_values *rv, const char *name)
{
  for (int i = 0; i < NOPT; i++)
    if (strcmp(table[i].name, name) == 0) return rv->v[i];
  nn_fail(__FILE__, __LINE__, "internal: no option %s", name);
}

/* Notes about ignored options, printed once by rank 0 after a successful parse. */
static char notes[1024];

__attribute__((format(printf, 1, 2))) static void note(const char *fmt, ...)
{
  size_t len = strlen(notes);
  va_list ap;
  va_start(ap, fmt);
  len += (size_t)snprintf(notes + len, sizeof notes - len, "admm-train: note: ");
  if (len < sizeof notes) len += (size_t)vsnprintf(notes + len, sizeof notes - len, fmt, ap);
  va_end(ap);
  if (len + 1 < sizeof notes) strcat(notes, "\n");
}

static int given(const raw_values *rv, const char *name)
{
  for (int i = 0; i < NOPT; i++)
    if (strcmp(table[i].name, name) == 0) return rv->given[i];
  return 0;
}

void nn_options_print_help(void)
{
  printf("usage: mpiexec.mpich -n RANKS admm-train [options]\n\n"
         "Trains a fully connected ReLU network by ADMM (Taylor et al. 2016) or by gradient methods\n"
         "on MPI ranks and writes every measurement to one HDF5 file (schema: io/SCHEMA.md).\n\n"
         "options (default in brackets):\n");
  for (int i = 0; i < NOPT; i++) {
    char left[96];
    snprintf(left, sizeof left, "--%s %s", table[i].name,
             table[i].type == T_CHOICE ? table[i].choices : table[i].type == T_INT ? "N"
                                                            : table[i].type == T_REAL ? "X" : "S");
    printf("  %-44s %s [%s]\n", left, table[i].help, table[i].def[0] ? table[i].def : "none");
  }
  printf("  %-44s %s\n", "--help", "this text");
  printf("\nPer-epoch lines on rank 0: epoch= loss= objective= train_acc= val_acc= test_acc= t_epoch= (seconds,\n"
         "training step only) t_eval= eta=. Environment: OPENBLAS_NUM_THREADS should be cores per rank.\n");
}

static int parse_long(const char *s, long *out)
{
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end) return 0;
  *out = v;
  return 1;
}

static int parse_real(const char *s, double *out)
{
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !isfinite(v)) return 0;
  *out = v;
  return 1;
}

static int in_choices(const char *v, const char *choices)
{
  size_t n = strlen(v);
  for (const char *p = choices; p && *p;) {
    const char *bar = strchr(p, '|');
    size_t len = bar ? (size_t)(bar - p) : strlen(p);
    if (len == n && strncmp(p, v, n) == 0) return 1;
    p = bar ? bar + 1 : NULL;
  }
  return 0;
}

/* Reads argv into rv; on error writes a one-line message into err and returns 0. */
static int read_argv(raw_values *rv, int argc, char **argv, int *help, char *err, size_t errlen)
{
  for (int i = 0; i < NOPT; i++) {
    snprintf(rv->v[i], sizeof rv->v[i], "%s", table[i].def);
    rv->given[i] = 0;
  }
  *help = 0;
  for (int a = 1; a < argc; a++) {
    const char *arg = argv[a];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) { *help = 1; return 1; }
    if (strncmp(arg, "--", 2) != 0) { snprintf(err, errlen, "unexpected argument '%s' (options start with --; see --help)", arg); return 0; }
    const char *name = arg + 2, *eq = strchr(name, '=');
    size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
    int k = -1;
    for (int i = 0; i < NOPT; i++)
      if (strlen(table[i].name) == nlen && strncmp(table[i].name, name, nlen) == 0) k = i;
    if (k < 0) { snprintf(err, errlen, "unknown option '--%.*s' (see --help)", (int)nlen, name); return 0; }
    /* "--epochs --beta 2" is a missing value, not the value "--beta" */
    const char *val = eq ? eq + 1 : (a + 1 < argc && strncmp(argv[a + 1], "--", 2) != 0 ? argv[++a] : NULL);
    if (!val) { snprintf(err, errlen, "option --%s needs a value", table[k].name); return 0; }
    if (strlen(val) >= sizeof rv->v[k]) { snprintf(err, errlen, "option --%s: value too long", table[k].name); return 0; }
    long lv;
    double dv;
    if (table[k].type == T_INT && !parse_long(val, &lv)) { snprintf(err, errlen, "option --%s: '%s' is not an integer", table[k].name, val); return 0; }
    if (table[k].type == T_REAL && !parse_real(val, &dv)) { snprintf(err, errlen, "option --%s: '%s' is not a finite number", table[k].name, val); return 0; }
    if (table[k].type == T_CHOICE && !in_choices(val, table[k].choices)) { snprintf(err, errlen, "option --%s: '%s' is not one of %s", table[k].name, val, table[k].choices); return 0; }
    snprintf(rv->v[k], sizeof rv->v[k], "%s", val);
    rv->given[k] = 1;
  }
  return 1;
}

static int parse_layers(nn_config *cfg, char *err, size_t errlen)
{
  int L = -1;
  const char *p = cfg->layers;
  while (*p) {
    char *end;
    long w = strtol(p, &end, 10);
    if (end == p || w < 1 || w > 1000000 || (*end && *end != ',')) {
      snprintf(err, errlen, "option --layers: '%s' is not a comma-separated list of positive widths", cfg->layers);
      return 0;
    }
    if (++L > NN_MAX_LAYERS) { snprintf(err, errlen, "option --layers: more than %d layers", NN_MAX_LAYERS); return 0; }
    cfg->n[L] = (int)w;
    p = *end ? end + 1 : end;
  }
  if (L < 1) { snprintf(err, errlen, "option --layers: need at least an input and an output width, got '%s'", cfg->layers); return 0; }
  if (cfg->n[L] < 2) { snprintf(err, errlen, "option --layers: the last width is the number of classes, at least 2"); return 0; }
  cfg->L = L;
  return 1;
}

static int fill_config(nn_config *cfg, const raw_values *rv, char *err, size_t errlen)
{
#define S(field, name) snprintf(cfg->field, sizeof cfg->field, "%.*s", (int)sizeof cfg->field - 1, value_of(rv, name))
#define I(name) strtol(value_of(rv, name), NULL, 10)
#define D(name) strtod(value_of(rv, name), NULL)
  S(method, "method"); S(data, "data"); S(data_dir, "data-dir"); S(layers, "layers");
  S(train_images, "train-images"); S(train_labels, "train-labels");
  S(test_images, "test-images"); S(test_labels, "test-labels");
  S(normalize, "normalize"); S(output, "output");
  cfg->n_train = I("n-train"); cfg->n_test = I("n-test"); cfg->validation = I("validation");
  cfg->beta = D("beta"); cfg->gamma = D("gamma"); cfg->ridge = D("ridge");
  cfg->warmup = (int)I("warmup"); cfg->epochs = (int)I("epochs"); cfg->patience = (int)I("patience");
  cfg->seed = I("seed"); cfg->lr = D("lr"); cfg->batch = I("batch"); cfg->momentum = D("momentum");
  cfg->reduce_group = (int)I("reduce-group");
  cfg->weight_solve = strcmp(value_of(rv, "weight-solve"), "pinv") == 0 ? NN_WEIGHT_SOLVE_PINV : NN_WEIGHT_SOLVE_RIDGE;
  cfg->pinv_rcond = D("pinv-rcond"); cfg->force = (int)I("force");
  cfg->eval_train = (int)I("eval-train"); cfg->block = (int)I("block"); cfg->quiet = (int)I("quiet");
  const char *init = value_of(rv, "init"), *loss = value_of(rv, "loss");
  cfg->init = !strcmp(init, "he") ? NN_INIT_HE : !strcmp(init, "xavier") ? NN_INIT_XAVIER
            : !strcmp(init, "normalized") ? NN_INIT_NORMALIZED : !strcmp(init, "pytorch") ? NN_INIT_PYTORCH
            : NN_INIT_ZERO;
  cfg->loss = !strcmp(loss, "hinge") ? NN_LOSS_HINGE : !strcmp(loss, "cross-entropy") ? NN_LOSS_CROSS_ENTROPY
            : !strcmp(loss, "squared-hinge") ? NN_LOSS_SQUARED_HINGE : NN_LOSS_LEAST_SQUARES;
  cfg->float32 = !strcmp(value_of(rv, "precision"), "float32");
  cfg->aux_random = !strcmp(value_of(rv, "aux-init"), "random");
  cfg->bcd_init = !strcmp(value_of(rv, "bcd-init"), "pairs") ? NN_BCD_INIT_PAIRS : NN_BCD_INIT_RANDOM;
  cfg->bcd_prox = D("bcd-prox"); cfg->bcd_decay = D("bcd-decay"); cfg->bcd_reanchor = (int)I("bcd-reanchor"); cfg->bcd_growth = D("bcd-growth");
#undef S
#undef I
#undef D
  if (!parse_layers(cfg, err, errlen)) return 0;
  const char *grid = value_of(rv, "grid");
  if (strcmp(grid, "auto") == 0) cfg->nprow = cfg->npcol = 0;
  else if (sscanf(grid, "%dx%d", &cfg->nprow, &cfg->npcol) != 2 || cfg->nprow < 1 || cfg->npcol < 1) {
    snprintf(err, errlen, "option --grid: '%s' is not PxQ or auto", grid);
    return 0;
  } else if (cfg->nprow * cfg->npcol != nn_nranks()) {
    snprintf(err, errlen, "option --grid: %dx%d needs %d ranks, running on %d", cfg->nprow, cfg->npcol,
             cfg->nprow * cfg->npcol, nn_nranks());
    return 0;
  }
#define REQUIRE(cond, ...) do { if (!(cond)) { snprintf(err, errlen, __VA_ARGS__); return 0; } } while (0)
  REQUIRE(cfg->beta > 0, "option --beta: must be positive, got %g", cfg->beta);
  REQUIRE(cfg->gamma > 0, "option --gamma: must be positive, got %g", cfg->gamma);
  REQUIRE(cfg->warmup >= 0, "option --warmup: must be >= 0, got %d", cfg->warmup);
  REQUIRE(cfg->epochs >= 0, "option --epochs: must be >= 0, got %d", cfg->epochs);
  REQUIRE(cfg->warmup + cfg->epochs >= 1, "options --warmup + --epochs: at least one epoch must run");
  REQUIRE(cfg->patience >= 0, "option --patience: must be >= 0, got %d", cfg->patience);
  REQUIRE(cfg->n_train >= 0 && cfg->n_test >= 0 && cfg->validation >= 0, "options --n-train/--n-test/--validation must be >= 0");
  REQUIRE(cfg->block >= 1, "option --block: must be >= 1, got %d", cfg->block);
  REQUIRE(cfg->ridge >= 0 && cfg->ridge < 1, "option --ridge: %g is not in [0, 1) (relative to trace/n)", cfg->ridge);
  REQUIRE(cfg->eval_train == 0 || cfg->eval_train == 1, "option --eval-train: 0 or 1");
  if (strcmp(cfg->normalize, "dataset") && strcmp(cfg->normalize, "none")) {
    double m, s;
    char tail;
    REQUIRE(sscanf(cfg->normalize, "%lf,%lf%c", &m, &s, &tail) == 2 && s > 0,
            "option --normalize: '%s' is not dataset, none or MEAN,STD with STD > 0", cfg->normalize);
  }
  int paths_given = given(rv, "train-images") || given(rv, "train-labels") || given(rv, "test-images") ||
                    given(rv, "test-labels");
  if (paths_given && !given(rv, "data")) snprintf(cfg->data, sizeof cfg->data, "idx"); /* paths imply idx */
  REQUIRE(!paths_given || strcmp(cfg->data, "idx") == 0,
          "options --train-images/--train-labels/--test-images/--test-labels go with --data idx, not --data %s", cfg->data);
  if (strcmp(cfg->data, "idx") == 0)
    REQUIRE(cfg->train_images[0] && cfg->train_labels[0] && cfg->test_images[0] && cfg->test_labels[0],
            "option --data idx needs --train-images, --train-labels, --test-images and --test-labels");
  REQUIRE(cfg->bcd_prox > 0 && cfg->bcd_prox < 1e6, "option --bcd-prox: must be in (0, 1e6), got %g", cfg->bcd_prox);
  /* Measured: Fashion-MNIST 784-256-256-10 in float32 without decay peaks at sweep 8 and falls
   * to 10% by sweep 25; 1e-3 keeps it rising (83.4% at 20), but costs float64 0.3-1.3 points. */
  if (cfg->bcd_decay == -1) cfg->bcd_decay = cfg->float32 ? 1e-3 : 0;
  REQUIRE(cfg->bcd_decay >= 0 && cfg->bcd_decay < 1e6, "option --bcd-decay: must be in [0, 1e6), got %g", cfg->bcd_decay);
  REQUIRE(cfg->bcd_reanchor >= 0, "option --bcd-reanchor: must be >= 0, got %d", cfg->bcd_reanchor);
  REQUIRE(cfg->bcd_growth >= 1 && cfg->bcd_growth <= 10, "option --bcd-growth: must be in [1, 10], got %g", cfg->bcd_growth);
  int admm = strcmp(cfg->method, "admm") == 0, floor = strcmp(cfg->method, "random-features") == 0;
  cfg->preset_thesis = !strcmp(value_of(rv, "preset"), "thesis");
  int thesis = admm && cfg->preset_thesis, bcd = admm && !cfg->preset_thesis;
  REQUIRE(admm || !given(rv, "preset"), "option --preset: goes with --method admm, not --method %s", cfg->method);
  if (admm) {
    /* The gradient-free presets take no gradient method's option: nothing here steps along a gradient. */
    static const char *const gradient_only[][2] = {
      { "lr", "learning rate" }, { "batch", "mini-batch" }, { "momentum", "momentum" }, { "reduce-group", "gradient sum" }
    };
    for (int i = 0; i < 4; i++)
      REQUIRE(!given(rv, gradient_only[i][0]), "option --%s: --method admm is gradient-free and has no %s",
              gradient_only[i][0], gradient_only[i][1]);
  }
  if (!thesis) {
    /* Common arguments of a sweep reach every method: say so rather than fail. */
    static const char *const thesis_only[] = { "warmup", "aux-init" };
    for (int i = 0; i < 2; i++)
      if (given(rv, thesis_only[i]))
        note("--%s applies to --method admm --preset thesis only; ignored", thesis_only[i]);
  }
  int loss_auto = !strcmp(value_of(rv, "loss"), "auto");
  if (bcd && loss_auto) cfg->loss = NN_LOSS_SQUARED_HINGE; /* measured best: see README, Methods */
  if (bcd)
    REQUIRE(cfg->loss == NN_LOSS_LEAST_SQUARES || cfg->loss == NN_LOSS_SQUARED_HINGE,
            "option --loss %s: --preset best fits the output by least-squares or squared-hinge", value_of(rv, "loss"));
  else
    REQUIRE(cfg->loss != NN_LOSS_SQUARED_HINGE, "option --loss squared-hinge: goes with --method admm --preset best only");
  if (thesis) {
    static const char *const best_only[] = { "bcd-init", "bcd-prox", "bcd-decay", "bcd-reanchor", "bcd-growth" };
    for (int i = 0; i < 5; i++)
      REQUIRE(!given(rv, best_only[i]), "option --%s: applies to --preset best only", best_only[i]);
  }
  if (floor) {
    /* a closed-form solve: one epoch is the whole method */
    cfg->warmup = 0;
    cfg->epochs = 1;
  }
  if (!thesis) cfg->warmup = 0; /* warm-up is the thesis ADMM's: epochs without multiplier updates */
  if (admm || floor)
    REQUIRE(cfg->loss != NN_LOSS_CROSS_ENTROPY, "option --loss cross-entropy: ADMM's output step has closed forms for least-squares and hinge only");
  else {
    REQUIRE(loss_auto || cfg->loss == NN_LOSS_CROSS_ENTROPY,
            "option --loss %s: --method %s trains with softmax cross-entropy", value_of(rv, "loss"), cfg->method);
    cfg->loss = NN_LOSS_CROSS_ENTROPY;
  }
  if (cfg->lr < 0) cfg->lr = strcmp(cfg->method, "adam") == 0 ? 1e-3 : 1e-2;
  REQUIRE(cfg->lr > 0, "option --lr: must be positive, got %g", cfg->lr);
  if (cfg->batch < 0) cfg->batch = strcmp(cfg->method, "sgd") == 0 ? 1 : 128;
  REQUIRE(cfg->batch >= 1, "option --batch: must be >= 1, got %ld", cfg->batch);
  REQUIRE(cfg->reduce_group >= 0, "option --reduce-group: must be >= 0, got %d", cfg->reduce_group);
  REQUIRE(cfg->momentum >= 0 && cfg->momentum < 1, "option --momentum: must be in [0, 1), got %g", cfg->momentum);
  if (strcmp(cfg->data, "mnist") == 0 || strcmp(cfg->data, "fashion-mnist") == 0)
    REQUIRE(cfg->n[0] == 784, "option --layers: %s images have 784 pixels, the first width is %d", cfg->data, cfg->n[0]);
  if (strcmp(cfg->data, "mnist") == 0 || strcmp(cfg->data, "fashion-mnist") == 0)
    REQUIRE(cfg->n[cfg->L] == 10, "option --layers: %s has 10 classes, the last width is %d", cfg->data, cfg->n[cfg->L]);
  if (!cfg->data_dir[0]) {
    const char *env = getenv("ADMM_DATA_DIR");
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "%s",
             env && env[0] ? env : strcmp(cfg->data, "fashion-mnist") == 0 ? "/usr/share/datasets/fashion-mnist" : "data/mnist");
  }
#undef REQUIRE
  return 1;
}

int nn_options_parse(nn_config *cfg, int argc, char **argv)
{
  static raw_values rv;
  char err[1400] = "";
  int help = 0;
  memset(cfg, 0, sizeof *cfg);
  int ok = read_argv(&rv, argc, argv, &help, err, sizeof err);
  if (ok && help) {
    if (nn_rank() == 0) nn_options_print_help();
    return 1;
  }
  if (ok) ok = fill_config(cfg, &rv, err, sizeof err);
  nn_check_all(ok, err);
  if (nn_rank() == 0 && notes[0]) {
    fputs(notes, stderr);
    fflush(stderr);
  }
  size_t len = 0;
  for (int a = 0; a < argc && len + 2 < sizeof cfg->command_line; a++)
    len += (size_t)snprintf(cfg->command_line + len, sizeof cfg->command_line - len, "%s%s", a ? " " : "", argv[a]);
  return 0;
}

/* The effective value of option i as text (defaults resolved where the config holds them). */
static void effective_text(const nn_config *cfg, int i, char *out, size_t len)
{
  const char *n = table[i].name;
  static const char *inits[] = { "he", "xavier", "normalized", "zero", "pytorch" };
  static const char *losses[] = { "least-squares", "hinge", "cross-entropy", "squared-hinge" };
#define IS(x) (strcmp(n, x) == 0)
  if (IS("method")) snprintf(out, len, "%s", cfg->method);
  else if (IS("preset")) snprintf(out, len, "%s", cfg->preset_thesis ? "thesis" : "best");
  else if (IS("data")) snprintf(out, len, "%s", cfg->data);
  else if (IS("data-dir")) snprintf(out, len, "%s", cfg->data_dir);
  else if (IS("train-images")) snprintf(out, len, "%s", cfg->train_images);
  else if (IS("train-labels")) snprintf(out, len, "%s", cfg->train_labels);
  else if (IS("test-images")) snprintf(out, len, "%s", cfg->test_images);
  else if (IS("test-labels")) snprintf(out, len, "%s", cfg->test_labels);
  else if (IS("n-train")) snprintf(out, len, "%ld", cfg->n_train);
  else if (IS("n-test")) snprintf(out, len, "%ld", cfg->n_test);
  else if (IS("validation")) snprintf(out, len, "%ld", cfg->validation);
  else if (IS("normalize")) snprintf(out, len, "%s", cfg->normalize);
  else if (IS("layers")) snprintf(out, len, "%s", cfg->layers);
  else if (IS("beta")) snprintf(out, len, "%.15g", cfg->beta);
  else if (IS("gamma")) snprintf(out, len, "%.15g", cfg->gamma);
  else if (IS("warmup")) snprintf(out, len, "%d", cfg->warmup);
  else if (IS("epochs")) snprintf(out, len, "%d", cfg->epochs);
  else if (IS("patience")) snprintf(out, len, "%d", cfg->patience);
  else if (IS("init")) snprintf(out, len, "%s", inits[cfg->init]);
  else if (IS("aux-init")) snprintf(out, len, "%s", cfg->aux_random ? "random" : "forward");
  else if (IS("loss")) snprintf(out, len, "%s", losses[cfg->loss]);
  else if (IS("precision")) snprintf(out, len, "%s", cfg->float32 ? "float32" : "float64");
  else if (IS("ridge")) snprintf(out, len, "%.15g", cfg->ridge);
  else if (IS("seed")) snprintf(out, len, "%ld", cfg->seed);
  else if (IS("lr")) snprintf(out, len, "%.15g", cfg->lr);
  else if (IS("batch")) snprintf(out, len, "%ld", cfg->batch);
  else if (IS("momentum")) snprintf(out, len, "%.15g", cfg->momentum);
  else if (IS("reduce-group")) snprintf(out, len, "%d", cfg->reduce_group);
  else if (IS("eval-train")) snprintf(out, len, "%d", cfg->eval_train);
  else if (IS("grid")) {
    if (cfg->nprow) snprintf(out, len, "%dx%d", cfg->nprow, cfg->npcol);
    else snprintf(out, len, "auto");
  }
  else if (IS("block")) snprintf(out, len, "%d", cfg->block);
  else if (IS("bcd-init")) snprintf(out, len, "%s", cfg->bcd_init == NN_BCD_INIT_PAIRS ? "pairs" : "random");
  else if (IS("bcd-prox")) snprintf(out, len, "%.15g", cfg->bcd_prox);
  else if (IS("bcd-reanchor")) snprintf(out, len, "%d", cfg->bcd_reanchor);
  else if (IS("bcd-decay")) snprintf(out, len, "%.15g", cfg->bcd_decay);
  else if (IS("bcd-growth")) snprintf(out, len, "%.15g", cfg->bcd_growth);
  else if (IS("output")) snprintf(out, len, "%s", cfg->output);
  else if (IS("weight-solve")) snprintf(out, len, "%s", cfg->weight_solve == NN_WEIGHT_SOLVE_PINV ? "pinv" : "ridge");
  else if (IS("pinv-rcond")) snprintf(out, len, "%.15g", cfg->pinv_rcond);
  else if (IS("force")) snprintf(out, len, "%d", cfg->force);
  else if (IS("quiet")) snprintf(out, len, "%d", cfg->quiet);
  else nn_fail(__FILE__, __LINE__, "internal: option --%s has no effective value", n);
#undef IS
}

int nn_options_attrs(const nn_config *cfg, nn_attr *out, int max)
{
  int k = 0;
  for (int i = 0; i < NOPT && k < max; i++, k++) {
    nn_attr *a = &out[k];
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "%s", table[i].name);
    for (char *c = a->name; *c; c++)
      if (*c == '-') *c = '_';
    effective_text(cfg, i, a->s, sizeof a->s);
    if (table[i].type == T_INT) { a->type = NN_ATTR_INT; a->i = strtol(a->s, NULL, 10); }
    else if (table[i].type == T_REAL) { a->type = NN_ATTR_REAL; a->d = strtod(a->s, NULL); }
    else a->type = NN_ATTR_STRING;
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
    char v[1024];
    effective_text(cfg, i, v, sizeof v);
    printf(" %s=%s", table[i].name, v[0] ? v : "-");
  }
  printf("\n");
  fflush(stdout);
}
