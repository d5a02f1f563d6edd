/* Data sources through the public API: a callback source trains and
 * evaluates bit-identically to the same rows in an array; float16 and
 * bfloat16 sources train bit-identically to the float32 values they hold
 * (and the difference from the float32 data they were rounded from is
 * reported); the chunked shuffle visits every row once per epoch, a
 * sequential source reads only runs of whole chunks and trains as the
 * random-access chunked shuffle does, epochs resume from (seed, epoch);
 * failing reads and non-finite rows stop the run with a clear status. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dfsae.h"
#include "fixture.h"
#include "train_data.h"
#include "train_fixture.h"

#define D 6
#define K 5

/* Every fresh model: init seed 3, run state at epoch 0 with shuffle
 * seed 11. */
static const fresh_model MODEL = {D, K, 3, 11};

/* ---- a callback over rows of any element type ------------------------ */

typedef struct rows_cb {
    const unsigned char *data;
    size_t esize, d;
    size_t calls, rows_read;
    int fail_at_call; /* 1-based; 0: never */
    /* sequential checks */
    size_t chunk;
    int runs_ok; /* every call was one run inside one chunk */
} rows_cb;

static int read_rows(void *user, const size_t *rows, size_t count, void *out)
{
    rows_cb *cb = user;
    cb->calls++;
    if (cb->fail_at_call != 0 && cb->calls == (size_t)cb->fail_at_call)
        return 7;
    assert_true(count >= 1 && count <= 256);
    for (size_t i = 0; i < count; ++i) {
        if (cb->chunk != 0 && (rows[i] != rows[0] + i ||
                               rows[i] / cb->chunk != rows[0] / cb->chunk))
            cb->runs_ok = 0;
        memcpy((unsigned char *)out + i * cb->d * cb->esize,
               cb->data + rows[i] * cb->d * cb->esize, cb->d * cb->esize);
    }
    cb->rows_read += count;
    return 0;
}

static dfsae_source *callback_source(void **state, rows_cb *cb,
                                     const void *data, int elem, size_t n,
                                     int sequential)
{
    memset(cb, 0, sizeof *cb);
    cb->data = data;
    cb->esize = elem == DFSAE_ELEM_F32 ? 4 : 2;
    cb->d = D;
    cb->runs_ok = 1;
    dfsae_source **s = fx_source_slot(state);
    assert_int_equal(dfsae_source_from_callback(read_rows, cb, elem, n, D,
                                                sequential, NULL, s),
                     DFSAE_OK);
    return *s;
}

static dfsae_source *array_source(void **state, const void *data, int elem,
                                  size_t n)
{
    dfsae_source **s = fx_source_slot(state);
    assert_int_equal(dfsae_source_from_array(data, elem, n, D, NULL, s),
                     DFSAE_OK);
    return *s;
}

/* Largest |a - b| relative to the largest |b|. */
static double rel_diff(const float *a, const float *b)
{
    double worst = 0.0, scale = 0.0;
    for (size_t i = 0; i < K * D + K; ++i) {
        worst = fmax(worst, fabs((double)a[i] - (double)b[i]));
        scale = fmax(scale, fabs((double)b[i]));
    }
    return worst / scale;
}

static void callback_equals_array(void **state)
{
    const size_t n = 301;
    float *X = fx_train_data(state, n, D, 5);
    dfsae_train_config *c = fx_config(state, 3, 32, 1);
    dfsae_source *arr = array_source(state, X, DFSAE_ELEM_F32, n);
    rows_cb cb;
    dfsae_source *fn = callback_source(state, &cb, X, DFSAE_ELEM_F32, n, 0);
    float *pa = fx_train_fresh(state, &MODEL, arr, c, NULL, NULL),
          *pf = fx_train_fresh(state, &MODEL, fn, c, NULL, NULL);
    fresh_assert_same(&MODEL, pa, pf);
    assert_int_equal(cb.rows_read, 3 * n);
    /* The float-array entry point is the array source. */
    dfsae_model *m;
    dfsae_optimizer *o;
    fx_fresh(state, &MODEL, &m, &o);
    assert_int_equal(dfsae_model_train(m, o, X, n, c, NULL, NULL), DFSAE_OK);
    float *pt = fx_params(state, m);
    fresh_assert_same(&MODEL, pa, pt);
    /* Evaluation reads the callback in order, to the same metrics. */
    double ma[DFSAE_METRIC_COUNT], mf[DFSAE_METRIC_COUNT];
    assert_int_equal(
        dfsae_model_evaluate_source(m, arr, c, ma, DFSAE_METRIC_COUNT),
        DFSAE_OK);
    assert_int_equal(
        dfsae_model_evaluate_source(m, fn, c, mf, DFSAE_METRIC_COUNT),
        DFSAE_OK);
    assert_memory_equal(ma, mf, sizeof ma);
    assert_true(ma[DFSAE_METRIC_MEAN_ACTIVATION] > 0.0);
}

