/* dfsae_model_evaluate and dfsae_model_forward against a direct
 * double-precision computation of the definitions of docs/math.md and
 * docs/training.md. */
#include <float.h>
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

#define D 6
#define K 5
#define N 37

/* ---- the reference ----------------------------------------------------- */

/* The metrics of an n x k matrix A (double), straight from docs/math.md. */
static void reference(const double *A, size_t n, size_t k, double *out)
{
    double mean[16], var[16], std[16];
    assert_true(k <= 16);
    double l0 = 0.0, ent = 0.0, maxr = 0.0, act = 0.0;
    for (size_t j = 0; j < k; ++j) {
        mean[j] = 0.0;
        for (size_t i = 0; i < n; ++i)
            mean[j] += A[i * k + j];
        mean[j] /= (double)n;
        var[j] = 0.0;
        for (size_t i = 0; i < n; ++i)
            var[j] += (A[i * k + j] - mean[j]) * (A[i * k + j] - mean[j]);
        var[j] /= (double)(n - 1);
        std[j] = sqrt(var[j]) + 1e-8;
    }
    double dead = 0.0, tc = 0.0, vmax = 0.0, amax = 0.0;
    for (size_t i = 0; i < n * k; ++i)
        amax = fmax(amax, fabs(A[i]));
    for (size_t j = 0; j < k; ++j) {
        dead += var[j] < 0.01;
        vmax = fmax(vmax, var[j]);
        for (size_t c = 0; c < k; ++c) {
            if (c == j)
                continue;
            double cov = 0.0;
            for (size_t i = 0; i < n; ++i)
                cov += (A[i * k + j] - mean[j]) * (A[i * k + c] - mean[c]);
            cov /= (double)(n - 1);
            double corr = cov / (std[j] * std[c]);
            tc += corr * corr;
        }
    }
    for (size_t i = 0; i < n; ++i) {
        /* softmax(-A) is unchanged by a shift; the row minimum keeps
         * exp(-A) from underflowing to 0/0 at large activations. */
        double z = 0.0, h = 0.0, mx = 0.0, lo = A[i * k];
        for (size_t j = 0; j < k; ++j)
            lo = A[i * k + j] < lo ? A[i * k + j] : lo;
        for (size_t j = 0; j < k; ++j) {
            z += exp(lo - A[i * k + j]);
            l0 += fabs(A[i * k + j]) > 0.01;
            act += A[i * k + j];
        }
        for (size_t j = 0; j < k; ++j) {
            double r = exp(lo - A[i * k + j]) / z;
            h -= r * log(r + 1e-8);
            mx = r > mx ? r : mx;
        }
        ent += h;
        maxr += mx;
    }
    out[DFSAE_METRIC_DEAD_UNITS] = dead;
    out[DFSAE_METRIC_L0] = l0 / (double)n;
    out[DFSAE_METRIC_REDUNDANCY] = tc;
    out[DFSAE_METRIC_RESP_ENTROPY] = ent / (double)n;
    out[DFSAE_METRIC_MAX_RESP] = maxr / (double)n;
    out[DFSAE_METRIC_MEAN_ACTIVATION] = act / (double)(n * k);
    out[DFSAE_METRIC_MAX_ACTIVATION] = amax;
    out[DFSAE_METRIC_MAX_VARIANCE] = vmax;
}

/* ||Wn Wn^T - I||_F^2 with rows over (||w|| + 1e-8). */
static double reference_wr(const float *W, size_t k, size_t d)
{
    double Wn[16 * 16];
    assert_true(k * d <= 16 * 16);
    for (size_t r = 0; r < k; ++r) {
        double ss = 0.0;
        for (size_t c = 0; c < d; ++c)
            ss += (double)W[r * d + c] * W[r * d + c];
        for (size_t c = 0; c < d; ++c)
            Wn[r * d + c] = W[r * d + c] / (sqrt(ss) + 1e-8);
    }
    double v = 0.0;
    for (size_t a = 0; a < k; ++a)
        for (size_t b = 0; b < k; ++b) {
            double g = 0.0;
            for (size_t c = 0; c < d; ++c)
                g += Wn[a * d + c] * Wn[b * d + c];
            g -= a == b;
            v += g * g;
        }
    return v;
}

static void close_to(double got, double want, double rel)
{
    double tol = rel * fmax(1.0, fabs(want));
    if (!(fabs(got - want) <= tol))
        fail_msg("got %.12g, want %.12g (tolerance %.3g)", got, want, tol);
}

