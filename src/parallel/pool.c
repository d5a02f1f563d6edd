/* The worker pool (pool.h): a generation counter under one mutex; the
 * caller publishes a job, runs part 0 itself, and waits for the rest. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "parallel/pool.h"

typedef struct pool_job {
    dfsae_range_fn body;
    void *arg;
    size_t count, chunk;
    int parts;
} pool_job;

struct dfsae_pool {
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    unsigned long generation;
    int pending; /* workers still running the current job */
    int quit;
    int threads;
    size_t min_items; /* dfsae__pool_for */
    pool_job job;
    pthread_t workers[DFSAE_MAX_THREADS - 1];
    struct worker_seat {
        dfsae_pool *pool;
        int part;
    } seats[DFSAE_MAX_THREADS - 1];
};

/* Every part runs, an empty range included, so per-part results are
 * always written. */
static void run_part(const pool_job *job, int part)
{
    size_t lo = (size_t)part * job->chunk, hi = lo + job->chunk;
    if (part == job->parts - 1 || hi > job->count)
        hi = job->count;
    if (lo > hi)
        lo = hi;
    job->body(job->arg, part, lo, hi);
}

static void *worker_main(void *p)
{
    const struct worker_seat *seat = p;
    dfsae_pool *pool = seat->pool;
    const int part = seat->part;
    unsigned long seen = 0;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (pool->generation == seen && !pool->quit)
            pthread_cond_wait(&pool->wake, &pool->lock);
        if (pool->quit)
            break;
        seen = pool->generation;
        pool_job job = pool->job;
        pthread_mutex_unlock(&pool->lock);
        run_part(&job, part);
        pthread_mutex_lock(&pool->lock);
        if (--pool->pending == 0)
            pthread_cond_signal(&pool->done);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

static void join_workers(dfsae_pool *pool, int started)
{
    pthread_mutex_lock(&pool->lock);
    pool->quit = 1;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; i < started; ++i)
        pthread_join(pool->workers[i], NULL);
}

int dfsae__pool_start(dfsae_pool **out, int threads, const dfsae_allocator *a)
{
    *out = NULL;
    dfsae_pool *pool = dfsae__alloc(a, sizeof *pool);
    if (pool == NULL)
        return DFSAE_ERR_NO_MEMORY;
    pool->generation = 0;
    pool->pending = 0;
    pool->quit = 0;
    pool->threads = threads;
    pool->min_items = DFSAE_PARALLEL_MIN;
    if (pthread_mutex_init(&pool->lock, NULL) != 0) {
        dfsae__free(a, pool);
        return DFSAE_ERR_THREAD;
    }
    if (pthread_cond_init(&pool->wake, NULL) != 0) {
        pthread_mutex_destroy(&pool->lock);
        dfsae__free(a, pool);
        return DFSAE_ERR_THREAD;
    }
    if (pthread_cond_init(&pool->done, NULL) != 0) {
        pthread_cond_destroy(&pool->wake);
        pthread_mutex_destroy(&pool->lock);
        dfsae__free(a, pool);
        return DFSAE_ERR_THREAD;
    }
    for (int i = 0; i < threads - 1; ++i) {
        pool->seats[i].pool = pool;
        pool->seats[i].part = i + 1;
        if (pthread_create(&pool->workers[i], NULL, worker_main,
                           &pool->seats[i]) != 0) {
            join_workers(pool, i);
            pool->threads = 1;
            dfsae__pool_stop(pool, a);
            return DFSAE_ERR_THREAD;
        }
    }
    *out = pool;
    return DFSAE_OK;
}

void dfsae__pool_stop(dfsae_pool *pool, const dfsae_allocator *a)
{
    if (pool == NULL)
        return;
    if (pool->threads > 1)
        join_workers(pool, pool->threads - 1);
    pthread_cond_destroy(&pool->done);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->lock);
    dfsae__free(a, pool);
}

dfsae_pool *dfsae__pool_for(dfsae_pool *pool, size_t items)
{
    return pool != NULL && items >= pool->min_items ? pool : NULL;
}

void dfsae__pool_set_min_items(dfsae_pool *pool, size_t min_items)
{
    pool->min_items = min_items;
}

int dfsae__pool_threads(const dfsae_pool *pool)
{
    return pool != NULL ? pool->threads : 1;
}

int dfsae__parallel_for(dfsae_pool *pool, size_t count, size_t align,
                        dfsae_range_fn body, void *arg)
{
    int parts = dfsae__pool_threads(pool);
    if (parts == 1) {
        body(arg, 0, 0, count);
        return 1;
    }
    size_t chunk = (count + (size_t)parts - 1) / (size_t)parts;
    chunk = (chunk + align - 1) / align * align;
    pool_job job = {body, arg, count, chunk, parts};
    pthread_mutex_lock(&pool->lock);
    pool->job = job;
    pool->pending = parts - 1;
    pool->generation++;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    run_part(&job, 0);
    pthread_mutex_lock(&pool->lock);
    while (pool->pending > 0)
        pthread_cond_wait(&pool->done, &pool->lock);
    pthread_mutex_unlock(&pool->lock);
    return parts;
}

typedef struct max_abs_job {
    const float *x;
    float part_max[DFSAE_MAX_THREADS];
} max_abs_job;

static void max_abs_part(void *arg, int part, size_t lo, size_t hi)
{
    max_abs_job *j = arg;
    j->part_max[part] = dfsae__max_abs(j->x + lo, hi - lo);
}

float dfsae__max_abs_par(dfsae_pool *pool, const float *x, size_t n)
{
    max_abs_job job;
    job.x = x;
    int parts = dfsae__parallel_for(pool, n, 16, max_abs_part, &job);
    /* Combined as bit patterns, as dfsae__max_abs does (NaN and Inf
     * patterns are the largest): the same result as one pass. */
    uint32_t best = 0;
    for (int i = 0; i < parts; ++i) {
        uint32_t u;
        memcpy(&u, &job.part_max[i], sizeof u);
        best = u > best ? u : best;
    }
    float m;
    memcpy(&m, &best, sizeof m);
    return m;
}
