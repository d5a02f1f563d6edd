/* The model's public entry points: they validate, then dispatch to the
 * objective. A failing call changes neither parameters nor options. */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "data/source.h"
#include "dist/dist.h"
#include "loss/loss.h"
#include "model.h"
#include "rng.h"

/* Every dimension handed to BLAS must fit in int. */
static int fits_int(size_t v)
{
    return v <= (size_t)INT_MAX;
}

int dfsae_model_create(size_t d_in, size_t n_components, uint64_t seed,
                       const dfsae_allocator *allocator, dfsae_model **out)
{
    if (out == NULL)
        return DFSAE_ERR_NULL_ARG;
    *out = NULL;
    if (d_in == 0 || n_components == 0)
        return DFSAE_ERR_INVALID_ARG;
    size_t kd, n_params, bytes;
    if (!fits_int(d_in) || !fits_int(n_components) ||
        !dfsae__mul_size(d_in, n_components, &kd) ||
        kd > SIZE_MAX - n_components ||
        !dfsae__mul_size(n_params = kd + n_components, sizeof(float), &bytes))
        return DFSAE_ERR_SIZE_OVERFLOW;

    dfsae_allocator alloc;
    if (dfsae__allocator_init(&alloc, allocator) != DFSAE_OK)
        return DFSAE_ERR_INVALID_ARG;
    dfsae_model *m = dfsae__alloc(&alloc, sizeof *m);
    if (m == NULL)
        return DFSAE_ERR_NO_MEMORY;
    memset(m, 0, sizeof *m);
    m->alloc = alloc;
    m->d = d_in;
    m->k = n_components;
    m->n_params = n_params;
    /* The gradient and the workspace come on first use: a model that only
     * encodes holds its parameters and nothing more. */
    m->params = dfsae__alloc(&alloc, bytes);
    if (m->params == NULL) {
        dfsae_model_free(m);
        return DFSAE_ERR_NO_MEMORY;
    }
    dfsae__options_default(&m->opt);

    /* nn.Linear's default: uniform(-1/sqrt(D), 1/sqrt(D)) for W and b. */
    dfsae_rng rng;
    dfsae__rng_seed(&rng, seed);
    const float bound = (float)(1.0 / sqrt((double)d_in));
    for (size_t i = 0; i < n_params; ++i)
        m->params[i] = (2.0f * dfsae__rng_uniform(&rng) - 1.0f) * bound;
    *out = m;
    return DFSAE_OK;
}

void dfsae_model_free(dfsae_model *model)
{
    if (model == NULL)
        return;
    dfsae_allocator a = model->alloc;
    dfsae__pool_stop(model->pool, &a);
    dfsae__dist_free(model->dist, &a);
    dfsae__ws_free(&model->ws, &a);
    dfsae__meta_free(&model->meta, &a);
    dfsae__transform_free(&a, &model->xf);
    dfsae__free(&a, model->params);
    dfsae__free(&a, model);
}

int dfsae_model_set_threads(dfsae_model *model, int n_threads)
{
    if (model == NULL)
        return DFSAE_ERR_NULL_ARG;
    if (n_threads < 1 || n_threads > DFSAE_MAX_THREADS)
        return dfsae__fail(model->err, DFSAE_ERR_PARAM_OUT_OF_RANGE,
                           "set_threads: %d is outside [1, %d]", n_threads,
                           DFSAE_MAX_THREADS);
    if (n_threads == dfsae__pool_threads(model->pool))
        return DFSAE_OK;
    /* Start the new workers before stopping the old ones, so a failure
     * leaves the model as it was. */
    dfsae_pool *fresh = NULL;
    if (n_threads > 1) {
        int st = dfsae__pool_start(&fresh, n_threads, &model->alloc);
        if (st != DFSAE_OK)
            return dfsae__fail(model->err, st,
                               "set_threads: starting %d workers: %s",
                               n_threads - 1, dfsae_status_string(st));
    }
    dfsae__pool_stop(model->pool, &model->alloc);
    model->pool = fresh;
    return DFSAE_OK;
}

int dfsae_model_threads(const dfsae_model *model)
{
    return model != NULL ? dfsae__pool_threads(model->pool) : 0;
}

size_t dfsae_model_input_dim(const dfsae_model *model)
{
    return model != NULL ? model->d : 0;
}

size_t dfsae_model_num_components(const dfsae_model *model)
{
    return model != NULL ? model->k : 0;
}

