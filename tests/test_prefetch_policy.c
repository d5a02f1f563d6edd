/* White-box tests of the training loop's prefetch policy
 * (src/train/prefetch.c): which sources may be fetched on the helper
 * thread at all (a float32 array's batches never are, a callback's and a
 * half-precision array's are), and the probe that keeps the cheaper of
 * fetching ahead and inline by the step times it measured, then probes
 * again, or, told a way, takes it. And through dfsae_model_train_source: a
 * callback source is read on the helper. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "data/source.h"
#include "dfsae.h"
#include "fixture.h"
#include "thread_reader.h"
#include "train/prefetch.h"
#include "train_data.h"

#define D     64
#define N     400
#define BATCH 100 /* 6400 floats a batch: enough to fetch ahead */

static int no_read(void *user, const size_t *rows, size_t count, void *out)
{
    (void)user;
    (void)rows;
    (void)count;
    (void)out;
    return 1;
}

static void array(dfsae_source *s, const void *X, int element)
{
    memset(s, 0, sizeof *s);
    s->element = element;
    s->n = N;
    s->d = D;
    s->array = X;
}

static void which_sources_are_fetched_ahead(void **state)
{
    (void)state;
    static uint16_t X[N * D];
    dfsae_source s;
    const size_t floats = (size_t)BATCH * D;
    array(&s, X, DFSAE_ELEM_F32);
    assert_int_equal(dfsae__prefetch_worth(&s, floats), 0);
    array(&s, X, DFSAE_ELEM_F16);
    assert_int_equal(dfsae__prefetch_worth(&s, floats), 1);
    array(&s, X, DFSAE_ELEM_BF16);
    assert_int_equal(dfsae__prefetch_worth(&s, floats), 1);
    array(&s, NULL, DFSAE_ELEM_F32);
    s.read = no_read;
    assert_int_equal(dfsae__prefetch_worth(&s, floats), 1);
    /* Too small a batch to gain from the hand-over. */
    assert_int_equal(dfsae__prefetch_worth(&s, 64 * 63), 0);
}

/* Steps of the probe with inline steps costing `inline_cost` seconds and
 * ahead ones `ahead_cost`; the ways it chose, counted. */
static void run_probe(dfsae__prefetch_probe *p, unsigned steps,
                      double inline_cost, double ahead_cost, unsigned *ahead)
{
    *ahead = 0;
    for (unsigned i = 0; i < steps; ++i) {
        int a = dfsae__prefetch_next(p);
        *ahead += (unsigned)a;
        dfsae__prefetch_took(p, a ? ahead_cost : inline_cost);
    }
}

static void probe_keeps_the_cheaper_way(void **state)
{
    (void)state;
    const unsigned probe = DFSAE__PROBE_BLOCK * DFSAE__PROBE_BLOCKS;
    dfsae__prefetch_probe p;
    dfsae__prefetch_probe_init(&p, DFSAE_FETCH_AUTO);
    unsigned ahead;
    /* The first block is fetched ahead, the second inline. */
    run_probe(&p, DFSAE__PROBE_BLOCK, 2e-3, 3e-3, &ahead);
    assert_int_equal(ahead, DFSAE__PROBE_BLOCK);
    run_probe(&p, DFSAE__PROBE_BLOCK, 2e-3, 3e-3, &ahead);
    assert_int_equal(ahead, 0);
    run_probe(&p, probe - 2 * DFSAE__PROBE_BLOCK, 2e-3, 3e-3, &ahead);
    assert_int_equal(ahead, (probe - 2 * DFSAE__PROBE_BLOCK) / 2);
    /* Inline was cheaper: kept until the next probe... */
    run_probe(&p, DFSAE__PROBE_EVERY, 2e-3, 3e-3, &ahead);
    assert_int_equal(ahead, 0);
    /* ...which measures afresh: now ahead is cheaper, and kept. */
    run_probe(&p, probe, 3e-3, 2e-3, &ahead);
    assert_int_equal(ahead, probe / 2);
    run_probe(&p, DFSAE__PROBE_EVERY, 3e-3, 2e-3, &ahead);
    assert_int_equal(ahead, DFSAE__PROBE_EVERY);
}

/* Told a way, the probe takes it whatever the steps cost. */
static void forced_way_ignores_the_costs(void **state)
{
    (void)state;
    const unsigned steps = 3 * DFSAE__PROBE_EVERY;
    dfsae__prefetch_probe p;
    unsigned ahead;
    dfsae__prefetch_probe_init(&p, DFSAE_FETCH_AHEAD);
    run_probe(&p, steps, 1e-3, 9e-3, &ahead);
    assert_int_equal(ahead, steps);
    dfsae__prefetch_probe_init(&p, DFSAE_FETCH_BETWEEN);
    run_probe(&p, steps, 9e-3, 1e-3, &ahead);
    assert_int_equal(ahead, 0);
}

static void callback_is_read_on_the_helper(void **state)
{
    float *X = fx_alloc(state, N * D * sizeof *X);
    train_fill(X, N * D, 4, -1.0, 1.0);
    dfsae_model **m = fx_model_slot(state);
    dfsae_optimizer **o = fx_optimizer_slot(state);
    train_make(D, 8, 9, m, o);
    dfsae_train_config *c = fx_keep_config(state, train_config(1, BATCH, 1));
    static thread_reader rd;
    thread_reader_init(&rd, X, D);
    dfsae_source **src = fx_source_slot(state);
    assert_int_equal(dfsae_source_from_callback(thread_reader_read, &rd,
                                                DFSAE_ELEM_F32, N, D, 0, NULL,
                                                src),
                     DFSAE_OK);
    assert_int_equal(dfsae_model_train_source(*m, *o, *src, c, NULL, NULL),
                     DFSAE_OK);
    /* Four steps: the first batch inline, the next three ahead (the
     * probe's first block). */
    assert_int_equal(atomic_load(&rd.calls), N / BATCH);
    assert_int_equal(atomic_load(&rd.off_caller), N / BATCH - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(which_sources_are_fetched_ahead),
        cmocka_unit_test(probe_keeps_the_cheaper_way),
        cmocka_unit_test(forced_way_ignores_the_costs),
        FIXTURE_TEST(callback_is_read_on_the_helper),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
