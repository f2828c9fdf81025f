/* Errors that stop every rank: CHECK prints "[rank r] file.c:line: message" once and aborts
 * MPI_COMM_WORLD, so no rank can hang waiting for one that died. nn_fail never returns.
 * Collective validation (all ranks agree before anyone stops) is nn_check_all and
 * CHECK_ALL_RANKS: every rank calls them, so a verdict seen by any subset of ranks ends all. */
#ifndef NN_CHECK_H
#define NN_CHECK_H

#include <mpi.h>

#define CHECK(cond, ...) \
  do { if (!(cond)) nn_fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)
#define CHECK_MPI(call) \
  do { int rc_ = (call); if (rc_ != MPI_SUCCESS) nn_fail_mpi(__FILE__, __LINE__, #call, rc_); } while (0)

/* Registers the function every failure path calls (the output guard's, which removes the
 * run's .part and lock). It must be async-signal-safe. */
void nn_on_failure_call(void (*cleanup)(void));

__attribute__((noreturn, format(printf, 3, 4)))
void nn_fail(const char *file, int line, const char *fmt, ...);
__attribute__((noreturn))
void nn_fail_mpi(const char *file, int line, const char *call, int rc);

/* Collective: every rank passes its own ok flag; if any rank's flag is 0, the lowest such
 * rank prints msg (its own, so it names the cause it saw) and all ranks exit with status 1.
 * Use for input validation, where every rank can detect a problem by itself. */
void nn_check_all(int ok, const char *msg);
/* The same with another exit status (128 + N after signal N, as shells report it). */
void nn_check_all_status(int ok, const char *msg, int status);

/* Collective, on every rank that reaches this line (all of them: the condition is evaluated
 * everywhere, failed or not): if cond fails on any rank, the lowest such rank prints
 * "file.c:line: message" (with "[rank r]" when not every rank failed) and every rank leaves
 * through MPI_Finalize with status 1. Costs one small MPI_Allreduce when all is well. */
#define CHECK_ALL_RANKS(cond, ...) nn_check_all_at(__FILE__, __LINE__, (cond) != 0, __VA_ARGS__)
__attribute__((format(printf, 4, 5)))
void nn_check_all_at(const char *file, int line, int ok, const char *fmt, ...);

/* Collective like CHECK_ALL_RANKS: explains a ScaLAPACK info code of routine `who` and fails
 * every rank when info != 0 on any of them. */
void nn_check_info(const char *file, int line, const char *who, int info);
#define CHECK_INFO(who, info) nn_check_info(__FILE__, __LINE__, who, info)

/* Test hook (tests/test_one_rank_fails.sh), inert unless ADMM_TEST_FAIL_EPOCH is set: at the
 * end of that epoch, rank ADMM_TEST_FAIL_RANK (or every rank: "all") reports a failure that
 * no other rank sees. ADMM_TEST_FAIL_KIND picks the path: "collective" (default,
 * CHECK_ALL_RANKS), "local" (CHECK, as an out-of-memory on that rank), or "signal": that
 * rank raises SIGUSR1 (tests/test_resume.sh), which the driver sees after the next epoch.
 * ADMM_TEST_EPOCH_PAUSE=S (a second hook) makes every epoch S seconds longer, so that tests
 * which act on a running job (tests/slurm/test-requeue.sh) do not race a fast machine.
 * Collective. */
void nn_test_fail_point(int epoch);

int nn_rank(void);
int nn_nranks(void);

#endif
