/* The input transform X' = (X - shift) * scale: setting and reading it,
 * refusals that keep the old one, forward/loss/grad/train on X equal to
 * the identity model on X' computed here, and finite-difference gradients
 * with respect to W and b with a transform set. */
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
#include "fixture.h"
#include "train_data.h"
#include "grad_fixtures.h"
#include "gradcheck.h"

static const grad_lambdas ALL = {.lse = 1.0, .var = 1.0, .tc = 1.0, .wr = 0.5};

/* Per-feature values away from the identity: shifts N(0, spread^2),
 * scales from 1 - spread/2 to 1 + spread of both signs (spread < 2). */
static void make_transform(size_t d, uint64_t seed, double spread, float *shift,
                           float *scale)
{
    grad_rng r;
    grad_rng_seed(&r, seed);
    for (size_t j = 0; j < d; ++j) {
        shift[j] = (float)(spread * grad_rng_normal(&r));
        double s = 1.0 - 0.5 * spread + 1.5 * spread * grad_rng_uniform(&r);
        scale[j] = (float)(j % 3 == 1 ? -s : s);
    }
}

/* X' as the library defines it, in float: (x - shift) * scale. */
static float *transformed(void **state, const float *X, size_t n, size_t d,
                          const float *shift, const float *scale, size_t nt)
{
    float *Xt = fx_alloc(state, n * d * sizeof *Xt);
    for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < d; ++j) {
            size_t t = nt == 1 ? 0 : j;
            Xt[i * d + j] = (X[i * d + j] - shift[t]) * scale[t];
        }
    return Xt;
}

/* A twin of m with the same parameters, options and run state and no
 * transform. */
static dfsae_model *identity_twin(void **state, dfsae_model *m)
{
    size_t d = dfsae_model_input_dim(m), k = dfsae_model_num_components(m);
    size_t np = dfsae_model_num_params(m);
    dfsae_model *t = fx_model(state, d, k, 0);
    float *p = fx_alloc(state, np * sizeof *p);
    assert_int_equal(dfsae_model_get_params(m, p, np), DFSAE_OK);
    assert_int_equal(dfsae_model_set_params(t, p, np), DFSAE_OK);
    for (int o = 0; o < DFSAE_MODEL_OPTION_COUNT; ++o) {
        double v;
        assert_int_equal(dfsae_model_get_option(m, o, &v), DFSAE_OK);
        assert_int_equal(dfsae_model_set_option(t, o, v), DFSAE_OK);
    }
    uint64_t epochs, rows, seed;
    assert_int_equal(dfsae_model_get_run_state(m, &epochs, &rows, &seed),
                     DFSAE_OK);
    assert_int_equal(dfsae_model_set_run_state(t, epochs, rows, seed),
                     DFSAE_OK);
    fx_drop(state, p);
    return t;
}

/* ---- set and get ------------------------------------------------------- */

static void expect_transform(const dfsae_model *m, const float *shift,
                             const float *scale, size_t n)
{
    float s[16], c[16];
    size_t got = 99;
    assert_int_equal(dfsae_model_get_transform(m, NULL, NULL, 0, &got),
                     DFSAE_OK);
    assert_int_equal(got, n);
    assert_int_equal(dfsae_model_get_transform(m, s, c, 16, &got), DFSAE_OK);
    assert_int_equal(got, n);
    if (n != 0) {
        assert_memory_equal(s, shift, n * sizeof *s);
        assert_memory_equal(c, scale, n * sizeof *c);
    }
}