size_t dfsae_model_num_params(const dfsae_model *model)
{
    return model != NULL ? model->n_params : 0;
}

const char *dfsae_model_last_error(const dfsae_model *model)
{
    return model != NULL ? model->err : "model is NULL";
}

static int check_count(dfsae_model *m, const char *fn, size_t n)
{
    if (n != m->n_params)
        return dfsae__fail(m->err, DFSAE_ERR_SIZE_MISMATCH,
                           "%s: buffer holds %zu floats, the model has %zu "
                           "parameters",
                           fn, n, m->n_params);
    return DFSAE_OK;
}

int dfsae_model_get_params(const dfsae_model *model, float *params, size_t n)
{
    if (model == NULL || params == NULL)
        return DFSAE_ERR_NULL_ARG;
    if (n != model->n_params)
        return DFSAE_ERR_SIZE_MISMATCH;
    memcpy(params, model->params, n * sizeof *params);
    return DFSAE_OK;
}

int dfsae_model_set_params(dfsae_model *model, const float *params, size_t n)
{
    if (model == NULL)
        return DFSAE_ERR_NULL_ARG;
    if (params == NULL)
        return dfsae__fail(model->err, DFSAE_ERR_NULL_ARG,
                           "set_params: params is NULL");
    int st = check_count(model, "set_params", n);
    if (st != DFSAE_OK)
        return st;
    size_t bad = dfsae__first_non_finite(params, n);
    if (bad != n)
        return dfsae__fail(model->err, DFSAE_ERR_NON_FINITE_INPUT,
                           "set_params: parameter %zu is not finite", bad);
    memcpy(model->params, params, n * sizeof *params);
    return DFSAE_OK;
}

int dfsae_model_set_transform(dfsae_model *model, const float *shift,
                              const float *scale, size_t n)
{
    if (model == NULL)
        return DFSAE_ERR_NULL_ARG;
    int st = dfsae__transform_check(shift, scale, n, model->d);
    if (st != DFSAE_OK)
        return dfsae__fail(model->err, st,
                           "set_transform: %zu values for a model of %zu "
                           "inputs: %s (n must be 0, 1 or D; shift and scale "
                           "finite, no scale 0)",
                           n, model->d, dfsae_status_string(st));
    dfsae_transform fresh;
    st = dfsae__transform_make(&model->alloc, shift, scale, n, &fresh);
    if (st != DFSAE_OK)
        return dfsae__fail(model->err, st, "set_transform: %s",
                           dfsae_status_string(st));
    dfsae__transform_install(&model->alloc, &model->xf, &fresh);
    return DFSAE_OK;
}

int dfsae_model_get_transform(const dfsae_model *model, float *shift,
                              float *scale, size_t cap, size_t *n)
{
    if (model == NULL || n == NULL)
        return DFSAE_ERR_NULL_ARG;
    const dfsae_transform *t = &model->xf;
    *n = t->n;
    if ((shift != NULL || scale != NULL) && cap < t->n)
        return DFSAE_ERR_SIZE_MISMATCH;
    if (shift != NULL && t->n != 0)
        memcpy(shift, t->shift, t->n * sizeof *shift);
    if (scale != NULL && t->n != 0)
        memcpy(scale, t->scale, t->n * sizeof *scale);
    return DFSAE_OK;
}

/* Validates a batch of n rows: pointers, sizes, finiteness. */
static int check_batch(dfsae_model *m, const char *fn, const float *X, size_t n)
{
    if (X == NULL)
        return dfsae__fail(m->err, DFSAE_ERR_NULL_ARG, "%s: X is NULL", fn);
    dfsae_source rows;
    dfsae__source_view(&rows, X, n, m->d);
    const dfsae__rows_rule rule = {
        .fn = fn, .what = "batch", .d = m->d, .k = m->k, .one_product = 1};
    return dfsae__rows_check(&rows, &rule, m->err);
}

