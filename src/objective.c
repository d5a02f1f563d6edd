/* The objective on a batch: linear layer and activation into the
 * workspace, the enabled loss terms, and the backward pass into a flat
 * gradient. */
#include "dist/dist.h"
#include "layers/layers.h"
#include "loss/loss.h"
#include "model.h"

int dfsae__reserve(dfsae_model *m, size_t n)
{
    const size_t k = m->k, d = m->d;
    int tc_side =
        dfsae__dist_gram_side(m->dist, m->opt.gram_side, DFSAE_TERM_TC, n, k);
    int wr_side =
        dfsae__dist_gram_side(m->dist, m->opt.gram_side, DFSAE_TERM_WR, d, k);
    size_t gram = 0;
    if (m->opt.lambda[DFSAE_TERM_TC] != 0.0) {
        size_t side = tc_side == DFSAE_GRAM_SAMPLE ? n : k;
        if (!dfsae__mul_size(side, side, &gram))
            return DFSAE_ERR_SIZE_OVERFLOW;
    }
    int st = dfsae__ws_reserve_batch(&m->ws, &m->alloc, n, k, gram);
    if (st == DFSAE_OK && m->xf.n != 0)
        st = dfsae__ws_reserve_inputs(&m->ws, &m->alloc, n * d);
    if (st != DFSAE_OK || m->opt.lambda[DFSAE_TERM_WR] == 0.0)
        return st;
    size_t side = wr_side == DFSAE_GRAM_SAMPLE ? d : k, gramw;
    if (!dfsae__mul_size(side, side, &gramw))
        return DFSAE_ERR_SIZE_OVERFLOW;
    return dfsae__ws_reserve_wr(&m->ws, &m->alloc, k, d, gramw);
}

/* The front sweep over Z = X W^T (in A): bias and activation in place,
 * L_lse's row statistics, and the column sums for the statistics. */
typedef struct front_job {
    dfsae_model *m;
    size_t n;
    int lse;            /* L_lse's row statistics, or only the minima (shard) */
    int stats_here;     /* column sums fused into the row pass (one part) */
    const float *shift; /* the column sums' shift (loss.h) */
} front_job;

enum { LSE_OFF, LSE_ROWS, LSE_MINS };

/* Rows [lo, hi), a block at a time so each block is still in cache for
 * the next kernel. */
static void front_rows(void *arg, int part, size_t lo, size_t hi)
{
    (void)part;
    const front_job *f = arg;
    dfsae_model *m = f->m;
    const size_t k = m->k, block = dfsae__block_rows(k);
    const dfsae_activation_ops *act = dfsae__activations[m->opt.activation];
    const float *b = m->params + m->k * m->d;
    dfsae_workspace *ws = &m->ws;
    for (size_t i0 = lo; i0 < hi; i0 += block) {
        size_t rows = i0 + block < hi ? block : hi - i0;
        float *blk = ws->A + i0 * k;
        act->apply(blk, b, rows, k, dfsae__activation_param(&m->opt));
        if (f->lse == LSE_ROWS)
            dfsae__lse_row_stats(blk, rows, k, ws->rmin + i0, ws->rsum + i0);
        else if (f->lse == LSE_MINS)
            dfsae__lse_row_mins(blk, rows, k, ws->rmin + i0);
        if (f->stats_here)
            dfsae__colstats_add(blk, rows, k, 0, k, ws->A, ws->col);
    }
}

/* Columns [lo, hi) of the column sums, over all rows: the same sums in the
 * same order as the fused pass, whatever the split. */
static void front_cols(void *arg, int part, size_t lo, size_t hi)
{
    (void)part;
    const front_job *f = arg;
    dfsae_workspace *ws = &f->m->ws;
    dfsae__colstats_add(ws->A, f->n, f->m->k, lo, hi, f->shift, ws->col);
}

static void front_sweep(dfsae_model *m, size_t n, int lse, int stats,
                        dfsae_loss_ctx *ctx)
{
    const size_t k = m->k;
    dfsae_workspace *ws = &m->ws;
    dfsae_pool *pool = ctx->pool;
    dfsae_dist *dist = ctx->dist;
    /* Data-parallel column sums need a shift common to all ranks, known
     * only after the row pass; a shard's row minimum is not yet global. */
    int split = dfsae__dist_is(dist, DFSAE_DIST_DATA);
    int sharded = dfsae__dist_is(dist, DFSAE_DIST_DICTIONARY);
    front_job job = {m, n,
                     !lse      ? LSE_OFF
                     : sharded ? LSE_MINS
                               : LSE_ROWS,
                     stats && !split && dfsae__pool_threads(pool) == 1, ws->A};
    if (stats)
        dfsae__colstats_begin(k, ws->col);
    dfsae__parallel_for(pool, n, 1, front_rows, &job);
    if (lse && sharded)
        dfsae__dist_lse_rows(dist, pool, ws->A, n, k, ws->rmin, ws->rsum);
    if (stats && !job.stats_here) {
        job.shift = dfsae__dist_shift(dist, ws->A, n, k);
        dfsae__parallel_for(pool, k, 16, front_cols, &job);
    }
    if (stats) {
        float *hi = ws->row + DFSAE_ROW_MEAN_HI * k;
        float *lo = ws->row + DFSAE_ROW_MEAN_LO * k;
        if (split) /* the mean and square slots, adjacent */
            dfsae__dist_sum_f64(dist, ws->col + DFSAE_COL_MEAN * k, 2 * k);
        dfsae__colstats_finish(job.shift, ctx->n_batch, k, ws->col, hi, lo);
        ctx->stats.var = ws->col + DFSAE_COL_VAR * k;
        ctx->stats.mean_hi = hi;
        ctx->stats.mean_lo = lo;
    }
    ctx->lse.min = ws->rmin;
    ctx->lse.sum = ws->rsum;
    ctx->lse.total = lse ? dfsae__lse_total(ws->rmin, ws->rsum, n) : 0.0;
    if (lse) /* a shard's rows are every rank's: summed only when split */
        ctx->lse.total =
            dfsae__dist_total(dist, DFSAE_DIST_DATA, ctx->lse.total);
}

