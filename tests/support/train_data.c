#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "splitmix64.h"
#include "train_data.h"

void train_fill(float *x, size_t n, uint64_t seed, double lo, double hi)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; ++i) {
        double u = (double)(splitmix64_next(&s) >> 11) * 0x1.0p-53;
        x[i] = (float)(lo + (hi - lo) * u);
    }
}

void train_make(size_t d, size_t k, uint64_t seed, dfsae_model **m,
                dfsae_optimizer **o)
{
    assert_int_equal(dfsae_model_create(d, k, seed, NULL, m), DFSAE_OK);
    if (o != NULL)
        assert_int_equal(dfsae_optimizer_create(
                             DFSAE_ADAM, dfsae_model_num_params(*m), NULL, o),
                         DFSAE_OK);
}

float *train_params(const dfsae_model *m)
{
    size_t np = dfsae_model_num_params(m);
    float *p = test_malloc(np * sizeof *p);
    assert_int_equal(dfsae_model_get_params(m, p, np), DFSAE_OK);
    return p;
}

static void *count_alloc(void *opaque, size_t size)
{
    ((train_counter *)opaque)->allocs++;
    return malloc(size);
}

static void count_free(void *opaque, void *ptr)
{
    ((train_counter *)opaque)->frees++;
    free(ptr);
}

dfsae_allocator train_counting_allocator(train_counter *c)
{
    dfsae_allocator a = {count_alloc, count_free, c};
    return a;
}

dfsae_train_config *train_config(double epochs, double batch, double shuffle)
{
    dfsae_train_config *c = NULL;
    assert_int_equal(dfsae_train_config_create(NULL, &c), DFSAE_OK);
    train_set(c, DFSAE_TRAIN_EPOCHS, epochs);
    train_set(c, DFSAE_TRAIN_BATCH_SIZE, batch);
    train_set(c, DFSAE_TRAIN_SHUFFLE, shuffle);
    return c;
}

void train_set(dfsae_train_config *c, int key, double v)
{
    assert_int_equal(dfsae_train_config_set(c, key, v), DFSAE_OK);
}
