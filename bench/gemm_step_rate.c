/* gemm-step-rate: the BLAS rate of one gradient step's products on these cores, the denominator
 * of the flop bound in bench/bench-gradient.sh. It times exactly the BLAS calls that
 * solver/gradient.c makes for one step of `--batch` columns (GEMMs; gemv/ger at batch 1)
 * and nothing else (gemm-rate measures one large GEMM). Local, no MPI; the thread count is
 * OpenBLAS's (OPENBLAS_NUM_THREADS).
 *
 *   gemm-step-rate [--precision float32|float64] [--layers 784,256,256,10] [--batch 128]
 *             [--seconds 2]
 * prints one line per measurement:
 *   gemm_step_rate what=step precision=float32 threads=1 layers=... batch=128 flops_per_step=...
 *             t_step_us=... gflops=... t_step_median_us=...
 * t_step_us and gflops are the best of ~10 rounds, the median beside them.
 * Flops of a step, B columns: forward 2 B sum_l n_l n_{l-1}; weight gradients the same;
 * input gradients 2 B sum_{l>=2} n_l n_{l-1} (layer 1 needs none). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAXL 16

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* One step's products for widths n[0..L] and B columns, in type T; *best and *median over
 * rounds of the seconds per step (the best is the rate of the cores when nothing else ran:
 * this machine is shared). */
#define DEFINE_STEP(T, SFX, GEMM, GEMV, GER)                                                         \
  static void step_##SFX(int L, const int *n, int B, double seconds, double *best, double *median)   \
  {                                                                                                  \
    T *W[MAXL + 1], *A[MAXL + 1], *D[MAXL + 1], *G[MAXL + 1];                                        \
    for (int l = 0; l <= L; l++) {                                                                   \
      A[l] = malloc(sizeof(T) * n[l] * B);                                                           \
      D[l] = malloc(sizeof(T) * n[l] * B);                                                           \
      for (long i = 0; i < (long)n[l] * B; i++) A[l][i] = D[l][i] = (T)(1e-3 * (i % 97));            \
      if (l == 0) continue;                                                                          \
      W[l] = malloc(sizeof(T) * n[l] * n[l - 1]);                                                    \
      G[l] = malloc(sizeof(T) * n[l] * n[l - 1]);                                                    \
      for (long i = 0; i < (long)n[l] * n[l - 1]; i++) W[l][i] = G[l][i] = (T)(1e-3 * (i % 89));     \
    }                                                                                                \
    double rounds[64];                                                                               \
    int R = 0;                                                                                       \
    double t_end = now() + seconds;                                                                  \
    do {                                                                                             \
      long steps = 0;                                                                                \
      double t0 = now(), t1;                                                                         \
      do {                                                                                           \
        for (int l = 1; l <= L; l++) {                                                               \
          if (B == 1)                                                                                \
            GEMV(CblasColMajor, CblasNoTrans, n[l], n[l - 1], 1, W[l], n[l], A[l - 1], 1, 1, A[l], 1); \
          else                                                                                       \
            GEMM(CblasColMajor, CblasNoTrans, CblasNoTrans, n[l], B, n[l - 1], 1, W[l], n[l], A[l - 1], \
                 n[l - 1], 1, A[l], n[l]);                                                           \
        }                                                                                            \
        for (int l = L; l >= 1; l--) {                                                               \
          if (B == 1) {                                                                              \
            if (l > 1)                                                                               \
              GEMV(CblasColMajor, CblasTrans, n[l], n[l - 1], 1, W[l], n[l], D[l], 1, 0, D[l - 1], 1); \
            GER(CblasColMajor, n[l], n[l - 1], (T)-1e-9, D[l], 1, A[l - 1], 1, W[l], n[l]);          \
          } else {                                                                                   \
            if (l > 1)                                                                               \
              GEMM(CblasColMajor, CblasTrans, CblasNoTrans, n[l - 1], B, n[l], 1, W[l], n[l], D[l],  \
                   n[l], 0, D[l - 1], n[l - 1]);                                                     \
            GEMM(CblasColMajor, CblasNoTrans, CblasTrans, n[l], n[l - 1], B, 1, D[l], n[l], A[l - 1],  \
                 n[l - 1], 0, G[l], n[l]);                                                           \
          }                                                                                          \
        }                                                                                            \
        steps++;                                                                                     \
        t1 = now();                                                                                  \
      } while (t1 - t0 < seconds / 10);                                                              \
      rounds[R++] = (t1 - t0) / steps;                                                               \
    } while (now() < t_end && R < 64);                                                               \
    qsort(rounds, R, sizeof(double), cmp_double);                                                    \
    for (int l = 0; l <= L; l++) {                                                                   \
      free(A[l]);                                                                                    \
      free(D[l]);                                                                                    \
      if (l) { free(W[l]); free(G[l]); }                                                             \
    }                                                                                                \
    *best = rounds[0];                                                                               \
    *median = rounds[R / 2];                                                                         \
  }

DEFINE_STEP(float, f32, cblas_sgemm, cblas_sgemv, cblas_sger)
DEFINE_STEP(double, f64, cblas_dgemm, cblas_dgemv, cblas_dger)

int main(int argc, char **argv)
{
  const char *prec = "float32", *layers = "784,256,256,10";
  int B = 128;
  double seconds = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--precision")) prec = argv[i + 1];
    else if (!strcmp(argv[i], "--layers")) layers = argv[i + 1];
    else if (!strcmp(argv[i], "--batch")) B = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
    else {
      fprintf(stderr, "gemm-step-rate: unknown option %s (see the comment at the top of bench/gemm_step_rate.c)\n", argv[i]);
      return 1;
    }
  }
  int f32 = !strcmp(prec, "float32");
  if (!f32 && strcmp(prec, "float64")) {
    fprintf(stderr, "gemm-step-rate: --precision must be float32 or float64, got %s\n", prec);
    return 1;
  }
  int n[MAXL + 1], L = -1;
  for (const char *p = layers; *p && L < MAXL;) {
    char *end;
    n[++L] = (int)strtol(p, &end, 10);
    if (end == p || n[L] < 1) {
      fprintf(stderr, "gemm-step-rate: --layers %s is not a list of widths\n", layers);
      return 1;
    }
    p = *end ? end + 1 : end;
  }
  if (L < 1 || B < 1) {
    fprintf(stderr, "gemm-step-rate: need at least two widths and --batch >= 1\n");
    return 1;
  }
  double flops = 0;
  for (int l = 1; l <= L; l++) flops += (l > 1 ? 6.0 : 4.0) * n[l] * n[l - 1] * B;
  double t, tmed;
  if (f32) step_f32(L, n, B, seconds, &t, &tmed);
  else step_f64(L, n, B, seconds, &t, &tmed);
  int threads = openblas_get_num_threads();
  printf("gemm_step_rate what=step precision=%s threads=%d layers=%s batch=%d flops_per_step=%.0f t_step_us=%.2f "
         "gflops=%.2f t_step_median_us=%.2f\n", prec, threads, layers, B, flops, 1e6 * t, flops / t * 1e-9, 1e6 * tmed);
  fflush(stdout);
  return 0;
}
