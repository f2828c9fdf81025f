/* Work counters; see counters.h. */
#include "counters.h"


const char *const nn_comm_kind_names[NN_NCOMM] = {
  "allreduce", "reduce_scatter", "bcast", "allgather", "reduce", "p2p", "barrier", "shm"
};

nn_counters nn_count;

void nn_counters_diff(nn_counters *d, const nn_counters *a, const nn_counters *b)
{
  d->flops = a->flops - b->flops;
  d->flops_narrow = a->flops_narrow - b->flops_narrow;
  for (int k = 0; k < NN_NCOMM; k++) {
    d->calls[k] = a->calls[k] - b->calls[k];
    d->bytes[k] = a->bytes[k] - b->bytes[k];
  }
  d->sent = a->sent - b->sent;
  d->received = a->received - b->received;
  d->stream = a->stream - b->stream;
  d->stream_calls = a->stream_calls - b->stream_calls;
}
