/* L_var = -sum_j log(v_j + eps): finite differences for every activation
 * and both shapes, a dead unit, the eps option, large activations. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>

#include <cmocka.h>

#include "fixture.h"
#include "grad_fixtures.h"
#include "grad_reference.h"
#include "gradcheck.h"

static const grad_lambdas VAR = {.lse = 0.0, .var = 1.0, .tc = 0.0, .wr = 0.0};

static void fd_var_wide(void **state)
{
    (void)state;
    gradcheck_opts o;
    gradcheck_default_opts(&o);
    grad_check_all_activations(
        (grad_case){"var", GRAD_SHAPE_WIDE, 0, VAR, DFSAE_GRAM_AUTO, 201}, &o);
}

static void fd_var_tall(void **state)
{
    (void)state;
    gradcheck_opts o;
    gradcheck_default_opts(&o);
    grad_check_all_activations(
        (grad_case){"var", GRAD_SHAPE_TALL, 0, VAR, DFSAE_GRAM_AUTO, 202}, &o);
}

/* B = 2, the smallest batch with a variance. There L_var is
 * -log((a_1 - a_2)^2 / 2 + eps) per unit, whose k-th derivative grows as
 * 1 / |a_1 - a_2|^k: the stencil's h^4 truncation shows at the default
 * step. Measured worst relative error (softplus, identity, tanh): 9.3e-4
 * at 2^-7, 6.2e-5 at 2^-8, 1.3e-4 at 2^-9 (noise from there down). */
static void fd_var_two_rows(void **state)
{
    (void)state;
    gradcheck_opts o;
    gradcheck_default_opts(&o);
    o.h = 0x1p-8;
    grad_check_all_activations(
        (grad_case){"var B=2", 4, 3, 2, 0, VAR, DFSAE_GRAM_AUTO, 203}, &o);
}

/* Value against the double-precision reference, computed from the
 * library's own A. Forward's product of a few rows rounds differently from
 * the loss's sgemm (layers/forward_small.c), so rtol must allow float
 * rounding of A (1e-6 does; the eps values tested move L_var by far more). */
static void expect_terms(dfsae_model *m, const float *X, size_t n,
                         const grad_ref_opts *ro, double rtol)
{
    double got[DFSAE_TERM_COUNT], want[DFSAE_TERM_COUNT];
    grad_terms_vs_reference(m, X, n, ro, got, want);
    if (!(fabs(got[DFSAE_TERM_VAR] - want[DFSAE_TERM_VAR]) <=
          rtol * fabs(want[DFSAE_TERM_VAR])))
        fail_msg("L_var %.12g, reference %.12g", got[DFSAE_TERM_VAR],
                 want[DFSAE_TERM_VAR]);
}

/* A dead relu unit (large negative bias: its column is all zero) has
 * v = 0: its term is -log(eps), finite, and its gradient is exactly 0. */
static void dead_unit_is_finite_with_zero_gradient(void **state)
{
    const size_t d = 5, k = 4, n = 8, dead = 2;
    for (int with_tc = 0; with_tc <= 1; ++with_tc) {
        grad_lambdas l = {
            .lse = 0.0, .var = 1.0, .tc = with_tc ? 1.0 : 0.0, .wr = 0.0};
        dfsae_model *m =
            fx_keep_model(state, grad_model_new(d, k, 204, DFSAE_ACT_RELU, l));
        float *X = fx_keep(state, grad_inputs_new(m, n, 205, 0.0));
        size_t np = dfsae_model_num_params(m);
        float *p = fx_alloc(state, np * sizeof *p),
              *g = fx_alloc(state, np * sizeof *g);
        assert_non_null(p);
        assert_non_null(g);
        assert_int_equal(dfsae_model_get_params(m, p, np), DFSAE_OK);
        p[k * d + dead] = -100.0f;
        assert_int_equal(dfsae_model_set_params(m, p, np), DFSAE_OK);
        double t[DFSAE_TERM_COUNT];
        int st = dfsae_model_grad(m, X, n, g, NULL, t, DFSAE_TERM_COUNT);
        if (st != DFSAE_OK)
            fail_msg("grad with a dead unit: %s", dfsae_model_last_error(m));
        assert_true(isfinite(t[DFSAE_TERM_VAR]) && isfinite(t[DFSAE_TERM_TC]));
        for (size_t c = 0; c < d; ++c)
            if (g[dead * d + c] != 0.0f)
                fail_msg("dL/dW[%zu][%zu] = %.9g for a dead unit", dead, c,
                         (double)g[dead * d + c]);
        assert_true(g[k * d + dead] == 0.0f);
        for (size_t i = 0; i < np; ++i)
            assert_true(isfinite(g[i]));
        grad_ref_opts ro = grad_ref_defaults();
        expect_terms(m, X, n, &ro, 1e-6);
        fx_drop(state, p);
        fx_drop(state, g);
        fx_drop(state, X);
        fx_drop(state, m);
    }
}

