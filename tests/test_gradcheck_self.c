/* The gradient checker itself: it passes on the library's gradient and
 * flags deliberately wrong ones; it never passes by skipping. */
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
#include "gradcheck.h"

static const grad_lambdas ALL = {.lse = 1.0, .var = 1.0, .tc = 1.0, .wr = 1.0};

static int verbose(void)
{
    return getenv("DFSAE_GRADCHECK_VERBOSE") != NULL;
}

/* Step sweep: the measured max relative error against h (4-point
 * stencil). The default step must sit in the flat bottom of the curve
 * (within 10x of the best step, whose error is itself noise) and 10x
 * inside the tolerance. */
static void default_step_is_in_the_flat_part(void **state)
{
    const int acts[] = {DFSAE_ACT_SOFTPLUS, DFSAE_ACT_TANH, DFSAE_ACT_RELU,
                        DFSAE_ACT_IDENTITY, DFSAE_ACT_LEAKY_RELU};
    gradcheck_opts def;
    gradcheck_default_opts(&def);
    for (size_t a = 0; a < sizeof acts / sizeof acts[0]; ++a) {
        dfsae_model *m =
            fx_keep_model(state, grad_model_new(7, 6, 11, acts[a], ALL));
        float *X = fx_keep(state, grad_inputs_new(m, 24, 12, GRAD_KINK_MARGIN));
        double best = INFINITY, at_default = NAN;
        for (int e = 5; e <= 12; ++e) {
            gradcheck_opts o = def;
            o.h = ldexp(1.0, -e);
            o.rtol = 1.0; /* measuring, not judging */
            gradcheck_result r;
            gradcheck_run(m, X, 24, NULL, &o, "sweep", &r);
            if (verbose())
                print_message("sweep %-10s h=2^-%-2d max_rel %.2e dir_rel "
                              "%.2e |a-n|/max|a| %.2e checked %zu/%zu\n",
                              dfsae_activation_name(acts[a]), e, r.max_rel,
                              r.dir_max_rel, r.max_abs / r.gmax, r.n_checked,
                              r.n_params);
            if (r.n_checked == r.n_params)
                best = fmin(best, r.max_rel);
            if (o.h == def.h) {
                assert_int_equal(r.n_checked, r.n_params);
                at_default = r.max_rel;
            }
        }
        if (!(at_default <= 10.0 * best && at_default <= def.rtol / 10.0))
            fail_msg("%s: max_rel %.3g at the default step, best %.3g, "
                     "rtol %.3g",
                     dfsae_activation_name(acts[a]), at_default, best,
                     def.rtol);
        fx_drop(state, X);
        fx_drop(state, m);
    }
}

/* A problem with all four terms on, and its library gradient; the
 * fixture owns its model and buffers. */
typedef struct problem {
    dfsae_model *m;
    float *X;
    size_t n, np;
    float *g;
} problem;

static void problem_init(void **state, problem *p, int act, size_t d, size_t k,
                         size_t n)
{
    p->m = fx_keep_model(state, grad_model_new(d, k, 21, act, ALL));
    p->n = n;
    p->X = fx_keep(state, grad_inputs_new(p->m, n, 22, GRAD_KINK_MARGIN));
    p->np = dfsae_model_num_params(p->m);
    p->g = fx_alloc(state, p->np * sizeof *p->g);
    assert_int_equal(dfsae_model_grad(p->m, p->X, n, p->g, NULL, NULL, 0),
                     DFSAE_OK);
}

/* Frees a loop's problem before the next case. */
static void problem_drop(void **state, problem *p)
{
    fx_drop(state, p->g);
    fx_drop(state, p->X);
    fx_drop(state, p->m);
}

/* The index whose |g| is closest to frac * max|g| within [lo, hi). */
static size_t pick(const float *g, size_t lo, size_t hi, double frac)
{
    double gmax = 0.0;
    for (size_t i = 0; i < hi; ++i)
        gmax = fmax(gmax, fabs((double)g[i]));
    size_t best = lo;
    for (size_t i = lo; i < hi; ++i)
        if (fabs(fabs((double)g[i]) - frac * gmax) <
            fabs(fabs((double)g[best]) - frac * gmax))
            best = i;
    return best;
}

