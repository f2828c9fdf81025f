/* Option table and parser; see options.h. Every option is one row of `table`: its name, type,
 * default, accepted range or choices, the methods it applies to, where its value lands in
 * nn_config and its help. Parsing, range checks, --help, the start-up echo and /config all
 * read that row; the few checks that involve several options are in check_combinations. */
#include "options.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../io/inputs.h"
#include "../solver/check.h"
#include "run_info.h"

/* ------------------------------------------------------------------ the methods */

enum {
  M_BCD = 1 << 0, M_ADMM = 1 << 1, M_RF = 1 << 2,
  M_GD = 1 << 3, M_SGD = 1 << 4, M_MOMENTUM = 1 << 5, M_ADAM = 1 << 6,
  M_GRADIENT = M_GD | M_SGD | M_MOMENTUM | M_ADAM,
  M_LS = M_BCD | M_ADMM | M_RF, /* methods with least-squares steps on the BLACS grid */
  M_ALL = (1 << 7) - 1
};
/* In the order of --method's choices. */
static const char *const method_names[] = { "bcd", "admm", "random-features", "gd", "sgd", "momentum", "adam" };
enum { NMETHOD = sizeof method_names / sizeof method_names[0] };

/* ------------------------------------------------------------------ the table */

enum opt_type {
  OPT_INT,    /* int or long field (by its size), decimal, range-checked */
  OPT_REAL,   /* double field, finite, range-checked */
  OPT_CHOICE, /* int or enum field: the index of the value in `choices`; char array: the value */
  OPT_STRING, /* char array field; checked in check_combinations where it has a syntax */
  OPT_FLAG    /* int field: 1 when the option is given (no value) */
};
enum {
  F_AUTO = 1,    /* the word auto is accepted: INT stores -1, REAL stores NaN, resolved later */
  F_LO_OPEN = 2, /* the range excludes its lower end */
  F_HI_OPEN = 4  /* ... or its upper end */
};

typedef struct {
  const char *name;    /* without the leading -- */
  enum opt_type type;
  const char *def;     /* default, as text */
  const char *choices; /* OPT_CHOICE: '|'-separated, in the order of the field's enum */
  double lo, hi;       /* OPT_INT, OPT_REAL: accepted range */
  int flags;
  unsigned methods;    /* the methods it applies to; given to another, it is refused */
  size_t offset, size; /* where the value lands in nn_config */
  const char *help;
} opt_spec;

#define AT(field) offsetof(nn_config, field), sizeof(((nn_config *)0)->field)
#define BIG 1e6
#define COUNT (double)INT_MAX

