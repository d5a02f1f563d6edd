/* dfsae_model_train: config, batching and the batch-of-1 rule, shuffling
 * determinism, the run state (continuing after a stop, mid-epoch too), the
 * progress report, cancellation, bad input, and no allocation per step. */
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

/* A model that starts training at epoch 0 with shuffle seed `seed`. */
static void seed_run(dfsae_model *m, uint64_t seed)
{
    assert_int_equal(dfsae_model_set_run_state(m, 0, 0, seed), DFSAE_OK);
}

/* A D x K model (init seed) and an Adam optimizer for it. */
static void make(void **state, uint64_t seed, dfsae_model **m,
                 dfsae_optimizer **o)
{
    *m = fx_model(state, D, K, seed);
    *o = fx_optimizer(state, DFSAE_ADAM, dfsae_model_num_params(*m));
}

/* ---- what the callback saw ------------------------------------------- */

#define MAX_STEPS 64
#define MAX_ROWS  64

typedef struct seen {
    size_t steps, epochs;
    uint64_t epoch[MAX_STEPS], step[MAX_STEPS], done[MAX_STEPS];
    uint64_t per_epoch, total;
    size_t rows[MAX_STEPS];
    size_t idx[MAX_STEPS][MAX_ROWS];
    double loss[MAX_STEPS], terms[MAX_STEPS][DFSAE_TERM_COUNT];
    double epoch_loss[MAX_STEPS], epoch_terms[MAX_STEPS][DFSAE_TERM_COUNT];
    size_t epoch_rows[MAX_STEPS];
    uint64_t epoch_step[MAX_STEPS];
    double last_elapsed;
    size_t cancel_at_step;  /* cancel when steps_done reaches this; 0 no */
    size_t cancel_at_epoch; /* cancel at the epoch report number; 0 no */
} seen;

static int record(const dfsae_progress *p, void *user)
{
    seen *s = user;
    double el = dfsae_progress_get(p, DFSAE_PROGRESS_ELAPSED);
    assert_true(el >= s->last_elapsed);
    s->last_elapsed = el;
    assert_true(dfsae_progress_get(p, DFSAE_PROGRESS_SAMPLES_PER_SEC) >= 0.0);
    s->per_epoch =
        (uint64_t)dfsae_progress_get(p, DFSAE_PROGRESS_STEPS_PER_EPOCH);
    s->total = (uint64_t)dfsae_progress_get(p, DFSAE_PROGRESS_STEPS_TOTAL);
    assert_true(isnan(dfsae_progress_get(p, DFSAE_PROGRESS_KEY_COUNT)));
    assert_true(isnan(dfsae_progress_get(p, -1)));
    assert_true(isnan(dfsae_progress_get(NULL, DFSAE_PROGRESS_LOSS)));
    assert_null(dfsae_progress_batch_indices(NULL));
    if ((int)dfsae_progress_get(p, DFSAE_PROGRESS_EVENT) == DFSAE_EVENT_EPOCH) {
        size_t e = s->epochs++;
        assert_true(e < MAX_STEPS);
        assert_null(dfsae_progress_batch_indices(p));
        s->epoch_loss[e] = dfsae_progress_get(p, DFSAE_PROGRESS_LOSS);
        for (int t = 0; t < DFSAE_TERM_COUNT; ++t)
            s->epoch_terms[e][t] =
                dfsae_progress_get(p, DFSAE_PROGRESS_TERM_LSE + t);
        s->epoch_rows[e] =
            (size_t)dfsae_progress_get(p, DFSAE_PROGRESS_BATCH_ROWS);
        s->epoch_step[e] = (uint64_t)dfsae_progress_get(p, DFSAE_PROGRESS_STEP);
        return s->cancel_at_epoch != 0 && s->epochs == s->cancel_at_epoch;
    }
    assert_int_equal((int)dfsae_progress_get(p, DFSAE_PROGRESS_EVENT),
                     DFSAE_EVENT_STEP);
    size_t i = s->steps++;
    assert_true(i < MAX_STEPS);
    s->epoch[i] = (uint64_t)dfsae_progress_get(p, DFSAE_PROGRESS_EPOCH);
    s->step[i] = (uint64_t)dfsae_progress_get(p, DFSAE_PROGRESS_STEP);
    s->done[i] = (uint64_t)dfsae_progress_get(p, DFSAE_PROGRESS_STEPS_DONE);
    s->rows[i] = (size_t)dfsae_progress_get(p, DFSAE_PROGRESS_BATCH_ROWS);
    const size_t *idx = dfsae_progress_batch_indices(p);
    assert_non_null(idx);
    if (s->rows[i] <= MAX_ROWS)
        memcpy(s->idx[i], idx, s->rows[i] * sizeof *idx);
    s->loss[i] = dfsae_progress_get(p, DFSAE_PROGRESS_LOSS);
    for (int t = 0; t < DFSAE_TERM_COUNT; ++t)
        s->terms[i][t] = dfsae_progress_get(p, DFSAE_PROGRESS_TERM_LSE + t);
    return s->cancel_at_step != 0 && s->done[i] == s->cancel_at_step;
}

