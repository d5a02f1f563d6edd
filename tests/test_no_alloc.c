/* The allocator hook: every block the library takes goes through it (and
 * back, checked by cmocka per test); allocation failures at any point are
 * reported cleanly; a training step allocates nothing once warm; and it
 * holds one B x K buffer per use. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api_alloc.h"
#include "api_data.h"
#include "dfsae.h"
#include "fixture.h"

#define D     12
#define MAX_B 64

/* A model and an Adam optimizer on one counting allocator; the fixture
 * owns the rig and frees the handles before it (newest first), so the
 * allocator they report to outlives them. */
typedef struct rig {
    api_alloc_ctl ctl;
    dfsae_allocator alloc;
    dfsae_model *m;
    dfsae_optimizer *o;
    size_t k, np;
    float X[MAX_B * D];
} rig;

static rig *rig_open(void **state, size_t k, int gram_side, double lambda_wr)
{
    rig *r = fx_alloc(state, sizeof *r);
    api_alloc_ctl_init(&r->ctl);
    r->alloc = api_allocator(&r->ctl);
    r->k = k;
    dfsae_model **m = fx_model_slot(state);
    assert_int_equal(dfsae_model_create(D, k, 5, &r->alloc, m), DFSAE_OK);
    r->m = *m;
    r->np = dfsae_model_num_params(r->m);
    dfsae_optimizer **o = fx_optimizer_slot(state);
    assert_int_equal(dfsae_optimizer_create(DFSAE_ADAM, r->np, &r->alloc, o),
                     DFSAE_OK);
    r->o = *o;
    assert_int_equal(
        dfsae_model_set_option(r->m, DFSAE_MODEL_GRAM_SIDE, gram_side),
        DFSAE_OK);
    assert_int_equal(
        dfsae_model_set_option(r->m, DFSAE_MODEL_LAMBDA_WR, lambda_wr),
        DFSAE_OK);
    api_rng g;
    api_rng_seed(&g, 11);
    api_make_clusters(&g, r->X, MAX_B, D, 4, 1.0, 0.3);
    return r;
}

/* Frees the handles now and checks every block came back. */
static void rig_close(void **state, rig *r)
{
    fx_drop(state, r->o);
    fx_drop(state, r->m);
    assert_int_equal(r->ctl.allocs, r->ctl.frees);
    assert_int_equal(r->ctl.refused, 0);
    fx_drop(state, r);
}

/* One training step: gradient into the model, then Adam. */
static void train_step(rig *r, size_t n)
{
    double total;
    assert_int_equal(dfsae_train_step(r->m, r->o, r->X, n, &total, NULL, 0),
                     DFSAE_OK);
    assert_true(isfinite(total));
}

/* Batch sizes after warm-up: the full one, then smaller ones (odd, and
 * below and above K so the automatic Gram side switches). */
static const size_t later_batches[] = {MAX_B, 2, 17, 63, 5, MAX_B, 40, 3};

/* Steps, forwards and losses on batches up to MAX_B after `warm` must not
 * touch the allocator. */
static void expect_no_allocation(void **state, rig *r)
{
    const size_t before = api_alloc_events(&r->ctl);
    float A[MAX_B * 96], Z[MAX_B * 96], R[MAX_B * 96];
    double total, terms[DFSAE_TERM_COUNT];
    assert_true(r->k <= 96);
    float *g = fx_alloc(state, r->np * sizeof *g); /* not the library's */
    for (size_t i = 0; i < sizeof later_batches / sizeof later_batches[0];
         ++i) {
        const size_t n = later_batches[i];
        train_step(r, n);
        assert_int_equal(
            dfsae_model_grad(r->m, r->X, n, g, &total, terms, DFSAE_TERM_COUNT),
            DFSAE_OK);
        assert_int_equal(dfsae_optimizer_step(r->o, r->m, g), DFSAE_OK);
        assert_int_equal(
            dfsae_model_loss(r->m, r->X, n, &total, terms, DFSAE_TERM_COUNT),
            DFSAE_OK);
        assert_int_equal(dfsae_model_forward(r->m, r->X, n, A, Z, R), DFSAE_OK);
        if (api_alloc_events(&r->ctl) != before)
            fail_msg("batch %zu (K = %zu): %zu allocator calls after "
                     "warm-up",
                     n, r->k, api_alloc_events(&r->ctl) - before);
    }
    fx_drop(state, g);
}

/* Configurations: K below and above the batch, each Gram side forced and
 * automatic, with and without L_wr (whose Gram is K x K or D x D). */
typedef struct config {
    size_t k;
    int side;
    double wr;
} config;

