/* When the training loop fetches the next batch on its helper thread while
 * a step trains, and when on the caller between steps. On a machine whose
 * cores the BLAS takes, a fetch on the helper takes a core from a matrix
 * product (whose threads then wait for each other), and costs the step
 * more than the fetch costs inline; with a core to spare, it is hidden.
 * Which one holds is measured, not assumed (docs/performance.md). */
#ifndef DFSAE_TRAIN_PREFETCH_H
#define DFSAE_TRAIN_PREFETCH_H

#include <stddef.h>

#include "data/source.h"

/* Whether batches of `floats` floats from src may be fetched on a helper at
 * all: not a float32 array's, whose fetch is a copy of rows (cheaper inline
 * than the hand-over and the core it takes), nor batches too small to
 * gain. */
int dfsae__prefetch_worth(const dfsae_source *src, size_t floats);

/* Steps of each probe block, blocks per probe (alternately ahead and
 * inline, ahead first), and steps between probes. */
#define DFSAE__PROBE_BLOCK  8u
#define DFSAE__PROBE_BLOCKS 6u
#define DFSAE__PROBE_EVERY  1024u

/* Tries both ways in alternating blocks of steps, then keeps the one whose
 * steps took less time until the next probe; or, told a way
 * (DFSAE_TRAIN_FETCH), takes it every time. */
typedef struct dfsae__prefetch_probe {
    int forced;        /* -1: probe; else the way to take */
    int ahead;         /* how the batch being fetched is fetched */
    int decided;       /* the way kept after the last probe */
    unsigned probed;   /* steps of the current probe; PROBE_BLOCKS x BLOCK:
                          not probing */
    unsigned since;    /* steps since the last probe ended */
    double cost[2];    /* summed step times of the probe: inline, ahead */
    unsigned count[2]; /* and their steps */
} dfsae__prefetch_probe;

/* policy: a dfsae_fetch_policy. */
void dfsae__prefetch_probe_init(dfsae__prefetch_probe *p, int policy);
/* How to fetch the next batch: 1 on the helper, 0 inline. */
int dfsae__prefetch_next(dfsae__prefetch_probe *p);
/* The time from the previous batch being ready to this one being ready,
 * this one fetched as dfsae__prefetch_next said. */
void dfsae__prefetch_took(dfsae__prefetch_probe *p, double seconds);

#endif
