/* Precision switch: every numerical source file is compiled twice, once with NN_FLOAT32
 * defined (float) and once without (double). R(name) gives each build its own symbols
 * (name_f32 / name_f64) so both live in one binary and --precision picks at run time. */
#ifndef NN_REAL_H
#define NN_REAL_H

#include <cblas.h>
#include <lapacke.h>
#include <mpi.h>

#ifdef NN_FLOAT32
typedef float real;
#define R(name) name##_f32
#define MPI_REAL_T MPI_FLOAT
#define REAL_EPS 1.1920929e-07
#define REAL_NAME "float32"
#define cblas_gemm cblas_sgemm
#define cblas_syrk cblas_ssyrk
#define cblas_symm cblas_ssymm
#define cblas_gemv cblas_sgemv
#define cblas_axpy cblas_saxpy
#define cblas_scal cblas_sscal
#define cblas_dot_r cblas_sdot
#define LAPACKE_potrf LAPACKE_spotrf
#define LAPACKE_potrs LAPACKE_spotrs
#define LAPACKE_potri LAPACKE_spotri
#define pXpotrf_ pspotrf_
#define pXpotrs_ pspotrs_
#define pXpotri_ pspotri_
#define pXsyevd_ pssyevd_
#define pXgemm_ psgemm_
#else
typedef double real;
#define R(name) name##_f64
#define MPI_REAL_T MPI_DOUBLE
#define REAL_EPS 2.220446049250313e-16
#define REAL_NAME "float64"
#define cblas_gemm cblas_dgemm
#define cblas_syrk cblas_dsyrk
#define cblas_symm cblas_dsymm
#define cblas_gemv cblas_dgemv
#define cblas_axpy cblas_daxpy
#define cblas_scal cblas_dscal
#define cblas_dot_r cblas_ddot
#define LAPACKE_potrf LAPACKE_dpotrf
#define LAPACKE_potrs LAPACKE_dpotrs
#define LAPACKE_potri LAPACKE_dpotri
#define pXpotrf_ pdpotrf_
#define pXpotrs_ pdpotrs_
#define pXpotri_ pdpotri_
#define pXsyevd_ pdsyevd_
#define pXgemm_ pdgemm_
#endif

#endif
