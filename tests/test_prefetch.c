/* Batches fetched ahead (on the training loop's helper thread, while the
 * step before trains) are the ones a synchronous loop would train on: every
 * step's loss and the final parameters equal those of dfsae_train_step
 * called by hand on the rows each step reported, the source is read in
 * step order, each row once per epoch, and nothing is read ahead across an
 * epoch; failed reads, non-finite rows and a cancel stop at the same step
 * with the same model as without prefetching, and a resumed run ends as an
 * uninterrupted one. The batches here are large enough (rows x D >= 4096
 * floats) for the loop to prefetch. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dfsae.h"
#include "fixture.h"
#include "train_data.h"
#include "train_fixture.h"

#define D               64
#define K               8
#define N               1030 /* 10 batches of 100 and one of 30 */
#define BATCH           100
#define EPOCHS          3
#define STEPS_PER_EPOCH 11
#define MAX_STEPS       (EPOCHS * STEPS_PER_EPOCH)

/* What the read callback saw. */
typedef struct reads {
    const float *X;
    size_t log[EPOCHS * N]; /* every row asked for, in order */
    size_t rows, calls;
    size_t fail_at_call; /* 1-based; 0: never */
} reads;

static int read_rows(void *user, const size_t *rows, size_t count, void *out)
{
    reads *rd = user;
    rd->calls++;
    if (rd->fail_at_call != 0 && rd->calls == rd->fail_at_call)
        return 5;
    for (size_t i = 0; i < count; ++i) {
        if (rd->rows < EPOCHS * N)
            rd->log[rd->rows] = rows[i];
        rd->rows++;
        memcpy((float *)out + i * D, rd->X + rows[i] * D, D * sizeof(float));
    }
    return 0;
}

/* What the progress reports said, step by step. */
typedef struct trace {
    size_t steps;
    size_t first[MAX_STEPS + 1], rows[MAX_STEPS]; /* into order */
    size_t order[EPOCHS * N];
    double loss[MAX_STEPS];
    size_t cancel_after; /* steps; 0: never */
} trace;

static int record(const dfsae_progress *p, void *user)
{
    trace *t = user;
    if (dfsae_progress_get(p, DFSAE_PROGRESS_EVENT) != DFSAE_EVENT_STEP)
        return 0;
    assert_true(t->steps < MAX_STEPS);
    const size_t rows =
        (size_t)dfsae_progress_get(p, DFSAE_PROGRESS_BATCH_ROWS);
    const size_t *idx = dfsae_progress_batch_indices(p);
    const size_t at = t->first[t->steps];
    memcpy(t->order + at, idx, rows * sizeof *idx);
    t->rows[t->steps] = rows;
    t->loss[t->steps] = dfsae_progress_get(p, DFSAE_PROGRESS_LOSS);
    t->steps++;
    t->first[t->steps] = at + rows;
    return t->cancel_after != 0 && t->steps == t->cancel_after;
}

static dfsae_train_config *config(void **state, double epochs)
{
    dfsae_train_config *c = fx_config(state, epochs, BATCH, 1);
    train_set(c, DFSAE_TRAIN_REPORT_EVERY, 1);
    return c;
}

/* Every fresh model: init seed 9, shuffle seed 21. */
static const fresh_model MODEL = {D, K, 9, 21};

static dfsae_source *callback_source(void **state, reads *rd, const float *X)
{
    memset(rd, 0, sizeof *rd);
    rd->X = X;
    dfsae_source **s = fx_source_slot(state);
    assert_int_equal(dfsae_source_from_callback(read_rows, rd, DFSAE_ELEM_F32,
                                                N, D, 0, NULL, s),
                     DFSAE_OK);
    return *s;
}

/* The synchronous path: a fresh model trained by hand, one
 * dfsae_train_step per step of t (the first `steps`), each on the rows that
 * step reported, its loss compared bit for bit; returns the parameters
 * (the fixture's). */
static float *replay(void **state, const float *X, const trace *t, size_t steps)
{
    dfsae_model *m;
    dfsae_optimizer *o;
    fx_fresh(state, &MODEL, &m, &o);
    float *batch = fx_alloc(state, (BATCH + 1) * D * sizeof *batch);
    for (size_t s = 0; s < steps; ++s) {
        assert_true(t->rows[s] <= BATCH + 1); /* fits batch */
        for (size_t i = 0; i < t->rows[s]; ++i)
            memcpy(batch + i * D, X + t->order[t->first[s] + i] * D,
                   D * sizeof *batch);
        double loss;
        assert_int_equal(
            dfsae_train_step(m, o, batch, t->rows[s], &loss, NULL, 0),
            DFSAE_OK);
        assert_memory_equal(&loss, &t->loss[s], sizeof loss);
    }
    float *p = fx_params(state, m);
    fx_drop(state, batch);
    fx_drop(state, o);
    fx_drop(state, m);
    return p;
}

static void check_permutation(const size_t *order)
{
    static unsigned char seen[N];
    memset(seen, 0, sizeof seen);
    for (size_t i = 0; i < N; ++i) {
        assert_true(order[i] < N);
        assert_int_equal(seen[order[i]], 0);
        seen[order[i]] = 1;
    }
}

