/* Training-test helpers whose results the fixture owns (fixture.h): seeded
 * data, fresh models made the same way every time, a run on a source. */
#ifndef TRAIN_FIXTURE_H
#define TRAIN_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "dfsae.h"

/* How a test's fresh models are made: the same initial parameters and
 * shuffle every time. */
typedef struct fresh_model {
    size_t d, k;
    uint64_t init_seed;    /* dfsae_model_create's seed */
    uint64_t shuffle_seed; /* run state (epoch 0, row 0, this seed) */
} fresh_model;

/* n rows of d floats uniform in [-1, 1) (train_fill from seed). */
float *fx_train_data(void **state, size_t n, size_t d, uint64_t seed);

/* A training config with these epochs, batch size and shuffle. */
dfsae_train_config *fx_config(void **state, double epochs, double batch,
                              double shuffle);

/* A model as f says and an Adam optimizer for it; asserts. */
void fx_fresh(void **state, const fresh_model *f, dfsae_model **m,
              dfsae_optimizer **o);

/* Trains a fresh model on src, reporting to progress (may be NULL) with
 * user; returns its parameters (the model and optimizer dropped). */
float *fx_train_fresh(void **state, const fresh_model *f, dfsae_source *src,
                      const dfsae_train_config *c, dfsae_progress_fn progress,
                      void *user);

/* Asserts two parameter vectors of f's shape are bit-identical. */
void fresh_assert_same(const fresh_model *f, const float *a, const float *b);

#endif
