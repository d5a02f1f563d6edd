/* L_lse = -sum_i log sum_j exp(-A_ij): finite differences, the identity
 * dL/dA = softmax(-A), shift invariance, huge activations, the mean
 * reduction. White-box (INTERNAL) for the term-level identity: it calls
 * the term's eval on a given A, which no public entry point exposes. */
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
#include "loss/loss.h"

static const grad_lambdas LSE = {.lse = 1.0, .var = 0.0, .tc = 0.0, .wr = 0.0};

static void fd_lse_wide(void **state)
{
    (void)state;
    gradcheck_opts o;
    gradcheck_default_opts(&o);
    grad_check_all_activations(
        (grad_case){"lse", GRAD_SHAPE_WIDE, 0, LSE, DFSAE_GRAM_AUTO, 101}, &o);
}

static void fd_lse_tall(void **state)
{
    (void)state;
    gradcheck_opts o;
    gradcheck_default_opts(&o);
    grad_check_all_activations(
        (grad_case){"lse", GRAD_SHAPE_TALL, 0, LSE, DFSAE_GRAM_AUTO, 102}, &o);
}

static void fd_lse_mean_reduction(void **state)
{
    gradcheck_opts o;
    gradcheck_default_opts(&o);
    int failed = 0;
    for (int act = 0; act < DFSAE_ACT_COUNT; ++act) {
        grad_case c = {"lse mean", GRAD_SHAPE_TALL, act,
                       LSE,        DFSAE_GRAM_AUTO, 103};
        dfsae_model *m =
            fx_keep_model(state, grad_model_new(c.d, c.k, c.seed, act, LSE));
        grad_set(m, DFSAE_MODEL_LSE_REDUCTION, DFSAE_REDUCE_MEAN);
        float *X = fx_keep(
            state, grad_inputs_new(m, c.n, c.seed + 1, GRAD_KINK_MARGIN));
        /* Under softmax the check is noise-limited as in grad_check_case:
         * at the default step 2^-7 the measured relative error was 1.4e-3
         * (0.72 of rtol), at 2^-4 2.7e-4. */
        gradcheck_opts step = o;
        if (grad_is_softmax_lse_alone(m))
            grad_lse_softmax_opts(m, X, c.n, 0x1p-4, &step);
        gradcheck_result r;
        char label[64];
        snprintf(label, sizeof label, "lse mean %s",
                 dfsae_activation_name(act));
        int ok = gradcheck_run(m, X, c.n, NULL, &step, label, &r);
        if (getenv("DFSAE_GRADCHECK_VERBOSE") != NULL)
            gradcheck_print(label, &r);
        failed += !ok;
        fx_drop(state, X);
        fx_drop(state, m);
    }
    if (failed)
        fail_msg("lse mean: %d activations failed", failed);
}

/* Mean reduction: the value is the sum's over B, and so is the gradient. */
static void mean_reduction_is_sum_over_batch(void **state)
{
    const size_t n = 9;
    dfsae_model *m = fx_keep_model(
        state, grad_model_new(5, 7, 104, DFSAE_ACT_SOFTPLUS, LSE));
    float *X = fx_keep(state, grad_inputs_new(m, n, 105, 0.0));
    size_t np = dfsae_model_num_params(m);
    float *gs = fx_alloc(state, np * sizeof *gs),
          *gm = fx_alloc(state, np * sizeof *gm);
    assert_non_null(gs);
    assert_non_null(gm);
    double ts[DFSAE_TERM_COUNT], tm[DFSAE_TERM_COUNT], tot;
    assert_int_equal(dfsae_model_grad(m, X, n, gs, &tot, ts, DFSAE_TERM_COUNT),
                     DFSAE_OK);
    grad_set(m, DFSAE_MODEL_LSE_REDUCTION, DFSAE_REDUCE_MEAN);
    assert_int_equal(dfsae_model_grad(m, X, n, gm, &tot, tm, DFSAE_TERM_COUNT),
                     DFSAE_OK);
    if (!(fabs(tm[DFSAE_TERM_LSE] * (double)n - ts[DFSAE_TERM_LSE]) <=
          1e-14 * fabs(ts[DFSAE_TERM_LSE])))
        fail_msg("mean %.17g * %zu != sum %.17g", tm[DFSAE_TERM_LSE], n,
                 ts[DFSAE_TERM_LSE]);
    assert_true(tot == tm[DFSAE_TERM_LSE]);
    /* The gradient is a float sum over rows of scaled responsibilities:
     * scaling before or after the sum differs by float rounding of the
     * sum, relative to its largest entries. */
    double gmax = 0.0;
    for (size_t i = 0; i < np; ++i)
        gmax = fmax(gmax, fabs((double)gs[i]));
    for (size_t i = 0; i < np; ++i) {
        double want = (double)gs[i] / (double)n;
        if (!(fabs((double)gm[i] - want) <= 1e-6 * gmax / (double)n))
            fail_msg("grad[%zu]: mean %.9g, sum/B %.9g", i, (double)gm[i],
                     want);
    }
    fx_drop(state, gs);
    fx_drop(state, gm);
    fx_drop(state, X);
    fx_drop(state, m);
}

