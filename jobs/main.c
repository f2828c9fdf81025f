/* admm-train: parse the options, train. See --help and README.md. */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include "../solver/scalapack.h"
#include "options.h"
#include "stop_signal.h"
#include "train.h"

int main(int argc, char **argv)
{
  if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
    fprintf(stderr, "admm-train: error: MPI_Init failed (start it with mpiexec.mpich or srun)\n");
    return 1;
  }
  nn_stop_signal_install();
  nn_config cfg;
  int rc = 0;
  if (nn_options_parse(&cfg, argc, argv) == 0)
    rc = nn_train_run(&cfg);
  /* 1: BLACS must leave MPI to us. */
  Cblacs_exit(1);
  if (MPI_Finalize() != MPI_SUCCESS && rc == 0) {
    fprintf(stderr, "admm-train: error: MPI_Finalize failed\n");
    rc = 1;
  }
  return rc;
}