/* A relu model on uniform data with unit K-1 dead (bias -50), owned by
 * the fixture. */
typedef struct relu_case {
    dfsae_model *m;
    float X[N * D];
    float params[K * D + K];
    double A[N * K]; /* the reference activations, in double */
} relu_case;

static relu_case *relu_case_new(void **state)
{
    relu_case *f = fx_alloc(state, sizeof *f);
    train_fill(f->X, N * D, 21, -1.0, 1.0);
    train_fill(f->params, K * D, 22, -1.0, 1.0);
    train_fill(f->params + K * D, K, 23, -0.3, 0.3);
    f->params[K * D + K - 1] = -50.0f;
    f->m = fx_model(state, D, K, 1);
    assert_int_equal(dfsae_model_set_params(f->m, f->params, K * D + K),
                     DFSAE_OK);
    for (size_t i = 0; i < N; ++i)
        for (size_t j = 0; j < K; ++j) {
            double z = f->params[K * D + j];
            for (size_t c = 0; c < D; ++c)
                z += (double)f->X[i * D + c] * f->params[j * D + c];
            f->A[i * K + j] = z > 0.0 ? z : 0.0;
        }
    return f;
}

static dfsae_train_config *batch_config(void **state, double batch)
{
    dfsae_train_config *c = fx_train_config(state);
    train_set(c, DFSAE_TRAIN_BATCH_SIZE, batch);
    return c;
}

/* ---- tests ------------------------------------------------------------- */

static void test_metric_names(void **state)
{
    (void)state;
    const char *want[DFSAE_METRIC_COUNT] = {
        "dead_units",        "l0",       "redundancy",      "resp_entropy",
        "weight_redundancy", "max_resp", "mean_activation", "max_activation",
        "max_variance"};
    for (int i = 0; i < DFSAE_METRIC_COUNT; ++i)
        assert_string_equal(dfsae_metric_name(i), want[i]);
    assert_null(dfsae_metric_name(DFSAE_METRIC_COUNT));
    assert_null(dfsae_metric_name(-1));
}

/* Every metric matches the reference, with batch sizes that do and do not
 * divide n (37 = 3 x 10 + 7, 1-row batches, one batch, a batch > n). */
static void test_metrics_match_reference(void **state)
{
    relu_case *f = relu_case_new(state);
    double want[DFSAE_METRIC_COUNT];
    reference(f->A, N, K, want);
    want[DFSAE_METRIC_WEIGHT_REDUNDANCY] = reference_wr(f->params, K, D);
    /* The fixture is not degenerate: one dead unit, some sparsity. */
    assert_true(want[DFSAE_METRIC_DEAD_UNITS] == 1.0);
    assert_true(want[DFSAE_METRIC_L0] > 1.0 && want[DFSAE_METRIC_L0] < 4.0);
    assert_true(want[DFSAE_METRIC_REDUNDANCY] > 0.01);
    const double batches[] = {10, 1, 2, 36, 37, 1000};
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; ++b) {
        dfsae_train_config *c = batch_config(state, batches[b]);
        double got[DFSAE_METRIC_COUNT];
        assert_int_equal(
            dfsae_model_evaluate(f->m, f->X, N, c, got, DFSAE_METRIC_COUNT),
            DFSAE_OK);
        assert_true(got[DFSAE_METRIC_DEAD_UNITS] ==
                    want[DFSAE_METRIC_DEAD_UNITS]);
        assert_true(got[DFSAE_METRIC_L0] == want[DFSAE_METRIC_L0]);
        for (int i = 0; i < DFSAE_METRIC_COUNT; ++i)
            close_to(got[i], want[i], 1e-5);
        fx_drop(state, c);
    }
}

/* Redundancy over the set is the model's own L_tc on one batch holding
 * the whole set; weight redundancy is the model's L_wr. */
static void test_matches_model_terms(void **state)
{
    relu_case *f = relu_case_new(state);
    assert_int_equal(dfsae_model_set_option(f->m, DFSAE_MODEL_LAMBDA_WR, 1),
                     DFSAE_OK);
    double terms[DFSAE_TERM_COUNT];
    assert_int_equal(
        dfsae_model_loss(f->m, f->X, N, NULL, terms, DFSAE_TERM_COUNT),
        DFSAE_OK);
    dfsae_train_config *c = batch_config(state, 8);
    double got[DFSAE_METRIC_COUNT];
    assert_int_equal(
        dfsae_model_evaluate(f->m, f->X, N, c, got, DFSAE_METRIC_COUNT),
        DFSAE_OK);
    close_to(got[DFSAE_METRIC_REDUNDANCY], terms[DFSAE_TERM_TC], 1e-5);
    close_to(got[DFSAE_METRIC_WEIGHT_REDUNDANCY], terms[DFSAE_TERM_WR], 1e-12);
}

