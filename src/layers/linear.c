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

void dfsae__linear_backward(const float *X, size_t n, size_t d,
                            const float *dZ, size_t k, float *dW)
{
    dfsae__sgemm(DFSAE_TRANS, DFSAE_NO_TRANS, (int)k, (int)d, (int)n, 1.0f,
                 dZ, (int)k, X, (int)d, 0.0f, dW, (int)d);
}

void dfsae__activation_backward(const dfsae_activation_ops *act,
                                const float *A, float *dA, size_t n,
                                size_t k, double param, float *db,
                                double *acc)
{
    for (size_t j = 0; j < k; ++j)
        acc[j] = 0.0;
    for (size_t i = 0; i < n; ++i) {
        float *g = dA + i * k;
        act->backprop(A + i * k, g, k, param); /* the row stays in cache */
#pragma omp simd
        for (size_t j = 0; j < k; ++j)
            acc[j] += (double)g[j];
    }
    for (size_t j = 0; j < k; ++j)
        db[j] = (float)acc[j];
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
