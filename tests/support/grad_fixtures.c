/* Seeded data and models for the gradient tests. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "grad_fixtures.h"
#include "splitmix64.h"

void grad_rng_seed(grad_rng *r, uint64_t seed)
{
    r->state = seed;
}

uint64_t grad_rng_next(grad_rng *r)
{
    return splitmix64_next(&r->state);
}

double grad_rng_uniform(grad_rng *r)
{
    return (double)(grad_rng_next(r) >> 11) * 0x1.0p-53;
}

double grad_rng_normal(grad_rng *r)
{
    /* 1 - u keeps the logarithm's argument in (0, 1]. */
    double u = 1.0 - grad_rng_uniform(r), v = grad_rng_uniform(r);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

size_t grad_rng_below(grad_rng *r, size_t n)
{
    return (size_t)(grad_rng_uniform(r) * (double)n) % n;
}

void grad_fill_normal(grad_rng *r, float *x, size_t n, double scale)
{
    for (size_t i = 0; i < n; ++i)
        x[i] = (float)(scale * grad_rng_normal(r));
}

void grad_set(dfsae_model *m, int param, double value)
{
    int st = dfsae_model_set_option(m, param, value);
    if (st != DFSAE_OK)
        fail_msg("set_param(%d, %g): %s", param, value,
                 dfsae_model_last_error(m));
}

dfsae_model *grad_model_new(size_t d, size_t k, uint64_t seed, int activation,
                            grad_lambdas l)
{
    dfsae_model *m = NULL;
    int st = dfsae_model_create(d, k, seed, NULL, &m);
    if (st != DFSAE_OK || m == NULL)
        fail_msg("model_create(%zu, %zu): %s", d, k, dfsae_status_string(st));
    grad_set(m, DFSAE_MODEL_ACTIVATION, activation);
    grad_set(m, DFSAE_MODEL_LAMBDA_LSE, l.lse);
    grad_set(m, DFSAE_MODEL_LAMBDA_VAR, l.var);
    grad_set(m, DFSAE_MODEL_LAMBDA_TC, l.tc);
    grad_set(m, DFSAE_MODEL_LAMBDA_WR, l.wr);
    return m;
}

int grad_activation_has_kink(int activation)
{
    return activation == DFSAE_ACT_RELU || activation == DFSAE_ACT_LEAKY_RELU;
}

/* Pre-activations of one row, from the public forward pass. */
static double row_min_abs_z(dfsae_model *m, const float *x, float *a, float *z)
{
    size_t k = dfsae_model_num_components(m);
    if (dfsae_model_forward(m, x, 1, a, z, NULL) != DFSAE_OK)
        fail_msg("forward: %s", dfsae_model_last_error(m));
    double lo = INFINITY;
    for (size_t j = 0; j < k; ++j)
        lo = fmin(lo, fabs((double)z[j]));
    return lo;
}

float *grad_inputs_new(dfsae_model *m, size_t n, uint64_t seed, double margin)
{
    size_t d = dfsae_model_input_dim(m), k = dfsae_model_num_components(m);
    float *X = malloc(n * d * sizeof *X);
    float *a = malloc(k * sizeof *a), *z = malloc(k * sizeof *z);
    assert_non_null(X);
    assert_non_null(a);
    assert_non_null(z);
    grad_rng r;
    grad_rng_seed(&r, seed);
    grad_fill_normal(&r, X, n * d, 1.0);
    double act;
    assert_int_equal(dfsae_model_get_option(m, DFSAE_MODEL_ACTIVATION, &act),
                     DFSAE_OK);
    if (margin > 0.0 && grad_activation_has_kink((int)act)) {
        for (size_t i = 0; i < n; ++i)
            for (int tries = 0; tries < 200; ++tries) {
                if (row_min_abs_z(m, X + i * d, a, z) > margin)
                    break;
                grad_fill_normal(&r, X + i * d, d, 1.0);
            }
    }
    free(a);
    free(z);
    return X;
}

static double option(dfsae_model *m, int key)
{
    double v = NAN;
    assert_int_equal(dfsae_model_get_option(m, key, &v), DFSAE_OK);
    return v;
}

int grad_is_softmax_lse_alone(dfsae_model *m)
{
    return option(m, DFSAE_MODEL_ACTIVATION) == DFSAE_ACT_SOFTMAX &&
           option(m, DFSAE_MODEL_LAMBDA_VAR) == 0.0 &&
           option(m, DFSAE_MODEL_LAMBDA_TC) == 0.0 &&
           option(m, DFSAE_MODEL_LAMBDA_WR) == 0.0;
}

double grad_lse_rounding_noise(dfsae_model *m, const float *X, size_t n)
{
    size_t k = dfsae_model_num_components(m);
    float *A = malloc(n * k * sizeof *A), *R = malloc(n * k * sizeof *R);
    assert_non_null(A);
    assert_non_null(R);
    assert_int_equal(dfsae_model_forward(m, X, n, A, NULL, R), DFSAE_OK);
    double sum = 0.0;
    for (size_t i = 0; i < n * k; ++i)
        sum += (double)A[i] * R[i];
    free(A);
    free(R);
    double noise = 0x1p-24 * fabs(option(m, DFSAE_MODEL_LAMBDA_LSE)) * sum;
    if (option(m, DFSAE_MODEL_LSE_REDUCTION) == DFSAE_REDUCE_MEAN)
        noise /= (double)n;
    return noise;
}

