/* Prototypes for the BLACS, PBLAS and ScaLAPACK routines we call (no C header ships with
 * Debian's ScaLAPACK). Fortran routines: arguments by pointer, 32-bit int, and a hidden
 * size_t length for every CHARACTER argument, passed last. */
#ifndef NN_SCALAPACK_H
#define NN_SCALAPACK_H

#include <stddef.h>

void Cblacs_pinfo(int *mypnum, int *nprocs);
void Cblacs_get(int icontxt, int what, int *val);
void Cblacs_gridinit(int *icontxt, const char *order, int nprow, int npcol);
void Cblacs_gridinfo(int icontxt, int *nprow, int *npcol, int *myrow, int *mycol);
void Cblacs_gridexit(int icontxt);
void Cblacs_exit(int notdone);

int numroc_(const int *n, const int *nb, const int *iproc, const int *isrcproc, const int *nprocs);
void descinit_(int *desc, const int *m, const int *n, const int *mb, const int *nb,
               const int *irsrc, const int *icsrc, const int *ictxt, const int *lld, int *info);

void pdpotrf_(const char *uplo, const int *n, double *a, const int *ia, const int *ja,
              const int *desca, int *info, size_t uplo_len);
void pspotrf_(const char *uplo, const int *n, float *a, const int *ia, const int *ja,
              const int *desca, int *info, size_t uplo_len);
void pdpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a, const int *ia,
              const int *ja, const int *desca, double *b, const int *ib, const int *jb,
              const int *descb, int *info, size_t uplo_len);
void pspotrs_(const char *uplo, const int *n, const int *nrhs, const float *a, const int *ia,
              const int *ja, const int *desca, float *b, const int *ib, const int *jb,
              const int *descb, int *info, size_t uplo_len);
void pdpotri_(const char *uplo, const int *n, double *a, const int *ia, const int *ja,
              const int *desca, int *info, size_t uplo_len);
void pspotri_(const char *uplo, const int *n, float *a, const int *ia, const int *ja,
              const int *desca, int *info, size_t uplo_len);

#endif
