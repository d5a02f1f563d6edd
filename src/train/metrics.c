/* dfsae_model_evaluate: the metrics of docs/training.md over a whole data set,
 * in batches. Row metrics are summed per row; the column statistics (the
 * core's, loss.h) and the cross-product matrix are accumulated in double
 * across batches around a per-column shift (the first batch's means, to
 * float), which keeps the variance of large activations accurate and
 * makes a constant column exactly 0. The float cross-products run on
 * columns scaled by powers of two to at most 1, so activations of any
 * finite size cannot overflow them. */
#include <math.h>
#include <string.h>

#include "blas/dfsae_blas.h"
#include "data/source.h"
#include "loss/loss.h"
#include "model.h"
#include "train/train.h"

#define ACTIVE   0.01 /* |A_ij| above this counts towards L0 */
#define DEAD_VAR 0.01 /* a column with variance below this is dead */
#define ENT_EPS  1e-8 /* inside the entropy's log */
#define STD_EPS  1e-8 /* added to the std, as in L_tc */

static const char *const names[DFSAE_METRIC_COUNT] = {
    "dead_units",        "l0",       "redundancy",      "resp_entropy",
    "weight_redundancy", "max_resp", "mean_activation", "max_activation",
    "max_variance"};

const char *dfsae_metric_name(int metric)
{
    if (metric < 0 || metric >= DFSAE_METRIC_COUNT)
        return NULL;
    return names[metric];
}

typedef struct acc {
    size_t k;
    int redundancy;
    float *X;      /* batch x D rows converted from the source */
    float *A;      /* batch x K activations, then shifted in place */
    float *gram;   /* K x K per-batch cross-products (redundancy) */
    float *shift;  /* K: the first batch's column means */
    double *col;   /* 2K: the shifted sums, then squares (colstats) */
    double *cross; /* K x K upper triangle, sums of shifted products */
    double *scale; /* K: this batch's power-of-two column scales */
    float *r;      /* K: one row's responsibilities */
    size_t rows;   /* rows seen */
    double active, entropy, max_resp, act_sum, act_max;
} acc;

static void release(const dfsae_allocator *a, acc *s)
{
    void *bufs[] = {s->X,   s->A,     s->gram,  s->shift,
                    s->col, s->cross, s->scale, s->r};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; ++i)
        dfsae__free(a, bufs[i]);
}

/* x_cols: D when the source's rows must be converted into a buffer of
 * ours, 0 when they are read in place. */
static int acquire(const dfsae_allocator *a, acc *s, size_t batch, size_t k,
                   size_t x_cols)
{
    size_t bk, bd, k2;
    if (!dfsae__mul_size(batch, k, &bk) ||
        !dfsae__mul_size(batch, x_cols, &bd) || !dfsae__mul_size(2, k, &k2))
        return 0;
    if (bd > 0 && (s->X = dfsae__alloc_array(a, bd, sizeof(float))) == NULL)
        return 0;
    s->A = dfsae__alloc_array(a, bk, sizeof(float));
    s->shift = dfsae__alloc_array(a, k, sizeof(float));
    s->col = dfsae__alloc_array(a, k2, sizeof(double));
    s->r = dfsae__alloc_array(a, k, sizeof(float));
    if (s->A == NULL || s->shift == NULL || s->col == NULL || s->r == NULL)
        return 0;
    if (!s->redundancy)
        return 1;
    size_t kk;
    if (!dfsae__mul_size(k, k, &kk))
        return 0;
    s->gram = dfsae__alloc_array(a, kk, sizeof(float));
    s->cross = dfsae__alloc_array(a, kk, sizeof(double));
    s->scale = dfsae__alloc_array(a, k, sizeof(double));
    if (s->gram == NULL || s->cross == NULL || s->scale == NULL)
        return 0;
    memset(s->cross, 0, kk * sizeof(double));
    return 1;
}

/* L0, responsibilities and the activation sum of one row (double). R is
 * the softmax(-A) that dfsae_model_forward returns and L_lse's gradient
 * is (loss.h). */
static void row_metrics(acc *s, const float *a)
{
    const size_t k = s->k;
    for (size_t j = 0; j < k; ++j) {
        s->active += fabsf(a[j]) > ACTIVE;
        s->act_sum += a[j];
        s->act_max = fabsf(a[j]) > s->act_max ? fabsf(a[j]) : s->act_max;
    }
    dfsae__responsibilities(a, 1, k, s->r);
    double h = 0.0, r_max = 0.0;
    for (size_t j = 0; j < k; ++j) {
        double r = s->r[j];
        h -= r * log(r + ENT_EPS);
        r_max = r > r_max ? r : r_max;
    }
    s->entropy += h;
    s->max_resp += r_max;
}

