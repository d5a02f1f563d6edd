/* L_tc = sum_{j != k} Corr_jk^2: finite differences on both Gram sides,
 * agreement of the sides, decorrelated and duplicated codes, dead units. */
#include <float.h>
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

static const grad_lambdas TC = {.lse = 0.0, .var = 0.0, .tc = 1.0, .wr = 0.0};
static const int SIDES[2] = {DFSAE_GRAM_FEATURE, DFSAE_GRAM_SAMPLE};

static void fd_tc(size_t d, size_t k, size_t n, uint64_t seed)
{
    gradcheck_opts o;
    gradcheck_default_opts(&o);
    for (int s = 0; s < 2; ++s)
        grad_check_all_activations(
            (grad_case){"tc", d, k, n, 0, TC, SIDES[s], seed}, &o);
}

static void fd_tc_wide(void **state)
{
    (void)state;
    fd_tc(GRAD_SHAPE_WIDE, 301);
}

static void fd_tc_tall(void **state)
{
    (void)state;
    fd_tc(GRAD_SHAPE_TALL, 302);
}

/* Gradient and terms of model m on X with the given Gram side. */
static void eval_side(dfsae_model *m, const float *X, size_t n, int side,
                      float *g, double *terms)
{
    grad_set(m, DFSAE_MODEL_GRAM_SIDE, side);
    int st = dfsae_model_grad(m, X, n, g, NULL, terms, DFSAE_TERM_COUNT);
    if (st != DFSAE_OK)
        fail_msg("grad (side %d): %s", side, dfsae_model_last_error(m));
}

/* Both sides give the same value and gradient. The sides round
 * differently (float Grams of different shapes), so "the same" means
 * value to 1e-6 relative and each gradient entry to 1e-5 of the largest
 * (measured at most 1.5e-7 and 9e-7: run with DFSAE_GRADCHECK_VERBOSE). */
static void sides_agree(void **state)
{
    const size_t shapes[][3] = {
        {5, 10, 6}, {7, 6, 24}, {9, 48, 12}, {9, 12, 48}, {16, 64, 64}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s)
        for (int act = 0; act < DFSAE_ACT_COUNT; ++act) {
            size_t d = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
            grad_lambdas l = {.lse = 1.0, .var = 1.0, .tc = 1.0, .wr = 0.0};
            dfsae_model *m =
                fx_keep_model(state, grad_model_new(d, k, 303 + s, act, l));
            float *X = fx_keep(state, grad_inputs_new(m, n, 304 + s, 0.0));
            size_t np = dfsae_model_num_params(m);
            float *gf = fx_alloc(state, np * sizeof *gf),
                  *gs = fx_alloc(state, np * sizeof *gs);
            assert_non_null(gf);
            assert_non_null(gs);
            double tf[DFSAE_TERM_COUNT], ts[DFSAE_TERM_COUNT];
            eval_side(m, X, n, DFSAE_GRAM_FEATURE, gf, tf);
            eval_side(m, X, n, DFSAE_GRAM_SAMPLE, gs, ts);
            double vrel = fabs(tf[DFSAE_TERM_TC] - ts[DFSAE_TERM_TC]) /
                          fabs(tf[DFSAE_TERM_TC]);
            double gmax = 0.0, gdiff = 0.0;
            for (size_t i = 0; i < np; ++i) {
                gmax = fmax(gmax, fabs((double)gf[i]));
                gdiff = fmax(gdiff, fabs((double)gf[i] - gs[i]));
            }
            if (getenv("DFSAE_GRADCHECK_VERBOSE") != NULL)
                print_message("tc sides %-10s D=%zu K=%zu B=%zu: value rel "
                              "%.2e, max |gF - gS| / max|g| %.2e\n",
                              dfsae_activation_name(act), d, k, n, vrel,
                              gdiff / gmax);
            if (!(vrel <= 1e-6 && gdiff <= 1e-5 * gmax))
                fail_msg("%s D=%zu K=%zu B=%zu: L_tc %.12g vs %.12g, "
                         "gradient differs by %.3g (max %.3g)",
                         dfsae_activation_name(act), d, k, n, tf[DFSAE_TERM_TC],
                         ts[DFSAE_TERM_TC], gdiff, gmax);
            fx_drop(state, gf);
            fx_drop(state, gs);
            fx_drop(state, X);
            fx_drop(state, m);
        }
}

/* L_tc against the double-precision reference from the library's A, both sides.
 */