/* X' into the workspace, split by rows. */
typedef struct inputs_job {
    const dfsae_model *m;
    const float *X;
} inputs_job;

static void transform_rows(void *arg, int part, size_t lo, size_t hi)
{
    (void)part;
    const inputs_job *j = arg;
    const size_t d = j->m->d;
    dfsae__transform_block(&j->m->xf, j->X + lo * d, hi - lo, d, 0, d,
                           j->m->ws.X + lo * d);
}

int dfsae__objective(dfsae_model *m, const float *X, size_t n, float *grad,
                     double *total, double terms[DFSAE_TERM_COUNT])
{
    const dfsae_options *o = &m->opt;
    const size_t k = m->k, d = m->d;
    int tc_side =
        dfsae__dist_gram_side(m->dist, o->gram_side, DFSAE_TERM_TC, n, k);
    int wr_side =
        dfsae__dist_gram_side(m->dist, o->gram_side, DFSAE_TERM_WR, d, k);
    int st = dfsae__reserve(m, n);
    if (st != DFSAE_OK)
        return st;

    dfsae_workspace *ws = &m->ws;
    int need_stats = dfsae__loss_needs_stats(o->lambda);
    dfsae_loss_ctx ctx = {.n = n,
                          .n_batch = m->dist != NULL ? m->dist->n_batch : n,
                          .dist = m->dist,
                          .k = k,
                          .d = d,
                          .A = ws->A,
                          .W = m->params,
                          .opt = o,
                          .ws = ws,
                          .gram_side = tc_side,
                          .pool = dfsae__pool_for(m->pool, n * k)};
    if (m->xf.n != 0) {
        inputs_job job = {m, X};
        dfsae__parallel_for(dfsae__pool_for(m->pool, n * d), n, 1,
                            transform_rows, &job);
        X = ws->X; /* the layer's input from here on */
    }
    if (n > 0) /* a data-parallel rank may have no rows */
        dfsae__linear_forward(X, n, d, m->params, k, ws->A);
    front_sweep(m, n, o->lambda[DFSAE_TERM_LSE] != 0.0, need_stats, &ctx);

    dfsae_dA_parts parts = {0.0, NULL, ws->row + DFSAE_ROW_P_SCALE * k,
                            ws->col + DFSAE_COL_CENTRED * k,
                            ws->col + DFSAE_COL_CONSTANT * k};
    for (size_t j = 0; j < k; ++j)
        parts.centred[j] = parts.constant[j] = 0.0;
    dfsae_dA_parts *dA = grad != NULL ? &parts : NULL;

    /* Terms on A first: their gradient flows back through the layers, which
     * overwrite grad; terms on W then add to it. */
    double sum = 0.0;
    for (int pass = 0; pass < 2; ++pass) {
        if (pass == 1 && grad != NULL) {
            float *dZ = dfsae__backward_sweep(
                &ctx, &parts, dfsae__activations[o->activation],
                dfsae__activation_param(o), ws->dA, grad + k * d,
                ws->col + DFSAE_COL_BIAS * k);
            if (n > 0)
                dfsae__linear_backward(X, n, d, dZ, k, grad);
            else
                for (size_t i = 0; i < k * d; ++i)
                    grad[i] = 0.0f;
            /* Data-parallel: the terms on A sum over rows, hence over the
             * ranks; W's own terms follow on the replicas alike. */
            if (dfsae__dist_is(m->dist, DFSAE_DIST_DATA))
                dfsae__dist_sum_f32(m->dist, grad, m->n_params);
        }
        for (int t = 0; t < DFSAE_TERM_COUNT; ++t) {
            const dfsae_loss_ops *term = dfsae__loss_terms[t];
            if (term->on_weights != pass)
                continue;
            double w = o->lambda[t];
            ctx.gram_side = term->on_weights ? wr_side : tc_side;
            double v = w == 0.0 ? 0.0
                                : term->eval(&ctx, w, pass == 0 ? dA : NULL,
                                             pass == 1 ? grad : NULL);
            terms[t] = v;
            sum += w * v;
        }
    }
    *total = sum;
    return DFSAE_OK;
}
