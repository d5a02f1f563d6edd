/* L_lse = -sum_i log sum_j exp(-A_ij); dL/dA = softmax(-A) row-wise. */
#include <math.h>

#include "loss/loss.h"

double dfsae__lse_rows(const float *A, size_t n, size_t k, float *R,
                       float scale, int accumulate)
{
    double total = 0.0;
    for (size_t i = 0; i < n; ++i) {
        const float *a = A + i * k;
        float amin = a[0];
        for (size_t j = 1; j < k; ++j)
            amin = a[j] < amin ? a[j] : amin;
        /* Shifting by the row minimum keeps every exponent <= 0. */
        double s = 0.0;
        for (size_t j = 0; j < k; ++j)
            s += exp(-(double)(a[j] - amin));
        total += log(s) - (double)amin;
        if (R != NULL) {
            float *r = R + i * k;
            double inv = (double)scale / s;
            for (size_t j = 0; j < k; ++j) {
                float v = (float)(exp(-(double)(a[j] - amin)) * inv);
                r[j] = accumulate ? r[j] + v : v;
            }
        }
    }
    return total;
}

static double lse_eval(const dfsae_loss_ctx *ctx, double weight, float *dA,
                       float *dW)
{
    (void)dW;
    double scale = ctx->opt->lse_reduction == DFSAE_REDUCE_MEAN
                       ? 1.0 / (double)ctx->n
                       : 1.0;
    double lse = dfsae__lse_rows(ctx->A, ctx->n, ctx->k, dA,
                                 (float)(weight * scale), 1);
    return -lse * scale;
}

const dfsae_loss_ops dfsae__loss_lse = {"lse", 0, 0, lse_eval};
