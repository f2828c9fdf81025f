/* Independent plain-loop references for the kernels, in double precision: naive matrix
 * products, a textbook Cholesky solve, and a brute-force 1-D minimiser. Deliberately
 * unoptimised and sharing no code with solver/. Column-major throughout. */
#ifndef NN_REFERENCE_H
#define NN_REFERENCE_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* C (m x n) = op(A) op(B), op = transpose when ta / tb. A is m x k (or k x m if ta). */
static void ref_gemm(int ta, int tb, int m, int n, int k, const double *A, const double *B, double *C)
{
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      double s = 0;
      for (int p = 0; p < k; p++) {
        double a = ta ? A[p + (size_t)i * k] : A[i + (size_t)p * m];
        double b = tb ? B[j + (size_t)p * n] : B[p + (size_t)j * k];
        s += a * b;
      }
      C[i + (size_t)j * m] = s;
    }
}

/* Solves S X = B in place (S n x n SPD, B n x nrhs) by Cholesky, S destroyed. 0 on success. */
static int ref_cholesky_solve(int n, double *S, int nrhs, double *B)
{
  for (int j = 0; j < n; j++) {
    double d = S[j + (size_t)j * n];
    for (int p = 0; p < j; p++) d -= S[j + (size_t)p * n] * S[j + (size_t)p * n];
    if (d <= 0) return -1;
    d = sqrt(d);
    S[j + (size_t)j * n] = d;
    for (int i = j + 1; i < n; i++) {
      double s = S[i + (size_t)j * n];
      for (int p = 0; p < j; p++) s -= S[i + (size_t)p * n] * S[j + (size_t)p * n];
      S[i + (size_t)j * n] = s / d;
    }
  }
  for (int c = 0; c < nrhs; c++) {
    double *b = B + (size_t)c * n;
    for (int i = 0; i < n; i++) {
      double s = b[i];
      for (int p = 0; p < i; p++) s -= S[i + (size_t)p * n] * b[p];
      b[i] = s / S[i + (size_t)i * n];
    }
    for (int i = n - 1; i >= 0; i--) {
      double s = b[i];
      for (int p = i + 1; p < n; p++) s -= S[p + (size_t)i * n] * b[p];
      b[i] = s / S[i + (size_t)i * n];
    }
  }
  return 0;
}

/* Minimum of f on [lo, hi] by a dense grid and then successive refinement around the best
 * grid point; robust for the piecewise-quadratic 1-D problems of ADMM. */
static double ref_minimize_1d(double (*f)(double, const double *), const double *p, double lo, double hi)
{
  double best = lo, fbest = f(lo, p);
  for (int round = 0; round < 8; round++) {
    int steps = 2000;
    double h = (hi - lo) / steps;
    for (int i = 0; i <= steps; i++) {
      double x = lo + i * h, fx = f(x, p);
      if (fx < fbest) { fbest = fx; best = x; }
    }
    lo = best - 2 * h;
    hi = best + 2 * h;
  }
  return best;
}

static double max_abs_diff(const double *a, const double *b, size_t n)
{
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i] - b[i]));
  return m;
}

static double max_abs(const double *a, size_t n)
{
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i]));
  return m;
}

#endif
