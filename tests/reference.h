/* Independent plain-loop references for the kernels, in double precision: naive matrix
 * products, a textbook Cholesky solve, a cyclic Jacobi eigensolver and the pseudo-inverse solve
 * built on it, and a brute-force 1-D minimiser. Deliberately
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

/* Eigen-decomposition S = V diag(w) V^T of the symmetric n x n matrix S (destroyed; w unsorted)
 * by cyclic Jacobi rotations (Golub & Van Loan, Algorithm 8.5.3): each rotation zeroes S(p,q);
 * sweeps until the off-diagonal part is below 1e-17 of the whole. */
static void ref_jacobi_eig(int n, double *S, double *V, double *w)
{
  for (int i = 0; i < n * n; i++) V[i] = 0;
  for (int i = 0; i < n; i++) V[i + (size_t)i * n] = 1;
  for (int sweep = 0; sweep < 60; sweep++) {
    double off = 0, all = 0;
    for (int j = 0; j < n; j++)
      for (int i = 0; i < n; i++) {
        double v = S[i + (size_t)j * n] * S[i + (size_t)j * n];
        all += v;
        if (i != j) off += v;
      }
    if (off <= 1e-34 * all) break;
    for (int p = 0; p < n - 1; p++)
      for (int q = p + 1; q < n; q++) {
        double apq = S[p + (size_t)q * n];
        if (apq == 0) continue;
        double tau = (S[q + (size_t)q * n] - S[p + (size_t)p * n]) / (2 * apq);
        double t = (tau >= 0 ? 1 : -1) / (fabs(tau) + sqrt(1 + tau * tau));
        double c = 1 / sqrt(1 + t * t), s = t * c;
        for (int k = 0; k < n; k++) { /* S J and V J: columns p, q */
          double skp = S[k + (size_t)p * n], skq = S[k + (size_t)q * n];
          S[k + (size_t)p * n] = c * skp - s * skq;
          S[k + (size_t)q * n] = s * skp + c * skq;
          double vkp = V[k + (size_t)p * n], vkq = V[k + (size_t)q * n];
          V[k + (size_t)p * n] = c * vkp - s * vkq;
          V[k + (size_t)q * n] = s * vkp + c * vkq;
        }
        for (int k = 0; k < n; k++) { /* J^T (S J): rows p, q */
          double spk = S[p + (size_t)k * n], sqk = S[q + (size_t)k * n];
          S[p + (size_t)k * n] = c * spk - s * sqk;
          S[q + (size_t)k * n] = s * spk + c * sqk;
        }
      }
  }
  for (int i = 0; i < n; i++) w[i] = S[i + (size_t)i * n];
}

/* X = S^+ B (S n x n symmetric, destroyed; B, X n x nrhs): the eigenvalues above rcond * the
 * largest are inverted, the rest (and every negative one) dropped. Returns the count kept and,
 * in *kappa, the largest over the smallest kept eigenvalue. */
static int ref_pinv_solve(int n, double *S, int nrhs, const double *B, double rcond, double *X, double *kappa)
{
  double *V = malloc(sizeof(double) * n * n), *w = malloc(sizeof(double) * n);
  ref_jacobi_eig(n, S, V, w);
  double wmax = 0, wmin = INFINITY;
  for (int i = 0; i < n; i++) wmax = fmax(wmax, w[i]);
  int kept = 0;
  for (int i = 0; i < n * nrhs; i++) X[i] = 0;
  for (int e = 0; e < n; e++) {
    if (!(w[e] > rcond * wmax && w[e] > 0)) continue;
    kept++;
    wmin = fmin(wmin, w[e]);
    const double *v = V + (size_t)e * n;
    for (int c = 0; c < nrhs; c++) {
      double d = 0;
      for (int i = 0; i < n; i++) d += v[i] * B[i + (size_t)c * n];
      for (int i = 0; i < n; i++) X[i + (size_t)c * n] += v[i] * d / w[e];
    }
  }
  if (kappa) *kappa = kept ? wmax / wmin : 1;
  free(V);
  free(w);
  return kept;
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
