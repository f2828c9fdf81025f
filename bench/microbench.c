/* admm-microbench: the machine constants of the performance model (analysis/scaling.c),
 * measured on every rank of the allocation at once, as the ranks of admm-train run:
 *
 *   gemm     the float64 GEMM rate of one rank at the shape of a data-parallel layer product,
 *            m x k times k x n with n = S / ranks columns for each S of --samples (the Gram,
 *            cross products and forward passes of bcd and admm all sweep the rank's samples);
 *   sweep    the rate of the products of one bcd or admm sweep over S / ranks columns, layer by
 *            layer: the Gram matrix of the layer's input, the cross product with its output,
 *            the forward product (their shapes, not one square GEMM, set the rate);
 *   narrow   the rate of the products with a dimension below 32 (admm-train counts their flops
 *            apart, /epochs/flops_narrow): the output layer's forward product, its cross
 *            product and the product of a k-wide factor, over S / ranks columns;
 *   step     the rate of one gradient step's products on --batch / ranks columns (the
 *            gradient methods split each global batch over the ranks), as solver/gradient.c
 *            calls them: forward, weight gradients, input gradients, each step followed by a
 *            barrier, as the steps of the gradient methods run in lockstep;
 *   solve    the rate of the ScaLAPACK Cholesky factorisation and solve (p?potrf + p?potrs) of
 *            one weight system of order n = n_{l-1} + 1 (a bias row) with n_l right-hand sides,
 *            per distinct order, on the BLACS grid and block size admm-train uses (grid auto,
 *            --block): the systems are too small to run at the GEMM rate, and their rate falls
 *            with the grid;
 *   local_solve  the rate of one rank's LAPACK Cholesky factor and solve (potrf + potrs) of an
 *            n x n system with S / ranks right-hand sides, every rank at once, for each hidden
 *            width n of --layers: resnet-admm's V steps (solver/resnet_admm.c), whose systems
 *            every rank factors for its own columns; potrs is two triangular solves, whose rate
 *            neither the sweep nor the ScaLAPACK figures measure (admm-train counts these flops
 *            apart, /epochs/flops_local_solve);
 *   solve_sweep  the rate of every ScaLAPACK call of one bcd sweep, in its order and sizes
 *            (solver/bcd.c): the first layer's solve with its factor kept from before the
 *            epochs, each other layer's factor and solve, and the activation steps' factor and
 *            inverse (p?potrf + p?potri) of order min(n_l, n_{l+1}); the rate the model applies
 *            to the flops of the solve phase (/epochs/phase_flops, column solve);
 *   node_sum  the seconds of one step of the gradient methods' node-shared gradient sum, per
 *            update rule (plain, momentum, adam), as solver/gradient.c makes it with
 *            solver/node_sum.c on all ranks of the node: the reduce (a window barrier, the sum of
 *            the rank's slice over every rank's segment), the update of the rank's slice of the
 *            node-shared parameters, the publish (a window barrier), for the network's parameter
 *            count. Untimed around each step, as in the training, every rank writes its own
 *            segment (the backward pass's products) and reads all the parameters (the next
 *            forward pass's): the timed lines are then where the training finds them, the
 *            segments modified in the other cores' caches, the parameters shared by all. Neither
 *            the bandwidth of private arrays (stream_at) nor MPI's own collectives measure that;
 *   step_cycle  the rate of `step`'s products where the training runs them, per update rule
 *            (plain, momentum, adam) and per S of --samples: untimed around each step, as in an
 *            epoch of solver/gradient.c, the batch's columns are copied from random columns of
 *            the rank's S / ranks samples, and after the products come the node-shared sum and
 *            the update of the rank's slice; the products read the weights from the node-shared
 *            window. `step` repeats one step on one batch, whose operands stay in cache; the
 *            training's do not (at 1 rank on this 2-core machine the training's products ran
 *            about 25% below `step`, and within 12% of this figure);
 *   syevd    the rate of the eigensolver of admm's --weight-solve pinv (p?syevd, with vectors),
 *            at the orders n_{l-1} up to 300 (at 784 the figure alone would take seconds);
 *   stream   the memory bandwidth of one rank, a triad over arrays far larger than cache:
 *            the cost of the elementwise loops of a bcd or admm sweep (whole layers);
 *   stream_cache  the same over 3 x 1 MiB per rank, which stays in cache: the elementwise work
 *            of a gradient step (a batch, a slice of the parameters) and node-shared sums;
 *   stream_at  the same over 3 arrays of 16 KiB to 64 MiB per rank: the bandwidth at the data
 *            one elementwise call touches, from L1 to memory;
 *   allreduce, reduce_scatter, bcast, allgather, reduce, p2p, barrier
 *            the time of one call on MPI_COMM_WORLD for message sizes 8 B to 8 MiB
 *            (p2p: every rank exchanges with a partner at once, one way; barrier: size 0).
 *
 * Each figure is the best of 5 rounds, each round timed between barriers, max over ranks (the
 * slowest rank sets the pace of a bulk-synchronous step), with the median of the 5 beside it
 * (KEY_median): the model takes the median, as each run's epoch time is the median of its
 * epochs; the best round alone was biased fast on a shared machine. The solves are timed
 * without the copies that restore their inputs between calls, and their flops are counted as
 * admm-train counts them (solver/real.h: this rank's share, total / grid size), so that the
 * rates are GFLOP/s per rank in the units of /epochs/phase_flops.
 *
 *   mpiexec -n P admm-microbench [--layers 784,256,256,10] [--samples 50000[,S2...]] [--batch 128]
 *                                [--seconds 0.2] [--block 64]
 * Output on rank 0, one line per figure, key=value:
 *   microbench ranks=P threads=T what=gemm m= k= n= gflops=
 *   microbench ranks=P threads=T what=sweep layers= n= gflops=
 *   microbench ranks=P threads=T what=narrow layers= n= gflops=
 *   microbench ranks=P threads=T what=step layers= columns= gflops= gflops_median=
 *   microbench ranks=P threads=T what=step_cycle rule=R layers= n= columns= gflops= gflops_median=
 *   (on every line, gflops=, gbytes_per_s= or seconds= has its KEY_median= beside it)
 *   microbench ranks=P threads=T what=solve n= nrhs= grid=RxC nb= gflops=
 *   microbench ranks=P threads=T what=local_solve n= nrhs= gflops=
 *   microbench ranks=P threads=T what=solve_sweep layers= grid=RxC nb= gflops=
 *   microbench ranks=P threads=T what=syevd n= grid=RxC nb= gflops=
 *   microbench ranks=P threads=T what=node_sum rule=R params=N seconds=S seconds_median=M
 *            (S the best round, M the median of the rounds: how much the rounds differ)
 *   microbench ranks=P threads=T what=stream gbytes_per_s=
 *   microbench ranks=P threads=T what=stream_cache gbytes_per_s=
 *   microbench ranks=P threads=T what=stream_at bytes=B gbytes_per_s=   (B: all 3 arrays)
 *   microbench ranks=P threads=T what=KIND bytes=N seconds=S
 * Exit 2 on bad usage. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/check.h"
#include "../solver/blockcyclic.h"
#include "../solver/node_sum.h"
#include "../solver/pinv.h" /* float64 (real.h without NN_FLOAT32): nn_pinv, nn_spd */
#include "../solver/gradient.h"
#include "../solver/spd.h"

