/* admm-train: parse the options, pick the precision, train. See --help and README.md. */
#include <mpi.h>
#include <string.h>

#include "../solver/scalapack.h"
#include "options.h"
#include "stop_signal.h"
#include "train.h"

int main(int argc, char **argv)
{
  MPI_Init(&argc, &argv);
  nn_stop_signal_install();
  nn_config cfg;
  int rc = 0;
  if (nn_options_parse(&cfg, argc, argv) == 0)
    rc = cfg.float32 ? nn_train_run_f32(&cfg) : nn_train_run_f64(&cfg);
  /* 1: BLACS must leave MPI to us. */
  Cblacs_exit(1);
  MPI_Finalize();
  return rc;
}
