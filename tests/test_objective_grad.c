/* The whole objective: per-term values against the double-precision reference,
 * the weighted total, linearity of the gradient in the weights, capped gradient
 * checks on larger models, the fused training step. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "grad_fixtures.h"
#include "grad_reference.h"
#include "gradcheck.h"

static const grad_lambdas ALL = {.lse = 1.0, .var = 1.0, .tc = 1.0, .wr = 1.0};

static int verbose(void)
{
    return getenv("DFSAE_GRADCHECK_VERBOSE") != NULL;
}

/* The library's four terms against the reference evaluated on the
 * library's own A (so the comparison isolates the reductions from the
 * float forward pass, which test_activation covers). Returns the largest
 * relative error. */
static double compare_terms(dfsae_model *m, const float *X, size_t n, int act,
                            double rtol, const char *what)
{
    double got[DFSAE_TERM_COUNT], want[DFSAE_TERM_COUNT];
    grad_ref_opts ro = grad_ref_defaults();
    ro.activation = act;
    grad_terms_vs_reference(m, X, n, &ro, got, want);
    double worst = 0.0;
    for (int t = 0; t < DFSAE_TERM_COUNT; ++t) {
        double rel = fabs(got[t] - want[t]) / fabs(want[t]);
        worst = fmax(worst, rel);
        if (!(rel <= rtol))
            fail_msg("%s: L_%s %.12g, reference %.12g (rel %.3g)", what,
                     dfsae_term_name(t), got[t], want[t], rel);
    }
    return worst;
}

/* A few random problems per activation, both Gram sides, B < K and B > K,
 * and one at the activation scale docs/math.md reports (means in the
 * thousands). Tolerance 1e-5 relative per term. */
static void values_match_reference(void **state)
{
    const size_t shapes[][3] = {{5, 10, 6}, {7, 6, 24}, {12, 20, 33}};
    const int sides[] = {DFSAE_GRAM_FEATURE, DFSAE_GRAM_SAMPLE};
    double worst = 0.0;
    for (size_t s = 0; s < 3; ++s)
        for (int act = 0; act < DFSAE_ACT_COUNT; ++act)
            for (int side = 0; side < 2; ++side) {
                size_t d = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
                dfsae_model *m = fx_keep_model(
                    state, grad_model_new(d, k, 601 + s, act, ALL));
                grad_set(m, DFSAE_MODEL_GRAM_SIDE, sides[side]);
                float *X = fx_keep(state, grad_inputs_new(m, n, 602 + s, 0.0));
                char what[64];
                snprintf(what, sizeof what, "%s D=%zu K=%zu B=%zu side %d",
                         dfsae_activation_name(act), d, k, n, sides[side]);
                worst = fmax(worst, compare_terms(m, X, n, act, 1e-5, what));
                fx_drop(state, X);
                fx_drop(state, m);
            }
    if (verbose())
        print_message("terms vs reference: max rel %.2e\n", worst);
}

static void values_match_reference_at_large_scale(void **state)
{
    const size_t d = 10, k = 12, n = 40;
    for (int side = 1; side <= 2; ++side) {
        dfsae_model *m = fx_keep_model(
            state, grad_model_new(d, k, 610, DFSAE_ACT_RELU, ALL));
        grad_set(m, DFSAE_MODEL_GRAM_SIDE, side);
        float *X = fx_keep(state, grad_inputs_new(m, n, 611, 0.0));
        size_t np = dfsae_model_num_params(m);
        float *p = fx_alloc(state, np * sizeof *p);
        assert_non_null(p);
        assert_int_equal(dfsae_model_get_params(m, p, np), DFSAE_OK);
        /* Means 46..2800 with spreads of a few units, as in the study's
         * long runs. */
        for (size_t j = 0; j < k; ++j)
            p[k * d + j] = (float)(46.0 + 250.0 * (double)j);
        for (size_t i = 0; i < k * d; ++i)
            p[i] *= 5.0f;
        assert_int_equal(dfsae_model_set_params(m, p, np), DFSAE_OK);
        char what[32];
        snprintf(what, sizeof what, "large scale side %d", side);
        double w = compare_terms(m, X, n, DFSAE_ACT_RELU, 1e-5, what);
        if (verbose())
            print_message("%s: max rel %.2e\n", what, w);
        fx_drop(state, p);
        fx_drop(state, X);
        fx_drop(state, m);
    }
}

