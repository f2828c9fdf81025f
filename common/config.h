/* The settings of one run, as parsed from the command line by jobs/options.c. Plain data,
 * identical on every rank; the solver reads it, never writes it. */
#ifndef NN_CONFIG_H
#define NN_CONFIG_H

#define NN_MAX_LAYERS 16

/* Enum orders match the '|' lists of their options in jobs/options.c; AUTO is resolved there. */
enum nn_loss { NN_LOSS_LEAST_SQUARES, NN_LOSS_HINGE, NN_LOSS_CROSS_ENTROPY, NN_LOSS_SQUARED_HINGE, NN_LOSS_AUTO };
enum nn_init { NN_INIT_HE, NN_INIT_XAVIER, NN_INIT_NORMALIZED, NN_INIT_ZERO, NN_INIT_PYTORCH, NN_INIT_PAIRS, NN_INIT_AUTO };
/* --method admm's weight step: ridge-regularised normal equations, or the thesis's pseudo-inverse */
enum nn_weight_solve { NN_WEIGHT_SOLVE_RIDGE, NN_WEIGHT_SOLVE_PINV };
/* --method dladmm's step length in its W and a steps: the paper's doubling backtracking, or the
 * smallest length its condition admits (the exact line search along the gradient) */
enum nn_dladmm_step { NN_DLADMM_STEP_EXACT, NN_DLADMM_STEP_BACKTRACK };
/* --normalize: the data set's own statistics, none (mean 0, std 1), or the given MEAN,STD */
enum nn_normalize { NN_NORMALIZE_DATASET, NN_NORMALIZE_NONE, NN_NORMALIZE_GIVEN };
/* --arch: the MLP of --layers, or the fully connected residual network of --blocks and --width */
enum nn_arch { NN_ARCH_MLP, NN_ARCH_RESNET };
/* --activation of the residual blocks (the MLP is ReLU throughout) */
enum nn_activation { NN_ACT_RELU, NN_ACT_SIGMOID };

typedef struct {
  char method[32];          /* bcd, admm, random-features, gd, sgd, momentum, adam */
  char data[32];            /* mnist, fashion-mnist, synthetic, idx, regression, csv */
  char data_dir[1024];
  char train_images[1024], train_labels[1024], test_images[1024], test_labels[1024];
  char csv[1024];            /* --data csv: the table's path */
  char target[64];          /* --data csv: the target column (a header name, a 0-based number, or last) */
  int csv_skip;             /* --data csv: lines skipped before the header or the first row */
  long n_train, n_test;     /* 0 = everything the files hold */
  long validation;          /* samples carved from the end of the training range (-1: auto, resolved by io/dataset.c) */
  enum nn_normalize normalize;
  double norm_mean, norm_std; /* NN_NORMALIZE_GIVEN: x = (pixel/255 - norm_mean) / norm_std */
  int L;                    /* layers with weights (--layers; resnet: blocks + 2) */
  enum nn_arch arch;        /* resnet: input layer, --blocks residual blocks of --width, output layer */
  int blocks, width;        /* resnet: K blocks x_{k+1} = x_k + act(W x_k + b) of width n */
  enum nn_activation activation; /* resnet: the blocks' activation */
  int n[NN_MAX_LAYERS + 1]; /* widths: n[0] inputs ... n[L] classes */
  double beta, gamma;
  int warmup, epochs, patience;
  enum nn_init init;
  int aux_random;           /* admm: 1 draws z_l ~ N(0,1), a_l = relu(z_l); 0 = forward pass (--aux-init) */
  enum nn_loss loss;
  int float32;              /* --precision: 0 float64, 1 float32 */
  int biases;               /* random-features: 1 = biases as --init sets them (every method but admm), 0 = none (admm) */
  double ridge;             /* relative ridge of the least-squares weight steps (times trace/n) */
  enum nn_weight_solve weight_solve; /* admm: ridge (default) or pinv */
  double pinv_rcond;        /* pinv: eigenvalues of the Gram matrix below rcond * largest are dropped (NaN: auto) */
  long seed;
  double lr, momentum;
  long batch;
  int reduce_group;         /* gradient methods: ranks per shared-memory gradient sum (0: a node; see node_sum.h) */
  int eval_train;
  int nprow, npcol, block;  /* BLACS grid (--grid; 0,0: automatic) and block size */
  double bcd_decay;         /* bcd: ridge on |Wbar|^2 in the hidden weight steps, relative to trace/n */
  double bcd_prox;          /* bcd: proximal weight on |Wbar - Wbar_old|^2, relative to trace/n */
  int bcd_reanchor;         /* bcd: reset z, a to the forward pass every this many sweeps (0: never) */
  double bcd_growth;        /* bcd: beta and gamma multiply by this after every sweep */
  int bcd_batches;          /* bcd: sweeps per epoch, sweep b over the samples with global index j = b (mod B) */
  int augment;              /* training images translated by up to this many pixels, redrawn every epoch (0: off) */
  double dladmm_rho;        /* dladmm: the output constraint's penalty rho at the first iteration */
  double dladmm_nu;         /* dladmm: the hidden constraints' penalty nu (NaN: auto, nu = rho throughout) */
  double dladmm_rho_growth; /* dladmm: rho multiplies by this after every iteration ... */
  double dladmm_rho_max;    /* ... up to this */
  enum nn_dladmm_step dladmm_step; /* dladmm: how the W and a steps choose their length */
  int anderson;             /* --anderson: memory of Anderson acceleration (0: off; -1: auto, resolved by the method) */
  int splitting;            /* resnet-admm: 2 (block outputs V) or 3 (also pre-activations U) */
  double resnet_beta;       /* resnet-admm: penalty of every constraint and the multipliers' step */
  double resnet_tau;        /* resnet-admm: 2-splitting weight steps' proximal weight, x their Lipschitz bound */
  double resnet_rho;        /* resnet-admm: linearised V and U steps' proximal weight, x their Lipschitz bound */
  int layer_groups;         /* resnet-admm: G contiguous groups of layers, each on its own ranks (1: none) */
  int group_schedule;       /* resnet-admm, G > 1: 0 jacobi, 1 odd-even, 2 serial (odd-even's serial order, every layer on every rank) */
  char output[1024];
  int force;                /* 1: an existing complete results file may be replaced */
  int quiet;
  char checkpoint[1024];       /* --checkpoint: "" beside the results file, "none": no checkpoints */
  int checkpoint_every;        /* epochs between checkpoints (0: by time only) */
  double checkpoint_interval;  /* seconds between checkpoints (0: not by time) */
  char resume[1024];           /* --resume: the checkpoint this run continues, or "" */
  char command_line[4096];
} nn_config;

#endif