/* Activations in the thousands: a constant unit is exactly dead, a unit
 * with variance ~0.003 is dead and one with ~0.08 alive; the sums around
 * the first batch's means keep the statistics exact enough to tell. The
 * reference here is the two-pass computation on the model's own A. */
static void test_large_activations(void **state)
{
    enum { n = 203, d = 1, k = 3 };
    float X[n], A[n * k];
    double Ad[n * k];
    train_fill(X, n, 31, 0.0, 1.0);
    const float params[d * k + k] = {0.0f,    0.2f,    1.0f,
                                     1000.0f, 2000.0f, 3000.0f};
    dfsae_model *m = fx_model(state, d, k, 1);
    assert_int_equal(dfsae_model_set_params(m, params, d * k + k), DFSAE_OK);
    assert_int_equal(dfsae_model_forward(m, X, n, A, NULL, NULL), DFSAE_OK);
    for (size_t i = 0; i < n * k; ++i)
        Ad[i] = A[i];
    double want[DFSAE_METRIC_COUNT], got[DFSAE_METRIC_COUNT];
    reference(Ad, n, k, want);
    assert_true(want[DFSAE_METRIC_DEAD_UNITS] == 2.0);
    dfsae_train_config *c = batch_config(state, 16);
    assert_int_equal(dfsae_model_evaluate(m, X, n, c, got, DFSAE_METRIC_COUNT),
                     DFSAE_OK);
    assert_true(got[DFSAE_METRIC_DEAD_UNITS] == 2.0);
    close_to(got[DFSAE_METRIC_MEAN_ACTIVATION],
             want[DFSAE_METRIC_MEAN_ACTIVATION], 1e-12);
    close_to(got[DFSAE_METRIC_MAX_ACTIVATION],
             want[DFSAE_METRIC_MAX_ACTIVATION], 1e-12);
    close_to(got[DFSAE_METRIC_MAX_VARIANCE], want[DFSAE_METRIC_MAX_VARIANCE],
             1e-6);
    /* Units 1 and 2 are both linear in x: correlation ~1 each way. */
    close_to(got[DFSAE_METRIC_REDUNDANCY], want[DFSAE_METRIC_REDUNDANCY], 1e-5);
    assert_true(want[DFSAE_METRIC_REDUNDANCY] > 1.99);
    /* R is one-hot: the max is 1 and the entropy -log(1 + 1e-8). */
    close_to(got[DFSAE_METRIC_MAX_RESP], 1.0, 1e-12);
    close_to(got[DFSAE_METRIC_RESP_ENTROPY], want[DFSAE_METRIC_RESP_ENTROPY],
             1e-15);
    close_to(got[DFSAE_METRIC_RESP_ENTROPY], -1e-8, 1e-15);
}

/* Issue 14 item 2: activations around 1e19 and above used to overflow the
 * float cross-products of the redundancy (inf or nan, with DFSAE_OK).
 * Units at very different scales (1e30, 1e20 and 1): every metric is
 * finite, matches the reference, and the redundancy stays in
 * [0, K (K - 1)]. */
static void test_huge_activations(void **state)
{
    enum { n = 203, d = 1, k = 3 };
    float X[n], A[n * k];
    double Ad[n * k];
    train_fill(X, n, 32, 0.0, 1.0);
    const float params[d * k + k] = {1e30f, -3e20f, 1.0f, 0.0f, 1e19f, 0.5f};
    dfsae_model *m = fx_model(state, d, k, 1);
    assert_int_equal(
        dfsae_model_set_option(m, DFSAE_MODEL_ACTIVATION, DFSAE_ACT_IDENTITY),
        DFSAE_OK);
    assert_int_equal(dfsae_model_set_params(m, params, d * k + k), DFSAE_OK);
    assert_int_equal(dfsae_model_forward(m, X, n, A, NULL, NULL), DFSAE_OK);
    for (size_t i = 0; i < n * k; ++i)
        Ad[i] = A[i];
    double want[DFSAE_METRIC_COUNT], got[DFSAE_METRIC_COUNT];
    reference(Ad, n, k, want);
    want[DFSAE_METRIC_WEIGHT_REDUNDANCY] = reference_wr(params, k, d);
    /* All three are linear in x: every correlation is about +-1. */
    assert_true(want[DFSAE_METRIC_REDUNDANCY] > 5.99);
    const double batches[] = {16, 203};
    for (size_t b = 0; b < 2; ++b) {
        dfsae_train_config *c = batch_config(state, batches[b]);
        assert_int_equal(
            dfsae_model_evaluate(m, X, n, c, got, DFSAE_METRIC_COUNT),
            DFSAE_OK);
        for (int i = 0; i < DFSAE_METRIC_COUNT; ++i) {
            if (!isfinite(got[i]))
                fail_msg("batch %g: %s = %g", batches[b], dfsae_metric_name(i),
                         got[i]);
            close_to(got[i], want[i], 1e-5);
        }
        assert_true(got[DFSAE_METRIC_REDUNDANCY] >= 0.0 &&
                    got[DFSAE_METRIC_REDUNDANCY] <= k * (k - 1));
        fx_drop(state, c);
    }
}