static void value_matches_reference(void **state)
{
    const size_t shapes[][3] = {{5, 10, 6}, {7, 6, 24}, {9, 30, 17}};
    for (size_t s = 0; s < 3; ++s)
        for (int side = 0; side < 2; ++side) {
            size_t d = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
            dfsae_model *m = fx_keep_model(
                state, grad_model_new(d, k, 310 + s, DFSAE_ACT_RELU, TC));
            grad_set(m, DFSAE_MODEL_GRAM_SIDE, SIDES[side]);
            float *X = fx_keep(state, grad_inputs_new(m, n, 311 + s, 0.0));
            float *A = fx_alloc(state, n * k * sizeof *A);
            double *Ad = fx_alloc(state, n * k * sizeof *Ad),
                   got[DFSAE_TERM_COUNT], want[DFSAE_TERM_COUNT];
            assert_non_null(A);
            assert_non_null(Ad);
            assert_int_equal(dfsae_model_forward(m, X, n, A, NULL, NULL),
                             DFSAE_OK);
            for (size_t i = 0; i < n * k; ++i)
                Ad[i] = A[i];
            grad_ref_opts ro = grad_ref_defaults();
            grad_ref_terms(&ro, Ad, n, k, NULL, 0, want);
            assert_int_equal(
                dfsae_model_loss(m, X, n, NULL, got, DFSAE_TERM_COUNT),
                DFSAE_OK);
            if (!(fabs(got[DFSAE_TERM_TC] - want[DFSAE_TERM_TC]) <=
                  1e-5 * fabs(want[DFSAE_TERM_TC])))
                fail_msg("side %d D=%zu K=%zu B=%zu: L_tc %.12g, reference "
                         "%.12g",
                         SIDES[side], d, k, n, got[DFSAE_TERM_TC],
                         want[DFSAE_TERM_TC]);
            fx_drop(state, A);
            fx_drop(state, Ad);
            fx_drop(state, X);
            fx_drop(state, m);
        }
}

/* Identity activation, W = diag(scales), b = shifts: A's columns are the
 * columns of X scaled and shifted, and correlation ignores both. With X's
 * columns the (zero-mean, mutually orthogonal) columns 1..4 of the 8 x 8
 * Hadamard matrix, every off-diagonal correlation is exactly 0. */
static void zero_for_decorrelated_codes(void **state)
{
    const size_t n = 8, k = 4;
    float X[8 * 4];
    for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < k; ++j) {
            /* H_ij = (-1)^popcount(i & (j + 1)) */
            unsigned v = (unsigned)(i & (j + 1)), bits = 0;
            for (; v; v >>= 1)
                bits += v & 1u;
            X[i * k + j] = bits % 2 ? -1.0f : 1.0f;
        }
    for (int side = 0; side < 2; ++side) {
        dfsae_model *m = fx_keep_model(
            state, grad_model_new(k, k, 320, DFSAE_ACT_IDENTITY, TC));
        grad_set(m, DFSAE_MODEL_GRAM_SIDE, SIDES[side]);
        float p[4 * 4 + 4] = {0};
        for (size_t j = 0; j < k; ++j) {
            p[j * k + j] = 0.5f + (float)j;        /* scales */
            p[k * k + j] = 3.0f - 2.0f * (float)j; /* shifts */
        }
        assert_int_equal(dfsae_model_set_params(m, p, 20), DFSAE_OK);
        float g[20];
        double t[DFSAE_TERM_COUNT];
        assert_int_equal(
            dfsae_model_grad(m, X, n, g, NULL, t, DFSAE_TERM_COUNT), DFSAE_OK);
        /* The feature side sums the squares of off-diagonal entries that
         * are exactly 0 here. The sample side computes ||As As^T||^2/N^2
         * - sum_j Corr_jj^2, a difference of two O(K) float sums, so its
         * absolute error is O(K eps_float) (measured: -1.1e-7 at K = 4). */
        double bound = SIDES[side] == DFSAE_GRAM_FEATURE
                           ? 1e-10
                           : 4.0 * (double)k * FLT_EPSILON;
        if (getenv("DFSAE_GRADCHECK_VERBOSE") != NULL)
            print_message("tc orthogonal codes, side %d: L_tc = %.3g\n",
                          SIDES[side], t[DFSAE_TERM_TC]);
        if (!(fabs(t[DFSAE_TERM_TC]) <= bound))
            fail_msg("side %d: L_tc = %.3g for orthogonal codes (bound %.3g)",
                     SIDES[side], t[DFSAE_TERM_TC], bound);
        /* A minimum: the gradient vanishes too. */
        for (size_t i = 0; i < 20; ++i)
            if (!(fabs(g[i]) <= 1e-6))
                fail_msg("side %d: dL_tc/dparam[%zu] = %.3g at a minimum",
                         SIDES[side], i, (double)g[i]);
        /* And mixing two columns makes it clearly positive. */
        p[0 * k + 1] = 1.0f;
        assert_int_equal(dfsae_model_set_params(m, p, 20), DFSAE_OK);
        assert_int_equal(dfsae_model_loss(m, X, n, NULL, t, DFSAE_TERM_COUNT),
                         DFSAE_OK);
        assert_true(t[DFSAE_TERM_TC] > 0.1);
        fx_drop(state, m);
    }
}