/* eps is the option's value (1e-6 by default, here 1e-2 and 1e-9). */
static void eps_option_is_used(void **state)
{
    const double eps[] = {1e-6, 1e-2, 1e-9};
    for (size_t e = 0; e < 3; ++e) {
        dfsae_model *m = fx_keep_model(
            state, grad_model_new(5, 6, 206, DFSAE_ACT_RELU, VAR));
        float *X = fx_keep(state, grad_inputs_new(m, 9, 207, 0.0));
        size_t np = dfsae_model_num_params(m);
        float *p = fx_alloc(state, np * sizeof *p);
        assert_non_null(p);
        assert_int_equal(dfsae_model_get_params(m, p, np), DFSAE_OK);
        p[np - 1] = -50.0f; /* one dead unit, where eps dominates */
        assert_int_equal(dfsae_model_set_params(m, p, np), DFSAE_OK);
        grad_set(m, DFSAE_MODEL_EPS_VAR, eps[e]);
        grad_ref_opts ro = grad_ref_defaults();
        ro.eps_var = eps[e];
        expect_terms(m, X, 9, &ro, 1e-6);
        fx_drop(state, p);
        fx_drop(state, X);
        fx_drop(state, m);
    }
}

/* A ~ 3000 has an ulp of 2.4e-4, so L_var's float evaluation carries
 * rounding noise (grad_var_rounding_noise) that the difference divides
 * by h: measured |analytic - numeric| * h / noise 0.5 .. 0.8 at steps
 * 2^-4 .. 2^-10, truncation above 2^-4 (worst relative error 3.3e-2 at
 * 2^-3, 3.2e-3 at 2^-4, 6.6e-3 at 2^-5). The best step, and atol from
 * the noise (grad_noise_opts: a factor 5 over the measured). */
static void large_activation_opts(dfsae_model *m, const float *X,
                                  gradcheck_opts *o)
{
    gradcheck_default_opts(o);
    grad_noise_opts(grad_var_rounding_noise(m, X, 32), 0x1p-4, o);
}

/* Activations near 2800 with a spread of ~1: the variance must come out
 * of a two-pass (or equivalent) sum, not E[a^2] - E[a]^2 in float. */
static void accurate_at_large_activations(void **state)
{
    dfsae_model *m =
        fx_keep_model(state, grad_model_new(6, 5, 208, DFSAE_ACT_RELU, VAR));
    float *X = fx_keep(state, grad_inputs_new(m, 32, 209, 0.0));
    size_t np = dfsae_model_num_params(m);
    float *p = fx_alloc(state, np * sizeof *p),
          *g = fx_alloc(state, np * sizeof *g);
    assert_non_null(p);
    assert_non_null(g);
    assert_int_equal(dfsae_model_get_params(m, p, np), DFSAE_OK);
    for (size_t j = 0; j < 5; ++j)
        p[np - 5 + j] = 2800.0f + 100.0f * (float)j;
    assert_int_equal(dfsae_model_set_params(m, p, np), DFSAE_OK);
    grad_ref_opts ro = grad_ref_defaults();
    expect_terms(m, X, 32, &ro, 1e-9);
    assert_int_equal(dfsae_model_grad(m, X, 32, g, NULL, NULL, 0), DFSAE_OK);
    for (size_t i = 0; i < np; ++i)
        assert_true(isfinite(g[i]));
    gradcheck_opts o;
    large_activation_opts(m, X, &o);
    gradcheck_assert(m, X, 32, &o, "var at A ~ 3000", NULL);
    /* The allowance does not blind the check: the largest entry 1% off
     * fails. */
    size_t top = 0;
    for (size_t i = 1; i < np; ++i)
        if (fabs(g[i]) > fabs(g[top]))
            top = i;
    g[top] *= 1.01f;
    gradcheck_result r;
    if (gradcheck_run(m, X, 32, g, &o, "var at A ~ 3000, 1% off (must fail)",
                      &r))
        fail_msg("a 1%% error in entry %zu passed (atol %.3g, |g| %.3g)", top,
                 o.atol, fabs((double)g[top]));
    fx_drop(state, p);
    fx_drop(state, g);
    fx_drop(state, X);
    fx_drop(state, m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fd_var_wide),
        cmocka_unit_test(fd_var_tall),
        cmocka_unit_test(fd_var_two_rows),
        FIXTURE_TEST(dead_unit_is_finite_with_zero_gradient),
        FIXTURE_TEST(eps_option_is_used),
        FIXTURE_TEST(accurate_at_large_activations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
