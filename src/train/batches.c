/* Cutting an epoch into batches, and the order of its rows. */
#include "rng.h"
#include "train/train.h"

void dfsae__batch_plan(dfsae_batch_plan *p, size_t n, size_t start,
                       size_t batch, int merge_single)
{
    const size_t left = n - start;
    p->n = n;
    p->start = start;
    p->batch = batch;
    p->steps = left / batch + (left % batch != 0);
    /* A lone last row cannot have a variance: it joins the batch before. */
    p->merged = merge_single && left % batch == 1 && p->steps >= 2;
    if (p->merged)
        p->steps -= 1;
}

size_t dfsae__batch_plan_max_rows(const dfsae_batch_plan *p)
{
    const size_t left = p->n - p->start;
    if (p->merged)
        return p->batch + 1;
    return left < p->batch ? left : p->batch;
}

void dfsae__batch_plan_step(const dfsae_batch_plan *p, uint64_t s,
                            size_t *first, size_t *rows)
{
    size_t start = p->start + (size_t)s * p->batch;
    size_t left = p->n - start;
    *first = start;
    if (s + 1 == p->steps && p->merged)
        *rows = left; /* batch + 1 */
    else
        *rows = left < p->batch ? left : p->batch;
}

/* Uniform integer in [0, bound) without modulo bias (rejection). */
static uint64_t below(dfsae_rng *r, uint64_t bound)
{
    uint64_t rem = (UINT64_MAX % bound + 1) % bound; /* 2^64 mod bound */
    uint64_t x;
    do
        x = dfsae__rng_next(r);
    while (x > UINT64_MAX - rem);
    return x % bound;
}

/* The generator of epoch `epoch`. Seed and epoch are hashed separately
 * and combined: nearby (seed, epoch) pairs then start far apart in the
 * generator's cycle, rather than on shifted copies of one stream. */
static void epoch_rng(dfsae_rng *r, uint64_t seed, uint64_t epoch)
{
    dfsae_rng a, b;
    dfsae__rng_seed(&a, seed);
    dfsae__rng_seed(&b, epoch ^ 0x5DEECE66Dull);
    dfsae__rng_seed(r, dfsae__rng_next(&a) ^ dfsae__rng_next(&b));
}

/* Fisher-Yates over idx[0..n). */
static void permute(dfsae_rng *r, size_t *idx, size_t n)
{
    for (size_t i = n > 0 ? n - 1 : 0; i > 0; --i) {
        size_t j = (size_t)below(r, (uint64_t)i + 1);
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

void dfsae__epoch_order(size_t *idx, size_t n, int shuffle, uint64_t seed,
                        uint64_t epoch)
{
    for (size_t i = 0; i < n; ++i)
        idx[i] = i;
    if (!shuffle || n < 2)
        return;
    dfsae_rng r;
    epoch_rng(&r, seed, epoch);
    permute(&r, idx, n);
}

size_t dfsae__chunk_count(size_t n, size_t chunk)
{
    return n / chunk + (n % chunk != 0);
}

void dfsae__epoch_order_chunked(size_t *idx, size_t *chunks, size_t n,
                                size_t chunk, size_t window, uint64_t seed,
                                uint64_t epoch)
{
    const size_t m = dfsae__chunk_count(n, chunk);
    dfsae_rng r;
    epoch_rng(&r, seed, epoch);
    for (size_t c = 0; c < m; ++c)
        chunks[c] = c;
    permute(&r, chunks, m);
    size_t pos = 0;
    for (size_t w = 0; w < m; w += window) {
        const size_t start = pos;
        for (size_t c = w; c < m && c < w + window; ++c) {
            const size_t first = chunks[c] * chunk;
            const size_t end = n - first < chunk ? n : first + chunk;
            for (size_t row = first; row < end; ++row)
                idx[pos++] = row;
        }
        permute(&r, idx + start, pos - start);
    }
}
