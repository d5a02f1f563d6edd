/* The worker pool (src/parallel): every item of [0, count) falls in exactly
 * one part, in order, each part a multiple of the alignment but the last;
 * parts beyond the first run on other threads; small work and a NULL pool
 * stay on the caller; the parallel max keeps NaN and Inf like one pass. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "parallel/pool.h"

#define MAX_COUNT 1000

typedef struct record {
    int hits[MAX_COUNT];
    size_t lo[DFSAE_MAX_THREADS], hi[DFSAE_MAX_THREADS];
    pthread_t who[DFSAE_MAX_THREADS];
    int calls[DFSAE_MAX_THREADS];
} record;

static void note(void *arg, int part, size_t lo, size_t hi)
{
    record *r = arg;
    r->lo[part] = lo;
    r->hi[part] = hi;
    r->who[part] = pthread_self();
    r->calls[part] += 1;
    for (size_t i = lo; i < hi; ++i)
        r->hits[i] += 1; /* parts are disjoint: no two threads share i */
}

static void test_ranges_cover_once_in_order(void **state)
{
    (void)state;
    dfsae_allocator alloc;
    assert_int_equal(dfsae__allocator_init(&alloc, NULL), DFSAE_OK);
    const size_t counts[] = {0, 1, 15, 16, 17, 250, 999, MAX_COUNT};
    const size_t aligns[] = {1, 16};
    for (int threads = 2; threads <= 5; ++threads) {
        dfsae_pool *pool;
        assert_int_equal(dfsae__pool_start(&pool, threads, &alloc), DFSAE_OK);
        assert_int_equal(dfsae__pool_threads(pool), threads);
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; ++c)
            for (size_t al = 0; al < 2; ++al) {
                static record r;
                memset(&r, 0, sizeof r);
                int parts =
                    dfsae__parallel_for(pool, counts[c], aligns[al], note, &r);
                assert_int_equal(parts, threads);
                size_t next = 0;
                for (int p = 0; p < parts; ++p) {
                    assert_int_equal(r.calls[p], 1);
                    assert_int_equal(r.lo[p], next);
                    assert_true(r.hi[p] >= r.lo[p]);
                    if (r.hi[p] != counts[c])
                        assert_int_equal(r.hi[p] % aligns[al], 0);
                    next = r.hi[p];
                }
                assert_int_equal(next, counts[c]);
                for (size_t i = 0; i < counts[c]; ++i)
                    assert_int_equal(r.hits[i], 1);
                /* part 0 on the caller; a non-empty part on a worker */
                assert_true(pthread_equal(r.who[0], pthread_self()));
                for (int p = 1; p < parts; ++p)
                    assert_false(pthread_equal(r.who[p], pthread_self()));
            }
        dfsae__pool_stop(pool, &alloc);
    }
}

static void test_small_work_and_null_pool_stay_on_the_caller(void **state)
{
    (void)state;
    dfsae_allocator alloc;
    assert_int_equal(dfsae__allocator_init(&alloc, NULL), DFSAE_OK);
    dfsae_pool *pool;
    assert_int_equal(dfsae__pool_start(&pool, 2, &alloc), DFSAE_OK);
    assert_null(dfsae__pool_for(pool, DFSAE_PARALLEL_MIN - 1));
    assert_ptr_equal(dfsae__pool_for(pool, DFSAE_PARALLEL_MIN), pool);
    static record r;
    memset(&r, 0, sizeof r);
    assert_int_equal(dfsae__parallel_for(NULL, 100, 16, note, &r), 1);
    assert_int_equal(r.lo[0], 0);
    assert_int_equal(r.hi[0], 100);
    assert_true(pthread_equal(r.who[0], pthread_self()));
    assert_int_equal(dfsae__pool_threads(NULL), 1);
    dfsae__pool_stop(pool, &alloc);
    dfsae__pool_stop(NULL, &alloc);
}

static void test_parallel_max_matches_one_pass(void **state)
{
    (void)state;
    dfsae_allocator alloc;
    assert_int_equal(dfsae__allocator_init(&alloc, NULL), DFSAE_OK);
    dfsae_pool *pool;
    assert_int_equal(dfsae__pool_start(&pool, 3, &alloc), DFSAE_OK);
    static float x[4099];
    const size_t n = sizeof x / sizeof x[0];
    for (size_t i = 0; i < n; ++i)
        x[i] = (float)sin((double)i) * (float)(i % 7);
    const size_t spots[] = {0, 1500, 4098};
    const float specials[] = {-1e30f, INFINITY, -INFINITY, NAN};
    for (size_t s = 0; s < 3; ++s)
        for (size_t v = 0; v < 4; ++v) {
            float keep = x[spots[s]];
            x[spots[s]] = specials[v];
            float one = dfsae__max_abs(x, n);
            float par = dfsae__max_abs_par(pool, x, n);
            assert_memory_equal(&one, &par, sizeof one);
            x[spots[s]] = keep;
        }
    float one = dfsae__max_abs(x, n), par = dfsae__max_abs_par(pool, x, n);
    assert_memory_equal(&one, &par, sizeof one);
    dfsae__pool_stop(pool, &alloc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranges_cover_once_in_order),
        cmocka_unit_test(test_small_work_and_null_pool_stay_on_the_caller),
        cmocka_unit_test(test_parallel_max_matches_one_pass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
