/* The objective on a batch: linear layer and activation into the
 * workspace, the enabled loss terms, and the backward pass into a flat
 * gradient. */
#include "dist/dist.h"
#include "layers/layers.h"
#include "loss/loss.h"
#include "model.h"

/* Each term's Gram side, resolved once: over the rows for a term on A,
 * over the inputs for a term on W. */
static void term_sides(const dfsae_model *m, size_t n,
                       int side[DFSAE_TERM_COUNT])
{
    for (int t = 0; t < DFSAE_TERM_COUNT; ++t) {
        size_t other = dfsae__loss_terms[t]->on_weights ? m->d : n;
        side[t] = dfsae__dist_gram_side(m->dist, m->opt.gram_side,
                                        dfsae__loss_terms[t], other, m->k);
    }
}

/* Term t's scratch for n rows on its side. */
static int reserve_term(dfsae_model *m, int t, size_t n, int side)
{
    const dfsae_loss_ops *term = dfsae__loss_terms[t];
    if (term->scratch_size == NULL)
        return DFSAE_OK;
    dfsae_scratch_size size;
    if (!term->scratch_size(n, m->k, m->d, side, &size))
        return DFSAE_ERR_SIZE_OVERFLOW;
    return dfsae__ws_reserve_term(&m->ws, &m->alloc, t, size.f32, size.f64);
}

/* Whether the backward sweep needs dZ of its own: no enabled term leaves
 * an n x K product in its scratch for dZ to overwrite. */
static int needs_dz(const dfsae_model *m)
{
    for (int t = 0; t < DFSAE_TERM_COUNT; ++t)
        if (m->opt.lambda[t] != 0.0 && dfsae__loss_terms[t]->leaves_product)
            return 0;
    return 1;
}

static int reserve(dfsae_model *m, size_t n, const int side[DFSAE_TERM_COUNT])
{
    int st = dfsae__ws_reserve_batch(&m->ws, &m->alloc, n, m->k, needs_dz(m),
                                     DFSAE_PARTS_F32, DFSAE_PARTS_F64);
    if (st == DFSAE_OK && m->xf.n != 0)
        st = dfsae__ws_reserve_inputs(&m->ws, &m->alloc, n * m->d);
    for (int t = 0; t < DFSAE_TERM_COUNT && st == DFSAE_OK; ++t)
        if (m->opt.lambda[t] != 0.0)
            st = reserve_term(m, t, n, side[t]);
    return st;
}

int dfsae__reserve(dfsae_model *m, size_t n)
{
    int side[DFSAE_TERM_COUNT];
    term_sides(m, n, side);
    return reserve(m, n, side);
}

/* What every term sees of this batch, each with its own side and
 * scratch. */
static void term_contexts(dfsae_model *m, size_t n,
                          const int side[DFSAE_TERM_COUNT],
                          dfsae_loss_ctx ctx[DFSAE_TERM_COUNT])
{
    for (int t = 0; t < DFSAE_TERM_COUNT; ++t) {
        dfsae_loss_ctx c = {.n = n,
                            .k = m->k,
                            .d = m->d,
                            .n_batch = m->dist != NULL ? m->dist->n_batch : n,
                            .dist = m->dist,
                            .A = m->ws.A,
                            .W = m->params,
                            .opt = &m->opt.loss,
                            .gram_side = side[t],
                            .scratch_f32 = m->ws.term_f32[t],
                            .scratch_f64 = m->ws.term_f64[t],
                            .pool = dfsae__pool_for(m->pool, n * m->k)};
        ctx[t] = c;
    }
}

/* The front sweep over Z = X W^T (in A): bias and activation in place,
 * the enabled terms' row statistics, and the column sums for the
 * statistics. */
typedef struct front_job {
    dfsae_model *m;
    size_t n;
    const dfsae_loss_ctx *ctx; /* one per term */
    int row_terms;      /* whether any enabled term takes row statistics */
    int stats_here;     /* column sums fused into the row pass (one part) */
    const float *shift; /* the column sums' shift (loss.h) */
} front_job;

static int takes_rows(const dfsae_model *m, int t)
{
    return m->opt.lambda[t] != 0.0 && dfsae__loss_terms[t]->rows != NULL;
}

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
        for (int t = 0; f->row_terms && t < DFSAE_TERM_COUNT; ++t)
            if (takes_rows(m, t))
                dfsae__loss_terms[t]->rows(&f->ctx[t], i0, rows);
        if (f->stats_here)
            dfsae__colstats_add(blk, rows, k, 0, k, ws->A, ws->col_stats);
    }
}

/* Columns [lo, hi) of the column sums, over all rows: the same sums in the
 * same order as the fused pass, whatever the split. */
static void front_cols(void *arg, int part, size_t lo, size_t hi)
{
    (void)part;
    const front_job *f = arg;
    dfsae_workspace *ws = &f->m->ws;
    dfsae__colstats_add(ws->A, f->n, f->m->k, lo, hi, f->shift, ws->col_stats);
}