/* ---- config ------------------------------------------------------------ */

static void test_config(void **state)
{
    dfsae_train_config *c = NULL;
    double v, lo, hi;
    assert_int_equal(dfsae_train_config_create(NULL, NULL), DFSAE_ERR_NULL_ARG);
    assert_int_equal(dfsae_train_config_create(NULL, &c), DFSAE_OK);
    fx_keep_config(state, c);
    const double defaults[DFSAE_TRAIN_OPTION_COUNT] = {1, 128, 1,   1, 1,
                                                       0, 5,   256, 16};
    for (int p = 0; p < DFSAE_TRAIN_OPTION_COUNT; ++p) {
        assert_int_equal(dfsae_train_config_get(c, p, &v), DFSAE_OK);
        assert_true(v == defaults[p]);
        assert_int_equal(dfsae_train_option_bounds(p, &lo, &hi), DFSAE_OK);
        assert_true(lo <= v && v <= hi);
        /* Outside the bounds, NaN and fractions are refused unchanged. */
        assert_int_equal(dfsae_train_config_set(c, p, 2.0 * hi + 1.0),
                         DFSAE_ERR_PARAM_OUT_OF_RANGE);
        assert_int_equal(dfsae_train_config_set(c, p, lo - 1.0),
                         DFSAE_ERR_PARAM_OUT_OF_RANGE);
        assert_int_equal(dfsae_train_config_set(c, p, NAN),
                         DFSAE_ERR_PARAM_OUT_OF_RANGE);
        /* The tolerance is the one real-valued key. */
        assert_int_equal(dfsae_train_config_set(c, p, lo + 0.5),
                         p == DFSAE_TRAIN_CONVERGE_TOLERANCE
                             ? DFSAE_OK
                             : DFSAE_ERR_PARAM_OUT_OF_RANGE);
        assert_int_equal(dfsae_train_config_set(c, p, defaults[p]), DFSAE_OK);
        assert_int_equal(dfsae_train_config_get(c, p, &v), DFSAE_OK);
        assert_true(v == defaults[p]);
        assert_int_equal(dfsae_train_config_set(c, p, hi), DFSAE_OK);
        assert_int_equal(dfsae_train_config_get(c, p, &v), DFSAE_OK);
        assert_true(v == hi);
    }
    assert_int_equal(
        dfsae_train_option_bounds(DFSAE_TRAIN_BATCH_SIZE, &lo, NULL), DFSAE_OK);
    assert_true(lo == 1.0);
    assert_int_equal(dfsae_train_config_set(c, DFSAE_TRAIN_OPTION_COUNT, 1),
                     DFSAE_ERR_UNKNOWN_PARAM);
    assert_int_equal(dfsae_train_config_get(c, -1, &v),
                     DFSAE_ERR_UNKNOWN_PARAM);
    assert_int_equal(
        dfsae_train_option_bounds(DFSAE_TRAIN_OPTION_COUNT, &lo, &hi),
        DFSAE_ERR_UNKNOWN_PARAM);
    assert_int_equal(dfsae_train_config_set(NULL, 0, 1), DFSAE_ERR_NULL_ARG);
    assert_int_equal(dfsae_train_config_get(c, 0, NULL), DFSAE_ERR_NULL_ARG);
    dfsae_train_config_free(NULL);
    assert_string_equal(dfsae_status_string(DFSAE_ERR_CANCELLED),
                        "cancelled by the progress callback");
}

/* ---- the loop is the verbs -------------------------------------------- */

/* The manual loop a host would write: contiguous batches, in order. */
static void manual(dfsae_model *m, dfsae_optimizer *o, const float *X,
                   size_t first, size_t rows)
{
    assert_int_equal(dfsae_train_step(m, o, X + first * D, rows, NULL, NULL, 0),
                     DFSAE_OK);
}

/* Without shuffling, training is the manual loop, bit for bit, and the
 * last partial batch (n = 11, batch 4: 4, 4, 3) is kept. */
