/* The unnormalised form of L_wr, ||W^T W - I_D||_F^2 (DFSAE_WR_UNNORMALISED):
 * finite differences on both Gram sides for K > D and K < D, agreement of
 * the sides and with the reference, and its minima: D - K (not 0) for
 * orthonormal rows when K < D, 0 for a tight frame when K >= D. */
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

static const grad_lambdas WR = {.lse = 0.0, .var = 0.0, .tc = 0.0, .wr = 1.0};
static const grad_lambdas ALL = {.lse = 1.0, .var = 1.0, .tc = 1.0, .wr = 1.0};
static const int SIDES[2] = {DFSAE_GRAM_FEATURE, DFSAE_GRAM_SAMPLE};

/* A model on the unnormalised form, owned by the fixture. */
static dfsae_model *raw_model(void **state, size_t d, size_t k, uint64_t seed,
                              int act, grad_lambdas l, int side)
{
    dfsae_model *m = fx_keep_model(state, grad_model_new(d, k, seed, act, l));
    grad_set(m, DFSAE_MODEL_WR_FORM, DFSAE_WR_UNNORMALISED);
    grad_set(m, DFSAE_MODEL_GRAM_SIDE, side);
    return m;
}

static const double SIDE_VALUES[2] = {DFSAE_GRAM_FEATURE, DFSAE_GRAM_SAMPLE};

static void fd_wr_unnormalised(void **state)
{
    (void)state;
    grad_check_sweep(&(grad_sweep){"wr unnormalised alone", WR, 1001,
                                   DFSAE_MODEL_WR_FORM, DFSAE_WR_UNNORMALISED,
                                   DFSAE_MODEL_GRAM_SIDE, SIDE_VALUES, 2});
}

static void fd_wr_unnormalised_with_all_terms(void **state)
{
    (void)state;
    grad_check_sweep(&(grad_sweep){"wr unnormalised with all terms", ALL, 1021,
                                   DFSAE_MODEL_WR_FORM, DFSAE_WR_UNNORMALISED,
                                   DFSAE_MODEL_GRAM_SIDE, SIDE_VALUES, 2});
}

/* Both sides agree with each other and with the reference (value 1e-5
 * relative; gradient entries 1e-5 of the largest), and b's gradient is 0. */
static void sides_agree_and_match_reference(void **state)
{
    const size_t shapes[][2] = {{5, 10}, {7, 6}, {16, 40}, {40, 16}, {8, 8}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s) {
        size_t d = shapes[s][0], k = shapes[s][1], n = 3;
        float *g[2], *p;
        double t[2][DFSAE_TERM_COUNT];
        size_t np = k * d + k;
        p = fx_alloc(state, np * sizeof *p);
        for (int side = 0; side < 2; ++side) {
            dfsae_model *m = raw_model(state, d, k, 1040 + s, DFSAE_ACT_RELU,
                                       WR, SIDES[side]);
            float *X = fx_keep(state, grad_inputs_new(m, n, 1050, 0.0));
            g[side] = fx_alloc(state, np * sizeof *g[side]);
            assert_int_equal(dfsae_model_grad(m, X, n, g[side], NULL, t[side],
                                              DFSAE_TERM_COUNT),
                             DFSAE_OK);
            assert_int_equal(dfsae_model_get_params(m, p, np), DFSAE_OK);
            fx_drop(state, X);
            fx_drop(state, m);
        }
        double want = grad_ref_wr_unnormalised(p, k, d), gmax = 0.0, gd = 0.0;
        for (size_t i = 0; i < k * d; ++i) {
            gmax = fmax(gmax, fabs((double)g[0][i]));
            gd = fmax(gd, fabs((double)g[0][i] - g[1][i]));
        }
        if (getenv("DFSAE_GRADCHECK_VERBOSE") != NULL)
            print_message("wr unnormalised D=%zu K=%zu: %.9g / %.9g, reference "
                          "%.9g, max |gF - gS| / max|g| %.2e\n",
                          d, k, t[0][DFSAE_TERM_WR], t[1][DFSAE_TERM_WR], want,
                          gd / gmax);
        for (int side = 0; side < 2; ++side)
            if (!(fabs(t[side][DFSAE_TERM_WR] - want) <= 1e-5 * want))
                fail_msg("side %d D=%zu K=%zu: %.12g, reference %.12g",
                         SIDES[side], d, k, t[side][DFSAE_TERM_WR], want);
        if (!(gd <= 1e-5 * gmax))
            fail_msg("D=%zu K=%zu: the sides' gradients differ by %.3g (max "
                     "%.3g)",
                     d, k, gd, gmax);
        for (size_t j = 0; j < k; ++j)
            assert_true(g[0][k * d + j] == 0.0f && g[1][k * d + j] == 0.0f);
        fx_drop(state, g[0]);
        fx_drop(state, g[1]);
        fx_drop(state, p);
    }
}

