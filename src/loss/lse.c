/* L_lse = -sum_i log sum_j exp(-A_ij); dL/dA = softmax(-A) row-wise. */
#include <math.h>

#include "dist/dist.h"
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

/* The row statistics in the term's scratch: R_ij = exp(min_i - A_ij) /
 * sum_i rebuilds softmax(-A) row by row, and their total is
 * sum_i log sum_j exp(-A_ij). */
typedef struct lse_rows {
    float *min;    /* n row minima */
    double *sum;   /* n sums of exp(min_i - A_ij) */
    double *total; /* 1 */
} lse_rows;

static lse_rows rows_of(const dfsae_loss_ctx *ctx)
{
    float *f = ctx->scratch_f32;
    double *g = ctx->scratch_f64;
    lse_rows r;
    r.min = dfsae__scratch_take_f32(&f, ctx->n);
    r.sum = dfsae__scratch_take_f64(&g, ctx->n);
    r.total = dfsae__scratch_take_f64(&g, 1);
    return r;
}

static int lse_scratch(size_t n, size_t k, size_t d, int side,
                       dfsae_scratch_size *size)
{
    (void)k;
    (void)d;
    (void)side;
    size->f32 = size->f64 = 0;
    return dfsae__scratch_add(&size->f32, n, sizeof(float)) &&
           dfsae__scratch_add(&size->f64, n, sizeof(double)) &&
           dfsae__scratch_add(&size->f64, 1, sizeof(double));
}

/* A dictionary shard holds some of each row's components: it takes only
 * the minima here, the sums once the minima are global (lse_rows_done). */
static void lse_rows_block(const dfsae_loss_ctx *ctx, size_t first,
                           size_t count)
{
    const size_t k = ctx->k;
    lse_rows r = rows_of(ctx);
    const int sharded = dfsae__dist_is(ctx->dist, DFSAE_DIST_DICTIONARY);
    for (size_t i = first; i < first + count; ++i) {
        const float *a = ctx->A + i * k;
        r.min[i] = row_min(a, k);
        if (!sharded)
            r.sum[i] = sum_exp_row(a, k, r.min[i]);
    }
}

typedef struct sums_job {
    const dfsae_loss_ctx *ctx;
    lse_rows r;
} sums_job;

static void shard_sums(void *arg, int part, size_t lo, size_t hi)
{
    (void)part;
    const sums_job *j = arg;
    const size_t k = j->ctx->k;
    for (size_t i = lo; i < hi; ++i)
        j->r.sum[i] = sum_exp_row(j->ctx->A + i * k, k, j->r.min[i]);
}

static void lse_rows_done(const dfsae_loss_ctx *ctx)
{
    lse_rows r = rows_of(ctx);
    const size_t n = ctx->n;
    if (dfsae__dist_is(ctx->dist, DFSAE_DIST_DICTIONARY)) {
        /* Every shard's exponentials are taken from the row's global
         * minimum, so they are the one-process ones and only their sum is
         * regrouped. */
        dfsae__dist_min_f32(ctx->dist, r.min, n);
        sums_job job = {ctx, r};
        dfsae__parallel_for(ctx->pool, n, 1, shard_sums, &job);
        dfsae__dist_sum_f64(ctx->dist, r.sum, n);
    }
    double total = 0.0; /* in row order, once all rows are in */
    for (size_t i = 0; i < n; ++i)
        total += log(r.sum[i]) - (double)r.min[i];
    /* a shard's rows are every rank's: summed only when split */
    *r.total = dfsae__dist_total(ctx->dist, DFSAE_DIST_DATA, total);
}

/* The gradient, R scaled, is rebuilt from the row statistics in the
 * backward sweep. */
static double lse_eval(const dfsae_loss_ctx *ctx, double weight,
                       dfsae_dA_parts *dA, float *dW)
{
    (void)dW;
    lse_rows r = rows_of(ctx);
    double scale = ctx->opt->lse_reduction == DFSAE_REDUCE_MEAN
                       ? 1.0 / (double)ctx->n_batch
                       : 1.0;
    if (dA != NULL) {
        dA->r_scale += weight * scale;
        dA->r_min = r.min;
        dA->r_sum = r.sum;
    }
    return -*r.total * scale;
}

const dfsae_loss_ops dfsae__loss_lse = {.name = "lse",
                                        .scratch_size = lse_scratch,
                                        .rows = lse_rows_block,
                                        .rows_done = lse_rows_done,
                                        .eval = lse_eval};
