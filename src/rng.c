#include "rng.h"

void dfsae__rng_seed(dfsae_rng *r, uint64_t seed)
{
    r->state = seed;
}

uint64_t dfsae__rng_next(dfsae_rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

float dfsae__rng_uniform(dfsae_rng *r)
{
    return (float)(dfsae__rng_next(r) >> 40) * 0x1.0p-24f;
}
