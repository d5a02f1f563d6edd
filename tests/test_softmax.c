/* The softmax activation: forward against the double reference at several
 * temperatures, and finite differences through the public API for every
 * loss term alone and all together, on both Gram sides, B < K and B > K,
 * T = 1, 0.5 and 3. Each finite-difference test prints the worst
 * relative error it measured (every case with DFSAE_GRADCHECK_VERBOSE). */
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

static const double TEMPERATURES[] = {1.0, 0.5, 3.0};
static const int SIDES[] = {DFSAE_GRAM_FEATURE, DFSAE_GRAM_SAMPLE};

/* Rows sum to 1 and every entry matches the reference: an entry moves
 * with every z of its row, by at most twice the largest float error of a
 * z (1e-6 of sum |x w| + |b|) plus the exp's own rounding. */
static void forward_matches_reference(void **state)
{
    const size_t d = 6, k = 9, n = 11;
    const grad_lambdas l = {.lse = 1.0, .var = 1.0, .tc = 1.0, .wr = 0.0};
    for (size_t t = 0; t < 3; ++t) {
        dfsae_model *m = fx_keep_model(
            state, grad_model_new(d, k, 901, DFSAE_ACT_SOFTMAX, l));
        grad_set(m, DFSAE_MODEL_SOFTMAX_TEMPERATURE, TEMPERATURES[t]);
        float *X = fx_keep(state, grad_inputs_new(m, n, 902, 0.0));
        for (size_t i = 0; i < n * d; ++i)
            X[i] *= 10.0f; /* |z| up to ~40: nearly one-hot rows */
        size_t np = dfsae_model_num_params(m);
        float *p = fx_alloc(state, np * sizeof *p),
              *A = fx_alloc(state, n * k * sizeof *A);
        double *Ar = fx_alloc(state, n * k * sizeof *Ar);
        assert_int_equal(dfsae_model_get_params(m, p, np), DFSAE_OK);
        assert_int_equal(dfsae_model_forward(m, X, n, A, NULL, NULL), DFSAE_OK);
        grad_ref_opts ro = grad_ref_defaults();
        ro.activation = DFSAE_ACT_SOFTMAX;
        ro.temperature = TEMPERATURES[t];
        grad_ref_forward(&ro, X, n, d, p, k, NULL, Ar);
        for (size_t i = 0; i < n; ++i) {
            double mag = 0.0, sum = 0.0;
            for (size_t j = 0; j < k; ++j) {
                double mj = fabs((double)p[k * d + j]);
                for (size_t c = 0; c < d; ++c)
                    mj += fabs((double)X[i * d + c] * p[j * d + c]);
                mag = fmax(mag, mj / TEMPERATURES[t]);
                sum += A[i * k + j];
            }
            if (!(fabs(sum - 1.0) <= 1e-6))
                fail_msg("T %g row %zu sums to %.9g", TEMPERATURES[t], i, sum);
            for (size_t j = 0; j < k; ++j) {
                double a = A[i * k + j], want = Ar[i * k + j];
                double tol = 2e-6 * mag * want + 1e-6 * want + 1e-30;
                if (!(a >= 0.0 && fabs(a - want) <= tol))
                    fail_msg("T %g entry (%zu, %zu): %.9g, reference %.9g",
                             TEMPERATURES[t], i, j, a, want);
            }
        }
        fx_drop(state, p);
        fx_drop(state, A);
        fx_drop(state, Ar);
        fx_drop(state, X);
        fx_drop(state, m);
    }
}

/* Runs the case on both shapes, both Gram sides and every temperature;
 * fails at the end if any did not pass. */