/* The lse term run as the objective runs it, for a given A: the row
 * statistics of the front sweep, the term's parts, and the backward sweep
 * through the identity, so the sweep's output is dL/dA itself. The term
 * sizes its own scratch. */
typedef struct lse_env {
    dfsae_loss_opts opt;
    dfsae_loss_ctx ctx;
} lse_env;

#define MAX_K 64
#define MAX_N 16

static float term_f32[2 * MAX_N];
static double term_f64[2 * MAX_N + 8];
static float parts_f32[DFSAE_PARTS_F32 * MAX_K];
static double parts_f64[DFSAE_PARTS_F64 * MAX_K];
static double bias_sums[MAX_K];

static void lse_env_init(lse_env *e, const float *A, size_t n, size_t k,
                         int reduction)
{
    const dfsae_loss_ops *lse = dfsae__loss_terms[DFSAE_TERM_LSE];
    dfsae_scratch_size size;
    assert_true(k <= MAX_K && n <= MAX_N);
    assert_true(lse->scratch_size(n, k, 0, DFSAE_GRAM_FEATURE, &size));
    assert_true(size.f32 <= 2 * MAX_N && size.f64 <= 2 * MAX_N + 8);
    memset(e, 0, sizeof *e);
    e->opt.lse_reduction = reduction;
    e->ctx.n = e->ctx.n_batch = n;
    e->ctx.k = k;
    e->ctx.A = A;
    e->ctx.opt = &e->opt;
    e->ctx.scratch_f32 = term_f32;
    e->ctx.scratch_f64 = term_f64;
}

/* The term's value; with dA non-NULL also writes dL/dA there. */
static double lse_eval(lse_env *e, float *dA)
{
    const size_t n = e->ctx.n, k = e->ctx.k;
    const dfsae_loss_ops *lse = dfsae__loss_terms[DFSAE_TERM_LSE];
    lse->rows(&e->ctx, 0, n);
    lse->rows_done(&e->ctx);
    dfsae_dA_parts parts;
    dfsae__dA_parts_begin(&parts, k, parts_f32, parts_f64);
    double value = lse->eval(&e->ctx, 1.0, dA != NULL ? &parts : NULL, NULL);
    if (dA != NULL) {
        float db[MAX_K];
        dfsae__backward_sweep(&e->ctx, &parts,
                              dfsae__activations[DFSAE_ACT_IDENTITY], 0.0, dA,
                              db, bias_sums);
    }
    return value;
}

/* dL_lse/dA_ij = R_ij: the responsibilities that dfsae_model_forward
 * returns equal the term's gradient with respect to A to a few ulps, both
 * equal softmax(-A) computed in double, and both equal a finite
 * difference of the term's value in A. That value sums float exponentials
 * e_j (a few ulps each) in double: moving A_ij moves only e_j, so the
 * difference carries noise of about 2 * 2 ulp * R_ij / (2h); h = 2^-6
 * keeps it near 1e-5 R_ij while the 4-point truncation (h^4) stays
 * below 1e-7. */
