/* The prefetch policy of the training loop (prefetch.h). */
#include "train/prefetch.h"

/* Batches of fewer floats are fetched on the caller: the hand-over to the
 * helper thread (tens of microseconds) would cost more than it hides. */
#define PREFETCH_MIN_FLOATS ((size_t)4096)

#define PROBE_STEPS (DFSAE__PROBE_BLOCK * DFSAE__PROBE_BLOCKS)

int dfsae__prefetch_worth(const dfsae_source *src, size_t floats)
{
    const int copy_of_rows =
        dfsae__source_is_array(src) && src->element == DFSAE_ELEM_F32;
    return !copy_of_rows && floats >= PREFETCH_MIN_FLOATS;
}

void dfsae__prefetch_probe_init(dfsae__prefetch_probe *p, int policy)
{
    p->forced = policy == DFSAE_FETCH_AUTO ? -1 : policy == DFSAE_FETCH_AHEAD;
    p->ahead = 1;
    p->decided = 1;
    p->probed = 0;
    p->since = 0;
    p->cost[0] = p->cost[1] = 0.0;
    p->count[0] = p->count[1] = 0;
}

int dfsae__prefetch_next(dfsae__prefetch_probe *p)
{
    if (p->forced >= 0)
        p->ahead = p->forced;
    else if (p->probed < PROBE_STEPS)
        p->ahead = (p->probed / DFSAE__PROBE_BLOCK) % 2 == 0;
    else
        p->ahead = p->decided;
    return p->ahead;
}

void dfsae__prefetch_took(dfsae__prefetch_probe *p, double seconds)
{
    if (p->forced >= 0)
        return;
    if (p->probed < PROBE_STEPS) {
        p->cost[p->ahead] += seconds;
        p->count[p->ahead]++;
        if (++p->probed == PROBE_STEPS) {
            /* Means: equal counts by construction, but say what is meant. */
            double inline_mean = p->cost[0] / p->count[0];
            double ahead_mean = p->cost[1] / p->count[1];
            p->decided = ahead_mean < inline_mean;
            p->since = 0;
        }
        return;
    }
    if (++p->since == DFSAE__PROBE_EVERY) {
        p->probed = 0;
        p->cost[0] = p->cost[1] = 0.0;
        p->count[0] = p->count[1] = 0;
    }
}