void grad_noise_opts(double noise, double h, gradcheck_opts *o)
{
    o->h = h;
    o->atol = fmax(o->atol, 4.0 * noise / h);
}

void grad_lse_softmax_opts(dfsae_model *m, const float *X, size_t n, double h,
                           gradcheck_opts *o)
{
    grad_noise_opts(grad_lse_rounding_noise(m, X, n), h, o);
}

double grad_measured_noise(dfsae_model *m, const float *X, size_t n)
{
    enum { SIDE = 8, POINTS = 2 * SIDE + 1 };
    const double tau = 0x1p-18;
    size_t np = dfsae_model_num_params(m);
    float *p0 = malloc(np * sizeof *p0), *p = malloc(np * sizeof *p);
    float *v = malloc(np * sizeof *v);
    assert_non_null(p0);
    assert_non_null(p);
    assert_non_null(v);
    assert_int_equal(dfsae_model_get_params(m, p0, np), DFSAE_OK);
    /* Each step must move every parameter by several ulps (an ulp of 8 is
     * tau / 4), or it measures too little of the noise. */
    for (size_t i = 0; i < np; ++i)
        if (!(fabsf(p0[i]) <= 8.0f))
            fail_msg("grad_measured_noise: |p[%zu]| = %g > 8", i,
                     (double)p0[i]);
    grad_rng r;
    grad_rng_seed(&r, 0x401);
    for (size_t i = 0; i < np; ++i)
        v[i] = grad_rng_uniform(&r) < 0.5 ? -1.0f : 1.0f;
    double L[POINTS];
    for (int k = -SIDE; k <= SIDE; ++k) {
        for (size_t i = 0; i < np; ++i)
            p[i] = (float)(p0[i] + k * tau * v[i]);
        assert_int_equal(dfsae_model_set_params(m, p, np), DFSAE_OK);
        assert_int_equal(dfsae_model_loss(m, X, n, &L[k + SIDE], NULL, 0),
                         DFSAE_OK);
    }
    assert_int_equal(dfsae_model_set_params(m, p0, np), DFSAE_OK);
    /* Least squares c0 + c1 t + c2 t^2 on t = -SIDE..SIDE (symmetric, so
     * c1 decouples from c0 and c2). */
    double s2 = 0.0, s4 = 0.0, y0 = 0.0, y1 = 0.0, y2 = 0.0;
    for (int k = -SIDE; k <= SIDE; ++k) {
        double t = k, y = L[k + SIDE];
        s2 += t * t;
        s4 += t * t * t * t;
        y0 += y;
        y1 += y * t;
        y2 += y * t * t;
    }
    double det = POINTS * s4 - s2 * s2, c1 = y1 / s2;
    double c0 = (y0 * s4 - s2 * y2) / det, c2 = (POINTS * y2 - s2 * y0) / det;
    double ss = 0.0;
    for (int k = -SIDE; k <= SIDE; ++k) {
        double e = L[k + SIDE] - (c0 + c1 * k + c2 * k * k);
        ss += e * e;
    }
    free(p0);
    free(p);
    free(v);
    return sqrt(ss / (POINTS - 3));
}

double grad_var_rounding_noise(dfsae_model *m, const float *X, size_t n)
{
    size_t k = dfsae_model_num_components(m);
    float *A = malloc(n * k * sizeof *A);
    assert_non_null(A);
    assert_true(n >= 2);
    assert_true(option(m, DFSAE_MODEL_VAR_CAP) == 0.0);
    assert_int_equal(dfsae_model_forward(m, X, n, A, NULL, NULL), DFSAE_OK);
    const double eps = option(m, DFSAE_MODEL_EPS_VAR);
    double noise = 0.0;
    for (size_t j = 0; j < k; ++j) {
        double mean = 0.0, ss = 0.0, moved = 0.0;
        for (size_t i = 0; i < n; ++i)
            mean += A[i * k + j];
        mean /= (double)n;
        for (size_t i = 0; i < n; ++i) {
            double c = A[i * k + j] - mean, a = A[i * k + j];
            ss += c * c;
            moved += c * c * a * a;
        }
        /* dL_var/dA_ij = -2 (A_ij - m_j) / ((B - 1) (v_j + eps)) */
        double coef = 2.0 / ((double)(n - 1) * (ss / (double)(n - 1) + eps));
        noise += coef * coef * moved;
    }
    free(A);
    return 0x1p-24 * fabs(option(m, DFSAE_MODEL_LAMBDA_VAR)) * sqrt(noise);
}