static void passes_on_the_library_gradient(void **state)
{
    for (int act = 0; act < DFSAE_ACT_COUNT; ++act) {
        problem p;
        problem_init(state, &p, act, 5, 10, 6);
        gradcheck_opts o;
        gradcheck_default_opts(&o);
        gradcheck_result r;
        int ok = gradcheck_run(p.m, p.X, p.n, p.g, &o, "self", &r);
        if (!ok)
            fail_msg("%s: the correct gradient failed (worst %zu: %.9g vs "
                     "%.9g)",
                     dfsae_activation_name(act), r.worst, r.worst_analytic,
                     r.worst_numeric);
        assert_int_equal(r.n_checked, p.np);
        problem_drop(state, &p);
    }
}

/* Runs the checker on g with entry i replaced by `value`; it must fail,
 * and the worst coordinate it names must be i. */
static void expect_flagged(void **state, problem *p, size_t i, float value,
                           const char *what)
{
    gradcheck_opts o;
    gradcheck_default_opts(&o);
    float *bad = fx_alloc(state, p->np * sizeof *bad);
    memcpy(bad, p->g, p->np * sizeof *bad);
    bad[i] = value;
    gradcheck_result r;
    print_message("expected failure (%s) follows:\n", what);
    int ok = gradcheck_run(p->m, p->X, p->n, bad, &o, what, &r);
    if (ok || r.n_failed != 1 || r.worst != i)
        fail_msg("%s at %zu (%.9g -> %.9g) not flagged: ok %d, %zu failed, "
                 "worst %zu",
                 what, i, (double)p->g[i], (double)value, ok, r.n_failed,
                 r.worst);
    fx_drop(state, bad);
}

static void flags_one_coordinate_off_by_one_percent(void **state)
{
    const int acts[] = {DFSAE_ACT_RELU, DFSAE_ACT_SOFTPLUS, DFSAE_ACT_TANH};
    for (size_t a = 0; a < sizeof acts / sizeof acts[0]; ++a) {
        problem p;
        problem_init(state, &p, acts[a], 7, 6, 24);
        size_t nw = p.np - 6;
        /* The largest entry, a mid-sized W entry and a mid-sized bias. */
        size_t idx[3] = {pick(p.g, 0, p.np, 1.0), pick(p.g, 0, nw, 0.3),
                         pick(p.g, nw, p.np, 0.3)};
        for (int t = 0; t < 3; ++t)
            expect_flagged(state, &p, idx[t], p.g[idx[t]] * 1.01f, "1% off");
        problem_drop(state, &p);
    }
}

static void flags_a_sign_flip(void **state)
{
    problem p;
    problem_init(state, &p, DFSAE_ACT_RELU, 5, 10, 6);
    size_t i = pick(p.g, 0, p.np, 0.05);
    assert_true(p.g[i] != 0.0f);
    expect_flagged(state, &p, i, -p.g[i], "sign flip");
}

static void flags_a_dropped_term_in_one_unit(void **state)
{
    /* A zeroed bias gradient: what forgetting a unit's b looks like. */
    problem p;
    problem_init(state, &p, DFSAE_ACT_LEAKY_RELU, 7, 6, 24);
    size_t i = pick(p.g, p.np - 6, p.np, 1.0);
    expect_flagged(state, &p, i, 0.0f, "zeroed");
}

static void flags_a_gradient_scaled_by_1_05(void **state)
{
    problem p;
    problem_init(state, &p, DFSAE_ACT_SOFTPLUS, 5, 10, 6);
    for (size_t i = 0; i < p.np; ++i)
        p.g[i] *= 1.05f;
    gradcheck_opts o;
    gradcheck_default_opts(&o);
    gradcheck_result r;
    print_message("expected failure (scaled) follows:\n");
    assert_false(gradcheck_run(p.m, p.X, p.n, p.g, &o, "scaled", &r));
    /* Every coordinate above the floor is 5% off. */
    assert_true(r.n_failed > p.np / 2);
    assert_int_equal(r.n_dirs_failed, r.n_dirs_checked);
}

/* With no coordinate selected, the random directions alone must catch a
 * uniformly scaled gradient (and pass the right one): they are what
 * covers the coordinates a capped check leaves out. */
static void directions_alone_catch_a_scaled_gradient(void **state)
{
    problem p;
    problem_init(state, &p, DFSAE_ACT_TANH, 33, 64, 40);
    gradcheck_opts o;
    gradcheck_default_opts(&o);
    o.max_coords = 0;
    o.min_checked_frac = 0.0;
    o.n_dirs = 8;
    gradcheck_result r;
    assert_true(gradcheck_run(p.m, p.X, p.n, p.g, &o, "dirs", &r));
    assert_int_equal(r.n_dirs_checked, 8);
    for (size_t i = 0; i < p.np; ++i)
        p.g[i] *= 1.05f;
    print_message("expected failure (directions, scaled) follows:\n");
    assert_false(gradcheck_run(p.m, p.X, p.n, p.g, &o, "dirs", &r));
    assert_int_equal(r.n_dirs_failed, 8);
}

