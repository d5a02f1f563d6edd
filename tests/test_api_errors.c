/* Bad input to the core API: every rejected call returns its status, says
 * why in the handle's last error, and leaves parameters, options and
 * optimizer state bit-identical (checked against an untouched twin). */
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api_alloc.h"
#include "api_state.h"
#include "dfsae.h"
#include "fixture.h"

#define D 8
#define K 5
#define N 40 /* N * D = 320 crosses any 256-float scanning block */

/* Twins on a counting allocator, owned by the fixture (state) and freed
 * in teardown if the test fails. */
typedef struct rig {
    api_alloc_ctl ctl;
    dfsae_allocator alloc;
    api_twin t;
    void **state; /* the fixture that owns the rig and its handles */
    float X[N * D];
    float buf[N * K]; /* output space for forward */
    float p[K * D + K];
} rig;

static void twin_release(void *t)
{
    api_twin_free(t);
}

static rig *open_rig(void **state, int kind)
{
    rig *f = fx_alloc(state, sizeof *f); /* outlives the handles */
    f->state = state;
    api_alloc_ctl_init(&f->ctl);
    f->alloc = api_allocator(&f->ctl);
    api_twin_init(&f->t, D, K, N, kind, &f->alloc);
    fx_keep_with(state, &f->t, twin_release);
    memcpy(f->X, f->t.X, sizeof f->X);
    assert_int_equal(f->t.np, sizeof f->p / sizeof f->p[0]);
    return f;
}

/* Proves nothing changed, then frees the twins: their allocator takes
 * test_malloc, whose blocks cmocka checks when a passing test returns. */
static void close_rig(rig *f)
{
    api_twin_check(&f->t);
    fx_drop(f->state, &f->t);
    assert_int_equal(f->ctl.allocs, f->ctl.frees);
}

/* An optimizer or model on the rig's allocator, the fixture's. */
static dfsae_optimizer *rig_optimizer(rig *f, int kind, size_t n)
{
    dfsae_optimizer **slot = fx_optimizer_slot(f->state);
    assert_int_equal(dfsae_optimizer_create(kind, n, &f->alloc, slot),
                     DFSAE_OK);
    return *slot;
}

static dfsae_model *rig_model(rig *f, size_t d, uint64_t seed)
{
    dfsae_model **slot = fx_model_slot(f->state);
    assert_int_equal(dfsae_model_create(d, K, seed, &f->alloc, slot), DFSAE_OK);
    return *slot;
}

/* A test body on an open rig (register it with FIXTURE_TEST). */
#define RIG_TEST(name, kind)                                                   \
    static void name##_body(rig *f, dfsae_model *m, dfsae_optimizer *o);       \
    static void name(void **state)                                             \
    {                                                                          \
        rig *f = open_rig(state, kind);                                        \
        name##_body(f, f->t.m[0], f->t.o[0]);                                  \
        close_rig(f);                                                          \
    }                                                                          \
    static void name##_body(rig *f, dfsae_model *m, dfsae_optimizer *o)

/* The model's last error after a call that must fail with `want`. */
#define EXPECT_FAIL(call, want)                                                \
    do {                                                                       \
        int st_ = (call);                                                      \
        if (st_ != (want))                                                     \
            fail_msg("%s returned %d (%s), want %d", #call, st_,               \
                     dfsae_status_string(st_), (int)(want));                   \
    } while (0)

static void expect_model_error(dfsae_model *m, const char *needle)
{
    const char *e = dfsae_model_last_error(m);
    assert_non_null(e);
    assert_true(e[0] != '\0');
    if (needle != NULL)
        api_assert_contains(e, needle);
}

static void expect_opt_error(dfsae_optimizer *o, const char *needle)
{
    const char *e = dfsae_optimizer_last_error(o);
    assert_non_null(e);
    assert_true(e[0] != '\0');
    if (needle != NULL)
        api_assert_contains(e, needle);
}

/* Options changed on both twins keep them comparable. */
static void both_set(rig *f, int key, double value)
{
    for (int i = 0; i < 2; ++i)
        assert_int_equal(dfsae_model_set_option(f->t.m[i], key, value),
                         DFSAE_OK);
}

/* ---- NULL handles and buffers ----------------------------------------- */

