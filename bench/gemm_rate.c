/* gemm-rate: the GEMM rate of these cores, for the flop bounds in bench/bench-*.sh. Every
 * rank multiplies an M x K matrix by its own K x (N/ranks) slice at the same time (as the
 * ranks of admm-train do), timed between barriers; the best of REPS repetitions, max over
 * ranks, gives the aggregate rate. Threads: OpenBLAS's (OPENBLAS_NUM_THREADS). Collective.
 *   mpiexec.mpich -n P gemm-rate float64|float32 M K N [REPS]
 * prints on rank 0: gemm_rate precision= ranks= threads= m= k= n= gflops= */
#include <cblas.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A standalone helper (no nncore): an MPI call that fails ends the job with its name. */
#define MPI_OK(call)                                                        \
  do {                                                                      \
    if ((call) != MPI_SUCCESS) {                                            \
      fprintf(stderr, "gemm-rate: error: %s failed\n", #call);              \
      MPI_Abort(MPI_COMM_WORLD, 1);                                         \
    }                                                                       \
  } while (0)

int main(int argc, char **argv)
{
  MPI_OK(MPI_Init(&argc, &argv));
  int me, np;
  MPI_OK(MPI_Comm_rank(MPI_COMM_WORLD, &me));
  MPI_OK(MPI_Comm_size(MPI_COMM_WORLD, &np));
  if (argc < 5) {
    if (me == 0) fprintf(stderr, "usage: gemm-rate float64|float32 M K N [REPS]\n");
    MPI_OK(MPI_Finalize());
    return 2;
  }
  int f32 = strcmp(argv[1], "float32") == 0;
  long m = strtol(argv[2], NULL, 10), k = strtol(argv[3], NULL, 10);
  long n = strtol(argv[4], NULL, 10) / np; /* this rank's columns */
  int reps = argc > 5 ? (int)strtol(argv[5], NULL, 10) : 5;
  size_t es = f32 ? sizeof(float) : sizeof(double);
  void *A = calloc((size_t)(m * k), es), *B = calloc((size_t)(k * n), es), *C = calloc((size_t)(m * n), es);
  if (!A || !B || !C) MPI_Abort(MPI_COMM_WORLD, 1);
  /* A's values do not change the rate; nonzero so nothing can be skipped */
  for (long i = 0; i < m * k; i++) {
    if (f32) ((float *)A)[i] = (float)(i % 7) * 0.1f;
    else ((double *)A)[i] = (double)(i % 7) * 0.1;
  }
  double best = 1e30;
  for (int r = 0; r < reps; r++) {
    MPI_OK(MPI_Barrier(MPI_COMM_WORLD));
    double t = MPI_Wtime();
    if (f32)
      cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0f, A, (int)m, B, (int)k,
                  0.0f, C, (int)m);
    else
      cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0, A, (int)m, B, (int)k,
                  0.0, C, (int)m);
    t = MPI_Wtime() - t;
    MPI_OK(MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD));
    best = t < best ? t : best;
  }
  if (me == 0) {
    const char *threads = getenv("OPENBLAS_NUM_THREADS");
    printf("gemm_rate precision=%s ranks=%d threads=%s m=%ld k=%ld n=%ld gflops=%.1f\n", argv[1], np,
           threads ? threads : "default", m, k, n * np, 2.0 * m * k * n * np / best / 1e9);
  }
  free(A);
  free(B);
  free(C);
  MPI_OK(MPI_Finalize());
  return 0;
}
