/* DFSAE_TRAIN_FETCH (experimental): each way of fetching a batch is the
 * one taken, whatever the automatic policy would have chosen, as the
 * callback's calls show (on the caller or off it, whole or in halves) and
 * as DFSAE_PROGRESS_FETCHED_AHEAD reports it, step by step and per epoch;
 * every way trains to the bits of the float32 array, and so does the array
 * itself told to fetch between steps (its copies split). The key's bounds. */
#ifndef DFSAE_STATIC_LINKING_ONLY
#define DFSAE_STATIC_LINKING_ONLY
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dfsae.h"
#include "fixture.h"
#include "thread_reader.h"
#include "train_fixture.h"

#define D      64
#define K      8
#define N      400
#define EPOCHS 2
#define WORTH  100 /* 6400 floats a batch: the automatic policy probes */
#define SMALL  25  /* 1600 floats: it fetches between steps */
#define STEPS  (N / SMALL * EPOCHS)

/* What the progress reports said of the way each batch was fetched. */
typedef struct seen {
    size_t steps, epochs;
    double step_ahead[STEPS];
    double epoch_ahead[EPOCHS];
} seen;

static int record(const dfsae_progress *p, void *user)
{
    seen *s = user;
    double ahead = dfsae_progress_get(p, DFSAE_PROGRESS_FETCHED_AHEAD);
    if (dfsae_progress_get(p, DFSAE_PROGRESS_EVENT) == DFSAE_EVENT_STEP) {
        assert_true(s->steps < STEPS);
        s->step_ahead[s->steps++] = ahead;
    } else {
        assert_true(s->epochs < EPOCHS);
        s->epoch_ahead[s->epochs++] = ahead;
    }
    return 0;
}

static const fresh_model model = {D, K, 5, 77};

typedef struct outcome {
    size_t calls, off_caller; /* of the read callback */
    seen reports;
    const float *params;
} outcome;

/* Trains a fresh model on a callback source over X, fetching as `policy`
 * says, with batches of `batch` rows. */
static void train_with(void **state, const float *X, int policy, size_t batch,
                       int parallel, outcome *out)
{
    dfsae_train_config *c = fx_config(state, EPOCHS, (double)batch, 1);
    assert_int_equal(dfsae_train_config_set(c, DFSAE_TRAIN_FETCH, policy),
                     DFSAE_OK);
    static thread_reader rd;
    thread_reader_init(&rd, X, D);
    dfsae_source *s = NULL;
    assert_int_equal(dfsae_source_from_callback(thread_reader_read, &rd,
                                                DFSAE_ELEM_F32, N, D, 0, NULL,
                                                &s),
                     DFSAE_OK);
    fx_keep_with(state, s, (void (*)(void *))dfsae_source_free);
    assert_int_equal(dfsae_source_set_parallel_reads(s, parallel), DFSAE_OK);
    memset(&out->reports, 0, sizeof out->reports);
    out->params = fx_train_fresh(state, &model, s, c, record, &out->reports);
    out->calls = atomic_load(&rd.calls);
    out->off_caller = atomic_load(&rd.off_caller);
}

/* Every step after each epoch's first reported ahead (1), or none (0);
 * the epochs' counts to match. */
static void assert_reported(const seen *s, size_t steps, int ahead)
{
    assert_int_equal(s->steps, steps);
    assert_int_equal(s->epochs, EPOCHS);
    const size_t per_epoch = steps / EPOCHS;
    for (size_t i = 0; i < steps; ++i) {
        const double want = ahead && i % per_epoch != 0 ? 1.0 : 0.0;
        if (s->step_ahead[i] != want)
            fail_msg("step %zu reported %g, expected %g", i, s->step_ahead[i],
                     want);
    }
    for (size_t e = 0; e < EPOCHS; ++e)
        assert_true(s->epoch_ahead[e] == (ahead ? (double)per_epoch - 1 : 0.0));
}

