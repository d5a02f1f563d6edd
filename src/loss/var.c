/* L_var = -sum_j log(v_j + eps), v_j the unbiased column variance. */
#include <math.h>

#include "dist/dist.h"
#include "loss/loss.h"

static double var_eval(const dfsae_loss_ctx *ctx, double weight,
                       dfsae_dA_parts *dA, float *dW)
{
    (void)dW;
    const size_t n = ctx->n_batch, k = ctx->k;
    const double eps = ctx->opt->eps_var;
    double value = 0.0;
    for (size_t j = 0; j < k; ++j)
        value -= log(ctx->stats.var[j] + eps);
    /* A dictionary shard holds its own columns: the value is their sum. */
    value = dfsae__dist_total(ctx->dist, DFSAE_DIST_DICTIONARY, value);
    if (dA == NULL)
        return value;
    /* dL/dA_ij = -2 (A_ij - mean_j) / ((n-1)(v_j + eps)); the centring
     * makes the mean's own dependence vanish. */
    for (size_t j = 0; j < k; ++j)
        dA->centred[j] +=
            -2.0 * weight / ((double)(n - 1) * (ctx->stats.var[j] + eps));
    return value;
}

const dfsae_loss_ops dfsae__loss_var = {"var", 1, 0, var_eval};
