/* Column means and unbiased variances, two-pass in double so activations
 * in the thousands keep their small variances accurate. */
#include "loss/loss.h"

void dfsae__colstats(const float *A, size_t n, size_t k, double *col)
{
    double *mean = col, *var = col + k;
    for (size_t j = 0; j < k; ++j)
        mean[j] = var[j] = 0.0;
    for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < k; ++j)
            mean[j] += A[i * k + j];
    for (size_t j = 0; j < k; ++j)
        mean[j] /= (double)n;
    for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < k; ++j) {
            double c = A[i * k + j] - mean[j];
            var[j] += c * c;
        }
    for (size_t j = 0; j < k; ++j) {
        /* A constant column has variance exactly 0 (a dead unit); the
         * rounding of its mean must not make it look alive. */
        float first = A[j];
        int constant = 1;
        for (size_t i = 1; i < n && constant; ++i)
            constant = A[i * k + j] == first;
        if (constant) {
            mean[j] = first;
            var[j] = 0.0;
        } else {
            var[j] /= (double)(n - 1);
        }
    }
}

int dfsae__resolve_gram_side(int side, size_t n, size_t k)
{
    if (side != DFSAE_GRAM_AUTO)
        return side;
    return k <= n ? DFSAE_GRAM_FEATURE : DFSAE_GRAM_SAMPLE;
}
