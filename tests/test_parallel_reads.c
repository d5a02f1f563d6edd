/* A callback source with parallel reads (dfsae_source_set_parallel_reads):
 * a batch the training loop fetches inline is split between the caller
 * and its helper thread, each half one call (the halves are under 256
 * rows), and the model trains to the bits of the float32 array; without
 * the setting no two calls ever overlap. A failed read and a non-finite
 * row in different halves are reported as from one read: the failed read
 * wins, whichever half it is in; a non-finite row alone is named. A
 * sequential callback is never split: its runs come one call at a time,
 * each where the last ended. The setter's errors. */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#ifndef DFSAE_STATIC_LINKING_ONLY
#define DFSAE_STATIC_LINKING_ONLY
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "dfsae.h"
#include "fixture.h"
#include "train_fixture.h"

#define D     64
#define K     8
#define N     400
#define BATCH 100 /* 6400 floats a batch: enough for the helper */

typedef struct reader {
    const float *X;
    atomic_int in_flight, most_in_flight;
    atomic_size_t half_calls; /* calls for exactly BATCH / 2 rows */
    size_t fail_row;          /* a call asking for it fails; N: none */
    int linger;               /* each call sleeps 2 ms: overlaps would show */
    atomic_size_t next;       /* where the last run ended */
    atomic_int out_of_order;  /* runs that did not start there */
} reader;

static int read_rows(void *user, const size_t *rows, size_t count, void *out)
{
    reader *rd = user;
    int now = atomic_fetch_add(&rd->in_flight, 1) + 1;
    int most = atomic_load(&rd->most_in_flight);
    while (now > most &&
           !atomic_compare_exchange_weak(&rd->most_in_flight, &most, now))
        ;
    if (rd->linger) {
        struct timespec t = {0, 2000000L};
        nanosleep(&t, NULL);
    }
    if (rows[0] != atomic_exchange(&rd->next, rows[count - 1] + 1) % N)
        atomic_fetch_add(&rd->out_of_order, 1);
    int rc = 0;
    for (size_t i = 0; i < count; ++i) {
        if (rows[i] == rd->fail_row)
            rc = 9;
        memcpy((float *)out + i * D, rd->X + rows[i] * D, D * sizeof(float));
    }
    if (count == BATCH / 2)
        atomic_fetch_add(&rd->half_calls, 1);
    atomic_fetch_sub(&rd->in_flight, 1);
    return rc;
}

static dfsae_source *callback(void **state, reader *rd, float *X, int parallel,
                              int sequential)
{
    rd->X = X;
    atomic_init(&rd->in_flight, 0);
    atomic_init(&rd->most_in_flight, 0);
    atomic_init(&rd->half_calls, 0);
    rd->fail_row = N;
    rd->linger = 0;
    atomic_init(&rd->next, 0);
    atomic_init(&rd->out_of_order, 0);
    dfsae_source *s = NULL;
    assert_int_equal(dfsae_source_from_callback(read_rows, rd, DFSAE_ELEM_F32,
                                                N, D, sequential, NULL, &s),
                     DFSAE_OK);
    fx_keep_with(state, s, (void (*)(void *))dfsae_source_free);
    assert_int_equal(dfsae_source_set_parallel_reads(s, parallel), DFSAE_OK);
    return s;
}

static const fresh_model model = {D, K, 5, 77};

static void halves_train_to_the_arrays_bits(void **state)
{
    float *X = fx_train_data(state, N, D, 3);
    dfsae_train_config *c = fx_config(state, 3, BATCH, 1);
    dfsae_source *arr = NULL;
    assert_int_equal(
        dfsae_source_from_array(X, DFSAE_ELEM_F32, N, D, NULL, &arr), DFSAE_OK);
    fx_keep_with(state, arr, (void (*)(void *))dfsae_source_free);
    const float *want = fx_train_fresh(state, &model, arr, c, NULL, NULL);
    reader rd;
    dfsae_source *par = callback(state, &rd, X, 1, 0);
    const float *got = fx_train_fresh(state, &model, par, c, NULL, NULL);
    fresh_assert_same(&model, want, got);
    /* Each epoch's first batch is fetched inline (and the probe's inline
     * steps): in two halves. */
    assert_true(atomic_load(&rd.half_calls) >= 2 * 3);
    /* One call at a time without the setting. */
    dfsae_source *one = callback(state, &rd, X, 0, 0);
    got = fx_train_fresh(state, &model, one, c, NULL, NULL);
    fresh_assert_same(&model, want, got);
    assert_int_equal(atomic_load(&rd.half_calls), 0);
    assert_int_equal(atomic_load(&rd.most_in_flight), 1);
}