#define MAXL 16

static int me, np;

static void usage_error(const char *what, const char *value)
{
  if (me == 0)
    fprintf(stderr, "admm-microbench: error: %s %s (see the comment at the top of bench/microbench.c)\n", what,
            value);
  MPI_Finalize();
  exit(2);
}

static double max_over_ranks(double v)
{
  MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return v;
}

/* Repetitions per timed round: 5 rounds fill about `seconds`, given one run of `once` s (1 to
 * 100000; rank 0's count, so every rank runs the same). */
static long repetitions(double once, double seconds)
{
  long reps = once > 0 ? (long)(seconds / 5 / once) : 1000;
  if (reps < 1) reps = 1;
  if (reps > 100000) reps = 100000;
  MPI_Bcast(&reps, 1, MPI_LONG, 0, MPI_COMM_WORLD);
  return reps;
}

/* The median of the last figure's rounds (time_call, step_cycle_figures). */
static double last_median;

/* The best of 5 rounds' seconds; *median gets their median. Sorts t. */
static double best_and_median(double t[5], double *median)
{
  for (int i = 1; i < 5; i++)
    for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
      double x = t[j];
      t[j] = t[j - 1];
      t[j - 1] = x;
    }
  *median = t[2];
  return t[0];
}

/* Seconds per call of fn(arg), best over rounds of about `seconds` / 5, max over ranks. Every
 * rank runs the same number of calls per round (rank 0 decides it), so collectives match. */
static double time_call(void (*fn)(void *), void *arg, double seconds)
{
  fn(arg); /* warm up: first-touch pages, library set-up */
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = MPI_Wtime();
  fn(arg);
  double once = max_over_ranks(MPI_Wtime() - t0);
  long reps = repetitions(once, seconds);
  double t[5];
  for (int round = 0; round < 5; round++) {
    MPI_Barrier(MPI_COMM_WORLD);
    t0 = MPI_Wtime();
    for (long r = 0; r < reps; r++) fn(arg);
    t[round] = max_over_ranks((MPI_Wtime() - t0) / reps);
  }
  return best_and_median(t, &last_median);
}

static double *filled(size_t count)
{
  double *p = malloc(sizeof(double) * (count ? count : 1));
  if (!p) {
    fprintf(stderr, "admm-microbench: error: [rank %d] out of memory (%zu doubles)\n", me, count);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  for (size_t i = 0; i < count; i++) p[i] = 1e-3 * (double)(i % 97);
  return p;
}

/* ---- compute ---------------------------------------------------------------------------- */

typedef struct { int m, k, n; double *A, *B, *C; } gemm_arg;

static void run_gemm(void *p)
{
  gemm_arg *g = p;
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, g->m, g->n, g->k, 1, g->A, g->m, g->B, g->k, 0, g->C,
              g->m);
}

typedef struct { int L; const int *n; int B; double *W[MAXL + 1], *A[MAXL + 1], *D[MAXL + 1], *G[MAXL + 1]; } step_arg;

/* The products of one step on B columns (B >= 2), as solver/gradient.c makes them. */
static void run_step(void *p)
{
  step_arg *s = p;
  const int *n = s->n;
  for (int l = 1; l <= s->L; l++)
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n[l], s->B, n[l - 1], 1, s->W[l], n[l], s->A[l - 1],
                n[l - 1], 0, s->A[l], n[l]);
  for (int l = s->L; l >= 1; l--) {
    if (l > 1)
      cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, n[l - 1], s->B, n[l], 1, s->W[l], n[l], s->D[l], n[l], 0,
                  s->D[l - 1], n[l - 1]);
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, n[l], n[l - 1], s->B, 1, s->D[l], n[l], s->A[l - 1],
                n[l - 1], 0, s->G[l], n[l]);
  }
  PMPI_Barrier(MPI_COMM_WORLD);
}

typedef struct { int L; const int *n; int cols; double *A[MAXL + 1], *G, *X; } sweep_arg;

