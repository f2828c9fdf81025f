/* Network storage, initialisation and the true forward pass; see model.h. */
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/check.h"
#include "../common/rng.h"
#include "../common/util.h"

void nn_model_alloc(nn_model *m, int L, const int *n, int bias)
{
  nn_model_alloc_layers(m, L, n, bias, 1, L);
}

void nn_model_alloc_layers(nn_model *m, int L, const int *n, int bias, int lo, int hi)
{
  CHECK(1 <= lo && lo <= hi && hi <= L, "internal: model layers %d..%d of %d", lo, hi, L);
  memset(m, 0, sizeof *m);
  m->L = L;
  m->bias = bias;
  m->lo = lo, m->hi = hi;
  for (int l = 0; l <= L; l++) m->n[l] = n[l];
  for (int l = lo; l <= hi; l++) {
    m->W[l] = nn_alloc((size_t)n[l] * (n[l - 1] + 1), sizeof(real), "a layer's weights and biases");
    m->b[l] = m->W[l] + (size_t)n[l] * n[l - 1];
  }
}

void nn_model_free(nn_model *m)
{
  for (int l = m->lo; l <= m->hi; l++) free(m->W[l]); /* and b[l], its last column */
}

void nn_model_copy(nn_model *dst, const nn_model *src)
{
  CHECK(dst->lo <= src->lo && src->hi <= dst->hi, "internal: copying model layers %d..%d into %d..%d", src->lo,
        src->hi, dst->lo, dst->hi);
  for (int l = src->lo; l <= src->hi; l++) {
    memcpy(dst->W[l], src->W[l], sizeof(real) * (size_t)src->n[l] * src->n[l - 1]);
    memcpy(dst->b[l], src->b[l], sizeof(real) * (size_t)src->n[l]);
  }
}

size_t nn_model_bytes(const nn_model *m)
{
  size_t count = 0;
  for (int l = m->lo; l <= m->hi; l++) count += (size_t)m->n[l] * (m->n[l - 1] + 1);
  return count * sizeof(real);
}

void nn_model_init(nn_model *m, enum nn_init init, long seed)
{
  for (int l = m->lo; l <= m->hi; l++) {
    double fan_in = m->n[l - 1], fan_out = m->n[l];
    size_t count = (size_t)m->n[l] * m->n[l - 1];
    for (size_t k = 0; k < count; k++) {
      double v;
      switch (init) {
      case NN_INIT_HE: /* N(0, 2/fan_in): keeps ReLU activations at unit scale */
      case NN_INIT_PAIRS: /* He, then hidden units from sample pairs (init_pairs.h) */
        v = sqrt(2.0 / fan_in) * nn_rng_normal((uint64_t)seed, 1000 + l, k);
        break;
      case NN_INIT_XAVIER: /* Glorot normal: N(0, 2/(fan_in+fan_out)) */
        v = sqrt(2.0 / (fan_in + fan_out)) * nn_rng_normal((uint64_t)seed, 1000 + l, k);
        break;
      case NN_INIT_NORMALIZED: /* Glorot & Bengio's "normalized initialization", eq. 16 */
        v = sqrt(6.0 / (fan_in + fan_out)) * (2.0 * nn_rng_uniform((uint64_t)seed, 1000 + l, k) - 1.0);
        break;
      case NN_INIT_PYTORCH: /* torch.nn.Linear's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) */
        v = (2.0 * nn_rng_uniform((uint64_t)seed, 1000 + l, k) - 1.0) / sqrt(fan_in);
        break;
      default:
        v = 0;
      }
      m->W[l][k] = (real)v;
    }
    /* Every other scheme starts biases at zero; PyTorch draws them like the weights. */
    if (m->bias)
      for (int i = 0; i < m->n[l]; i++)
        m->b[l][i] = init == NN_INIT_PYTORCH
                         ? (real)((2.0 * nn_rng_uniform((uint64_t)seed, 3000 + l, (uint64_t)i) - 1.0) / sqrt(fan_in))
                         : 0;
  }
}

void nn_affine(const real *W, const real *b, int rows, int cols, const real *a, long N, real *z)
{
  if (b) {
    for (long j = 0; j < N; j++) memcpy(z + (size_t)j * rows, b, sizeof(real) * rows);
    nn_count_stream((double)sizeof(real) * rows * N);
  }
  cblas_gemm(CblasColMajor, CblasNoTrans, CblasNoTrans, rows, (int)N, cols, 1, W, rows, a, cols,
             b ? 1 : 0, z, rows);
}

