/* The backward sweep: dL/dA assembled from the terms' parts (loss.h), taken
 * through the activation and summed into the bias gradient, row by row so
 * that n x K data is read and written once; split by columns between
 * threads, which keeps every column sum in row order. */
#include "fastmath.h"
#include "loss/loss.h"

/* The parts (loss.h) as the sweep reads them: per-column vectors in float
 * (NULL when absent) and the row statistics of R. The centring goes through
 * the split mean, as accurate as the double it replaces. */
typedef struct row_parts {
    const float *mean_hi, *mean_lo, *centred, *constant; /* k each */
    const float *p_scale;
    int with_p; /* P is present, in the output rows (in place) */
    double r_scale;
    const float *rmin;
    const double *rsum;
} row_parts;

/* dL/dA for row i, columns [j0, j1), into the same columns of dA_row, in
 * one loop: the flags are constants where this is inlined, so each
 * combination of parts gets its own loop with nothing to skip. */
static inline void assemble(const row_parts *rp, const float *A, size_t k,
                            size_t i, size_t j0, size_t j1, float *dA_row,
                            int with_stats, int with_p, int with_r)
{
    const float *a = A + i * k;
    const float *hi = rp->mean_hi, *lo = rp->mean_lo;
    const float *centred = rp->centred, *constant = rp->constant;
    const float *scale = rp->p_scale;
    const float amin = with_r ? rp->rmin[i] : 0.0f;
    const float f = with_r ? (float)(rp->r_scale / rp->rsum[i]) : 0.0f;
#pragma omp simd
    for (size_t j = j0; j < j1; ++j) {
        float v = 0.0f;
        if (with_stats)
            v = centred[j] * dfsae__centre(a[j], hi[j], lo[j]) + constant[j];
        if (with_p) /* P_ij, about to be overwritten */
            v += scale[j] * dA_row[j];
        if (with_r)
            v += f * dfsae__exp_nonpos(amin - a[j]);
        dA_row[j] = v;
    }
}

DFSAE_MULTIVERSION
static void assemble_row(const row_parts *rp, const float *A, size_t k,
                         size_t i, size_t j0, size_t j1, float *dA_row)
{
    const int s = rp->centred != NULL, p = rp->with_p;
    const int r = rp->r_scale != 0.0;
    switch (s * 4 + p * 2 + r) {
    case 7: assemble(rp, A, k, i, j0, j1, dA_row, 1, 1, 1); break;
    case 6: assemble(rp, A, k, i, j0, j1, dA_row, 1, 1, 0); break;
    case 5: assemble(rp, A, k, i, j0, j1, dA_row, 1, 0, 1); break;
    case 4: assemble(rp, A, k, i, j0, j1, dA_row, 1, 0, 0); break;
    case 3: assemble(rp, A, k, i, j0, j1, dA_row, 0, 1, 1); break;
    case 2: assemble(rp, A, k, i, j0, j1, dA_row, 0, 1, 0); break;
    case 1: assemble(rp, A, k, i, j0, j1, dA_row, 0, 0, 1); break;
    default: assemble(rp, A, k, i, j0, j1, dA_row, 0, 0, 0); break;
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
    row_parts rp;
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
        if (b->act->backprop != NULL) { /* else backward_rows did it */
            assemble_row(&b->rp, b->ctx->A, k, i, lo, hi, b->dZ + i * k);
            /* the row segment is still in L1 */
            b->act->backprop(b->ctx->A + i * k + lo, t, hi - lo, b->param);
        }
        add_to_sums(t, hi - lo, b->acc + lo);
    }
}

/* A row-wise activation needs whole rows of dL/dA: the rows are split
 * between threads, then backward_cols takes the bias sums over all rows,
 * in the same row order. */
static void backward_rows(void *arg, int part, size_t lo, size_t hi)
{
    (void)part;
    const backward_job *b = arg;
    const size_t k = b->ctx->k;
    for (size_t i = lo; i < hi; ++i) {
        assemble_row(&b->rp, b->ctx->A, k, i, 0, k, b->dZ + i * k);
        b->act->backprop_row(b->ctx->A + i * k, b->dZ + i * k, k, b->param);
    }
}

float *dfsae__backward_sweep(const dfsae_loss_ctx *ctx,
                             const dfsae_dA_parts *parts,
                             const dfsae_activation_ops *act, double param,
                             float *spare, float *db, double *acc)
{
    const size_t k = ctx->k;
    row_parts rp = {NULL,           NULL,           NULL,
                    NULL,           parts->p_scale, parts->P != NULL,
                    parts->r_scale, parts->r_min,   parts->r_sum};
    if (ctx->stats.mean_hi != NULL) {
        float *centred = parts->centred_f32;
        float *constant = parts->constant_f32;
        for (size_t j = 0; j < k; ++j) {
            centred[j] = (float)parts->centred[j];
            constant[j] = (float)parts->constant[j];
        }
        rp.mean_hi = ctx->stats.mean_hi;
        rp.mean_lo = ctx->stats.mean_lo;
        rp.centred = centred;
        rp.constant = constant;
    }
    float *dZ = parts->P != NULL ? parts->P : spare;
    backward_job job = {ctx, rp, act, param, dZ, acc};
    if (act->backprop_row != NULL)
        dfsae__parallel_for(ctx->pool, ctx->n, 1, backward_rows, &job);
    dfsae__parallel_for(ctx->pool, k, 16, backward_cols, &job);
    for (size_t j = 0; j < k; ++j)
        db[j] = (float)acc[j];
    return dZ;
}
