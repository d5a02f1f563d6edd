/* Batches of every size take the product forward's routing gives them
 * (one row through sgemv, up to a limit set by W's size through a kernel
 * that reads W once per block of rows, layers/forward_small.c, beyond it
 * sgemm): for every n in 1..140 (at D = 523 one and two kernel blocks
 * and the limit, 128 rows, where sgemm takes over) and every activation,
 * with and without an input transform, forward of the first n rows
 * agrees to float rounding with the GEMM path (sgemm, the bias and phi,
 * called here directly), both agree with a double reference (Z and A, so
 * that a fault shared by both paths' epilogue shows too), and no call
 * allocates. */
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
#include "layers/layers.h"
#include "model.h"

/* D not a multiple of 8 and K not of 4, so the kernel's edges are used.
 * With a transform forward goes through 8192 floats of scratch: at D = 43
 * in blocks of 190 rows; at D = 100 in blocks of 128 rows by slices of 64
 * and 36 columns, the second added to the first (beta = 1). */
#define NARROW_D 43
#define WIDE_D   100
/* Rows this long, with K <= 64, take the kernel in blocks of up to 64
 * rows beyond 64 (up to 128; layers/forward_small.c). */
#define BLOCKS_D  523
#define MAX_D     BLOCKS_D
#define K         37
#define MAX_N     140
#define SOFTMAX_T 0.5

typedef struct rig {
    api_alloc_ctl ctl;
    dfsae_model *m;
    size_t d;
    float X[MAX_N * MAX_D], Xt[MAX_N * MAX_D], P[K * MAX_D + K];
    float Aref[MAX_N * K], Zref[MAX_N * K], A[MAX_N * K], Z[MAX_N * K];
    double zbound; /* largest sum_c |w_jc x'_ic| + |b_j| over the rows */
} rig;

/* The rig and its model are the fixture's; the model's allocator takes
 * the rig's counting control, which outlives it. */
static rig *rig_open(void **state, size_t d, int transformed)
{
    rig *r = fx_alloc(state, sizeof *r);
    r->d = d;
    api_alloc_ctl_init(&r->ctl);
    dfsae_allocator a = api_allocator(&r->ctl);
    dfsae_model **slot = fx_model_slot(state);
    assert_int_equal(dfsae_model_create(r->d, K, 9, &a, slot), DFSAE_OK);
    r->m = *slot;
    api_rng g;
    api_rng_seed(&g, 21);
    api_make_clusters(&g, r->X, MAX_N, r->d, 4, 1.0, 0.5);
    /* A bias of a visible size, so that its addition is checked too. */
    assert_int_equal(dfsae_model_get_params(r->m, r->P, K * r->d + K),
                     DFSAE_OK);
    for (size_t j = 0; j < K; ++j)
        r->P[K * r->d + j] = 0.1f * (float)j - 1.5f;
    assert_int_equal(dfsae_model_set_params(r->m, r->P, K * r->d + K),
                     DFSAE_OK);
    memcpy(r->Xt, r->X, sizeof r->X);
    if (transformed) {
        float shift[MAX_D], scale[MAX_D];
        for (size_t c = 0; c < r->d; ++c)
            shift[c] = 0.25f * (float)(c % 5),
            scale[c] = 0.5f + 0.1f * (float)(c % 7);
        assert_int_equal(dfsae_model_set_transform(r->m, shift, scale, r->d),
                         DFSAE_OK);
        for (size_t i = 0; i < MAX_N; ++i)
            for (size_t c = 0; c < r->d; ++c)
                r->Xt[i * r->d + c] =
                    (r->X[i * r->d + c] - shift[c]) * scale[c];
    }
    r->zbound = 0.0;
    for (size_t i = 0; i < MAX_N; ++i)
        for (size_t j = 0; j < K; ++j) {
            double s = fabs((double)r->P[K * r->d + j]);
            for (size_t c = 0; c < r->d; ++c)
                s += fabs((double)r->P[j * r->d + c] *
                          (double)r->Xt[i * r->d + c]);
            r->zbound = s > r->zbound ? s : r->zbound;
        }
    return r;
}

/* The model is dropped before a passing test returns: its allocator
 * takes test_malloc, whose blocks cmocka checks then. */
static void rig_close(void **state, rig *r)
{
    fx_drop(state, r->m);
    assert_int_equal(r->ctl.allocs, r->ctl.frees);
}

/* Float rounding of a sum of D + 1 terms, with room: 4 (D + 1) eps times
 * the magnitude of the terms. */
