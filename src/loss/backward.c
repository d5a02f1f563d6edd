/* The backward sweep: dL/dA assembled from the terms' parts (loss.h), taken
 * through the activation and summed into the bias gradient, row by row so
 * that n x K data is read and written once; split by columns between
 * threads, which keeps every column sum in row order. */
#include "fastmath.h"
#include "loss/loss.h"

/* dL/dA for row i, columns [j0, j1), into t. */
DFSAE_MULTIVERSION
static void assemble_row(const dfsae_loss_ctx *ctx, const dfsae_dA_parts *parts,
                         size_t i, size_t j0, size_t j1, float *t)
{
    const size_t k = ctx->k, len = j1 - j0;
    const float *a = ctx->A + i * k + j0;
    if (ctx->stats.mean != NULL) {
        /* In double: activations reach the thousands while their spread
         * may be small. */
        const double *mean = ctx->stats.mean + j0;
        const double *centred = parts->centred + j0;
        const double *constant = parts->constant + j0;
        for (size_t j = 0; j < len; ++j)
            t[j] = (float)(centred[j] * ((double)a[j] - mean[j]) + constant[j]);
    } else {
        for (size_t j = 0; j < len; ++j)
            t[j] = 0.0f;
    }
    if (parts->P != NULL) {
        const float *p = parts->P + i * k + j0, *scale = parts->p_scale + j0;
        for (size_t j = 0; j < len; ++j)
            t[j] += scale[j] * p[j];
    }
    if (parts->r_scale != 0.0) {
        const float amin = ctx->lse.min[i];
        const float f = (float)(parts->r_scale / ctx->lse.sum[i]);
        for (size_t j = 0; j < len; ++j)
            t[j] += f * dfsae__exp_nonpos(amin - a[j]);
    }
}

DFSAE_MULTIVERSION
static void add_to_sums(const float *g, size_t k, double *acc)
{
    for (size_t j = 0; j < k; ++j)
        acc[j] += (double)g[j];
}

typedef struct backward_job {
    const dfsae_loss_ctx *ctx;
    const dfsae_dA_parts *parts;
    const dfsae_activation_ops *act;
    double param;
    float *dZ;
    double *acc;
} backward_job;

static void backward_cols(void *arg, int part, size_t lo, size_t hi)
{
    (void)part;
    const backward_job *b = arg;
    const size_t n = b->ctx->n, k = b->ctx->k;
    for (size_t j = lo; j < hi; ++j)
        b->acc[j] = 0.0;
    if (lo == hi)
        return;
    for (size_t i = 0; i < n; ++i) {
        float *t = b->dZ + i * k + lo;
        assemble_row(b->ctx, b->parts, i, lo, hi, t);
        /* the row segment is still in L1 */
        b->act->backprop(b->ctx->A + i * k + lo, t, hi - lo, b->param);
        add_to_sums(t, hi - lo, b->acc + lo);
    }
}

void dfsae__backward_sweep(const dfsae_loss_ctx *ctx,
                           const dfsae_dA_parts *parts,
                           const dfsae_activation_ops *act, double param,
                           float *dZ, float *db, double *acc)
{
    backward_job job = {ctx, parts, act, param, dZ, acc};
    dfsae__parallel_for(ctx->pool, ctx->k, 16, backward_cols, &job);
    for (size_t j = 0; j < ctx->k; ++j)
        db[j] = (float)acc[j];
}