/* Returns the column statistics (empty without `stats`). */
static dfsae_colstats front_sweep(dfsae_model *m, size_t n, int stats,
                                  const dfsae_loss_ctx ctx[DFSAE_TERM_COUNT])
{
    const size_t k = m->k;
    dfsae_workspace *ws = &m->ws;
    dfsae_pool *pool = ctx[0].pool;
    dfsae_dist *dist = m->dist;
    int row_terms = 0;
    for (int t = 0; t < DFSAE_TERM_COUNT; ++t)
        row_terms |= takes_rows(m, t);
    /* Data-parallel column sums need a shift common to all ranks, known
     * only after the row pass. */
    int split = dfsae__dist_is(dist, DFSAE_DIST_DATA);
    front_job job = {m,
                     n,
                     ctx,
                     row_terms,
                     stats && !split && dfsae__pool_threads(pool) == 1,
                     ws->A};
    if (stats)
        dfsae__colstats_begin(k, ws->col_stats);
    dfsae__parallel_for(pool, n, 1, front_rows, &job);
    for (int t = 0; t < DFSAE_TERM_COUNT; ++t)
        if (takes_rows(m, t))
            dfsae__loss_terms[t]->rows_done(&ctx[t]);
    dfsae_colstats cs = {NULL, NULL, NULL};
    if (!stats)
        return cs;
    if (!job.stats_here) {
        job.shift = dfsae__dist_shift(dist, ws->A, n, k);
        dfsae__parallel_for(pool, k, 16, front_cols, &job);
    }
    float *hi = ws->mean_split, *lo = ws->mean_split + k;
    if (split) /* the sums and the squares, adjacent */
        dfsae__dist_sum_f64(dist, ws->col_stats, 2 * k);
    dfsae__colstats_finish(job.shift, ctx[0].n_batch, k, ws->col_stats, hi, lo);
    cs.var = ws->col_stats + k;
    cs.mean_hi = hi;
    cs.mean_lo = lo;
    return cs;
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

/* The enabled terms on A (on_weights 0) or on W (1): each value into
 * terms[], their weighted sum added to *sum in term order, the gradient
 * parts into dA or the gradient into dW where given. */
static void add_terms(const dfsae_model *m, const dfsae_loss_ctx *ctx,
                      int on_weights, dfsae_dA_parts *dA, float *dW,
                      double terms[DFSAE_TERM_COUNT], double *sum)
{
    for (int t = 0; t < DFSAE_TERM_COUNT; ++t) {
        const dfsae_loss_ops *term = dfsae__loss_terms[t];
        if (term->on_weights != on_weights)
            continue;
        double w = m->opt.lambda[t];
        double v = w == 0.0 ? 0.0 : term->eval(&ctx[t], w, dA, dW);
        terms[t] = v;
        *sum += w * v;
    }
}

/* grad = the gradient of the terms on A, from their parts: the backward
 * sweep through the activation, then through the linear layer. */
static void backward(dfsae_model *m, const dfsae_loss_ctx *ctx,
                     const dfsae_dA_parts *parts, const float *X, float *grad)
{
    const size_t n = ctx->n, k = m->k, d = m->d;
    const dfsae_options *o = &m->opt;
    float *dZ = dfsae__backward_sweep(
        ctx, parts, dfsae__activations[o->activation],
        dfsae__activation_param(o), m->ws.dZ, grad + k * d, m->ws.bias_sums);
    if (n > 0)
        dfsae__linear_backward(X, n, d, dZ, k, grad);
    else
        for (size_t i = 0; i < k * d; ++i)
            grad[i] = 0.0f;
    /* Data-parallel: the terms on A sum over rows, hence over the ranks;
     * W's own terms follow on the replicas alike. */
    if (dfsae__dist_is(m->dist, DFSAE_DIST_DATA))
        dfsae__dist_sum_f32(m->dist, grad, m->n_params);
}

int dfsae__objective(dfsae_model *m, const float *X, size_t n, float *grad,
                     double *total, double terms[DFSAE_TERM_COUNT])
{
    const size_t k = m->k, d = m->d;
    int side[DFSAE_TERM_COUNT];
    term_sides(m, n, side);
    int st = reserve(m, n, side);
    if (st != DFSAE_OK)
        return st;
    dfsae_loss_ctx ctx[DFSAE_TERM_COUNT];
    term_contexts(m, n, side, ctx);

    if (m->xf.n != 0) {
        inputs_job job = {m, X};
        dfsae__parallel_for(dfsae__pool_for(m->pool, n * d), n, 1,
                            transform_rows, &job);
        X = m->ws.X; /* the layer's input from here on */
    }
    if (n > 0) /* a data-parallel rank may have no rows */
        dfsae__linear_forward(X, n, d, m->params, k, m->ws.A);
    dfsae_colstats stats =
        front_sweep(m, n, dfsae__loss_needs_stats(m->opt.lambda), ctx);
    for (int t = 0; t < DFSAE_TERM_COUNT; ++t)
        ctx[t].stats = stats;

    dfsae_dA_parts parts;
    dfsae__dA_parts_begin(&parts, k, m->ws.parts_f32, m->ws.parts_f64);
    double sum = 0.0;
    add_terms(m, ctx, 0, grad != NULL ? &parts : NULL, NULL, terms, &sum);
    if (grad != NULL)
        backward(m, &ctx[0], &parts, X, grad);
    add_terms(m, ctx, 1, NULL, grad, terms, &sum);
    *total = sum;
    return DFSAE_OK;
}

int dfsae__weight_term_value(dfsae_model *m, int t, double *value)
{
    int side[DFSAE_TERM_COUNT];
    for (int u = 0; u < DFSAE_TERM_COUNT; ++u)
        side[u] = dfsae__dist_gram_side(NULL, m->opt.gram_side,
                                        dfsae__loss_terms[u], m->d, m->k);
    int st = reserve_term(m, t, 0, side[t]);
    if (st != DFSAE_OK)
        return st;
    dfsae_loss_ctx ctx[DFSAE_TERM_COUNT];
    term_contexts(m, 0, side, ctx);
    ctx[t].dist = NULL; /* this process's W alone: no reductions */
    ctx[t].pool = NULL;
    *value = dfsae__loss_terms[t]->eval(&ctx[t], 1.0, NULL, NULL);
    return DFSAE_OK;
}