static void dlse_dA_is_the_responsibilities(void **state)
{
    const size_t n = 7, k = 9;
    for (int red = 0; red <= 1; ++red) {
        dfsae_model *m =
            fx_keep_model(state, grad_model_new(6, k, 106 + (uint64_t)red,
                                                DFSAE_ACT_SOFTPLUS, LSE));
        float *X = fx_keep(state, grad_inputs_new(m, n, 107, 0.0));
        float *A = fx_alloc(state, n * k * sizeof *A),
              *R = fx_alloc(state, n * k * sizeof *R);
        float *dA = fx_alloc(state, n * k * sizeof *dA);
        double *Ad = fx_alloc(state, n * k * sizeof *Ad);
        double *Rref = fx_alloc(state, n * k * sizeof *Rref);
        assert_non_null(A);
        assert_non_null(R);
        assert_non_null(dA);
        assert_non_null(Ad);
        assert_non_null(Rref);
        assert_int_equal(dfsae_model_forward(m, X, n, A, NULL, R), DFSAE_OK);
        lse_env env;
        lse_env_init(&env, A, n, k, red);
        lse_eval(&env, dA);
        for (size_t i = 0; i < n * k; ++i)
            Ad[i] = A[i];
        grad_ref_softmax_neg(Ad, n, k, Rref);
        const double scale = red == DFSAE_REDUCE_MEAN ? 1.0 / (double)n : 1.0;
        double worst_ulps = 0.0, worst_fd = 0.0;
        for (size_t i = 0; i < n * k; ++i) {
            double r = R[i], ulp = FLT_EPSILON * fabs(r);
            double ga = dA[i] / scale;
            double ref = Rref[i];
            worst_ulps = fmax(worst_ulps, fabs(ga - r) / ulp);
            worst_ulps = fmax(worst_ulps, fabs(r - ref) / ulp);
            if (!(fabs(ga - r) <= 4.0 * ulp && fabs(r - ref) <= 4.0 * ulp))
                fail_msg("A[%zu]: dL/dA %.9g (x B for mean), R %.9g, "
                         "softmax(-A) %.12g",
                         i, ga, r, ref);
            /* 4-point central difference in A with an exact float step. */
            const float h = 0x1p-6f, a0 = A[i];
            double Ls[4];
            const float steps[4] = {h, -h, 2 * h, -2 * h};
            for (int s = 0; s < 4; ++s) {
                A[i] = a0 + steps[s];
                Ls[s] = lse_eval(&env, NULL);
            }
            A[i] = a0;
            double d1 = (Ls[0] - Ls[1]) / (2.0 * h);
            double d2 = (Ls[2] - Ls[3]) / (4.0 * h);
            double fd = (4.0 * d1 - d2) / 3.0;
            worst_fd = fmax(worst_fd, fabs(fd - dA[i]) / (scale * r));
            if (!(fabs(fd - dA[i]) <=
                  (8.0 * FLT_EPSILON / h * r + 4.0 * ulp + 1e-9) * scale))
                fail_msg("A[%zu]: finite difference %.12g, dL/dA %.9g", i, fd,
                         (double)dA[i]);
        }
        if (getenv("DFSAE_GRADCHECK_VERBOSE") != NULL)
            print_message("lse identity (%s): max |dL/dA - R| and |R - "
                          "softmax| %.2f ulp, max |fd - dL/dA| / R %.2e\n",
                          red ? "mean" : "sum", worst_ulps, worst_fd);
        fx_drop(state, A);
        fx_drop(state, R);
        fx_drop(state, dA);
        fx_drop(state, Ad);
        fx_drop(state, Rref);
        fx_drop(state, X);
        fx_drop(state, m);
    }
}

/* Shift invariance. log sum_j exp(-(A_ij + c)) = log sum_j exp(-A_ij) - c
 * for each row, so L_lse(A + c) = -sum_i (log sum_j exp(-A_ij) - c)
 * = L_lse(A) + B c: the loss moves by +B c (it falls by B c when every
 * activation falls by c), and softmax(-A), the gradient, does not move.
 * With A on a 2^-10 grid in [0, 8) and c = 1024 every A + c is exact in
 * float, so the identity holds to double rounding. */