static void test_null_handles(void **state)
{
    (void)state;
    float x[4] = {0}, g[4] = {0};
    double v = 0.0, terms[DFSAE_TERM_COUNT];
    EXPECT_FAIL(dfsae_model_create(4, 2, 1, NULL, NULL), DFSAE_ERR_NULL_ARG);
    EXPECT_FAIL(dfsae_model_set_option(NULL, DFSAE_MODEL_LAMBDA_VAR, 1.0),
                DFSAE_ERR_NULL_ARG);
    EXPECT_FAIL(dfsae_model_get_option(NULL, DFSAE_MODEL_LAMBDA_VAR, &v),
                DFSAE_ERR_NULL_ARG);
    EXPECT_FAIL(dfsae_model_get_params(NULL, x, 4), DFSAE_ERR_NULL_ARG);
    EXPECT_FAIL(dfsae_model_set_params(NULL, x, 4), DFSAE_ERR_NULL_ARG);
    EXPECT_FAIL(dfsae_model_reserve(NULL, 4), DFSAE_ERR_NULL_ARG);
    EXPECT_FAIL(dfsae_model_forward(NULL, x, 1, g, NULL, NULL),
                DFSAE_ERR_NULL_ARG);
    EXPECT_FAIL(dfsae_model_loss(NULL, x, 2, &v, terms, DFSAE_TERM_COUNT),
                DFSAE_ERR_NULL_ARG);
    EXPECT_FAIL(dfsae_model_grad(NULL, x, 2, g, &v, NULL, 0),
                DFSAE_ERR_NULL_ARG);
    EXPECT_FAIL(dfsae_optimizer_create(DFSAE_ADAM, 4, NULL, NULL),
                DFSAE_ERR_NULL_ARG);
    EXPECT_FAIL(dfsae_optimizer_set_option(NULL, DFSAE_OPT_LR, 0.1),
                DFSAE_ERR_NULL_ARG);
    EXPECT_FAIL(dfsae_optimizer_get_option(NULL, DFSAE_OPT_LR, &v),
                DFSAE_ERR_NULL_ARG);
    /* Getters on NULL return their documented neutral values. */
    assert_int_equal(dfsae_model_input_dim(NULL), 0);
    assert_int_equal(dfsae_model_num_components(NULL), 0);
    assert_int_equal(dfsae_model_num_params(NULL), 0);
    assert_non_null(dfsae_model_last_error(NULL));
    assert_int_equal(dfsae_optimizer_get_kind(NULL), -1);
    assert_true(dfsae_optimizer_step_count(NULL) == 0);
    assert_non_null(dfsae_optimizer_last_error(NULL));
    /* free(NULL) and reset(NULL) are no-ops. */
    dfsae_model_free(NULL);
    dfsae_optimizer_free(NULL);
    dfsae_optimizer_reset(NULL);
}

/* A step with a NULL model or optimizer touches neither the other handle. */
RIG_TEST(test_step_null_handles, DFSAE_ADAM)
{
    float g[K * D + K];
    memset(g, 0, sizeof g);
    g[0] = 1.0f;
    EXPECT_FAIL(dfsae_optimizer_step(NULL, m, g), DFSAE_ERR_NULL_ARG);
    EXPECT_FAIL(dfsae_optimizer_step(o, NULL, g), DFSAE_ERR_NULL_ARG);
    (void)f;
}

RIG_TEST(test_null_buffers, DFSAE_ADAM)
{
    double v = 0.0;
    const size_t np = f->t.np;
    EXPECT_FAIL(dfsae_model_get_params(m, NULL, np), DFSAE_ERR_NULL_ARG);
    EXPECT_FAIL(dfsae_model_set_params(m, NULL, np), DFSAE_ERR_NULL_ARG);
    expect_model_error(m, "NULL");
    EXPECT_FAIL(dfsae_model_forward(m, NULL, N, f->buf, NULL, NULL),
                DFSAE_ERR_NULL_ARG);
    EXPECT_FAIL(dfsae_model_forward(m, f->X, N, NULL, NULL, NULL),
                DFSAE_ERR_NULL_ARG);
    /* Z and R are optional, A is not. */
    EXPECT_FAIL(dfsae_model_forward(m, f->X, N, NULL, f->buf, f->buf),
                DFSAE_ERR_NULL_ARG);
    EXPECT_FAIL(dfsae_model_loss(m, NULL, N, &v, NULL, 0), DFSAE_ERR_NULL_ARG);
    expect_model_error(m, "NULL");
    EXPECT_FAIL(dfsae_model_grad(m, NULL, N, f->p, &v, NULL, 0),
                DFSAE_ERR_NULL_ARG);
    expect_model_error(m, "NULL");
    EXPECT_FAIL(dfsae_model_get_option(m, DFSAE_MODEL_LAMBDA_TC, NULL),
                DFSAE_ERR_NULL_ARG);
    EXPECT_FAIL(dfsae_optimizer_get_option(o, DFSAE_OPT_LR, NULL),
                DFSAE_ERR_NULL_ARG);
}

/* The gradient buffers are required, and the fused step's optimizer;
 * each refusal changes nothing. */
static void test_null_gradient_and_optimizer(void **state)
{
    api_alloc_ctl *ctl = fx_alloc_ctl(state);
    float before[K * D + K], after[K * D + K], X[2 * D];
    double v;
    for (int i = 0; i < 2 * D; ++i)
        X[i] = (float)i / D - 0.5f;
    dfsae_model *m = fx_model_on(state, ctl, D, K, 3);
    dfsae_optimizer *o =
        fx_optimizer_on(state, ctl, DFSAE_SGD, dfsae_model_num_params(m));
    assert_int_equal(dfsae_model_get_params(m, before, K * D + K), DFSAE_OK);
    EXPECT_FAIL(dfsae_optimizer_step(o, m, NULL), DFSAE_ERR_NULL_ARG);
    expect_opt_error(o, "grad");
    EXPECT_FAIL(dfsae_model_grad(m, X, 2, NULL, &v, NULL, 0),
                DFSAE_ERR_NULL_ARG);
    expect_model_error(m, "grad");
    EXPECT_FAIL(dfsae_train_step(m, NULL, X, 2, &v, NULL, 0),
                DFSAE_ERR_NULL_ARG);
    expect_model_error(m, "opt");
    EXPECT_FAIL(dfsae_train_step(NULL, o, X, 2, &v, NULL, 0),
                DFSAE_ERR_NULL_ARG);
    EXPECT_FAIL(dfsae_train_step(m, o, NULL, 2, &v, NULL, 0),
                DFSAE_ERR_NULL_ARG);
    assert_true(dfsae_optimizer_step_count(o) == 0);
    assert_int_equal(dfsae_model_get_params(m, after, K * D + K), DFSAE_OK);
    assert_memory_equal(before, after, sizeof before);
    /* Dropped before returning: a test_malloc allocator (fixture.h). */
    fx_drop(state, o);
    fx_drop(state, m);
}