static void prefetched_batches_are_the_synchronous_ones(void **state)
{
    float *X = fx_train_data(state, N, D, 4);
    dfsae_train_config *c = config(state, EPOCHS);
    static reads rd;
    static trace t;
    memset(&t, 0, sizeof t);
    dfsae_source *src = callback_source(state, &rd, X);
    float *trained = fx_train_fresh(state, &MODEL, src, c, record, &t);
    assert_int_equal(t.steps, MAX_STEPS);
    for (size_t e = 0; e < EPOCHS; ++e)
        check_permutation(t.order + e * N);
    /* Shuffled: epochs differ, and neither is the identity. */
    assert_memory_not_equal(t.order, t.order + N, N * sizeof t.order[0]);
    /* Read in the order of the steps, each row once, nothing more. */
    assert_int_equal(rd.rows, EPOCHS * N);
    assert_memory_equal(rd.log, t.order, EPOCHS * N * sizeof rd.log[0]);
    float *by_hand = replay(state, X, &t, t.steps);
    fresh_assert_same(&MODEL, trained, by_hand);
    /* An array source (fetched inline: prefetch.h) trains the same. */
    dfsae_source **arr = fx_source_slot(state);
    assert_int_equal(
        dfsae_source_from_array(X, DFSAE_ELEM_F32, N, D, NULL, arr), DFSAE_OK);
    float *from_array = fx_train_fresh(state, &MODEL, *arr, c, NULL, NULL);
    fresh_assert_same(&MODEL, from_array, by_hand);
}

/* A run stopped at step `at` of epoch 0 has the parameters of `at` steps
 * by hand, and its optimizer took `at` steps. */
static void assert_stopped_after(void **state, const float *X, dfsae_model *m,
                                 dfsae_optimizer *o, const trace *t, size_t at)
{
    assert_int_equal(dfsae_optimizer_step_count(o), at);
    float *p = fx_params(state, m), *ref = replay(state, X, t, at);
    fresh_assert_same(&MODEL, p, ref);
    fx_drop(state, p);
    fx_drop(state, ref);
}

static void failures_stop_where_they_would_inline(void **state)
{
    float *X = fx_train_data(state, N, D, 6);
    dfsae_train_config *c = config(state, 1);
    static reads rd;
    static trace full, t;
    memset(&full, 0, sizeof full);
    dfsae_source *src = callback_source(state, &rd, X);
    fx_drop(state, fx_train_fresh(state, &MODEL, src, c, record, &full));
    /* The 5th read (one per batch of 100 rows) fails: 4 steps were taken,
     * though it was asked for while the 4th trained. */
    memset(&t, 0, sizeof t);
    rd.calls = 0;
    rd.fail_at_call = 5;
    dfsae_model *m;
    dfsae_optimizer *o;
    fx_fresh(state, &MODEL, &m, &o);
    assert_int_equal(dfsae_model_train_source(m, o, src, c, record, &t),
                     DFSAE_ERR_IO);
    assert_non_null(strstr(dfsae_model_last_error(m), "epoch 0, step 4:"));
    assert_non_null(strstr(dfsae_model_last_error(m), "returned 5"));
    assert_int_equal(t.steps, 4);
    assert_stopped_after(state, X, m, o, &full, 4);
    fx_drop(state, o);
    fx_drop(state, m);
    /* A NaN in the 7th batch's 3rd row: 6 steps, the row named. */
    rd.fail_at_call = 0;
    const size_t bad = full.order[6 * BATCH + 2];
    const float keep = X[bad * D + 1];
    X[bad * D + 1] = NAN;
    fx_fresh(state, &MODEL, &m, &o);
    assert_int_equal(dfsae_model_train_source(m, o, src, c, NULL, NULL),
                     DFSAE_ERR_NON_FINITE_INPUT);
    char want[64];
    snprintf(want, sizeof want, "epoch 0, step 6: row %zu of the source", bad);
    assert_non_null(strstr(dfsae_model_last_error(m), want));
    assert_stopped_after(state, X, m, o, &full, 6);
    X[bad * D + 1] = keep;
    fx_drop(state, o);
    fx_drop(state, m);
    /* Cancelled after step 3 (the 4th batch already fetched): 3 steps, the
     * run state at row 300; continued, it ends as the uninterrupted run. */
    memset(&t, 0, sizeof t);
    t.cancel_after = 3;
    fx_fresh(state, &MODEL, &m, &o);
    assert_int_equal(dfsae_model_train_source(m, o, src, c, record, &t),
                     DFSAE_ERR_CANCELLED);
    assert_stopped_after(state, X, m, o, &full, 3);
    uint64_t rows_done;
    assert_int_equal(dfsae_model_get_run_state(m, NULL, &rows_done, NULL),
                     DFSAE_OK);
    assert_int_equal(rows_done, 3 * BATCH);
    assert_int_equal(dfsae_model_train_source(m, o, src, c, NULL, NULL),
                     DFSAE_OK);
    float *resumed = fx_params(state, m),
          *ref = replay(state, X, &full, full.steps);
    fresh_assert_same(&MODEL, resumed, ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(prefetched_batches_are_the_synchronous_ones),
        FIXTURE_TEST(failures_stop_where_they_would_inline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