static void test_unshuffled_equals_manual_loop(void **state)
{
    const size_t n = 11;
    float *X = fx_train_data(state, n, D, 1);
    dfsae_model *m[2];
    dfsae_optimizer *o[2];
    make(state, 7, &m[0], &o[0]);
    make(state, 7, &m[1], &o[1]);
    dfsae_train_config *c = fx_config(state, 2, 4, 0);
    seen s = {0};
    assert_int_equal(dfsae_model_train(m[0], o[0], X, n, c, record, &s),
                     DFSAE_OK);
    for (int e = 0; e < 2; ++e) {
        manual(m[1], o[1], X, 0, 4);
        manual(m[1], o[1], X, 4, 4);
        manual(m[1], o[1], X, 8, 3);
    }
    fx_assert_same_params(state, m[0], m[1]);
    assert_int_equal(dfsae_optimizer_step_count(o[0]), 6);
    assert_int_equal(s.steps, 6);
    assert_int_equal(s.epochs, 2);
    assert_int_equal(s.per_epoch, 3);
    assert_int_equal(s.total, 6);
    const size_t rows[3] = {4, 4, 3};
    for (size_t i = 0; i < 6; ++i) {
        assert_int_equal(s.epoch[i], i / 3);
        assert_int_equal(s.step[i], i % 3);
        assert_int_equal(s.done[i], i + 1);
        assert_int_equal(s.rows[i], rows[i % 3]);
        for (size_t r = 0; r < s.rows[i]; ++r)
            assert_int_equal(s.idx[i][r], 4 * (i % 3) + r);
    }
    for (size_t e = 0; e < 2; ++e) {
        assert_int_equal(s.epoch_rows[e], n);
        assert_int_equal(s.epoch_step[e], 3);
        double mean =
            (s.loss[3 * e] + s.loss[3 * e + 1] + s.loss[3 * e + 2]) / 3.0;
        assert_true(fabs(s.epoch_loss[e] - mean) <= 1e-12 * fabs(mean));
        double tc =
            (s.terms[3 * e][DFSAE_TERM_TC] + s.terms[3 * e + 1][DFSAE_TERM_TC] +
             s.terms[3 * e + 2][DFSAE_TERM_TC]) /
            3.0;
        assert_true(fabs(s.epoch_terms[e][DFSAE_TERM_TC] - tc) <=
                    1e-12 * fabs(tc));
    }
}

/* Shuffled: each epoch is a permutation of the rows; replaying the
 * reported batches by hand gives the same parameters bit for bit, and
 * before each step dfsae_model_loss on that batch equals the reported
 * loss and terms. */
static void test_shuffled_replay_and_reported_loss(void **state)
{
    const size_t n = 13, B = 4, epochs = 3;
    float *X = fx_train_data(state, n, D, 2);
    dfsae_model *m[2];
    dfsae_optimizer *o[2];
    make(state, 9, &m[0], &o[0]);
    make(state, 9, &m[1], &o[1]);
    assert_int_equal(dfsae_model_set_option(m[0], DFSAE_MODEL_LAMBDA_WR, 0.5),
                     DFSAE_OK);
    assert_int_equal(dfsae_model_set_option(m[1], DFSAE_MODEL_LAMBDA_WR, 0.5),
                     DFSAE_OK);
    dfsae_train_config *c = fx_config(state, (double)epochs, (double)B, 1);
    seed_run(m[0], 42);
    seen s = {0};
    assert_int_equal(dfsae_model_train(m[0], o[0], X, n, c, record, &s),
                     DFSAE_OK);
    assert_int_equal(s.per_epoch, 3); /* 4, 4, 4, 1: the 1 merged: 4, 4, 5 */
    assert_int_equal(s.steps, 3 * epochs);
    float batch[MAX_ROWS * D];
    int differs = 0;
    for (size_t e = 0; e < epochs; ++e) {
        int hit[13] = {0};
        for (size_t st = 0; st < 3; ++st) {
            size_t i = e * 3 + st;
            assert_int_equal(s.rows[i], st == 2 ? 5 : 4);
            for (size_t r = 0; r < s.rows[i]; ++r) {
                size_t row = s.idx[i][r];
                assert_true(row < n);
                hit[row]++;
                memcpy(batch + r * D, X + row * D, D * sizeof *X);
                differs |= row != st * B + r;
            }
            double loss, terms[DFSAE_TERM_COUNT];
            assert_int_equal(dfsae_model_loss(m[1], batch, s.rows[i], &loss,
                                              terms, DFSAE_TERM_COUNT),
                             DFSAE_OK);
            assert_true(loss == s.loss[i]);
            for (int t = 0; t < DFSAE_TERM_COUNT; ++t)
                assert_true(terms[t] == s.terms[i][t]);
            assert_true(terms[DFSAE_TERM_WR] > 0.0);
            assert_int_equal(
                dfsae_train_step(m[1], o[1], batch, s.rows[i], NULL, NULL, 0),
                DFSAE_OK);
        }
        for (size_t r = 0; r < n; ++r)
            assert_int_equal(hit[r], 1);
    }
    assert_true(differs); /* the order really was shuffled */
    /* Epochs get different orders. */
    assert_true(memcmp(s.idx[0], s.idx[3], 4 * sizeof(size_t)) != 0 ||
                memcmp(s.idx[1], s.idx[4], 4 * sizeof(size_t)) != 0);
    fx_assert_same_params(state, m[0], m[1]);
}

/* Trains `epochs` epochs, on a fresh model (init seed 3, shuffle seed
 * `seed`) unless *keep holds one, and returns its parameters. */
