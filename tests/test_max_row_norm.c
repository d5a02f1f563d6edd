/* DFSAE_MODEL_MAX_ROW_NORM: after every step each row of W is within the
 * cap; a longer row is the unconstrained step's row scaled onto the cap,
 * a shorter one and the bias are the unconstrained step's bit for bit; a
 * cap no row reaches changes nothing; training keeps every row within it;
 * a failed step changes nothing. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dfsae.h"
#include "fixture.h"
#include "train_data.h"

#define D  6
#define K  4
#define NP (K * D + K)

static double row_norm(const float *p, size_t r)
{
    double ss = 0.0;
    for (size_t c = 0; c < D; ++c)
        ss += (double)p[r * D + c] * p[r * D + c];
    return sqrt(ss);
}

/* A model and its optimizer owned by the fixture. */
static void make(void **state, double cap, dfsae_model **m, dfsae_optimizer **o)
{
    dfsae_model **ms = fx_model_slot(state);
    dfsae_optimizer **os = fx_optimizer_slot(state);
    train_make(D, K, 5, ms, os);
    *m = *ms;
    *o = *os;
    assert_int_equal(dfsae_optimizer_set_option(*o, DFSAE_OPT_LR, 0.1),
                     DFSAE_OK);
    assert_int_equal(dfsae_model_set_option(*m, DFSAE_MODEL_MAX_ROW_NORM, cap),
                     DFSAE_OK);
}

/* One step with a gradient that lengthens rows 0 and 2 past the cap and
 * shortens rows 1 and 3; the twin without the cap takes the same step. */
static void one_step_projects_long_rows_only(void **state)
{
    const double cap = 0.6;
    dfsae_model *m[2];
    dfsae_optimizer *o[2];
    make(state, cap, &m[0], &o[0]);
    make(state, 0.0, &m[1], &o[1]);
    float p0[NP], g[NP], a[NP], b[NP];
    assert_int_equal(dfsae_model_get_params(m[0], p0, NP), DFSAE_OK);
    for (size_t i = 0; i < NP; ++i) {
        size_t r = i / D;
        /* Adam's first step moves each entry by about lr against the
         * gradient's sign: outwards for rows 0 and 2, inwards for 1, 3. */
        float sign = p0[i] >= 0.0f ? 1.0f : -1.0f;
        g[i] = i < K * D && r % 2 == 0 ? -sign : sign;
    }
    for (int t = 0; t < 2; ++t)
        assert_int_equal(dfsae_optimizer_step(o[t], m[t], g), DFSAE_OK);
    assert_int_equal(dfsae_model_get_params(m[0], a, NP), DFSAE_OK);
    assert_int_equal(dfsae_model_get_params(m[1], b, NP), DFSAE_OK);
    for (size_t r = 0; r < K; ++r) {
        double nb = row_norm(b, r);
        if (nb <= cap) {
            assert_memory_equal(a + r * D, b + r * D, D * sizeof *a);
            continue;
        }
        assert_true(r % 2 == 0);
        double na = row_norm(a, r);
        if (!(fabs(na - cap) <= 1e-6 * cap))
            fail_msg("row %zu: norm %.9g after the step, cap %g", r, na, cap);
        for (size_t c = 0; c < D; ++c)
            if (!(fabs(a[r * D + c] - b[r * D + c] * cap / nb) <=
                  1e-6 * fabs(b[r * D + c])))
                fail_msg("row %zu col %zu: %.9g, the scaled step %.9g", r, c,
                         (double)a[r * D + c], b[r * D + c] * cap / nb);
    }
    assert_true(row_norm(b, 0) > cap && row_norm(b, 2) > cap);
    assert_memory_equal(a + K * D, b + K * D, K * sizeof *a); /* the bias */
}

/* Training: every row within the cap at the end; a cap above every norm
 * reached gives the unconstrained run bit for bit. */
static void training_keeps_rows_within_the_cap(void **state)
{
    enum { N = 48 };
    float X[N * D];
    train_fill(X, N * D, 9, -2.0, 2.0);
    dfsae_train_config *c = fx_train_config(state);
    train_set(c, DFSAE_TRAIN_EPOCHS, 10);
    train_set(c, DFSAE_TRAIN_BATCH_SIZE, 8);
    const double caps[3] = {0.0, 0.3, 1e6};
    float p[3][NP];
    for (int t = 0; t < 3; ++t) {
        dfsae_model *m;
        dfsae_optimizer *o;
        make(state, caps[t], &m, &o);
        assert_int_equal(dfsae_model_train(m, o, X, N, c, NULL, NULL),
                         DFSAE_OK);
        assert_int_equal(dfsae_model_get_params(m, p[t], NP), DFSAE_OK);
    }
    double longest = 0.0;
    for (size_t r = 0; r < K; ++r) {
        longest = fmax(longest, row_norm(p[0], r));
        if (!(row_norm(p[1], r) <= 0.3 * (1.0 + 1e-6)))
            fail_msg("row %zu has norm %.9g above the cap 0.3", r,
                     row_norm(p[1], r));
    }
    assert_true(longest > 0.3); /* the cap did bind */
    assert_memory_equal(p[0], p[2], sizeof p[0]);
}

/* A step that fails (a non-finite gradient) leaves the parameters alone,
 * cap or not. */
static void failed_step_changes_nothing(void **state)
{
    dfsae_model *m;
    dfsae_optimizer *o;
    make(state, 1e-3, &m, &o);
    float before[NP], after[NP], g[NP] = {0};
    assert_int_equal(dfsae_model_get_params(m, before, NP), DFSAE_OK);
    g[3] = NAN;
    assert_int_equal(dfsae_optimizer_step(o, m, g), DFSAE_ERR_NON_FINITE_INPUT);
    assert_int_equal(dfsae_model_get_params(m, after, NP), DFSAE_OK);
    assert_memory_equal(before, after, sizeof before);
    double lo, hi;
    assert_int_equal(
        dfsae_model_option_bounds(DFSAE_MODEL_MAX_ROW_NORM, &lo, &hi),
        DFSAE_OK);
    assert_true(lo == 0.0 && hi >= 1e18);
    assert_int_equal(dfsae_model_set_option(m, DFSAE_MODEL_MAX_ROW_NORM, -1),
                     DFSAE_ERR_PARAM_OUT_OF_RANGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(one_step_projects_long_rows_only),
        FIXTURE_TEST(training_keeps_rows_within_the_cap),
        FIXTURE_TEST(failed_step_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
