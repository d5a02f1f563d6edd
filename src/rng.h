/* dfsae's own seeded generator (SplitMix64): the same seed gives the same
 * stream on every platform and build. */
#ifndef DFSAE_RNG_H
#define DFSAE_RNG_H

#include <stdint.h>

typedef struct dfsae_rng {
    uint64_t state;
} dfsae_rng;

void dfsae__rng_seed(dfsae_rng *r, uint64_t seed);
uint64_t dfsae__rng_next(dfsae_rng *r);
/* Uniform in [0, 1) with 24 random bits (exact in float). */
float dfsae__rng_uniform(dfsae_rng *r);

#endif