/* Value and largest gradient entry of L_wr at the given W (b = 0). */
static void wr_at(void **state, size_t d, size_t k, const float *W, int side,
                  double *value, double *gmax)
{
    dfsae_model *m = raw_model(state, d, k, 1060, DFSAE_ACT_RELU, WR, side);
    size_t np = k * d + k;
    float *p = fx_alloc(state, np * sizeof *p),
          *g = fx_alloc(state, np * sizeof *g);
    for (size_t i = 0; i < k * d; ++i)
        p[i] = W[i];
    assert_int_equal(dfsae_model_set_params(m, p, np), DFSAE_OK);
    float *X = fx_keep(state, grad_inputs_new(m, 2, 1061, 0.0));
    double t[DFSAE_TERM_COUNT];
    assert_int_equal(dfsae_model_grad(m, X, 2, g, NULL, t, DFSAE_TERM_COUNT),
                     DFSAE_OK);
    *value = t[DFSAE_TERM_WR];
    *gmax = 0.0;
    for (size_t i = 0; i < np; ++i)
        *gmax = fmax(*gmax, fabs((double)g[i]));
    fx_drop(state, X);
    fx_drop(state, g);
    fx_drop(state, p);
    fx_drop(state, m);
}

/* K < D: W^T W has rank K, so at least D - K of its eigenvalues are 0 and
 * L_wr >= D - K, reached (gradient 0) by orthonormal rows. The normalised
 * form would be 0 there. */
static void minimum_is_d_minus_k_for_fewer_components(void **state)
{
    const size_t d = 7, k = 4;
    float W[4 * 7] = {0};
    for (size_t j = 0; j < k; ++j) /* distinct axes, unit length, signs */
        W[j * d + (j * 3) % d] = j % 2 ? -1.0f : 1.0f;
    for (int side = 0; side < 2; ++side) {
        double v, gmax;
        wr_at(state, d, k, W, SIDES[side], &v, &gmax);
        if (!(fabs(v - (double)(d - k)) <= 1e-12 && gmax <= 1e-6))
            fail_msg("side %d: L_wr %.17g (want D - K = %zu), max |grad| %.3g",
                     SIDES[side], v, d - k, gmax);
    }
}

/* K >= D: two copies of the identity scaled by 1/sqrt(2) give W^T W = I
 * (a tight frame), L_wr = 0 with gradient 0. */
static void zero_for_a_tight_frame(void **state)
{
    const size_t d = 5, k = 10;
    float W[10 * 5] = {0};
    const float c = (float)(1.0 / sqrt(2.0));
    for (size_t j = 0; j < k; ++j)
        W[j * d + j % d] = c;
    for (int side = 0; side < 2; ++side) {
        double v, gmax;
        wr_at(state, d, k, W, SIDES[side], &v, &gmax);
        /* c^2 is 1/2 to float rounding; the K x K side reaches 0 as
         * (K - D) - (K - D), a few K ulp of float: 1e-6. */
        if (!(v >= 0.0 && v <= 1e-6 && gmax <= 1e-6))
            fail_msg("side %d: L_wr %.3g, max |grad| %.3g for a tight frame",
                     SIDES[side], v, gmax);
    }
}

/* The form is a saved option: a model file round-trips it. */
static void form_round_trips_through_a_file(void **state)
{
    dfsae_model *m = raw_model(state, 4, 3, 1070, DFSAE_ACT_RELU, WR, 0);
    size_t size = 0;
    assert_int_equal(dfsae_model_save_buffer(m, NULL, NULL, 0, &size),
                     DFSAE_OK);
    void *buf = fx_alloc(state, size);
    assert_int_equal(dfsae_model_save_buffer(m, NULL, buf, size, &size),
                     DFSAE_OK);
    dfsae_model **back = fx_model_slot(state);
    assert_int_equal(
        dfsae_model_load_buffer(buf, size, NULL, back, NULL, NULL, 0),
        DFSAE_OK);
    double v = -1.0;
    assert_int_equal(dfsae_model_get_option(*back, DFSAE_MODEL_WR_FORM, &v),
                     DFSAE_OK);
    assert_true(v == DFSAE_WR_UNNORMALISED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fd_wr_unnormalised),
        cmocka_unit_test(fd_wr_unnormalised_with_all_terms),
        FIXTURE_TEST(sides_agree_and_match_reference),
        FIXTURE_TEST(minimum_is_d_minus_k_for_fewer_components),
        FIXTURE_TEST(zero_for_a_tight_frame),
        FIXTURE_TEST(form_round_trips_through_a_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