static float *trained(void **state, const float *X, size_t n, uint64_t seed,
                      double epochs, dfsae_model **keep,
                      dfsae_optimizer **keep_opt)
{
    dfsae_model *m;
    dfsae_optimizer *o;
    if (keep != NULL && *keep != NULL) {
        m = *keep;
        o = *keep_opt;
    } else {
        make(state, 3, &m, &o);
        seed_run(m, seed);
    }
    dfsae_train_config *c = fx_config(state, epochs, 8, 1);
    assert_int_equal(dfsae_model_train(m, o, X, n, c, NULL, NULL), DFSAE_OK);
    fx_drop(state, c);
    float *p = fx_params(state, m);
    if (keep != NULL) {
        *keep = m;
        *keep_opt = o;
    } else {
        fx_drop(state, o);
        fx_drop(state, m);
    }
    return p;
}

static void assert_run_state(const dfsae_model *m, uint64_t epochs,
                             uint64_t rows, uint64_t seed)
{
    uint64_t e = 99, r = 99, s = 99;
    assert_int_equal(dfsae_model_get_run_state(m, &e, &r, &s), DFSAE_OK);
    assert_int_equal(e, epochs);
    assert_int_equal(r, rows);
    assert_int_equal(s, seed);
}

/* Same seed: bit-identical; another seed: different; and training epochs
 * 0-1, then one more epoch in a second call (the run state says where to
 * go on), equals epochs 0-2 in one call. */
static void test_seed_determinism_and_resume(void **state)
{
    const size_t n = 50;
    float *X = fx_train_data(state, n, D, 3);
    const size_t np = (size_t)(K * D + K);
    float *a = trained(state, X, n, 11, 3, NULL, NULL);
    float *b = trained(state, X, n, 11, 3, NULL, NULL);
    float *c = trained(state, X, n, 12, 3, NULL, NULL);
    assert_memory_equal(a, b, np * sizeof *a);
    assert_memory_not_equal(a, c, np * sizeof *a);
    dfsae_model *m = NULL;
    dfsae_optimizer *o = NULL;
    float *part = trained(state, X, n, 11, 2, &m, &o);
    assert_memory_not_equal(a, part, np * sizeof *a);
    assert_run_state(m, 2, 0, 11);
    float *resumed = trained(state, X, n, 11, 1, &m, &o);
    assert_memory_equal(a, resumed, np * sizeof *a);
    assert_run_state(m, 3, 0, 11);
}

/* A new model's run state is (0, 0, 0) whatever its creation seed; set/get
 * round trip; each output optional (NULL skipped, the others filled); NULL
 * handles. */
static void test_run_state_access(void **state)
{
    dfsae_model *m;
    dfsae_optimizer *o;
    make(state, 77, &m, &o);
    assert_run_state(m, 0, 0, 0);
    assert_int_equal(dfsae_model_set_run_state(m, 5, 3, UINT64_MAX), DFSAE_OK);
    assert_run_state(m, 5, 3, UINT64_MAX);
    for (int skip = 0; skip < 3; ++skip) {
        uint64_t v[3] = {99, 99, 99};
        assert_int_equal(dfsae_model_get_run_state(m, skip == 0 ? NULL : &v[0],
                                                   skip == 1 ? NULL : &v[1],
                                                   skip == 2 ? NULL : &v[2]),
                         DFSAE_OK);
        const uint64_t want[3] = {5, 3, UINT64_MAX};
        for (int i = 0; i < 3; ++i)
            assert_int_equal(v[i], i == skip ? 99 : want[i]);
    }
    assert_int_equal(dfsae_model_get_run_state(m, NULL, NULL, NULL), DFSAE_OK);
    assert_int_equal(dfsae_model_get_run_state(NULL, NULL, NULL, NULL),
                     DFSAE_ERR_NULL_ARG);
    assert_int_equal(dfsae_model_set_run_state(NULL, 0, 0, 0),
                     DFSAE_ERR_NULL_ARG);
}

/* Cancelled in the middle of epoch 1 (after its second step), the model
 * records (1, rows trained, seed); the next call finishes that epoch from
 * its next row, reports the steps as the epoch counts them, and the result
 * is bit-identical to uninterrupted training. n = 13, batch 4: steps of
 * 4, 4, 5 rows (the lone row merged). */
