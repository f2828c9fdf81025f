/* Output guard; see output_guard.h. Rank 0 does every file-system step and broadcasts its
 * verdict, so the ranks cannot disagree about a file that changes under them. Files are
 * compared by (st_dev, st_ino), both through links (stat) and of the links themselves (lstat):
 * a path string comparison misses links, "./" prefixes and hard links. */
#define _GNU_SOURCE /* O_NOFOLLOW, O_CLOEXEC, gethostname */
#include "output_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/check.h"
#include "inputs.h"

/* Paths of this run's claim, set on every rank; lock_fd >= 0 only on rank 0 while it holds
 * the lock. Plain static buffers: nn_output_abandon runs in the watchdog thread and may only
 * unlink. */
static char out_path[1100], part_path[1108], lock_path[1108];
static volatile int part_ours = 0, lock_ours = 0, lock_fd = -1;

typedef struct {
  int n;
  dev_t dev[2];
  ino_t ino[2];
} file_id; /* the file behind a path (stat) and the path's own entry (lstat); n found */

static file_id identify(const char *path)
{
  file_id id = { 0 };
  struct stat st;
  if (stat(path, &st) == 0) { id.dev[id.n] = st.st_dev; id.ino[id.n++] = st.st_ino; }
  if (lstat(path, &st) == 0) { id.dev[id.n] = st.st_dev; id.ino[id.n++] = st.st_ino; }
  return id;
}

static int same_file(const file_id *a, const file_id *b)
{
  for (int i = 0; i < a->n; i++)
    for (int j = 0; j < b->n; j++)
      if (a->dev[i] == b->dev[j] && a->ino[i] == b->ino[j]) return 1;
  return 0;
}

/* The root attribute status of an existing HDF5 results file, or why it has none. Serial HDF5
 * (default driver): only rank 0 looks, before any parallel file is open. */
static void describe_existing(const char *path, char *out, size_t len)
{
  /* Only words for a refusal that happens anyway: a failed call leaves the vaguer wording. */
  H5E_auto2_t fn = NULL;
  void *data = NULL;
  int saved = H5Eget_auto2(H5E_DEFAULT, &fn, &data) >= 0;
  int quiet = H5Eset_auto2(H5E_DEFAULT, NULL, NULL) >= 0;
  snprintf(out, len, "a file that is not an admm-nn results file");
  if (H5Fis_hdf5(path) > 0) {
    int closed = 1;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t a = f >= 0 && H5Aexists(f, "status") > 0 ? H5Aopen(f, "status", H5P_DEFAULT) : -1;
    if (a >= 0) {
      hid_t t = H5Tcopy(H5T_C_S1), ft = H5Aget_type(a);
      H5T_cset_t cset = ft >= 0 ? H5Tget_cset(ft) : H5T_CSET_ERROR;
      char *s = NULL;
      /* HDF5 converts no string between character sets: read in the attribute's own */
      if (t >= 0 && cset != H5T_CSET_ERROR && H5Tset_size(t, H5T_VARIABLE) >= 0 && H5Tset_cset(t, cset) >= 0 &&
          H5Aread(a, t, &s) >= 0 && s) {
        if (strcmp(s, "complete") == 0) snprintf(out, len, "a complete results file");
        else snprintf(out, len, "a results file with status \"%.40s\"", s);
        closed &= H5free_memory(s) >= 0;
      }
      if (ft >= 0) closed &= H5Tclose(ft) >= 0;
      if (t >= 0) closed &= H5Tclose(t) >= 0;
      closed &= H5Aclose(a) >= 0;
    }
    if (f >= 0) closed &= H5Fclose(f) >= 0;
    if (!closed) snprintf(out + strlen(out), len - strlen(out), " (HDF5 could not release it cleanly)");
  }
  if (quiet) (void)H5Eclear2(H5E_DEFAULT); /* the stack only held what we just read past */
  if (quiet && saved && H5Eset_auto2(H5E_DEFAULT, fn, data) < 0)
    fprintf(stderr, "admm-train: note: HDF5's error printing could not be restored\n");
}

/* Rank 0: flock on OUT.lock, retried when the previous holder unlinked the file between our
 * open and our flock (we would hold a lock on a file nobody else can see). */
