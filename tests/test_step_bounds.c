/* White-box tests of the optimizer's overflow proof (src/optim/adam.c):
 * the maxima it relies on must describe the gradient and state actually
 * stepped with. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model.h"
#include "optim/optim.h"

/* A model gradient whose update overflows (v = (1 - b2) g^2 = Inf), then a
 * gradient into a caller's buffer that is small: the step with the model's
 * own gradient must still see the large one and refuse. */
static void own_gradient_maximum_survives_caller_buffers(void **state)
{
    (void)state;
    dfsae_model *m = NULL;
    dfsae_optimizer *o = NULL;
    assert_int_equal(dfsae_model_create(1, 1, 1, NULL, &m), DFSAE_OK);
    assert_int_equal(dfsae_optimizer_create(DFSAE_ADAM, 2, NULL, &o), DFSAE_OK);
    const float X[2] = {0.5f, 1.0f};
    float small[2];
    assert_int_equal(dfsae_model_set_option(m, DFSAE_MODEL_LAMBDA_VAR, 0.0),
                     DFSAE_OK);
    assert_int_equal(dfsae_model_set_option(m, DFSAE_MODEL_LAMBDA_TC, 0.0),
                     DFSAE_OK);
    assert_int_equal(dfsae_model_grad(m, X, 2, NULL, NULL, NULL, 0), DFSAE_OK);
    /* Stand in for a huge gradient of the model's own (no data set makes
     * one this large cheaply): entries and their recorded maximum. */
    m->grad[0] = m->grad[1] = 3e37f;
    m->grad_max = 3e37f;
    assert_int_equal(dfsae_model_grad(m, X, 2, small, NULL, NULL, 0), DFSAE_OK);
    float before[2];
    assert_int_equal(dfsae_model_get_params(m, before, 2), DFSAE_OK);
    assert_int_equal(dfsae_optimizer_step(o, m, NULL),
                     DFSAE_ERR_NON_FINITE_RESULT);
    float after[2];
    assert_int_equal(dfsae_model_get_params(m, after, 2), DFSAE_OK);
    assert_memory_equal(before, after, sizeof before);
    assert_true(isfinite(o->state[2]) && isfinite(o->state[3]));
    assert_true(dfsae_optimizer_step_count(o) == 0);
    dfsae_optimizer_free(o);
    dfsae_model_free(m);
}

/* The maxima kept after a step bound the new state. */
static void state_maxima_follow_the_state(void **state)
{
    (void)state;
    dfsae_model *m = NULL;
    dfsae_optimizer *o = NULL;
    assert_int_equal(dfsae_model_create(3, 2, 1, NULL, &m), DFSAE_OK);
    assert_int_equal(dfsae_optimizer_create(DFSAE_ADAM, 8, NULL, &o), DFSAE_OK);
    const float g[8] = {0.5f, -2.0f, 0.25f, 1.0f, -0.125f, 3.0f, 0.0f, -1.5f};
    for (int t = 0; t < 3; ++t)
        assert_int_equal(dfsae_optimizer_step(o, m, g), DFSAE_OK);
    float mmax = 0.0f, vmax = 0.0f;
    for (size_t i = 0; i < 8; ++i) {
        mmax = fmaxf(mmax, fabsf(o->state[i]));
        vmax = fmaxf(vmax, o->state[8 + i]);
    }
    assert_true(o->maxima_valid);
    assert_true(o->state_max[0] == mmax);
    assert_true(o->state_max[1] == vmax);
    dfsae_optimizer_free(o);
    dfsae_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(own_gradient_maximum_survives_caller_buffers),
        cmocka_unit_test(state_maxima_follow_the_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