int grad_check_case(const grad_case *c, const gradcheck_opts *o,
                    gradcheck_result *res)
{
    char label[160];
    snprintf(label, sizeof label, "%s %s D=%zu K=%zu B=%zu side=%d", c->what,
             dfsae_activation_name(c->activation), c->d, c->k, c->n,
             c->gram_side);
    dfsae_model *m =
        grad_model_new(c->d, c->k, c->seed, c->activation, c->lambdas);
    grad_set(m, DFSAE_MODEL_GRAM_SIDE, c->gram_side);
    float *X = grad_inputs_new(m, c->n, c->seed + 1, GRAD_KINK_MARGIN);
    /* Softmax with L_lse alone: the noise-dominated case (see
     * grad_lse_softmax_opts). Measured max relative error 3.7e-3 / 3.0e-3
     * (wide / tall) at h = 2^-7, 2.1e-3 / 1.1e-3 at 2^-6, 5.2e-4 / 7.8e-4
     * at 2^-4, 1.8e-3 / 7.3e-3 at 2^-3 (truncation). The other terms vary
     * enough for the default step. */
    gradcheck_opts step = *o;
    if (grad_is_softmax_lse_alone(m))
        grad_lse_softmax_opts(m, X, c->n, 0x1p-4, &step);
    int ok = gradcheck_run(m, X, c->n, NULL, &step, label, res);
    if (getenv("DFSAE_GRADCHECK_VERBOSE") != NULL)
        gradcheck_print(label, res);
    free(X);
    dfsae_model_free(m);
    return ok;
}

void grad_check_all_activations(grad_case c, const gradcheck_opts *o)
{
    int failed = 0;
    gradcheck_result res;
    for (int act = 0; act < DFSAE_ACT_COUNT; ++act) {
        c.activation = act;
        failed += !grad_check_case(&c, o, &res);
    }
    if (failed)
        fail_msg("%s: %d of %d activations failed the gradient check "
                 "(details above)",
                 c.what, failed, (int)DFSAE_ACT_COUNT);
}

void grad_terms_vs_reference(dfsae_model *m, const float *X, size_t n,
                             const grad_ref_opts *ro,
                             double got[DFSAE_TERM_COUNT],
                             double want[DFSAE_TERM_COUNT])
{
    size_t k = dfsae_model_num_components(m), d = dfsae_model_input_dim(m);
    size_t np = dfsae_model_num_params(m);
    float *A = malloc(n * k * sizeof *A), *p = malloc(np * sizeof *p);
    double *Ad = malloc(n * k * sizeof *Ad);
    assert_non_null(A);
    assert_non_null(p);
    assert_non_null(Ad);
    assert_int_equal(dfsae_model_forward(m, X, n, A, NULL, NULL), DFSAE_OK);
    assert_int_equal(dfsae_model_get_params(m, p, np), DFSAE_OK);
    for (size_t i = 0; i < n * k; ++i)
        Ad[i] = A[i];
    grad_ref_terms(ro, Ad, n, k, p, d, want);
    int st = dfsae_model_loss(m, X, n, NULL, got, DFSAE_TERM_COUNT);
    if (st != DFSAE_OK)
        fail_msg("dfsae_model_loss: %s", dfsae_model_last_error(m));
    free(A);
    free(p);
    free(Ad);
}

void grad_check_sweep(const grad_sweep *s)
{
    const size_t shapes[][3] = {{GRAD_SHAPE_WIDE}, {GRAD_SHAPE_TALL}};
    int failed = 0;
    double worst = 0.0, worst_ratio = 0.0;
    const int verbose = getenv("DFSAE_GRADCHECK_VERBOSE") != NULL;
    for (size_t sh = 0; sh < 2; ++sh)
        for (size_t v = 0; v < s->n_values; ++v)
            for (int act = 0; act < DFSAE_ACT_COUNT; ++act) {
                size_t d = shapes[sh][0], k = shapes[sh][1], n = shapes[sh][2];
                dfsae_model *m =
                    grad_model_new(d, k, s->seed + sh, act, s->lambdas);
                if (s->fixed_key >= 0)
                    grad_set(m, s->fixed_key, s->fixed_value);
                grad_set(m, s->key, s->values[v]);
                float *X =
                    grad_inputs_new(m, n, s->seed + 10 + sh, GRAD_KINK_MARGIN);
                gradcheck_opts o;
                gradcheck_default_opts(&o);
                char label[128];
                snprintf(label, sizeof label,
                         "%s (option %d = %g) %s D=%zu K=%zu B=%zu", s->what,
                         s->key, s->values[v], dfsae_activation_name(act), d, k,
                         n);
                gradcheck_result r;
                failed += !gradcheck_run(m, X, n, NULL, &o, label, &r);
                worst = fmax(worst, fmax(r.max_rel, r.dir_max_rel));
                worst_ratio = fmax(worst_ratio, r.max_ratio);
                if (verbose)
                    gradcheck_print(label, &r);
                free(X);
                dfsae_model_free(m);
            }
    print_message("%s: worst relative error %.2e, worst coordinate error / "
                  "tolerance %.3f\n",
                  s->what, worst, worst_ratio);
    if (failed)
        fail_msg("%s: %d cases failed the gradient check", s->what, failed);
}
