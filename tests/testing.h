/* A minimal collective test harness: EXPECT records a pass or a failure on this rank;
 * testing_finish agrees over all ranks (a check failed anywhere fails everywhere), prints
 * "N passed, M failed" on rank 0 and returns the exit status. */
#ifndef NN_TESTING_H
#define NN_TESTING_H

#include <mpi.h>
#include <stdio.h>

static int testing_passed, testing_failed;

#define EXPECT(cond, ...)                                                           \
  do {                                                                              \
    int ok_ = (cond), all_;                                                         \
    MPI_Allreduce(&ok_, &all_, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);                \
    int me_;                                                                        \
    MPI_Comm_rank(MPI_COMM_WORLD, &me_);                                            \
    if (all_) testing_passed++;                                                     \
    else {                                                                          \
      testing_failed++;                                                             \
      if (!ok_) {                                                                   \
        fprintf(stderr, "FAILED [rank %d] %s:%d: ", me_, __FILE__, __LINE__);       \
        fprintf(stderr, __VA_ARGS__);                                               \
        fprintf(stderr, "\n");                                                      \
      }                                                                             \
    }                                                                               \
  } while (0)

static inline int testing_finish(void)
{
  int me;
  MPI_Comm_rank(MPI_COMM_WORLD, &me);
  if (me == 0) printf("%d passed, %d failed\n", testing_passed, testing_failed);
  return testing_failed ? 1 : 0;
}

#endif