static void test_continue_mid_epoch(void **state)
{
    const size_t n = 13;
    float *X = fx_train_data(state, n, D, 11);
    dfsae_model *m[2];
    dfsae_optimizer *o[2];
    make(state, 4, &m[0], &o[0]);
    make(state, 4, &m[1], &o[1]);
    seed_run(m[0], 5);
    seed_run(m[1], 5);
    dfsae_train_config *c = fx_config(state, 3, 4, 1);
    assert_int_equal(dfsae_model_train(m[0], o[0], X, n, c, NULL, NULL),
                     DFSAE_OK);
    assert_run_state(m[0], 3, 0, 5);

    seen s = {0};
    s.cancel_at_step = 5; /* epoch 1, step 1 */
    assert_int_equal(dfsae_model_train(m[1], o[1], X, n, c, record, &s),
                     DFSAE_ERR_CANCELLED);
    assert_run_state(m[1], 1, 8, 5);
    assert_int_equal(dfsae_optimizer_step_count(o[1]), 5);

    /* Two more epochs: the rest of epoch 1 (one step), then epoch 2. */
    train_set(c, DFSAE_TRAIN_EPOCHS, 2);
    seen r = {0};
    assert_int_equal(dfsae_model_train(m[1], o[1], X, n, c, record, &r),
                     DFSAE_OK);
    assert_run_state(m[1], 3, 0, 5);
    assert_int_equal(r.steps, 4);
    assert_int_equal(r.total, 4);
    assert_int_equal(r.per_epoch, 3);
    assert_int_equal(r.epoch[0], 1);
    assert_int_equal(r.step[0], 2);
    assert_int_equal(r.rows[0], 5);
    assert_int_equal(r.epoch[1], 2);
    assert_int_equal(r.step[1], 0);
    assert_int_equal(r.epochs, 2);
    assert_int_equal(r.epoch_rows[0], 5); /* this call's part of epoch 1 */
    /* Epoch 1's rows, over both calls, are each used once. */
    int hit[13] = {0};
    for (size_t i = 3; i < 5; ++i)
        for (size_t k = 0; k < s.rows[i]; ++k)
            hit[s.idx[i][k]]++;
    for (size_t k = 0; k < r.rows[0]; ++k)
        hit[r.idx[0][k]]++;
    for (size_t k = 0; k < n; ++k)
        assert_int_equal(hit[k], 1);
    fx_assert_same_params(state, m[0], m[1]);
    assert_int_equal(dfsae_optimizer_step_count(o[1]), 9);
}

/* Continuing with another batch size starts at the recorded row: epoch 0's
 * rows are still each used once. */
static void test_continue_with_other_batch(void **state)
{
    const size_t n = 12;
    float *X = fx_train_data(state, n, D, 12);
    dfsae_model *m;
    dfsae_optimizer *o;
    make(state, 4, &m, &o);
    dfsae_train_config *c = fx_config(state, 1, 4, 1);
    seen s = {0};
    s.cancel_at_step = 1;
    assert_int_equal(dfsae_model_train(m, o, X, n, c, record, &s),
                     DFSAE_ERR_CANCELLED);
    assert_run_state(m, 0, 4, 0);
    train_set(c, DFSAE_TRAIN_BATCH_SIZE, 3);
    seen r = {0};
    assert_int_equal(dfsae_model_train(m, o, X, n, c, record, &r), DFSAE_OK);
    assert_int_equal(r.steps, 3); /* 8 rows left in batches of 3: 3, 3, 2 */
    assert_int_equal(r.rows[2], 2);
    int hit[12] = {0};
    for (size_t k = 0; k < s.rows[0]; ++k)
        hit[s.idx[0][k]]++;
    for (size_t i = 0; i < r.steps; ++i)
        for (size_t k = 0; k < r.rows[i]; ++k)
            hit[r.idx[i][k]]++;
    for (size_t k = 0; k < n; ++k)
        assert_int_equal(hit[k], 1);
    assert_run_state(m, 1, 0, 0);
}

/* A run state that does not fit the data is refused before any step. */
static void test_run_state_misfit(void **state)
{
    const size_t n = 10;
    float *X = fx_train_data(state, n, D, 13);
    dfsae_model *m;
    dfsae_optimizer *o;
    make(state, 4, &m, &o);
    float *before = fx_params(state, m);
    dfsae_train_config *c = fx_config(state, 1, 4, 1);
    assert_int_equal(dfsae_model_set_run_state(m, 2, 10, 1), DFSAE_OK);
    assert_int_equal(dfsae_model_train(m, o, X, n, c, NULL, NULL),
                     DFSAE_ERR_INVALID_ARG);
    assert_non_null(strstr(dfsae_model_last_error(m), "10 rows into epoch 2"));
    assert_run_state(m, 2, 10, 1);
    /* One row left, and L_var needs two. */
    assert_int_equal(dfsae_model_set_run_state(m, 2, 9, 1), DFSAE_OK);
    assert_int_equal(dfsae_model_train(m, o, X, n, c, NULL, NULL),
                     DFSAE_ERR_BATCH_TOO_SMALL);
    float *now = fx_params(state, m);
    assert_memory_equal(now, before, dfsae_model_num_params(m) * sizeof *now);
    assert_int_equal(dfsae_optimizer_step_count(o), 0);
    assert_run_state(m, 2, 9, 1);
    /* Epoch counts at the top of the range overflow. */
    assert_int_equal(dfsae_model_set_run_state(m, UINT64_MAX, 0, 1), DFSAE_OK);
    assert_int_equal(dfsae_model_train(m, o, X, n, c, NULL, NULL),
                     DFSAE_ERR_SIZE_OVERFLOW);
}

/* ---- the batch-of-1 rule ---------------------------------------------- */

