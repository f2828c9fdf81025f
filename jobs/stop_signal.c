/* Deferred SIGTERM, SIGINT and SIGUSR1; see stop_signal.h. */
#include "stop_signal.h"

#include <mpi.h>
#include <signal.h>
#include <string.h>

#include "../common/check.h"

static volatile sig_atomic_t received;

static void note_signal(int sig) { received = sig; }

void nn_stop_signal_install(void)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = note_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL); /* Slurm's warning before the time limit: --signal=B:USR1@T */
}

const char *nn_stop_signal_name(int sig)
{
  return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : sig == SIGUSR1 ? "SIGUSR1" : "a signal";
}

int nn_stop_signal_any(void)
{
  int sig = received;
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &sig, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD));
  return sig;
}