/* ---- Zero and overflowing sizes --------------------------------------- */

static void test_create_bad_sizes(void **state)
{
    (void)state;
    api_alloc_ctl ctl;
    api_alloc_ctl_init(&ctl);
    dfsae_allocator a = api_allocator(&ctl);
    const size_t big = SIZE_MAX / 2, above_int = (size_t)INT_MAX + 1;
    const struct {
        size_t d, k;
        int status;
    } cases[] = {
        {0, 4, DFSAE_ERR_INVALID_ARG},
        {4, 0, DFSAE_ERR_INVALID_ARG},
        {0, 0, DFSAE_ERR_INVALID_ARG},
        {big, 4, DFSAE_ERR_SIZE_OVERFLOW},
        {4, big, DFSAE_ERR_SIZE_OVERFLOW},
        {big, big, DFSAE_ERR_SIZE_OVERFLOW},
        {SIZE_MAX, 1, DFSAE_ERR_SIZE_OVERFLOW},
        /* d_in * K overflows size_t: 2^32 * 2^32 = 2^64. */
        {(size_t)1 << 32, (size_t)1 << 32, DFSAE_ERR_SIZE_OVERFLOW},
        /* Each fits size_t but not the BLAS int. */
        {above_int, 1, DFSAE_ERR_SIZE_OVERFLOW},
        {1, above_int, DFSAE_ERR_SIZE_OVERFLOW},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        dfsae_model *m = (dfsae_model *)&ctl; /* must be reset to NULL */
        int st = dfsae_model_create(cases[i].d, cases[i].k, 1, &a, &m);
        if (st != cases[i].status)
            fail_msg("create(%zu, %zu): %d, want %d", cases[i].d, cases[i].k,
                     st, cases[i].status);
        assert_null(m);
    }
    assert_int_equal(ctl.allocs, 0); /* refused before allocating */
}

/* Sizes that fit every type but not in memory: the allocator says no, the
 * call says so, nothing leaks. */
static void test_create_too_large_for_memory(void **state)
{
    (void)state;
    api_alloc_ctl ctl;
    api_alloc_ctl_init(&ctl);
    dfsae_allocator a = api_allocator(&ctl);
    dfsae_model *m = NULL;
    const size_t side = (size_t)1 << 20; /* 2^40 parameters, 4 TiB */
    int st = dfsae_model_create(side, side, 1, &a, &m);
    if (st != DFSAE_ERR_NO_MEMORY && st != DFSAE_ERR_SIZE_OVERFLOW)
        fail_msg("create(2^20, 2^20): %d, want NO_MEMORY or SIZE_OVERFLOW", st);
    assert_null(m);
    assert_int_equal(ctl.allocs, ctl.frees);
    dfsae_optimizer *o = NULL;
    EXPECT_FAIL(dfsae_optimizer_create(DFSAE_ADAM, (size_t)1 << 40, &a, &o),
                DFSAE_ERR_NO_MEMORY);
    assert_null(o);
    assert_int_equal(ctl.allocs, ctl.frees);
}

static void test_optimizer_create_bad(void **state)
{
    (void)state;
    const struct {
        int kind;
        size_t n;
        int status;
    } cases[] = {
        {DFSAE_SGD, 0, DFSAE_ERR_INVALID_ARG},
        {DFSAE_ADAM, 0, DFSAE_ERR_INVALID_ARG},
        {-1, 10, DFSAE_ERR_INVALID_ARG},
        {DFSAE_OPTIMIZER_KIND_COUNT, 10, DFSAE_ERR_INVALID_ARG},
        {DFSAE_SGD, SIZE_MAX / 2, DFSAE_ERR_SIZE_OVERFLOW},
        {DFSAE_ADAM, SIZE_MAX / 2, DFSAE_ERR_SIZE_OVERFLOW},
        {DFSAE_ADAMW, SIZE_MAX / 4 + 1, DFSAE_ERR_SIZE_OVERFLOW},
        {DFSAE_SGD, SIZE_MAX, DFSAE_ERR_SIZE_OVERFLOW},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        dfsae_optimizer *o = (dfsae_optimizer *)&cases[i];
        int st = dfsae_optimizer_create(cases[i].kind, cases[i].n, NULL, &o);
        if (st != cases[i].status)
            fail_msg("optimizer_create(%d, %zu): %d, want %d", cases[i].kind,
                     cases[i].n, st, cases[i].status);
        assert_null(o);
    }
}