/* What float cannot hold is an error, never DFSAE_OK with inf or nan in
 * an output: X W^T overflowing (2 x 3e38), or inf - inf (a NaN that relu
 * would have turned into 0). An overflow only in a pre-activation that
 * relu maps to an exact 0 is an error only if Z is asked for. */
static void test_non_finite_results(void **state)
{
    enum { n = 4, d = 2, k = 3 };
    const float X[n * d] = {2, 2, 2, 2, 1, 1, 0.5f, 0.5f};
    const float cases[3][d * k + k] = {
        {3e38f, 3e38f, 0.1f, 0.2f, 0.3f, 0.4f, 0.0f, 0.0f, 0.0f},  /* inf */
        {0.1f, 0.2f, 3e38f, -3e38f, 0.3f, 0.4f, 0.0f, 0.0f, 0.0f}, /* nan */
        /* z = -3e38 - 3e38 = -inf in row 0, relu gives 0 */
        {-1.5e38f, 0.0f, 0.1f, 0.2f, 0.3f, 0.4f, -3e38f, 0.0f, 0.0f},
    };
    float A[n * k], Z[n * k], R[n * k];
    double metrics[DFSAE_METRIC_COUNT];
    for (int c = 0; c < 3; ++c) {
        dfsae_model *m = fx_model(state, d, k, 1);
        assert_int_equal(dfsae_model_set_params(m, cases[c], d * k + k),
                         DFSAE_OK);
        assert_int_equal(dfsae_model_forward(m, X, n, A, Z, R),
                         DFSAE_ERR_NON_FINITE_RESULT);
        if (c == 2) {
            /* Without Z, every output is finite and exact. */
            assert_int_equal(dfsae_model_forward(m, X, n, A, NULL, R),
                             DFSAE_OK);
            assert_true(A[0] == 0.0f);
            assert_int_equal(dfsae_model_evaluate(m, X, n, NULL, metrics,
                                                  DFSAE_METRIC_COUNT),
                             DFSAE_OK);
        } else {
            assert_int_equal(dfsae_model_forward(m, X, n, A, NULL, NULL),
                             DFSAE_ERR_NON_FINITE_RESULT);
            assert_int_equal(dfsae_model_evaluate(m, X, n, NULL, metrics,
                                                  DFSAE_METRIC_COUNT),
                             DFSAE_ERR_NON_FINITE_RESULT);
            assert_non_null(strstr(dfsae_model_last_error(m), "not finite"));
        }
        fx_drop(state, m);
    }
}

/* Only the first n_metrics entries are written; with the redundancy
 * switched off it reads NaN and the rest is unchanged. */
