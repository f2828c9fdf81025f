/* Elementwise closed-form minimisers; see closed_forms.h. */
#include "closed_forms.h"

#include <math.h>

double nn_relu_z_objective(double z, double a, double m, double beta, double gamma)
{
  double h = z > 0 ? z : 0;
  return gamma * (a - h) * (a - h) + beta * (z - m) * (z - m);
}

double nn_relu_z_update(real *restrict z, const real *restrict a, const real *restrict m, long count, double beta,
                        double gamma, double *res_a)
{
  enum { BLOCK = 4096 };
  double res_z = 0, ra = 0;
  nn_count_stream(4.0 * sizeof(real) * count); /* reads z, a, m; writes z */
  const real g = (real)gamma, b = (real)beta, inv = (real)(1.0 / (gamma + beta)), zero = 0;
  /* In the working precision and branch-free, so it vectorises at full width; the residuals
   * are summed per block in that precision and across blocks in double. The reductions are
   * declared so the compiler may reorder them (deterministic for a given build). */
  for (long c0 = 0; c0 < count; c0 += BLOCK) {
    long c1 = count - c0 < BLOCK ? count : c0 + BLOCK;
    real bz = 0, ba = 0;
#pragma omp simd reduction(+ : bz, ba)
    for (long i = c0; i < c1; i++) {
      real ai = a[i], mi = m[i];
      /* z >= 0: relu is the identity, a quadratic with minimiser (gamma a + beta m)/(gamma + beta). */
      real zp = (g * ai + b * mi) * inv;
      zp = zp > zero ? zp : zero;
      real fp = g * (ai - zp) * (ai - zp) + b * (zp - mi) * (zp - mi);
      /* z <= 0: relu is 0, only the beta term depends on z. */
      real zn = mi < zero ? mi : zero;
      real fn = g * ai * ai + b * (zn - mi) * (zn - mi);
      real zi = fp <= fn ? zp : zn;
      z[i] = zi;
      real hz = zi > zero ? zi : zero;
      bz += (zi - mi) * (zi - mi);
      ba += (ai - hz) * (ai - hz);
    }
    res_z += bz;
    ra += ba;
  }
  *res_a = ra;
  return res_z;
}

double nn_output_objective(double z, double y, double lambda, double m, double beta, int hinge)
{
  double l;
  if (hinge)
    l = y > 0.5 ? fmax(1.0 - z, 0.0) : fmax(z, 0.0);
  else
    l = 0.5 * (z - y) * (z - y);
  return l + lambda * z + 0.5 * beta * (z - m) * (z - m);
}

/* Hinge case: the objective is convex and piecewise quadratic with one kink at `knot`
 * (1 for y = 1, 0 for y = 0); the minimiser of each piece, clamped to its side, is compared. */
static double hinge_z(double y, double lambda, double m, double beta)
{
  double knot = y > 0.5 ? 1.0 : 0.0;
  /* slope of the loss on each side of the knot */
  double left = y > 0.5 ? -1.0 : 0.0, right = y > 0.5 ? 0.0 : 1.0;
  double zl = m - (left + lambda) / beta;
  double zr = m - (right + lambda) / beta;
  if (zl > knot) zl = knot;
  if (zr < knot) zr = knot;
  double fl = nn_output_objective(zl, y, lambda, m, beta, 1);
  double fr = nn_output_objective(zr, y, lambda, m, beta, 1);
  return fl <= fr ? zl : zr;
}

void nn_output_z_update(real *z, const int *label, const real *lambda, const real *m, int k,
                        long N, double beta, int hinge)
{
  nn_count_stream(4.0 * sizeof(real) * k * N); /* reads lambda, m, z; writes z */
  for (long j = 0; j < N; j++)
    for (int i = 0; i < k; i++) {
      size_t e = (size_t)j * k + i;
      double y = label[j] == i;
      if (hinge)
        z[e] = (real)hinge_z(y, lambda[e], m[e], beta);
      else
        z[e] = (real)((y - lambda[e] + beta * m[e]) / (1.0 + beta));
    }
}

void nn_hinge_targets(real *T, const int *label, int k, long C, double *tsq, double *dist2)
{
  for (long j = 0; j < C; j++)
    for (int i = 0; i < k; i++) {
      real *e = T + i + (size_t)j * k, before = *e;
      *e = i == label[j] ? (*e > 1 ? *e : 1) : (*e < 0 ? *e : 0);
      *tsq += (double)*e * *e;
      *dist2 += ((double)*e - before) * ((double)*e - before);
    }
}
