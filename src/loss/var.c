/* L_var = -sum_j log(s(v_j) + eps), v_j the unbiased column variance and
 * s(v) = v, or with a cap c > 0 the saturating s(v) = c v / (v + c)
 * (docs/math.md, section 6). */
#include <math.h>

#include "dist/dist.h"
#include "loss/loss.h"

static double var_eval(const dfsae_loss_ctx *ctx, double weight,
                       dfsae_dA_parts *dA, float *dW)
{
    (void)dW;
    const size_t n = ctx->n_batch, k = ctx->k;
    const double eps = ctx->opt->eps_var, cap = ctx->opt->var_cap;
    double value = 0.0;
    for (size_t j = 0; j < k; ++j) {
        double v = ctx->stats.var[j];
        value -= log((cap > 0.0 ? cap * v / (v + cap) : v) + eps);
    }
    /* A dictionary shard holds its own columns: the value is their sum. */
    value = dfsae__dist_total(ctx->dist, DFSAE_DIST_DICTIONARY, value);
    if (dA == NULL)
        return value;
    /* dL/dA_ij = -2 s'(v_j) (A_ij - mean_j) / ((n-1)(s(v_j) + eps)), with
     * s'(v) = c^2 / (v + c)^2 under a cap; the centring makes the mean's
     * own dependence vanish. */
    for (size_t j = 0; j < k; ++j) {
        double v = ctx->stats.var[j], slope = 1.0, s = v;
        if (cap > 0.0) {
            slope = cap / (v + cap) * (cap / (v + cap));
            s = cap * v / (v + cap);
        }
        dA->centred[j] += -2.0 * weight * slope / ((double)(n - 1) * (s + eps));
    }
    return value;
}

const dfsae_loss_ops dfsae__loss_var = {
    .name = "var", .needs_stats = 1, .eval = var_eval};