static const opt_spec table[] = {
  { "method", OPT_CHOICE, "bcd", "bcd|admm|random-features|gd|sgd|momentum|adam", 0, 0, 0, M_ALL, AT(method),
    "bcd: block coordinate descent on a quadratic-penalty merit, every block step an exact minimiser; not ADMM "
    "(no multipliers); it never forms the loss gradient, but its top a-step carries the output error T - f(x) back "
    "through W_L^T, damped and preconditioned (solver/bcd.c); "
    "admm: Taylor et al.'s ADMM as the thesis runs it (solver/admm.c); random-features: the floor, hidden "
    "layers frozen at --init and the output layer solved exactly for --loss; gd, sgd, momentum, adam: "
    "backpropagation (see README, Methods)" },
  { "data", OPT_CHOICE, "mnist", "mnist|fashion-mnist|synthetic|idx", 0, 0, 0, M_ALL, AT(data),
    "data set; idx reads the four --train-*/--test-* files" },
  { "data-dir", OPT_STRING, "", NULL, 0, 0, 0, M_ALL, AT(data_dir),
    "directory of the data set's IDX files (default $ADMM_DATA_DIR, else data/mnist or "
    "/usr/share/datasets/fashion-mnist)" },
  { "train-images", OPT_STRING, "", NULL, 0, 0, 0, M_ALL, AT(train_images), "IDX training images (implies --data idx)" },
  { "train-labels", OPT_STRING, "", NULL, 0, 0, 0, M_ALL, AT(train_labels), "IDX training labels (implies --data idx)" },
  { "test-images", OPT_STRING, "", NULL, 0, 0, 0, M_ALL, AT(test_images), "IDX test images (implies --data idx)" },
  { "test-labels", OPT_STRING, "", NULL, 0, 0, 0, M_ALL, AT(test_labels), "IDX test labels (implies --data idx)" },
  { "n-train", OPT_INT, "0", NULL, 0, COUNT, 0, M_ALL, AT(n_train),
    "use the first N training samples (0: all; synthetic: 2048)" },
  { "n-test", OPT_INT, "0", NULL, 0, COUNT, 0, M_ALL, AT(n_test), "use the first N test samples (0: all; synthetic: 512)" },
  { "validation", OPT_INT, "auto", NULL, 0, COUNT, F_AUTO, M_ALL, AT(validation),
    "samples carved from the end of the training range for early stopping and the kept model (0: none; "
    "auto: 5000 for MNIST and Fashion-MNIST, 1/8 of --n-train for synthetic, 1/12 of the file for idx)" },
  { "normalize", OPT_STRING, "dataset", NULL, 0, 0, 0, M_ALL, AT(normalize),
    "input scaling of pixel/255: dataset (MNIST 0.1307,0.3081; Fashion 0.2860,0.3530), none, or MEAN,STD" },
  { "layers", OPT_STRING, "784,256,256,10", NULL, 0, 0, 0, M_ALL, AT(layers), "layer widths, input first, classes last" },
  { "beta", OPT_REAL, "1", NULL, 0, 1e12, F_LO_OPEN, M_BCD | M_ADMM, AT(beta), "penalty on z_l = W_l a_{l-1}" },
  { "gamma", OPT_REAL, "1", NULL, 0, 1e12, F_LO_OPEN, M_BCD | M_ADMM, AT(gamma), "penalty on a_l = relu(z_l)" },
  { "warmup", OPT_INT, "2", NULL, 0, BIG, 0, M_ADMM, AT(warmup),
    "epochs without multiplier updates, run before --epochs" },
  { "epochs", OPT_INT, "50", NULL, 1, BIG, 0, M_ALL, AT(epochs),
    "maximum training epochs (after warm-up); random-features: iterations of the squared-hinge readout" },
  { "patience", OPT_INT, "5", NULL, 0, BIG, 0, M_ALL, AT(patience),
    "grace patience: stop after this many epochs without a better validation accuracy (0: never)" },
  { "init", OPT_CHOICE, "auto", "he|xavier|normalized|zero|pytorch|pairs|auto", 0, 0, 0, M_ALL, AT(init),
    "weight initialisation. pytorch: torch.nn.Linear's default, W and b ~ U(+-1/sqrt(fan_in)); pairs: He, then "
    "every hidden unit from two training samples of different classes (w.u + b = -1, w.v + b = +1); "
    "auto: pairs for bcd and random-features, he for the others" },
  { "aux-init", OPT_CHOICE, "forward", "forward|random", 0, 0, 0, M_ADMM, AT(aux_random),
    "auxiliary variables: forward pass of the initial weights, or z ~ N(0,1), a = relu(z)" },
  { "loss", OPT_CHOICE, "auto", "least-squares|hinge|cross-entropy|squared-hinge|auto", 0, 0, 0, M_ALL, AT(loss),
    "output loss. bcd, random-features: squared-hinge (auto: the squared distance of the outputs to >= 1 for "
    "the class, <= 0 for the others) or least-squares; admm: least-squares (auto, thesis eq. 3.12) or Taylor's "
    "hinge; gradient methods: cross-entropy" },
  { "biases", OPT_CHOICE, "yes", "no|yes", 0, 0, 0, M_RF, AT(biases),
    "biases of the frozen network: yes as --init sets them (the floor of every method but admm), no (admm's floor)" },
  { "precision", OPT_CHOICE, "float64", "float64|float32", 0, 0, 0, M_ALL, AT(float32),
    "floating-point precision of all numerics" },
  { "ridge", OPT_REAL, "0.001", NULL, 0, 1, F_HI_OPEN, M_LS, AT(ridge),
    "relative ridge of the least-squares solves (admm: weight steps; bcd, random-features: the output solve), "
    "times trace/n of the Gram matrix (MNIST's constant pixels make a_0 a_0^T singular)" },
  { "weight-solve", OPT_CHOICE, "ridge", "ridge|pinv", 0, 0, 0, M_ADMM, AT(weight_solve),
    "weight step by ridge normal equations, or by the thesis's pseudo-inverse (eigendecomposition of the "
    "summed Gram matrix, p?syevd, eigenvalues below --pinv-rcond x largest dropped)" },
  { "pinv-rcond", OPT_REAL, "auto", NULL, 0, 1, F_AUTO | F_HI_OPEN, M_ADMM, AT(pinv_rcond),
    "--weight-solve pinv: relative eigenvalue cutoff (auto: order x machine epsilon)" },
  { "seed", OPT_INT, "1", NULL, 0, 9007199254740992.0, 0, M_ALL, AT(seed),
    "random seed (initialisation, synthetic data, shuffling)" },
  { "lr", OPT_REAL, "auto", NULL, 0, 100, F_AUTO | F_LO_OPEN, M_GRADIENT, AT(lr), "learning rate (auto: 0.01, adam 0.001)" },
  { "batch", OPT_INT, "auto", NULL, 1, COUNT, F_AUTO, M_GRADIENT, AT(batch), "global mini-batch (auto: 128, sgd 1)" },
  { "momentum", OPT_REAL, "0.9", NULL, 0, 1, F_HI_OPEN, M_MOMENTUM, AT(momentum), "momentum coefficient" },
  { "reduce-group", OPT_INT, "0", NULL, 0, BIG, 0, M_GRADIENT, AT(reduce_group),
    "ranks that sum gradients through one node-shared window, each updating a slice (0: every rank of a node; "
    "1: none, one MPI_Allreduce of all gradients and the update on every rank; K: groups of K ranks, as if each "
    "were a node); solver/node_sum.h" },
  { "eval-train", OPT_INT, "1", NULL, 0, 1, 0, M_ALL, AT(eval_train),
    "1: measure training accuracy and loss every epoch (forward pass)" },
  { "grid", OPT_STRING, "auto", NULL, 0, 0, 0, M_LS, AT(grid), "BLACS process grid PxQ, or auto (squarest)" },
  { "block", OPT_INT, "64", NULL, 1, 4096, 0, M_LS, AT(block), "ScaLAPACK block size" },
  { "bcd-prox", OPT_REAL, "0.001", NULL, 0, BIG, F_LO_OPEN | F_HI_OPEN, M_BCD, AT(bcd_prox),
    "proximal weight on |W - W_old|^2 in the hidden weight steps, relative to trace/n of the Gram matrix" },
  { "bcd-decay", OPT_REAL, "auto", NULL, 0, BIG, F_AUTO | F_HI_OPEN, M_BCD, AT(bcd_decay),
    "ridge on |W|^2 in the hidden weight steps (pulls directions the data leave undetermined back to zero), "
    "relative like --bcd-prox; auto: 0 in float64, 1e-3 in float32, whose rounding noise in those directions "
    "otherwise accumulates over sweeps" },
  { "bcd-reanchor", OPT_INT, "1", NULL, 0, BIG, 0, M_BCD, AT(bcd_reanchor),
    "reset z_l, a_l to the true forward pass every N sweeps (0: never, the auxiliaries drift)" },
  { "bcd-growth", OPT_REAL, "1", NULL, 1, 10, 0, M_BCD, AT(bcd_growth), "--beta and --gamma multiply by this after every sweep" },
  { "output", OPT_STRING, "", NULL, 0, 0, 0, M_ALL, AT(output),
    "results file (default results/<method>-<data>-<UTC time>-p<ranks>.h5)" },
  { "force", OPT_FLAG, "0", NULL, 0, 0, 0, M_ALL, AT(force), "replace an existing complete results file" },
  { "quiet", OPT_INT, "0", NULL, 0, 1, 0, M_ALL, AT(quiet), "1: no per-epoch lines" },
};
enum { NOPT = sizeof table / sizeof table[0] };

