/* The small-batch kernel with a W too large for the L2, which it
 * prefetches tile by tile (layers/forward_small.c): for rows 2..7 (every
 * remainder of the three-row tiles), beta 0 and 1, and K not a multiple
 * of 4, the product against a double reference to float rounding. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "api_data.h"
#include "fixture.h"
#include "layers/layers.h"

/* 4 K D bytes = 1.1 MB, above the kernel's 1 MiB; D not a multiple of 16,
 * so the prefetched rows end in a partial line and a masked tail. */
#define D     251
#define K     1101
#define MAX_N 7

static void check_rows(void **state, const float *X, const float *W, size_t n,
                       float beta)
{
    float *Z = fx_alloc(state, n * K * sizeof *Z);
    for (size_t e = 0; e < n * K; ++e)
        Z[e] = 0.5f; /* what beta = 1 adds to */
    dfsae__small_product(X, n, D, W, D, K, beta, Z);
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

static void test_streamed_weights(void **state)
{
    if (!dfsae__small_product_takes(2))
        skip(); /* no kernel on this machine: forward takes sgemm */
    float *W = fx_alloc(state, (size_t)K * D * sizeof *W);
    float *X = fx_alloc(state, (size_t)MAX_N * D * sizeof *X);
    api_rng g;
    api_rng_seed(&g, 31);
    for (size_t e = 0; e < (size_t)K * D; ++e)
        W[e] = (float)api_rng_normal(&g);
    for (size_t e = 0; e < (size_t)MAX_N * D; ++e)
        X[e] = (float)api_rng_normal(&g);
    for (size_t n = 2; n <= MAX_N; ++n) {
        check_rows(state, X, W, n, 0.0f);
        check_rows(state, X, W, n, 1.0f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(test_streamed_weights),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
