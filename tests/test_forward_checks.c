/* Forward's finiteness checks on every path (a few rows through the
 * small kernel, the checks and bias fused in registers and phi slab by
 * slab; many through sgemm and the epilogue's sweep; identity and transformed
 * input), for every activation, with and without Z, with the bad unit in
 * the first, a middle and the last slab of columns and the bad row last:
 *  - a product that is NaN (Inf - Inf), +Inf or -Inf from finite inputs
 *    is refused, even where phi would hide it (relu maps NaN and -Inf to
 *    0, tanh Inf to 1, softmax -Inf to 0);
 *  - a finite product whose bias overflows to -Inf is refused when Z is
 *    wanted, and without Z only where phi(-Inf) is not finite; where it
 *    is, A holds phi's exact value there;
 *  - a softmax whose finite logits overflow once divided by T is refused
 *    (A's check). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dfsae.h"
#include "fixture.h"

#define D     5
#define K     150 /* three slabs of the kernel's 64 columns */
#define MAX_N 130

static const size_t row_counts[] = {1, 2, 3, 4, 7, 64, 65, 130};
static const size_t bad_units[] = {0, 100, K - 1};

typedef enum fault {
    NAN_PRODUCT,
    INF_PRODUCT,
    MINUS_INF_PRODUCT,
    BIAS_OVERFLOW
} fault;

typedef struct rig {
    float P[K * D + K], X[MAX_N * D], A[MAX_N * K], Z[MAX_N * K];
} rig;

/* Small weights and inputs but for unit u and the last row, which carry
 * the fault. */
static void plant(rig *r, fault f, size_t u, size_t n)
{
    for (size_t j = 0; j < K; ++j) {
        for (size_t c = 0; c < D; ++c)
            r->P[j * D + c] = 0.01f * (float)((j + c) % 5) - 0.02f;
        r->P[K * D + j] = 0.001f * (float)j;
    }
    for (size_t e = 0; e < n * D; ++e)
        r->X[e] = 0.5f;
    float *w = r->P + u * D, *x = r->X + (n - 1) * D;
    if (f == BIAS_OVERFLOW) {
        w[0] = -1.0f;
        r->P[K * D + u] = -3e38f;
        x[0] = 3e38f;
    } else {
        w[0] = f == MINUS_INF_PRODUCT ? -1e30f : 1e30f;
        w[1] = f == INF_PRODUCT ? 1e30f : -1e30f;
        x[0] = x[1] = 1e30f;
    }
}

/* phi(-Inf) where it is finite, else NAN. */
static float phi_of_minus_inf(int act)
{
    switch (act) {
    case DFSAE_ACT_RELU:
    case DFSAE_ACT_SOFTPLUS:
    case DFSAE_ACT_SOFTMAX: return 0.0f;
    case DFSAE_ACT_TANH: return -1.0f;
    default: return NAN;
    }
}

static void check_case(void **state, rig *r, int transformed, fault f)
{
    dfsae_model *m = fx_model(state, D, K, 3);
    if (transformed) {
        const float shift[D] = {0}, scale[D] = {1, 1, 1, 1, 1};
        assert_int_equal(dfsae_model_set_transform(m, shift, scale, D),
                         DFSAE_OK);
    }
    for (int act = 0; act < DFSAE_ACT_COUNT; ++act) {
        assert_int_equal(
            dfsae_model_set_option(m, DFSAE_MODEL_ACTIVATION, (double)act),
            DFSAE_OK);
        for (size_t t = 0; t < sizeof row_counts / sizeof *row_counts; ++t)
            for (size_t q = 0; q < sizeof bad_units / sizeof *bad_units; ++q)
                for (int want_z = 0; want_z < 2; ++want_z) {
                    const size_t n = row_counts[t], u = bad_units[q];
                    plant(r, f, u, n);
                    assert_int_equal(dfsae_model_set_params(m, r->P, K * D + K),
                                     DFSAE_OK);
                    const int st = dfsae_model_forward(
                        m, r->X, n, r->A, want_z ? r->Z : NULL, NULL);
                    const float exact = phi_of_minus_inf(act);
                    const int passes =
                        f == BIAS_OVERFLOW && !want_z && !isnan(exact);
                    if (st != (passes ? DFSAE_OK : DFSAE_ERR_NON_FINITE_RESULT))
                        fail_msg("fault %d, transformed %d, activation %d, "
                                 "n = %zu, unit %zu, Z %d: status %d",
                                 (int)f, transformed, act, n, u, want_z, st);
                    if (passes)
                        assert_true(r->A[(n - 1) * K + u] == exact);
                }
    }
    fx_drop(state, m);
}

static void run_faults(void **state, int transformed)
{
    rig *r = fx_alloc(state, sizeof *r);
    check_case(state, r, transformed, NAN_PRODUCT);
    check_case(state, r, transformed, INF_PRODUCT);
    check_case(state, r, transformed, MINUS_INF_PRODUCT);
    check_case(state, r, transformed, BIAS_OVERFLOW);
}

static void test_checks_identity_input(void **state)
{
    run_faults(state, 0);
}

static void test_checks_transformed_input(void **state)
{
    run_faults(state, 1);
}

/* A softmax whose logits are finite but overflow once divided by T < 1:
 * only A's check sees it (Inf - Inf in the row's shift), on every path. */
static void test_softmax_scaled_overflow(void **state)
{
    rig *r = fx_alloc(state, sizeof *r);
    dfsae_model *m = fx_model(state, D, K, 3);
    assert_int_equal(dfsae_model_set_option(m, DFSAE_MODEL_ACTIVATION,
                                            (double)DFSAE_ACT_SOFTMAX),
                     DFSAE_OK);
    assert_int_equal(
        dfsae_model_set_option(m, DFSAE_MODEL_SOFTMAX_TEMPERATURE, 0.5),
        DFSAE_OK);
    for (size_t q = 0; q < sizeof bad_units / sizeof *bad_units; ++q) {
        plant(r, NAN_PRODUCT, bad_units[q], 1); /* small weights and bias */
        r->P[K * D + bad_units[q]] = 2e38f;     /* 2e38 / 0.5 overflows */
        for (size_t e = 0; e < MAX_N * D; ++e)
            r->X[e] = 0.5f;
        memset(r->P + bad_units[q] * D, 0, D * sizeof *r->P);
        assert_int_equal(dfsae_model_set_params(m, r->P, K * D + K), DFSAE_OK);
        for (size_t t = 0; t < sizeof row_counts / sizeof *row_counts; ++t)
            for (int want_z = 0; want_z < 2; ++want_z)
                if (dfsae_model_forward(m, r->X, row_counts[t], r->A,
                                        want_z ? r->Z : NULL,
                                        NULL) != DFSAE_ERR_NON_FINITE_RESULT)
                    fail_msg("unit %zu, n = %zu, Z %d: accepted", bad_units[q],
                             row_counts[t], want_z);
    }
    fx_drop(state, m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(test_checks_identity_input),
        FIXTURE_TEST(test_checks_transformed_input),
        FIXTURE_TEST(test_softmax_scaled_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