static void lse_shift_invariance_exact(void **state)
{
    (void)state;
    const size_t n = 5, k = 11;
    const float c = 1024.0f;
    float A[5 * 11], As[5 * 11], g[5 * 11] = {0}, gs[5 * 11] = {0};
    grad_rng r;
    grad_rng_seed(&r, 108);
    for (size_t i = 0; i < n * k; ++i) {
        A[i] = (float)grad_rng_below(&r, 8192) * 0x1p-10f;
        As[i] = A[i] + c;
        assert_true((double)As[i] - (double)A[i] == (double)c);
    }
    lse_env e0, e1;
    lse_env_init(&e0, A, n, k, DFSAE_REDUCE_SUM);
    lse_env_init(&e1, As, n, k, DFSAE_REDUCE_SUM);
    double L0 = lse_eval(&e0, g), L1 = lse_eval(&e1, gs);
    double want = L0 + (double)n * c;
    if (!(fabs(L1 - want) <= 1e-13 * fabs(want)))
        fail_msg("L(A + c) = %.17g, L(A) + B c = %.17g", L1, want);
    for (size_t i = 0; i < n * k; ++i)
        if (!(fabs(gs[i] - g[i]) <= 2.0f * FLT_EPSILON * g[i]))
            fail_msg("dL/dA[%zu] moved under the shift: %.9g -> %.9g", i,
                     (double)g[i], (double)gs[i]);
}

/* The same through the public API: identity activation, b + c. A + c is
 * rounded to float here (at most half an ulp of c + max A per entry, and
 * half an ulp each in A itself), and each row's gradient sums to 1, so
 * |dL - B c| <= B * 1.5 ulp(c + max A) (plus double rounding). */
static void lse_shift_invariance_public(void **state)
{
    const size_t n = 12, k = 8, d = 5;
    const float c = 256.0f;
    dfsae_model *m = fx_keep_model(
        state, grad_model_new(d, k, 109, DFSAE_ACT_IDENTITY, LSE));
    float *X = fx_keep(state, grad_inputs_new(m, n, 110, 0.0));
    size_t np = dfsae_model_num_params(m);
    float *p = fx_alloc(state, np * sizeof *p),
          *A = fx_alloc(state, n * k * sizeof *A);
    assert_non_null(p);
    assert_non_null(A);
    assert_int_equal(dfsae_model_get_params(m, p, np), DFSAE_OK);
    double L0, L1;
    assert_int_equal(dfsae_model_loss(m, X, n, &L0, NULL, 0), DFSAE_OK);
    assert_int_equal(dfsae_model_forward(m, X, n, A, NULL, NULL), DFSAE_OK);
    double amax = 0.0;
    for (size_t i = 0; i < n * k; ++i)
        amax = fmax(amax, fabs((double)A[i]));
    for (size_t j = 0; j < k; ++j)
        p[k * d + j] += c;
    assert_int_equal(dfsae_model_set_params(m, p, np), DFSAE_OK);
    assert_int_equal(dfsae_model_loss(m, X, n, &L1, NULL, 0), DFSAE_OK);
    double ulp = ldexp(1.0, ilogb(c + amax) - 23);
    double bound = (double)n * 1.5 * ulp + 1e-12 * fabs(L1);
    if (!(fabs((L1 - L0) - (double)n * c) <= bound))
        fail_msg("L moved by %.12g, expected B c = %.12g (bound %.3g)", L1 - L0,
                 (double)n * c, bound);
    fx_drop(state, p);
    fx_drop(state, A);
    fx_drop(state, X);
    fx_drop(state, m);
}

/* Activations in [2800, 1e4] (maxima near 2800 in real training):
 * exp(-A) underflows to 0 in double, so only a stable log-sum-exp is
 * finite. Term level against the double reference, and the public
 * gradient stays finite. */