static int take_lock(const char *label, char *msg, size_t len)
{
  for (int attempt = 0; attempt < 20; attempt++) {
    /* O_NOFOLLOW: a planted link must not make us truncate its target */
    int fd = open(lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0644);
    if (fd < 0) {
      if (errno == ELOOP)
        snprintf(msg, len, "%s: the lock file %s is a symbolic link; refusing to follow it (remove it)", label, lock_path);
      else
        snprintf(msg, len, "%s: cannot create the lock file %s: %s", label, lock_path, strerror(errno));
      return -1;
    }
    struct stat held, now;
    if (fstat(fd, &held) != 0 || !S_ISREG(held.st_mode)) {
      snprintf(msg, len, "%s: the lock file %s is %s, not a regular file (remove it)", label, lock_path,
               nn_file_kind(held.st_mode));
      close(fd);
      return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int e = errno;
      char holder[256] = "";
      ssize_t n = e == EWOULDBLOCK ? pread(fd, holder, sizeof holder - 1, 0) : -1;
      close(fd);
      if (e != EWOULDBLOCK) {
        snprintf(msg, len, "%s: cannot lock %s: %s", label, lock_path, strerror(e));
        return -1;
      }
      holder[n > 0 ? n : 0] = 0;
      char host[200] = "?";
      long pid = 0;
      if (sscanf(holder, "%199s %ld", host, &pid) != 2) pid = 0;
      if (pid > 0)
        snprintf(msg, len, "%s: in use by another run (host %s, pid %ld, lock file %s)", label, host, pid, lock_path);
      else
        snprintf(msg, len, "%s: in use by another run (lock file %s, held by a process that has not yet written its host and pid)",
                 label, lock_path);
      return -1;
    }
    if (lstat(lock_path, &now) != 0 || now.st_dev != held.st_dev || now.st_ino != held.st_ino) {
      close(fd);
      continue;
    }
    char me[300], host[256] = "unknown";
    gethostname(host, sizeof host - 1);
    int n = snprintf(me, sizeof me, "%s %ld\n", host, (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, me, (size_t)n, 0) != n) {
      snprintf(msg, len, "%s: cannot write the lock file %s: %s", label, lock_path, strerror(errno));
      unlink(lock_path);
      close(fd);
      return -1;
    }
    lock_fd = fd;
    return 0;
  }
  snprintf(msg, len, "%s: the lock file %s keeps being replaced; another program is racing for it", label, lock_path);
  return -1;
}

static void drop_lock(void)
{
  if (lock_fd < 0) return;
  /* unlink before unlocking: a run that opens the old file after this fails its lstat check */
  unlink(lock_path);
  close(lock_fd);
  lock_fd = -1;
}

/* A failure that ends the process by exit() (nn_check_all) runs this: the lock file goes too.
 * MPI_Abort kills without it; the failing rank's nn_output_abandon has removed the file. */
static void cleanup_at_exit(void)
{
  nn_output_abandon();
  drop_lock();
}