/* The output layer's narrow products over `cols` columns (k = n[L] outputs, h = n[L-1]): the
 * forward product k x cols (inner h), the cross product k x h (inner cols), and an h x cols
 * product of inner dimension k (bcd's K r, admm's a-step). */
static void run_narrow(void *p)
{
  sweep_arg *s = p;
  int k = s->n[s->L], h = s->n[s->L - 1];
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, k, s->cols, h, 1, s->X, k, s->A[s->L - 1], h, 0, s->A[s->L], k);
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, k, h, s->cols, 1, s->A[s->L], k, s->A[s->L - 1], h, 0, s->X, k);
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, h, s->cols, k, 1, s->G, h, s->A[s->L], k, 0, s->A[s->L - 1], h);
}

/* The products of one sweep over `cols` columns: per layer the Gram of its input (as
 * solver/layer_fit.c forms it, one GEMM), the cross product with its output, the forward
 * product. */
static void run_sweep(void *p)
{
  sweep_arg *s = p;
  const int *n = s->n;
  for (int l = 1; l <= s->L; l++) {
    int in = n[l - 1], out = n[l];
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, in, in, s->cols, 1, s->A[l - 1], in, s->A[l - 1], in, 0,
                s->G, in);
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, out, in, s->cols, 1, s->A[l], out, s->A[l - 1], in, 0,
                s->X, out);
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, out, s->cols, in, 1, s->X, out, s->A[l - 1], in, 0,
                s->A[l], out);
  }
}

typedef struct { int n, nrhs; double *S, *S0, *R; } local_arg;

/* One rank's potrf + potrs of an n x n system with nrhs right-hand sides (ld n), the LAPACKE
 * calls of resnet-admm's spd_solve. The system is the identity, restored from S0 before each
 * factor (n^2 values copied, against 2 n^2 nrhs flops of the solve): dense kernels take the same
 * time whatever the values, and the identity leaves R as it was call after call, so no value
 * drifts towards underflow however many calls a round makes. */