static void fd_softmax(void **state, const char *what, grad_lambdas l,
                       uint64_t seed)
{
    const size_t shapes[][3] = {{GRAD_SHAPE_WIDE}, {GRAD_SHAPE_TALL}};
    int failed = 0;
    double worst = 0.0, worst_ratio = 0.0;
    for (size_t s = 0; s < 2; ++s)
        for (size_t g = 0; g < 2; ++g)
            for (size_t t = 0; t < 3; ++t) {
                size_t d = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
                dfsae_model *m =
                    fx_keep_model(state, grad_model_new(d, k, seed + s,
                                                        DFSAE_ACT_SOFTMAX, l));
                grad_set(m, DFSAE_MODEL_GRAM_SIDE, SIDES[g]);
                grad_set(m, DFSAE_MODEL_SOFTMAX_TEMPERATURE, TEMPERATURES[t]);
                float *X =
                    fx_keep(state, grad_inputs_new(m, n, seed + 10 + s, 0.0));
                gradcheck_opts o;
                gradcheck_default_opts(&o);
                /* L_lse alone hardly moves and its check is limited by the
                 * loss's float noise (grad_lse_softmax_opts), the more so
                 * the higher T: inputs twice as large take the rows
                 * further from uniform, and the step follows T (softmax
                 * sees z / T). Measured worst relative error over these
                 * cases: 1.1e-3 at h = 2^-5 T, 3.8e-3 at 2^-4 T; with
                 * unscaled inputs 5.8e-3 and 3.2e-3. */
                if (grad_is_softmax_lse_alone(m)) {
                    for (size_t i = 0; i < n * d; ++i)
                        X[i] *= 2.0f;
                    grad_lse_softmax_opts(m, X, n, 0x1p-5 * TEMPERATURES[t],
                                          &o);
                }
                char label[96];
                snprintf(label, sizeof label,
                         "softmax %s D=%zu K=%zu B=%zu side=%d T=%g", what, d,
                         k, n, SIDES[g], TEMPERATURES[t]);
                gradcheck_result r;
                failed += !gradcheck_run(m, X, n, NULL, &o, label, &r);
                worst = fmax(worst, fmax(r.max_rel, r.dir_max_rel));
                worst_ratio = fmax(worst_ratio, r.max_ratio);
                if (getenv("DFSAE_GRADCHECK_VERBOSE") != NULL)
                    gradcheck_print(label, &r);
                assert_true(r.n_checked == r.n_params);
                fx_drop(state, X);
                fx_drop(state, m);
            }
    print_message("softmax %s: worst relative error %.2e, worst coordinate "
                  "error / tolerance %.3f\n",
                  what, worst, worst_ratio);
    if (failed)
        fail_msg("softmax %s: %d cases failed the gradient check", what,
                 failed);
}

static void fd_softmax_lse(void **state)
{
    fd_softmax(state, "lse",
               (grad_lambdas){.lse = 1.0, .var = 0.0, .tc = 0.0, .wr = 0.0},
               910);
}

static void fd_softmax_var(void **state)
{
    fd_softmax(state, "var",
               (grad_lambdas){.lse = 0.0, .var = 1.0, .tc = 0.0, .wr = 0.0},
               920);
}

static void fd_softmax_tc(void **state)
{
    fd_softmax(state, "tc",
               (grad_lambdas){.lse = 0.0, .var = 0.0, .tc = 1.0, .wr = 0.0},
               930);
}

static void fd_softmax_wr(void **state)
{
    fd_softmax(state, "wr",
               (grad_lambdas){.lse = 0.0, .var = 0.0, .tc = 0.0, .wr = 1.0},
               940);
}

static void fd_softmax_all_terms(void **state)
{
    fd_softmax(state, "lse+var+tc+wr",
               (grad_lambdas){.lse = 1.0, .var = 1.0, .tc = 1.0, .wr = 1.0},
               950);
}

/* The noise allowance of the L_lse-alone check does not blind it: on
 * every shape and temperature, a gradient whose largest entry is 1% off
 * fails. */
static void fd_softmax_lse_catches_one_percent(void **state)
{
    const size_t shapes[][3] = {{GRAD_SHAPE_WIDE}, {GRAD_SHAPE_TALL}};
    const grad_lambdas l = {.lse = 1.0, .var = 0.0, .tc = 0.0, .wr = 0.0};
    for (size_t s = 0; s < 2; ++s)
        for (size_t t = 0; t < 3; ++t) {
            size_t d = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
            dfsae_model *m = fx_keep_model(
                state, grad_model_new(d, k, 910 + s, DFSAE_ACT_SOFTMAX, l));
            grad_set(m, DFSAE_MODEL_SOFTMAX_TEMPERATURE, TEMPERATURES[t]);
            float *X = fx_keep(state, grad_inputs_new(m, n, 920 + s, 0.0));
            for (size_t i = 0; i < n * d; ++i)
                X[i] *= 2.0f;
            gradcheck_opts o;
            gradcheck_default_opts(&o);
            grad_lse_softmax_opts(m, X, n, 0x1p-5 * TEMPERATURES[t], &o);
            size_t np = dfsae_model_num_params(m), top = 0;
            float *g = fx_alloc(state, np * sizeof *g);
            assert_int_equal(dfsae_model_grad(m, X, n, g, NULL, NULL, 0),
                             DFSAE_OK);
            for (size_t i = 1; i < np; ++i)
                if (fabs(g[i]) > fabs(g[top]))
                    top = i;
            g[top] *= 1.01f;
            gradcheck_result r;
            if (gradcheck_run(m, X, n, g, &o, "softmax lse, 1% off (must fail)",
                              &r))
                fail_msg("D=%zu K=%zu T=%g: a 1%% error in entry %zu "
                         "passed (atol %.3g, |g| %.3g)",
                         d, k, TEMPERATURES[t], top, o.atol,
                         fabs((double)g[top]));
            fx_drop(state, g);
            fx_drop(state, X);
            fx_drop(state, m);
        }
}

