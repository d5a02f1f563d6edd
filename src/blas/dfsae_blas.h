/* The BLAS seam: the only routines dfsae needs, row-major, int sizes.
 * The default backend is CBLAS (blas/cblas_backend.c); callers check that
 * every dimension fits in int before calling (dfsae__fits_blas_int). */
#ifndef DFSAE_BLAS_H
#define DFSAE_BLAS_H

#include <stddef.h>

typedef enum { DFSAE_NO_TRANS = 0, DFSAE_TRANS = 1 } dfsae_trans;
typedef enum { DFSAE_LEFT = 0, DFSAE_RIGHT = 1 } dfsae_side;

/* C (m x n) = alpha * op(A) op(B) + beta * C, op(A) m x k. */
void dfsae__sgemm(dfsae_trans ta, dfsae_trans tb, int m, int n, int k,
                  float alpha, const float *A, int lda, const float *B, int ldb,
                  float beta, float *C, int ldc);

/* y (m) = alpha * A x + beta * y, A m x n row-major (lda), unit strides. */
void dfsae__sgemv(int m, int n, float alpha, const float *A, int lda,
                  const float *x, float beta, float *y);

/* Upper triangle of C (n x n) = alpha * op(A) op(A)^T + beta * C, where
 * op(A) is n x k (A itself for NO_TRANS, A^T for TRANS). */
void dfsae__ssyrk(dfsae_trans t, int n, int k, float alpha, const float *A,
                  int lda, float beta, float *C, int ldc);

/* C (m x n) = alpha * S B + beta * C (LEFT, S m x m) or alpha * B S + beta
 * * C (RIGHT, S n x n), with S symmetric and only its upper triangle read. */
void dfsae__ssymm(dfsae_side side, int m, int n, float alpha, const float *S,
                  int lds, const float *B, int ldb, float beta, float *C,
                  int ldc);

/* Name of the backend for reports ("cblas"). */
const char *dfsae__blas_name(void);

#endif
