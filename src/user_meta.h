/* A model's user metadata: string key/value pairs the caller attaches to
 * a model and model files carry under "user." (docs/format.md). */
#ifndef DFSAE_USER_META_H
#define DFSAE_USER_META_H

#include <stddef.h>

#include "internal.h"

/* The limits the header documents at dfsae_model_set_meta: they keep the
 * largest possible header (every byte escaped) far below
 * DFSAE_MAX_HEADER_BYTES, so whatever is set can be saved and loaded. */
#define DFSAE__META_KEY_MAX   64
#define DFSAE__META_VALUE_MAX 16384
#define DFSAE__META_ENTRIES   256

typedef struct dfsae__kv {
    char *key; /* one block: key, NUL, value, NUL */
    const char *value;
} dfsae__kv;

/* Sorted by key (strcmp), so files list them in a fixed order. */
typedef struct dfsae__user_meta {
    dfsae__kv *kv;
    size_t n, cap;
} dfsae__user_meta;

/* DFSAE_OK, or DFSAE_ERR_INVALID_ARG with err saying why. */
int dfsae__meta_check(const char *key, const char *value, char *err);
/* Sets (value non-NULL) or deletes (value NULL) a checked pair; on
 * failure (DFSAE_ERR_NO_MEMORY, DFSAE_ERR_INVALID_ARG for one entry too
 * many) the table is unchanged. */
int dfsae__meta_put(dfsae__user_meta *u, const dfsae_allocator *a,
                    const char *key, const char *value, char *err);
const char *dfsae__meta_find(const dfsae__user_meta *u, const char *key);
void dfsae__meta_free(dfsae__user_meta *u, const dfsae_allocator *a);

#endif
