/* Rewrites one numeric attribute of an HDF5 file in place, keeping its type, or deletes one, so
 * the tests can forge results files with out-of-range values, or as an older admm-train wrote
 * them (no h5py on these machines):
 *   h5setattr FILE NAME VALUE     VALUE as strtod reads it ("nan", "-1", "1.5"); integers truncate
 *   h5setattr FILE NAME delete    removes the attribute (of any type)
 * NAME is a root attribute ("final_test_acc") or GROUP/NAME ("config/dladmm_step").
 * Serial HDF5 (default driver); exits 1 with a message on any failure. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
  if (argc != 4) {
    fprintf(stderr, "usage: h5setattr FILE NAME VALUE|delete\n");
    return 2;
  }
  int delete = strcmp(argv[3], "delete") == 0;
  char *end;
  double v = delete ? 0 : strtod(argv[3], &end);
  if (!delete && *end) {
    fprintf(stderr, "h5setattr: '%s' is not a number\n", argv[3]);
    return 2;
  }
  /* the object: the root, or the group before NAME's last '/' */
  char object[1024] = "/";
  const char *name = argv[2], *slash = strrchr(argv[2], '/');
  if (slash) {
    snprintf(object, sizeof object, "/%.*s", (int)(slash - argv[2]), argv[2]);
    name = slash + 1;
  }
  hid_t f = H5Fopen(argv[1], H5F_ACC_RDWR, H5P_DEFAULT);
  int rc = 1;
  if (delete) {
    rc = f < 0 || H5Adelete_by_name(f, object, name, H5P_DEFAULT) < 0;
    if (f >= 0 && H5Fclose(f) < 0) rc = 1;
    if (rc) fprintf(stderr, "h5setattr: cannot delete attribute %s of %s\n", argv[2], argv[1]);
    return rc;
  }
  hid_t a = f >= 0 ? H5Aopen_by_name(f, object, name, H5P_DEFAULT, H5P_DEFAULT) : -1;
  hid_t t = a >= 0 ? H5Aget_type(a) : -1;
  if (t >= 0 && H5Tget_class(t) == H5T_INTEGER) {
    long long i = (long long)v;
    rc = H5Awrite(a, H5T_NATIVE_LLONG, &i) < 0;
  } else if (t >= 0 && H5Tget_class(t) == H5T_FLOAT) {
    rc = H5Awrite(a, H5T_NATIVE_DOUBLE, &v) < 0;
  }
  if (t >= 0) H5Tclose(t);
  if (a >= 0) H5Aclose(a);
  if (f >= 0 && H5Fclose(f) < 0) rc = 1;
  if (rc) fprintf(stderr, "h5setattr: cannot set numeric attribute %s of %s\n", argv[2], argv[1]);
  return rc;
}