/* Two identical units are perfectly correlated: Corr = 1 twice (j,k and
 * k,j), on top of the other pairs; the reference says exactly what. */
static void duplicated_unit(void **state)
{
    const size_t d = 5, k = 4, n = 10;
    for (int side = 0; side < 2; ++side) {
        dfsae_model *m =
            fx_keep_model(state, grad_model_new(d, k, 321, DFSAE_ACT_TANH, TC));
        grad_set(m, DFSAE_MODEL_GRAM_SIDE, SIDES[side]);
        float *X = fx_keep(state, grad_inputs_new(m, n, 322, 0.0));
        float p[5 * 4 + 4];
        assert_int_equal(dfsae_model_get_params(m, p, 24), DFSAE_OK);
        memcpy(p + 3 * d, p + 1 * d, d * sizeof *p);
        p[k * d + 3] = p[k * d + 1];
        assert_int_equal(dfsae_model_set_params(m, p, 24), DFSAE_OK);
        float A[10 * 4];
        double Ad[10 * 4], t[DFSAE_TERM_COUNT], want[DFSAE_TERM_COUNT];
        assert_int_equal(dfsae_model_forward(m, X, n, A, NULL, NULL), DFSAE_OK);
        for (size_t i = 0; i < n * k; ++i)
            Ad[i] = A[i];
        grad_ref_opts ro = grad_ref_defaults();
        ro.activation = DFSAE_ACT_TANH;
        grad_ref_terms(&ro, Ad, n, k, NULL, 0, want);
        assert_int_equal(dfsae_model_loss(m, X, n, NULL, t, DFSAE_TERM_COUNT),
                         DFSAE_OK);
        assert_true(want[DFSAE_TERM_TC] > 2.0 - 1e-6);
        if (!(fabs(t[DFSAE_TERM_TC] - want[DFSAE_TERM_TC]) <=
              1e-5 * want[DFSAE_TERM_TC]))
            fail_msg("side %d: L_tc %.9g, reference %.9g", SIDES[side],
                     t[DFSAE_TERM_TC], want[DFSAE_TERM_TC]);
        fx_drop(state, X);
        fx_drop(state, m);
    }
}

/* A dead relu unit: v = 0, s = 1e-8, its correlations are 0/1e-8-ish and
 * the derivative of sqrt(v) at 0 is 0/0: the value stays finite and the
 * unit's gradient is exactly 0 on both sides. */
static void dead_unit_is_finite_with_zero_gradient(void **state)
{
    const size_t d = 5, k = 6, n = 9, dead = 4;
    for (int side = 0; side < 2; ++side) {
        dfsae_model *m =
            fx_keep_model(state, grad_model_new(d, k, 323, DFSAE_ACT_RELU, TC));
        grad_set(m, DFSAE_MODEL_GRAM_SIDE, SIDES[side]);
        float *X = fx_keep(state, grad_inputs_new(m, n, 324, GRAD_KINK_MARGIN));
        float p[5 * 6 + 6], g[5 * 6 + 6];
        assert_int_equal(dfsae_model_get_params(m, p, 36), DFSAE_OK);
        p[k * d + dead] = -100.0f;
        assert_int_equal(dfsae_model_set_params(m, p, 36), DFSAE_OK);
        double t[DFSAE_TERM_COUNT];
        int st = dfsae_model_grad(m, X, n, g, NULL, t, DFSAE_TERM_COUNT);
        if (st != DFSAE_OK)
            fail_msg("side %d: %s", SIDES[side], dfsae_model_last_error(m));
        assert_true(isfinite(t[DFSAE_TERM_TC]));
        for (size_t c = 0; c < d; ++c)
            if (g[dead * d + c] != 0.0f)
                fail_msg("side %d: dL/dW[%zu][%zu] = %.9g for a dead unit",
                         SIDES[side], dead, c, (double)g[dead * d + c]);
        assert_true(g[k * d + dead] == 0.0f);
        /* The live units' gradient is still right. */
        gradcheck_opts o;
        gradcheck_default_opts(&o);
        char label[48];
        snprintf(label, sizeof label, "tc dead unit side %d", SIDES[side]);
        gradcheck_assert(m, X, n, &o, label, NULL);
        fx_drop(state, X);
        fx_drop(state, m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fd_tc_wide),
        cmocka_unit_test(fd_tc_tall),
        FIXTURE_TEST(sides_agree),
        FIXTURE_TEST(value_matches_reference),
        FIXTURE_TEST(zero_for_decorrelated_codes),
        FIXTURE_TEST(duplicated_unit),
        FIXTURE_TEST(dead_unit_is_finite_with_zero_gradient),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