static void test_partial_and_no_redundancy(void **state)
{
    relu_case *f = relu_case_new(state);
    double all[DFSAE_METRIC_COUNT], part[DFSAE_METRIC_COUNT];
    assert_int_equal(
        dfsae_model_evaluate(f->m, f->X, N, NULL, all, DFSAE_METRIC_COUNT),
        DFSAE_OK);
    for (int i = 0; i < DFSAE_METRIC_COUNT; ++i)
        part[i] = -123.0;
    assert_int_equal(dfsae_model_evaluate(f->m, f->X, N, NULL, part, 2),
                     DFSAE_OK);
    assert_true(part[0] == all[0] && part[1] == all[1]);
    for (int i = 2; i < DFSAE_METRIC_COUNT; ++i)
        assert_true(part[i] == -123.0);
    /* More slots than metrics: the extra ones are left alone. */
    double more[DFSAE_METRIC_COUNT + 2];
    more[DFSAE_METRIC_COUNT] = more[DFSAE_METRIC_COUNT + 1] = 7.0;
    assert_int_equal(
        dfsae_model_evaluate(f->m, f->X, N, NULL, more, DFSAE_METRIC_COUNT + 2),
        DFSAE_OK);
    assert_true(more[DFSAE_METRIC_COUNT] == 7.0);
    dfsae_train_config *c = batch_config(state, 128);
    train_set(c, DFSAE_TRAIN_EVAL_REDUNDANCY, 0);
    double off[DFSAE_METRIC_COUNT];
    assert_int_equal(
        dfsae_model_evaluate(f->m, f->X, N, c, off, DFSAE_METRIC_COUNT),
        DFSAE_OK);
    for (int i = 0; i < DFSAE_METRIC_COUNT; ++i)
        if (i == DFSAE_METRIC_REDUNDANCY)
            assert_true(isnan(off[i]));
        else
            assert_true(off[i] == all[i]);
}

static void test_evaluate_bad_input(void **state)
{
    relu_case *f = relu_case_new(state);
    double metrics[DFSAE_METRIC_COUNT];
    for (int i = 0; i < DFSAE_METRIC_COUNT; ++i)
        metrics[i] = -1.0;
    assert_int_equal(
        dfsae_model_evaluate(NULL, f->X, N, NULL, metrics, DFSAE_METRIC_COUNT),
        DFSAE_ERR_NULL_ARG);
    assert_int_equal(
        dfsae_model_evaluate(f->m, NULL, N, NULL, metrics, DFSAE_METRIC_COUNT),
        DFSAE_ERR_NULL_ARG);
    assert_int_equal(
        dfsae_model_evaluate(f->m, f->X, N, NULL, NULL, DFSAE_METRIC_COUNT),
        DFSAE_ERR_NULL_ARG);
    assert_int_equal(
        dfsae_model_evaluate(f->m, f->X, 0, NULL, metrics, DFSAE_METRIC_COUNT),
        DFSAE_ERR_INVALID_ARG);
    assert_int_equal(dfsae_model_evaluate(f->m, f->X, N, NULL, metrics, 0),
                     DFSAE_ERR_INVALID_ARG);
    assert_int_equal(
        dfsae_model_evaluate(f->m, f->X, 1, NULL, metrics, DFSAE_METRIC_COUNT),
        DFSAE_ERR_BATCH_TOO_SMALL);
    f->X[N * D - 1] = NAN;
    assert_int_equal(
        dfsae_model_evaluate(f->m, f->X, N, NULL, metrics, DFSAE_METRIC_COUNT),
        DFSAE_ERR_NON_FINITE_INPUT);
    assert_non_null(strstr(dfsae_model_last_error(f->m), "X[36][5]"));
    for (int i = 0; i < DFSAE_METRIC_COUNT; ++i)
        assert_true(metrics[i] == -1.0);
    float now[K * D + K];
    assert_int_equal(dfsae_model_get_params(f->m, now, K * D + K), DFSAE_OK);
    assert_memory_equal(now, f->params, sizeof now);
}

/* Forward over the whole set gives the reference activations; a bad row
 * leaves the output untouched. */
static void test_forward_whole_set(void **state)
{
    relu_case *f = relu_case_new(state);
    float got[N * K];
    memset(got, 0xff, sizeof got);
    assert_int_equal(dfsae_model_forward(f->m, f->X, N, got, NULL, NULL),
                     DFSAE_OK);
    for (size_t i = 0; i < N * K; ++i)
        close_to(got[i], f->A[i], 1e-5);
    f->X[N * D - 1] = INFINITY;
    memset(got, 0x5a, sizeof got);
    float copy[N * K];
    memcpy(copy, got, sizeof got);
    assert_int_equal(dfsae_model_forward(f->m, f->X, N, got, NULL, NULL),
                     DFSAE_ERR_NON_FINITE_INPUT);
    assert_memory_equal(got, copy, sizeof got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metric_names),
        FIXTURE_TEST(test_metrics_match_reference),
        FIXTURE_TEST(test_matches_model_terms),
        FIXTURE_TEST(test_large_activations),
        FIXTURE_TEST(test_huge_activations),
        FIXTURE_TEST(test_non_finite_results),
        FIXTURE_TEST(test_partial_and_no_redundancy),
        FIXTURE_TEST(test_evaluate_bad_input),
        FIXTURE_TEST(test_forward_whole_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