static void each_way_is_the_one_taken(void **state)
{
    float *X = fx_train_data(state, N, D, 3);
    dfsae_source *arr = NULL;
    assert_int_equal(
        dfsae_source_from_array(X, DFSAE_ELEM_F32, N, D, NULL, &arr), DFSAE_OK);
    fx_keep_with(state, arr, (void (*)(void *))dfsae_source_free);
    dfsae_train_config *c = fx_config(state, EPOCHS, SMALL, 1);
    const float *small_want = fx_train_fresh(state, &model, arr, c, NULL, NULL);
    c = fx_config(state, EPOCHS, WORTH, 1);
    const float *worth_want = fx_train_fresh(state, &model, arr, c, NULL, NULL);
    outcome o;

    /* Small batches: automatically between steps, on the caller... */
    train_with(state, X, DFSAE_FETCH_AUTO, SMALL, 0, &o);
    assert_int_equal(o.calls, STEPS);
    assert_int_equal(o.off_caller, 0);
    assert_reported(&o.reports, STEPS, 0);
    fresh_assert_same(&model, small_want, o.params);
    /* ...ahead when told: all but each epoch's first on the helper. */
    train_with(state, X, DFSAE_FETCH_AHEAD, SMALL, 0, &o);
    assert_int_equal(o.calls, STEPS);
    assert_int_equal(o.off_caller, STEPS - EPOCHS);
    assert_reported(&o.reports, STEPS, 1);
    fresh_assert_same(&model, small_want, o.params);

    /* Batches worth it: the automatic policy starts with a probe block
     * ahead (longer than these 4-step epochs)... */
    const size_t steps = N / WORTH * EPOCHS;
    train_with(state, X, DFSAE_FETCH_AUTO, WORTH, 0, &o);
    assert_int_equal(o.off_caller, steps - EPOCHS);
    assert_reported(&o.reports, steps, 1);
    fresh_assert_same(&model, worth_want, o.params);
    /* ...which BETWEEN overrides: all on the caller... */
    train_with(state, X, DFSAE_FETCH_BETWEEN, WORTH, 0, &o);
    assert_int_equal(o.calls, steps);
    assert_int_equal(o.off_caller, 0);
    assert_reported(&o.reports, steps, 0);
    fresh_assert_same(&model, worth_want, o.params);
    /* ...or, with parallel reads, every batch in two halves, one off it. */
    train_with(state, X, DFSAE_FETCH_BETWEEN, WORTH, 1, &o);
    assert_int_equal(o.calls, 2 * steps);
    assert_int_equal(o.off_caller, steps);
    assert_reported(&o.reports, steps, 0);
    fresh_assert_same(&model, worth_want, o.params);
    /* A float32 array told BETWEEN splits its copies: the same bits. */
    assert_int_equal(
        dfsae_train_config_set(c, DFSAE_TRAIN_FETCH, DFSAE_FETCH_BETWEEN),
        DFSAE_OK);
    fresh_assert_same(&model, worth_want,
                      fx_train_fresh(state, &model, arr, c, NULL, NULL));
}

static void key_bounds(void **state)
{
    dfsae_train_config *c = fx_config(state, 1, 10, 1);
    double v = -1, lo = -1, hi = -1;
    assert_int_equal(dfsae_train_config_get(c, DFSAE_TRAIN_FETCH, &v),
                     DFSAE_OK);
    assert_true(v == DFSAE_FETCH_AUTO);
    assert_int_equal(dfsae_train_option_bounds(DFSAE_TRAIN_FETCH, &lo, &hi),
                     DFSAE_OK);
    assert_true(lo == DFSAE_FETCH_AUTO && hi == DFSAE_FETCH_BETWEEN);
    assert_int_equal(dfsae_train_config_set(c, DFSAE_TRAIN_FETCH, 3),
                     DFSAE_ERR_PARAM_OUT_OF_RANGE);
    assert_int_equal(dfsae_train_config_set(c, DFSAE_TRAIN_FETCH, 1.5),
                     DFSAE_ERR_PARAM_OUT_OF_RANGE);
    assert_int_equal(dfsae_train_config_set(c, DFSAE_TRAIN_FETCH, 2), DFSAE_OK);
    assert_int_equal(dfsae_train_config_get(c, DFSAE_TRAIN_FETCH, &v),
                     DFSAE_OK);
    assert_true(v == DFSAE_FETCH_BETWEEN);
    /* The public keys still end where they did. */
    assert_int_equal(dfsae_train_config_set(c, DFSAE_TRAIN_OPTION_COUNT, 1),
                     DFSAE_ERR_UNKNOWN_PARAM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(each_way_is_the_one_taken),
        FIXTURE_TEST(key_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
