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
#include "io_util.h"

/* A saved Adam checkpoint (D = 3, K = 2), test_malloc'ed. */
static unsigned char *checkpoint(size_t *size)
{
    dfsae_model *m = NULL;
    dfsae_optimizer *o = NULL;
    assert_int_equal(dfsae_model_create(3, 2, 1, NULL, &m), DFSAE_OK);
    assert_int_equal(dfsae_optimizer_create(DFSAE_ADAM, 8, NULL, &o), DFSAE_OK);
    assert_int_equal(dfsae_model_save_buffer(m, o, NULL, 0, size), DFSAE_OK);
    unsigned char *buf = test_malloc(*size);
    assert_int_equal(dfsae_model_save_buffer(m, o, buf, *size, size), DFSAE_OK);
    dfsae_optimizer_free(o);
    dfsae_model_free(m);
    return buf;
}

static void test_create_load_oom_at_every_allocation(void **state)
{
    (void)state;
    size_t size;
    unsigned char *file = checkpoint(&size);
    size_t in_json = 0, i = 0;
    for (;; ++i) {
        api_alloc_ctl ctl;
        api_alloc_ctl_init(&ctl);
        ctl.fail_after = i;
        dfsae_allocator a = api_allocator(&ctl);
        dfsae_model *m = NULL;
        dfsae_optimizer *o = NULL;
        char err[DFSAE_ERROR_MESSAGE_SIZE] = "";
        int st =
            dfsae_model_load_buffer(file, size, &a, &m, &o, err, sizeof err);
        if (st == DFSAE_OK) {
            dfsae_optimizer_free(o);
            dfsae_model_free(m);
            assert_int_equal(ctl.allocs, ctl.frees);
            break;
        }
        if (st != DFSAE_ERR_NO_MEMORY)
            fail_msg("allocation %zu refused: status %d (%s): %s", i, st,
                     dfsae_status_string(st), err);
        assert_null(m);
        assert_null(o);
        assert_int_equal(ctl.allocs, ctl.frees);
        assert_true(strstr(err, "memory") != NULL);
        if (strstr(err, "JSON") != NULL)
            ++in_json;
    }
    assert_true(i >= 3);
    /* The parser's own allocations go through the hook. */
    assert_true(in_json >= 1);
    test_free(file);
}

static void test_load_into_oom_at_every_allocation(void **state)
{
    (void)state;
    size_t size;
    unsigned char *file = checkpoint(&size);
    size_t in_json = 0, i = 0;
    for (;; ++i) {
        api_alloc_ctl ctl;
        api_alloc_ctl_init(&ctl);
        dfsae_allocator a = api_allocator(&ctl);
        dfsae_model *m = NULL;
        dfsae_optimizer *o = NULL;
        assert_int_equal(dfsae_model_create(3, 2, 9, &a, &m), DFSAE_OK);
        assert_int_equal(dfsae_optimizer_create(DFSAE_ADAM, 8, &a, &o),
                         DFSAE_OK);
        io_snapshot before;
        io_snapshot_take(m, &before);
        ctl.fail_after = ctl.allocs + i;
        int st = dfsae_model_load_buffer_into(m, o, file, size);
        ctl.fail_after = SIZE_MAX;
        if (st != DFSAE_OK) {
            if (st != DFSAE_ERR_NO_MEMORY)
                fail_msg("allocation %zu refused: status %d: %s", i, st,
                         dfsae_model_last_error(m));
            assert_true(io_snapshot_same(m, &before));
            assert_int_equal(dfsae_optimizer_step_count(o), 0);
            if (strstr(dfsae_model_last_error(m), "JSON") != NULL)
                ++in_json;
        }
        io_snapshot_free(&before);
        dfsae_optimizer_free(o);
        dfsae_model_free(m);
        assert_int_equal(ctl.allocs, ctl.frees);
        if (st == DFSAE_OK)
            break;
    }
    assert_true(in_json >= 1);
    test_free(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_load_oom_at_every_allocation),
        cmocka_unit_test(test_load_into_oom_at_every_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
