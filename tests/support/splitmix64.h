/* SplitMix64: the one seeded generator of the tests and the benchmark
 * (examples/bench includes this header too), the same stream on every
 * platform. Header-only so the benchmark needs no test library. */
#ifndef DFSAE_TEST_SPLITMIX64_H
#define DFSAE_TEST_SPLITMIX64_H

#include <stdint.h>

/* Advances *state and returns its next 64 random bits. */
static inline uint64_t splitmix64_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

#endif
