/* The linear layer Z = X W^T + b and its backward pass. */
#include "fastmath.h"
#include "blas/dfsae_blas.h"
#include "layers/layers.h"

void dfsae__linear_forward(const float *X, size_t n, size_t d, const float *W,
                           size_t k, float *Z)
{
    dfsae__sgemm(DFSAE_NO_TRANS, DFSAE_TRANS, (int)n, (int)k, (int)d, 1.0f, X,
                 (int)d, W, (int)d, 0.0f, Z, (int)k);
}

void dfsae__linear_forward_cols(const float *X, size_t n, size_t cols,
                                const float *W, size_t ldw, size_t k,
                                float beta, float *Z)
{
    dfsae__sgemm(DFSAE_NO_TRANS, DFSAE_TRANS, (int)n, (int)k, (int)cols, 1.0f,
                 X, (int)cols, W, (int)ldw, beta, Z, (int)k);
}

void dfsae__linear_backward(const float *X, size_t n, size_t d, const float *dZ,
                            size_t k, float *dW)
{
    dfsae__sgemm(DFSAE_TRANS, DFSAE_NO_TRANS, (int)k, (int)d, (int)n, 1.0f, dZ,
                 (int)k, X, (int)d, 0.0f, dW, (int)d);
}

DFSAE_MULTIVERSION
static void add_bias(float *z, const float *b, size_t n, size_t k)
{
    for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < k; ++j)
            z[i * k + j] += b[j];
}

/* The kernel is static so its clones stay local (DFSAE_MULTIVERSION). */
void dfsae__add_bias(float *z, const float *b, size_t n, size_t k)
{
    add_bias(z, b, n, k);
}
