/* The linear layer's products: Z = X W^T (the bias is added by the forward
 * epilogue, the activation table's epilogue in layers.h) and the
 * backward pass. */
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
