/* L_var = -sum_j log(v_j + eps), v_j the unbiased column variance. */
#include <math.h>

#include "fastmath.h"
#include "loss/loss.h"

DFSAE_MULTIVERSION
static double var_eval(const dfsae_loss_ctx *ctx, double weight, float *dA,
                       float *dW)
{
    (void)dW;
    const size_t n = ctx->n, k = ctx->k;
    const double eps = ctx->opt->eps_var;
    double value = 0.0;
    for (size_t j = 0; j < k; ++j)
        value -= log(ctx->stats.var[j] + eps);
    if (dA == NULL)
        return value;
    /* dL/dA_ij = -2 (A_ij - mean_j) / ((n-1)(v_j + eps)); the centring
     * makes the mean's own dependence vanish. */
    double *coef = ctx->ws->col + (DFSAE_WS_COLS - 1) * k;
    const double *mean = ctx->stats.mean;
    for (size_t j = 0; j < k; ++j)
        coef[j] = -2.0 * weight / ((double)(n - 1) * (ctx->stats.var[j] + eps));
    for (size_t i = 0; i < n; ++i) {
        const float *a = ctx->A + i * k;
        float *g = dA + i * k;
#pragma omp simd
        for (size_t j = 0; j < k; ++j)
            g[j] += (float)(coef[j] * ((double)a[j] - mean[j]));
    }
    return value;
}

const dfsae_loss_ops dfsae__loss_var = {"var", 1, 0, var_eval};