RIG_TEST(test_zero_sizes, DFSAE_ADAM)
{
    double v;
    EXPECT_FAIL(dfsae_model_forward(m, f->X, 0, f->buf, NULL, NULL),
                DFSAE_ERR_INVALID_ARG);
    EXPECT_FAIL(dfsae_model_loss(m, f->X, 0, &v, NULL, 0),
                DFSAE_ERR_INVALID_ARG);
    EXPECT_FAIL(dfsae_model_grad(m, f->X, 0, f->p, &v, NULL, 0),
                DFSAE_ERR_INVALID_ARG);
    EXPECT_FAIL(dfsae_train_step(m, o, f->X, 0, &v, NULL, 0),
                DFSAE_ERR_INVALID_ARG);
    EXPECT_FAIL(dfsae_model_reserve(m, 0), DFSAE_ERR_INVALID_ARG);
    EXPECT_FAIL(dfsae_model_get_params(m, f->p, 0), DFSAE_ERR_SIZE_MISMATCH);
    EXPECT_FAIL(dfsae_model_set_params(m, f->p, 0), DFSAE_ERR_SIZE_MISMATCH);
    (void)o;
}

RIG_TEST(test_overflowing_sizes, DFSAE_ADAM)
{
    double v;
    const size_t huge[] = {SIZE_MAX / 2, SIZE_MAX, SIZE_MAX / D + 1,
                           (size_t)INT_MAX + 1};
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; ++i) {
        const size_t n = huge[i];
        /* The X buffer is far shorter than n rows: the size must be refused
         * before a single row is read. */
        /* Forward cuts any n into batches: only a byte count that
         * overflows is refused. */
        if (n > SIZE_MAX / (D * sizeof(float)))
            EXPECT_FAIL(dfsae_model_forward(m, f->X, n, f->buf, NULL, NULL),
                        DFSAE_ERR_SIZE_OVERFLOW);
        EXPECT_FAIL(dfsae_model_loss(m, f->X, n, &v, NULL, 0),
                    DFSAE_ERR_SIZE_OVERFLOW);
        EXPECT_FAIL(dfsae_model_grad(m, f->X, n, f->p, &v, NULL, 0),
                    DFSAE_ERR_SIZE_OVERFLOW);
        EXPECT_FAIL(dfsae_model_reserve(m, n), DFSAE_ERR_SIZE_OVERFLOW);
        EXPECT_FAIL(dfsae_model_get_params(m, f->p, n),
                    DFSAE_ERR_SIZE_MISMATCH);
        EXPECT_FAIL(dfsae_model_set_params(m, f->p, n),
                    DFSAE_ERR_SIZE_MISMATCH);
    }
    /* A buffer one float short or long is a mismatch, named in the text. */
    EXPECT_FAIL(dfsae_model_set_params(m, f->p, f->t.np - 1),
                DFSAE_ERR_SIZE_MISMATCH);
    char count[32];
    snprintf(count, sizeof count, "%zu", f->t.np - 1);
    expect_model_error(m, count);
    EXPECT_FAIL(dfsae_model_get_params(m, f->p, f->t.np + 1),
                DFSAE_ERR_SIZE_MISMATCH);
    (void)o;
}

/* A workspace the allocator cannot provide: reserve fails, and so does a
 * later call needing it, without changing anything. */
RIG_TEST(test_reserve_out_of_memory, DFSAE_ADAM)
{
    f->ctl.fail_after = f->ctl.allocs; /* no more memory from now on */
    EXPECT_FAIL(dfsae_model_reserve(m, 1000), DFSAE_ERR_NO_MEMORY);
    expect_model_error(m, NULL);
    float X[2 * N * D];
    memcpy(X, f->X, sizeof f->X);
    memcpy(X + N * D, f->X, sizeof f->X);
    double v;
    EXPECT_FAIL(dfsae_model_grad(m, X, 2 * N, f->p, &v, NULL, 0),
                DFSAE_ERR_NO_MEMORY);
    f->ctl.fail_after = SIZE_MAX;
    (void)o;
}

/* ---- Batches of one row ------------------------------------------------ */

RIG_TEST(test_batch_of_one_with_variance_terms, DFSAE_ADAM)
{
    double v, terms[DFSAE_TERM_COUNT];
    /* Defaults (var and tc on), then each of them alone. */
    for (int variant = 0; variant < 3; ++variant) {
        if (variant == 1) {
            both_set(f, DFSAE_MODEL_LAMBDA_TC, 0.0);
        } else if (variant == 2) {
            both_set(f, DFSAE_MODEL_LAMBDA_VAR, 0.0);
            both_set(f, DFSAE_MODEL_LAMBDA_TC, 0.5);
        }
        EXPECT_FAIL(dfsae_model_loss(m, f->X, 1, &v, terms, DFSAE_TERM_COUNT),
                    DFSAE_ERR_BATCH_TOO_SMALL);
        expect_model_error(m, "2");
        EXPECT_FAIL(dfsae_model_grad(m, f->X, 1, f->p, &v, NULL, 0),
                    DFSAE_ERR_BATCH_TOO_SMALL);
        EXPECT_FAIL(dfsae_train_step(m, o, f->X, 1, &v, NULL, 0),
                    DFSAE_ERR_BATCH_TOO_SMALL);
        /* Encoding one row never needs a variance. */
        assert_int_equal(dfsae_model_forward(m, f->X, 1, f->buf, NULL, NULL),
                         DFSAE_OK);
        /* Two rows are enough. */
        assert_int_equal(dfsae_model_loss(m, f->X, 2, &v, NULL, 0), DFSAE_OK);
        assert_true(isfinite(v));
    }
    both_set(f, DFSAE_MODEL_LAMBDA_VAR, 1.0);
    both_set(f, DFSAE_MODEL_LAMBDA_TC, 1.0);
    (void)o;
}

