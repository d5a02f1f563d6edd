/* L_lse = -sum_i log sum_j exp(-A_ij); dL/dA = softmax(-A) row-wise. */
#include <math.h>

#include "fastmath.h"
#include "loss/loss.h"

/* Minimum of a[0..k): 32 independent lanes, so it vectorises without
 * relying on a min-reduction the compiler may refuse, with two or more
 * vectors of lanes to hide the min's latency. */
DFSAE_MULTIVERSION
static float row_min(const float *a, size_t k)
{
    enum { LANES = 32 };
    float m[LANES];
    for (size_t l = 0; l < LANES; ++l)
        m[l] = a[0];
    size_t j = 0;
    for (; j + LANES <= k; j += LANES)
        for (size_t l = 0; l < LANES; ++l)
            m[l] = a[j + l] < m[l] ? a[j + l] : m[l];
    for (size_t w = LANES / 2; w > 0; w /= 2) /* a tree, as for sums */
        for (size_t l = 0; l < w; ++l)
            m[l] = m[l + w] < m[l] ? m[l + w] : m[l];
    float amin = m[0];
    for (; j < k; ++j)
        amin = a[j] < amin ? a[j] : amin;
    return amin;
}

/* sum_j exp(amin - a_j), amin the row minimum: every exponent is <= 0 and
 * the sum lies in [1, k], so nothing overflows however large the
 * activations grow. The exponentials are not kept (the backward sweep
 * recomputes them): a chunk at a time on the stack, each chunk summed in a
 * second pass while still in L1 (fused into the exp loop the double
 * reduction stops gcc vectorising). */
DFSAE_MULTIVERSION
static double sum_exp_row(const float *a, size_t k, float amin)
{
    enum { CHUNK = 256 };
    float e[CHUNK];
    double s = 0.0;
    for (size_t j0 = 0; j0 < k; j0 += CHUNK) {
        size_t len = k - j0 < CHUNK ? k - j0 : CHUNK;
        for (size_t j = 0; j < len; ++j)
            e[j] = dfsae__exp_nonpos(amin - a[j0 + j]);
        s += dfsae__sum_f64(e, len);
    }
    return s;
}

void dfsae__lse_row_stats(const float *rows, size_t count, size_t k, float *min,
                          double *sum)
{
    for (size_t i = 0; i < count; ++i) {
        const float *a = rows + i * k;
        min[i] = row_min(a, k);
        sum[i] = sum_exp_row(a, k, min[i]);
    }
}

void dfsae__lse_row_mins(const float *rows, size_t count, size_t k, float *min)
{
    for (size_t i = 0; i < count; ++i)
        min[i] = row_min(rows + i * k, k);
}

void dfsae__lse_row_sums(const float *rows, size_t count, size_t k,
                         const float *min, double *sum)
{
    for (size_t i = 0; i < count; ++i)
        sum[i] = sum_exp_row(rows + i * k, k, min[i]);
}

double dfsae__lse_total(const float *min, const double *sum, size_t n)
{
    double total = 0.0;
    for (size_t i = 0; i < n; ++i)
        total += log(sum[i]) - (double)min[i];
    return total;
}

/* From the same row statistics and the same exp as the gradient's R in
 * the backward sweep, so the two agree to the bit. */
DFSAE_MULTIVERSION
static void responsibility_row(const float *a, size_t k, float *r)
{
    const float amin = row_min(a, k);
    const float f = (float)(1.0 / sum_exp_row(a, k, amin));
    for (size_t j = 0; j < k; ++j)
        r[j] = f * dfsae__exp_nonpos(amin - a[j]);
}

void dfsae__responsibilities(const float *A, size_t n, size_t k, float *R)
{
    for (size_t i = 0; i < n; ++i)
        responsibility_row(A + i * k, k, R + i * k);
}

/* The front sweep computed the rows' statistics (dfsae_lse_rows); the
 * gradient, R scaled, is rebuilt from them in the backward sweep. */
static double lse_eval(const dfsae_loss_ctx *ctx, double weight,
                       dfsae_dA_parts *dA, float *dW)
{
    (void)dW;
    double scale = ctx->opt->lse_reduction == DFSAE_REDUCE_MEAN
                       ? 1.0 / (double)ctx->n_batch
                       : 1.0;
    if (dA != NULL)
        dA->r_scale += weight * scale;
    return -ctx->lse.total * scale;
}

const dfsae_loss_ops dfsae__loss_lse = {"lse", 0, 0, lse_eval};
