/* Activations: forward values against the double reference, and the
 * combined objective's gradient through each activation (defaults
 * 1/1/1/0, and with lambda_wr = 1), B < K and B > K. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "fixture.h"
#include "grad_fixtures.h"
#include "grad_reference.h"
#include "gradcheck.h"

static const grad_lambdas DEFAULTS = {
    .lse = 1.0, .var = 1.0, .tc = 1.0, .wr = 0.0};
static const grad_lambdas WITH_WR = {
    .lse = 1.0, .var = 1.0, .tc = 1.0, .wr = 1.0};

/* sum_c |x_c w_jc| + |b_j| for entry i (row i / k, unit i % k). */
static double z_magnitude(const float *X, const float *p, size_t d, size_t k,
                          size_t i)
{
    double mag = fabs((double)p[k * d + i % k]);
    for (size_t c = 0; c < d; ++c)
        mag += fabs((double)X[(i / k) * d + c] * p[(i % k) * d + c]);
    return mag;
}

/* A = phi(X W^T + b) and Z against the reference in double, over a range
 * of z that reaches the saturated and linear parts (|z| up to ~40). */
static void forward_matches_reference(void **state)
{
    const size_t d = 6, k = 9, n = 11;
    const double slopes[] = {0.01, 0.2};
    for (int act = 0; act < DFSAE_ACT_COUNT; ++act)
        for (int s = 0; s < 2; ++s) {
            dfsae_model *m =
                fx_keep_model(state, grad_model_new(d, k, 501, act, DEFAULTS));
            grad_set(m, DFSAE_MODEL_LEAKY_SLOPE, slopes[s]);
            float *X = fx_keep(state, grad_inputs_new(m, n, 502, 0.0));
            for (size_t i = 0; i < n * d; ++i)
                X[i] *= 10.0f;
            size_t np = dfsae_model_num_params(m);
            float *p = fx_alloc(state, np * sizeof *p),
                  *A = fx_alloc(state, n * k * sizeof *A);
            float *Z = fx_alloc(state, n * k * sizeof *Z);
            double *Ar = fx_alloc(state, n * k * sizeof *Ar),
                   *Zr = fx_alloc(state, n * k * sizeof *Zr);
            assert_int_equal(dfsae_model_get_params(m, p, np), DFSAE_OK);
            assert_int_equal(dfsae_model_forward(m, X, n, A, Z, NULL),
                             DFSAE_OK);
            grad_ref_opts ro = grad_ref_defaults();
            ro.activation = act;
            ro.leaky_slope = slopes[s];
            grad_ref_forward(&ro, X, n, d, p, k, Zr, Ar);
            for (size_t i = 0; i < n * k; ++i) {
                /* Z is a float dot product of length D: its error is
                 * relative to sum |x w| + |b|, and phi' <= 1 carries it.
                 * A softmax entry moves with every z of its row, by at
                 * most twice the largest error there. */
                double mag = z_magnitude(X, p, d, k, i);
                if (act == DFSAE_ACT_SOFTMAX)
                    for (size_t j = i - i % k; j < i - i % k + k; ++j)
                        mag = fmax(mag, 2.0 * z_magnitude(X, p, d, k, j));
                double tol = 1e-6 * mag + 1e-6 * fabs(Ar[i]);
                if (!(fabs(Z[i] - Zr[i]) <= tol && fabs(A[i] - Ar[i]) <= tol))
                    fail_msg("%s slope %g, entry %zu: z %.9g (ref %.9g), a "
                             "%.9g (ref %.9g)",
                             dfsae_activation_name(act), slopes[s], i,
                             (double)Z[i], Zr[i], (double)A[i], Ar[i]);
            }
            fx_drop(state, p);
            fx_drop(state, A);
            fx_drop(state, Z);
            fx_drop(state, Ar);
            fx_drop(state, Zr);
            fx_drop(state, X);
            fx_drop(state, m);
        }
}

