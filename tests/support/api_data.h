/* Seeded synthetic data for the API tests, from the tests' SplitMix64
 * (splitmix64.h), independent of the library's generator. */
#ifndef API_DATA_H
#define API_DATA_H

#include <stddef.h>
#include <stdint.h>

typedef struct api_rng {
    uint64_t s;
} api_rng;

void api_rng_seed(api_rng *r, uint64_t seed);
/* Uniform in [0, 1). */
double api_rng_uniform(api_rng *r);
/* Standard normal (Box-Muller). */
double api_rng_normal(api_rng *r);

/* n floats uniform in [lo, hi). */
void api_fill_uniform(api_rng *r, float *x, size_t n, double lo, double hi);

/* n x d rows drawn from a mixture of `clusters` Gaussians: centres
 * N(0, spread^2) per coordinate, each row its centre plus N(0, noise^2). */
void api_make_clusters(api_rng *r, float *X, size_t n, size_t d,
                       size_t clusters, double spread, double noise);

#endif