/* Rows per step of one epoch of n rows in batches of B. */
static size_t plan(void **state, size_t n, size_t B, int variance, size_t *rows)
{
    float *X = fx_train_data(state, n, D, 4);
    dfsae_model *m;
    dfsae_optimizer *o;
    make(state, 5, &m, &o);
    if (!variance) {
        assert_int_equal(dfsae_model_set_option(m, DFSAE_MODEL_LAMBDA_VAR, 0),
                         DFSAE_OK);
        assert_int_equal(dfsae_model_set_option(m, DFSAE_MODEL_LAMBDA_TC, 0),
                         DFSAE_OK);
    }
    dfsae_train_config *c = fx_config(state, 1, (double)B, 1);
    seed_run(m, 1);
    seen s = {0};
    assert_int_equal(dfsae_model_train(m, o, X, n, c, record, &s), DFSAE_OK);
    size_t total = 0;
    for (size_t i = 0; i < s.steps; ++i) {
        rows[i] = s.rows[i];
        total += s.rows[i];
    }
    assert_int_equal(total, n); /* every row is used */
    assert_int_equal(s.per_epoch, s.steps);
    assert_int_equal(dfsae_optimizer_step_count(o), s.steps);
    fx_drop(state, c);
    fx_drop(state, o);
    fx_drop(state, m);
    fx_drop(state, X);
    return s.steps;
}

static void test_batch_of_one_rule(void **state)
{
    size_t rows[MAX_STEPS];
    /* Variance terms on: a lone last row joins the previous batch. */
    assert_int_equal(plan(state, 9, 4, 1, rows), 2);
    assert_int_equal(rows[0], 4);
    assert_int_equal(rows[1], 5);
    assert_int_equal(plan(state, 5, 4, 1, rows), 1);
    assert_int_equal(rows[0], 5);
    assert_int_equal(plan(state, 3, 2, 1, rows), 1);
    assert_int_equal(rows[0], 3);
    /* Other partial batches are kept as they are. */
    assert_int_equal(plan(state, 10, 4, 1, rows), 3);
    assert_int_equal(rows[2], 2);
    assert_int_equal(plan(state, 3, 8, 1, rows), 1);
    assert_int_equal(rows[0], 3);
    /* Without variance terms a batch of 1 is fine and is kept. */
    assert_int_equal(plan(state, 9, 4, 0, rows), 3);
    assert_int_equal(rows[2], 1);
    assert_int_equal(plan(state, 3, 1, 0, rows), 3);
    assert_int_equal(rows[0], 1);
}

/* ---- cancellation ------------------------------------------------------ */

/* Cancelling at step 3 (of 2 epochs x 3 steps) returns CANCELLED and keeps
 * the parameters after exactly three steps; cancelling at the first epoch
 * report keeps one epoch. */
static void test_cancel(void **state)
{
    const size_t n = 12;
    float *X = fx_train_data(state, n, D, 5);
    dfsae_model *m[2];
    dfsae_optimizer *o[2];
    make(state, 8, &m[0], &o[0]);
    make(state, 8, &m[1], &o[1]);
    dfsae_train_config *c = fx_config(state, 2, 4, 0);
    seen s = {0};
    s.cancel_at_step = 3;
    assert_int_equal(dfsae_model_train(m[0], o[0], X, n, c, record, &s),
                     DFSAE_ERR_CANCELLED);
    assert_int_equal(s.steps, 3);
    assert_int_equal(s.epochs, 0);
    assert_int_equal(dfsae_optimizer_step_count(o[0]), 3);
    assert_true(strlen(dfsae_model_last_error(m[0])) > 0);
    manual(m[1], o[1], X, 0, 4);
    manual(m[1], o[1], X, 4, 4);
    manual(m[1], o[1], X, 8, 4);
    fx_assert_same_params(state, m[0], m[1]);

    /* Cancel at the epoch report: one epoch on a fresh start. */
    dfsae_model *m2;
    dfsae_optimizer *o2;
    make(state, 8, &m2, &o2);
    seen s2 = {0};
    s2.cancel_at_epoch = 1;
    assert_int_equal(dfsae_model_train(m2, o2, X, n, c, record, &s2),
                     DFSAE_ERR_CANCELLED);
    assert_int_equal(s2.steps, 3);
    assert_int_equal(s2.epochs, 1);
    fx_assert_same_params(state, m2, m[1]);
}

/* REPORT_EVERY = 2 gives every second step; 0 gives epoch reports only. */
static void test_report_every(void **state)
{
    const size_t n = 20;
    float *X = fx_train_data(state, n, D, 6);
    dfsae_model *m;
    dfsae_optimizer *o;
    make(state, 8, &m, &o);
    dfsae_train_config *c = fx_config(state, 2, 4, 1); /* 5 steps an epoch */
    seed_run(m, 0);
    train_set(c, DFSAE_TRAIN_REPORT_EVERY, 2);
    seen s = {0};
    assert_int_equal(dfsae_model_train(m, o, X, n, c, record, &s), DFSAE_OK);
    assert_int_equal(s.steps, 5);
    for (size_t i = 0; i < s.steps; ++i)
        assert_int_equal(s.done[i], 2 * (i + 1));
    assert_int_equal(s.epochs, 2);
    train_set(c, DFSAE_TRAIN_REPORT_EVERY, 0);
    seen s0 = {0};
    assert_int_equal(dfsae_model_train(m, o, X, n, c, record, &s0), DFSAE_OK);
    assert_int_equal(s0.steps, 0);
    assert_int_equal(s0.epochs, 2);
    assert_int_equal(dfsae_optimizer_step_count(o), 20);
}