/* The mean reduction of L_lse scales the gradient by 1/B. */
static void fd_softmax_lse_mean(void **state)
{
    const grad_lambdas l = {.lse = 1.0, .var = 1.0, .tc = 0.0, .wr = 0.0};
    dfsae_model *m =
        fx_keep_model(state, grad_model_new(7, 6, 960, DFSAE_ACT_SOFTMAX, l));
    grad_set(m, DFSAE_MODEL_LSE_REDUCTION, DFSAE_REDUCE_MEAN);
    float *X = fx_keep(state, grad_inputs_new(m, 24, 961, 0.0));
    gradcheck_opts o;
    gradcheck_default_opts(&o);
    gradcheck_assert(m, X, 24, &o, "softmax lse mean + var", NULL);
}

/* Softmax is invariant to a shift of a row: the bias gradient sums to 0
 * (to float rounding) for any loss. */
static void bias_gradient_sums_to_zero(void **state)
{
    const grad_lambdas l = {.lse = 1.0, .var = 1.0, .tc = 1.0, .wr = 1.0};
    const size_t d = 7, k = 12, n = 20;
    dfsae_model *m =
        fx_keep_model(state, grad_model_new(d, k, 970, DFSAE_ACT_SOFTMAX, l));
    float *X = fx_keep(state, grad_inputs_new(m, n, 971, 0.0));
    size_t np = dfsae_model_num_params(m);
    float *g = fx_alloc(state, np * sizeof *g);
    assert_int_equal(dfsae_model_grad(m, X, n, g, NULL, NULL, 0), DFSAE_OK);
    double sum = 0.0, mag = 0.0;
    for (size_t j = 0; j < k; ++j) {
        sum += g[k * d + j];
        mag += fabs((double)g[k * d + j]);
    }
    if (!(fabs(sum) <= 1e-5 * mag))
        fail_msg("bias gradient sums to %.3g (sum of |.| %.3g)", sum, mag);
}

/* Temperatures outside [1e-3, 1e3] are refused and change nothing. */
static void temperature_bounds(void **state)
{
    dfsae_model *m = fx_model(state, 3, 4, 1);
    double lo, hi, v;
    assert_int_equal(
        dfsae_model_option_bounds(DFSAE_MODEL_SOFTMAX_TEMPERATURE, &lo, &hi),
        DFSAE_OK);
    assert_true(lo == 1e-3 && hi == 1e3);
    const double bad[] = {0.0, -1.0, 1e4, NAN};
    for (size_t i = 0; i < 4; ++i)
        assert_int_equal(
            dfsae_model_set_option(m, DFSAE_MODEL_SOFTMAX_TEMPERATURE, bad[i]),
            DFSAE_ERR_PARAM_OUT_OF_RANGE);
    assert_int_equal(
        dfsae_model_get_option(m, DFSAE_MODEL_SOFTMAX_TEMPERATURE, &v),
        DFSAE_OK);
    assert_true(v == 1.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(forward_matches_reference),
        FIXTURE_TEST(fd_softmax_lse),
        FIXTURE_TEST(fd_softmax_var),
        FIXTURE_TEST(fd_softmax_tc),
        FIXTURE_TEST(fd_softmax_wr),
        FIXTURE_TEST(fd_softmax_all_terms),
        FIXTURE_TEST(fd_softmax_lse_catches_one_percent),
        FIXTURE_TEST(fd_softmax_lse_mean),
        FIXTURE_TEST(bias_gradient_sums_to_zero),
        FIXTURE_TEST(temperature_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
