/* dfsae_model_forward on a const model: what a model used only to encode
 * holds in memory, threads sharing one model, statuses without messages,
 * and batches cut by forward itself. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api_alloc.h"
#include "api_data.h"
#include "dfsae.h"
#include "fixture.h"

/* Bytes a model handle may hold beyond its K x D + K floats. */
#define HANDLE_BYTES 4096

static float *random_rows(void **state, uint64_t seed, size_t n, size_t d)
{
    float *X = fx_alloc(state, n * d * sizeof *X);
    api_rng g;
    api_rng_seed(&g, seed);
    api_make_clusters(&g, X, n, d, 4, 1.0, 0.5);
    return X;
}

/* A saved model of shape d x k, loaded through a counting allocator
 * (ctl, owned by the fixture before the model, outlives it). */
static dfsae_model *load_counted(void **state, size_t d, size_t k,
                                 api_alloc_ctl *ctl)
{
    dfsae_model *saved = fx_model(state, d, k, 3);
    size_t size;
    assert_int_equal(dfsae_model_save_buffer(saved, NULL, NULL, 0, &size),
                     DFSAE_OK);
    void *file = fx_alloc(state, size);
    assert_int_equal(dfsae_model_save_buffer(saved, NULL, file, size, &size),
                     DFSAE_OK);
    fx_drop(state, saved);
    dfsae_allocator a = api_allocator(ctl);
    char err[DFSAE_ERROR_MESSAGE_SIZE];
    dfsae_model **m = fx_model_slot(state);
    assert_int_equal(
        dfsae_model_load_buffer(file, size, &a, m, NULL, err, sizeof err),
        DFSAE_OK);
    fx_drop(state, file);
    return *m;
}

/* A loaded model that only encodes holds its weights, its bias and the
 * handle: no gradient, no workspace, and forward allocates nothing. The
 * first loss then takes its workspace (so the counting sees it). */
static void test_forward_only_memory(void **state)
{
    const size_t shapes[][2] = {{784, 64}, {768, 4096}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s) {
        const size_t d = shapes[s][0], k = shapes[s][1], n = 32;
        const size_t params = (k * d + k) * sizeof(float);
        api_alloc_ctl *ctl = fx_alloc(state, sizeof *ctl);
        api_alloc_ctl_init(ctl);
        dfsae_model *m = load_counted(state, d, k, ctl);
        const size_t loaded = ctl->live_bytes, events = api_alloc_events(ctl);
        float *X = random_rows(state, 5 + s, n, d);
        float *A = fx_alloc(state, n * k * sizeof *A);
        float *Z = fx_alloc(state, n * k * sizeof *Z);
        float *R = fx_alloc(state, n * k * sizeof *R);
        const dfsae_model *reader = m;
        for (int rep = 0; rep < 3; ++rep)
            assert_int_equal(dfsae_model_forward(reader, X, n, A, Z, R),
                             DFSAE_OK);
        assert_int_equal(api_alloc_events(ctl), events);
        print_message("forward-only model %zu x %zu: %zu bytes held, "
                      "weights + bias %zu bytes (+%zu)\n",
                      d, k, ctl->live_bytes, params, ctl->live_bytes - params);
        assert_true(ctl->live_bytes >= params);
        assert_true(ctl->live_bytes <= params + HANDLE_BYTES);
        assert_int_equal(ctl->live_bytes, loaded);
        if (k <= 64) {
            double loss;
            assert_int_equal(dfsae_model_loss(m, X, n, &loss, NULL, 0),
                             DFSAE_OK);
            assert_true(ctl->live_bytes > params + HANDLE_BYTES);
        }
        fx_drop(state, R);
        fx_drop(state, Z);
        fx_drop(state, A);
        fx_drop(state, X);
        fx_drop(state, m);
        assert_int_equal(ctl->live_bytes, 0);
        fx_drop(state, ctl);
    }
}

/* A created model is no different: its parameters, nothing more. */
static void test_created_model_memory(void **state)
{
    api_alloc_ctl *ctl = fx_alloc_ctl(state);
    dfsae_model *m = fx_model_on(state, ctl, 100, 30, 1);
    const size_t params = (30 * 100 + 30) * sizeof(float);
    assert_true(ctl->live_bytes >= params);
    assert_true(ctl->live_bytes <= params + HANDLE_BYTES);
    /* Its blocks are cmocka's, checked for leaks when the test returns. */
    fx_drop(state, m);
}