/* ---- bad input --------------------------------------------------------- */

static void expect_untouched(void **state, dfsae_model *m, dfsae_optimizer *o,
                             const float *before)
{
    float *now = fx_params(state, m);
    assert_memory_equal(now, before, dfsae_model_num_params(m) * sizeof *now);
    assert_int_equal(dfsae_optimizer_step_count(o), 0);
    assert_true(strlen(dfsae_model_last_error(m)) > 0);
    fx_drop(state, now);
}

static void test_bad_input(void **state)
{
    const size_t n = 10;
    float *X = fx_train_data(state, n, D, 7);
    dfsae_model *m;
    dfsae_optimizer *o;
    make(state, 8, &m, &o);
    dfsae_optimizer *wrong = fx_optimizer(state, DFSAE_SGD, 3);
    float *before = fx_params(state, m);
    dfsae_train_config *c = fx_config(state, 1, 4, 1);

    assert_int_equal(dfsae_model_train(NULL, o, X, n, c, NULL, NULL),
                     DFSAE_ERR_NULL_ARG);
    assert_int_equal(dfsae_model_train(m, NULL, X, n, c, NULL, NULL),
                     DFSAE_ERR_NULL_ARG);
    expect_untouched(state, m, o, before);
    assert_int_equal(dfsae_model_train(m, o, NULL, n, c, NULL, NULL),
                     DFSAE_ERR_NULL_ARG);
    expect_untouched(state, m, o, before);
    assert_int_equal(dfsae_model_train(m, o, X, 0, c, NULL, NULL),
                     DFSAE_ERR_INVALID_ARG);
    expect_untouched(state, m, o, before);
    assert_int_equal(dfsae_model_train(m, wrong, X, n, c, NULL, NULL),
                     DFSAE_ERR_SIZE_MISMATCH);
    expect_untouched(state, m, o, before);
    assert_int_equal(dfsae_optimizer_step_count(wrong), 0);

    /* NaN or Inf anywhere, even in the last row of the last batch. */
    X[n * D - 1] = NAN;
    assert_int_equal(dfsae_model_train(m, o, X, n, c, NULL, NULL),
                     DFSAE_ERR_NON_FINITE_INPUT);
    expect_untouched(state, m, o, before);
    X[n * D - 1] = 0.5f;
    X[3] = -INFINITY;
    assert_int_equal(dfsae_model_train(m, o, X, n, c, NULL, NULL),
                     DFSAE_ERR_NON_FINITE_INPUT);
    expect_untouched(state, m, o, before);
    X[3] = 0.5f;

    /* Variance terms on: batch size 1, or a single row, cannot work. */
    train_set(c, DFSAE_TRAIN_BATCH_SIZE, 1);
    assert_int_equal(dfsae_model_train(m, o, X, n, c, NULL, NULL),
                     DFSAE_ERR_BATCH_TOO_SMALL);
    expect_untouched(state, m, o, before);
    train_set(c, DFSAE_TRAIN_BATCH_SIZE, 4);
    assert_int_equal(dfsae_model_train(m, o, X, 1, c, NULL, NULL),
                     DFSAE_ERR_BATCH_TOO_SMALL);
    expect_untouched(state, m, o, before);
    /* With only the variance term on (no L_tc) the rule still applies. */
    assert_int_equal(dfsae_model_set_option(m, DFSAE_MODEL_LAMBDA_TC, 0),
                     DFSAE_OK);
    assert_int_equal(dfsae_model_train(m, o, X, 1, c, NULL, NULL),
                     DFSAE_ERR_BATCH_TOO_SMALL);
    expect_untouched(state, m, o, before);
    /* ... and with neither, one row trains. */
    assert_int_equal(dfsae_model_set_option(m, DFSAE_MODEL_LAMBDA_VAR, 0),
                     DFSAE_OK);
    assert_int_equal(dfsae_model_train(m, o, X, 1, c, NULL, NULL), DFSAE_OK);
    assert_int_equal(dfsae_optimizer_step_count(o), 1);
}

/* A step that fails after others succeeded: its status comes back, the
 * model and optimizer stay as after the last completed step, and the
 * message says where. Rows 4..7 overflow float in X W^T. */
