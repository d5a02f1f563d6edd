/* Parameters and metadata: seeded initialisation, parameter round trips,
 * model options (defaults, bounds, set/get), names, versions, statuses. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api_alloc.h"
#include "dfsae.h"
#include "fixture.h"

/* Parameters of a fresh model of shape d x k with `seed`, in a buffer of
 * dfsae_model_num_params floats that the fixture owns. */
static float *initial_params(void **state, size_t d, size_t k, uint64_t seed)
{
    dfsae_model *m = fx_model(state, d, k, seed);
    assert_int_equal(dfsae_model_num_params(m), k * d + k);
    float *p = fx_params(state, m);
    fx_drop(state, m);
    return p;
}

static void test_shape_getters(void **state)
{
    dfsae_model *m = fx_model(state, 7, 3, 1);
    assert_int_equal(dfsae_model_input_dim(m), 7);
    assert_int_equal(dfsae_model_num_components(m), 3);
    assert_int_equal(dfsae_model_num_params(m), 24);
}

static void test_same_seed_same_params(void **state)
{
    const size_t d = 33, k = 17;
    float *a = initial_params(state, d, k, 12345);
    float *b = initial_params(state, d, k, 12345);
    assert_memory_equal(a, b, (k * d + k) * sizeof *a);
    /* The allocator does not enter into it. */
    dfsae_model *m = fx_model_on(state, fx_alloc_ctl(state), d, k, 12345);
    float *c = fx_params(state, m);
    assert_memory_equal(a, c, (k * d + k) * sizeof *a);
    fx_drop(state, m); /* cmocka's blocks: back before the test returns */
}

/* Different seeds (also adjacent ones, and 0) give unrelated parameters:
 * almost no coordinate agrees. */
static void test_different_seeds_differ(void **state)
{
    const size_t d = 16, k = 8, np = k * d + k;
    const uint64_t seeds[] = {0, 1, 2, 42, UINT64_MAX};
    float *p[5];
    for (int i = 0; i < 5; ++i)
        p[i] = initial_params(state, d, k, seeds[i]);
    for (int i = 0; i < 5; ++i)
        for (int j = i + 1; j < 5; ++j) {
            size_t same = 0;
            for (size_t q = 0; q < np; ++q)
                same += p[i][q] == p[j][q];
            if (same > np / 20)
                fail_msg("seeds %llu and %llu share %zu of %zu values",
                         (unsigned long long)seeds[i],
                         (unsigned long long)seeds[j], same, np);
        }
}

/* nn.Linear's initialisation: W and b uniform in [-1/sqrt(D), 1/sqrt(D)].
 * Every value lies inside, and the values fill the interval evenly (so a
 * smaller bound, or a non-uniform law, fails too). */
static void check_uniform(const float *x, size_t n, double bound,
                          const char *what)
{
    enum { BINS = 8 };
    size_t bins[BINS] = {0};
    double sum = 0.0, maxabs = 0.0;
    for (size_t i = 0; i < n; ++i) {
        double v = x[i];
        /* float rounding of the bound is the only slack */
        if (!(fabs(v) <= bound * (1.0 + 1e-7)))
            fail_msg("%s[%zu] = %.9g outside +-%.9g", what, i, v, bound);
        size_t b = (size_t)((v + bound) / (2.0 * bound) * BINS);
        bins[b < BINS ? b : BINS - 1]++;
        sum += v;
        maxabs = fmax(maxabs, fabs(v));
    }
    /* n >= 2048: each bin expects n/8 with sd < sqrt(n/8). */
    const double expect = (double)n / BINS, slack = 5.0 * sqrt(expect);
    for (int b = 0; b < BINS; ++b)
        if (fabs((double)bins[b] - expect) > slack)
            fail_msg("%s: bin %d holds %zu values, expected %.0f +- %.0f", what,
                     b, bins[b], expect, slack);
    assert_true(maxabs > 0.99 * bound);
    /* mean of U(-b, b) has sd b / sqrt(3 n) */
    assert_true(fabs(sum / (double)n) < 5.0 * bound / sqrt(3.0 * (double)n));
}

