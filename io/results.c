/* Parallel-HDF5 results writer; see results.h and SCHEMA.md. Metadata calls (creating
 * objects, attributes, set_extent) are collective; data writes are collective MPI-IO, with
 * ranks that own nothing selecting none. */
#include "results.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "../solver/check.h"

#define CHECK_H5(expr) do { if ((expr) < 0) nn_fail(__FILE__, __LINE__, "HDF5 call failed: %s", #expr); } while (0)

enum { SCALARS = 13, REALS = 11 }; /* the first REALS are float64, the rest int64 */
static const char *const scalar_names[SCALARS] = {
  "loss", "objective", "residual_z", "residual_a", "train_acc", "val_acc", "test_acc",
  "t_epoch", "t_eval", "t_wall", "multiplier", "epoch", "warmup"
};

struct nn_results {
  char path[1100], part[1100];
  hid_t file, epochs, dxpl;
  hid_t scalar[SCALARS];
  hid_t phase[3];  /* min, avg, max */
  hid_t rss;
  hsize_t rows;
  int me, nranks;
};

double nn_peak_rss_mb(void)
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;
}

static void write_attr(hid_t obj, const nn_attr *a)
{
  hid_t space, type, attr;
  if (H5Aexists(obj, a->name) > 0) CHECK_H5(H5Adelete(obj, a->name));
  if (a->type == NN_ATTR_STRING) {
    type = H5Tcopy(H5T_C_S1);
    CHECK_H5(H5Tset_size(type, H5T_VARIABLE));
    CHECK_H5(H5Tset_cset(type, H5T_CSET_UTF8));
    space = H5Screate(H5S_SCALAR);
    attr = H5Acreate2(obj, a->name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    const char *s = a->s;
    CHECK_H5(H5Awrite(attr, type, &s));
    H5Tclose(type);
  } else if (a->type == NN_ATTR_INTS) {
    hsize_t dim = (hsize_t)a->nints;
    space = H5Screate_simple(1, &dim, NULL);
    attr = H5Acreate2(obj, a->name, H5T_NATIVE_LONG, space, H5P_DEFAULT, H5P_DEFAULT);
    CHECK_H5(H5Awrite(attr, H5T_NATIVE_LONG, a->ints));
  } else {
    space = H5Screate(H5S_SCALAR);
    hid_t t = a->type == NN_ATTR_INT ? H5T_NATIVE_LONG : H5T_NATIVE_DOUBLE;
    attr = H5Acreate2(obj, a->name, a->type == NN_ATTR_INT ? H5T_STD_I64LE : H5T_IEEE_F64LE, space,
                      H5P_DEFAULT, H5P_DEFAULT);
    CHECK_H5(H5Awrite(attr, t, a->type == NN_ATTR_INT ? (const void *)&a->i : (const void *)&a->d));
  }
  CHECK(attr >= 0, "HDF5: cannot create attribute %s", a->name);
  H5Aclose(attr);
  H5Sclose(space);
}

static hid_t create_extendable(hid_t group, const char *name, hid_t type, int cols)
{
  hsize_t dims[2] = { 0, (hsize_t)cols }, maxd[2] = { H5S_UNLIMITED, (hsize_t)cols };
  hsize_t chunk[2] = { 64, (hsize_t)cols };
  int rank = cols > 0 ? 2 : 1;
  hid_t space = H5Screate_simple(rank, dims, maxd);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  CHECK_H5(H5Pset_chunk(dcpl, rank, chunk));
  hid_t d = H5Dcreate2(group, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  CHECK(d >= 0, "HDF5: cannot create dataset /epochs/%s", name);
  H5Pclose(dcpl);
  H5Sclose(space);
  return d;
}

nn_results *nn_results_create(const char *path, const nn_attr *config, int nconfig, const nn_attr *run, int nrun)
{
  nn_results *r = calloc(1, sizeof *r);
  CHECK(r, "out of memory");
  MPI_Comm_rank(MPI_COMM_WORLD, &r->me);
  MPI_Comm_size(MPI_COMM_WORLD, &r->nranks);
  snprintf(r->path, sizeof r->path, "%s", path);
  snprintf(r->part, sizeof r->part, "%s.part", path);
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  CHECK_H5(H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL));
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  r->file = H5Fcreate(r->part, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  int ok = r->file >= 0, all_ok;
  MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  char msg[1300];
  snprintf(msg, sizeof msg, "--output %s: cannot create %s (does the directory exist and is it writable?)", path, r->part);
  nn_check_all(all_ok, msg);
  nn_on_failure_remove(r->part);
  r->dxpl = H5Pcreate(H5P_DATASET_XFER);
  CHECK_H5(H5Pset_dxpl_mpio(r->dxpl, H5FD_MPIO_COLLECTIVE));

  nn_attr a = { .type = NN_ATTR_STRING };
  snprintf(a.name, sizeof a.name, "format");
  snprintf(a.s, sizeof a.s, "admm-nn-results");
  write_attr(r->file, &a);
  nn_attr v = { .name = "format_version", .type = NN_ATTR_INT, .i = 1 };
  write_attr(r->file, &v);
  snprintf(a.name, sizeof a.name, "status");
  snprintf(a.s, sizeof a.s, "running");
  write_attr(r->file, &a);
  for (int i = 0; i < nrun; i++) write_attr(r->file, &run[i]);
  hid_t cfg = H5Gcreate2(r->file, "config", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  CHECK(cfg >= 0, "HDF5: cannot create /config");
  for (int i = 0; i < nconfig; i++) write_attr(cfg, &config[i]);
  H5Gclose(cfg);

  r->epochs = H5Gcreate2(r->file, "epochs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  CHECK(r->epochs >= 0, "HDF5: cannot create /epochs");
  for (int i = 0; i < SCALARS; i++)
    r->scalar[i] = create_extendable(r->epochs, scalar_names[i], i < REALS ? H5T_IEEE_F64LE : H5T_STD_I64LE, 0);
  static const char *const pn[3] = { "phase_min", "phase_avg", "phase_max" };
  for (int i = 0; i < 3; i++) {
    r->phase[i] = create_extendable(r->epochs, pn[i], H5T_IEEE_F64LE, NN_NPHASES);
    nn_attr names = { .name = "phase_names", .type = NN_ATTR_STRING, .s = NN_PHASE_NAMES_CSV };
    write_attr(r->phase[i], &names);
  }
  r->rss = create_extendable(r->epochs, "rss_mb", H5T_IEEE_F64LE, r->nranks);
  CHECK_H5(H5Fflush(r->file, H5F_SCOPE_GLOBAL));
  return r;
}

/* Grows dataset d by one row and writes `values` (cols of them, or 1 for a 1-D dataset)
 * into it from rank `writer` (all ranks when writer < 0, each its own column). */
static void append_row(nn_results *r, hid_t d, hid_t memtype, const void *values, int cols, int writer)
{
  hsize_t rows = r->rows + 1;
  hsize_t dims[2] = { rows, (hsize_t)cols };
  CHECK_H5(H5Dset_extent(d, dims));
  hid_t fspace = H5Dget_space(d);
  hsize_t start[2] = { r->rows, 0 }, count[2] = { 1, (hsize_t)(cols > 0 ? cols : 1) };
  int mine = writer < 0 || writer == r->me;
  if (writer < 0) { start[1] = (hsize_t)r->me; count[1] = 1; }
  hsize_t mcount = mine ? count[1] : 0;
  hid_t mspace = H5Screate_simple(1, &mcount, NULL);
  if (mine)
    CHECK_H5(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL));
  else {
    CHECK_H5(H5Sselect_none(fspace));
    CHECK_H5(H5Sselect_none(mspace));
  }
  CHECK_H5(H5Dwrite(d, memtype, mspace, fspace, r->dxpl, values));
  H5Sclose(mspace);
  H5Sclose(fspace);
}

void nn_results_append(nn_results *r, const nn_epoch_row *row)
{
  double s[REALS] = { row->loss, row->objective, row->residual_z, row->residual_a, row->train_acc, row->val_acc,
                      row->test_acc, row->t_epoch, row->t_eval, row->t_wall, row->multiplier };
  for (int i = 0; i < REALS; i++) append_row(r, r->scalar[i], H5T_NATIVE_DOUBLE, &s[i], 0, 0);
  append_row(r, r->scalar[REALS], H5T_NATIVE_LONG, &row->epoch, 0, 0);
  append_row(r, r->scalar[REALS + 1], H5T_NATIVE_LONG, &row->warmup, 0, 0);
  append_row(r, r->phase[0], H5T_NATIVE_DOUBLE, row->phase_min, NN_NPHASES, 0);
  append_row(r, r->phase[1], H5T_NATIVE_DOUBLE, row->phase_avg, NN_NPHASES, 0);
  append_row(r, r->phase[2], H5T_NATIVE_DOUBLE, row->phase_max, NN_NPHASES, 0);
  append_row(r, r->rss, H5T_NATIVE_DOUBLE, &row->rss_mb, r->nranks, -1);
  r->rows++;
  /* A crash later still leaves every finished epoch readable in the .part file. */
  CHECK_H5(H5Fflush(r->file, H5F_SCOPE_GLOBAL));
}

void nn_results_weights(nn_results *r, int L, const int *n, void *const *W, void *const *b, int float32)
{
  hid_t g = H5Gcreate2(r->file, "weights", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  CHECK(g >= 0, "HDF5: cannot create /weights");
  nn_attr sizes = { .name = "layer_sizes", .type = NN_ATTR_INTS, .nints = L + 1 };
  for (int l = 0; l <= L; l++) sizes.ints[l] = n[l];
  write_attr(g, &sizes);
  hid_t ftype = float32 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE, mtype = float32 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
  size_t esize = float32 ? sizeof(float) : sizeof(double);
  for (int l = 1; l <= L; l++) {
    for (int which = 0; which < (b ? 2 : 1); which++) {
      char name[16];
      snprintf(name, sizeof name, "%c%d", which ? 'b' : 'W', l);
      hsize_t dims[2] = { (hsize_t)n[l], (hsize_t)n[l - 1] };
      hid_t space = H5Screate_simple(which ? 1 : 2, dims, NULL);
      hid_t d = H5Dcreate2(g, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      CHECK(d >= 0, "HDF5: cannot create /weights/%s", name);
      /* Memory is column-major n[l] x n[l-1]; the dataset is row-major (n[l], n[l-1]),
       * so rank 0 writes a transposed copy. */
      const char *src = which ? b[l] : W[l];
      char *buf = NULL;
      if (r->me == 0 && !which) {
        buf = malloc(esize * dims[0] * dims[1]);
        CHECK(buf, "out of memory writing weights");
        for (hsize_t i = 0; i < dims[0]; i++)
          for (hsize_t j = 0; j < dims[1]; j++)
            memcpy(buf + (i * dims[1] + j) * esize, src + (i + j * dims[0]) * esize, esize);
        src = buf;
      }
      if (r->me != 0) H5Sselect_none(space);
      CHECK_H5(H5Dwrite(d, mtype, space, space, r->dxpl, src));
      free(buf);
      H5Dclose(d);
      H5Sclose(space);
    }
  }
  H5Gclose(g);
}

void nn_results_finish(nn_results *r, const nn_attr *final, int nfinal)
{
  for (int i = 0; i < nfinal; i++) write_attr(r->file, &final[i]);
  nn_attr st = { .name = "status", .type = NN_ATTR_STRING, .s = "complete" };
  write_attr(r->file, &st);
  for (int i = 0; i < SCALARS; i++) H5Dclose(r->scalar[i]);
  for (int i = 0; i < 3; i++) H5Dclose(r->phase[i]);
  H5Dclose(r->rss);
  H5Gclose(r->epochs);
  H5Pclose(r->dxpl);
  CHECK_H5(H5Fclose(r->file));
  MPI_Barrier(MPI_COMM_WORLD);
  if (r->me == 0) CHECK(rename(r->part, r->path) == 0, "cannot rename %s to %s", r->part, r->path);
  nn_on_failure_remove(NULL);
  MPI_Barrier(MPI_COMM_WORLD);
  free(r);
}
