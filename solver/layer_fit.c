/* Least-squares fits of one affine layer; see layer_fit.h. */
#include "layer_fit.h"

#include "../common/check.h"

void nn_fit_gram(const real *a, int n, long N, const real *ones, real *G)
{
  int ld = n + (ones != NULL);
  /* The lower triangle a a^T one panel of GRAM_PANEL columns at a time, each by one GEMM of
   * the rows from the panel's diagonal down (the panel's diagonal block is computed whole:
   * GRAM_PANEL / n extra flops). OpenBLAS's SYRK ran at 72% of its GEMM rate on a 8192 x
   * 27500 activation block (20 s of a 28 s sweep of 784-8192-10). */
  enum { GRAM_PANEL = 512 };
  for (int j0 = 0; j0 < n; j0 += GRAM_PANEL) {
    int w = n - j0 < GRAM_PANEL ? n - j0 : GRAM_PANEL;
    cblas_gemm(CblasColMajor, CblasNoTrans, CblasTrans, n - j0, w, (int)N, 1, a + j0, n, a + j0, n, 0,
               G + j0 + (size_t)j0 * ld, ld);
  }
  if (!ones) return;
  /* The bias row (row sums of a) is a GEMV against ones written straight into row n, not a
   * loop over samples that writes n scattered entries per sample. */
  cblas_gemv(CblasColMajor, CblasNoTrans, n, (int)N, 1, a, n, ones, 1, 0, G + n, ld);
  G[n + (size_t)n * ld] = (real)N;
}

void nn_fit_cross(const real *a, int n, const real *z, int m, long N, const real *ones, real *B)
{
  int ld = n + (ones != NULL);
  cblas_gemm(CblasColMajor, CblasNoTrans, CblasTrans, n, m, (int)N, 1, a, n, z, m, 0, B, ld);
  if (ones) cblas_gemv(CblasColMajor, CblasNoTrans, m, (int)N, 1, z, m, ones, 1, 0, B + n, ld);
}

real *nn_fit_solution(nn_model *net, int l)
{
  CHECK(!net->bias || net->b[l] == net->W[l] + (size_t)net->n[l] * net->n[l - 1],
        "internal: layer %d's biases do not follow its weights (allocate models with nn_model_alloc)", l);
  return net->W[l];
}

void nn_fit_weights_to_x(const nn_model *net, int l, real *X)
{
  int in = net->n[l - 1], out = net->n[l], ld = in + net->bias;
  for (int i = 0; i < out; i++) {
    for (int j = 0; j < in; j++) X[j + (size_t)i * ld] = net->W[l][i + (size_t)j * out];
    if (net->bias) X[in + (size_t)i * ld] = net->b[l][i];
  }
}
