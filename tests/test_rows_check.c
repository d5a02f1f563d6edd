/* White-box tests of the one batch validation routine (src/data/
 * rows_check.c): each rule's status and message, the flags that switch a
 * rule, and the order in which a set of rows breaking two rules is
 * reported; the check of a callback's rows as they are read. The public calls
 * built on it are tested in test_api_errors, test_forward, test_train and
 * test_eval. */
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "data/source.h"

enum { ROWS = 3, COLS = 4, BAD_ROW = 1, BAD_COL = 2 };

typedef struct fixture {
    float x[ROWS * COLS];
    dfsae_source rows;
    dfsae__rows_rule rule;
    char err[DFSAE_ERR_LEN];
} fixture;

static int setup(void **state)
{
    fixture *f = test_calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    for (size_t i = 0; i < ROWS * COLS; ++i)
        f->x[i] = (float)i - 5.0f;
    dfsae__source_view(&f->rows, f->x, ROWS, COLS);
    f->rule.fn = "t";
    f->rule.what = "batch";
    f->rule.d = COLS;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    test_free(*state);
    return 0;
}

static int check(fixture *f)
{
    return dfsae__rows_check(&f->rows, &f->rule, f->err);
}

static void finite_rows_pass(void **state)
{
    fixture *f = *state;
    f->rule.k = 7;
    f->rule.needs_variance = 1;
    f->rule.one_product = 1;
    assert_int_equal(check(f), DFSAE_OK);
}

static void empty_rows_only_where_allowed(void **state)
{
    fixture *f = *state;
    f->rows.n = 0;
    assert_int_equal(check(f), DFSAE_ERR_INVALID_ARG);
    assert_string_equal(f->err, "t: the batch is empty (n = 0)");
    f->rule.may_be_empty = 1;
    assert_int_equal(check(f), DFSAE_OK);
}

static void rows_of_another_width_mismatch(void **state)
{
    fixture *f = *state;
    f->rows.d = COLS - 1;
    assert_int_equal(check(f), DFSAE_ERR_SIZE_MISMATCH);
    assert_string_equal(f->err, "t: the source has rows of 3 values, the "
                                "model takes 4");
}

static void a_variance_needs_two_rows(void **state)
{
    fixture *f = *state;
    f->rule.needs_variance = 1;
    f->rows.n = 1;
    assert_int_equal(check(f), DFSAE_ERR_BATCH_TOO_SMALL);
    assert_string_equal(f->err, "t: a variance needs at least 2 rows");
    f->rows.n = 2;
    assert_int_equal(check(f), DFSAE_OK);
}

/* The sizes are refused before a value is read, so the view's n may
 * exceed its array here. */
static void sizes_that_overflow_are_refused(void **state)
{
    fixture *f = *state;
    const size_t above_int = (size_t)INT_MAX + 1;
    f->rows.n = above_int;
    f->rule.one_product = 1;
    assert_int_equal(check(f), DFSAE_ERR_SIZE_OVERFLOW);
    assert_non_null(strstr(f->err, "a batch of 2147483648 rows overflows"));
    f->rows.n = ROWS;
    f->rule.k = SIZE_MAX / 2;
    assert_int_equal(check(f), DFSAE_ERR_SIZE_OVERFLOW);
    f->rule.k = 0;
    f->rows.n = SIZE_MAX / 2;
    assert_int_equal(check(f), DFSAE_ERR_SIZE_OVERFLOW);
}

static void a_non_finite_value_is_named(void **state)
{
    fixture *f = *state;
    f->x[BAD_ROW * COLS + BAD_COL] = NAN;
    assert_int_equal(check(f), DFSAE_ERR_NON_FINITE_INPUT);
    assert_string_equal(f->err, "t: X[1][2] is not finite");
    f->x[BAD_ROW * COLS + BAD_COL] = -INFINITY;
    assert_int_equal(check(f), DFSAE_ERR_NON_FINITE_INPUT);
}

static int never_read(void *user, const size_t *rows, size_t count, void *out)
{
    (void)user;
    (void)rows;
    (void)count;
    (void)out;
    return 1;
}

/* A callback's rows are checked as they are read, not here. */
static void callback_rows_are_not_scanned(void **state)
{
    fixture *f = *state;
    f->x[0] = NAN;
    f->rows.read = never_read;
    assert_int_equal(check(f), DFSAE_OK);
}

/* As a callback's rows arrive, a bad value names the source's row: the
 * batch's row mapped through source_rows, or counted from first. */
static void rows_read_name_the_source_row(void **state)
{
    fixture *f = *state;
    const size_t source_rows[ROWS] = {40, 17, 9};
    const size_t first = 100;
    f->rows.read = never_read;
    assert_int_equal(dfsae__rows_check_read(&f->rows, f->x, ROWS, source_rows,
                                            first, "p: ", f->err),
                     DFSAE_OK);
    f->x[BAD_ROW * COLS + BAD_COL] = NAN;
    assert_int_equal(dfsae__rows_check_read(&f->rows, f->x, ROWS, source_rows,
                                            first, "p: ", f->err),
                     DFSAE_ERR_NON_FINITE_INPUT);
    assert_string_equal(f->err,
                        "p: row 17 of the source, column 2, is not finite");
    assert_int_equal(
        dfsae__rows_check_read(&f->rows, f->x, ROWS, NULL, first, "", f->err),
        DFSAE_ERR_NON_FINITE_INPUT);
    assert_string_equal(f->err,
                        "row 101 of the source, column 2, is not finite");
    f->rows.read = NULL; /* an array's rows were checked whole */
    assert_int_equal(
        dfsae__rows_check_read(&f->rows, f->x, ROWS, NULL, first, "", f->err),
        DFSAE_OK);
}

/* Two rules broken at once: the first in the documented order wins. */
static void the_first_broken_rule_is_reported(void **state)
{
    fixture *f = *state;
    f->rule.needs_variance = 1;
    f->x[0] = NAN;
    f->rows.n = 0;
    f->rows.d = COLS + 1;
    assert_int_equal(check(f), DFSAE_ERR_INVALID_ARG);
    f->rows.n = 1;
    assert_int_equal(check(f), DFSAE_ERR_SIZE_MISMATCH);
    f->rows.d = COLS;
    assert_int_equal(check(f), DFSAE_ERR_BATCH_TOO_SMALL);
    f->rows.n = SIZE_MAX / 2;
    assert_int_equal(check(f), DFSAE_ERR_SIZE_OVERFLOW);
    f->rows.n = ROWS;
    assert_int_equal(check(f), DFSAE_ERR_NON_FINITE_INPUT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(finite_rows_pass, setup, teardown),
        cmocka_unit_test_setup_teardown(empty_rows_only_where_allowed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(rows_of_another_width_mismatch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_variance_needs_two_rows, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(sizes_that_overflow_are_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_non_finite_value_is_named, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(callback_rows_are_not_scanned, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(rows_read_name_the_source_row, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(the_first_broken_rule_is_reported,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
