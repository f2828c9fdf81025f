/* A minimal collective test harness: EXPECT records a pass or a failure on this rank;
 * testing_finish agrees over all ranks (a check failed anywhere fails everywhere), prints
 * "N passed, M failed" on rank 0 and returns the exit status. */
#ifndef NN_TESTING_H
#define NN_TESTING_H

#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Two dumps of weights (doubles, as the *_dump tests write them) agree: the same count, and
 * every value within tol x the largest |w| of the first. `what` names the method in the line
 * rank 0 prints. */
static inline void testing_compare_dumps(const char *what, const char *pa, const char *pb, double tol)
{
  FILE *a = fopen(pa, "rb"), *b = fopen(pb, "rb");
  long n = 0;
  double worst = 0, wmax = 0, x, y;
  int same_len = a && b, me;
  while (same_len && fread(&x, sizeof x, 1, a) == 1) {
    if (fread(&y, sizeof y, 1, b) != 1) { same_len = 0; break; }
    worst = fmax(worst, fabs(x - y));
    wmax = fmax(wmax, fabs(x));
    n++;
  }
  if (same_len && fread(&y, sizeof y, 1, b) == 1) same_len = 0;
  EXPECT(same_len && n > 0, "dumps %s and %s missing or of different length", pa, pb);
  EXPECT(worst <= tol * wmax, "weights differ by %.3g (max |w| %.3g, tolerance %.1g x max)", worst, wmax, tol);
  MPI_Comm_rank(MPI_COMM_WORLD, &me);
  if (me == 0) printf("%s weights, %ld values: max difference %.3g (max |w| %.3g)\n", what, n, worst, wmax);
  if (a) fclose(a);
  if (b) fclose(b);
}

/* Rank 0 writes the weights W[l] (n[l] x n[l-1]) and biases b[l] (n[l]) of layers 1..L as
 * doubles into path, from values of real_size bytes (4: float, 8: double): the dumps that
 * testing_compare_dumps reads. Local. */
static inline void testing_dump_weights(const char *path, int L, const int *n, void *const *W, void *const *b,
                                        size_t real_size)
{
  int me;
  MPI_Comm_rank(MPI_COMM_WORLD, &me);
  if (me != 0) return;
  FILE *f = fopen(path, "wb");
  if (!f) { fprintf(stderr, "cannot write %s\n", path); MPI_Abort(MPI_COMM_WORLD, 1); }
  for (int l = 1; l <= L; l++) {
    long counts[2] = { (long)n[l] * n[l - 1], n[l] };
    void *const from[2] = { W[l], b[l] };
    for (int part = 0; part < 2; part++)
      for (long e = 0; e < counts[part]; e++) {
        double v = real_size == sizeof(float) ? ((const float *)from[part])[e] : ((const double *)from[part])[e];
        fwrite(&v, sizeof v, 1, f);
      }
  }
  fclose(f);
}

/* The modes of a suite that dumps weights: `PROG cmp A B TOL` compares two dumps (what names
 * the method), `PROG dump FILE` runs dump(ctx, FILE). Returns 1 when argv asked for one of them
 * (it ran), 0 when the suite's own checks should run. */
static inline int testing_dump_modes(int argc, char **argv, const char *what, void (*dump)(const void *, const char *),
                                     const void *ctx)
{
  if (argc == 5 && strcmp(argv[1], "cmp") == 0) {
    testing_compare_dumps(what, argv[2], argv[3], strtod(argv[4], NULL));
    return 1;
  }
  if (argc == 3 && strcmp(argv[1], "dump") == 0) {
    dump(ctx, argv[2]);
    return 1;
  }
  return 0;
}

static inline int testing_finish(void)
{
  int me;
  MPI_Comm_rank(MPI_COMM_WORLD, &me);
  if (me == 0) printf("%d passed, %d failed\n", testing_passed, testing_failed);
  return testing_failed ? 1 : 0;
}

#endif
