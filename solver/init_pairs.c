/* Data-pair initialisation; see init_pairs.h. */
#include "init_pairs.h"

#include <stdlib.h>
#include <string.h>

#include "../common/check.h"
#include "../common/rng.h"
#include "../common/util.h"

void nn_init_pairs(nn_model *net, const nn_shard *train, long seed)
{
  int P = nn_nranks(), L = net->L;
  long ng = train->n_global;
  /* Every rank needs every label to draw pairs of different classes. */
  int *counts = nn_alloc((size_t)P, sizeof(int), "label counts");
  int *displs = nn_alloc((size_t)P, sizeof(int), "label offsets");
  int *labels = nn_alloc((size_t)ng, sizeof(int), "every training label");
  int mine = (int)train->n;
  CHECK_MPI(MPI_Allgather(&mine, 1, MPI_INT, counts, 1, MPI_INT, MPI_COMM_WORLD));
  for (int r = 0, d = 0; r < P; r++) { displs[r] = d; d += counts[r]; }
  CHECK_MPI(MPI_Allgatherv(train->label, mine, MPI_INT, labels, counts, displs, MPI_INT, MPI_COMM_WORLD));
  size_t widest = (size_t)nn_widest_layer(L, net->n);
  int d0 = net->n[0];
  for (int l = 1; l < L; l++) {
    int H = net->n[l], in = net->n[l - 1];
    long *idx = nn_alloc(2 * (size_t)H, sizeof(long), "the pairs");
    real *xs = nn_alloc((size_t)d0 * 2 * H, sizeof(real), "the pairs' samples");
    real *f[2] = { nn_alloc(widest * 2 * H, sizeof(real), "the pairs' features"),
                   nn_alloc(widest * 2 * H, sizeof(real), "the pairs' features") };
    for (int i = 0; i < H; i++) {
      long p = (long)(nn_rng_u64((uint64_t)seed, 3000 + l, (uint64_t)i) % (uint64_t)ng), q = p;
      for (int t = 0; t < 256 && labels[q] == labels[p]; t++)
        q = (long)(nn_rng_u64((uint64_t)seed, 4000 + l, (uint64_t)i * 256 + t) % (uint64_t)ng);
      idx[2 * i] = p;
      idx[2 * i + 1] = q;
    }
    /* The owners fill their samples' columns; a sum gives every rank all of them. */
    for (int c = 0; c < 2 * H; c++) {
      long j = idx[c] - train->first;
      if (j >= 0 && j < train->n) memcpy(xs + (size_t)c * d0, nn_shard_reals(train) + (size_t)j * d0, sizeof(real) * d0);
    }
    CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, xs, d0 * 2 * H, MPI_REAL_T, MPI_SUM, MPI_COMM_WORLD));
    /* Features at layer l's input: the forward pass of the (already initialised) layers below. */
    const real *feat = xs;
    for (int m = 1; m < l; m++) {
      real *o = f[m & 1];
      nn_affine(net->W[m], net->bias ? net->b[m] : NULL, net->n[m], net->n[m - 1], feat, 2 * H, o);
      nn_relu(o, o, (size_t)net->n[m] * 2 * H);
      feat = o;
    }
    for (int i = 0; i < H; i++) {
      const real *u = feat + (size_t)(2 * i) * in, *v = feat + (size_t)(2 * i + 1) * in;
      double nrm2 = 0, mid = 0;
      for (int j = 0; j < in; j++) nrm2 += (double)(v[j] - u[j]) * (v[j] - u[j]);
      if (!(nrm2 > 0) || labels[idx[2 * i]] == labels[idx[2 * i + 1]]) continue; /* keep --init's unit */
      for (int j = 0; j < in; j++) {
        double w = 2.0 * (v[j] - u[j]) / nrm2;
        net->W[l][i + (size_t)j * H] = (real)w;
        mid += w * 0.5 * ((double)u[j] + v[j]);
      }
      if (net->bias) net->b[l][i] = (real)-mid;
    }
    free(idx); free(xs); free(f[0]); free(f[1]);
  }
  free(counts); free(displs); free(labels);
}
