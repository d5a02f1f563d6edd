/* A model's worker threads for the elementwise sweeps and the optimizer.
 *
 * Work is split into fixed ranges (dfsae__parallel_for) whose results do not
 * depend on how many threads run them: reductions are either per column
 * over all rows, or order-free (max, or), so a model gives bit-identical
 * results for every thread count. Idle workers sleep on a condition
 * variable rather than spin: the BLAS's own threads need the cores during
 * the matrix products, and a sweep worth splitting takes far longer than a
 * wake-up. */
#ifndef DFSAE_POOL_H
#define DFSAE_POOL_H

#include <stddef.h>

#include "internal.h"

#define DFSAE_MAX_THREADS 64

typedef struct dfsae_pool dfsae_pool;

/* Starts threads - 1 workers (threads in [2, DFSAE_MAX_THREADS]). Returns
 * DFSAE_OK, DFSAE_ERR_NO_MEMORY or DFSAE_ERR_THREAD (nothing is left
 * running). */
int dfsae__pool_start(dfsae_pool **out, int threads, const dfsae_allocator *a);
/* Stops and joins the workers; NULL is a no-op. */
void dfsae__pool_stop(dfsae_pool *pool, const dfsae_allocator *a);
/* Threads taking part (the caller included); 1 for NULL. */
int dfsae__pool_threads(const dfsae_pool *pool);

/* Work below this many elementwise items stays on the caller: a wake-up
 * costs tens of microseconds. */
#define DFSAE_PARALLEL_MIN ((size_t)1 << 16)

/* The pool to use for `items` items of elementwise work: NULL when too
 * few to gain (fewer than the pool's minimum, DFSAE_PARALLEL_MIN unless a
 * white-box test lowered it) or when pool is NULL. */
dfsae_pool *dfsae__pool_for(dfsae_pool *pool, size_t items);
void dfsae__pool_set_min_items(dfsae_pool *pool, size_t min_items);

/* body(arg, part, lo, hi) for every part in [0, parts), the ranges [lo,
 * hi) cutting [0, count) in order, each a multiple of `align` items but the
 * last (so some may be empty); part 0 runs on the caller. parts is
 * dfsae__pool_threads (1 for a NULL pool). Returns parts. */
typedef void (*dfsae_range_fn)(void *arg, int part, size_t lo, size_t hi);
int dfsae__parallel_for(dfsae_pool *pool, size_t count, size_t align,
                        dfsae_range_fn body, void *arg);

/* dfsae__max_abs split over the pool. */
float dfsae__max_abs_par(dfsae_pool *pool, const float *x, size_t n);

#endif