/* With lambda_var = lambda_tc = 0 one row is a valid batch: the value is
 * L_lse of that row (plus L_wr when on), finite, as is the gradient. */
static void test_batch_of_one_without_variance_terms(void **state)
{
    api_alloc_ctl *ctl = fx_alloc_ctl(state);
    dfsae_model *m = fx_model_on(state, ctl, D, K, 9);
    assert_int_equal(dfsae_model_set_option(m, DFSAE_MODEL_LAMBDA_VAR, 0.0),
                     DFSAE_OK);
    assert_int_equal(dfsae_model_set_option(m, DFSAE_MODEL_LAMBDA_TC, 0.0),
                     DFSAE_OK);
    float x[D], A[K], g[K * D + K];
    for (int j = 0; j < D; ++j)
        x[j] = (float)(0.3 * j - 0.8);
    assert_int_equal(dfsae_model_forward(m, x, 1, A, NULL, NULL), DFSAE_OK);
    double want = 0.0; /* -log sum_j exp(-A_j) */
    for (int j = 0; j < K; ++j)
        want += exp(-(double)A[j]);
    want = -log(want);
    for (int wr = 0; wr <= 1; ++wr) {
        assert_int_equal(
            dfsae_model_set_option(m, DFSAE_MODEL_LAMBDA_WR, (double)wr),
            DFSAE_OK);
        double total = NAN, terms[DFSAE_TERM_COUNT];
        assert_int_equal(
            dfsae_model_loss(m, x, 1, &total, terms, DFSAE_TERM_COUNT),
            DFSAE_OK);
        assert_true(fabs(terms[DFSAE_TERM_LSE] - want) <=
                    1e-6 * fabs(want) + 1e-7);
        assert_true(terms[DFSAE_TERM_VAR] == 0.0);
        assert_true(terms[DFSAE_TERM_TC] == 0.0);
        assert_true(isfinite(terms[DFSAE_TERM_WR]));
        assert_true(wr ? terms[DFSAE_TERM_WR] > 0.0
                       : terms[DFSAE_TERM_WR] == 0.0);
        assert_true(
            fabs(total - (terms[DFSAE_TERM_LSE] + wr * terms[DFSAE_TERM_WR])) <=
            1e-9 * (fabs(total) + 1.0));
        assert_int_equal(dfsae_model_grad(m, x, 1, g, &total, NULL, 0),
                         DFSAE_OK);
        for (size_t i = 0; i < K * D + K; ++i)
            assert_true(isfinite(g[i]));
    }
    fx_drop(state, m); /* a test_malloc allocator: before returning */
}

/* ---- Non-finite input -------------------------------------------------- */

/* NaN, +Inf and -Inf at the first, an inner, and the last position of X
 * are refused by forward, loss and grad (both gradient destinations). */
RIG_TEST(test_non_finite_X, DFSAE_ADAM)
{
    const float bad[] = {NAN, INFINITY, -INFINITY};
    const size_t where[] = {0, 3, 255, 256, 300, N * D - 1};
    float X[N * D];
    double v, terms[DFSAE_TERM_COUNT];
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; ++b)
        for (size_t w = 0; w < sizeof where / sizeof where[0]; ++w) {
            memcpy(X, f->X, sizeof X);
            X[where[w]] = bad[b];
            EXPECT_FAIL(dfsae_model_forward(m, X, N, f->buf, NULL, NULL),
                        DFSAE_ERR_NON_FINITE_INPUT);
            EXPECT_FAIL(dfsae_model_loss(m, X, N, &v, terms, DFSAE_TERM_COUNT),
                        DFSAE_ERR_NON_FINITE_INPUT);
            expect_model_error(m, "finite");
            EXPECT_FAIL(dfsae_model_grad(m, X, N, f->p, &v, NULL, 0),
                        DFSAE_ERR_NON_FINITE_INPUT);
            EXPECT_FAIL(dfsae_train_step(m, o, X, N, &v, NULL, 0),
                        DFSAE_ERR_NON_FINITE_INPUT);
            expect_model_error(m, "finite");
        }
    /* A NaN only in rows beyond n is not looked at. */
    memcpy(X, f->X, sizeof X);
    X[(N - 1) * D] = NAN;
    assert_int_equal(dfsae_model_forward(m, X, N - 1, f->buf, NULL, NULL),
                     DFSAE_OK);
    (void)o;
}

/* The fused step refuses what the optimizer would before computing the
 * gradient, and a gradient it cannot allocate: nothing changes (the twin
 * check at the end). */