static void test_init_range(void **state)
{
    const size_t shapes[][2] = {{3, 2048}, {100, 2048}, {784, 64}};
    for (size_t s = 0; s < 3; ++s) {
        const size_t d = shapes[s][0], k = shapes[s][1];
        float *p = initial_params(state, d, k, 7 + s);
        const double bound = 1.0 / sqrt((double)d);
        check_uniform(p, k * d, bound, "W");
        if (k >= 2048)
            check_uniform(p + k * d, k, bound, "b");
        else
            for (size_t j = 0; j < k; ++j)
                assert_true(fabs(p[k * d + j]) <= bound * (1.0 + 1e-7));
        fx_drop(state, p);
    }
}

static void test_params_round_trip(void **state)
{
    dfsae_model *m = fx_model(state, 5, 3, 1);
    float in[18], out[18];
    for (int i = 0; i < 18; ++i)
        in[i] = (float)(i - 9) * 1.5e-3f + (i == 4 ? 1e30f : 0.0f);
    in[17] = -0.0f;
    in[16] = 1e-40f; /* subnormal: finite, accepted as is */
    assert_int_equal(dfsae_model_set_params(m, in, 18), DFSAE_OK);
    assert_int_equal(dfsae_model_get_params(m, out, 18), DFSAE_OK);
    assert_memory_equal(in, out, sizeof in);
    /* The layout is W (K x D, row-major) then b: with W = 0 and b set, the
     * pre-activations are b whatever X is. */
    for (int i = 0; i < 15; ++i)
        in[i] = 0.0f;
    in[15] = 1.0f;
    in[16] = -2.0f;
    in[17] = 3.0f;
    assert_int_equal(dfsae_model_set_params(m, in, 18), DFSAE_OK);
    float X[5] = {1, 2, 3, 4, 5}, A[3], Z[3];
    assert_int_equal(dfsae_model_forward(m, X, 1, A, Z, NULL), DFSAE_OK);
    assert_true(Z[0] == 1.0f && Z[1] == -2.0f && Z[2] == 3.0f);
    assert_true(A[0] == 1.0f && A[1] == 0.0f && A[2] == 3.0f);
    /* And W row k holds component k: W[1][3] = 1 picks X[3]. */
    in[1 * 5 + 3] = 1.0f;
    assert_int_equal(dfsae_model_set_params(m, in, 18), DFSAE_OK);
    assert_int_equal(dfsae_model_forward(m, X, 1, A, Z, NULL), DFSAE_OK);
    assert_true(Z[0] == 1.0f && Z[1] == 2.0f && Z[2] == 3.0f);
}

/* ---- Model options ----------------------------------------------------- */

static void test_option_defaults(void **state)
{
    const double want[DFSAE_MODEL_OPTION_COUNT] = {
        [DFSAE_MODEL_ACTIVATION] = DFSAE_ACT_RELU,
        [DFSAE_MODEL_LAMBDA_LSE] = 1.0,
        [DFSAE_MODEL_LAMBDA_VAR] = 1.0,
        [DFSAE_MODEL_LAMBDA_TC] = 1.0,
        [DFSAE_MODEL_LAMBDA_WR] = 0.0,
        [DFSAE_MODEL_EPS_VAR] = 1e-6,
        [DFSAE_MODEL_LSE_REDUCTION] = DFSAE_REDUCE_SUM,
        [DFSAE_MODEL_LEAKY_SLOPE] = 0.01,
        [DFSAE_MODEL_GRAM_SIDE] = DFSAE_GRAM_AUTO,
        [DFSAE_MODEL_SOFTMAX_TEMPERATURE] = 1.0,
        [DFSAE_MODEL_WR_FORM] = DFSAE_WR_NORMALISED,
    };
    dfsae_model *m = fx_model(state, 4, 2, 1);
    for (int key = 0; key < DFSAE_MODEL_OPTION_COUNT; ++key) {
        double v = -1.0;
        assert_int_equal(dfsae_model_get_option(m, key, &v), DFSAE_OK);
        if (v != want[key])
            fail_msg("option %d defaults to %.17g, want %.17g", key, v,
                     want[key]);
    }
}

/* Bounds are inclusive and set_param agrees: both ends are accepted and
 * read back exactly, the next double outside is refused. */