static void test_set_and_get(void **state)
{
    api_alloc_ctl *ctl = fx_alloc_ctl(state);
    dfsae_model *m = fx_model_on(state, ctl, 5, 3, 1);
    expect_transform(m, NULL, NULL, 0);
    const float shift[5] = {1, -2, 3, 0.5f, 0}, scale[5] = {2, 0.25f, -1, 3, 1};
    assert_int_equal(dfsae_model_set_transform(m, shift, scale, 5), DFSAE_OK);
    expect_transform(m, shift, scale, 5);

    /* Refusals keep the transform in place. */
    const float nan_shift[5] = {1, NAN, 3, 0.5f, 0};
    const float zero_scale[5] = {2, 0.25f, 0, 3, 1};
    const float inf_scale[1] = {INFINITY};
    const struct {
        const float *shift, *scale;
        size_t n;
        int want;
    } bad[] = {
        {shift, scale, 2, DFSAE_ERR_SIZE_MISMATCH},
        {shift, scale, 6, DFSAE_ERR_SIZE_MISMATCH},
        {nan_shift, scale, 5, DFSAE_ERR_NON_FINITE_INPUT},
        {shift, zero_scale, 5, DFSAE_ERR_INVALID_ARG},
        {shift, inf_scale, 1, DFSAE_ERR_NON_FINITE_INPUT},
        {NULL, scale, 5, DFSAE_ERR_NULL_ARG},
        {shift, NULL, 1, DFSAE_ERR_NULL_ARG},
        {shift, scale, 0, DFSAE_ERR_INVALID_ARG},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        assert_int_equal(
            dfsae_model_set_transform(m, bad[i].shift, bad[i].scale, bad[i].n),
            bad[i].want);
        assert_non_null(strstr(dfsae_model_last_error(m), "set_transform"));
        expect_transform(m, shift, scale, 5);
    }
    assert_int_equal(dfsae_model_set_transform(NULL, NULL, NULL, 0),
                     DFSAE_ERR_NULL_ARG);

    /* Out of memory: the old transform stays. */
    ctl->fail_after = ctl->allocs;
    const float g_shift = 0.5f, g_scale = 1.0f / 255.0f;
    assert_int_equal(dfsae_model_set_transform(m, &g_shift, &g_scale, 1),
                     DFSAE_ERR_NO_MEMORY);
    expect_transform(m, shift, scale, 5);
    ctl->fail_after = SIZE_MAX;
    assert_int_equal(dfsae_model_set_transform(m, &g_shift, &g_scale, 1),
                     DFSAE_OK);
    expect_transform(m, &g_shift, &g_scale, 1);

    /* get: a short buffer is refused but the length is reported. */
    assert_int_equal(dfsae_model_set_transform(m, shift, scale, 5), DFSAE_OK);
    float s[4], c[4];
    size_t n = 0;
    assert_int_equal(dfsae_model_get_transform(m, s, NULL, 4, &n),
                     DFSAE_ERR_SIZE_MISMATCH);
    assert_int_equal(n, 5);
    assert_int_equal(dfsae_model_get_transform(m, NULL, c, 4, &n),
                     DFSAE_ERR_SIZE_MISMATCH);
    assert_int_equal(dfsae_model_get_transform(m, s, c, 4, NULL),
                     DFSAE_ERR_NULL_ARG);
    assert_int_equal(dfsae_model_get_transform(NULL, s, c, 4, &n),
                     DFSAE_ERR_NULL_ARG);

    assert_int_equal(dfsae_model_set_transform(m, NULL, NULL, 0), DFSAE_OK);
    expect_transform(m, NULL, NULL, 0);
    fx_drop(state, m); /* a test_malloc allocator: before returning */
    assert_int_equal(ctl->allocs, ctl->frees);
    assert_int_equal(ctl->live_bytes, 0);
}

/* ---- the transformed model is the identity model on X' ----------------- */

/* Both sides sum the same D + 1 float products in different orders (other
 * blocks; reference BLAS adds them one by one), so each Z differs by at
 * most 2 gamma_{D+1} S, S = sum |x'_j w_j| + |b| (Higham's dot-product
 * bound). phi is 1-Lipschitz and rounds to a few ulp; a row's softmax
 * moves by at most twice its largest input change. Any real mistake (a
 * wrong shift, scale or slice) is O(1) above these bounds. */
static void expect_forward_close(void **state, const dfsae_model *m,
                                 const float *Xt, size_t n, const float *got,
                                 const float *want, const char *what)
{
    size_t d = dfsae_model_input_dim(m), k = dfsae_model_num_components(m);
    size_t np = dfsae_model_num_params(m), nk = n * k;
    float *p = fx_alloc(state, np * sizeof *p);
    double *bound = fx_alloc(state, k * sizeof *bound);
    assert_int_equal(dfsae_model_get_params(m, p, np), DFSAE_OK);
    const double u = 0x1p-24, gamma = 2.0 * (double)(d + 2) * u;
    for (size_t i = 0; i < n; ++i) {
        double row_max = 0.0;
        for (size_t c = 0; c < k; ++c) {
            double s = fabs(p[k * d + c]);
            for (size_t j = 0; j < d; ++j)
                s += fabs((double)Xt[i * d + j] * p[c * d + j]);
            bound[c] = gamma * s + 4.0 * u * fabs(want[i * k + c]);
            row_max = fmax(row_max, bound[c]);
        }
        for (size_t part = 0; part < 3; ++part)
            for (size_t c = 0; c < k; ++c) {
                size_t at = part * nk + i * k + c;
                double tol = part == 2 ? 2.0 * row_max + 4.0 * u : bound[c];
                if (!(fabs((double)got[at] - want[at]) <= tol))
                    fail_msg("%s %c[%zu,%zu]: %.9g, want %.9g (bound %.3g)",
                             what, "AZR"[part], i, c, (double)got[at],
                             (double)want[at], tol);
            }
    }
    fx_drop(state, bound);
    fx_drop(state, p);
}