/* total = sum_t lambda_t * term_t, and a term with weight 0 reads 0. */
static void total_is_the_weighted_sum(void **state)
{
    const grad_lambdas l = {.lse = 0.5, .var = 2.0, .tc = 3.0, .wr = 0.25};
    dfsae_model *m =
        fx_keep_model(state, grad_model_new(6, 8, 620, DFSAE_ACT_SOFTPLUS, l));
    float *X = fx_keep(state, grad_inputs_new(m, 10, 621, 0.0));
    double t[DFSAE_TERM_COUNT], total;
    assert_int_equal(dfsae_model_loss(m, X, 10, &total, t, DFSAE_TERM_COUNT),
                     DFSAE_OK);
    double want = 0.5 * t[DFSAE_TERM_LSE] + 2.0 * t[DFSAE_TERM_VAR] +
                  3.0 * t[DFSAE_TERM_TC] + 0.25 * t[DFSAE_TERM_WR];
    if (!(fabs(total - want) <= 1e-12 * fabs(want)))
        fail_msg("total %.17g, weighted sum %.17g", total, want);
    grad_set(m, DFSAE_MODEL_LAMBDA_TC, 0.0);
    assert_int_equal(dfsae_model_loss(m, X, 10, &total, t, DFSAE_TERM_COUNT),
                     DFSAE_OK);
    assert_true(t[DFSAE_TERM_TC] == 0.0);
    fx_drop(state, X);
    fx_drop(state, m);
}

/* The gradient is linear in the weights: grad(lambda) equals sum_t
 * lambda_t grad_t with each term alone (to float rounding of the sums:
 * 1e-5 of the largest entry). */
static void gradient_is_linear_in_the_weights(void **state)
{
    const double lam[4] = {0.5, 2.0, 3.0, 0.25};
    for (int act = 0; act < DFSAE_ACT_COUNT; ++act) {
        grad_lambdas l = {
            .lse = lam[0], .var = lam[1], .tc = lam[2], .wr = lam[3]};
        dfsae_model *m =
            fx_keep_model(state, grad_model_new(5, 7, 630, act, l));
        float *X = fx_keep(state, grad_inputs_new(m, 9, 631, 0.0));
        size_t np = dfsae_model_num_params(m);
        float *g = fx_alloc(state, np * sizeof *g),
              *gt = fx_alloc(state, np * sizeof *gt);
        double *sum = fx_alloc(state, np * sizeof *sum);
        assert_non_null(g);
        assert_non_null(gt);
        assert_non_null(sum);
        assert_int_equal(dfsae_model_grad(m, X, 9, g, NULL, NULL, 0), DFSAE_OK);
        for (int t = 0; t < 4; ++t) {
            for (int u = 0; u < 4; ++u)
                grad_set(m, DFSAE_MODEL_LAMBDA_LSE + u, u == t ? lam[t] : 0);
            assert_int_equal(dfsae_model_grad(m, X, 9, gt, NULL, NULL, 0),
                             DFSAE_OK);
            for (size_t i = 0; i < np; ++i)
                sum[i] += gt[i];
        }
        double gmax = 0.0;
        for (size_t i = 0; i < np; ++i)
            gmax = fmax(gmax, fabs(sum[i]));
        for (size_t i = 0; i < np; ++i)
            if (!(fabs(g[i] - sum[i]) <= 1e-5 * gmax))
                fail_msg("%s: grad[%zu] %.9g, sum of the terms' %.9g",
                         dfsae_activation_name(act), i, (double)g[i], sum[i]);
        fx_drop(state, g);
        fx_drop(state, gt);
        fx_drop(state, sum);
        fx_drop(state, X);
        fx_drop(state, m);
    }
}

