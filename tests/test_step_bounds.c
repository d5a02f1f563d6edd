/* White-box tests of the optimizer's overflow proof (src/optim/adam.c):
 * the maxima it relies on must describe the gradient and state actually
 * stepped with, and a refused step leaves the state as it was. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "model.h"
#include "optim/optim.h"

/* The fused step's dry run: Adam's first update, scaled by lr / (1 -
 * beta1) = 1e39, overflows float; the step is refused and changes neither
 * the parameters nor the state (whose maxima stay valid). */
static void fused_step_refuses_an_overflowing_update(void **state)
{
    dfsae_model *m = fx_model(state, 1, 1, 1);
    dfsae_optimizer *o = fx_optimizer(state, DFSAE_ADAM, 2);
    assert_int_equal(dfsae_optimizer_set_option(o, DFSAE_OPT_LR, 1e38),
                     DFSAE_OK);
    const float X[2] = {0.5f, 1.0f};
    float before[2], after[2];
    assert_int_equal(dfsae_model_get_params(m, before, 2), DFSAE_OK);
    double loss = -1.0;
    assert_int_equal(dfsae_train_step(m, o, X, 2, &loss, NULL, 0),
                     DFSAE_ERR_NON_FINITE_RESULT);
    assert_non_null(strstr(dfsae_model_last_error(m), "overflows"));
    assert_int_equal(dfsae_model_get_params(m, after, 2), DFSAE_OK);
    assert_memory_equal(before, after, sizeof before);
    for (int i = 0; i < 4; ++i)
        assert_true(o->state[i] == 0.0f);
    assert_true(o->maxima_valid);
    assert_true(dfsae_optimizer_step_count(o) == 0);
    /* At a learning rate that fits, the same step goes through. */
    assert_int_equal(dfsae_optimizer_set_option(o, DFSAE_OPT_LR, 1e-3),
                     DFSAE_OK);
    assert_int_equal(dfsae_train_step(m, o, X, 2, &loss, NULL, 0), DFSAE_OK);
    assert_true(dfsae_optimizer_step_count(o) == 1);
}

/* The maxima kept after a step bound the new state. */
static void state_maxima_follow_the_state(void **state)
{
    dfsae_model *m = fx_model(state, 3, 2, 1);
    dfsae_optimizer *o = fx_optimizer(state, DFSAE_ADAM, 8);
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
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(fused_step_refuses_an_overflowing_update),
        FIXTURE_TEST(state_maxima_follow_the_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