static void fd_defaults_wide(void **state)
{
    (void)state;
    gradcheck_opts o;
    gradcheck_default_opts(&o);
    grad_check_all_activations((grad_case){"1/1/1/0", GRAD_SHAPE_WIDE, 0,
                                           DEFAULTS, DFSAE_GRAM_AUTO, 503},
                               &o);
}

static void fd_defaults_tall(void **state)
{
    (void)state;
    gradcheck_opts o;
    gradcheck_default_opts(&o);
    grad_check_all_activations((grad_case){"1/1/1/0", GRAD_SHAPE_TALL, 0,
                                           DEFAULTS, DFSAE_GRAM_AUTO, 504},
                               &o);
}

static void fd_with_wr_wide(void **state)
{
    (void)state;
    gradcheck_opts o;
    gradcheck_default_opts(&o);
    grad_check_all_activations((grad_case){"1/1/1/1", GRAD_SHAPE_WIDE, 0,
                                           WITH_WR, DFSAE_GRAM_AUTO, 505},
                               &o);
}

static void fd_with_wr_tall(void **state)
{
    (void)state;
    gradcheck_opts o;
    gradcheck_default_opts(&o);
    grad_check_all_activations((grad_case){"1/1/1/1", GRAD_SHAPE_TALL, 0,
                                           WITH_WR, DFSAE_GRAM_AUTO, 506},
                               &o);
}

/* leaky_relu with a slope far from the default. */
static void fd_leaky_slope(void **state)
{
    const double slopes[] = {0.0, 0.3, 1.0};
    int failed = 0;
    for (size_t s = 0; s < 3; ++s) {
        dfsae_model *m = fx_keep_model(
            state, grad_model_new(7, 6, 507, DFSAE_ACT_LEAKY_RELU, WITH_WR));
        grad_set(m, DFSAE_MODEL_LEAKY_SLOPE, slopes[s]);
        float *X =
            fx_keep(state, grad_inputs_new(m, 24, 508, GRAD_KINK_MARGIN));
        gradcheck_opts o;
        gradcheck_default_opts(&o);
        gradcheck_result r;
        char label[48];
        snprintf(label, sizeof label, "leaky slope %g", slopes[s]);
        failed += !gradcheck_run(m, X, 24, NULL, &o, label, &r);
        if (getenv("DFSAE_GRADCHECK_VERBOSE") != NULL)
            gradcheck_print(label, &r);
        fx_drop(state, X);
        fx_drop(state, m);
    }
    if (failed)
        fail_msg("%d leaky slopes failed", failed);
}

/* Saturated inputs (|z| ~ 20..40): softplus and tanh stay finite and
 * their gradients finite; no NaN from exp overflow. */
static void saturated_inputs_stay_finite(void **state)
{
    for (int act = 0; act < DFSAE_ACT_COUNT; ++act) {
        dfsae_model *m =
            fx_keep_model(state, grad_model_new(4, 5, 509, act, WITH_WR));
        float *X = fx_keep(state, grad_inputs_new(m, 8, 510, 0.0));
        for (size_t i = 0; i < 32; ++i)
            X[i] *= 40.0f;
        float g[4 * 5 + 5];
        double t[4];
        int st = dfsae_model_grad(m, X, 8, g, NULL, t, 4);
        if (st != DFSAE_OK)
            fail_msg("%s: %s", dfsae_activation_name(act),
                     dfsae_model_last_error(m));
        for (size_t i = 0; i < 25; ++i)
            assert_true(isfinite(g[i]));
        fx_drop(state, X);
        fx_drop(state, m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(forward_matches_reference),
        cmocka_unit_test(fd_defaults_wide),
        cmocka_unit_test(fd_defaults_tall),
        cmocka_unit_test(fd_with_wr_wide),
        cmocka_unit_test(fd_with_wr_tall),
        FIXTURE_TEST(fd_leaky_slope),
        FIXTURE_TEST(saturated_inputs_stay_finite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
