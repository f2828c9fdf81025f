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

/* Eigenvalues (ascending, on every process) and eigenvectors of a symmetric matrix by divide
 * and conquer; jobz must be "V". lwork = -1 and liwork = -1 query the workspace. */
void pdsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *ia, const int *ja,
              const int *desca, double *w, double *z, const int *iz, const int *jz, const int *descz,
              double *work, const int *lwork, int *iwork, const int *liwork, int *info, size_t jobz_len,
              size_t uplo_len);
void pssyevd_(const char *jobz, const char *uplo, const int *n, float *a, const int *ia, const int *ja,
              const int *desca, float *w, float *z, const int *iz, const int *jz, const int *descz,
              float *work, const int *lwork, int *iwork, const int *liwork, int *info, size_t jobz_len,
              size_t uplo_len);

/* PBLAS (written in C: no hidden string lengths). C = alpha op(A) op(B) + beta C. */
void pdgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k,
             const double *alpha, const double *a, const int *ia, const int *ja, const int *desca,
             const double *b, const int *ib, const int *jb, const int *descb, const double *beta, double *c,
             const int *ic, const int *jc, const int *descc);
void psgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k,
             const float *alpha, const float *a, const int *ia, const int *ja, const int *desca,
             const float *b, const int *ib, const int *jb, const int *descb, const float *beta, float *c,
             const int *ic, const int *jc, const int *descc);

#endif
