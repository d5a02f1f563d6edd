/* CBLAS backend of the BLAS seam (OpenBLAS or the reference CBLAS). */
#include <cblas.h>

#include "blas/dfsae_blas.h"

static enum CBLAS_TRANSPOSE to_cblas(dfsae_trans t)
{
    return t == DFSAE_TRANS ? CblasTrans : CblasNoTrans;
}

void dfsae__sgemm(dfsae_trans ta, dfsae_trans tb, int m, int n, int k,
                  float alpha, const float *A, int lda, const float *B, int ldb,
                  float beta, float *C, int ldc)
{
    cblas_sgemm(CblasRowMajor, to_cblas(ta), to_cblas(tb), m, n, k, alpha, A,
                lda, B, ldb, beta, C, ldc);
}

void dfsae__sgemv(int m, int n, float alpha, const float *A, int lda,
                  const float *x, float beta, float *y)
{
    cblas_sgemv(CblasRowMajor, CblasNoTrans, m, n, alpha, A, lda, x, 1, beta, y,
                1);
}

void dfsae__ssyrk(dfsae_trans t, int n, int k, float alpha, const float *A,
                  int lda, float beta, float *C, int ldc)
{
    cblas_ssyrk(CblasRowMajor, CblasUpper, to_cblas(t), n, k, alpha, A, lda,
                beta, C, ldc);
}

void dfsae__ssymm(dfsae_side side, int m, int n, float alpha, const float *S,
                  int lds, const float *B, int ldb, float beta, float *C,
                  int ldc)
{
    cblas_ssymm(CblasRowMajor, side == DFSAE_LEFT ? CblasLeft : CblasRight,
                CblasUpper, m, n, alpha, S, lds, B, ldb, beta, C, ldc);
}

const char *dfsae__blas_name(void)
{
    return "cblas";
}