/* Rank 0's checks, in the order a user fixes them; 0, or -1 with the one-line reason. */
static int check_and_lock(const nn_config *cfg, const char *label, char *msg, size_t len)
{
  size_t n = strlen(out_path);
  if (n == 0 || out_path[n - 1] == '/') {
    snprintf(msg, len, "%s: names a directory, not a results file", label);
    return -1;
  }
  struct stat st, lst;
  int exists = stat(out_path, &st) == 0;
  if (exists && S_ISDIR(st.st_mode)) {
    snprintf(msg, len, "%s: is an existing directory (name a file in it, e.g. %s/run.h5)", label, out_path);
    return -1;
  }
  if (exists && !S_ISREG(st.st_mode)) {
    snprintf(msg, len, "%s: is %s, not a results file", label, nn_file_kind(st.st_mode));
    return -1;
  }

  char dir[1100];
  snprintf(dir, sizeof dir, "%s", out_path);
  char *slash = strrchr(dir, '/');
  if (!slash) snprintf(dir, sizeof dir, ".");
  else if (slash == dir) dir[1] = 0;
  else *slash = 0;
  /* the default name lies in results/, which the run may create; a directory the user named
   * must exist (a typo would otherwise scatter results into new folders) */
  int default_dir = !cfg->output[0];
  if (stat(dir, &st) != 0) {
    if (!(default_dir && errno == ENOENT)) {
      snprintf(msg, len, "%s: cannot create it: directory %s %s", label, dir,
               errno == ENOENT ? "does not exist" : strerror(errno));
      return -1;
    }
  } else if (!S_ISDIR(st.st_mode)) {
    snprintf(msg, len, "%s: cannot create it: %s is not a directory", label, dir);
    return -1;
  } else if (access(dir, W_OK | X_OK) != 0) {
    /* as root only a read-only file system fails this (EROFS) */
    snprintf(msg, len, "%s: cannot create it: directory %s is not writable (%s)", label, dir, strerror(errno));
    return -1;
  }

  char inputs[4][NN_INPUT_PATH_MAX];
  const char *option[4];
  int ninputs = nn_input_files(cfg, inputs, option);
  const char *ours[3] = { out_path, part_path, lock_path };
  for (int k = 0; k < 3; k++) {
    file_id o = identify(ours[k]);
    for (int i = 0; i < ninputs; i++) {
      file_id in = identify(inputs[i]);
      if (!same_file(&o, &in)) continue;
      if (k == 0)
        snprintf(msg, len, "%s: is the input data file %s (%s); refusing to overwrite it", label, inputs[i], option[i]);
      else
        snprintf(msg, len, "%s: its %s file %s is the input data file %s (%s); refusing to overwrite it", label,
                 k == 1 ? "partial" : "lock", ours[k], inputs[i], option[i]);
      return -1;
    }
  }

  if (default_dir && stat(dir, &st) != 0 && mkdir(dir, 0775) != 0 && errno != EEXIST) {
    snprintf(msg, len, "%s: cannot create directory %s: %s", label, dir, strerror(errno));
    return -1;
  }
  if (take_lock(label, msg, len) != 0) return -1;

  /* Under the lock: no other run of ours is writing OUT or OUT.part now. */
  if (exists && !cfg->force) {
    char what[120];
    describe_existing(out_path, what, sizeof what);
    snprintf(msg, len, "%s: already holds %s; refusing to replace it (--force replaces it)", label, what);
    drop_lock();
    return -1;
  }
  if (lstat(part_path, &lst) == 0) {
    if (!S_ISREG(lst.st_mode) && !S_ISLNK(lst.st_mode)) {
      snprintf(msg, len, "%s: %s exists and is %s (remove it)", label, part_path, nn_file_kind(lst.st_mode));
      drop_lock();
      return -1;
    }
    /* a dead run's leftover (a live one would hold the lock); unlink removes a link itself,
     * never its target */
    if (unlink(part_path) != 0) {
      snprintf(msg, len, "%s: cannot remove the stale %s: %s", label, part_path, strerror(errno));
      drop_lock();
      return -1;
    }
    fprintf(stderr, "admm-train: note: removed the stale %s left by an earlier run%s\n", part_path,
            S_ISLNK(lst.st_mode) ? " (a symbolic link; its target was left alone)" : "");
  }
  return 0;
}

void nn_output_claim(const nn_config *cfg, const char *path)
{
  snprintf(out_path, sizeof out_path, "%s", path);
  snprintf(part_path, sizeof part_path, "%s.part", out_path);
  snprintf(lock_path, sizeof lock_path, "%s.lock", out_path);
  nn_on_failure_call(nn_output_abandon); /* a failure anywhere removes the .part and the lock */
  char label[1200], msg[8192] = "";
  snprintf(label, sizeof label, cfg->output[0] ? "--output %s" : "output %s (the default name)", out_path);
  int ok = 1;
  static int registered = 0;
  if (nn_rank() == 0) {
    ok = check_and_lock(cfg, label, msg, sizeof msg) == 0;
    if (ok && !registered) registered = atexit(cleanup_at_exit) == 0;
  }
  /* only rank 0 can refuse: it prints, and every rank exits */
  nn_check_all(ok, msg);
  lock_ours = 1; /* every rank: the one that fails may not be rank 0 (nn_output_abandon) */
}

void nn_output_part_created(void) { part_ours = 1; }

void nn_output_release(void)
{
  part_ours = 0;
  lock_ours = 0;
  drop_lock();
}

void nn_output_abandon(void)
{
  if (part_ours && part_path[0]) unlink(part_path);
  /* Any rank, not only rank 0 that holds it: a rank that fails alone aborts the job, and
   * MPI_Abort kills rank 0 before it can clean up. Rank 0's flock dies with it; meanwhile a
   * new run that takes a fresh lock file finds rank 0 unable to write (its partner is gone). */
  if (lock_ours && lock_path[0]) unlink(lock_path);
}
