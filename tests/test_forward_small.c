/* Small batches take their own product (one row through sgemv, a few
 * through a kernel that reads W once, layers/forward_small.c): for every
 * n in 1..130 and every activation, with and without an input transform,
 * forward of the first n rows agrees to float rounding with the same rows
 * of a batch large enough to go through sgemm, both agree with a double
 * reference, and no call allocates. */
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

/* D not a multiple of 8 and K not of 4, so the kernel's edges are used;
 * with a transform, forward cuts blocks of 8192 / D = 190 rows, so the
 * reference batch's first block (rows 0..189) still goes through sgemm. */
#define D         43
#define K         37
#define MAX_N     130
#define BIG_N     200
#define SOFTMAX_T 0.5

typedef struct rig {
    api_alloc_ctl ctl;
    dfsae_model *m;
    float X[BIG_N * D], Xt[BIG_N * D], P[K * D + K];
    float Aref[BIG_N * K], Zref[BIG_N * K], A[MAX_N * K], Z[MAX_N * K];
    double zbound; /* largest sum_c |w_jc x'_ic| + |b_j| over the rows */
} rig;

static void rig_open(rig *r, int transformed)
{
    api_alloc_ctl_init(&r->ctl);
    dfsae_allocator a = api_allocator(&r->ctl);
    assert_int_equal(dfsae_model_create(D, K, 9, &a, &r->m), DFSAE_OK);
    api_rng g;
    api_rng_seed(&g, 21);
    api_make_clusters(&g, r->X, BIG_N, D, 4, 1.0, 0.5);
    /* A bias of a visible size, so that its addition is checked too. */
    assert_int_equal(dfsae_model_get_params(r->m, r->P, K * D + K), DFSAE_OK);
    for (size_t j = 0; j < K; ++j)
        r->P[K * D + j] = 0.1f * (float)j - 1.5f;
    assert_int_equal(dfsae_model_set_params(r->m, r->P, K * D + K), DFSAE_OK);
    memcpy(r->Xt, r->X, sizeof r->X);
    if (transformed) {
        float shift[D], scale[D];
        for (size_t c = 0; c < D; ++c)
            shift[c] = 0.25f * (float)(c % 5),
            scale[c] = 0.5f + 0.1f * (float)(c % 7);
        assert_int_equal(dfsae_model_set_transform(r->m, shift, scale, D),
                         DFSAE_OK);
        for (size_t i = 0; i < BIG_N; ++i)
            for (size_t c = 0; c < D; ++c)
                r->Xt[i * D + c] = (r->X[i * D + c] - shift[c]) * scale[c];
    }
    r->zbound = 0.0;
    for (size_t i = 0; i < MAX_N; ++i)
        for (size_t j = 0; j < K; ++j) {
            double s = fabs((double)r->P[K * D + j]);
            for (size_t c = 0; c < D; ++c)
                s += fabs((double)r->P[j * D + c] * (double)r->Xt[i * D + c]);
            r->zbound = s > r->zbound ? s : r->zbound;
        }
}

static void rig_close(rig *r)
{
    dfsae_model_free(r->m);
    assert_int_equal(r->ctl.allocs, r->ctl.frees);
}

/* Float rounding of a sum of D + 1 terms, with room: 4 (D + 1) eps times
 * the magnitude of the terms. */
static double z_tolerance(const rig *r)
{
    return 4.0 * (D + 1) * 1.2e-7 * r->zbound;
}

/* The reference batch's pre-activations against a double product. */
static void check_reference(const rig *r)
{
    const double tol = z_tolerance(r);
    for (size_t i = 0; i < MAX_N; ++i)
        for (size_t j = 0; j < K; ++j) {
            double z = (double)r->P[K * D + j];
            for (size_t c = 0; c < D; ++c)
                z += (double)r->P[j * D + c] * (double)r->Xt[i * D + c];
            assert_true(fabs((double)r->Zref[i * K + j] - z) <= tol);
        }
}

static void check_activation(rig *r, int act)
{
    assert_int_equal(
        dfsae_model_set_option(r->m, DFSAE_MODEL_ACTIVATION, (double)act),
        DFSAE_OK);
    assert_int_equal(
        dfsae_model_forward(r->m, r->X, BIG_N, r->Aref, r->Zref, NULL),
        DFSAE_OK);
    check_reference(r);
    /* Every activation here is 1-Lipschitz in each z but softmax, whose
     * outputs move by at most 2 max|dz| / T. */
    const double tz = z_tolerance(r);
    const double ta = act == DFSAE_ACT_SOFTMAX ? 2.0 * tz / SOFTMAX_T : tz;
    const size_t events = api_alloc_events(&r->ctl);
    for (size_t n = 1; n <= MAX_N; ++n) {
        /* Z requested on odd n only: both branches of forward are used. */
        float *Z = n % 2 ? r->Z : NULL;
        assert_int_equal(dfsae_model_forward(r->m, r->X, n, r->A, Z, NULL),
                         DFSAE_OK);
        for (size_t e = 0; e < n * K; ++e) {
            if (fabs((double)r->A[e] - (double)r->Aref[e]) > ta)
                fail_msg("activation %d, n = %zu, entry %zu: %.9g vs %.9g", act,
                         n, e, (double)r->A[e], (double)r->Aref[e]);
            if (Z != NULL)
                assert_true(fabs((double)Z[e] - (double)r->Zref[e]) <= tz);
        }
    }
    assert_int_equal(api_alloc_events(&r->ctl), events);
}

static void run_all(int transformed)
{
    rig *r = test_malloc(sizeof *r);
    rig_open(r, transformed);
    assert_int_equal(dfsae_model_set_option(
                         r->m, DFSAE_MODEL_SOFTMAX_TEMPERATURE, SOFTMAX_T),
                     DFSAE_OK);
    for (int act = 0; act < DFSAE_ACT_COUNT; ++act)
        check_activation(r, act);
    rig_close(r);
    test_free(r);
}

static void test_small_batches_identity_input(void **state)
{
    (void)state;
    run_all(0);
}

static void test_small_batches_transformed_input(void **state)
{
    (void)state;
    run_all(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_batches_identity_input),
        cmocka_unit_test(test_small_batches_transformed_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