RIG_TEST(test_train_step_refusals, DFSAE_ADAM)
{
    double v;
    dfsae_optimizer *other = rig_optimizer(f, DFSAE_ADAM, f->t.np + 1);
    EXPECT_FAIL(dfsae_train_step(m, other, f->X, N, &v, NULL, 0),
                DFSAE_ERR_SIZE_MISMATCH);
    expect_model_error(m, "parameters");
    assert_true(dfsae_optimizer_step_count(other) == 0);
    fx_drop(f->state, other);
    dfsae_optimizer *sgd = rig_optimizer(f, DFSAE_SGD, f->t.np);
    assert_int_equal(dfsae_optimizer_set_option(sgd, DFSAE_OPT_NESTEROV, 1.0),
                     DFSAE_OK);
    EXPECT_FAIL(dfsae_train_step(m, sgd, f->X, N, &v, NULL, 0),
                DFSAE_ERR_INVALID_ARG);
    expect_model_error(m, "Nesterov");
    fx_drop(f->state, sgd);
    /* A fresh model's first step allocates the gradient: refused, its
     * parameters and the optimizer stay as they were. */
    dfsae_model *fresh = rig_model(f, D, 5);
    float p0[K * D + K], p1[K * D + K];
    assert_int_equal(dfsae_model_get_params(fresh, p0, f->t.np), DFSAE_OK);
    const uint64_t steps = dfsae_optimizer_step_count(o);
    f->ctl.fail_after = f->ctl.allocs;
    EXPECT_FAIL(dfsae_train_step(fresh, o, f->X, N, &v, NULL, 0),
                DFSAE_ERR_NO_MEMORY);
    expect_model_error(fresh, "allocate");
    f->ctl.fail_after = SIZE_MAX;
    assert_int_equal(dfsae_model_get_params(fresh, p1, f->t.np), DFSAE_OK);
    assert_memory_equal(p0, p1, sizeof p0);
    assert_true(dfsae_optimizer_step_count(o) == steps);
    fx_drop(f->state, fresh);
}

/* Finite input whose pre-activations overflow float: the loss is refused
 * as non-finite and nothing changes. */
RIG_TEST(test_non_finite_result, DFSAE_ADAM)
{
    float X[N * D];
    double v = 0.0;
    /* All weights 0.5 on both twins, so that X W^T = 0.5 * D * 1e38. */
    for (size_t i = 0; i < f->t.np; ++i)
        f->p[i] = 0.5f;
    for (int i = 0; i < 2; ++i)
        assert_int_equal(dfsae_model_set_params(f->t.m[i], f->p, f->t.np),
                         DFSAE_OK);
    for (size_t i = 0; i < N * D; ++i)
        X[i] = 1e38f * (float)(1 + i % 3);
    EXPECT_FAIL(dfsae_model_loss(m, X, N, &v, NULL, 0),
                DFSAE_ERR_NON_FINITE_RESULT);
    expect_model_error(m, "finite");
    EXPECT_FAIL(dfsae_model_grad(m, X, N, f->p, &v, NULL, 0),
                DFSAE_ERR_NON_FINITE_RESULT);
    EXPECT_FAIL(dfsae_train_step(m, o, X, N, &v, NULL, 0),
                DFSAE_ERR_NON_FINITE_RESULT);
    (void)o;
}

/* One unit's activations overflow to Inf while the rest stay finite: the
 * NaN variance (and the NaN L_tc) must reach the status, not be rounded
 * to a dead unit or clamped to 0 (seen with lambda_tc = 0, and with L_tc
 * alone on the sample side). */
static void test_overflowing_unit_is_not_finite(void **state)
{
    const float params[] = {1e30f, 1.0f, 0.0f, 0.0f}; /* W (2 x 1), b */
    const float X[] = {1e10f, 2e10f, 3e10f};
    const double weights[2][4] = {{1, 1, 0, 0}, {0, 0, 1, 0}};
    for (int c = 0; c < 2; ++c) {
        dfsae_model *m = fx_model(state, 1, 2, 1);
        assert_int_equal(dfsae_model_set_params(m, params, 4), DFSAE_OK);
        for (int t = 0; t < 4; ++t)
            assert_int_equal(dfsae_model_set_option(
                                 m, DFSAE_MODEL_LAMBDA_LSE + t, weights[c][t]),
                             DFSAE_OK);
        assert_int_equal(
            dfsae_model_set_option(m, DFSAE_MODEL_GRAM_SIDE, DFSAE_GRAM_SAMPLE),
            DFSAE_OK);
        double total = 0.0;
        assert_int_equal(dfsae_model_loss(m, X, 3, &total, NULL, 0),
                         DFSAE_ERR_NON_FINITE_RESULT);
        fx_drop(state, m);
    }
}

RIG_TEST(test_non_finite_params, DFSAE_ADAM)
{
    const float bad[] = {NAN, INFINITY, -INFINITY};
    const size_t np = f->t.np;
    const size_t where[] = {0, 7, np - K, np - 1}; /* W first, b last */
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; ++b)
        for (size_t w = 0; w < sizeof where / sizeof where[0]; ++w) {
            for (size_t i = 0; i < np; ++i)
                f->p[i] = 0.25f;
            f->p[where[w]] = bad[b];
            EXPECT_FAIL(dfsae_model_set_params(m, f->p, np),
                        DFSAE_ERR_NON_FINITE_INPUT);
            char idx[32];
            snprintf(idx, sizeof idx, "%zu", where[w]);
            expect_model_error(m, "finite");
            expect_model_error(m, idx);
        }
    (void)o;
}

