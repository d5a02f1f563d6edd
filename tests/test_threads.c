/* A model's own threads (dfsae_model_set_threads): argument checks, a
 * failed start that leaves the model as it was, and results bit-identical
 * for every thread count, with no allocation per step. White-box: most
 * shapes lower the pool's minimum work so that small (valgrind-cheap)
 * problems are split, down to empty parts; one shape passes the library's
 * real threshold. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api_alloc.h"
#include "api_data.h"
#include "dfsae.h"
#include "fixture.h"
#include "model.h"

static void test_set_threads_arguments(void **state)
{
    dfsae_model *m = fx_model(state, 5, 4, 1);
    assert_int_equal(dfsae_model_threads(m), 1);
    assert_int_equal(dfsae_model_threads(NULL), 0);
    assert_int_equal(dfsae_model_set_threads(NULL, 2), DFSAE_ERR_NULL_ARG);
    const int bad[] = {0, -1, 65, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        assert_int_equal(dfsae_model_set_threads(m, bad[i]),
                         DFSAE_ERR_PARAM_OUT_OF_RANGE);
        assert_int_equal(dfsae_model_threads(m), 1);
        assert_non_null(strstr(dfsae_model_last_error(m), "set_threads"));
    }
    assert_int_equal(dfsae_model_set_threads(m, 3), DFSAE_OK);
    assert_int_equal(dfsae_model_threads(m), 3);
    assert_int_equal(dfsae_model_set_threads(m, 3), DFSAE_OK);
    assert_int_equal(dfsae_model_set_threads(m, 64), DFSAE_OK);
    assert_int_equal(dfsae_model_threads(m), 64);
    assert_int_equal(dfsae_model_set_threads(m, 2), DFSAE_OK);
    assert_int_equal(dfsae_model_threads(m), 2);
    assert_int_equal(dfsae_model_set_threads(m, 1), DFSAE_OK);
    assert_int_equal(dfsae_model_threads(m), 1);
    assert_string_equal(dfsae_status_string(DFSAE_ERR_THREAD),
                        "a worker thread could not be started");
}

/* Starting workers takes memory from the model's allocator: refused, the
 * call fails with NO_MEMORY and the model keeps its previous threads. */
static void test_set_threads_out_of_memory(void **state)
{
    api_alloc_ctl *ctl = fx_alloc_ctl(state);
    dfsae_model *m = fx_model_on(state, ctl, 5, 4, 1);
    ctl->fail_after = ctl->allocs;
    assert_int_equal(dfsae_model_set_threads(m, 2), DFSAE_ERR_NO_MEMORY);
    assert_int_equal(dfsae_model_threads(m), 1);
    ctl->fail_after = SIZE_MAX;
    assert_int_equal(dfsae_model_set_threads(m, 2), DFSAE_OK);
    ctl->fail_after = ctl->allocs;
    assert_int_equal(dfsae_model_set_threads(m, 3), DFSAE_ERR_NO_MEMORY);
    assert_int_equal(dfsae_model_threads(m), 2);
    ctl->fail_after = SIZE_MAX;
    fx_drop(state, m);
    assert_int_equal(ctl->allocs, ctl->frees);
}

/* K not a multiple of 16 in most, so the column ranges are uneven (and
 * with 5 threads some are empty); the Gram side follows n against K.
 * min_items 0 keeps the library's threshold (the last shape passes it). */
typedef struct shape {
    size_t n, d, k;
    int activation;
    double wr;
    int optimizer;
    size_t min_items;
} shape;

static const shape shapes[] = {
    {40, 9, 37, DFSAE_ACT_RELU, 0.0, DFSAE_ADAM, 1},  /* K x K */
    {30, 9, 45, DFSAE_ACT_RELU, 1.0, DFSAE_ADAMW, 1}, /* n x n, wr */
    {50, 11, 33, DFSAE_ACT_SOFTPLUS, 0.0, DFSAE_SGD, 1},
    {44, 7, 36, DFSAE_ACT_TANH, 1.0, DFSAE_ADAM, 1},
    {36, 10, 48, DFSAE_ACT_LEAKY_RELU, 0.0, DFSAE_ADAMW, 1},
    {45, 12, 39, DFSAE_ACT_IDENTITY, 0.0, DFSAE_ADAM, 1},
    {41, 10, 38, DFSAE_ACT_SOFTMAX, 1.0, DFSAE_ADAM, 1}, /* rows split */
    {260, 256, 256, DFSAE_ACT_RELU, 0.0, DFSAE_ADAM, 0},
};

typedef struct outputs {
    float *A, *Z, *R, *grad, *params;
    double total, terms[DFSAE_TERM_COUNT];
} outputs;

static void outputs_alloc(void **state, outputs *o, const shape *s, size_t np)
{
    o->A = fx_alloc(state, s->n * s->k * sizeof(float));
    o->Z = fx_alloc(state, s->n * s->k * sizeof(float));
    o->R = fx_alloc(state, s->n * s->k * sizeof(float));
    o->grad = fx_alloc(state, np * sizeof(float));
    o->params = fx_alloc(state, np * sizeof(float));
}

