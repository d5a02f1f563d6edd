#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api_data.h"
#include "api_state.h"

void api_twin_init(api_twin *t, size_t d, size_t k, size_t n, int kind,
                   const dfsae_allocator *alloc)
{
    memset(t, 0, sizeof *t);
    t->d = d;
    t->k = k;
    t->n = n;
    t->X = test_malloc(n * d * sizeof *t->X);
    api_rng r;
    api_rng_seed(&r, 7);
    api_fill_uniform(&r, t->X, n * d, -1.0, 2.0);
    for (int i = 0; i < 2; ++i) {
        assert_int_equal(dfsae_model_create(d, k, 42, alloc, &t->m[i]),
                         DFSAE_OK);
        t->np = dfsae_model_num_params(t->m[i]);
        assert_int_equal(dfsae_optimizer_create(kind, t->np, alloc, &t->o[i]),
                         DFSAE_OK);
        assert_int_equal(
            dfsae_train_step(t->m[i], t->o[i], t->X, n, NULL, NULL, 0),
            DFSAE_OK);
    }
}

static void assert_same_floats(const float *a, const float *b, size_t n,
                               const char *what)
{
    if (memcmp(a, b, n * sizeof *a) != 0) {
        for (size_t i = 0; i < n; ++i)
            if (memcmp(&a[i], &b[i], sizeof *a) != 0) {
                fail_msg("%s differ at %zu: %.9g vs %.9g", what, i,
                         (double)a[i], (double)b[i]);
            }
    }
}

void api_twin_check(api_twin *t)
{
    const size_t np = t->np;
    float *p[2], *g[2];
    for (int i = 0; i < 2; ++i) {
        p[i] = test_malloc(np * sizeof *p[i]);
        g[i] = test_malloc(np * sizeof *g[i]);
        assert_int_equal(dfsae_model_input_dim(t->m[i]), t->d);
        assert_int_equal(dfsae_model_num_components(t->m[i]), t->k);
        assert_int_equal(dfsae_model_get_params(t->m[i], p[i], np), DFSAE_OK);
    }
    assert_same_floats(p[0], p[1], np, "parameters");

    for (int key = 0; key < DFSAE_MODEL_OPTION_COUNT; ++key) {
        double v[2];
        for (int i = 0; i < 2; ++i)
            assert_int_equal(dfsae_model_get_option(t->m[i], key, &v[i]),
                             DFSAE_OK);
        if (memcmp(&v[0], &v[1], sizeof v[0]) != 0)
            fail_msg("model option %d differs: %.17g vs %.17g", key, v[0],
                     v[1]);
    }
    assert_int_equal(dfsae_optimizer_get_kind(t->o[0]),
                     dfsae_optimizer_get_kind(t->o[1]));
    int kind = dfsae_optimizer_get_kind(t->o[0]);
    for (int key = 0; key < DFSAE_OPT_COUNT; ++key) {
        if (dfsae_optimizer_option_bounds(kind, key, NULL, NULL) != DFSAE_OK)
            continue; /* not applicable to this kind */
        double v[2];
        for (int i = 0; i < 2; ++i)
            assert_int_equal(dfsae_optimizer_get_option(t->o[i], key, &v[i]),
                             DFSAE_OK);
        if (memcmp(&v[0], &v[1], sizeof v[0]) != 0)
            fail_msg("optimizer hyper-parameter %d differs: %.17g vs %.17g",
                     key, v[0], v[1]);
    }
    assert_true(dfsae_optimizer_step_count(t->o[0]) ==
                dfsae_optimizer_step_count(t->o[1]));

    /* Same gradient on both (it depends on parameters and options), then
     * the same step: any hidden difference in the moments shows here. */
    double tot[2];
    for (int i = 0; i < 2; ++i)
        assert_int_equal(
            dfsae_model_grad(t->m[i], t->X, t->n, g[i], &tot[i], NULL, 0),
            DFSAE_OK);
    assert_same_floats(g[0], g[1], np, "gradients");
    assert_memory_equal(&tot[0], &tot[1], sizeof tot[0]);
    for (int i = 0; i < 2; ++i) {
        assert_int_equal(dfsae_optimizer_step(t->o[i], t->m[i], g[0]),
                         DFSAE_OK);
        assert_int_equal(dfsae_model_get_params(t->m[i], p[i], np), DFSAE_OK);
    }
    assert_same_floats(p[0], p[1], np, "parameters after the next step");
    assert_true(dfsae_optimizer_step_count(t->o[0]) ==
                dfsae_optimizer_step_count(t->o[1]));
    for (int i = 0; i < 2; ++i) {
        test_free(p[i]);
        test_free(g[i]);
    }
}

void api_twin_free(api_twin *t)
{
    for (int i = 0; i < 2; ++i) {
        dfsae_optimizer_free(t->o[i]);
        dfsae_model_free(t->m[i]);
    }
    test_free(t->X);
    memset(t, 0, sizeof *t);
}

void api_assert_close(const float *got, const double *want, size_t n,
                      double rtol, double atol, const char *what)
{
    for (size_t i = 0; i < n; ++i) {
        double err = fabs((double)got[i] - want[i]);
        if (!(err <= rtol * fabs(want[i]) + atol))
            fail_msg("%s[%zu]: got %.9g, want %.12g (error %.3g, allowed "
                     "%.3g)",
                     what, i, (double)got[i], want[i], err,
                     rtol * fabs(want[i]) + atol);
    }
}

void api_assert_contains(const char *s, const char *needle)
{
    assert_non_null(s);
    if (strstr(s, needle) == NULL)
        fail_msg("message \"%s\" does not mention \"%s\"", s, needle);
}