/* The first step's batch (rows 0..BATCH-1 in order, unshuffled) with a
 * NaN in row nan_row and a failed read of row fail_row (N: none); the
 * status and message of the run. */
static int first_batch_fails(void **state, int parallel, size_t nan_row,
                             size_t fail_row, char *msg)
{
    float *X = fx_train_data(state, N, D, 3);
    X[nan_row * D + 5] = __builtin_nanf("");
    dfsae_train_config *c = fx_config(state, 1, BATCH, 0);
    reader rd;
    dfsae_source *s = callback(state, &rd, X, parallel, 0);
    rd.fail_row = fail_row;
    dfsae_model *m;
    dfsae_optimizer *o;
    fx_fresh(state, &model, &m, &o);
    int st = dfsae_model_train_source(m, o, s, c, NULL, NULL);
    strcpy(msg, dfsae_model_last_error(m));
    return st;
}

static void failures_reported_as_from_one_read(void **state)
{
    char msg[512], one[512];
    /* A failed read in the second half, a NaN in the first: the read. */
    assert_int_equal(first_batch_fails(state, 1, 3, 70, msg), DFSAE_ERR_IO);
    assert_non_null(strstr(msg, "epoch 0, step 0"));
    assert_non_null(strstr(msg, "read callback returned 9"));
    assert_int_equal(first_batch_fails(state, 0, 3, 70, one), DFSAE_ERR_IO);
    /* The other way round. */
    assert_int_equal(first_batch_fails(state, 1, 70, 3, msg), DFSAE_ERR_IO);
    assert_non_null(strstr(msg, "read callback returned 9"));
    /* A NaN alone, in either half, is named with its row as without the
     * setting. */
    for (size_t row = 3; row < BATCH; row += 67) {
        assert_int_equal(first_batch_fails(state, 1, row, N, msg),
                         DFSAE_ERR_NON_FINITE_INPUT);
        assert_int_equal(first_batch_fails(state, 0, row, N, one),
                         DFSAE_ERR_NON_FINITE_INPUT);
        assert_string_equal(msg, one);
    }
}

/* Unshuffled, a sequential callback is read in order: split, its second
 * half would be asked for while the first is still being read. */
static void sequential_is_never_split(void **state)
{
    float *X = fx_train_data(state, N, D, 3);
    dfsae_train_config *c = fx_config(state, 2, BATCH, 0);
    reader rd;
    dfsae_source *s = callback(state, &rd, X, 1, 1);
    rd.linger = 1;
    fx_train_fresh(state, &model, s, c, NULL, NULL);
    assert_int_equal(atomic_load(&rd.most_in_flight), 1);
    assert_int_equal(atomic_load(&rd.half_calls), 0);
    assert_int_equal(atomic_load(&rd.out_of_order), 0);
}

static void setter_errors(void **state)
{
    reader rd;
    float *X = fx_train_data(state, N, D, 3);
    dfsae_source *s = callback(state, &rd, X, 0, 0);
    assert_int_equal(dfsae_source_set_parallel_reads(NULL, 1),
                     DFSAE_ERR_NULL_ARG);
    assert_int_equal(dfsae_source_set_parallel_reads(s, 2),
                     DFSAE_ERR_INVALID_ARG);
    assert_int_equal(dfsae_source_set_parallel_reads(s, -1),
                     DFSAE_ERR_INVALID_ARG);
    /* An array's rows may always be read so. */
    dfsae_source *arr = NULL;
    assert_int_equal(
        dfsae_source_from_array(X, DFSAE_ELEM_F32, N, D, NULL, &arr), DFSAE_OK);
    assert_int_equal(dfsae_source_set_parallel_reads(arr, 1), DFSAE_OK);
    dfsae_source_free(arr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(halves_train_to_the_arrays_bits),
        FIXTURE_TEST(failures_reported_as_from_one_read),
        FIXTURE_TEST(sequential_is_never_split),
        FIXTURE_TEST(setter_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