static unsigned method_bit(const nn_config *cfg)
{
  for (int m = 0; m < NMETHOD; m++)
    if (strcmp(cfg->method, method_names[m]) == 0) return 1u << m;
  return 0;
}

static int applies(const opt_spec *o, const nn_config *cfg) { return (o->methods & method_bit(cfg)) != 0; }

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
    else snprintf(out, len, "%.17g", v);
    break;
  }
  case OPT_CHOICE:
    if (o->size > sizeof(int)) snprintf(out, len, "%s", (const char *)cfield(cfg, o));
    else choice_at(o->choices, *(const int *)cfield(cfg, o), out, len);
    break;
  case OPT_STRING: snprintf(out, len, "%s", (const char *)cfield(cfg, o)); break;
  case OPT_FLAG: snprintf(out, len, "%d", *(const int *)cfield(cfg, o)); break;
  }
}

/* ------------------------------------------------------------------ help */

static void methods_text(unsigned mask, char *buf, size_t len)
{
  buf[0] = 0;
  if (mask == M_ALL) return;
  size_t k = 0;
  for (int m = 0; m < NMETHOD; m++)
    if (mask & (1u << m)) k += (size_t)snprintf(buf + k, k < len ? len - k : 0, "%s%s", k ? "," : "", method_names[m]);
}

