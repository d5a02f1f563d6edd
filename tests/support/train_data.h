/* Helpers for the training and evaluation tests: seeded data from the
 * tests' own generator, a counting allocator, parameter snapshots. */
#ifndef TRAIN_DATA_H
#define TRAIN_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "dfsae.h"

/* n floats uniform in [lo, hi) from a SplitMix64 stream seeded by seed. */
void train_fill(float *x, size_t n, uint64_t seed, double lo, double hi);

/* A model (d x k, init seed) and an Adam optimizer for it; asserts. */
void train_make(size_t d, size_t k, uint64_t seed, dfsae_model **m,
                dfsae_optimizer **o);

/* A training config with these epochs, batch size and shuffle; asserts. */
dfsae_train_config *train_config(double epochs, double batch, double shuffle);

/* Sets c's key to v; asserts. */
void train_set(dfsae_train_config *c, int key, double v);

/* Copy of the model's parameters (test_malloc'd; test_free it). */
float *train_params(const dfsae_model *m);

/* Counts allocations passed through malloc/free. */
typedef struct train_counter {
    size_t allocs, frees;
} train_counter;
dfsae_allocator train_counting_allocator(train_counter *c);

#endif
