/* Column means and unbiased variances, accumulated in double a block of
 * rows at a time. Each column is shifted by a value near it (the loss
 * terms: the batch's first row; evaluate: the first batch's mean): sums of
 * (a - shift) keep the variance of activations in the thousands accurate,
 * and a constant column (a dead unit) gives exactly zero sums, hence
 * variance exactly 0. */
#include "fastmath.h"
#include "loss/loss.h"

void dfsae__colstats_begin(size_t k, double *col)
{
    double *sum = col, *sq = col + k;
    for (size_t j = 0; j < k; ++j)
        sum[j] = sq[j] = 0.0;
}

DFSAE_MULTIVERSION
static void add_rows(const float *rows, size_t count, size_t k, size_t j0,
                     size_t j1, const float *shift, double *sum, double *sq)
{
    for (size_t i = 0; i < count; ++i) {
        const float *a = rows + i * k;
        for (size_t j = j0; j < j1; ++j) {
            double c = (double)a[j] - (double)shift[j];
            sum[j] += c;
            sq[j] += c * c;
        }
    }
}

/* The kernel is static so its clones stay local (DFSAE_MULTIVERSION). */
void dfsae__colstats_add(const float *rows, size_t count, size_t k, size_t j0,
                         size_t j1, const float *shift, double *col)
{
    add_rows(rows, count, k, j0, j1, shift, col, col + k);
}

void dfsae__colstats_finish(const float *shift, size_t n, size_t k, double *col,
                            float *mean_hi, float *mean_lo)
{
    double *mean = col, *var = col + k;
    for (size_t j = 0; j < k; ++j) {
        if (var[j] == 0.0) { /* every row equals the shift: constant */
            mean[j] = shift[j];
            continue;
        }
        double sum = mean[j];
        mean[j] = (double)shift[j] + sum * (1.0 / (double)n);
        var[j] = dfsae__shifted_var(sum, var[j], n);
    }
    for (size_t j = 0; j < k; ++j)
        dfsae__split_double(mean[j], &mean_hi[j], &mean_lo[j]);
}

int dfsae__resolve_gram_side(int side, size_t n, size_t k)
{
    if (side != DFSAE_GRAM_AUTO)
        return side;
    return k <= n ? DFSAE_GRAM_FEATURE : DFSAE_GRAM_SAMPLE;
}
