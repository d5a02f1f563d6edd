/* L_wr = ||Wn Wn^T - I||_F^2 (rows of W normalised): finite differences on
 * both Gram sides, agreement of the sides, values, orthogonal and zero
 * rows. L_wr depends on W only: its b gradient is exactly 0. */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "grad_fixtures.h"
#include "grad_reference.h"
#include "gradcheck.h"

static const grad_lambdas WR = {.lse = 0.0, .var = 0.0, .tc = 0.0, .wr = 1.0};
static const int SIDES[2] = {DFSAE_GRAM_FEATURE, DFSAE_GRAM_SAMPLE};

static void fd_wr(size_t d, size_t k, size_t n, uint64_t seed)
{
    gradcheck_opts o;
    gradcheck_default_opts(&o);
    for (int s = 0; s < 2; ++s)
        grad_check_all_activations(
            (grad_case){"wr", d, k, n, 0, WR, SIDES[s], seed}, &o);
}

/* K > D: the D x D side is the smaller Gram. */
static void fd_wr_more_components_than_inputs(void **state)
{
    (void)state;
    fd_wr(GRAD_SHAPE_WIDE, 401);
}

/* K < D: the K x K side is the smaller Gram. */
static void fd_wr_fewer_components_than_inputs(void **state)
{
    (void)state;
    fd_wr(GRAD_SHAPE_TALL, 402);
}

static void eval_wr(dfsae_model *m, const float *X, size_t n, int side,
                    float *g, double *t)
{
    grad_set(m, DFSAE_MODEL_GRAM_SIDE, side);
    int st = dfsae_model_grad(m, X, n, g, NULL, t, DFSAE_TERM_COUNT);
    if (st != DFSAE_OK)
        fail_msg("grad (side %d): %s", side, dfsae_model_last_error(m));
}

/* Both sides agree (value 1e-6 relative, gradient 1e-5 of its largest
 * entry), match the double-precision reference (1e-5), and give b a zero
 * gradient. */
static void sides_agree_and_match_reference(void **state)
{
    const size_t shapes[][2] = {{5, 10}, {7, 6}, {16, 40}, {40, 16}, {8, 8}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s) {
        size_t d = shapes[s][0], k = shapes[s][1], n = 3;
        dfsae_model *m = fx_keep_model(
            state, grad_model_new(d, k, 403 + s, DFSAE_ACT_RELU, WR));
        float *X = fx_keep(state, grad_inputs_new(m, n, 404, 0.0));
        size_t np = dfsae_model_num_params(m);
        float *gf = fx_alloc(state, np * sizeof *gf),
              *gs = fx_alloc(state, np * sizeof *gs);
        float *p = fx_alloc(state, np * sizeof *p);
        assert_non_null(gf);
        assert_non_null(gs);
        assert_non_null(p);
        double tf[DFSAE_TERM_COUNT], ts[DFSAE_TERM_COUNT],
            want[DFSAE_TERM_COUNT];
        eval_wr(m, X, n, DFSAE_GRAM_FEATURE, gf, tf);
        eval_wr(m, X, n, DFSAE_GRAM_SAMPLE, gs, ts);
        assert_int_equal(dfsae_model_get_params(m, p, np), DFSAE_OK);
        want[DFSAE_TERM_WR] = grad_ref_wr(p, k, d);
        double vrel = fabs(tf[DFSAE_TERM_WR] - ts[DFSAE_TERM_WR]) /
                      fabs(tf[DFSAE_TERM_WR]);
        double gmax = 0.0, gdiff = 0.0;
        for (size_t i = 0; i < k * d; ++i) {
            gmax = fmax(gmax, fabs((double)gf[i]));
            gdiff = fmax(gdiff, fabs((double)gf[i] - gs[i]));
        }
        if (getenv("DFSAE_GRADCHECK_VERBOSE") != NULL)
            print_message("wr sides D=%zu K=%zu: value rel %.2e, max |gF - "
                          "gS| / max|g| %.2e, vs reference %.2e\n",
                          d, k, vrel, gdiff / gmax,
                          fabs(tf[DFSAE_TERM_WR] - want[DFSAE_TERM_WR]) /
                              want[DFSAE_TERM_WR]);
        if (!(vrel <= 1e-6 && gdiff <= 1e-5 * gmax))
            fail_msg("D=%zu K=%zu: L_wr %.12g vs %.12g, gradient differs by "
                     "%.3g (max %.3g)",
                     d, k, tf[DFSAE_TERM_WR], ts[DFSAE_TERM_WR], gdiff, gmax);
        for (int side = 0; side < 2; ++side) {
            double v = side ? ts[DFSAE_TERM_WR] : tf[DFSAE_TERM_WR];
            if (!(fabs(v - want[DFSAE_TERM_WR]) <= 1e-5 * want[DFSAE_TERM_WR]))
                fail_msg("side %d D=%zu K=%zu: L_wr %.12g, reference %.12g",
                         SIDES[side], d, k, v, want[DFSAE_TERM_WR]);
        }
        for (size_t j = 0; j < k; ++j)
            assert_true(gf[k * d + j] == 0.0f && gs[k * d + j] == 0.0f);
        fx_drop(state, gf);
        fx_drop(state, gs);
        fx_drop(state, p);
        fx_drop(state, X);
        fx_drop(state, m);
    }
}

