/* White-box test of the training loop's helper thread
 * (src/parallel/helper.c): on Linux it runs each job off the CPU the job
 * was posted from, within the CPUs it started with, and follows the
 * poster when it moves; with one CPU it keeps that one. */
#define _GNU_SOURCE /* sched_getcpu, pthread_{get,set}affinity_np */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "internal.h"
#include "parallel/helper.h"

typedef struct where {
    int cpu;
    cpu_set_t mask;
} where;

static void record_cpu(void *p)
{
    where *w = p;
    w->cpu = sched_getcpu();
    pthread_getaffinity_np(pthread_self(), sizeof w->mask, &w->mask);
}

static int nth_cpu(const cpu_set_t *s, int n)
{
    for (size_t c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, s) && n-- == 0)
            return (int)c;
    return -1;
}

static void pin_self(int cpu)
{
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET((size_t)cpu, &one);
    assert_int_equal(pthread_setaffinity_np(pthread_self(), sizeof one, &one),
                     0);
}

/* The job's CPUs: the helper's own less the poster's, or all of them when
 * the poster's is the only one. */
static void expect_away(const where *w, const cpu_set_t *allowed, int poster)
{
    cpu_set_t want = *allowed;
    if (CPU_COUNT(allowed) > 1) {
        CPU_CLR((size_t)poster, &want);
        assert_int_not_equal(w->cpu, poster);
    }
    assert_true(CPU_EQUAL(&w->mask, &want));
}

static void test_helper_runs_off_the_posters_cpu(void **state)
{
    (void)state;
    cpu_set_t allowed;
    assert_int_equal(
        pthread_getaffinity_np(pthread_self(), sizeof allowed, &allowed), 0);
    dfsae_allocator a;
    assert_int_equal(dfsae__allocator_init(&a, NULL), DFSAE_OK);
    dfsae_helper *h = NULL;
    /* Started with every CPU the test may use, as the training loop's. */
    assert_int_equal(dfsae__helper_start(&h, &a), DFSAE_OK);
    const int first = nth_cpu(&allowed, 0);
    const int other = CPU_COUNT(&allowed) > 1 ? nth_cpu(&allowed, 1) : first;
    const int posters[3] = {first, other, first};
    for (int i = 0; i < 3; ++i) {
        pin_self(posters[i]);
        where w;
        dfsae__helper_post(h, record_cpu, &w);
        dfsae__helper_wait(h);
        expect_away(&w, &allowed, posters[i]);
    }
    dfsae__helper_stop(h, &a);
    assert_int_equal(
        pthread_setaffinity_np(pthread_self(), sizeof allowed, &allowed), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_helper_runs_off_the_posters_cpu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
