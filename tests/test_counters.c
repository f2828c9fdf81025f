/* The work counters of the performance model (common/counters.h) against counts worked out by
 * hand here: the PMPI layer (common/comm_count.c, linked in as into admm-train) for each
 * message kind, and the flop-counting BLAS names of solver/real.h. Any rank count; the
 * message checks need 2 or more ranks and skip themselves on one. */
#include <math.h>
#include <string.h>

#include "../common/counters.h"
#include "../solver/real.h"
#include "testing.h"

/* The counts between two snapshots. Taken before any EXPECT, which itself communicates. */
static nn_counters since(const nn_counters *before)
{
  nn_counters d;
  nn_counters_diff(&d, &nn_count, before);
  return d;
}

int main(int argc, char **argv)
{
  MPI_Init(&argc, &argv);
  int me, np;
  MPI_Comm_rank(MPI_COMM_WORLD, &me);
  MPI_Comm_size(MPI_COMM_WORLD, &np);

  /* flops: GEMM 2mnk, SYRK n(n+1)k, GEMV 2mn, AXPY 2n, on real data (the call must still run) */
  double A[60], B[60], C[60], y[8];
  for (int i = 0; i < 60; i++) A[i] = B[i] = C[i] = 1;
  for (int i = 0; i < 8; i++) y[i] = 1;
  nn_counters t0 = nn_count;
  cblas_gemm(CblasColMajor, CblasNoTrans, CblasNoTrans, 3, 4, 5, 1.0, A, 3, B, 5, 0.0, C, 3);
  nn_counters d = since(&t0);
  EXPECT(d.flops == 120 && C[0] == 5, "gemm 3x4x5: %g flops (want 120), C[0] = %g (want 5)", d.flops, C[0]);
  t0 = nn_count;
  cblas_syrk(CblasColMajor, CblasLower, CblasNoTrans, 3, 4, 1.0, A, 3, 0.0, C, 3);
  cblas_gemv(CblasColMajor, CblasNoTrans, 3, 4, 1.0, A, 3, B, 1, 0.0, y, 1);
  cblas_axpy(7, 2.0, A, 1, y, 1);
  d = since(&t0);
  EXPECT(d.flops == 3 * 4 * 4 + 2 * 3 * 4 + 2 * 7, "syrk + gemv + axpy: %g flops (want 86)", d.flops);
  EXPECT(d.sent == 0 && d.calls[NN_COMM_ALLREDUCE] == 0, "BLAS calls counted as messages");

  /* messages */
  double v[1000], w[1000];
  for (int i = 0; i < 1000; i++) v[i] = me + i;
  t0 = nn_count;
  MPI_Allreduce(v, w, 1000, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  MPI_Bcast(v, 100, MPI_INT, 0, MPI_COMM_WORLD);
  MPI_Barrier(MPI_COMM_WORLD);
  MPI_Comm self;
  MPI_Comm_split(MPI_COMM_WORLD, me, 0, &self); /* one rank each: nothing moves */
  MPI_Allreduce(v, w, 10, MPI_DOUBLE, MPI_SUM, self);
  MPI_Comm_free(&self);
  if (np >= 2 && me < 2) {
    if (me == 0) MPI_Send(v, 50, MPI_DOUBLE, 1, 3, MPI_COMM_WORLD);
    else MPI_Recv(w, 50, MPI_DOUBLE, 0, 3, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  }
  d = since(&t0);
  int multi = np > 1;
  EXPECT(d.calls[NN_COMM_ALLREDUCE] == multi && d.bytes[NN_COMM_ALLREDUCE] == multi * 8000.0,
         "allreduce of 1000 doubles: %g calls, %g bytes (want %d, %d: a one-rank communicator is not counted)",
         d.calls[NN_COMM_ALLREDUCE], d.bytes[NN_COMM_ALLREDUCE], multi, multi * 8000);
  EXPECT(d.calls[NN_COMM_BCAST] == multi && d.bytes[NN_COMM_BCAST] == multi * 400.0,
         "bcast of 100 ints: %g calls, %g bytes", d.calls[NN_COMM_BCAST], d.bytes[NN_COMM_BCAST]);
  EXPECT(d.calls[NN_COMM_BARRIER] == multi, "barrier: %g calls", d.calls[NN_COMM_BARRIER]);
  double p2p = np >= 2 && me < 2 ? 400 : 0;
  EXPECT(d.bytes[NN_COMM_P2P] == p2p && d.calls[NN_COMM_P2P] == (p2p > 0),
         "message of 50 doubles: %g bytes in %g calls (want %g)", d.bytes[NN_COMM_P2P], d.calls[NN_COMM_P2P], p2p);
  /* payload: allreduce 8000 each way; bcast 400 out of the root, into the others; the message */
  double sent = multi * 8000.0 + (multi && me == 0 ? 400 : 0) + (np >= 2 && me == 0 ? 400 : 0);
  double recv = multi * 8000.0 + (multi && me != 0 ? 400 : 0) + (np >= 2 && me == 1 ? 400 : 0);
  EXPECT(d.sent == sent && d.received == recv, "payload: sent %g received %g (want %g, %g)", d.sent, d.received,
         sent, recv);
  int rc = testing_finish();
  MPI_Finalize();
  return rc;
}