void nn_options_print_help(void)
{
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
                                                : o->type == OPT_STRING ? "S" : "");
    methods_text(o->methods, who, sizeof who);
    printf("  %-44s %s%s%s%s [%s]\n", left, who[0] ? "{" : "", who, who[0] ? "} " : "", o->help,
           o->type == OPT_FLAG ? "no" : o->def[0] ? o->def : "none");
  }
  printf("  %-44s %s\n", "--help", "this text");
  printf("  %-44s %s\n", "--version", "the version and the git revision it was built from");
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

/* Defaults, then argv over them; given[i] marks options set on the command line. */
static int read_argv(nn_config *cfg, int *given, int argc, char **argv, int *help, char *err, size_t errlen)
{
  for (int i = 0; i < NOPT; i++) {
    given[i] = 0;
    if (!set_value(cfg, &table[i], table[i].def, err, errlen)) return 0;
  }
  *help = 0;
  for (int a = 1; a < argc; a++) {
    const char *arg = argv[a];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) { *help = 1; return 1; }
    if (strcmp(arg, "--version") == 0) { *help = 2; return 1; }
    if (strncmp(arg, "--", 2) != 0) FAIL("unexpected argument '%s' (options start with --; see --help)", arg);
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

static int parse_layers(nn_config *cfg, char *err, size_t errlen)
{
  int L = -1;
  const char *p = cfg->layers;
  while (*p) {
    char *end;
    errno = 0;
    long w = strtol(p, &end, 10);
    if (end == p || errno || w < 1 || w > 1000000 || (*end && *end != ','))
      FAIL("option --layers: '%s' is not a comma-separated list of widths in [1, 1000000]", cfg->layers);
    if (++L > NN_MAX_LAYERS) FAIL("option --layers: more than %d layers", NN_MAX_LAYERS);
    cfg->n[L] = (int)w;
    p = *end ? end + 1 : end;
  }
  if (L < 1) FAIL("option --layers: need at least an input and an output width, got '%s'", cfg->layers);
  if (cfg->n[L] < 2) FAIL("option --layers: the last width is the number of classes, at least 2");
  cfg->L = L;
  return 1;
}

static int parse_grid(nn_config *cfg, char *err, size_t errlen)
{
  cfg->nprow = cfg->npcol = 0;
  if (strcmp(cfg->grid, "auto") == 0) return 1;
  long p, q;
  char tail;
  if (sscanf(cfg->grid, "%ldx%ld%c", &p, &q, &tail) != 2 || p < 1 || q < 1 || p > 1000000 || q > 1000000)
    FAIL("option --grid: '%s' is not PxQ (each 1 to 1000000) or auto", cfg->grid);
  if (p * q != nn_nranks()) FAIL("option --grid: %ldx%ld needs %ld ranks, running on %d", p, q, p * q, nn_nranks());
  cfg->nprow = (int)p;
  cfg->npcol = (int)q;
  return 1;
}

/* --normalize: the inputs become (pixel/255 - MEAN) / STD for pixels in [0, 1]; both ends of
 * that range must stay finite and moderate, or the Gram matrices overflow (1e-200 as STD
 * trained to NaN weights) or every input vanishes. */
static int check_normalize(const nn_config *cfg, char *err, size_t errlen)
{
  if (strcmp(cfg->normalize, "dataset") == 0 || strcmp(cfg->normalize, "none") == 0) return 1;
  double m, s;
  char tail;
  if (sscanf(cfg->normalize, "%lf,%lf%c", &m, &s, &tail) != 2 || !isfinite(m) || !isfinite(s) || !(s > 0))
    FAIL("option --normalize: '%s' is not dataset, none or MEAN,STD with finite MEAN and STD > 0", cfg->normalize);
  double reach = fmax(fabs(m), fabs(1 - m)) / s;
  if (s < 1e-6 || s > 1e6 || reach > 1e6)
    FAIL("option --normalize: %s maps pixels to [%g, %g]; STD must be in [1e-6, 1e6] and the inputs within +-1e6",
         cfg->normalize, -m / s, (1 - m) / s);
  return 1;
}

static int given_name(const int *given, const char *name)
{
  const opt_spec *o = find(name, strlen(name));
  return o && given[o - table];
}

/* Resolves the auto values for the chosen method and checks what one row cannot. */
static int check_combinations(nn_config *cfg, const int *given, char *err, size_t errlen)
{
  unsigned m = method_bit(cfg);
  for (int i = 0; i < NOPT; i++)
    if (given[i] && !(table[i].methods & m)) {
      char who[96];
      methods_text(table[i].methods, who, sizeof who);
      FAIL("option --%s: does not apply to --method %s (it applies to %s)", table[i].name, cfg->method, who);
    }
  if (!parse_layers(cfg, err, errlen) || !parse_grid(cfg, err, errlen) || !check_normalize(cfg, err, errlen)) return 0;

  if (cfg->init == NN_INIT_AUTO) cfg->init = m & (M_BCD | M_RF) ? NN_INIT_PAIRS : NN_INIT_HE;
  int loss_auto = cfg->loss == NN_LOSS_AUTO;
  char given_loss[32];
  value_text(cfg, find("loss", 4), given_loss, sizeof given_loss);
  if (m & (M_BCD | M_RF)) {
    if (loss_auto) cfg->loss = NN_LOSS_SQUARED_HINGE; /* measured best readout: see README, Methods */
    if (cfg->loss != NN_LOSS_SQUARED_HINGE && cfg->loss != NN_LOSS_LEAST_SQUARES)
      FAIL("option --loss %s: --method %s fits the output by squared-hinge or least-squares", given_loss, cfg->method);
  } else if (m & M_ADMM) {
    if (loss_auto) cfg->loss = NN_LOSS_LEAST_SQUARES; /* the thesis's eq. 3.12 */
    if (cfg->loss != NN_LOSS_LEAST_SQUARES && cfg->loss != NN_LOSS_HINGE)
      FAIL("option --loss %s: --method admm has closed-form output steps for least-squares and hinge only", given_loss);
  } else {
    if (!loss_auto && cfg->loss != NN_LOSS_CROSS_ENTROPY)
      FAIL("option --loss %s: --method %s trains with softmax cross-entropy", given_loss, cfg->method);
    cfg->loss = NN_LOSS_CROSS_ENTROPY;
  }
  if (isnan(cfg->lr)) cfg->lr = m & M_ADAM ? 1e-3 : 1e-2;
  if (cfg->batch < 0) cfg->batch = m & M_SGD ? 1 : 128;
  /* Measured: Fashion-MNIST 784-256-256-10 in float32 without decay peaks at sweep 8 and falls
   * to 10% by sweep 25; 1e-3 keeps it rising (83.4% at 20), but costs float64 0.3-1.3 points. */
  if (isnan(cfg->bcd_decay)) cfg->bcd_decay = cfg->float32 ? 1e-3 : 0;
  if (!(m & M_ADMM)) cfg->warmup = 0; /* warm-up is ADMM's: epochs without multiplier updates */
  if (!(m & M_RF)) cfg->biases = !(m & M_ADMM); /* Taylor's ADMM has no biases; the rest do */
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
  if (cfg->validation < 0) {
    if (images) cfg->validation = 5000;
    else if (strcmp(cfg->data, "synthetic") == 0) {
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
    int plain = w[0] != 0 && strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.,/:=+@%") == strlen(w);
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