static void run_local_solve(void *p)
{
  local_arg *a = p;
  memcpy(a->S, a->S0, sizeof(double) * (size_t)a->n * (size_t)a->n);
  int info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', a->n, a->S, a->n);
  if (info == 0) info = LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', a->n, a->nrhs, a->S, a->n, a->R, a->n);
  if (info != 0) {
    fprintf(stderr, "admm-microbench: error: [rank %d] LAPACKE potrf/potrs info %d (local_solve)\n", me, info);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
}

typedef struct { size_t n; double *a, *b, *c; } stream_arg;

static void run_stream(void *p)
{
  stream_arg *s = p;
  double *restrict a = s->a;
  const double *restrict b = s->b, *restrict c = s->c;
  for (size_t i = 0; i < s->n; i++) a[i] = b[i] + 0.5 * c[i];
}

/* ---- ScaLAPACK solves ---------------------------------------------------------------------- */

/* One distributed system as the training holds it (spd.c, pinv.c: their layout, descriptors and
 * workspace), with pristine copies of its local blocks: each timed call starts from the same
 * input, restored untimed (a factorisation overwrites its matrix, a solve its right-hand side). */
enum solve_op {
  OP_FACTOR_SOLVE,  /* p?potrf + p?potrs: a weight step (bcd's layers 2..L) */
  OP_SOLVE,         /* p?potrs with the factor kept: bcd's first layer (a_0 never changes) */
  OP_FACTOR_INVERT, /* p?potrf + p?potri: an activation step (nn_spd_inverse) */
  OP_EIGEN          /* p?syevd with vectors: admm's --weight-solve pinv */
};

typedef struct {
  enum solve_op op;
  int n, nrhs;
  nn_spd s;     /* the systems of p?potr*: s.a (n x n), s.bloc (n x nrhs) */
  nn_pinv e;    /* p?syevd's: e.a, e.z, e.w and its workspace */
  double *a0, *b0;  /* pristine local blocks of the matrix (or its factor, OP_SOLVE) and of B */
  size_t asize, bsize;
} solve_sys;

/* An SPD matrix with no special structure a solver could exploit: a diagonal of n over
 * off-diagonal entries summing to under n/10 a row (diagonally dominant). */
static void solve_sys_init(solve_sys *y, const nn_grid *g, enum solve_op op, int n, int nrhs)
{
  memset(y, 0, sizeof *y);
  y->op = op;
  y->n = n;
  y->nrhs = op == OP_FACTOR_INVERT || op == OP_EIGEN ? 0 : nrhs;
  nn_bcmat A, B;
  nn_bc_describe(&A, g, n, n);
  y->asize = nn_bc_local_size(&A);
  y->a0 = filled(y->asize);
  for (int jl = 0; jl < A.nloc; jl++)
    for (int il = 0; il < A.mloc; il++) {
      int i = nn_bc_row(g, il), j = nn_bc_col(g, jl);
      y->a0[il + (size_t)jl * A.lld] = (i == j ? n : 0) + 1e-4 * ((i + j) % 97);
    }
  if (op == OP_EIGEN) {
    nn_pinv_init(&y->e, g, n, 1);
    return;
  }
  nn_spd_init(&y->s, g, n, nrhs > 0 ? nrhs : 1);
  if (y->nrhs) {
    nn_bc_describe(&B, g, n, y->nrhs);
    y->bsize = nn_bc_local_size(&B);
    y->b0 = filled(y->bsize);
  }
  if (op == OP_SOLVE) { /* the factor, made once, as before bcd's epochs */
    int one = 1, info = 0;
    pdpotrf_("L", &n, y->a0, &one, &one, y->s.A.desc, &info, 1);
    CHECK_INFO("ScaLAPACK p?potrf (microbench)", info);
    memcpy(y->s.a, y->a0, sizeof(double) * y->asize);
  }
}

static void solve_sys_free(solve_sys *y)
{
  if (y->op == OP_EIGEN) nn_pinv_free(&y->e);
  else nn_spd_free(&y->s);
  free(y->a0);
  free(y->b0);
}

static void solve_sys_reset(solve_sys *y)
{
  if (y->op == OP_EIGEN) memcpy(y->e.a, y->a0, sizeof(double) * y->asize);
  else if (y->op != OP_SOLVE) memcpy(y->s.a, y->a0, sizeof(double) * y->asize); /* p?potrs keeps the factor */
  if (y->nrhs) memcpy(y->s.bloc, y->b0, sizeof(double) * y->bsize);
}

/* The calls through solver/real.h's names, which add this rank's share of their flops to
 * nn_count.flops exactly as admm-train counts them. */
static void solve_sys_run(solve_sys *y)
{
  int one = 1, info = 0, n = y->n;
  if (y->op == OP_EIGEN) {
    pXsyevd_("V", "L", &n, y->e.a, &one, &one, y->e.A.desc, y->e.w, y->e.z, &one, &one, y->e.A.desc, y->e.work,
             &y->e.lwork, y->e.iwork, &y->e.liwork, &info, 1, 1);
    CHECK_INFO("ScaLAPACK p?syevd (microbench)", info);
    return;
  }
  if (y->op != OP_SOLVE) {
    pXpotrf_("L", &n, y->s.a, &one, &one, y->s.A.desc, &info, 1);
    CHECK_INFO("ScaLAPACK p?potrf (microbench)", info);
  }
  if (y->op == OP_FACTOR_INVERT) {
    pXpotri_("L", &n, y->s.a, &one, &one, y->s.A.desc, &info, 1);
    CHECK_INFO("ScaLAPACK p?potri (microbench)", info);
  } else {
    nn_bcmat B;
    nn_bc_describe(&B, y->s.g, n, y->nrhs);
    pXpotrs_("L", &n, &y->nrhs, y->s.a, &one, &one, y->s.A.desc, y->s.bloc, &one, &one, B.desc, &info, 1);
    CHECK_INFO("ScaLAPACK p?potrs (microbench)", info);
  }
}

/* Flop/s per rank of the calls of sys[0..count) made back to back (this rank's share of their
 * flops over the time of the slowest rank), best of 5 rounds of about `seconds` / 5 each.
 * Each sequence starts from restored inputs after a barrier; only the calls are timed. */
static double solve_rate(solve_sys **sys, int count, double seconds)
{
  double flops = 0, t0;
  for (int pass = 0; pass < 2; pass++) { /* warm up: library set-up, first touch */
    for (int i = 0; i < count; i++) solve_sys_reset(sys[i]);
    double f0 = nn_count.flops;
    MPI_Barrier(MPI_COMM_WORLD);
    t0 = MPI_Wtime();
    for (int i = 0; i < count; i++) solve_sys_run(sys[i]);
    flops = nn_count.flops - f0;
  }
  double once = max_over_ranks(MPI_Wtime() - t0);
  long reps = repetitions(once, seconds);
  double t[5];
  for (int round = 0; round < 5; round++) {
    double spent = 0;
    for (long r = 0; r < reps; r++) {
      for (int i = 0; i < count; i++) solve_sys_reset(sys[i]);
      MPI_Barrier(MPI_COMM_WORLD);
      t0 = MPI_Wtime();
      for (int i = 0; i < count; i++) solve_sys_run(sys[i]);
      spent += MPI_Wtime() - t0;
    }
    t[round] = max_over_ranks(spent / reps);
  }
  double best = best_and_median(t, &last_median);
  last_median = flops / last_median; /* as a rate, like the value returned */
  return flops / best;
}

/* The solve, solve_sweep and syevd figures for the network n[0..L] on the grid g. */
static void solve_figures(const char *head, const char *layers, const int *n, int L, const nn_grid *g,
                          double seconds)
{
  char where[64];
  snprintf(where, sizeof where, "grid=%dx%d nb=%d", g->nprow, g->npcol, g->nb);
  /* one weight system of each order, with the right-hand sides of its first layer */
  for (int l = 1; l <= L; l++) {
    int seen = 0;
    for (int k = 1; k < l; k++) seen |= n[k - 1] == n[l - 1];
    if (seen) continue;
    solve_sys y, *one = &y;
    solve_sys_init(&y, g, OP_FACTOR_SOLVE, n[l - 1] + 1, n[l]);
    double rate = solve_rate(&one, 1, seconds);
    if (me == 0)
      printf("%s what=solve n=%d nrhs=%d %s gflops=%.4g gflops_median=%.4g\n", head, n[l - 1] + 1, n[l], where,
             rate * 1e-9, last_median * 1e-9);
    solve_sys_free(&y);
  }
  /* one bcd sweep's calls (bcd.c): weight steps layer by layer, activation steps between */
  solve_sys sweep[2 * MAXL], *seq[2 * MAXL];
  int count = 0;
  for (int l = 1; l <= L; l++) {
    solve_sys_init(&sweep[count], g, l == 1 ? OP_SOLVE : OP_FACTOR_SOLVE, n[l - 1] + 1, n[l]);
    seq[count] = &sweep[count];
    count++;
    if (l < L) {
      solve_sys_init(&sweep[count], g, OP_FACTOR_INVERT, n[l] < n[l + 1] ? n[l] : n[l + 1], 0);
      seq[count] = &sweep[count];
      count++;
    }
  }
  double rate = solve_rate(seq, count, 2 * seconds);
  if (me == 0) printf("%s what=solve_sweep layers=%s %s gflops=%.4g gflops_median=%.4g\n", head, layers, where, rate * 1e-9,
                      last_median * 1e-9);
  for (int i = 0; i < count; i++) solve_sys_free(&sweep[i]);
  /* admm's pinv eigensolves, at its weight orders n_{l-1} (no bias), where one call is cheap */
  for (int l = 1; l <= L; l++) {
    int seen = 0;
    for (int k = 1; k < l; k++) seen |= n[k - 1] == n[l - 1];
    if (seen || n[l - 1] > 300) continue;
    solve_sys y, *one = &y;
    solve_sys_init(&y, g, OP_EIGEN, n[l - 1], 0);
    rate = solve_rate(&one, 1, seconds);
    if (me == 0) printf("%s what=syevd n=%d %s gflops=%.4g gflops_median=%.4g\n", head, n[l - 1], where, rate * 1e-9,
                      last_median * 1e-9);
    solve_sys_free(&y);
  }
}

/* ---- the node-shared gradient sum ------------------------------------------------------- */

/* The update of the rank's slice p[0..cnt) from the summed gradient g, by rule (0 plain,
 * 1 momentum, 2 adam): solver/gradient.c's own loops, at its default constants (a batch of
 * 128, lr 1e-3, momentum 0.9; Adam's bias corrections at their limit 1). */
static void update_slice(int rule, double *restrict p, double *restrict m, double *restrict v,
                         const double *restrict g, size_t cnt)
{
  const double lr = 1e-3, inv_b = 1.0 / 128;
  if (rule == 0) nn_gradient_update_plain(p, g, cnt, lr, inv_b);
  else if (rule == 1) nn_gradient_update_momentum(p, m, g, cnt, lr, 0.9, inv_b);
  else nn_gradient_update_adam(p, m, v, g, cnt, lr, 1, inv_b);
}

static const char *const rule_names[3] = { "plain", "momentum", "adam" };

/* Seconds per step of the timed part of steps: part(arg, reps) runs reps steps and returns the
 * seconds of their timed part on this rank. Best of 5 rounds of about `seconds` / 5, max over
 * ranks; *median gets the median round. Two steps warm up first. */
static double timed_part(double (*part)(void *, long), void *arg, double seconds, double *median)
{
  part(arg, 2);
  double once = max_over_ranks(part(arg, 1));
  long reps = repetitions(once, seconds);
  double t[5];
  for (int round = 0; round < 5; round++) {
    MPI_Barrier(MPI_COMM_WORLD);
    t[round] = max_over_ranks(part(arg, reps) / reps);
  }
  return best_and_median(t, median);
}

/* The network n[0..L]'s parameters in one node-shared window, as admm-train's default
 * --reduce-group 0 makes it, filled by the node's first rank and published. Returns the
 * parameter count, or 0 (said on stderr, on behalf of `figure`) when out of memory. */
static size_t shared_params(nn_node_sum *s, const int *n, int L, const char *figure)
{
  size_t P = 0;
  for (int l = 1; l <= L; l++) P += (size_t)n[l] * (size_t)(n[l - 1] + 1);
  char note[256];
  if (nn_node_sum_create(s, P, 0, note, sizeof note) != 0) {
    if (me == 0) fprintf(stderr, "admm-microbench: %s: out of memory (%zu values)\n", figure, P);
    return 0;
  }
  if (me == 0 && note[0]) fprintf(stderr, "admm-microbench: %s: %s\n", figure, note);
  if (s->local == 0)
    for (size_t i = 0; i < P; i++) s->param[i] = 1e-2 * (double)(i % 89);
  nn_node_sum_publish(s);
  return P;
}

/* One rank's state for node_sum: the window, the update rule, its moments, the reads' sum. */
typedef struct { nn_node_sum *s; int rule; double *m, *v, sink; } node_sum_arg;

/* The timed part of `reps` steps of the node-shared sum (see node_sum_figures), this rank. */
static double node_sum_steps(void *arg, long reps)
{
  node_sum_arg *a = arg;
  nn_node_sum *s = a->s;
  double spent = 0;
  for (long r = 0; r < reps; r++) {
    for (size_t i = 0; i < s->P; i++) s->mine[i] = 1e-3 * (double)((i + (size_t)r) % 97); /* the gradient */
    double t0 = MPI_Wtime();
    nn_node_sum_reduce(s);
    update_slice(a->rule, s->param + s->lo, a->m, a->v, s->sum, s->hi - s->lo);
    nn_node_sum_publish(s);
    spent += MPI_Wtime() - t0;
    double acc = 0;
    for (size_t i = 0; i < s->P; i++) acc += s->param[i]; /* the next forward pass's read */
    a->sink += acc;
  }
  return spent;
}

/* The node_sum figures for the network n[0..L]: all ranks of each node share one window, as
 * admm-train's default --reduce-group 0 makes them. Each figure is the timed part of a step,
 * per step, max over ranks, best (and median) of 5 rounds of about `seconds` / 5. */
static void node_sum_figures(const char *head, const int *n, int L, double seconds)
{
  nn_node_sum s;
  size_t P = shared_params(&s, n, L, "node_sum");
  if (P == 0) return;
  size_t cnt = s.hi - s.lo;
  node_sum_arg a = { .s = &s, .m = filled(cnt), .v = filled(cnt) };
  for (a.rule = 0; a.rule < 3; a.rule++) {
    double median, best = timed_part(node_sum_steps, &a, seconds, &median);
    if (me == 0)
      printf("%s what=node_sum rule=%s params=%zu seconds=%.9g seconds_median=%.9g\n", head, rule_names[a.rule], P,
             best, median);
  }
  if (a.sink == 42) printf(" "); /* keeps the reads */
  free(a.m);
  free(a.v);
  nn_node_sum_free(&s);
}

/* ---- the gradient step inside the training's cycle ------------------------------------- */

/* One rank's state for step_cycle: the node-shared sum (its window holds the parameters, each
 * layer's W then b, as solver/gradient.c packs them), the rank's samples, the batch's columns. */
typedef struct {
  int L; const int *n; int B;
  nn_node_sum *red;
  int rule; double *m, *v;   /* the update rule and its moments for the rank's slice */
  size_t off_W[MAXL + 1];
  const double *X; long nx; /* the rank's samples, n[0] x nx */
  double *A[MAXL + 1], *D[MAXL + 1];
  unsigned long draw;
} cycle_arg;

/* The timed part of `reps` steps (see step_cycle_figures), this rank. */
static double cycle_steps(void *arg, long reps)
{
  cycle_arg *c = arg;
  const int *n = c->n;
  nn_node_sum *red = c->red;
  double spent = 0;
  for (long r = 0; r < reps; r++) {
    for (int j = 0; j < c->B; j++) { /* the batch's columns, drawn from all the rank's samples */
      c->draw = c->draw * 6364136223846793005UL + 1442695040888963407UL;
      long col = (long)((c->draw >> 33) % (unsigned long)c->nx);
      memcpy(c->A[0] + (size_t)j * n[0], c->X + (size_t)col * n[0], sizeof(double) * n[0]);
    }
    double t0 = MPI_Wtime();
    for (int l = 1; l <= c->L; l++)
      cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n[l], c->B, n[l - 1], 1, red->param + c->off_W[l], n[l],
                  c->A[l - 1], n[l - 1], 0, c->A[l], n[l]);
    for (int l = c->L; l >= 1; l--) {
      if (l > 1)
        cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, n[l - 1], c->B, n[l], 1, red->param + c->off_W[l], n[l],
                    c->D[l], n[l], 0, c->D[l - 1], n[l - 1]);
      cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, n[l], n[l - 1], c->B, 1, c->D[l], n[l], c->A[l - 1],
                  n[l - 1], 0, red->mine + c->off_W[l], n[l]);
    }
    PMPI_Barrier(MPI_COMM_WORLD);
    spent += MPI_Wtime() - t0;
    nn_node_sum_reduce(red);
    update_slice(c->rule, red->param + red->lo, c->m, c->v, red->sum, red->hi - red->lo);
    nn_node_sum_publish(red);
  }
  return spent;
}