RIG_TEST(test_non_finite_gradient_to_step, DFSAE_ADAM)
{
    const float bad[] = {NAN, INFINITY, -INFINITY};
    const size_t np = f->t.np;
    const size_t where[] = {0, 11, np - 1};
    float g[K * D + K];
    uint64_t steps = dfsae_optimizer_step_count(o);
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; ++b)
        for (size_t w = 0; w < sizeof where / sizeof where[0]; ++w) {
            for (size_t i = 0; i < np; ++i)
                g[i] = 0.5f - (float)(i % 3);
            g[where[w]] = bad[b];
            EXPECT_FAIL(dfsae_optimizer_step(o, m, g),
                        DFSAE_ERR_NON_FINITE_INPUT);
            expect_opt_error(o, "finite");
            assert_true(dfsae_optimizer_step_count(o) == steps);
        }
}

/* ---- Size mismatch between optimizer and model ------------------------ */

RIG_TEST(test_optimizer_model_mismatch, DFSAE_ADAM)
{
    float g[K * D + K + 1];
    for (size_t i = 0; i < sizeof g / sizeof g[0]; ++i)
        g[i] = 0.1f;
    /* Optimizers one parameter short and one too many, on model 0. */
    for (int delta = -1; delta <= 1; delta += 2) {
        dfsae_optimizer *other =
            rig_optimizer(f, DFSAE_SGD, (size_t)((long)f->t.np + delta));
        EXPECT_FAIL(dfsae_optimizer_step(other, m, g), DFSAE_ERR_SIZE_MISMATCH);
        expect_opt_error(other, NULL);
        assert_true(dfsae_optimizer_step_count(other) == 0);
        fx_drop(f->state, other);
    }
    /* Optimizer 0 on a model of another shape: optimizer 0 unchanged. */
    dfsae_model *wide = rig_model(f, D + 1, 1);
    EXPECT_FAIL(dfsae_optimizer_step(o, wide, g), DFSAE_ERR_SIZE_MISMATCH);
    expect_opt_error(o, NULL);
    fx_drop(f->state, wide);
}

/* ---- Options ----------------------------------------------------------- */

RIG_TEST(test_unknown_option_keys, DFSAE_ADAM)
{
    const int keys[] = {-1, DFSAE_MODEL_OPTION_COUNT, 1000, INT_MIN, INT_MAX};
    double v = 12345.0, lo, hi;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; ++i) {
        EXPECT_FAIL(dfsae_model_set_option(m, keys[i], 0.0),
                    DFSAE_ERR_UNKNOWN_PARAM);
        char key[32];
        snprintf(key, sizeof key, "%d", keys[i]);
        expect_model_error(m, key);
        EXPECT_FAIL(dfsae_model_get_option(m, keys[i], &v),
                    DFSAE_ERR_UNKNOWN_PARAM);
        EXPECT_FAIL(dfsae_model_option_bounds(keys[i], &lo, &hi),
                    DFSAE_ERR_UNKNOWN_PARAM);
        EXPECT_FAIL(dfsae_optimizer_set_option(o, keys[i], 0.0),
                    DFSAE_ERR_UNKNOWN_PARAM);
        expect_opt_error(o, NULL);
        EXPECT_FAIL(dfsae_optimizer_get_option(o, keys[i], &v),
                    DFSAE_ERR_UNKNOWN_PARAM);
    }
    assert_true(v == 12345.0);
    (void)f;
}