static void test_failure_mid_training(void **state)
{
    const size_t n = 12;
    float *X = fx_train_data(state, n, D, 10);
    for (size_t i = 4 * D; i < 8 * D; ++i)
        X[i] = 3e38f;
    dfsae_model *m[2];
    dfsae_optimizer *o[2];
    make(state, 8, &m[0], &o[0]);
    make(state, 8, &m[1], &o[1]);
    /* Positive weights so the overflow cannot cancel. */
    float w[K * D + K];
    for (size_t i = 0; i < K * D + K; ++i)
        w[i] = 0.5f;
    for (int i = 0; i < 2; ++i)
        assert_int_equal(dfsae_model_set_params(m[i], w, K * D + K), DFSAE_OK);
    dfsae_train_config *c = fx_config(state, 1, 4, 0);
    assert_int_equal(dfsae_model_train(m[0], o[0], X, n, c, NULL, NULL),
                     DFSAE_ERR_NON_FINITE_RESULT);
    assert_int_equal(dfsae_optimizer_step_count(o[0]), 1);
    assert_non_null(strstr(dfsae_model_last_error(m[0]), "epoch 0, step 1"));
    manual(m[1], o[1], X, 0, 4);
    fx_assert_same_params(state, m[0], m[1]);
}

/* A NULL config means the defaults: one epoch, batch 128, shuffled. */
static void test_null_config(void **state)
{
    const size_t n = 300;
    float *X = fx_train_data(state, n, D, 8);
    dfsae_model *m;
    dfsae_optimizer *o;
    make(state, 8, &m, &o);
    seen s = {0};
    assert_int_equal(dfsae_model_train(m, o, X, n, NULL, record, &s), DFSAE_OK);
    assert_int_equal(s.per_epoch, 3);
    assert_int_equal(s.epochs, 1);
    assert_int_equal(dfsae_optimizer_step_count(o), 3);
}

/* ---- memory ------------------------------------------------------------ */

/* Once the model's workspace is warm, a call allocates its index array and
 * batch buffer and nothing else, however many steps it takes. */
static void test_no_allocation_per_step(void **state)
{
    const size_t n = 37;
    float *X = fx_train_data(state, n, D, 9);
    train_counter *cnt = fx_alloc(state, sizeof *cnt); /* outlives m, o */
    dfsae_allocator a = train_counting_allocator(cnt);
    dfsae_model **m_slot = fx_model_slot(state);
    dfsae_optimizer **o_slot = fx_optimizer_slot(state);
    assert_int_equal(dfsae_model_create(D, K, 1, &a, m_slot), DFSAE_OK);
    dfsae_model *m = *m_slot;
    assert_int_equal(dfsae_optimizer_create(
                         DFSAE_ADAM, dfsae_model_num_params(m), &a, o_slot),
                     DFSAE_OK);
    dfsae_optimizer *o = *o_slot;
    assert_int_equal(dfsae_model_set_option(m, DFSAE_MODEL_LAMBDA_WR, 1),
                     DFSAE_OK);
    dfsae_train_config *c = fx_config(state, 1, 8, 1);
    seed_run(m, 0);
    assert_int_equal(dfsae_model_train(m, o, X, n, c, NULL, NULL), DFSAE_OK);
    size_t base = cnt->allocs;
    assert_int_equal(dfsae_model_train(m, o, X, n, c, NULL, NULL), DFSAE_OK);
    size_t one_epoch = cnt->allocs - base;
    train_set(c, DFSAE_TRAIN_EPOCHS, 6);
    base = cnt->allocs;
    assert_int_equal(dfsae_model_train(m, o, X, n, c, NULL, NULL), DFSAE_OK);
    assert_int_equal(cnt->allocs - base, one_epoch);
    assert_int_equal(one_epoch, 2); /* the index array and the batch */
    /* Unshuffled batches are slices of X: only the index array. */
    train_set(c, DFSAE_TRAIN_SHUFFLE, 0);
    base = cnt->allocs;
    assert_int_equal(dfsae_model_train(m, o, X, n, c, NULL, NULL), DFSAE_OK);
    assert_int_equal(cnt->allocs - base, 1);
    fx_drop(state, o);
    fx_drop(state, m);
    assert_int_equal(cnt->allocs, cnt->frees);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(test_config),
        FIXTURE_TEST(test_unshuffled_equals_manual_loop),
        FIXTURE_TEST(test_shuffled_replay_and_reported_loss),
        FIXTURE_TEST(test_seed_determinism_and_resume),
        FIXTURE_TEST(test_run_state_access),
        FIXTURE_TEST(test_continue_mid_epoch),
        FIXTURE_TEST(test_continue_with_other_batch),
        FIXTURE_TEST(test_run_state_misfit),
        FIXTURE_TEST(test_batch_of_one_rule),
        FIXTURE_TEST(test_cancel),
        FIXTURE_TEST(test_report_every),
        FIXTURE_TEST(test_bad_input),
        FIXTURE_TEST(test_failure_mid_training),
        FIXTURE_TEST(test_null_config),
        FIXTURE_TEST(test_no_allocation_per_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