static double z_tolerance(const rig *r)
{
    return 4.0 * (double)(r->d + 1) * 1.2e-7 * r->zbound;
}

/* phi of a row of K pre-activations, in double. */
static void reference_phi(int act, const double *z, double *a)
{
    double zmax = z[0], sum = 0.0;
    for (size_t j = 0; j < K; ++j)
        zmax = z[j] > zmax ? z[j] : zmax;
    for (size_t j = 0; j < K; ++j)
        switch (act) {
        case DFSAE_ACT_RELU: a[j] = z[j] > 0.0 ? z[j] : 0.0; break;
        case DFSAE_ACT_SOFTPLUS: a[j] = log1p(exp(z[j])); break;
        case DFSAE_ACT_IDENTITY: a[j] = z[j]; break;
        case DFSAE_ACT_LEAKY_RELU:
            a[j] = z[j] > 0.0 ? z[j] : 0.01 * z[j];
            break;
        case DFSAE_ACT_TANH: a[j] = tanh(z[j]); break;
        default: a[j] = exp((z[j] - zmax) / SOFTMAX_T); sum += a[j];
        }
    for (size_t j = 0; act == DFSAE_ACT_SOFTMAX && j < K; ++j)
        a[j] /= sum;
}

/* The reference batch against a double product and phi: Z to float
 * rounding, A to ta plus phi's own rounding. */
static void check_reference(const rig *r, int act, double ta)
{
    const double tol = z_tolerance(r);
    for (size_t i = 0; i < MAX_N; ++i) {
        double z[K], a[K];
        for (size_t j = 0; j < K; ++j) {
            z[j] = (double)r->P[K * r->d + j];
            for (size_t c = 0; c < r->d; ++c)
                z[j] +=
                    (double)r->P[j * r->d + c] * (double)r->Xt[i * r->d + c];
            assert_true(fabs((double)r->Zref[i * K + j] - z[j]) <= tol);
        }
        reference_phi(act, z, a);
        for (size_t j = 0; j < K; ++j)
            if (fabs((double)r->Aref[i * K + j] - a[j]) >
                ta + 1e-6 * (1.0 + fabs(a[j])))
                fail_msg("activation %d, reference row %zu, unit %zu: %.9g "
                         "vs %.9g",
                         act, i, j, (double)r->Aref[i * K + j], a[j]);
    }
}

/* The GEMM path on the transformed rows: sgemm, then + b and phi. */
static void gemm_reference(rig *r)
{
    const float *b = r->P + K * r->d;
    dfsae__linear_forward(r->Xt, MAX_N, r->d, r->P, K, r->Zref);
    memcpy(r->Aref, r->Zref, sizeof r->Aref);
    dfsae__activations[r->m->opt.activation]->apply(
        r->Aref, b, MAX_N, K, dfsae__activation_param(&r->m->opt));
    for (size_t i = 0; i < MAX_N; ++i)
        for (size_t j = 0; j < K; ++j)
            r->Zref[i * K + j] += b[j];
}

static void check_activation(rig *r, int act)
{
    assert_int_equal(
        dfsae_model_set_option(r->m, DFSAE_MODEL_ACTIVATION, (double)act),
        DFSAE_OK);
    gemm_reference(r);
    /* Every activation here is 1-Lipschitz in each z but softmax, whose
     * outputs move by at most 2 max|dz| / T. */
    const double tz = z_tolerance(r);
    const double ta = act == DFSAE_ACT_SOFTMAX ? 2.0 * tz / SOFTMAX_T : tz;
    check_reference(r, act, ta);
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

static void run_all(void **state, size_t d, int transformed)
{
    rig *r = rig_open(state, d, transformed);
    assert_int_equal(dfsae_model_set_option(
                         r->m, DFSAE_MODEL_SOFTMAX_TEMPERATURE, SOFTMAX_T),
                     DFSAE_OK);
    for (int act = 0; act < DFSAE_ACT_COUNT; ++act)
        check_activation(r, act);
    rig_close(state, r);
}

static void test_small_batches_identity_input(void **state)
{
    run_all(state, NARROW_D, 0);
    run_all(state, WIDE_D, 0);
    run_all(state, BLOCKS_D, 0);
}

static void test_small_batches_transformed_input(void **state)
{
    run_all(state, NARROW_D, 1);
}

static void test_small_batches_transformed_column_slices(void **state)
{
    run_all(state, WIDE_D, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(test_small_batches_identity_input),
        FIXTURE_TEST(test_small_batches_transformed_input),
        FIXTURE_TEST(test_small_batches_transformed_column_slices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