/* ---- half precision --------------------------------------------------- */

/* x rounded to `bits` significant bits (ties to even): normal numbers of
 * float16 (11 bits) or bfloat16 (8 bits); the test data stays in range. */
static float round_to(float x, int bits)
{
    int e;
    double m = frexp((double)x, &e);
    return (float)ldexp(nearbyint(ldexp(m, bits)), e - bits);
}

/* The bit pattern of a normal float16 / bfloat16 value x (already
 * rounded). */
static uint16_t half_bits(float x, int f16)
{
    if (!f16) {
        uint32_t u;
        memcpy(&u, &x, sizeof u);
        return (uint16_t)(u >> 16);
    }
    int e;
    double m = frexp(fabs((double)x), &e); /* x = m 2^e, m in [0.5, 1) */
    uint32_t mant = (uint32_t)ldexp(m, 11) - 1024u;
    return (uint16_t)((x < 0 ? 0x8000u : 0u) | ((uint32_t)(e - 1 + 15) << 10) |
                      mant);
}

static void half_case(void **state, int f16)
{
    const size_t n = 257;
    float *X = fx_alloc(state, n * D * sizeof *X);
    float *Xr = fx_alloc(state, n * D * sizeof *Xr);
    uint16_t *H = fx_alloc(state, n * D * sizeof *H);
    train_fill(X, n * D, 9, 0.01, 2.0);
    for (size_t i = 0; i < n * D; ++i) {
        if (i % 3 == 0)
            X[i] = -X[i];
        Xr[i] = round_to(X[i], f16 ? 11 : 8);
        H[i] = half_bits(Xr[i], f16);
    }
    const int elem = f16 ? DFSAE_ELEM_F16 : DFSAE_ELEM_BF16;
    dfsae_train_config *c = fx_config(state, 2, 16, 1);
    dfsae_source *half = array_source(state, H, elem, n);
    dfsae_source *rounded = array_source(state, Xr, DFSAE_ELEM_F32, n);
    dfsae_source *orig = array_source(state, X, DFSAE_ELEM_F32, n);
    rows_cb cb;
    dfsae_source *half_cb = callback_source(state, &cb, H, elem, n, 0);
    /* read gives the values the half patterns hold */
    float row[2 * D];
    assert_int_equal(dfsae_source_read(half, 100, 2, row), DFSAE_OK);
    assert_memory_equal(row, Xr + 100 * D, sizeof row);
    assert_int_equal(dfsae_source_read(half_cb, 255, 2, row), DFSAE_OK);
    assert_memory_equal(row, Xr + 255 * D, sizeof row);
    float *ph = fx_train_fresh(state, &MODEL, half, c, NULL, NULL),
          *pc = fx_train_fresh(state, &MODEL, half_cb, c, NULL, NULL);
    float *pr = fx_train_fresh(state, &MODEL, rounded, c, NULL, NULL),
          *po = fx_train_fresh(state, &MODEL, orig, c, NULL, NULL);
    fresh_assert_same(&MODEL, ph, pr);
    fresh_assert_same(&MODEL, pc, pr);
    double input = 0.0;
    for (size_t i = 0; i < n * D; ++i)
        input = fmax(input, fabs((double)Xr[i] - X[i]) / fabs((double)X[i]));
    double params = rel_diff(ph, po);
    print_message("%s: bit-identical to float32 of the same values; vs the "
                  "unrounded float32 data: inputs differ by up to %.3g "
                  "(relative), parameters after 2 epochs by %.3g of max "
                  "|param|\n",
                  f16 ? "float16" : "bfloat16", input, params);
    assert_true(input > 0.0 && input <= (f16 ? 0x1p-11 : 0x1p-8));
    assert_true(params > 0.0 && params < 0.05);
}

