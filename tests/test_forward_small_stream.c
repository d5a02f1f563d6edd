/* The small-batch kernel with a W too large for the L2, which it
 * prefetches tile by tile, a share in each pass over X
 * (layers/forward_small.c): for rows 1..7 (every remainder of the
 * three-row tiles; at this size one row takes the kernel too), beta 0 and
 * 1, and K not a multiple of 4, the product against a double reference to
 * float rounding; and with the epilogue fused (bias and relu or tanh slab
 * by slab, or softmax row by row; Z wanted or not), Z and A against the
 * same; the slabs are longer than the chunks tanh's epilogue takes them
 * in. The product also for 12, 33 and 64 rows, whose passes split the
 * columns at other points (and the last ones prefetch nothing). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "api_data.h"
#include "dfsae.h"
#include "fixture.h"
#include "layers/layers.h"

/* 4 K D bytes = 1.1 MB, above the kernel's 1 MiB; D not a multiple of 16,
 * so the prefetched rows end in a partial line and a masked tail. */
#define D     251
#define K     1101
#define MAX_N 64

static void check_rows(void **state, const float *X, const float *W, size_t n,
                       float beta)
{
    float *Z = fx_alloc(state, n * K * sizeof *Z);
    for (size_t e = 0; e < n * K; ++e)
        Z[e] = 0.5f; /* what beta = 1 adds to */
    dfsae__small_product(X, n, D, W, D, K, beta, Z, NULL);
    for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < K; ++j) {
            double z = beta * 0.5, mag = fabs(z);
            for (size_t c = 0; c < D; ++c) {
                const double t = (double)W[j * D + c] * (double)X[i * D + c];
                z += t;
                mag += fabs(t);
            }
            if (fabs((double)Z[i * K + j] - z) > 4.0 * (D + 1) * 1.2e-7 * mag)
                fail_msg("n = %zu, beta = %g, (%zu, %zu): %.9g vs %.9g", n,
                         (double)beta, i, j, (double)Z[i * K + j], z);
        }
    fx_drop(state, Z);
}

/* z + b and phi(z + b) of row i in double, phi relu, tanh or softmax
 * (T = 1), and the largest magnitude of the terms of a z. */
static double reference_row(const float *X, const float *W, const float *b,
                            size_t i, int act, double *z, double *a)
{
    double zmax = -INFINITY, sum = 0.0, mag = 0.0;
    for (size_t j = 0; j < K; ++j) {
        double m = fabs((double)b[j]);
        z[j] = (double)b[j];
        for (size_t c = 0; c < D; ++c) {
            const double t = (double)W[j * D + c] * (double)X[i * D + c];
            z[j] += t;
            m += fabs(t);
        }
        zmax = z[j] > zmax ? z[j] : zmax;
        mag = m > mag ? m : mag;
    }
    const int softmax = act == DFSAE_ACT_SOFTMAX;
    for (size_t j = 0; j < K; ++j) {
        a[j] = softmax                 ? exp(z[j] - zmax)
               : act == DFSAE_ACT_TANH ? tanh(z[j])
                                       : (z[j] > 0.0 ? z[j] : 0.0);
        sum += a[j];
    }
    for (size_t j = 0; softmax && j < K; ++j)
        a[j] /= sum;
    return mag;
}

static void check_fused(void **state, const float *X, const float *W,
                        const float *b, size_t n, int act, int want_z)
{
    float *A = fx_alloc(state, n * K * sizeof *A);
    float *Z = want_z ? fx_alloc(state, n * K * sizeof *Z) : NULL;
    dfsae__epilogue ep = {.b = b,
                          .act = dfsae__activations[act],
                          .param = 1.0,
                          .A = A,
                          .Z = Z,
                          .k = K};
    dfsae__small_product(X, n, D, W, D, K, 0.0f, want_z ? Z : A, &ep);
    assert_int_equal(ep.bad, 0);
    double *z = fx_alloc(state, K * sizeof *z),
           *a = fx_alloc(state, K * sizeof *a);
    for (size_t i = 0; i < n; ++i) {
        /* Float rounding of z; relu, tanh and softmax at T = 1 move a
         * by at most twice z's error. */
        const double tol =
            2.0 * 4.0 * (D + 1) * 1.2e-7 * reference_row(X, W, b, i, act, z, a);
        for (size_t j = 0; j < K; ++j) {
            if (fabs((double)A[i * K + j] - a[j]) > tol ||
                (Z != NULL && fabs((double)Z[i * K + j] - z[j]) > tol))
                fail_msg("activation %d, n = %zu, Z %d, (%zu, %zu): A %.9g "
                         "vs %.9g",
                         act, n, want_z, i, j, (double)A[i * K + j], a[j]);
        }
    }
    fx_drop(state, a);
    fx_drop(state, z);
    if (Z != NULL)
        fx_drop(state, Z);
    fx_drop(state, A);
}

static void test_streamed_weights(void **state)
{
    if (!dfsae__small_product_takes(2, D, K))
        skip(); /* no kernel on this machine: forward takes sgemm */
    float *W = fx_alloc(state, (size_t)K * D * sizeof *W);
    float *X = fx_alloc(state, (size_t)MAX_N * D * sizeof *X);
    api_rng g;
    api_rng_seed(&g, 31);
    for (size_t e = 0; e < (size_t)K * D; ++e)
        W[e] = (float)api_rng_normal(&g);
    for (size_t e = 0; e < (size_t)MAX_N * D; ++e)
        X[e] = (float)api_rng_normal(&g);
    float *b = fx_alloc(state, K * sizeof *b);
    for (size_t j = 0; j < K; ++j)
        b[j] = 0.01f * (float)(j % 50) - 0.25f;
    for (size_t n = 1; n <= 7; ++n) {
        check_rows(state, X, W, n, 0.0f);
        check_rows(state, X, W, n, 1.0f);
        for (int want_z = 0; want_z < 2; ++want_z) {
            check_fused(state, X, W, b, n, DFSAE_ACT_RELU, want_z);
            check_fused(state, X, W, b, n, DFSAE_ACT_TANH, want_z);
            check_fused(state, X, W, b, n, DFSAE_ACT_SOFTMAX, want_z);
        }
    }
    const size_t more[] = {12, 33, MAX_N};
    for (size_t e = 0; e < sizeof more / sizeof *more; ++e)
        check_rows(state, X, W, more[e], 0.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(test_streamed_weights),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