/* The shift: the first batch's column means, through the column
 * statistics around its first row. s->r, not yet in use, takes the
 * means' low parts. */
static void set_shift(acc *s, size_t rows)
{
    dfsae__colstats_begin(s->k, s->col);
    dfsae__colstats_add(s->A, rows, s->k, 0, s->k, s->A, s->col);
    dfsae__colstats_finish(s->A, rows, s->k, s->col, s->shift, s->r);
    dfsae__colstats_begin(s->k, s->col);
}

/* The batch's cross-products, added to s->cross. Scaling by 2^-e is
 * exact: the products keep float's relative accuracy and sum to at most
 * `rows`. The shifted batch overwrites A. */
static void add_cross(acc *s, size_t rows)
{
    const size_t k = s->k;
    float *A = s->A;
    double *big = s->scale; /* first the largest |shifted value| */
    for (size_t j = 0; j < k; ++j)
        big[j] = 0.0;
    for (size_t i = 0; i < rows; ++i)
        for (size_t j = 0; j < k; ++j) {
            double c = fabs((double)A[i * k + j] - (double)s->shift[j]);
            big[j] = c > big[j] ? c : big[j];
        }
    for (size_t j = 0; j < k; ++j) {
        int e = 0;
        if (big[j] > 0.0)
            frexp(big[j], &e);
        s->scale[j] = ldexp(1.0, e);
    }
    for (size_t i = 0; i < rows; ++i)
        for (size_t j = 0; j < k; ++j)
            A[i * k + j] =
                (float)(((double)A[i * k + j] - (double)s->shift[j]) /
                        s->scale[j]);
    dfsae__ssyrk(DFSAE_TRANS, (int)k, (int)rows, 1.0f, A, (int)k, 0.0f, s->gram,
                 (int)k);
    for (size_t r = 0; r < k; ++r)
        for (size_t c = r; c < k; ++c)
            s->cross[r * k + c] +=
                (double)s->gram[r * k + c] * s->scale[r] * s->scale[c];
}

static void add_batch(acc *s, size_t rows)
{
    const size_t k = s->k;
    if (s->rows == 0)
        set_shift(s, rows);
    for (size_t i = 0; i < rows; ++i)
        row_metrics(s, s->A + i * k);
    dfsae__colstats_add(s->A, rows, k, 0, k, s->shift, s->col);
    s->rows += rows;
    if (s->redundancy)
        add_cross(s, rows);
}

/* Unbiased variance of column j from the shifted sums. */
static double col_var(const acc *s, size_t j)
{
    return dfsae__shifted_var(s->col[j], s->col[s->k + j], s->rows);
}

/* sum_{j != k} Corr_jk^2 from the accumulated sums (L_tc, docs/math.md section
 * 7). */
static double redundancy(const acc *s)
{
    const size_t k = s->k;
    const double *sum = s->col;
    double *std = s->scale; /* the scales are no longer needed */
    for (size_t j = 0; j < k; ++j)
        std[j] = sqrt(col_var(s, j)) + STD_EPS;
    double off = 0.0;
    for (size_t r = 0; r < k; ++r)
        for (size_t c = r + 1; c < k; ++c) {
            double cov = dfsae__shifted_cov(s->cross[r * k + c], sum[r], sum[c],
                                            s->rows);
            double corr = cov / (std[r] * std[c]);
            /* |corr| <= 1 but for the rounding of the float products. */
            off += corr * corr < 1.0 ? corr * corr : 1.0;
        }
    return 2.0 * off;
}

static int check(dfsae_model *m, const dfsae_source *src, double *metrics,
                 size_t n_metrics)
{
    if (src == NULL || metrics == NULL)
        return dfsae__fail(m->err, DFSAE_ERR_NULL_ARG, "evaluate: %s is NULL",
                           src == NULL ? "the source" : "metrics");
    if (n_metrics == 0)
        return dfsae__fail(m->err, DFSAE_ERR_INVALID_ARG,
                           "evaluate: n_metrics is 0");
    const dfsae__rows_rule rule = {
        .fn = "evaluate", .what = "data set", .d = m->d, .needs_variance = 1};
    return dfsae__rows_check(src, &rule, m->err);
}