static const config configs[] = {
    {8, DFSAE_GRAM_AUTO, 0.0},     {8, DFSAE_GRAM_AUTO, 1.0},
    {96, DFSAE_GRAM_AUTO, 0.0},    {96, DFSAE_GRAM_AUTO, 1.0},
    {8, DFSAE_GRAM_FEATURE, 0.0},  {8, DFSAE_GRAM_FEATURE, 1.0},
    {8, DFSAE_GRAM_SAMPLE, 0.0},   {8, DFSAE_GRAM_SAMPLE, 1.0},
    {96, DFSAE_GRAM_FEATURE, 1.0}, {96, DFSAE_GRAM_SAMPLE, 1.0},
};

static void test_no_allocation_after_first_step(void **state)
{
    for (size_t c = 0; c < sizeof configs / sizeof configs[0]; ++c) {
        rig *r = rig_open(state, configs[c].k, configs[c].side, configs[c].wr);
        const size_t at_create = r->ctl.allocs;
        train_step(r, MAX_B); /* the first step sizes the workspace */
        assert_true(r->ctl.allocs > at_create);
        expect_no_allocation(state, r);
        rig_close(state, r);
    }
}

static void test_no_allocation_after_reserve(void **state)
{
    for (size_t c = 0; c < sizeof configs / sizeof configs[0]; ++c) {
        rig *r = rig_open(state, configs[c].k, configs[c].side, configs[c].wr);
        assert_int_equal(dfsae_model_reserve(r->m, MAX_B), DFSAE_OK);
        expect_no_allocation(state, r);
        rig_close(state, r);
    }
}

/* With an input transform (global and per feature), the transformed
 * inputs' buffer is part of the reserve: nothing allocates after it. */
static void test_no_allocation_with_transform(void **state)
{
    float shift[D], scale[D];
    for (int j = 0; j < D; ++j) {
        shift[j] = 0.1f * (float)j;
        scale[j] = 1.0f + 0.05f * (float)j;
    }
    for (size_t n = 1; n <= D; n += D - 1) {
        rig *r = rig_open(state, 8, DFSAE_GRAM_AUTO, 1.0);
        assert_int_equal(dfsae_model_set_transform(r->m, shift, scale, n),
                         DFSAE_OK);
        assert_int_equal(dfsae_model_reserve(r->m, MAX_B), DFSAE_OK);
        expect_no_allocation(state, r);
        rig_close(state, r);
    }
}

/* The default options on a model built with a NULL allocator still work;
 * only the hooked one is counted, so this is a smoke test of the default
 * path next to the counted one. */
static void test_default_allocator(void **state)
{
    float X[8 * 4];
    for (int i = 0; i < 32; ++i)
        X[i] = (float)sin(i);
    dfsae_model *m = fx_model(state, 4, 3, 1);
    dfsae_optimizer *o = fx_optimizer(state, DFSAE_SGD, 15);
    for (int s = 0; s < 3; ++s) {
        assert_int_equal(dfsae_train_step(m, o, X, 8, NULL, NULL, 0), DFSAE_OK);
    }
}

/* An allocator missing a function is not half-used: creation either
 * refuses it or falls back to malloc/free for both (then works). */
static void test_incomplete_allocator(void **state)
{
    api_alloc_ctl *ctl = fx_alloc(state, sizeof *ctl); /* outlives m */
    api_alloc_ctl_init(ctl);
    dfsae_allocator a = api_allocator(ctl);
    a.free = NULL;
    dfsae_model **m = fx_model_slot(state);
    int st = dfsae_model_create(4, 3, 1, &a, m);
    if (st == DFSAE_OK) {
        assert_int_equal(ctl->allocs, 0); /* fell back to malloc entirely */
    } else {
        assert_int_equal(st, DFSAE_ERR_INVALID_ARG);
        assert_null(*m);
    }
}

/* Fail the i-th allocation for every i until creation succeeds: each
 * failure is DFSAE_ERR_NO_MEMORY with *out NULL and nothing leaked. */