static void lse_finite_for_huge_activations(void **state)
{
    const size_t n = 6, k = 16;
    float A[6 * 16], dA[6 * 16] = {0};
    double Ad[6 * 16], terms[DFSAE_TERM_COUNT];
    grad_rng r;
    grad_rng_seed(&r, 111);
    for (size_t i = 0; i < n * k; ++i) {
        A[i] = (float)(2800.0 + 7200.0 * grad_rng_uniform(&r));
        Ad[i] = A[i];
    }
    lse_env env;
    lse_env_init(&env, A, n, k, DFSAE_REDUCE_SUM);
    double L = lse_eval(&env, dA);
    grad_ref_opts ro = grad_ref_defaults();
    grad_ref_terms(&ro, Ad, n, k, NULL, 0, terms);
    assert_true(isfinite(L));
    if (!(fabs(L - terms[DFSAE_TERM_LSE]) <= 1e-12 * fabs(L)))
        fail_msg("L_lse %.17g, reference %.17g", L, terms[DFSAE_TERM_LSE]);
    for (size_t i = 0; i < n; ++i) {
        double s = 0.0;
        for (size_t j = 0; j < k; ++j) {
            assert_true(isfinite(dA[i * k + j]) && dA[i * k + j] >= 0.0f);
            s += dA[i * k + j];
        }
        if (!(fabs(s - 1.0) <= 1e-6))
            fail_msg("row %zu of dL/dA sums to %.9g", i, s);
    }

    /* Public: relu with biases of 3000..9000 and all terms on. */
    const size_t d = 4, kk = 6, nn = 10;
    grad_lambdas all = {.lse = 1.0, .var = 1.0, .tc = 1.0, .wr = 1.0};
    dfsae_model *m =
        fx_keep_model(state, grad_model_new(d, kk, 112, DFSAE_ACT_RELU, all));
    float *X = fx_keep(state, grad_inputs_new(m, nn, 113, 0.0));
    size_t np = dfsae_model_num_params(m);
    float *p = fx_alloc(state, np * sizeof *p),
          *g = fx_alloc(state, np * sizeof *g);
    float *Af = fx_alloc(state, nn * kk * sizeof *Af);
    double *Ab = fx_alloc(state, nn * kk * sizeof *Ab);
    assert_non_null(p);
    assert_non_null(g);
    assert_non_null(Af);
    assert_non_null(Ab);
    assert_int_equal(dfsae_model_get_params(m, p, np), DFSAE_OK);
    for (size_t j = 0; j < kk; ++j)
        p[kk * d + j] = (float)(3000.0 + 1000.0 * (double)j);
    assert_int_equal(dfsae_model_set_params(m, p, np), DFSAE_OK);
    double total, t[DFSAE_TERM_COUNT];
    int st = dfsae_model_grad(m, X, nn, g, &total, t, DFSAE_TERM_COUNT);
    if (st != DFSAE_OK)
        fail_msg("grad at A ~ 3000..8000: %s", dfsae_model_last_error(m));
    for (size_t i = 0; i < np; ++i)
        assert_true(isfinite(g[i]));
    assert_int_equal(dfsae_model_forward(m, X, nn, Af, NULL, NULL), DFSAE_OK);
    for (size_t i = 0; i < nn * kk; ++i)
        Ab[i] = Af[i];
    grad_ref_terms(&ro, Ab, nn, kk, p, d, terms);
    if (!(fabs(t[DFSAE_TERM_LSE] - terms[DFSAE_TERM_LSE]) <=
          1e-12 * fabs(terms[DFSAE_TERM_LSE])))
        fail_msg("public L_lse %.17g, reference %.17g", t[DFSAE_TERM_LSE],
                 terms[DFSAE_TERM_LSE]);
    fx_drop(state, p);
    fx_drop(state, g);
    fx_drop(state, Af);
    fx_drop(state, Ab);
    fx_drop(state, X);
    fx_drop(state, m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fd_lse_wide),
        cmocka_unit_test(fd_lse_tall),
        FIXTURE_TEST(fd_lse_mean_reduction),
        FIXTURE_TEST(mean_reduction_is_sum_over_batch),
        FIXTURE_TEST(dlse_dA_is_the_responsibilities),
        cmocka_unit_test(lse_shift_invariance_exact),
        FIXTURE_TEST(lse_shift_invariance_public),
        FIXTURE_TEST(lse_finite_for_huge_activations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