/* Rows [first, first + rows) of the source as float32, in place when it is
 * a float32 array; a callback's rows are checked for NaN/Inf here. */
static int read_batch(dfsae_model *m, dfsae_source *src, size_t first,
                      size_t rows, float *buf, const float **Xb)
{
    return dfsae__source_range(src, first, rows, buf, Xb, "evaluate: ", m->err);
}

int dfsae_model_evaluate_source(dfsae_model *model, dfsae_source *source,
                                const dfsae_train_config *config,
                                double *metrics, size_t n_metrics)
{
    if (model == NULL)
        return DFSAE_ERR_NULL_ARG;
    int st = check(model, source, metrics, n_metrics);
    if (st != DFSAE_OK)
        return st;
    const size_t n = source->n;
    const size_t k = model->k, d = model->d;
    size_t batch = dfsae__train_batch_size(config);
    batch = batch < n ? batch : n;
    acc s;
    memset(&s, 0, sizeof s);
    s.k = k;
    s.redundancy = n_metrics > DFSAE_METRIC_REDUNDANCY &&
                   dfsae__train_u64(config, DFSAE_TRAIN_EVAL_REDUNDANCY);
    double wr = 0.0;
    if (n_metrics > DFSAE_METRIC_WEIGHT_REDUNDANCY)
        st = dfsae__weight_term_value(model, DFSAE_TERM_WR, &wr);
    const int in_place = dfsae__source_in_place(source);
    if (st == DFSAE_OK &&
        !acquire(&model->alloc, &s, batch, k, in_place ? 0 : d))
        st = DFSAE_ERR_NO_MEMORY;
    if (st != DFSAE_OK) {
        release(&model->alloc, &s);
        return dfsae__fail(model->err, st, "evaluate: %s",
                           dfsae_status_string(st));
    }
    for (size_t first = 0; first < n; first += batch) {
        size_t rows = n - first < batch ? n - first : batch;
        const float *Xb = NULL;
        st = read_batch(model, source, first, rows, s.X, &Xb);
        if (st != DFSAE_OK) {
            release(&model->alloc, &s);
            return st;
        }
        st = dfsae__forward(model, Xb, rows, s.A, NULL);
        if (st != DFSAE_OK) {
            release(&model->alloc, &s);
            return dfsae__fail(model->err, st,
                               "evaluate: the activations of rows %zu to %zu "
                               "are not finite: X W^T + b overflows float",
                               first, first + rows - 1);
        }
        add_batch(&s, rows);
    }
    double dead = 0.0, var_max = 0.0;
    for (size_t j = 0; j < k; ++j) {
        dead += col_var(&s, j) < DEAD_VAR;
        var_max = col_var(&s, j) > var_max ? col_var(&s, j) : var_max;
    }
    const double rows = (double)n;
    double v[DFSAE_METRIC_COUNT];
    v[DFSAE_METRIC_DEAD_UNITS] = dead;
    v[DFSAE_METRIC_L0] = s.active / rows;
    v[DFSAE_METRIC_REDUNDANCY] = s.redundancy ? redundancy(&s) : NAN;
    v[DFSAE_METRIC_RESP_ENTROPY] = s.entropy / rows;
    v[DFSAE_METRIC_WEIGHT_REDUNDANCY] = wr;
    v[DFSAE_METRIC_MAX_RESP] = s.max_resp / rows;
    v[DFSAE_METRIC_MEAN_ACTIVATION] = s.act_sum / (rows * (double)k);
    v[DFSAE_METRIC_MAX_ACTIVATION] = s.act_max;
    v[DFSAE_METRIC_MAX_VARIANCE] = var_max;
    for (size_t i = 0; i < n_metrics && i < DFSAE_METRIC_COUNT; ++i)
        metrics[i] = v[i];
    release(&model->alloc, &s);
    return DFSAE_OK;
}

int dfsae_model_evaluate(dfsae_model *model, const float *X, size_t n,
                         const dfsae_train_config *config, double *metrics,
                         size_t n_metrics)
{
    if (model == NULL)
        return DFSAE_ERR_NULL_ARG;
    if (X == NULL)
        return dfsae__fail(model->err, DFSAE_ERR_NULL_ARG,
                           "evaluate: X is NULL");
    dfsae_source view;
    dfsae__source_view(&view, X, n, model->d);
    return dfsae_model_evaluate_source(model, &view, config, metrics,
                                       n_metrics);
}
