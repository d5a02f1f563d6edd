/* Loads under memory pressure: the allocator refuses its i-th request,
 * for every i until the load succeeds. Every failure is
 * DFSAE_ERR_NO_MEMORY, with nothing leaked and the handles untouched, and
 * the header's JSON is parsed through the allocator too: some failure
 * points lie inside the parser, and they say so. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api_alloc.h"
#include "dfsae.h"
#include "fixture.h"
#include "io_util.h"

/* A saved Adam checkpoint (D = 3, K = 2), the fixture's. */
static unsigned char *checkpoint(void **state, size_t *size)
{
    dfsae_model *m = fx_model(state, 3, 2, 1);
    dfsae_optimizer *o = fx_optimizer(state, DFSAE_ADAM, 8);
    assert_int_equal(dfsae_model_save_buffer(m, o, NULL, 0, size), DFSAE_OK);
    unsigned char *buf = fx_alloc(state, *size);
    assert_int_equal(dfsae_model_save_buffer(m, o, buf, *size, size), DFSAE_OK);
    fx_drop(state, o);
    fx_drop(state, m);
    return buf;
}

static void test_create_load_oom_at_every_allocation(void **state)
{
    size_t size;
    unsigned char *file = checkpoint(state, &size);
    size_t in_json = 0, i = 0;
    for (;; ++i) {
        /* The control outlives the handles, which the fixture frees if an
         * assertion fails (a load that wrongly made them included). */
        api_alloc_ctl *ctl = fx_alloc(state, sizeof *ctl);
        api_alloc_ctl_init(ctl);
        ctl->fail_after = i;
        dfsae_allocator a = api_allocator(ctl);
        dfsae_model **m = fx_model_slot(state);
        dfsae_optimizer **o = fx_optimizer_slot(state);
        char err[DFSAE_ERROR_MESSAGE_SIZE] = "";
        int st = dfsae_model_load_buffer(file, size, &a, m, o, err, sizeof err);
        if (st == DFSAE_OK) {
            fx_drop(state, *o);
            fx_drop(state, *m);
            assert_int_equal(ctl->allocs, ctl->frees);
            break;
        }
        if (st != DFSAE_ERR_NO_MEMORY)
            fail_msg("allocation %zu refused: status %d (%s): %s", i, st,
                     dfsae_status_string(st), err);
        assert_null(*m);
        assert_null(*o);
        assert_int_equal(ctl->allocs, ctl->frees);
        assert_true(strstr(err, "memory") != NULL);
        if (strstr(err, "JSON") != NULL)
            ++in_json;
        fx_drop(state, ctl);
    }
    assert_true(i >= 3);
    /* The parser's own allocations go through the hook. */
    assert_true(in_json >= 1);
}

static void test_load_into_oom_at_every_allocation(void **state)
{
    size_t size;
    unsigned char *file = checkpoint(state, &size);
    size_t in_json = 0, i = 0;
    for (;; ++i) {
        api_alloc_ctl *ctl = fx_alloc(state, sizeof *ctl); /* outlives m, o */
        api_alloc_ctl_init(ctl);
        dfsae_allocator a = api_allocator(ctl);
        dfsae_model **ms = fx_model_slot(state);
        dfsae_optimizer **os = fx_optimizer_slot(state);
        assert_int_equal(dfsae_model_create(3, 2, 9, &a, ms), DFSAE_OK);
        assert_int_equal(dfsae_optimizer_create(DFSAE_ADAM, 8, &a, os),
                         DFSAE_OK);
        dfsae_model *m = *ms;
        dfsae_optimizer *o = *os;
        io_snapshot *before = fx_snapshot(state, m);
        ctl->fail_after = ctl->allocs + i;
        int st = dfsae_model_load_buffer_into(m, o, file, size);
        ctl->fail_after = SIZE_MAX;
        if (st != DFSAE_OK) {
            if (st != DFSAE_ERR_NO_MEMORY)
                fail_msg("allocation %zu refused: status %d: %s", i, st,
                         dfsae_model_last_error(m));
            assert_true(io_snapshot_same(m, before));
            assert_int_equal(dfsae_optimizer_step_count(o), 0);
            if (strstr(dfsae_model_last_error(m), "JSON") != NULL)
                ++in_json;
        }
        fx_drop(state, before);
        fx_drop(state, o);
        fx_drop(state, m);
        assert_int_equal(ctl->allocs, ctl->frees);
        fx_drop(state, ctl);
        if (st == DFSAE_OK)
            break;
    }
    assert_true(in_json >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(test_create_load_oom_at_every_allocation),
        FIXTURE_TEST(test_load_into_oom_at_every_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
