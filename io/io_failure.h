/* Ends the run cleanly when collective results-file I/O fails: one line naming the file and the
 * system's reason (caught by an MPI-IO error handler), every rank ends, OUT.part and the lock go.
 * nn_io_agree (collective) keeps ranks from entering the next call alone; a watchdog thread ends
 * a rank that HDF5 keeps blocked (ADMM_IO_TIMEOUT seconds, default 30). The rest is local. */
#ifndef NN_IO_FAILURE_H
#define NN_IO_FAILURE_H

#include <stddef.h>

/* Installs the MPI-IO error handler for files opened from now on and reads ADMM_IO_TIMEOUT;
 * 0, or -1 with a one-line reason in err. */
int nn_io_init(char *err, size_t len);

/* Arms the watchdog for a collective region of I/O on file ("appending epoch 7"), forgetting
 * any reason recorded before; nn_io_watch_end disarms it. One region at a time. */
void nn_io_watch_begin(const char *file, const char *region);
void nn_io_watch_end(void);

/* Why the last failed HDF5 call of this rank failed: the MPI-IO error it met, else HDF5's
 * innermost message; errno_after is errno right after the call (0 before it). */
void nn_io_reason(char *buf, size_t len, int errno_after);

/* Collective: returns when every rank passes ok = 1. Otherwise the lowest failing rank prints
 * "admm-train: error: MSG", each rank removes this run's files, and all ranks end non-zero. */
void nn_io_agree(int ok, const char *msg);

#endif