static void test_create_fails_cleanly_at_every_allocation(void **state)
{
    (void)state;
    for (int kind = -1; kind < DFSAE_OPTIMIZER_KIND_COUNT; ++kind) {
        size_t i = 0;
        for (;; ++i) {
            api_alloc_ctl ctl;
            api_alloc_ctl_init(&ctl);
            ctl.fail_after = i;
            dfsae_allocator a = api_allocator(&ctl);
            int st;
            void *h = &ctl;
            if (kind < 0) {
                dfsae_model *m = (dfsae_model *)h;
                st = dfsae_model_create(6, 4, 1, &a, &m);
                h = m;
                if (st == DFSAE_OK)
                    dfsae_model_free(m);
            } else {
                dfsae_optimizer *o = (dfsae_optimizer *)h;
                st = dfsae_optimizer_create(kind, 28, &a, &o);
                h = o;
                if (st == DFSAE_OK)
                    dfsae_optimizer_free(o);
            }
            assert_int_equal(ctl.allocs, ctl.frees);
            if (st == DFSAE_OK)
                break;
            assert_int_equal(st, DFSAE_ERR_NO_MEMORY);
            assert_null(h);
            assert_true(ctl.refused >= 1);
        }
        assert_true(i >= 1);
    }
}

/* The same for the first gradient, which grows the workspace: each failure
 * is NO_MEMORY, the parameters are untouched, and once memory is back the
 * result equals that of a model that never failed. */
static void test_grad_fails_cleanly_at_every_allocation(void **state)
{
    for (int wr = 0; wr <= 1; ++wr) {
        rig *ref = rig_open(state, 8, DFSAE_GRAM_AUTO, wr);
        float *g_ref = fx_alloc(state, ref->np * sizeof *g_ref);
        float *g = fx_alloc(state, ref->np * sizeof *g);
        float *p0 = fx_alloc(state, ref->np * sizeof *p0);
        float *p1 = fx_alloc(state, ref->np * sizeof *p1);
        double total_ref, total;
        assert_int_equal(
            dfsae_model_grad(ref->m, ref->X, MAX_B, g_ref, &total_ref, NULL, 0),
            DFSAE_OK);
        for (size_t i = 0;; ++i) {
            rig *r = rig_open(state, 8, DFSAE_GRAM_AUTO, wr);
            assert_int_equal(dfsae_model_get_params(r->m, p0, r->np), DFSAE_OK);
            r->ctl.fail_after = r->ctl.allocs + i;
            int st = dfsae_model_grad(r->m, r->X, MAX_B, g, &total, NULL, 0);
            assert_int_equal(dfsae_model_get_params(r->m, p1, r->np), DFSAE_OK);
            assert_memory_equal(p0, p1, r->np * sizeof *p0);
            r->ctl.fail_after = SIZE_MAX;
            if (st != DFSAE_OK) {
                assert_int_equal(st, DFSAE_ERR_NO_MEMORY);
                assert_true(dfsae_model_last_error(r->m)[0] != '\0');
                st = dfsae_model_grad(r->m, r->X, MAX_B, g, &total, NULL, 0);
                assert_int_equal(st, DFSAE_OK);
                assert_memory_equal(g, g_ref, r->np * sizeof *g);
                assert_memory_equal(&total, &total_ref, sizeof total);
                r->ctl.refused = 0;
                rig_close(state, r);
                continue;
            }
            assert_memory_equal(g, g_ref, r->np * sizeof *g);
            rig_close(state, r);
            assert_true(i >= 1);
            break;
        }
        rig_close(state, ref);
    }
}

/* The same for the first training step, which allocates the gradient and
 * the workspace: each failure is NO_MEMORY with the parameters and the
 * optimizer as they were; once memory is back the step equals that of a
 * model that never failed. */
static void test_train_step_fails_cleanly_at_every_allocation(void **state)
{
    rig *ref = rig_open(state, 8, DFSAE_GRAM_AUTO, 1.0);
    float *want = fx_alloc(state, ref->np * sizeof *want);
    float *p0 = fx_alloc(state, ref->np * sizeof *p0);
    float *p1 = fx_alloc(state, ref->np * sizeof *p1);
    double loss_ref, loss;
    assert_int_equal(
        dfsae_train_step(ref->m, ref->o, ref->X, MAX_B, &loss_ref, NULL, 0),
        DFSAE_OK);
    assert_int_equal(dfsae_model_get_params(ref->m, want, ref->np), DFSAE_OK);
    for (size_t i = 0;; ++i) {
        rig *r = rig_open(state, 8, DFSAE_GRAM_AUTO, 1.0);
        assert_int_equal(dfsae_model_get_params(r->m, p0, r->np), DFSAE_OK);
        r->ctl.fail_after = r->ctl.allocs + i;
        int st = dfsae_train_step(r->m, r->o, r->X, MAX_B, &loss, NULL, 0);
        r->ctl.fail_after = SIZE_MAX;
        if (st == DFSAE_OK) {
            assert_true(i >= 2); /* the gradient, then the workspace */
            rig_close(state, r);
            break;
        }
        assert_int_equal(st, DFSAE_ERR_NO_MEMORY);
        assert_int_equal(dfsae_model_get_params(r->m, p1, r->np), DFSAE_OK);
        assert_memory_equal(p0, p1, r->np * sizeof *p0);
        assert_true(dfsae_optimizer_step_count(r->o) == 0);
        assert_int_equal(
            dfsae_train_step(r->m, r->o, r->X, MAX_B, &loss, NULL, 0),
            DFSAE_OK);
        assert_int_equal(dfsae_model_get_params(r->m, p1, r->np), DFSAE_OK);
        assert_memory_equal(p1, want, r->np * sizeof *p1);
        assert_memory_equal(&loss, &loss_ref, sizeof loss);
        r->ctl.refused = 0;
        rig_close(state, r);
    }
    rig_close(state, ref);
}