RIG_TEST(test_option_values_rejected, DFSAE_ADAM)
{
    const struct {
        int key;
        double value;
    } cases[] = {
        {DFSAE_MODEL_LAMBDA_LSE, -1.0},
        {DFSAE_MODEL_LAMBDA_VAR, -1e-300},
        {DFSAE_MODEL_LAMBDA_TC, NAN},
        {DFSAE_MODEL_LAMBDA_WR, INFINITY},
        {DFSAE_MODEL_LAMBDA_VAR, -INFINITY},
        {DFSAE_MODEL_EPS_VAR, 0.0},
        {DFSAE_MODEL_EPS_VAR, -1e-6},
        {DFSAE_MODEL_EPS_VAR, NAN},
        {DFSAE_MODEL_LEAKY_SLOPE, -0.01},
        {DFSAE_MODEL_LEAKY_SLOPE, NAN},
        {DFSAE_MODEL_ACTIVATION, -1.0},
        {DFSAE_MODEL_ACTIVATION, (double)DFSAE_ACT_COUNT},
        {DFSAE_MODEL_ACTIVATION, NAN},
        {DFSAE_MODEL_LSE_REDUCTION, 2.0},
        {DFSAE_MODEL_LSE_REDUCTION, -1.0},
        {DFSAE_MODEL_GRAM_SIDE, 3.0},
        {DFSAE_MODEL_GRAM_SIDE, -1.0},
        /* Enumerated options take exact integers only. */
        {DFSAE_MODEL_ACTIVATION, 1.5},
        {DFSAE_MODEL_ACTIVATION, 0.9999999},
        {DFSAE_MODEL_ACTIVATION, 1e-300},
        {DFSAE_MODEL_LSE_REDUCTION, 0.5},
        {DFSAE_MODEL_GRAM_SIDE, 1.0000001},
        {DFSAE_MODEL_GRAM_SIDE, 2.5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        double before, after;
        assert_int_equal(dfsae_model_get_option(m, cases[i].key, &before),
                         DFSAE_OK);
        int st = dfsae_model_set_option(m, cases[i].key, cases[i].value);
        if (st != DFSAE_ERR_PARAM_OUT_OF_RANGE)
            fail_msg("set_param(%d, %.17g): %d, want PARAM_OUT_OF_RANGE",
                     cases[i].key, cases[i].value, st);
        expect_model_error(m, NULL);
        assert_int_equal(dfsae_model_get_option(m, cases[i].key, &after),
                         DFSAE_OK);
        assert_memory_equal(&before, &after, sizeof before);
    }
    /* The message names the offending value. */
    EXPECT_FAIL(dfsae_model_set_option(m, DFSAE_MODEL_LAMBDA_VAR, -7.0),
                DFSAE_ERR_PARAM_OUT_OF_RANGE);
    expect_model_error(m, "-7");
    (void)f;
    (void)o;
}

/* Every documented failure of a call with a handle leaves a message. */
static void *half_alloc(void *opaque, size_t size)
{
    (void)opaque;
    return malloc(size);
}

/* An allocator with only one of its two functions is refused, not
 * silently replaced by malloc/free. */
static void test_half_allocator_rejected(void **state)
{
    (void)state;
    const dfsae_allocator half = {half_alloc, NULL, NULL};
    dfsae_model *m = (dfsae_model *)&half; /* must be reset to NULL */
    assert_int_equal(dfsae_model_create(4, 3, 1, &half, &m),
                     DFSAE_ERR_INVALID_ARG);
    assert_null(m);
    dfsae_optimizer *o = (dfsae_optimizer *)&half;
    assert_int_equal(dfsae_optimizer_create(DFSAE_ADAM, 10, &half, &o),
                     DFSAE_ERR_INVALID_ARG);
    assert_null(o);
    dfsae_train_config *c = (dfsae_train_config *)&half;
    assert_int_equal(dfsae_train_config_create(&half, &c),
                     DFSAE_ERR_INVALID_ARG);
    assert_null(c);
}

static void test_last_error_fresh_is_empty(void **state)
{
    dfsae_model *m = fx_model(state, 3, 2, 1);
    dfsae_optimizer *o = fx_optimizer(state, DFSAE_SGD, 8);
    assert_string_equal(dfsae_model_last_error(m), "");
    assert_string_equal(dfsae_optimizer_last_error(o), "");
    /* Successful calls do not invent an error. */
    float X[6] = {0.1f, 0.2f, 0.3f, -0.4f, 0.5f, 0.6f}, g[8];
    double v;
    assert_int_equal(dfsae_model_grad(m, X, 2, g, &v, NULL, 0), DFSAE_OK);
    assert_int_equal(dfsae_optimizer_step(o, m, g), DFSAE_OK);
    assert_string_equal(dfsae_model_last_error(m), "");
    assert_string_equal(dfsae_optimizer_last_error(o), "");
}

/* Only the first n_terms entries are written. */
RIG_TEST(test_terms_count_respected, DFSAE_ADAM)
{
    double terms[DFSAE_TERM_COUNT + 2], all[DFSAE_TERM_COUNT], total;
    assert_int_equal(
        dfsae_model_loss(m, f->X, N, &total, all, DFSAE_TERM_COUNT), DFSAE_OK);
    for (size_t n = 0; n <= DFSAE_TERM_COUNT + 2; ++n) {
        for (size_t i = 0; i < DFSAE_TERM_COUNT + 2; ++i)
            terms[i] = -777.0;
        assert_int_equal(dfsae_model_loss(m, f->X, N, NULL, terms, n),
                         DFSAE_OK);
        for (size_t i = 0; i < DFSAE_TERM_COUNT + 2; ++i) {
            if (i < n && i < DFSAE_TERM_COUNT)
                assert_memory_equal(&terms[i], &all[i], sizeof all[i]);
            else
                assert_true(terms[i] == -777.0);
        }
    }
    (void)o;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_handles),
        FIXTURE_TEST(test_step_null_handles),
        FIXTURE_TEST(test_null_buffers),
        FIXTURE_TEST(test_null_gradient_and_optimizer),
        cmocka_unit_test(test_create_bad_sizes),
        cmocka_unit_test(test_create_too_large_for_memory),
        cmocka_unit_test(test_optimizer_create_bad),
        FIXTURE_TEST(test_zero_sizes),
        FIXTURE_TEST(test_overflowing_sizes),
        FIXTURE_TEST(test_reserve_out_of_memory),
        FIXTURE_TEST(test_batch_of_one_with_variance_terms),
        FIXTURE_TEST(test_batch_of_one_without_variance_terms),
        FIXTURE_TEST(test_non_finite_X),
        FIXTURE_TEST(test_train_step_refusals),
        FIXTURE_TEST(test_non_finite_result),
        FIXTURE_TEST(test_non_finite_params),
        FIXTURE_TEST(test_overflowing_unit_is_not_finite),
        FIXTURE_TEST(test_non_finite_gradient_to_step),
        FIXTURE_TEST(test_optimizer_model_mismatch),
        FIXTURE_TEST(test_unknown_option_keys),
        FIXTURE_TEST(test_option_values_rejected),
        FIXTURE_TEST(test_last_error_fresh_is_empty),
        cmocka_unit_test(test_half_allocator_rejected),
        FIXTURE_TEST(test_terms_count_respected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