/* step_cycle: the rate of `step`'s products where the training runs them. Untimed around each
 * step, as in an epoch of solver/gradient.c: the batch's columns are copied from random columns
 * of an array of the rank's samples (S / ranks of them), and after the products the node-shared
 * sum and the update of the rank's slice (by rule) run; the products read the weights from the
 * node-shared window and write the gradient into the rank's segment. So the products find the
 * weights and the batch where the training finds them (just updated by every core, just
 * gathered), not in the cache that repeating one step leaves them in. Per update rule, per S. */
static void step_cycle_figures(const char *head, const char *layers, const int *n, int L, const long *samples,
                               int nsamples, long batch, double seconds)
{
  nn_node_sum red;
  if (shared_params(&red, n, L, "step_cycle") == 0) return;
  int cols = (int)((batch + np - 1) / np);
  if (cols < 2) cols = 2;
  double flops = 0;
  size_t cnt = red.hi - red.lo, off = 0;
  cycle_arg c = { .L = L, .n = n, .B = cols, .red = &red, .m = filled(cnt), .v = filled(cnt),
                  .draw = 12345u + (unsigned long)me };
  for (int l = 0; l <= L; l++) {
    c.A[l] = filled((size_t)n[l] * cols);
    c.D[l] = filled((size_t)n[l] * cols);
    if (l == 0) continue;
    c.off_W[l] = off; /* shared_params' packing: each layer's W, then its b */
    off += (size_t)n[l] * (size_t)(n[l - 1] + 1);
    flops += (l > 1 ? 6.0 : 4.0) * n[l] * n[l - 1] * cols;
  }
  for (int i = 0; i < nsamples; i++) {
    c.nx = samples[i] / np;
    double *X = filled((size_t)n[0] * (size_t)c.nx);
    c.X = X;
    for (c.rule = 0; c.rule < 3; c.rule++) {
      double median, best = timed_part(cycle_steps, &c, seconds, &median);
      if (me == 0)
        printf("%s what=step_cycle rule=%s layers=%s n=%ld columns=%d gflops=%.3f gflops_median=%.3f\n", head,
               rule_names[c.rule], layers, c.nx, cols, flops / best * 1e-9, flops / median * 1e-9);
    }
    free(X);
  }
  for (int l = 0; l <= L; l++) { free(c.A[l]); free(c.D[l]); }
  free(c.m); free(c.v);
  nn_node_sum_free(&red);
}