static void float16_source(void **state)
{
    half_case(state, 1);
}

static void bfloat16_source(void **state)
{
    half_case(state, 0);
}

/* ---- the chunked shuffle ----------------------------------------------- */

#define VISIT_N 1000

typedef struct visits {
    size_t chunk, window;
    unsigned count[8][VISIT_N]; /* per epoch */
    size_t order[8][VISIT_N];
    size_t pos[8];
    uint64_t steps, cancel_at; /* cancel when `steps` reaches it; 0 no */
} visits;

static int visit(const dfsae_progress *p, void *user)
{
    visits *v = user;
    if ((int)dfsae_progress_get(p, DFSAE_PROGRESS_EVENT) != DFSAE_EVENT_STEP)
        return 0;
    size_t e = (size_t)dfsae_progress_get(p, DFSAE_PROGRESS_EPOCH);
    const size_t *idx = dfsae_progress_batch_indices(p);
    for (size_t i = 0;
         i < (size_t)dfsae_progress_get(p, DFSAE_PROGRESS_BATCH_ROWS); ++i) {
        assert_true(idx[i] < VISIT_N);
        v->count[e][idx[i]]++;
        v->order[e][v->pos[e]++] = idx[i];
    }
    return ++v->steps == v->cancel_at;
}

static void check_visits(const visits *v, size_t epochs)
{
    for (size_t e = 0; e < epochs; ++e) {
        size_t in_place = 0;
        for (size_t i = 0; i < VISIT_N; ++i) {
            assert_int_equal(v->count[e][i], 1);
            in_place += v->order[e][i] == i;
        }
        assert_true(in_place < VISIT_N / 10); /* really shuffled */
        /* The order is a run of windows, each the rows of `window` whole
         * chunks: the first `window` distinct chunks met from a window's
         * start name its chunks, and the window is exactly their rows. */
        for (size_t start = 0; start < VISIT_N;) {
            size_t chunks[64], distinct = 0, size = 0;
            for (size_t i = start; i < VISIT_N && distinct < v->window; ++i) {
                size_t c = v->order[e][i] / v->chunk, j = 0;
                while (j < distinct && chunks[j] != c)
                    ++j;
                if (j < distinct)
                    continue;
                chunks[distinct++] = c;
                size_t first = c * v->chunk;
                size += VISIT_N - first < v->chunk ? VISIT_N - first : v->chunk;
            }
            assert_true(start + size <= VISIT_N);
            for (size_t i = start; i < start + size; ++i) {
                size_t c = v->order[e][i] / v->chunk, j = 0;
                while (j < distinct && chunks[j] != c)
                    ++j;
                assert_true(j < distinct);
            }
            start += size;
        }
    }
    assert_true(memcmp(v->order[0], v->order[1], sizeof v->order[0]) != 0);
}