static void test_option_bounds(void **state)
{
    dfsae_model *m = fx_model(state, 4, 2, 1);
    for (int key = 0; key < DFSAE_MODEL_OPTION_COUNT; ++key) {
        double lo = NAN, hi = NAN, v, def;
        assert_int_equal(dfsae_model_option_bounds(key, &lo, &hi), DFSAE_OK);
        assert_int_equal(dfsae_model_option_bounds(key, NULL, NULL), DFSAE_OK);
        assert_true(lo <= hi);
        assert_int_equal(dfsae_model_get_option(m, key, &def), DFSAE_OK);
        assert_true(def >= lo && def <= hi);
        const double ends[2] = {lo, hi};
        for (int e = 0; e < 2; ++e) {
            assert_int_equal(dfsae_model_set_option(m, key, ends[e]), DFSAE_OK);
            assert_int_equal(dfsae_model_get_option(m, key, &v), DFSAE_OK);
            assert_true(v == ends[e]);
        }
        assert_int_equal(
            dfsae_model_set_option(m, key, nextafter(lo, -INFINITY)),
            DFSAE_ERR_PARAM_OUT_OF_RANGE);
        if (isfinite(nextafter(hi, INFINITY)))
            assert_int_equal(
                dfsae_model_set_option(m, key, nextafter(hi, INFINITY)),
                DFSAE_ERR_PARAM_OUT_OF_RANGE);
        assert_int_equal(dfsae_model_get_option(m, key, &v), DFSAE_OK);
        assert_true(v == hi);
        assert_int_equal(dfsae_model_set_option(m, key, def), DFSAE_OK);
    }
    /* Specific ranges the objective needs. */
    double lo, hi;
    assert_int_equal(dfsae_model_option_bounds(DFSAE_MODEL_EPS_VAR, &lo, NULL),
                     DFSAE_OK);
    assert_true(lo > 0.0);
    assert_int_equal(
        dfsae_model_option_bounds(DFSAE_MODEL_ACTIVATION, &lo, &hi), DFSAE_OK);
    assert_true(lo == 0.0 && hi == DFSAE_ACT_COUNT - 1);
    assert_int_equal(dfsae_model_option_bounds(DFSAE_MODEL_GRAM_SIDE, &lo, &hi),
                     DFSAE_OK);
    assert_true(lo == DFSAE_GRAM_AUTO && hi == DFSAE_GRAM_SAMPLE);
    for (int key = DFSAE_MODEL_LAMBDA_LSE; key <= DFSAE_MODEL_LAMBDA_WR;
         ++key) {
        assert_int_equal(dfsae_model_option_bounds(key, &lo, NULL), DFSAE_OK);
        assert_true(lo == 0.0);
    }
}

/* Every activation can be selected and changes the forward pass. */
static void test_activation_option_takes_effect(void **state)
{
    dfsae_model *m = fx_model(state, 2, 1, 1);
    float p[3] = {1.0f, 0.0f, 0.0f}, A, Z;
    assert_int_equal(dfsae_model_set_params(m, p, 3), DFSAE_OK);
    const float x[2] = {-2.0f, 5.0f};
    const double want[DFSAE_ACT_COUNT] = {
        [DFSAE_ACT_RELU] = 0.0,
        [DFSAE_ACT_SOFTPLUS] = 0.12692801104297249, /* log(1 + e^-2) */
        [DFSAE_ACT_IDENTITY] = -2.0,
        [DFSAE_ACT_LEAKY_RELU] = -0.02,
        [DFSAE_ACT_TANH] = -0.9640275800758169,
        [DFSAE_ACT_SOFTMAX] = 1.0, /* the only unit of its row */
    };
    for (int a = 0; a < DFSAE_ACT_COUNT; ++a) {
        assert_int_equal(dfsae_model_set_option(m, DFSAE_MODEL_ACTIVATION, a),
                         DFSAE_OK);
        assert_int_equal(dfsae_model_forward(m, x, 1, &A, &Z, NULL), DFSAE_OK);
        assert_true(Z == -2.0f);
        if (fabs(A - want[a]) > 1e-6)
            fail_msg("%s(-2) = %.9g, want %.9g", dfsae_activation_name(a),
                     (double)A, want[a]);
    }
}

/* ---- Names, versions, statuses ---------------------------------------- */