/* 1 if the check with options o fails when the largest bias entry of the
 * library's gradient is 1% off (every bias is among the checked
 * coordinates); printed otherwise. */
static int fails_one_percent_off(void **state, dfsae_model *m, const float *X,
                                 size_t n, const gradcheck_opts *o,
                                 const char *label)
{
    const size_t np = dfsae_model_num_params(m);
    const size_t nb = dfsae_model_num_components(m);
    float *g = fx_alloc(state, np * sizeof *g);
    assert_int_equal(dfsae_model_grad(m, X, n, g, NULL, NULL, 0), DFSAE_OK);
    size_t top = np - nb;
    for (size_t i = top + 1; i < np; ++i)
        if (fabs(g[i]) > fabs(g[top]))
            top = i;
    const float right = g[top];
    g[top] *= 1.01f;
    gradcheck_result r;
    print_message("expected failure (%s, 1%% off) follows:\n", label);
    int caught = !gradcheck_run(m, X, n, g, o, label, &r);
    fx_drop(state, g);
    if (!caught)
        print_error("%s: a 1%% error in entry %zu passed (atol %.3g, |g| "
                    "%.3g)\n",
                    label, top, o->atol, fabs((double)right));
    return caught;
}

/* Larger models: a capped random subset of coordinates (400, every bias
 * among them) plus 4 random directions, all four terms, both shapes.
 * With K = 64 no input row keeps all 64 pre-activations away from the
 * relu kink, so for relu the weights are scaled up (|z| ~ 2.5): that
 * leaves most coordinates checkable (the checker asserts at least half).
 * The loss adds up hundreds of float terms, and its rounding noise
 * (grad_measured_noise), divided by h, is the error: measured max
 * |analytic - numeric| * h / noise 0.4 .. 2.5 over the six cases at steps
 * 2^-6 .. 2^-9, truncation only at 2^-5 and above for the smooth
 * activations. Relu's larger activations raise the noise, so its step is
 * doubled to 2^-6 (2^-5 would skip 75 of 400: the relative error 5.0e-4
 * at 2^-5, 9.9e-4 at 2^-6, 2.3e-3 at 2^-7, 1.2e-2 at 2^-9). The noise
 * allowance is atol = 4 noise / h (grad_noise_opts), and each case shows
 * that a 1% error in its largest bias entry still fails. */
static void fd_capped_larger_models(void **state)
{
    const size_t shapes[][3] = {{33, 64, 40}, {20, 16, 96}};
    const int acts[] = {DFSAE_ACT_RELU, DFSAE_ACT_SOFTPLUS, DFSAE_ACT_TANH};
    int failed = 0;
    for (size_t s = 0; s < 2; ++s)
        for (size_t a = 0; a < 3; ++a) {
            size_t d = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
            dfsae_model *m = fx_keep_model(
                state, grad_model_new(d, k, 640 + s, acts[a], ALL));
            gradcheck_opts o;
            gradcheck_default_opts(&o);
            if (acts[a] == DFSAE_ACT_RELU) {
                size_t np = dfsae_model_num_params(m);
                float *p = fx_alloc(state, np * sizeof *p);
                assert_non_null(p);
                assert_int_equal(dfsae_model_get_params(m, p, np), DFSAE_OK);
                for (size_t i = 0; i < np; ++i)
                    p[i] *= 4.0f;
                assert_int_equal(dfsae_model_set_params(m, p, np), DFSAE_OK);
                fx_drop(state, p);
                o.h = 0x1p-6;
            }
            float *X = fx_keep(
                state, grad_inputs_new(m, n, 650 + s, GRAD_KINK_MARGIN));
            grad_noise_opts(grad_measured_noise(m, X, n), o.h, &o);
            char label[64];
            snprintf(label, sizeof label, "all terms %s D=%zu K=%zu B=%zu",
                     dfsae_activation_name(acts[a]), d, k, n);
            gradcheck_result r;
            failed += !gradcheck_run(m, X, n, NULL, &o, label, &r);
            if (verbose())
                gradcheck_print(label, &r);
            assert_true(r.n_selected == o.max_coords ||
                        r.n_selected == r.n_params);
            failed += !fails_one_percent_off(state, m, X, n, &o, label);
            fx_drop(state, X);
            fx_drop(state, m);
        }
    if (failed)
        fail_msg("%d larger models failed the gradient check", failed);
}