static void chunked_shuffle_visits_every_row_once(void **state)
{
    static visits v[3];
    memset(v, 0, sizeof v);
    float *X = fx_train_data(state, VISIT_N, D, 4);
    dfsae_train_config *c = fx_config(state, 3, 64, 2);
    train_set(c, DFSAE_TRAIN_SHUFFLE_CHUNK, 7);  /* 143 chunks, the last of 6 */
    train_set(c, DFSAE_TRAIN_SHUFFLE_WINDOW, 3); /* windows of 21 rows */
    dfsae_source *arr = array_source(state, X, DFSAE_ELEM_F32, VISIT_N);
    rows_cb cb;
    dfsae_source *seq =
        callback_source(state, &cb, X, DFSAE_ELEM_F32, VISIT_N, 1);
    cb.chunk = 7;
    dfsae_model *m[2];
    dfsae_optimizer *o[2];
    for (int i = 0; i < 2; ++i) {
        v[i].chunk = 7;
        v[i].window = 3;
        fx_fresh(state, &MODEL, &m[i], &o[i]);
    }
    assert_int_equal(dfsae_model_train_source(m[0], o[0], arr, c, visit, &v[0]),
                     DFSAE_OK);
    /* A sequential source with the default SHUFFLE = 1 is chunked too. */
    train_set(c, DFSAE_TRAIN_SHUFFLE, 1);
    assert_int_equal(dfsae_model_train_source(m[1], o[1], seq, c, visit, &v[1]),
                     DFSAE_OK);
    check_visits(&v[0], 3);
    assert_memory_equal(v[0].order, v[1].order, 3 * sizeof v[0].order[0]);
    assert_true(cb.runs_ok);
    assert_int_equal(cb.rows_read, 3 * VISIT_N); /* each row read once */
    fx_assert_same_params(state, m[0], m[1]);
    /* Epoch e's order depends on (seed, e) alone: a run stopped in the
     * middle of epoch 2 (16 steps an epoch) and continued sees the rest of
     * epoch 2's order, skips reading the windows it already trained on, and
     * ends bit-identical to the uninterrupted run. */
    dfsae_model *m2;
    dfsae_optimizer *o2;
    fx_fresh(state, &MODEL, &m2, &o2);
    v[2].chunk = 7;
    v[2].window = 3;
    v[2].cancel_at = 40;
    assert_int_equal(dfsae_model_train_source(m2, o2, seq, c, visit, &v[2]),
                     DFSAE_ERR_CANCELLED);
    uint64_t epochs_done, rows_done;
    assert_int_equal(
        dfsae_model_get_run_state(m2, &epochs_done, &rows_done, NULL),
        DFSAE_OK);
    assert_int_equal(epochs_done, 2);
    assert_int_equal(rows_done, 8 * 64);
    train_set(c, DFSAE_TRAIN_EPOCHS, 1);
    cb.rows_read = 0;
    assert_int_equal(dfsae_model_train_source(m2, o2, seq, c, visit, &v[2]),
                     DFSAE_OK);
    assert_true(cb.rows_read < VISIT_N - 8 * 64 + 3 * 7);
    assert_memory_equal(v[2].order, v[0].order, 3 * sizeof v[0].order[0]);
    fx_assert_same_params(state, m2, m[1]);
}

/* A NULL config is the defaults, as for dfsae_model_train and _evaluate:
 * training and evaluating a source with NULL gives, bit for bit, what a
 * default-created config gives (301 rows: three batches of the default
 * 128, permuted by the default shuffle). */
static void null_config_is_the_defaults(void **state)
{
    const size_t n = 301;
    float *X = fx_train_data(state, n, D, 8);
    dfsae_train_config *defaults = fx_train_config(state);
    rows_cb cb;
    dfsae_source *sources[2] = {
        array_source(state, X, DFSAE_ELEM_F32, n),
        callback_source(state, &cb, X, DFSAE_ELEM_F32, n, 0)};
    for (int i = 0; i < 2; ++i) {
        dfsae_model *m[2];
        dfsae_optimizer *o[2];
        const dfsae_train_config *configs[2] = {NULL, defaults};
        double met[2][DFSAE_METRIC_COUNT];
        for (int j = 0; j < 2; ++j) {
            fx_fresh(state, &MODEL, &m[j], &o[j]);
            assert_int_equal(dfsae_model_train_source(m[j], o[j], sources[i],
                                                      configs[j], NULL, NULL),
                             DFSAE_OK);
            assert_int_equal(dfsae_model_evaluate_source(m[j], sources[i],
                                                         configs[j], met[j],
                                                         DFSAE_METRIC_COUNT),
                             DFSAE_OK);
        }
        fx_assert_same_params(state, m[0], m[1]);
        assert_memory_equal(met[0], met[1], sizeof met[0]);
        /* The defaults: one epoch of 3 steps, redundancy on (not NaN). */
        assert_int_equal(dfsae_optimizer_step_count(o[0]), 3);
        assert_true(met[0][DFSAE_METRIC_REDUNDANCY] >= 0.0);
    }
}

/* ---- failures ----------------------------------------------------------- */

