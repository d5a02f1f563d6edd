#include <math.h>
#include <stdlib.h>

#include "api_data.h"
#include "splitmix64.h"

void api_rng_seed(api_rng *r, uint64_t seed)
{
    r->s = seed; /* any seed: SplitMix64 mixes its output */
}

double api_rng_uniform(api_rng *r)
{
    return (double)(splitmix64_next(&r->s) >> 11) * 0x1.0p-53;
}

double api_rng_normal(api_rng *r)
{
    double u = 1.0 - api_rng_uniform(r); /* (0, 1]: log(u) is finite */
    double v = api_rng_uniform(r);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

void api_fill_uniform(api_rng *r, float *x, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; ++i)
        x[i] = (float)(lo + (hi - lo) * api_rng_uniform(r));
}

void api_make_clusters(api_rng *r, float *X, size_t n, size_t d,
                       size_t clusters, double spread, double noise)
{
    double *centre = malloc(clusters * d * sizeof *centre);
    if (centre == NULL)
        abort(); /* test support only: no memory means no test */
    for (size_t i = 0; i < clusters * d; ++i)
        centre[i] = spread * api_rng_normal(r);
    for (size_t i = 0; i < n; ++i) {
        size_t c = (size_t)(api_rng_uniform(r) * (double)clusters);
        for (size_t j = 0; j < d; ++j)
            X[i * d + j] =
                (float)(centre[c * d + j] + noise * api_rng_normal(r));
    }
    free(centre);
}
