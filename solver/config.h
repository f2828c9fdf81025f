/* The settings of one run, as parsed from the command line by jobs/options.c. Plain data,
 * identical on every rank; the solver reads it, never writes it. */
#ifndef NN_CONFIG_H
#define NN_CONFIG_H

#define NN_MAX_LAYERS 16

enum nn_loss { NN_LOSS_LEAST_SQUARES, NN_LOSS_HINGE, NN_LOSS_CROSS_ENTROPY, NN_LOSS_SQUARED_HINGE };
enum nn_init { NN_INIT_HE, NN_INIT_XAVIER, NN_INIT_NORMALIZED, NN_INIT_ZERO, NN_INIT_PYTORCH, NN_INIT_PAIRS };
/* --method admm's weight step: ridge-regularised normal equations, or the thesis's pseudo-inverse */
enum nn_weight_solve { NN_WEIGHT_SOLVE_RIDGE, NN_WEIGHT_SOLVE_PINV };
enum nn_bcd_init { NN_BCD_INIT_RANDOM, NN_BCD_INIT_PAIRS };

typedef struct {
  char method[32];          /* admm, gd, sgd, momentum, adam, random-features */
  int preset_thesis;        /* admm: 1 = the thesis's ADMM (admm.c), 0 = the best formulation (bcd.c) */
  char data[32];            /* mnist, fashion-mnist, synthetic, idx */
  char data_dir[1024];
  char train_images[1024], train_labels[1024], test_images[1024], test_labels[1024];
  long n_train, n_test;     /* 0 = everything the files hold */
  long validation;          /* samples carved from the end of the training range */
  char normalize[64];       /* dataset, none, or MEAN,STD */
  int L;                    /* layers with weights */
  int n[NN_MAX_LAYERS + 1]; /* widths: n[0] inputs ... n[L] classes */
  char layers[256];         /* as given */
  double beta, gamma;
  int warmup, epochs, patience;
  enum nn_init init;
  int aux_random;           /* ADMM: 1 draws z_l ~ N(0,1), a_l = relu(z_l); 0 = forward pass */
  enum nn_loss loss;
  int float32;
  double ridge;             /* relative ridge of the least-squares weight steps (times trace/n) */
  enum nn_weight_solve weight_solve; /* admm: ridge (default) or pinv */
  double pinv_rcond;        /* pinv: eigenvalues of the Gram matrix below rcond * largest are dropped (0: auto) */
  long seed;
  double lr, momentum;
  long batch;
  int reduce_group;         /* gradient methods: ranks per shared-memory gradient sum (0: a node; see node_sum.h) */
  int eval_train;
  int nprow, npcol, block;  /* BLACS grid (0,0: automatic) and block size */
  int bcd_init;             /* bcd: hidden units from --init, or from data pairs */
  double bcd_decay;         /* bcd: ridge on |Wbar|^2 in the hidden weight steps, relative to trace/n */
  double bcd_prox;          /* bcd: proximal weight on |Wbar - Wbar_old|^2, relative to trace/n */
  int bcd_reanchor;         /* bcd: reset z, a to the forward pass every this many sweeps (0: never) */
  double bcd_growth;        /* bcd: beta and gamma multiply by this after every sweep */
  char output[1024];
  int force;                /* 1: an existing complete results file may be replaced */
  int quiet;
  char command_line[4096];
} nn_config;

#endif