/* Loss of one output column z (k entries) against class y; see io/SCHEMA.md. */
static double column_loss(const real *z, int k, int y, enum nn_loss loss)
{
  double s = 0;
  if (loss == NN_LOSS_LEAST_SQUARES) {
    for (int i = 0; i < k; i++) {
      double d = z[i] - (i == y);
      s += 0.5 * d * d;
    }
  } else if (loss == NN_LOSS_HINGE) {
    for (int i = 0; i < k; i++) s += i == y ? fmax(1.0 - z[i], 0.0) : fmax((double)z[i], 0.0);
  } else if (loss == NN_LOSS_SQUARED_HINGE) {
    for (int i = 0; i < k; i++) {
      double d = i == y ? fmax(1.0 - z[i], 0.0) : fmax((double)z[i], 0.0);
      s += 0.5 * d * d;
    }
  } else {
    double zmax = z[0];
    for (int i = 1; i < k; i++) zmax = fmax(zmax, z[i]);
    double e = 0;
    for (int i = 0; i < k; i++) e += exp(z[i] - zmax);
    s = log(e) + zmax - z[y];
  }
  return s;
}

void nn_relu(real *dst, const real *src, size_t count)
{
  nn_count_stream(2.0 * sizeof(real) * count);
#pragma omp simd
  for (size_t i = 0; i < count; i++) dst[i] = src[i] > 0 ? src[i] : 0;
}

void nn_sigmoid(real *dst, const real *src, size_t count)
{
  nn_count_stream(2.0 * sizeof(real) * count);
  for (size_t i = 0; i < count; i++) dst[i] = 1 / (1 + r_exp(-src[i]));
}

void nn_residual(const nn_model *m, real *x_out, const real *x_in, real *z, size_t count)
{
  if (m->sigmoid) nn_sigmoid(z, z, count);
  else nn_relu(z, z, count);
  nn_count_stream(3.0 * sizeof(real) * count);
  for (size_t i = 0; i < count; i++) x_out[i] = x_in[i] + z[i];
}

const real *nn_forward_layers(const nn_model *m, const real *x, long nc, int upto, real *buf[2])
{
  CHECK(m->lo == 1 && m->hi >= upto, "internal: the forward pass through layer %d of a model holding layers %d..%d",
        upto, m->lo, m->hi);
  const real *in = x;
  for (int l = 1; l <= upto; l++) {
    real *out = buf[l & 1];
    nn_affine(m->W[l], m->bias ? m->b[l] : NULL, m->n[l], m->n[l - 1], in, nc, out);
    if (m->resnet) {
      /* x_l = x_{l-1} + act(z_l) in place of z_l: in and out are the two buffers */
      if (l > 1 && l < m->L) nn_residual(m, out, in, out, (size_t)m->n[l] * nc);
    } else if (l < m->L)
      nn_relu(out, out, (size_t)m->n[l] * nc);
    in = out;
  }
  return in;
}

void nn_forward_eval_targets(const nn_model *m, const real *x, const real *y, long N, double *loss_sum)
{
  enum { CHUNK = 1024 };
  size_t widest = (size_t)nn_widest_layer(m->L, m->n);
  real *buf[2] = { nn_alloc(widest * CHUNK, sizeof(real), "the forward pass's scratch"),
                   nn_alloc(widest * CHUNK, sizeof(real), "the forward pass's scratch") };
  int k = m->n[m->L];
  for (long j0 = 0; j0 < N; j0 += CHUNK) {
    long nc = N - j0 < CHUNK ? N - j0 : CHUNK;
    const real *out = nn_forward_layers(m, x + (size_t)j0 * m->n[0], nc, m->L, buf);
    const real *t = y + (size_t)j0 * k;
    for (size_t i = 0; i < (size_t)nc * k; i++) {
      double d = (double)out[i] - (double)t[i];
      *loss_sum += 0.5 * d * d;
    }
  }
  free(buf[0]);
  free(buf[1]);
}

void nn_forward_eval(const nn_model *m, const real *x, const int *label, long N,
                     enum nn_loss loss, long *correct, double *loss_sum)
{
  enum { CHUNK = 1024 };
  size_t widest = (size_t)nn_widest_layer(m->L, m->n);
  real *buf[2] = { nn_alloc(widest * CHUNK, sizeof(real), "the forward pass's scratch"),
                   nn_alloc(widest * CHUNK, sizeof(real), "the forward pass's scratch") };
  for (long j0 = 0; j0 < N; j0 += CHUNK) {
    long nc = N - j0 < CHUNK ? N - j0 : CHUNK;
    const real *out = nn_forward_layers(m, x + (size_t)j0 * m->n[0], nc, m->L, buf);
    int k = m->n[m->L];
    for (long j = 0; j < nc; j++) {
      const real *z = out + (size_t)j * k;
      int best = 0;
      for (int i = 1; i < k; i++)
        if (z[i] > z[best]) best = i;
      *correct += best == label[j0 + j];
      *loss_sum += column_loss(z, k, label[j0 + j], loss);
    }
  }
  free(buf[0]);
  free(buf[1]);
}