static void test_names(void **state)
{
    (void)state;
    const char *acts[] = {"relu",       "softplus", "identity",
                          "leaky_relu", "tanh",     "softmax"};
    assert_int_equal(DFSAE_ACT_COUNT, 6);
    for (int i = 0; i < DFSAE_ACT_COUNT; ++i)
        assert_string_equal(dfsae_activation_name(i), acts[i]);
    assert_null(dfsae_activation_name(-1));
    assert_null(dfsae_activation_name(DFSAE_ACT_COUNT));
    assert_null(dfsae_activation_name(1 << 30));

    const char *terms[] = {"lse", "var", "tc", "wr"};
    assert_int_equal(DFSAE_TERM_COUNT, 4);
    for (int i = 0; i < DFSAE_TERM_COUNT; ++i)
        assert_string_equal(dfsae_term_name(i), terms[i]);
    assert_null(dfsae_term_name(-1));
    assert_null(dfsae_term_name(DFSAE_TERM_COUNT));

    const char *kinds[] = {"sgd", "adam", "adamw"};
    assert_int_equal(DFSAE_OPTIMIZER_KIND_COUNT, 3);
    for (int i = 0; i < DFSAE_OPTIMIZER_KIND_COUNT; ++i)
        assert_string_equal(dfsae_optimizer_kind_name(i), kinds[i]);
    assert_null(dfsae_optimizer_kind_name(-1));
    assert_null(dfsae_optimizer_kind_name(DFSAE_OPTIMIZER_KIND_COUNT));
}

static void test_version(void **state)
{
    (void)state;
    assert_int_equal(dfsae_version_number(), DFSAE_VERSION_NUMBER);
    assert_int_equal(DFSAE_VERSION_NUMBER, DFSAE_VERSION_MAJOR * 10000 +
                                               DFSAE_VERSION_MINOR * 100 +
                                               DFSAE_VERSION_PATCH);
    assert_string_equal(dfsae_version_string(), DFSAE_VERSION_STRING);
    char s[64];
    snprintf(s, sizeof s, "%d.%d.%d", DFSAE_VERSION_MAJOR, DFSAE_VERSION_MINOR,
             DFSAE_VERSION_PATCH);
    assert_string_equal(dfsae_version_string(), s);
}

/* Every code has its own text; unknown codes get a text too (never NULL).
 * Codes are looked up over a wide range so appended ones are covered. */
static void test_status_strings(void **state)
{
    (void)state;
    const int pinned[] = {
        DFSAE_OK,
        DFSAE_ERR_NULL_ARG,
        DFSAE_ERR_INVALID_ARG,
        DFSAE_ERR_SIZE_OVERFLOW,
        DFSAE_ERR_NO_MEMORY,
        DFSAE_ERR_BATCH_TOO_SMALL,
        DFSAE_ERR_NON_FINITE_INPUT,
        DFSAE_ERR_NON_FINITE_RESULT,
        DFSAE_ERR_UNKNOWN_PARAM,
        DFSAE_ERR_PARAM_OUT_OF_RANGE,
        DFSAE_ERR_SIZE_MISMATCH,
    };
    /* Published values never change. */
    for (int i = 0; i < (int)(sizeof pinned / sizeof pinned[0]); ++i)
        assert_int_equal(pinned[i], -i);
    const char *unknown = dfsae_status_string(1);
    assert_non_null(unknown);
    assert_non_null(dfsae_status_string(-100000));
    assert_non_null(dfsae_status_string(INT32_MIN));
    const char *seen[129];
    int n_seen = 0;
    for (int code = 0; code >= -128; --code) {
        const char *s = dfsae_status_string(code);
        assert_non_null(s);
        assert_true(s[0] != '\0');
        if (code > -(int)(sizeof pinned / sizeof pinned[0]) &&
            strcmp(s, unknown) == 0)
            fail_msg("status %d has the unknown-code text \"%s\"", code, s);
        if (strcmp(s, unknown) == 0)
            continue;
        for (int j = 0; j < n_seen; ++j)
            if (strcmp(seen[j], s) == 0)
                fail_msg("status %d repeats the text \"%s\"", code, s);
        seen[n_seen++] = s;
    }
    assert_true(n_seen >= (int)(sizeof pinned / sizeof pinned[0]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(test_shape_getters),
        FIXTURE_TEST(test_same_seed_same_params),
        FIXTURE_TEST(test_different_seeds_differ),
        FIXTURE_TEST(test_init_range),
        FIXTURE_TEST(test_params_round_trip),
        FIXTURE_TEST(test_option_defaults),
        FIXTURE_TEST(test_option_bounds),
        FIXTURE_TEST(test_activation_option_takes_effect),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_status_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