static void failing_and_bad_callbacks(void **state)
{
    const size_t n = 40;
    float *X = fx_train_data(state, n, D, 2);
    dfsae_train_config *c = fx_config(state, 1, 8, 0);
    rows_cb cb;
    dfsae_source *s = callback_source(state, &cb, X, DFSAE_ELEM_F32, n, 0);
    dfsae_model *m;
    dfsae_optimizer *o;
    fx_fresh(state, &MODEL, &m, &o);
    /* The third read fails: two steps were taken, the error says where. */
    cb.fail_at_call = 3;
    assert_int_equal(dfsae_model_train_source(m, o, s, c, NULL, NULL),
                     DFSAE_ERR_IO);
    assert_int_equal(dfsae_optimizer_step_count(o), 2);
    assert_non_null(strstr(dfsae_model_last_error(m), "step 2"));
    assert_non_null(strstr(dfsae_model_last_error(m), "returned 7"));
    /* A NaN in row 29 stops the run at the step that reads it: the run
     * continues at row 16 (the run state), so one more step is taken. */
    cb.fail_at_call = 0;
    X[29 * D + 4] = NAN;
    uint64_t rows_done;
    assert_int_equal(dfsae_model_get_run_state(m, NULL, &rows_done, NULL),
                     DFSAE_OK);
    assert_int_equal(rows_done, 16);
    assert_int_equal(dfsae_model_train_source(m, o, s, c, NULL, NULL),
                     DFSAE_ERR_NON_FINITE_INPUT);
    assert_int_equal(dfsae_optimizer_step_count(o), 3);
    assert_non_null(strstr(dfsae_model_last_error(m), "row 29"));
    double met[DFSAE_METRIC_COUNT];
    assert_int_equal(
        dfsae_model_evaluate_source(m, s, c, met, DFSAE_METRIC_COUNT),
        DFSAE_ERR_NON_FINITE_INPUT);
    assert_non_null(strstr(dfsae_model_last_error(m), "row 29"));
    /* An array source is checked before the first step. */
    dfsae_source *arr = array_source(state, X, DFSAE_ELEM_F32, n);
    assert_int_equal(dfsae_model_train_source(m, o, arr, c, NULL, NULL),
                     DFSAE_ERR_NON_FINITE_INPUT);
    assert_int_equal(dfsae_optimizer_step_count(o), 3);
    uint16_t h[2 * D] = {0};
    h[D + 1] = 0x7c00u; /* +Inf in row 1 */
    dfsae_source *half = array_source(state, h, DFSAE_ELEM_F16, 2);
    assert_int_equal(dfsae_model_set_run_state(m, 0, 0, 11), DFSAE_OK);
    assert_int_equal(dfsae_model_train_source(m, o, half, c, NULL, NULL),
                     DFSAE_ERR_NON_FINITE_INPUT);
    assert_non_null(strstr(dfsae_model_last_error(m), "X[1][1]"));
    /* Arguments. */
    dfsae_source *bad = (dfsae_source *)1;
    assert_int_equal(dfsae_source_from_array(NULL, 0, 1, 1, NULL, &bad),
                     DFSAE_ERR_NULL_ARG);
    assert_null(bad);
    assert_int_equal(dfsae_source_from_array(X, 3, 1, 1, NULL, &bad),
                     DFSAE_ERR_INVALID_ARG);
    assert_int_equal(dfsae_source_from_array(X, 0, 0, 1, NULL, &bad),
                     DFSAE_ERR_INVALID_ARG);
    assert_int_equal(dfsae_source_from_array(X, 0, SIZE_MAX, 2, NULL, &bad),
                     DFSAE_ERR_SIZE_OVERFLOW);
    assert_int_equal(
        dfsae_source_from_callback(NULL, NULL, 0, 1, 1, 0, NULL, &bad),
        DFSAE_ERR_NULL_ARG);
    assert_int_equal(
        dfsae_source_from_callback(read_rows, NULL, 0, 1, 1, 2, NULL, &bad),
        DFSAE_ERR_INVALID_ARG);
    assert_int_equal(dfsae_source_from_array(X, 0, 1, 1, NULL, NULL),
                     DFSAE_ERR_NULL_ARG);
    dfsae_source **wide = fx_source_slot(state); /* D + 1 columns */
    assert_int_equal(dfsae_source_from_array(X, 0, 4, D + 1, NULL, wide),
                     DFSAE_OK);
    assert_int_equal(dfsae_model_train_source(m, o, *wide, c, NULL, NULL),
                     DFSAE_ERR_SIZE_MISMATCH);
    assert_int_equal(dfsae_model_evaluate_source(m, *wide, c, met, 1),
                     DFSAE_ERR_SIZE_MISMATCH);
    assert_int_equal(dfsae_model_train_source(m, o, NULL, c, NULL, NULL),
                     DFSAE_ERR_NULL_ARG);
    assert_int_equal(dfsae_source_read(arr, 39, 2, X), DFSAE_ERR_INVALID_ARG);
    assert_int_equal(dfsae_source_read(arr, 0, 1, NULL), DFSAE_ERR_NULL_ARG);
    dfsae_source_free(NULL);
}