/* Loss, terms and gradient are bit-identical (X' is formed in float as
 * here); forward's products run in other blocks and match to the
 * rounding bound of expect_forward_close. D = 7
 * takes whole rows, 300 and 1500 column slices (the last one partial). */
static void check_equivalence(void **state, size_t d, size_t k, size_t n,
                              size_t nt, int act)
{
    dfsae_model *m =
        fx_keep_model(state, grad_model_new(d, k, 40 + d, act, ALL));
    float *shift = fx_alloc(state, d * sizeof *shift),
          *scale = fx_alloc(state, d * sizeof *scale);
    make_transform(d, 41 + d, 1.8, shift, scale);
    assert_int_equal(dfsae_model_set_transform(m, shift, scale, nt), DFSAE_OK);
    dfsae_model *id = identity_twin(state, m);
    grad_rng r;
    grad_rng_seed(&r, 42 + d);
    float *X = fx_alloc(state, n * d * sizeof *X);
    grad_fill_normal(&r, X, n * d, 3.0);
    float *Xt = transformed(state, X, n, d, shift, scale, nt);

    size_t np = dfsae_model_num_params(m);
    float *g1 = fx_alloc(state, np * sizeof *g1),
          *g2 = fx_alloc(state, np * sizeof *g2);
    double l1, l2, t1[DFSAE_TERM_COUNT], t2[DFSAE_TERM_COUNT];
    assert_int_equal(dfsae_model_grad(m, X, n, g1, &l1, t1, DFSAE_TERM_COUNT),
                     DFSAE_OK);
    assert_int_equal(dfsae_model_grad(id, Xt, n, g2, &l2, t2, DFSAE_TERM_COUNT),
                     DFSAE_OK);
    assert_memory_equal(&l1, &l2, sizeof l1);
    assert_memory_equal(t1, t2, sizeof t1);
    assert_memory_equal(g1, g2, np * sizeof *g1);
    assert_int_equal(dfsae_model_loss(m, X, n, &l1, NULL, 0), DFSAE_OK);
    assert_memory_equal(&l1, &l2, sizeof l1);

    const size_t nk = n * k;
    float *A1 = fx_alloc(state, 3 * nk * sizeof *A1),
          *A2 = fx_alloc(state, 3 * nk * sizeof *A2);
    assert_int_equal(dfsae_model_forward(m, X, n, A1, A1 + nk, A1 + 2 * nk),
                     DFSAE_OK);
    assert_int_equal(dfsae_model_forward(id, Xt, n, A2, A2 + nk, A2 + 2 * nk),
                     DFSAE_OK);
    char what[64];
    snprintf(what, sizeof what, "%s D=%zu n=%zu", dfsae_activation_name(act), d,
             nt);
    expect_forward_close(state, id, Xt, n, A1, A2, what);
    /* the caller checks many shapes: free this one's things now */
    const void *mine[] = {A1, A2, g1, g2, Xt, X, id, scale, shift, m};
    for (size_t i = 0; i < sizeof mine / sizeof *mine; ++i)
        fx_drop(state, mine[i]);
}

static void test_same_as_identity_on_transformed_inputs(void **state)
{
    const size_t dims[] = {7, 300, 1500};
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; ++i) {
        check_equivalence(state, dims[i], 9, 37, dims[i], DFSAE_ACT_RELU);
        check_equivalence(state, dims[i], 9, 37, 1, DFSAE_ACT_SOFTPLUS);
    }
    check_equivalence(state, 20, 6, 3000, 20, DFSAE_ACT_TANH); /* many blocks */
}

/* Training with a transform is training the identity model on X': the
 * same parameters to the bit after shuffled epochs. */