/* ---- threads sharing one model ----------------------------------------- */

#define N_THREADS 8
#define REPS      20

typedef struct shared {
    const dfsae_model *m;
    const float *X;
    size_t n, k;
    const float *want_A, *want_Z, *want_R;
} shared;

typedef struct worker {
    const shared *s;
    float *A, *Z, *R;
    int status;     /* the first non-OK status, or DFSAE_OK */
    int mismatches; /* calls whose outputs differ from one thread's */
} worker;

static void *encode_many(void *arg)
{
    worker *w = arg;
    const shared *s = w->s;
    const size_t bytes = s->n * s->k * sizeof(float);
    for (int rep = 0; rep < REPS; ++rep) {
        int st = dfsae_model_forward(s->m, s->X, s->n, w->A, w->Z, w->R);
        if (st != DFSAE_OK && w->status == DFSAE_OK)
            w->status = st;
        w->mismatches += memcmp(w->A, s->want_A, bytes) != 0 ||
                         memcmp(w->Z, s->want_Z, bytes) != 0 ||
                         memcmp(w->R, s->want_R, bytes) != 0;
    }
    return NULL;
}

/* Eight threads encode with one model at once, which has trained (so it
 * has a workspace), has workers of its own and, the second time, an input
 * transform (so forward runs its stack scratch): every result is
 * bit-identical to one thread's. Run under ThreadSanitizer in CI. */
static void share_one_model(void **state, int with_transform)
{
    const size_t n = 200, d = 48, k = 40;
    dfsae_model *m = fx_model(state, d, k, 9);
    assert_int_equal(dfsae_model_set_threads(m, 2), DFSAE_OK);
    assert_int_equal(
        dfsae_model_set_option(m, DFSAE_MODEL_ACTIVATION, DFSAE_ACT_SOFTPLUS),
        DFSAE_OK);
    float shift[48], scale[48];
    for (size_t j = 0; j < d; ++j) {
        shift[j] = 0.2f * (float)j - 3.0f;
        scale[j] = 0.5f + 0.02f * (float)j;
    }
    if (with_transform)
        assert_int_equal(dfsae_model_set_transform(m, shift, scale, d),
                         DFSAE_OK);
    float *X = random_rows(state, 21, n, d);
    size_t np = dfsae_model_num_params(m);
    float *g = fx_alloc(state, np * sizeof *g);
    dfsae_optimizer *o = fx_optimizer(state, DFSAE_ADAM, np);
    assert_int_equal(dfsae_model_grad(m, X, n, g, NULL, NULL, 0), DFSAE_OK);
    assert_int_equal(dfsae_optimizer_step(o, m, g), DFSAE_OK);

    const size_t nk = n * k;
    float *want = fx_alloc(state, 3 * nk * sizeof *want);
    assert_int_equal(
        dfsae_model_forward(m, X, n, want, want + nk, want + 2 * nk), DFSAE_OK);
    shared s = {m, X, n, k, want, want + nk, want + 2 * nk};
    worker w[N_THREADS];
    pthread_t tid[N_THREADS];
    for (int t = 0; t < N_THREADS; ++t) {
        float *out = fx_alloc(state, 3 * nk * sizeof *out);
        w[t] = (worker){&s, out, out + nk, out + 2 * nk, DFSAE_OK, 0};
    }
    for (int t = 0; t < N_THREADS; ++t)
        assert_int_equal(pthread_create(&tid[t], NULL, encode_many, &w[t]), 0);
    for (int t = 0; t < N_THREADS; ++t)
        assert_int_equal(pthread_join(tid[t], NULL), 0);
    for (int t = 0; t < N_THREADS; ++t) {
        assert_int_equal(w[t].status, DFSAE_OK);
        if (w[t].mismatches != 0)
            fail_msg("thread %d: %d of %d results differ from one thread's", t,
                     w[t].mismatches, REPS);
    }
}

static void test_threads_share_one_model(void **state)
{
    share_one_model(state, 0);
    share_one_model(state, 1);
}

/* ---- statuses, aliasing, batches --------------------------------------- */

/* Forward reports by status alone: the model's last error is the one the
 * failed set_option left, through failing and succeeding forwards. */
