/* h5strip IN OUT: copies a results file without /weights (root attributes, /config, /epochs). */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
static hid_t out;
static herr_t copy_attr(hid_t loc, const char *name, const H5A_info_t *info, void *op)
{
  (void)info; (void)op;
  hid_t a = H5Aopen(loc, name, H5P_DEFAULT), ft = H5Aget_type(a), sp = H5Aget_space(a);
  hid_t mt = H5Tget_native_type(ft, H5T_DIR_DEFAULT);
  size_t n = (size_t)H5Sget_simple_extent_npoints(sp) * H5Tget_size(mt);
  void *buf = calloc(1, n + 16);
  H5Aread(a, mt, buf);
  hid_t b = H5Acreate2(out, name, ft, sp, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(b, mt, buf);
  H5Aclose(b); H5Aclose(a); H5Tclose(mt); H5Tclose(ft); H5Sclose(sp);
  return 0;
}
int main(int argc, char **argv)
{
  if (argc != 3) return 2;
  hid_t in = H5Fopen(argv[1], H5F_ACC_RDONLY, H5P_DEFAULT);
  if (in < 0) return 1;
  out = H5Fcreate(argv[2], H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  H5Aiterate2(in, H5_INDEX_NAME, H5_ITER_INC, NULL, copy_attr, NULL);
  if (H5Ocopy(in, "config", out, "config", H5P_DEFAULT, H5P_DEFAULT) < 0) return 1;
  if (H5Ocopy(in, "epochs", out, "epochs", H5P_DEFAULT, H5P_DEFAULT) < 0) return 1;
  H5Fclose(out); H5Fclose(in);
  return 0;
}
