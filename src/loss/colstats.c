/* Column means and unbiased variances in one sweep, in double. Each column
 * is shifted by its first row: sums of (a - a_0) keep the variance of
 * activations in the thousands accurate, and a constant column (a dead
 * unit) gives exactly zero sums, hence variance exactly 0. */
#include "fastmath.h"
#include "loss/loss.h"

DFSAE_MULTIVERSION
static void colstats(const float *A, size_t n, size_t k, double *col)
{
    double *mean = col, *var = col + k;
    const float *first = A;
    for (size_t j = 0; j < k; ++j)
        mean[j] = var[j] = 0.0;
    for (size_t i = 1; i < n; ++i) {
        const float *a = A + i * k;
        for (size_t j = 0; j < k; ++j) {
            double c = (double)a[j] - (double)first[j];
            mean[j] += c;
            var[j] += c * c;
        }
    }
    const double inv_n = 1.0 / (double)n;
    for (size_t j = 0; j < k; ++j) {
        if (var[j] == 0.0) { /* every row equals the first: constant */
            mean[j] = first[j];
            continue;
        }
        double shift_mean = mean[j] * inv_n;
        double ss = var[j] - mean[j] * shift_mean;
        mean[j] = (double)first[j] + shift_mean;
        /* Clamp rounding below 0, but let a NaN (an overflowed unit)
         * through to the finiteness check. */
        var[j] = ss < 0.0 ? 0.0 : ss / (double)(n - 1);
    }
}

/* The kernel is static so its clones stay local (DFSAE_MULTIVERSION). */
void dfsae__colstats(const float *A, size_t n, size_t k, double *col)
{
    colstats(A, n, k, col);
}

int dfsae__resolve_gram_side(int side, size_t n, size_t k)
{
    if (side != DFSAE_GRAM_AUTO)
        return side;
    return k <= n ? DFSAE_GRAM_FEATURE : DFSAE_GRAM_SAMPLE;
}