/* ---- a non-finite half value read by a callback ------------------------ */

#define BAD_N   600
#define BAD_ROW 413
#define BAD_COL 4

typedef struct order_log {
    size_t order[BAD_N];
    size_t pos;
} order_log;

static int log_order(const dfsae_progress *p, void *user)
{
    order_log *log = user;
    if ((int)dfsae_progress_get(p, DFSAE_PROGRESS_EVENT) != DFSAE_EVENT_STEP)
        return 0;
    const size_t *idx = dfsae_progress_batch_indices(p);
    size_t rows = (size_t)dfsae_progress_get(p, DFSAE_PROGRESS_BATCH_ROWS);
    for (size_t i = 0; i < rows && log->pos < BAD_N; ++i)
        log->order[log->pos++] = idx[i];
    return 0;
}

/* Trains on the source with row BAD_ROW's column BAD_COL made `bad`: the
 * run stops at the step whose batch holds the row (where a clean run
 * trains on it), naming the row and the column. */
static void bad_value_stops_its_step(void **state, uint16_t *H, int elem,
                                     uint16_t bad, dfsae_train_config *c,
                                     int sequential)
{
    static order_log log;
    memset(&log, 0, sizeof log);
    rows_cb cb;
    dfsae_source *s = callback_source(state, &cb, H, elem, BAD_N, sequential);
    dfsae_model *m;
    dfsae_optimizer *o;
    fx_fresh(state, &MODEL, &m, &o);
    assert_int_equal(dfsae_model_train_source(m, o, s, c, log_order, &log),
                     DFSAE_OK);
    size_t at = 0;
    while (log.order[at] != BAD_ROW)
        ++at;
    const uint16_t keep = H[BAD_ROW * D + BAD_COL];
    H[BAD_ROW * D + BAD_COL] = bad;
    fx_fresh(state, &MODEL, &m, &o);
    assert_int_equal(dfsae_model_train_source(m, o, s, c, NULL, NULL),
                     DFSAE_ERR_NON_FINITE_INPUT);
    assert_int_equal(dfsae_optimizer_step_count(o), at / 64);
    const char *err = dfsae_model_last_error(m);
    print_message("0x%04x at position %zu: %s\n", (unsigned)bad, at, err);
    assert_non_null(strstr(err, "row 413 of the source, column 4, is not "
                                "finite"));
    H[BAD_ROW * D + BAD_COL] = keep;
}

/* float16 and bfloat16 callbacks (as the tool's mapped files are): an Inf
 * or NaN half value is reported with its row, whatever the order the rows
 * are read in (in order, permuted, chunked windows), and by evaluate; a
 * failed read of the same batch is reported before it. */
