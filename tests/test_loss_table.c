/* What the loss-term table declares and the core reads from it: the Gram
 * side each term takes in each distribution mode, and the names of the
 * terms that need column statistics in the messages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dist/dist.h"
#include "fixture.h"
#include "loss/loss.h"

enum { ROWS = 10, UNITS = 4 }; /* AUTO resolves to the feature side */

static int side_of(int mode, int option, int term)
{
    dfsae_dist d;
    memset(&d, 0, sizeof d);
    d.mode = mode;
    return dfsae__dist_gram_side(mode == DFSAE_DIST_NONE ? NULL : &d, option,
                                 dfsae__loss_terms[term], ROWS, UNITS);
}

/* One process: the option, AUTO resolved, for every term. */
static void one_process_follows_option(void **state)
{
    (void)state;
    for (int t = 0; t < DFSAE_TERM_COUNT; ++t) {
        assert_int_equal(side_of(DFSAE_DIST_NONE, DFSAE_GRAM_AUTO, t),
                         DFSAE_GRAM_FEATURE);
        assert_int_equal(side_of(DFSAE_DIST_NONE, DFSAE_GRAM_SAMPLE, t),
                         DFSAE_GRAM_SAMPLE);
        assert_int_equal(side_of(DFSAE_DIST_NONE, DFSAE_GRAM_FEATURE, t),
                         DFSAE_GRAM_FEATURE);
    }
}

/* Data-parallel: L_tc's K x K Gram sums over the split rows, whatever the
 * option; L_wr's W is whole on every rank, so the option decides. */
static void data_parallel_sides(void **state)
{
    (void)state;
    assert_int_equal(side_of(DFSAE_DIST_DATA, DFSAE_GRAM_SAMPLE, DFSAE_TERM_TC),
                     DFSAE_GRAM_FEATURE);
    assert_int_equal(side_of(DFSAE_DIST_DATA, DFSAE_GRAM_SAMPLE, DFSAE_TERM_WR),
                     DFSAE_GRAM_SAMPLE);
    assert_int_equal(
        side_of(DFSAE_DIST_DATA, DFSAE_GRAM_FEATURE, DFSAE_TERM_WR),
        DFSAE_GRAM_FEATURE);
}

/* Dictionary shards: both Grams on the side that sums over the split
 * units (B x B for L_tc, D x D for L_wr), whatever the option. */
static void dictionary_sides(void **state)
{
    (void)state;
    const int terms[] = {DFSAE_TERM_TC, DFSAE_TERM_WR};
    for (size_t i = 0; i < sizeof terms / sizeof terms[0]; ++i)
        assert_int_equal(
            side_of(DFSAE_DIST_DICTIONARY, DFSAE_GRAM_FEATURE, terms[i]),
            DFSAE_GRAM_SAMPLE);
}

/* Every term that needs column statistics is named ("L_" and its name),
 * no other; today "L_var and L_tc". */
static void stats_names_from_table(void **state)
{
    (void)state;
    char names[DFSAE_STATS_NAMES_LEN], one[32];
    dfsae__loss_stats_names(names);
    int needing = 0;
    for (int t = 0; t < DFSAE_TERM_COUNT; ++t) {
        snprintf(one, sizeof one, "L_%s", dfsae__loss_terms[t]->name);
        const char *at = strstr(names, one);
        if (dfsae__loss_terms[t]->needs_stats)
            assert_non_null(at);
        else
            assert_null(at);
        needing += dfsae__loss_terms[t]->needs_stats;
    }
    /* Joined as a list: "L_a, L_b and L_c". */
    int commas = 0, ands = 0;
    for (const char *p = names; (p = strstr(p, ", ")) != NULL; p += 2)
        ++commas;
    for (const char *p = names; (p = strstr(p, " and ")) != NULL; p += 5)
        ++ands;
    assert_true(needing >= 2);
    assert_int_equal(commas, needing - 2);
    assert_int_equal(ands, 1);
}

/* The message of a one-row batch names them. */
static void one_row_message(void **state)
{
    dfsae_model *m = fx_model(state, 3, 2, 7);
    const float x[3] = {0.5f, -1.0f, 2.0f};
    double loss;
    char names[DFSAE_STATS_NAMES_LEN], want[DFSAE_STATS_NAMES_LEN + 32];
    dfsae__loss_stats_names(names);
    snprintf(want, sizeof want, "%s need at least 2 rows", names);
    assert_int_equal(dfsae_model_loss(m, x, 1, &loss, NULL, 0),
                     DFSAE_ERR_BATCH_TOO_SMALL);
    assert_non_null(strstr(dfsae_model_last_error(m), want));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_process_follows_option),
        cmocka_unit_test(data_parallel_sides),
        cmocka_unit_test(dictionary_sides),
        cmocka_unit_test(stats_names_from_table),
        FIXTURE_TEST(one_row_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
