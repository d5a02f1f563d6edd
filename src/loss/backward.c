/* The backward sweep: dL/dA assembled from the terms' parts (loss.h), taken
 * through the activation and summed into the bias gradient, a block of rows
 * at a time so that n x K data is read and written once. */
#include "fastmath.h"
#include "loss/loss.h"

/* dL/dA for rows [i0, i1) into dZ. */
DFSAE_MULTIVERSION
static void assemble(const dfsae_loss_ctx *ctx, const dfsae_dA_parts *parts,
                     size_t i0, size_t i1, float *dZ)
{
    const size_t k = ctx->k;
    const double *mean = ctx->stats.mean;
    const double *centred = parts->centred, *constant = parts->constant;
    const float *scale = parts->p_scale;
    for (size_t i = i0; i < i1; ++i) {
        const float *a = ctx->A + i * k;
        float *t = dZ + i * k;
        if (mean != NULL) {
            /* In double: activations reach the thousands while their
             * spread may be small. */
            for (size_t j = 0; j < k; ++j)
                t[j] = (float)(centred[j] * ((double)a[j] - mean[j]) +
                               constant[j]);
        } else {
            for (size_t j = 0; j < k; ++j)
                t[j] = 0.0f;
        }
        if (parts->P != NULL) {
            const float *p = parts->P + i * k;
            for (size_t j = 0; j < k; ++j)
                t[j] += scale[j] * p[j];
        }
        if (parts->r_scale != 0.0) {
            const float amin = ctx->lse.min[i];
            const float f = (float)(parts->r_scale / ctx->lse.sum[i]);
            for (size_t j = 0; j < k; ++j)
                t[j] += f * dfsae__exp_nonpos(amin - a[j]);
        }
    }
}

DFSAE_MULTIVERSION
static void add_to_sums(const float *g, size_t k, double *acc)
{
    for (size_t j = 0; j < k; ++j)
        acc[j] += (double)g[j];
}

void dfsae__backward_sweep(const dfsae_loss_ctx *ctx,
                           const dfsae_dA_parts *parts,
                           const dfsae_activation_ops *act, double param,
                           float *dZ, float *db, double *acc)
{
    const size_t n = ctx->n, k = ctx->k, block = dfsae__block_rows(k);
    for (size_t j = 0; j < k; ++j)
        acc[j] = 0.0;
    for (size_t i0 = 0; i0 < n; i0 += block) {
        size_t i1 = i0 + block < n ? i0 + block : n;
        assemble(ctx, parts, i0, i1, dZ);
        for (size_t i = i0; i < i1; ++i) { /* the block is still in cache */
            act->backprop(ctx->A + i * k, dZ + i * k, k, param);
            add_to_sums(dZ + i * k, k, acc);
        }
    }
    for (size_t j = 0; j < k; ++j)
        db[j] = (float)acc[j];
}