/* One B x K buffer per use: the activations A, and a dZ of its own only
 * while no term leaves a product for dZ to be written over (L_tc does,
 * docs/performance.md). The live blocks of exactly 4 B K bytes are
 * counted; at this shape no other buffer has that size. */
#define MEM_K 20
#define MEM_B 30

static rig *mem_rig_open(void **state, double lambda_tc)
{
    rig *r = rig_open(state, MEM_K, DFSAE_GRAM_AUTO, 0.0);
    r->ctl.watch_size = (size_t)MEM_B * MEM_K * sizeof(float);
    assert_int_equal(
        dfsae_model_set_option(r->m, DFSAE_MODEL_LAMBDA_TC, lambda_tc),
        DFSAE_OK);
    return r;
}

static void test_step_with_tc_holds_a_alone(void **state)
{
    rig *r = mem_rig_open(state, 1.0);
    train_step(r, MEM_B);
    assert_int_equal(r->ctl.watch_live, 1);
    train_step(r, MEM_B);
    assert_int_equal(r->ctl.watch_live, 1);
    rig_close(state, r);
}

static void test_reserve_with_tc_holds_a_alone(void **state)
{
    rig *r = mem_rig_open(state, 1.0);
    assert_int_equal(dfsae_model_reserve(r->m, MEM_B), DFSAE_OK);
    assert_int_equal(r->ctl.watch_live, 1);
    rig_close(state, r);
}

static void test_step_without_tc_holds_dz(void **state)
{
    rig *r = mem_rig_open(state, 0.0);
    train_step(r, MEM_B);
    assert_int_equal(r->ctl.watch_live, 2);
    rig_close(state, r);
}

/* L_tc turned off after the workspace was sized without dZ: the next
 * gradient takes dZ then and equals that of a model without L_tc from the
 * start, bit for bit. */
static void test_tc_turned_off_later(void **state)
{
    rig *on = mem_rig_open(state, 1.0), *off = mem_rig_open(state, 0.0);
    assert_int_equal(dfsae_model_reserve(on->m, MEM_B), DFSAE_OK);
    assert_int_equal(on->ctl.watch_live, 1);
    assert_int_equal(dfsae_model_set_option(on->m, DFSAE_MODEL_LAMBDA_TC, 0.0),
                     DFSAE_OK);
    float *g_on = fx_alloc(state, on->np * sizeof *g_on);
    float *g_off = fx_alloc(state, off->np * sizeof *g_off);
    double t_on, t_off;
    assert_int_equal(
        dfsae_model_grad(on->m, on->X, MEM_B, g_on, &t_on, NULL, 0), DFSAE_OK);
    assert_int_equal(
        dfsae_model_grad(off->m, off->X, MEM_B, g_off, &t_off, NULL, 0),
        DFSAE_OK);
    assert_int_equal(on->ctl.watch_live, 2);
    assert_memory_equal(g_on, g_off, on->np * sizeof *g_on);
    assert_true(t_on == t_off);
    fx_drop(state, g_off);
    fx_drop(state, g_on);
    rig_close(state, off);
    rig_close(state, on);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(test_no_allocation_after_first_step),
        FIXTURE_TEST(test_no_allocation_after_reserve),
        FIXTURE_TEST(test_no_allocation_with_transform),
        FIXTURE_TEST(test_step_with_tc_holds_a_alone),
        FIXTURE_TEST(test_reserve_with_tc_holds_a_alone),
        FIXTURE_TEST(test_step_without_tc_holds_dz),
        FIXTURE_TEST(test_tc_turned_off_later),
        FIXTURE_TEST(test_default_allocator),
        FIXTURE_TEST(test_incomplete_allocator),
        cmocka_unit_test(test_create_fails_cleanly_at_every_allocation),
        FIXTURE_TEST(test_grad_fails_cleanly_at_every_allocation),
        FIXTURE_TEST(test_train_step_fails_cleanly_at_every_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