/* A capped check on a large model: checks exactly max_coords entries. */
static void caps_the_coordinates_of_a_large_model(void **state)
{
    problem p;
    problem_init(state, &p, DFSAE_ACT_SOFTPLUS, 33, 64, 40);
    gradcheck_opts o;
    gradcheck_default_opts(&o);
    gradcheck_result r;
    assert_true(gradcheck_run(p.m, p.X, p.n, NULL, &o, "capped", &r));
    assert_int_equal(r.n_selected, o.max_coords);
    assert_int_equal(r.n_checked, o.max_coords);
    assert_int_equal(r.n_dirs_checked, o.n_dirs);
}

/* Put one row of every unit exactly on the relu kink: every coordinate
 * must be skipped, and a check that skipped everything must not pass. */
static void never_passes_by_skipping(void **state)
{
    problem p;
    problem_init(state, &p, DFSAE_ACT_RELU, 5, 10, 6);
    const size_t d = 5, k = 10;
    float *params = fx_alloc(state, p.np * sizeof *params);
    assert_int_equal(dfsae_model_get_params(p.m, params, p.np), DFSAE_OK);
    for (size_t j = 0; j < k; ++j) {
        double z = 0.0;
        for (size_t c = 0; c < d; ++c)
            z += (double)p.X[c] * params[j * d + c];
        params[k * d + j] = (float)-z;
    }
    assert_int_equal(dfsae_model_set_params(p.m, params, p.np), DFSAE_OK);
    gradcheck_opts o;
    gradcheck_default_opts(&o);
    gradcheck_result r;
    print_message("expected failure (all skipped) follows:\n");
    assert_false(gradcheck_run(p.m, p.X, p.n, NULL, &o, "kinks", &r));
    assert_int_equal(r.n_skipped, p.np);
    assert_int_equal(r.n_checked, 0);
    assert_int_equal(r.n_dirs_checked, 0);
}

/* The checker leaves the parameters bit-identical. */
static void restores_the_parameters(void **state)
{
    problem p;
    problem_init(state, &p, DFSAE_ACT_RELU, 5, 10, 6);
    float *before = fx_alloc(state, p.np * sizeof *before);
    float *after = fx_alloc(state, p.np * sizeof *after);
    assert_int_equal(dfsae_model_get_params(p.m, before, p.np), DFSAE_OK);
    gradcheck_opts o;
    gradcheck_default_opts(&o);
    gradcheck_result r;
    assert_true(gradcheck_run(p.m, p.X, p.n, NULL, &o, "restore", &r));
    assert_int_equal(dfsae_model_get_params(p.m, after, p.np), DFSAE_OK);
    assert_memory_equal(before, after, p.np * sizeof *before);
}

/* A loss call that fails (B = 1 with a variance term) fails the check. */
static void reports_a_failing_evaluation(void **state)
{
    problem p;
    problem_init(state, &p, DFSAE_ACT_TANH, 5, 10, 6);
    gradcheck_opts o;
    gradcheck_default_opts(&o);
    gradcheck_result r;
    print_message("expected failure (B = 1) follows:\n");
    assert_false(gradcheck_run(p.m, p.X, 1, NULL, &o, "B=1", &r));
    assert_int_equal(r.status, DFSAE_ERR_BATCH_TOO_SMALL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(default_step_is_in_the_flat_part),
        FIXTURE_TEST(passes_on_the_library_gradient),
        FIXTURE_TEST(flags_one_coordinate_off_by_one_percent),
        FIXTURE_TEST(flags_a_sign_flip),
        FIXTURE_TEST(flags_a_dropped_term_in_one_unit),
        FIXTURE_TEST(flags_a_gradient_scaled_by_1_05),
        FIXTURE_TEST(directions_alone_catch_a_scaled_gradient),
        FIXTURE_TEST(caps_the_coordinates_of_a_large_model),
        FIXTURE_TEST(never_passes_by_skipping),
        FIXTURE_TEST(restores_the_parameters),
        FIXTURE_TEST(reports_a_failing_evaluation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