/* L_wr does not depend on the batch or on the activation. */
static void independent_of_batch_and_activation(void **state)
{
    dfsae_model *m =
        fx_keep_model(state, grad_model_new(6, 9, 410, DFSAE_ACT_RELU, WR));
    float *X1 = fx_keep(state, grad_inputs_new(m, 4, 411, 0.0));
    float *X2 = fx_keep(state, grad_inputs_new(m, 7, 412, 0.0));
    double t1[DFSAE_TERM_COUNT], t2[DFSAE_TERM_COUNT];
    assert_int_equal(dfsae_model_loss(m, X1, 4, NULL, t1, DFSAE_TERM_COUNT),
                     DFSAE_OK);
    for (int act = 0; act < DFSAE_ACT_COUNT; ++act) {
        grad_set(m, DFSAE_MODEL_ACTIVATION, act);
        assert_int_equal(dfsae_model_loss(m, X2, 7, NULL, t2, DFSAE_TERM_COUNT),
                         DFSAE_OK);
        assert_true(t1[DFSAE_TERM_WR] == t2[DFSAE_TERM_WR]);
    }
    fx_drop(state, X1);
    fx_drop(state, X2);
    fx_drop(state, m);
}

/* Rows along distinct axes, of any positive length: Wn Wn^T = I exactly,
 * so L_wr = 0 and (a minimum) its gradient is 0, on both sides. */
static void zero_for_orthogonal_rows(void **state)
{
    const size_t d = 7, k = 5, n = 2;
    for (int side = 0; side < 2; ++side) {
        dfsae_model *m =
            fx_keep_model(state, grad_model_new(d, k, 413, DFSAE_ACT_RELU, WR));
        float *X = fx_keep(state, grad_inputs_new(m, n, 414, 0.0));
        float p[7 * 5 + 5] = {0}, g[7 * 5 + 5];
        for (size_t j = 0; j < k; ++j)
            p[j * d + (j * 3) % d] =
                (j % 2 ? -1.0f : 1.0f) * (0.25f + (float)j);
        assert_int_equal(dfsae_model_set_params(m, p, 40), DFSAE_OK);
        double t[DFSAE_TERM_COUNT];
        eval_wr(m, X, n, SIDES[side], g, t);
        /* Each row is w / (|w| + 1e-8): its norm is 1 - 1e-8/|w|. */
        if (!(fabs(t[DFSAE_TERM_WR]) <= 1e-12))
            fail_msg("side %d: L_wr = %.3g for orthogonal rows", SIDES[side],
                     t[DFSAE_TERM_WR]);
        for (size_t i = 0; i < 40; ++i)
            if (!(fabs(g[i]) <= 1e-6))
                fail_msg("side %d: dL_wr/dparam[%zu] = %.3g at a minimum",
                         SIDES[side], i, (double)g[i]);
        fx_drop(state, X);
        fx_drop(state, m);
    }
}

/* A zero row normalises to 0 (the 1e-8 keeps it finite): it adds
 * (0 - 1)^2 = 1 to L_wr, and its gradient is 0 (every product with it
 * vanishes), never NaN. */
static void zero_row_is_finite(void **state)
{
    const size_t d = 6, k = 4, n = 2;
    for (int side = 0; side < 2; ++side) {
        dfsae_model *m =
            fx_keep_model(state, grad_model_new(d, k, 415, DFSAE_ACT_RELU, WR));
        float *X = fx_keep(state, grad_inputs_new(m, n, 416, 0.0));
        float p[6 * 4 + 4], g[6 * 4 + 4];
        assert_int_equal(dfsae_model_get_params(m, p, 28), DFSAE_OK);
        memset(p + 2 * d, 0, d * sizeof *p);
        assert_int_equal(dfsae_model_set_params(m, p, 28), DFSAE_OK);
        double t[DFSAE_TERM_COUNT], want[DFSAE_TERM_COUNT];
        eval_wr(m, X, n, SIDES[side], g, t);
        want[DFSAE_TERM_WR] = grad_ref_wr(p, k, d);
        if (!(fabs(t[DFSAE_TERM_WR] - want[DFSAE_TERM_WR]) <=
              1e-5 * want[DFSAE_TERM_WR]))
            fail_msg("side %d: L_wr %.12g, reference %.12g", SIDES[side],
                     t[DFSAE_TERM_WR], want[DFSAE_TERM_WR]);
        for (size_t i = 0; i < 28; ++i)
            assert_true(isfinite(g[i]));
        for (size_t c = 0; c < d; ++c)
            assert_true(g[2 * d + c] == 0.0f);
        fx_drop(state, X);
        fx_drop(state, m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fd_wr_more_components_than_inputs),
        cmocka_unit_test(fd_wr_fewer_components_than_inputs),
        FIXTURE_TEST(sides_agree_and_match_reference),
        FIXTURE_TEST(independent_of_batch_and_activation),
        FIXTURE_TEST(zero_for_orthogonal_rows),
        FIXTURE_TEST(zero_row_is_finite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
