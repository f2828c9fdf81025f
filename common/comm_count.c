/* Message counting by PMPI interposition (MPI standard, section "Profiling Interface"): each
 * MPI call below counts its size into nn_count (counters.h), then runs the library's PMPI_
 * version. It is linked into the programs that report counts (admm-train, admm-microbench), whose
 * definitions of these names take precedence over the MPI library's for every caller, the
 * libraries under them included: ScaLAPACK's BLACS sends its panels with MPI_Send/Isend/Recv.
 *
 * A call on a communicator of one rank moves nothing and is not counted (the 1-rank run and
 * the cross-node sum of a single node). Payload sizes are count x MPI_Type_size (the data a
 * derived type describes, without holes); a receive counts the size it posted. */
#include <mpi.h>

#include "counters.h"

static double type_bytes(MPI_Datatype type, double count)
{
  int size = 0;
  PMPI_Type_size(type, &size);
  return count * size;
}

/* Elements of a collective whose per-rank counts are given: the sum over the n ranks. */
static double total_count(const int counts[], int n)
{
  double total = 0;
  for (int r = 0; r < n; r++) total += counts[r];
  return total;
}

static int comm_size(MPI_Comm comm)
{
  int n = 1;
  if (comm != MPI_COMM_NULL) PMPI_Comm_size(comm, &n);
  return n;
}

int MPI_Allreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype type, MPI_Op op, MPI_Comm comm)
{
  if (comm_size(comm) > 1) {
    double b = type_bytes(type, count);
    nn_count_comm(NN_COMM_ALLREDUCE, b, b, b);
  }
  return PMPI_Allreduce(sendbuf, recvbuf, count, type, op, comm);
}

int MPI_Reduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype type, MPI_Op op, int root,
               MPI_Comm comm)
{
  if (comm_size(comm) > 1) {
    int me;
    PMPI_Comm_rank(comm, &me);
    double b = type_bytes(type, count);
    nn_count_comm(NN_COMM_REDUCE, b, b, me == root ? b : 0);
  }
  return PMPI_Reduce(sendbuf, recvbuf, count, type, op, root, comm);
}

int MPI_Reduce_scatter(const void *sendbuf, void *recvbuf, const int recvcounts[], MPI_Datatype type, MPI_Op op,
                       MPI_Comm comm)
{
  int n = comm_size(comm);
  if (n > 1) {
    int me;
    PMPI_Comm_rank(comm, &me);
    double b = type_bytes(type, total_count(recvcounts, n));
    nn_count_comm(NN_COMM_REDUCE_SCATTER, b, b, type_bytes(type, recvcounts[me]));
  }
  return PMPI_Reduce_scatter(sendbuf, recvbuf, recvcounts, type, op, comm);
}

int MPI_Reduce_scatter_block(const void *sendbuf, void *recvbuf, int recvcount, MPI_Datatype type, MPI_Op op,
                             MPI_Comm comm)
{
  int n = comm_size(comm);
  if (n > 1) {
    double b = type_bytes(type, (double)recvcount * n);
    nn_count_comm(NN_COMM_REDUCE_SCATTER, b, b, type_bytes(type, recvcount));
  }
  return PMPI_Reduce_scatter_block(sendbuf, recvbuf, recvcount, type, op, comm);
}

int MPI_Bcast(void *buffer, int count, MPI_Datatype type, int root, MPI_Comm comm)
{
  if (comm_size(comm) > 1) {
    int me;
    PMPI_Comm_rank(comm, &me);
    double b = type_bytes(type, count);
    nn_count_comm(NN_COMM_BCAST, b, me == root ? b : 0, me == root ? 0 : b);
  }
  return PMPI_Bcast(buffer, count, type, root, comm);
}

int MPI_Allgather(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf, int recvcount,
                  MPI_Datatype recvtype, MPI_Comm comm)
{
  int n = comm_size(comm);
  if (n > 1) {
    double mine = type_bytes(recvtype, recvcount), all = mine * n;
    nn_count_comm(NN_COMM_ALLGATHER, all, mine, all - mine);
  }
  return PMPI_Allgather(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm);
}

int MPI_Allgatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf, const int recvcounts[],
                   const int displs[], MPI_Datatype recvtype, MPI_Comm comm)
{
  int n = comm_size(comm);
  if (n > 1) {
    int me;
    PMPI_Comm_rank(comm, &me);
    double all = type_bytes(recvtype, total_count(recvcounts, n)), mine = type_bytes(recvtype, recvcounts[me]);
    nn_count_comm(NN_COMM_ALLGATHER, all, mine, all - mine);
  }
  return PMPI_Allgatherv(sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, recvtype, comm);
}

int MPI_Barrier(MPI_Comm comm)
{
  if (comm_size(comm) > 1) nn_count_comm(NN_COMM_BARRIER, 0, 0, 0);
  return PMPI_Barrier(comm);
}

/* Point to point: one message each way it goes. */
static void count_send(MPI_Datatype type, int count)
{
  double b = type_bytes(type, count);
  nn_count_comm(NN_COMM_P2P, b, b, 0);
}

static void count_recv(MPI_Datatype type, int count)
{
  double b = type_bytes(type, count);
  nn_count_comm(NN_COMM_P2P, b, 0, b);
}

int MPI_Send(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm)
{
  count_send(type, count);
  return PMPI_Send(buf, count, type, dest, tag, comm);
}

int MPI_Rsend(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm)
{
  count_send(type, count);
  return PMPI_Rsend(buf, count, type, dest, tag, comm);
}

int MPI_Isend(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm, MPI_Request *req)
{
  count_send(type, count);
  return PMPI_Isend(buf, count, type, dest, tag, comm, req);
}

int MPI_Recv(void *buf, int count, MPI_Datatype type, int source, int tag, MPI_Comm comm, MPI_Status *status)
{
  count_recv(type, count);
  return PMPI_Recv(buf, count, type, source, tag, comm, status);
}

int MPI_Irecv(void *buf, int count, MPI_Datatype type, int source, int tag, MPI_Comm comm, MPI_Request *req)
{
  count_recv(type, count);
  return PMPI_Irecv(buf, count, type, source, tag, comm, req);
}

int MPI_Sendrecv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, int dest, int sendtag, void *recvbuf,
                 int recvcount, MPI_Datatype recvtype, int source, int recvtag, MPI_Comm comm, MPI_Status *status)
{
  count_send(sendtype, sendcount);
  count_recv(recvtype, recvcount);
  return PMPI_Sendrecv(sendbuf, sendcount, sendtype, dest, sendtag, recvbuf, recvcount, recvtype, source, recvtag,
                       comm, status);
}