/* ---- communication ---------------------------------------------------------------------- */

typedef struct { int count; double *send, *recv; } comm_arg; /* count doubles */

static void run_allreduce(void *p)
{
  comm_arg *c = p;
  MPI_Allreduce(c->send, c->recv, c->count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

static void run_reduce_scatter(void *p)
{
  comm_arg *c = p;
  MPI_Reduce_scatter_block(c->send, c->recv, c->count / np, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

static void run_bcast(void *p)
{
  comm_arg *c = p;
  MPI_Bcast(c->send, c->count, MPI_DOUBLE, 0, MPI_COMM_WORLD);
}

static void run_allgather(void *p)
{
  comm_arg *c = p;
  MPI_Allgather(c->send, c->count / np, MPI_DOUBLE, c->recv, c->count / np, MPI_DOUBLE, MPI_COMM_WORLD);
}

static void run_reduce(void *p)
{
  comm_arg *c = p;
  MPI_Reduce(c->send, c->recv, c->count, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
}

/* Every rank exchanges with its partner (r xor 1) at once; half a round trip is one message. */
static void run_p2p(void *p)
{
  comm_arg *c = p;
  int partner = me ^ 1;
  if (partner >= np) return;
  if (me & 1) {
    MPI_Recv(c->recv, c->count, MPI_DOUBLE, partner, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    MPI_Send(c->recv, c->count, MPI_DOUBLE, partner, 7, MPI_COMM_WORLD);
  } else {
    MPI_Send(c->send, c->count, MPI_DOUBLE, partner, 7, MPI_COMM_WORLD);
    MPI_Recv(c->recv, c->count, MPI_DOUBLE, partner, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  }
}

static void run_barrier(void *p)
{
  (void)p;
  MPI_Barrier(MPI_COMM_WORLD);
}

int main(int argc, char **argv)
{
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &me);
  MPI_Comm_size(MPI_COMM_WORLD, &np);
  const char *layers = "784,256,256,10";
  long samples[4] = { 50000 }, batch = 128;
  int nsamples = 1;
  double seconds = 0.2;
  int block = 64; /* admm-train's --block */
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 >= argc) usage_error("option needs a value:", argv[i]);
    char *end;
    if (!strcmp(argv[i], "--layers")) layers = argv[i + 1];
    else if (!strcmp(argv[i], "--samples")) {
      nsamples = 0;
      for (const char *q = argv[i + 1]; nsamples < 4;) {
        samples[nsamples] = strtol(q, &end, 10);
        if (end == q || samples[nsamples] < np || (*end && *end != ',')) usage_error("--samples: not a list of integers >= ranks:", argv[i + 1]);
        nsamples++;
        if (!*end) break;
        q = end + 1;
      }
    }
    else if (!strcmp(argv[i], "--batch")) { batch = strtol(argv[i + 1], &end, 10); if (*end || batch < 1) usage_error("--batch: not a positive integer:", argv[i + 1]); }
    else if (!strcmp(argv[i], "--block")) { block = (int)strtol(argv[i + 1], &end, 10); if (*end || block < 1 || block > 4096) usage_error("--block: not an integer in 1..4096:", argv[i + 1]); }
    else if (!strcmp(argv[i], "--seconds")) { seconds = strtod(argv[i + 1], &end); if (*end || !(seconds > 0)) usage_error("--seconds: not a positive number:", argv[i + 1]); }
    else usage_error("unknown option", argv[i]);
  }
  int n[MAXL + 1], L = -1;
  for (const char *p = layers; *p && L < MAXL;) {
    char *end;
    n[++L] = (int)strtol(p, &end, 10);
    if (end == p || n[L] < 1) usage_error("--layers: not a list of widths:", layers);
    p = *end ? end + 1 : end;
  }
  if (L < 1) usage_error("--layers: needs at least two widths:", layers);
  int threads = openblas_get_num_threads();
  char head[64];
  snprintf(head, sizeof head, "microbench ranks=%d threads=%d", np, threads);

  /* gemm: the first layer's product over this rank's samples */
  double t;
  for (int i = 0; i < nsamples; i++) {
    gemm_arg g = { n[1], n[0], (int)(samples[i] / np), NULL, NULL, NULL };
    g.A = filled((size_t)g.m * g.k);
    g.B = filled((size_t)g.k * g.n);
    g.C = filled((size_t)g.m * g.n);
    t = time_call(run_gemm, &g, 5 * seconds);
    if (me == 0)
      printf("%s what=gemm m=%d k=%d n=%d gflops=%.3f gflops_median=%.3f\n", head, g.m, g.k, g.n,
             2.0 * g.m * g.k * g.n / t * 1e-9, 2.0 * g.m * g.k * g.n / last_median * 1e-9);
    free(g.A); free(g.B); free(g.C);
  }
  for (int i = 0; i < nsamples; i++) {
    sweep_arg w = { .L = L, .n = n, .cols = (int)(samples[i] / np) };
    int wide = 0;
    double flops = 0;
    for (int l = 0; l <= L; l++) {
      w.A[l] = filled((size_t)n[l] * w.cols);
      if (n[l] > wide) wide = n[l];
      if (l) flops += 2.0 * w.cols * ((double)n[l - 1] * n[l - 1] + 2.0 * n[l] * n[l - 1]);
    }
    w.G = filled((size_t)wide * wide);
    w.X = filled((size_t)wide * wide);
    t = time_call(run_sweep, &w, 5 * seconds);
    if (me == 0)
      printf("%s what=sweep layers=%s n=%d gflops=%.3f gflops_median=%.3f\n", head, layers, w.cols, flops / t * 1e-9,
             flops / last_median * 1e-9);
    t = time_call(run_narrow, &w, 5 * seconds);
    double nflops = 6.0 * w.cols * n[L] * n[L - 1];
    if (me == 0)
      printf("%s what=narrow layers=%s n=%d gflops=%.3f gflops_median=%.3f\n", head, layers, w.cols,
             nflops / t * 1e-9, nflops / last_median * 1e-9);
    for (int l = 0; l <= L; l++) free(w.A[l]);
    free(w.G); free(w.X);
    /* local_solve: each distinct hidden width, the rank's columns as right-hand sides */
    for (int l = 1; l < L; l++) {
      int seen = 0;
      for (int k = 1; k < l; k++) seen |= n[k] == n[l];
      if (seen) continue;
      local_arg a = { n[l], w.cols, NULL, NULL, NULL };
      a.S = filled((size_t)a.n * a.n);
      a.S0 = filled((size_t)a.n * a.n);
      for (size_t e = 0; e < (size_t)a.n * a.n; e++) a.S0[e] = e % ((size_t)a.n + 1) == 0; /* the identity */
      a.R = filled((size_t)a.n * a.nrhs);
      t = time_call(run_local_solve, &a, seconds);
      double lflops = (double)a.n * a.n * a.n / 3.0 + 2.0 * a.n * a.n * (double)a.nrhs;
      if (me == 0)
        printf("%s what=local_solve n=%d nrhs=%d gflops=%.4g gflops_median=%.4g\n", head, a.n, a.nrhs,
               lflops / t * 1e-9, lflops / last_median * 1e-9);
      free(a.S); free(a.S0); free(a.R);
    }
  }

  /* step: one gradient step on this rank's share of the batch */
  int cols = (int)((batch + np - 1) / np);
  if (cols < 2) cols = 2; /* gemv/ger at one column: the step rate of two columns stands in */
  step_arg s = { .L = L, .n = n, .B = cols };
  double flops = 0;
  for (int l = 0; l <= L; l++) {
    s.A[l] = filled((size_t)n[l] * cols);
    s.D[l] = filled((size_t)n[l] * cols);
    if (l == 0) continue;
    s.W[l] = filled((size_t)n[l] * n[l - 1]);
    s.G[l] = filled((size_t)n[l] * n[l - 1]);
    flops += (l > 1 ? 6.0 : 4.0) * n[l] * n[l - 1] * cols;
  }
  t = time_call(run_step, &s, 5 * seconds);
  if (me == 0)
    printf("%s what=step layers=%s columns=%d gflops=%.3f gflops_median=%.3f\n", head, layers, cols, flops / t * 1e-9,
           flops / last_median * 1e-9);
  for (int l = 0; l <= L; l++) {
    free(s.A[l]); free(s.D[l]);
    if (l) { free(s.W[l]); free(s.G[l]); }
  }

  /* the gradient methods' node-shared sum, and their step's products inside its cycle */
  node_sum_figures(head, n, L, seconds);
  step_cycle_figures(head, layers, n, L, samples, nsamples, batch, seconds);

  /* the ScaLAPACK solves on the grid admm-train makes (--grid auto: the squarest) */
  nn_grid grid;
  nn_grid_init(&grid, 0, 0, block);
  solve_figures(head, layers, n, L, &grid, seconds);
  nn_grid_free(&grid);

  /* stream: 3 x 64 MiB per rank */
  stream_arg st = { (size_t)8 << 20, NULL, NULL, NULL };
  st.a = filled(st.n); st.b = filled(st.n); st.c = filled(st.n);
  t = time_call(run_stream, &st, 5 * seconds);
  if (me == 0)
    printf("%s what=stream gbytes_per_s=%.3f gbytes_per_s_median=%.3f\n", head, 24.0 * st.n / t * 1e-9,
           24.0 * st.n / last_median * 1e-9);
  st.n = (size_t)1 << 17; /* 3 x 1 MiB */
  t = time_call(run_stream, &st, 5 * seconds);
  if (me == 0)
    printf("%s what=stream_cache gbytes_per_s=%.3f gbytes_per_s_median=%.3f\n", head, 24.0 * st.n / t * 1e-9,
           24.0 * st.n / last_median * 1e-9);
  for (size_t n = (size_t)1 << 11; n <= (size_t)8 << 20; n <<= 3) { /* 16 KiB .. 64 MiB an array */
    st.n = n;
    t = time_call(run_stream, &st, seconds);
    if (me == 0)
      printf("%s what=stream_at bytes=%zu gbytes_per_s=%.3f gbytes_per_s_median=%.3f\n", head, 24 * n,
             24.0 * n / t * 1e-9, 24.0 * n / last_median * 1e-9);
  }
  free(st.a); free(st.b); free(st.c);

  /* collectives and messages */
  static const struct { const char *name; void (*fn)(void *); } kinds[] = {
    { "allreduce", run_allreduce }, { "reduce_scatter", run_reduce_scatter }, { "bcast", run_bcast },
    { "allgather", run_allgather }, { "reduce", run_reduce }, { "p2p", run_p2p },
  };
  static const long sizes[] = { 8, 64, 512, 4096, 32768, 262144, 2097152, 8388608 };
  enum { NSIZES = sizeof sizes / sizeof sizes[0] };
  comm_arg c;
  c.send = filled((size_t)sizes[NSIZES - 1] / 8 * 2);
  c.recv = filled((size_t)sizes[NSIZES - 1] / 8 * 2);
  if (np > 1)
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
      for (int i = 0; i < NSIZES; i++) {
        c.count = (int)(sizes[i] / 8);
        /* reduce_scatter and allgather: the total is a multiple of the rank count */
        if (!strcmp(kinds[k].name, "reduce_scatter") || !strcmp(kinds[k].name, "allgather"))
          c.count = (c.count + np - 1) / np * np;
        t = time_call(kinds[k].fn, &c, seconds);
        if (!strcmp(kinds[k].name, "p2p")) { /* a round trip is two messages */
          t /= 2;
          last_median /= 2;
        }
        if (me == 0)
          printf("%s what=%s bytes=%ld seconds=%.9g seconds_median=%.9g\n", head, kinds[k].name, 8L * c.count, t,
                 last_median);
      }
  if (np > 1) {
    t = time_call(run_barrier, NULL, seconds);
    if (me == 0) printf("%s what=barrier bytes=0 seconds=%.9g seconds_median=%.9g\n", head, t, last_median);
  }
  fflush(stdout);
  free(c.send);
  free(c.recv);
  MPI_Finalize();
  return 0;
}