static void test_forward_writes_no_message(void **state)
{
    dfsae_model *m = fx_model(state, 3, 2, 1);
    float X[2 * 3] = {1, 2, 3, 4, 5, 6}, A[2 * 2], Z[2 * 2];
    assert_int_equal(dfsae_model_set_option(m, DFSAE_MODEL_EPS_VAR, -1.0),
                     DFSAE_ERR_PARAM_OUT_OF_RANGE);
    char before[DFSAE_ERROR_MESSAGE_SIZE];
    strncpy(before, dfsae_model_last_error(m), sizeof before - 1);
    before[sizeof before - 1] = '\0';
    assert_true(before[0] != '\0');
    assert_int_equal(dfsae_model_forward(m, NULL, 2, A, NULL, NULL),
                     DFSAE_ERR_NULL_ARG);
    assert_int_equal(dfsae_model_forward(m, X, 2, NULL, NULL, NULL),
                     DFSAE_ERR_NULL_ARG);
    assert_int_equal(dfsae_model_forward(m, X, 0, A, NULL, NULL),
                     DFSAE_ERR_INVALID_ARG);
    assert_int_equal(dfsae_model_forward(m, X, SIZE_MAX / 2, A, NULL, NULL),
                     DFSAE_ERR_SIZE_OVERFLOW);
    X[4] = NAN;
    assert_int_equal(dfsae_model_forward(m, X, 2, A, NULL, NULL),
                     DFSAE_ERR_NON_FINITE_INPUT);
    X[4] = 5.0f;
    assert_int_equal(dfsae_model_forward(m, X, 2, A, Z, NULL), DFSAE_OK);
    assert_string_equal(dfsae_model_last_error(m), before);
    assert_int_equal(dfsae_model_forward(NULL, X, 2, A, NULL, NULL),
                     DFSAE_ERR_NULL_ARG);
}

/* Two outputs in one buffer are refused, leaving the buffer untouched. */
static void test_forward_rejects_shared_outputs(void **state)
{
    dfsae_model *m = fx_model(state, 3, 2, 1);
    float X[2 * 3] = {1, 2, 3, 4, 5, 6}, A[4], Z[4], copy[4];
    for (int i = 0; i < 4; ++i)
        A[i] = Z[i] = copy[i] = (float)i - 7.0f;
    assert_int_equal(dfsae_model_forward(m, X, 2, A, A, NULL),
                     DFSAE_ERR_INVALID_ARG);
    assert_int_equal(dfsae_model_forward(m, X, 2, A, NULL, A),
                     DFSAE_ERR_INVALID_ARG);
    assert_int_equal(dfsae_model_forward(m, X, 2, A, Z, Z),
                     DFSAE_ERR_INVALID_ARG);
    assert_memory_equal(A, copy, sizeof A);
    assert_memory_equal(Z, copy, sizeof Z);
}

/* More rows than one product takes: every row is still
 * phi(x W^T + b), checked in double. */
static void test_forward_many_rows(void **state)
{
    const size_t n = 70000, d = 3, k = 2;
    dfsae_model *m = fx_model(state, d, k, 4);
    float p[3 * 2 + 2];
    assert_int_equal(dfsae_model_get_params(m, p, 8), DFSAE_OK);
    float *X = random_rows(state, 8, n, d);
    float *A = fx_alloc(state, n * k * sizeof *A);
    memset(A, 0xff, n * k * sizeof *A);
    assert_int_equal(dfsae_model_forward(m, X, n, A, NULL, NULL), DFSAE_OK);
    for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < k; ++j) {
            double z = p[k * d + j];
            for (size_t c = 0; c < d; ++c)
                z += (double)X[i * d + c] * p[j * d + c];
            double want = z > 0.0 ? z : 0.0;
            if (fabs(A[i * k + j] - want) > 1e-5 * (1.0 + fabs(want)))
                fail_msg("row %zu, column %zu: %g, want %g", i, j,
                         (double)A[i * k + j], want);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(test_forward_only_memory),
        FIXTURE_TEST(test_created_model_memory),
        FIXTURE_TEST(test_threads_share_one_model),
        FIXTURE_TEST(test_forward_writes_no_message),
        FIXTURE_TEST(test_forward_rejects_shared_outputs),
        FIXTURE_TEST(test_forward_many_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
