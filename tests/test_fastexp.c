/* The vectorisable exp used by the log-sum-exp: accuracy over its whole
 * domain and its edge behaviour. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fastmath.h"

/* Relative error against double exp on a dense grid over [-87, 0]. */
static void relative_error_is_a_few_ulp(void **state)
{
    (void)state;
    double worst = 0.0;
    float worst_x = 0.0f;
    const int steps = 2000000;
    for (int i = 0; i <= steps; ++i) {
        float x = (float)(-87.0 * i / steps);
        double exact = exp((double)x);
        double rel = fabs((double)dfsae__exp_nonpos(x) - exact) / exact;
        if (rel > worst) {
            worst = rel;
            worst_x = x;
        }
    }
    print_message("max relative error %.3g (%.2f ulp) at x = %.9g\n", worst,
                  worst / 0x1p-24, (double)worst_x);
    if (worst > 3.0 * 0x1p-24)
        fail_msg("fast exp relative error %.3g at x = %.9g exceeds 3 ulp",
                 worst, (double)worst_x);
}

static void exact_at_zero_and_flushes_below_range(void **state)
{
    (void)state;
    assert_true(dfsae__exp_nonpos(0.0f) == 1.0f);
    assert_true(dfsae__exp_nonpos(-100.0f) == 0.0f);
    assert_true(dfsae__exp_nonpos(-INFINITY) == 0.0f);
    /* Monotone across the reduction's interval boundaries. */
    float prev = dfsae__exp_nonpos(-87.0f);
    for (float x = -86.99f; x <= 0.0f; x += 0.01f) {
        float y = dfsae__exp_nonpos(x);
        if (y < prev)
            fail_msg("not monotone at x = %.9g", (double)x);
        prev = y;
    }
}

static void nonfinite_bit_test(void **state)
{
    (void)state;
    const float values[] = {0.0f,     -1.0f,     3.4e38f, 1e-45f,
                            INFINITY, -INFINITY, NAN};
    const int expect[] = {0, 0, 0, 0, 1, 1, 1};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; ++i) {
        uint32_t u;
        memcpy(&u, &values[i], sizeof u);
        assert_int_equal(dfsae__is_nonfinite_bits(u), expect[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(relative_error_is_a_few_ulp),
        cmocka_unit_test(exact_at_zero_and_flushes_below_range),
        cmocka_unit_test(nonfinite_bit_test),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