static void half_callbacks_name_a_bad_row(void **state)
{
    for (int f16 = 0; f16 < 2; ++f16) {
        const int elem = f16 ? DFSAE_ELEM_F16 : DFSAE_ELEM_BF16;
        const uint16_t inf = f16 ? 0x7c00u : 0x7f80u;
        const uint16_t nan = f16 ? 0xfe00u : 0xffc0u;
        uint16_t *H = fx_alloc(state, BAD_N * D * sizeof *H);
        for (size_t i = 0; i < BAD_N * D; ++i)
            H[i] = f16 ? (uint16_t)(0x3000u + i % 1000u)
                       : (uint16_t)(0x3e00u + i % 100u);
        for (int shuffle = 0; shuffle < 3; ++shuffle) {
            dfsae_train_config *c = fx_config(state, 1, 64, shuffle);
            bad_value_stops_its_step(state, H, elem, inf, c, 0);
            bad_value_stops_its_step(state, H, elem, nan, c, 0);
        }
        dfsae_train_config *c = fx_config(state, 1, 64, 1);
        /* One window of all 12 chunks, read at step 0: the bad row is still
         * reported at its own step (the window's rows are checked as they
         * are copied into a batch). */
        train_set(c, DFSAE_TRAIN_SHUFFLE_CHUNK, 50);
        train_set(c, DFSAE_TRAIN_SHUFFLE_WINDOW, 12);
        bad_value_stops_its_step(state, H, elem, nan, c, 1);

        /* Batches of 512 rows, read in two pieces of 256: a bad value in
         * the second piece is found there, the first of two is the one
         * named, and a failed second read wins over a bad first piece. */
        c = fx_config(state, 1, 512, 0);
        rows_cb cb;
        dfsae_source *s = callback_source(state, &cb, H, elem, BAD_N, 0);
        dfsae_model *m;
        dfsae_optimizer *o;
        fx_fresh(state, &MODEL, &m, &o);
        H[300 * D + 5] = inf;
        assert_int_equal(dfsae_model_train_source(m, o, s, c, NULL, NULL),
                         DFSAE_ERR_NON_FINITE_INPUT);
        assert_non_null(strstr(dfsae_model_last_error(m),
                               "row 300 of the source, column 5"));
        H[10 * D + 1] = nan;
        assert_int_equal(dfsae_model_train_source(m, o, s, c, NULL, NULL),
                         DFSAE_ERR_NON_FINITE_INPUT);
        assert_non_null(strstr(dfsae_model_last_error(m),
                               "row 10 of the source, column 1"));
        double met[DFSAE_METRIC_COUNT];
        assert_int_equal(
            dfsae_model_evaluate_source(m, s, c, met, DFSAE_METRIC_COUNT),
            DFSAE_ERR_NON_FINITE_INPUT);
        assert_non_null(strstr(dfsae_model_last_error(m),
                               "evaluate: row 10 of the source, column 1"));
        cb.calls = 0;
        cb.fail_at_call = 2;
        assert_int_equal(dfsae_model_train_source(m, o, s, c, NULL, NULL),
                         DFSAE_ERR_IO);
        assert_non_null(strstr(dfsae_model_last_error(m), "returned 7"));
        assert_int_equal(dfsae_optimizer_step_count(o), 0);
    }
}

/* The source's own memory goes through the allocator and comes back. */
static void allocator_is_used(void **state)
{
    train_counter *count = fx_alloc(state, sizeof *count); /* outlives s */
    dfsae_allocator a = train_counting_allocator(count);
    uint16_t h[D] = {0};
    dfsae_source **s = fx_source_slot(state);
    assert_int_equal(dfsae_source_from_callback(
                         read_rows, NULL, DFSAE_ELEM_BF16, 1, D, 0, &a, s),
                     DFSAE_OK);
    assert_int_equal(count->allocs, 2); /* the handle and its staging */
    fx_drop(state, *s);
    assert_int_equal(count->frees, 2);
    s = fx_source_slot(state);
    assert_int_equal(dfsae_source_from_array(h, DFSAE_ELEM_F16, 1, D, &a, s),
                     DFSAE_OK);
    assert_int_equal(count->allocs, 3);
    fx_drop(state, *s);
    assert_int_equal(count->frees, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(callback_equals_array),
        FIXTURE_TEST(float16_source),
        FIXTURE_TEST(bfloat16_source),
        FIXTURE_TEST(chunked_shuffle_visits_every_row_once),
        FIXTURE_TEST(null_config_is_the_defaults),
        FIXTURE_TEST(failing_and_bad_callbacks),
        FIXTURE_TEST(half_callbacks_name_a_bad_row),
        FIXTURE_TEST(allocator_is_used),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