int dfsae_model_reserve(dfsae_model *model, size_t max_batch)
{
    if (model == NULL)
        return DFSAE_ERR_NULL_ARG;
    if (max_batch == 0)
        return dfsae__fail(model->err, DFSAE_ERR_INVALID_ARG,
                           "reserve: max_batch is 0");
    if (!fits_int(max_batch))
        return dfsae__fail(model->err, DFSAE_ERR_SIZE_OVERFLOW,
                           "reserve: %zu rows overflow", max_batch);
    /* With the automatic Gram side, the buffers sized for max_batch also
     * hold every smaller batch's Gram. */
    int st = dfsae__reserve(model, max_batch);
    if (st == DFSAE_OK)
        st = dfsae__ws_reserve_grad(&model->ws, &model->alloc, model->n_params);
    if (st != DFSAE_OK)
        return dfsae__fail(model->err, st, "reserve: %s",
                           dfsae_status_string(st));
    return DFSAE_OK;
}

/* The objective on a validated batch, and its checks. */
static int evaluate_checked(dfsae_model *m, const char *fn, const float *X,
                            size_t n, float *grad, float *gmax_out,
                            double *total, double *terms, size_t n_terms)
{
    size_t rows = m->dist != NULL ? m->dist->n_batch : n;
    if (rows < 2 && dfsae__loss_needs_stats(m->opt.lambda)) {
        char names[DFSAE_STATS_NAMES_LEN];
        dfsae__loss_stats_names(names);
        return dfsae__fail(m->err, DFSAE_ERR_BATCH_TOO_SMALL,
                           "%s: a batch of %zu row cannot have a variance; "
                           "%s need at least 2 rows",
                           fn, rows, names);
    }
    if (rows == 0)
        return dfsae__fail(m->err, DFSAE_ERR_INVALID_ARG,
                           "%s: the batch is empty on every rank", fn);
    double sum, values[DFSAE_TERM_COUNT];
    int st = dfsae__objective(m, X, n, grad, &sum, values);
    if (st != DFSAE_OK)
        return dfsae__fail(m->err, st, "%s: %s", fn, dfsae_status_string(st));
    if (!isfinite(sum))
        return dfsae__fail(m->err, DFSAE_ERR_NON_FINITE_RESULT,
                           "%s: the loss is not finite", fn);
    if (grad != NULL) {
        float gmax = dfsae__max_abs_par(dfsae__pool_for(m->pool, m->n_params),
                                        grad, m->n_params);
        if (!isfinite(gmax))
            return dfsae__fail(m->err, DFSAE_ERR_NON_FINITE_RESULT,
                               "%s: gradient entry %zu is not finite", fn,
                               dfsae__first_non_finite(grad, m->n_params));
        if (gmax_out != NULL)
            *gmax_out = gmax;
    }
    if (total != NULL)
        *total = sum;
    if (terms != NULL)
        for (size_t t = 0; t < n_terms && t < DFSAE_TERM_COUNT; ++t)
            terms[t] = values[t];
    return DFSAE_OK;
}

int dfsae__evaluate(dfsae_model *m, int st, const char *fn, const float *X,
                    size_t n, float *grad, float *gmax, double *total,
                    double *terms, size_t n_terms)
{
    /* A data-parallel rank may hold no rows of a batch. */
    if (st == DFSAE_OK && !(n == 0 && dfsae__dist_is(m->dist, DFSAE_DIST_DATA)))
        st = check_batch(m, fn, X, n);
    if (st == DFSAE_OK && (st = dfsae__reserve(m, n)) != DFSAE_OK)
        dfsae__fail(m->err, st, "%s: %s", fn, dfsae_status_string(st));
    st = dfsae__dist_begin(m->dist, m->err, fn, st, n);
    if (st == DFSAE_OK)
        st = evaluate_checked(m, fn, X, n, grad, gmax, total, terms, n_terms);
    return dfsae__dist_agree(m->dist, m->err, fn, st);
}

int dfsae_model_loss(dfsae_model *model, const float *X, size_t n,
                     double *total, double *terms, size_t n_terms)
{
    if (model == NULL)
        return DFSAE_ERR_NULL_ARG;
    return dfsae__evaluate(model, DFSAE_OK, "loss", X, n, NULL, NULL, total,
                           terms, n_terms);
}

int dfsae_model_grad(dfsae_model *model, const float *X, size_t n, float *grad,
                     double *total, double *terms, size_t n_terms)
{
    if (model == NULL)
        return DFSAE_ERR_NULL_ARG;
    /* Still agreed on, with a comm. */
    int st = grad != NULL ? DFSAE_OK
                          : dfsae__fail(model->err, DFSAE_ERR_NULL_ARG,
                                        "grad: grad is NULL");
    return dfsae__evaluate(model, st, "grad", X, n, grad, NULL, total, terms,
                           n_terms);
}