static void test_training_on_transformed_inputs(void **state)
{
    const size_t d = 6, k = 5, n = 50;
    dfsae_model *m =
        fx_keep_model(state, grad_model_new(d, k, 60, DFSAE_ACT_RELU, ALL));
    float shift[6], scale[6];
    make_transform(d, 61, 1.8, shift, scale);
    assert_int_equal(dfsae_model_set_transform(m, shift, scale, d), DFSAE_OK);
    dfsae_model *id = identity_twin(state, m);
    grad_rng r;
    grad_rng_seed(&r, 62);
    float X[50 * 6];
    grad_fill_normal(&r, X, n * d, 2.0);
    float *Xt = transformed(state, X, n, d, shift, scale, d);
    size_t np = dfsae_model_num_params(m);
    dfsae_optimizer *o1 = fx_optimizer(state, DFSAE_ADAM, np);
    dfsae_optimizer *o2 = fx_optimizer(state, DFSAE_ADAM, np);
    dfsae_train_config *c = fx_train_config(state);
    train_set(c, DFSAE_TRAIN_EPOCHS, 3);
    train_set(c, DFSAE_TRAIN_BATCH_SIZE, 16);
    assert_int_equal(dfsae_model_train(m, o1, X, n, c, NULL, NULL), DFSAE_OK);
    assert_int_equal(dfsae_model_train(id, o2, Xt, n, c, NULL, NULL), DFSAE_OK);
    float p1[6 * 5 + 5], p2[6 * 5 + 5];
    assert_int_equal(dfsae_model_get_params(m, p1, np), DFSAE_OK);
    assert_int_equal(dfsae_model_get_params(id, p2, np), DFSAE_OK);
    assert_memory_equal(p1, p2, sizeof p1);
    float p0[6 * 5 + 5];
    dfsae_model *fresh =
        fx_keep_model(state, grad_model_new(d, k, 60, DFSAE_ACT_RELU, ALL));
    assert_int_equal(dfsae_model_get_params(fresh, p0, np), DFSAE_OK);
    assert_memory_not_equal(p0, p1, sizeof p0);
}

/* ---- finite differences ------------------------------------------------ */

/* dL/dW and dL/db with X' fixed, every term on, both Gram sides, per
 * feature and global transforms. X' stays of order 1 (the inputs are
 * standard normal), so that tanh does not saturate and the variances stay
 * well away from 0, where finite differences lose their accuracy. */
static void test_gradient_with_transform(void **state)
{
    const size_t shapes[][3] = {{5, 10, 6}, {7, 6, 24}};
    const int sides[] = {DFSAE_GRAM_FEATURE, DFSAE_GRAM_SAMPLE};
    const int acts[] = {DFSAE_ACT_RELU, DFSAE_ACT_SOFTPLUS, DFSAE_ACT_TANH};
    gradcheck_opts o;
    gradcheck_default_opts(&o);
    for (size_t s = 0; s < 2; ++s)
        for (size_t a = 0; a < 3; ++a)
            for (int side = 0; side < 2; ++side)
                for (int global = 0; global < 2; ++global) {
                    size_t d = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
                    dfsae_model *m = fx_keep_model(
                        state, grad_model_new(d, k, 70 + s, acts[a], ALL));
                    grad_set(m, DFSAE_MODEL_GRAM_SIDE, sides[side]);
                    float shift[8], scale[8];
                    make_transform(d, 71 + s, 0.8, shift, scale);
                    assert_int_equal(dfsae_model_set_transform(m, shift, scale,
                                                               global ? 1 : d),
                                     DFSAE_OK);
                    float *X = fx_keep(
                        state, grad_inputs_new(m, n, 72 + s, GRAD_KINK_MARGIN));
                    char label[80];
                    snprintf(label, sizeof label,
                             "transform %s %s D=%zu K=%zu B=%zu side %d",
                             global ? "global" : "per-feature",
                             dfsae_activation_name(acts[a]), d, k, n,
                             sides[side]);
                    gradcheck_result res;
                    gradcheck_assert(m, X, n, &o, label, &res);
                    fx_drop(state, X);
                    fx_drop(state, m);
                }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(test_set_and_get),
        FIXTURE_TEST(test_same_as_identity_on_transformed_inputs),
        FIXTURE_TEST(test_training_on_transformed_inputs),
        FIXTURE_TEST(test_gradient_with_transform),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
