/* The vectorisable exp used by the log-sum-exp: accuracy over its whole
 * domain and its edge behaviour; and the float centring on a split
 * double mean that the sweeps use. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fastmath.h"
#include "splitmix64.h"

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

/* Next float up from |x|'s magnitude: the spacing at x. */
static double ulp_at(double x)
{
    float f = (float)fabs(x);
    return (double)nextafterf(f, INFINITY) - (double)f;
}

static double next_uniform(uint64_t *x)
{
    return (double)(splitmix64_next(x) >> 11) * 0x1p-53;
}

/* dfsae__centre(a, split m) against the exact a - m (double, where a - m
 * of a float and a double of similar size is exact up to m's own last
 * bits): means from 1e-3 to 1e6, spreads from 1e-6 m to 1e2 m, activations
 * up to 1e4 spreads either side of the mean, and a = 0 (relu). Two
 * roundings of half an ulp each, the first possibly in the binade above
 * the result: the bound is 1.5 ulp of the result, plus 2^-46 of m for
 * lo's own rounding (measured worst: 1.000 ulp). */
static void centring_on_a_split_mean_is_within_an_ulp(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15u;
    double worst = 0.0;
    for (int i = 0; i < 500000; ++i) {
        double m = pow(10.0, -3.0 + 9.0 * next_uniform(&x));
        double spread = m * pow(10.0, -6.0 + 8.0 * next_uniform(&x));
        double offset =
            (2.0 * next_uniform(&x) - 1.0) * pow(10.0, 4.0 * next_uniform(&x));
        float a = i % 16 == 0 ? 0.0f : (float)(m + spread * offset);
        float hi, lo;
        dfsae__split_double(m, &hi, &lo);
        double exact = (double)a - m, got = dfsae__centre(a, hi, lo);
        double err = fabs(got - exact) / (ulp_at(exact) + m * 0x1p-46);
        worst = fmax(worst, err);
        if (!(err <= 1.5))
            fail_msg("a %.9g, m %.17g: centred %.9g, exact %.17g (%.3g ulp)",
                     (double)a, m, got, exact, err);
    }
    print_message("centring: worst %.3f ulp\n", worst);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(relative_error_is_a_few_ulp),
        cmocka_unit_test(exact_at_zero_and_flushes_below_range),
        cmocka_unit_test(nonfinite_bit_test),
        cmocka_unit_test(centring_on_a_split_mean_is_within_an_ulp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
