/* SIGTERM, SIGINT and SIGUSR1 (a Slurm time limit or its warning, scancel, Ctrl-C through
 * mpiexec) do not kill a rank mid-step: the handler only notes the signal, and the driver asks
 * at the end of each epoch, collectively, whether any rank received one, so every rank stops at
 * the same point even when the signal reached only some of them. The driver then closes the
 * results file as complete, with stop_reason "signal" and the best epoch's weights so far, and
 * exits with 128 + the signal's number. */
#ifndef NN_STOP_SIGNAL_H
#define NN_STOP_SIGNAL_H

/* Installs the handlers. Local. */
void nn_stop_signal_install(void);
/* Collective: the signal number some rank received (the largest), or 0. */
int nn_stop_signal_any(void);
/* "SIGTERM", "SIGINT", "SIGUSR1", or "a signal". */
const char *nn_stop_signal_name(int sig);

#endif