/* dfsae_train_step is dfsae_model_grad then dfsae_optimizer_step, bit for
 * bit: parameters after several steps of each optimizer kind, and the
 * loss it reports, which is dfsae_model_loss's before the step. */
static void train_step_matches_grad_then_step(void **state)
{
    for (int kind = 0; kind < DFSAE_OPTIMIZER_KIND_COUNT; ++kind) {
        dfsae_model *m[2];
        dfsae_optimizer *o[2];
        for (int i = 0; i < 2; ++i) {
            m[i] = fx_keep_model(
                state, grad_model_new(6, 9, 650, DFSAE_ACT_RELU, ALL));
            o[i] = fx_optimizer(state, kind, 6 * 9 + 9);
            if (kind == DFSAE_SGD)
                assert_int_equal(
                    dfsae_optimizer_set_option(o[i], DFSAE_OPT_MOMENTUM, 0.9),
                    DFSAE_OK);
        }
        float *X = fx_keep(state, grad_inputs_new(m[0], 12, 651, 0.0));
        size_t np = dfsae_model_num_params(m[0]);
        float *g = fx_alloc(state, np * sizeof *g),
              *p0 = fx_alloc(state, np * sizeof *p0),
              *p1 = fx_alloc(state, np * sizeof *p1);
        for (int step = 0; step < 4; ++step) {
            double fused, fused_terms[DFSAE_TERM_COUNT], split, before;
            double split_terms[DFSAE_TERM_COUNT];
            assert_int_equal(dfsae_model_loss(m[0], X, 12, &before, NULL, 0),
                             DFSAE_OK);
            assert_int_equal(dfsae_train_step(m[0], o[0], X, 12, &fused,
                                              fused_terms, DFSAE_TERM_COUNT),
                             DFSAE_OK);
            assert_int_equal(dfsae_model_grad(m[1], X, 12, g, &split,
                                              split_terms, DFSAE_TERM_COUNT),
                             DFSAE_OK);
            assert_int_equal(dfsae_optimizer_step(o[1], m[1], g), DFSAE_OK);
            assert_true(fused == split && fused == before);
            assert_memory_equal(fused_terms, split_terms, sizeof fused_terms);
            assert_int_equal(dfsae_model_get_params(m[0], p0, np), DFSAE_OK);
            assert_int_equal(dfsae_model_get_params(m[1], p1, np), DFSAE_OK);
            assert_memory_equal(p0, p1, np * sizeof *p0);
        }
        assert_true(dfsae_optimizer_step_count(o[0]) == 4);
        fx_drop(state, g);
        fx_drop(state, p0);
        fx_drop(state, p1);
        fx_drop(state, X);
        for (int i = 0; i < 2; ++i) {
            fx_drop(state, o[i]);
            fx_drop(state, m[i]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(values_match_reference),
        FIXTURE_TEST(values_match_reference_at_large_scale),
        FIXTURE_TEST(total_is_the_weighted_sum),
        FIXTURE_TEST(gradient_is_linear_in_the_weights),
        FIXTURE_TEST(fd_capped_larger_models),
        FIXTURE_TEST(train_step_matches_grad_then_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
