/* The precision switch of the numerics: every file of solver/ that computes is compiled twice,
 * once with NN_FLOAT32 defined (real = float) and once without (real = double). Functions keep
 * their names as written in both builds: CMake links each build into one object whose only
 * global symbol is its table, nn_numerics_f64 or nn_numerics_f32 (numerics.h), and the driver
 * picks one by --precision. Only numerics include this header. */
#ifndef NN_REAL_H
#define NN_REAL_H

#include <cblas.h>
#include <lapacke.h>
#include <mpi.h>

#include "../common/check.h"
#include "../common/counters.h"
#include "shard.h"
#include "scalapack.h"

#ifdef NN_FLOAT32
typedef float real;
#define NN_NUMERICS_TABLE nn_numerics_f32
#define r_exp expf
#define r_log logf
#define r_sqrt sqrtf
#define MPI_REAL_T MPI_FLOAT
#define REAL_EPS 1.1920929e-07
#define REAL_NAME "float32"
#define NN_BLAS(name) cblas_s##name
#define NN_PBLAS(name) ps##name##_
#else
typedef double real;
#define NN_NUMERICS_TABLE nn_numerics_f64
#define r_exp exp
#define r_log log
#define r_sqrt sqrt
#define MPI_REAL_T MPI_DOUBLE
#define REAL_EPS 2.220446049250313e-16
#define REAL_NAME "float64"
#define NN_BLAS(name) cblas_d##name
#define NN_PBLAS(name) pd##name##_
#endif

/* The inputs of a shard as this precision's reals; a shard loaded in the other precision is
 * an internal error (the loader follows cfg->float32, shard.h). */
static inline real *nn_shard_reals(const nn_shard *s)
{
  CHECK(s->float32 == (sizeof(real) == sizeof(float)), "internal: a %s shard given to the %s numerics",
        s->float32 ? "float32" : "float64", REAL_NAME);
  return s->x;
}

/* Flops of one distributed ScaLAPACK/PBLAS call of `total` flops on the grid of descriptor
 * `desc`: this rank's share, total / (nprow npcol). */
static inline void nn_count_grid_flops(const int *desc, double total)
{
  int nprow = 1, npcol = 1, myrow, mycol;
  Cblacs_gridinfo(desc[1], &nprow, &npcol, &myrow, &mycol);
  if (nprow < 1 || npcol < 1) return; /* not in the grid: no share of the work */
  nn_count_flops(total / ((double)nprow * npcol));
}

/* The BLAS and ScaLAPACK calls in this precision. Each one adds its floating-point operations
 * to this rank's counter (counters.h) before it runs: the performance model of
 * jobs/study-scaling.sh reads them per phase. Conventions: GEMM m x n x k = 2mnk, SYRK
 * n x n x k = n(n+1)k, SYMM 2 m^2 n (left), GEMV and GER 2mn, AXPY and DOT 2n, SCAL n;
 * Cholesky n^3/3, its solve 2 n^2 per right-hand side, the inverse from the factor 2n^3/3,
 * the symmetric eigensolver with vectors ~14n^3/3 (reduction 4/3, back-transformation 2,
 * divide and conquer ~4/3: approximate); a distributed call counts its share
 * (total / grid size). A call with a matrix dimension below NN_NARROW (counters.h) also counts
 * as narrow. Sizes are evaluated more than once: pass plain values. */
#define cblas_gemm(o, ta, tb, m, n, k, ...) \
  (nn_count_blas(2.0 * (m) * (n) * (k), nn_min3(m, n, k)), NN_BLAS(gemm)(o, ta, tb, m, n, k, __VA_ARGS__))
#define cblas_syrk(o, uplo, tr, n, k, ...)                                        \
  (nn_count_blas((double)(n) * ((n) + 1.0) * (k), nn_min3(n, k, 1e9)),            \
   NN_BLAS(syrk)(o, uplo, tr, n, k, __VA_ARGS__))
#define cblas_symm(o, side, uplo, m, n, ...)                                                   \
  (nn_count_blas((side) == CblasLeft ? 2.0 * (m) * (m) * (n) : 2.0 * (m) * (n) * (n), nn_min3(m, n, 1e9)), \
   NN_BLAS(symm)(o, side, uplo, m, n, __VA_ARGS__))
#define cblas_gemv(o, tr, m, n, ...) \
  (nn_count_blas(2.0 * (m) * (n), 1), NN_BLAS(gemv)(o, tr, m, n, __VA_ARGS__))
#define cblas_ger(o, m, n, ...) (nn_count_blas(2.0 * (m) * (n), 1), NN_BLAS(ger)(o, m, n, __VA_ARGS__))
#define cblas_axpy(n, ...) (nn_count_flops(2.0 * (n)), NN_BLAS(axpy)(n, __VA_ARGS__))
#define cblas_scal(n, ...) (nn_count_flops(1.0 * (n)), NN_BLAS(scal)(n, __VA_ARGS__))
#define cblas_dot_r(n, ...) (nn_count_flops(2.0 * (n)), NN_BLAS(dot)(n, __VA_ARGS__))
#define pXpotrf_(uplo, n, a, ia, ja, desc, ...)                          \
  (nn_count_grid_flops(desc, (double)*(n) * *(n) * *(n) / 3.0),          \
   NN_PBLAS(potrf)(uplo, n, a, ia, ja, desc, __VA_ARGS__))
#define pXpotrs_(uplo, n, nrhs, a, ia, ja, desc, ...)                    \
  (nn_count_grid_flops(desc, 2.0 * *(n) * *(n) * *(nrhs)),               \
   NN_PBLAS(potrs)(uplo, n, nrhs, a, ia, ja, desc, __VA_ARGS__))
#define pXpotri_(uplo, n, a, ia, ja, desc, ...)                          \
  (nn_count_grid_flops(desc, 2.0 * *(n) * *(n) * *(n) / 3.0),            \
   NN_PBLAS(potri)(uplo, n, a, ia, ja, desc, __VA_ARGS__))
#define pXsyevd_(jobz, uplo, n, a, ia, ja, desc, ...)                    \
  (nn_count_grid_flops(desc, 14.0 * *(n) * *(n) * *(n) / 3.0),           \
   NN_PBLAS(syevd)(jobz, uplo, n, a, ia, ja, desc, __VA_ARGS__))
#define pXgemm_(ta, tb, m, n, k, alpha, a, ia, ja, desc, ...)            \
  (nn_count_grid_flops(desc, 2.0 * *(m) * *(n) * *(k)),                  \
   NN_PBLAS(gemm)(ta, tb, m, n, k, alpha, a, ia, ja, desc, __VA_ARGS__))

#endif
