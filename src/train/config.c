/* The training config: defaults, bounds and access by key. */
#include <float.h>
#include <limits.h>
#include <string.h>

#include "keyspec.h"
#include "train/train.h"

/* Integers up to 2^53 travel exactly in a double. */
#define MAX_EXACT 9007199254740992.0

/* Training keys are not saved in model files: no metadata names. */
#define AT(p) DFSAE__KEY_AT(struct dfsae_train_config, value[p])
#define ROW(p, lo, hi, def, kind)                                              \
    [p] = {NULL, lo, hi, def, kind, NULL, NULL, AT(p)}

static const dfsae__key_spec specs[DFSAE__TRAIN_SLOTS] = {
    ROW(DFSAE_TRAIN_EPOCHS, 1, MAX_EXACT, 1, DFSAE__KIND_INTEGER),
    ROW(DFSAE_TRAIN_BATCH_SIZE, 1, INT_MAX, 128, DFSAE__KIND_INTEGER),
    /* 0 none, 1 rows (or chunked), 2 chunked */
    ROW(DFSAE_TRAIN_SHUFFLE, 0, 2, 1, DFSAE__KIND_INTEGER),
    ROW(DFSAE_TRAIN_REPORT_EVERY, 0, MAX_EXACT, 1, DFSAE__KIND_INTEGER),
    ROW(DFSAE_TRAIN_EVAL_REDUNDANCY, 0, 1, 1, DFSAE__KIND_BOOL),
    ROW(DFSAE_TRAIN_CONVERGE_TOLERANCE, 0, DBL_MAX, 0, DFSAE__KIND_REAL),
    ROW(DFSAE_TRAIN_CONVERGE_PATIENCE, 1, MAX_EXACT, 5, DFSAE__KIND_INTEGER),
    ROW(DFSAE_TRAIN_SHUFFLE_CHUNK, 1, MAX_EXACT, 256, DFSAE__KIND_INTEGER),
    ROW(DFSAE_TRAIN_SHUFFLE_WINDOW, 1, MAX_EXACT, 16, DFSAE__KIND_INTEGER),
    /* Experimental (dfsae_experimental.h): keys apart from the public
     * ones, so that these can come and go without a hole in them. */
    ROW(DFSAE__TRAIN_FETCH_SLOT, DFSAE_FETCH_AUTO, DFSAE_FETCH_BETWEEN,
        DFSAE_FETCH_AUTO, DFSAE__KIND_INTEGER),
};

static const dfsae__key_spec *spec_of(int param)
{
    if (param == DFSAE_TRAIN_FETCH)
        return &specs[DFSAE__TRAIN_FETCH_SLOT];
    return param >= 0 && param < DFSAE_TRAIN_OPTION_COUNT ? &specs[param]
                                                          : NULL;
}

void dfsae__train_config_default(struct dfsae_train_config *c)
{
    for (int p = 0; p < DFSAE__TRAIN_SLOTS; ++p)
        dfsae__key_store(&specs[p], c, specs[p].def);
}

double dfsae__train_value(const dfsae_train_config *c, int param)
{
    return c != NULL ? dfsae__key_load(&specs[param], c) : specs[param].def;
}

uint64_t dfsae__train_u64(const dfsae_train_config *c, int param)
{
    return (uint64_t)dfsae__train_value(c, param);
}

int dfsae__train_fetch(const dfsae_train_config *c)
{
    return (int)dfsae__train_value(c, DFSAE__TRAIN_FETCH_SLOT);
}

size_t dfsae__train_batch_size(const dfsae_train_config *c)
{
    return (size_t)dfsae__train_u64(c, DFSAE_TRAIN_BATCH_SIZE);
}

int dfsae_train_config_create(const dfsae_allocator *allocator,
                              dfsae_train_config **out)
{
    if (out == NULL)
        return DFSAE_ERR_NULL_ARG;
    *out = NULL;
    dfsae_allocator a;
    if (dfsae__allocator_init(&a, allocator) != DFSAE_OK)
        return DFSAE_ERR_INVALID_ARG;
    dfsae_train_config *c = dfsae__alloc(&a, sizeof *c);
    *out = c;
    if (c == NULL)
        return DFSAE_ERR_NO_MEMORY;
    memset(c, 0, sizeof *c);
    c->alloc = a;
    dfsae__train_config_default(c);
    return DFSAE_OK;
}

void dfsae_train_config_free(dfsae_train_config *config)
{
    if (config == NULL)
        return;
    dfsae_allocator a = config->alloc;
    dfsae__free(&a, config);
}

int dfsae_train_option_bounds(int param, double *lo, double *hi)
{
    return dfsae__key_bounds(spec_of(param), lo, hi);
}

int dfsae_train_config_set(dfsae_train_config *config, int param, double value)
{
    if (config == NULL)
        return DFSAE_ERR_NULL_ARG;
    const dfsae__key_spec *s = spec_of(param);
    if (s == NULL)
        return DFSAE_ERR_UNKNOWN_PARAM;
    if (!dfsae__key_valid(s, value))
        return DFSAE_ERR_PARAM_OUT_OF_RANGE;
    dfsae__key_store(s, config, value);
    return DFSAE_OK;
}

int dfsae_train_config_get(const dfsae_train_config *config, int param,
                           double *value)
{
    if (config == NULL || value == NULL)
        return DFSAE_ERR_NULL_ARG;
    const dfsae__key_spec *s = spec_of(param);
    if (s == NULL)
        return DFSAE_ERR_UNKNOWN_PARAM;
    *value = dfsae__key_load(s, config);
    return DFSAE_OK;
}