/* Frees a shape's outputs before the next shape. */
static void outputs_drop(void **state, outputs *o)
{
    fx_drop(state, o->params);
    fx_drop(state, o->grad);
    fx_drop(state, o->R);
    fx_drop(state, o->Z);
    fx_drop(state, o->A);
}

/* Forward, loss terms, gradient, then three optimizer steps of `kind`;
 * with a counting allocator, the steps after the first allocate nothing. */
static void run(void **state, const shape *s, int threads, int kind,
                const float *X, outputs *o)
{
    api_alloc_ctl *ctl = fx_alloc_ctl(state);
    dfsae_model *m = fx_model_on(state, ctl, s->d, s->k, 17);
    size_t np = dfsae_model_num_params(m);
    assert_int_equal(dfsae_model_set_threads(m, threads), DFSAE_OK);
    if (m->pool != NULL && s->min_items != 0)
        dfsae__pool_set_min_items(m->pool, s->min_items);
    assert_int_equal(
        dfsae_model_set_option(m, DFSAE_MODEL_ACTIVATION, s->activation),
        DFSAE_OK);
    assert_int_equal(dfsae_model_set_option(m, DFSAE_MODEL_LAMBDA_WR, s->wr),
                     DFSAE_OK);
    dfsae_optimizer *opt = fx_optimizer_on(state, ctl, kind, np);
    if (kind == DFSAE_SGD)
        assert_int_equal(
            dfsae_optimizer_set_option(opt, DFSAE_OPT_MOMENTUM, 0.9), DFSAE_OK);
    assert_int_equal(dfsae_model_forward(m, X, s->n, o->A, o->Z, o->R),
                     DFSAE_OK);
    assert_int_equal(dfsae_model_grad(m, X, s->n, o->grad, &o->total, o->terms,
                                      DFSAE_TERM_COUNT),
                     DFSAE_OK);
    size_t events = 0;
    for (int step = 0; step < 3; ++step) {
        if (step == 1)
            events = api_alloc_events(ctl);
        assert_int_equal(dfsae_train_step(m, opt, X, s->n, NULL, NULL, 0),
                         DFSAE_OK);
    }
    assert_int_equal(api_alloc_events(ctl), events);
    assert_int_equal(dfsae_model_get_params(m, o->params, np), DFSAE_OK);
    fx_drop(state, opt);
    fx_drop(state, m);
    assert_int_equal(ctl->allocs, ctl->frees);
    fx_drop(state, ctl);
}

static void expect_same_bits(const void *want, const void *got, size_t bytes,
                             const char *what, const shape *s, int threads)
{
    if (memcmp(want, got, bytes) != 0)
        fail_msg("%s differs with %d threads (n %zu, D %zu, K %zu)", what,
                 threads, s->n, s->d, s->k);
}

static void test_bit_identical_for_every_thread_count(void **state)
{
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; ++i) {
        const shape *s = &shapes[i];
        const int kind = s->optimizer;
        const size_t nk = s->n * s->k, np = s->k * s->d + s->k;
        float *X = fx_alloc(state, s->n * s->d * sizeof *X);
        api_rng g;
        api_rng_seed(&g, 40 + i);
        api_make_clusters(&g, X, s->n, s->d, 5, 1.0, 0.4);
        outputs one, many;
        outputs_alloc(state, &one, s, np);
        outputs_alloc(state, &many, s, np);
        run(state, s, 1, kind, X, &one);
        assert_true(isfinite(one.total));
        const int counts[] = {2, 3, 5};
        const size_t n_counts = s->min_items != 0 ? 3 : 1;
        for (size_t c = 0; c < n_counts; ++c) {
            const int threads = counts[c];
            run(state, s, threads, kind, X, &many);
            expect_same_bits(one.A, many.A, nk * sizeof(float), "A", s,
                             threads);
            expect_same_bits(one.Z, many.Z, nk * sizeof(float), "Z", s,
                             threads);
            expect_same_bits(one.R, many.R, nk * sizeof(float), "R", s,
                             threads);
            expect_same_bits(&one.total, &many.total, sizeof one.total,
                             "the loss", s, threads);
            expect_same_bits(one.terms, many.terms, sizeof one.terms,
                             "the loss terms", s, threads);
            expect_same_bits(one.grad, many.grad, np * sizeof(float),
                             "the gradient", s, threads);
            expect_same_bits(one.params, many.params, np * sizeof(float),
                             "the parameters after three steps", s, threads);
        }
        outputs_drop(state, &many);
        outputs_drop(state, &one);
        fx_drop(state, X);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(test_set_threads_arguments),
        FIXTURE_TEST(test_set_threads_out_of_memory),
        FIXTURE_TEST(test_bit_identical_for_every_thread_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
