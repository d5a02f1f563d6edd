/* User metadata: a sorted table of owned strings, and the public calls. */
#include <string.h>

#include "model.h"
#include "user_meta.h"

/* Length of a valid UTF-8 sequence starting at s (of at most n bytes), or
 * 0: no overlong forms, surrogates or code points above U+10FFFF. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned cp, min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, cp = c & 0x1Fu, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, cp = c & 0x0Fu, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, cp = c & 0x07u, min = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; ++i) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

int dfsae__meta_check(const char *key, const char *value, char *err)
{
    size_t kn = strlen(key);
    if (kn == 0 || kn > DFSAE__META_KEY_MAX)
        return dfsae__fail(err, DFSAE_ERR_INVALID_ARG,
                           "metadata key of %zu bytes: keys have 1 to %d", kn,
                           DFSAE__META_KEY_MAX);
    for (size_t i = 0; i < kn; ++i)
        if (key[i] < 0x20 || key[i] > 0x7E)
            return dfsae__fail(err, DFSAE_ERR_INVALID_ARG,
                               "metadata key \"%.64s\": byte %zu is not "
                               "printable ASCII",
                               key, i);
    if (value == NULL)
        return DFSAE_OK;
    size_t vn = strlen(value);
    if (vn > DFSAE__META_VALUE_MAX)
        return dfsae__fail(err, DFSAE_ERR_INVALID_ARG,
                           "metadata \"%s\": the value has %zu bytes, at "
                           "most %d are kept",
                           key, vn, DFSAE__META_VALUE_MAX);
    const unsigned char *v = (const unsigned char *)value;
    for (size_t i = 0; i < vn;) {
        size_t len = utf8_len(v + i, vn - i);
        if (len == 0)
            return dfsae__fail(err, DFSAE_ERR_INVALID_ARG,
                               "metadata \"%s\": the value is not UTF-8 "
                               "(byte %zu)",
                               key, i);
        i += len;
    }
    return DFSAE_OK;
}

/* Index of key, or of where it would go (with *found = 0). */
static size_t locate(const dfsae__user_meta *u, const char *key, int *found)
{
    size_t lo = 0, hi = u->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(u->kv[mid].key, key);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

const char *dfsae__meta_find(const dfsae__user_meta *u, const char *key)
{
    int found;
    size_t i = locate(u, key, &found);
    return found ? u->kv[i].value : NULL;
}

int dfsae__meta_put(dfsae__user_meta *u, const dfsae_allocator *a,
                    const char *key, const char *value, char *err)
{
    int found;
    size_t i = locate(u, key, &found);
    if (value == NULL) {
        if (found) {
            dfsae__free(a, u->kv[i].key);
            memmove(u->kv + i, u->kv + i + 1, (u->n - i - 1) * sizeof *u->kv);
            u->n--;
        }
        return DFSAE_OK;
    }
    if (!found && u->n == DFSAE__META_ENTRIES)
        return dfsae__fail(err, DFSAE_ERR_INVALID_ARG,
                           "metadata \"%s\": the model has %d entries, the "
                           "most it keeps",
                           key, DFSAE__META_ENTRIES);
    size_t kn = strlen(key), vn = strlen(value);
    char *block = dfsae__alloc(a, kn + vn + 2);
    dfsae__kv *grown = NULL;
    size_t cap = u->cap;
    if (block != NULL && !found && u->n == u->cap) {
        cap = u->cap == 0 ? 8 : 2 * u->cap;
        grown = dfsae__alloc_array(a, cap, sizeof *grown);
    }
    if (block == NULL || (cap != u->cap && grown == NULL)) {
        dfsae__free(a, block);
        return dfsae__fail(err, DFSAE_ERR_NO_MEMORY,
                           "metadata \"%s\": out of memory", key);
    }
    memcpy(block, key, kn + 1);
    memcpy(block + kn + 1, value, vn + 1);
    if (found) {
        dfsae__free(a, u->kv[i].key);
    } else {
        if (grown != NULL) {
            if (u->n > 0)
                memcpy(grown, u->kv, u->n * sizeof *grown);
            dfsae__free(a, u->kv);
            u->kv = grown;
            u->cap = cap;
        }
        memmove(u->kv + i + 1, u->kv + i, (u->n - i) * sizeof *u->kv);
        u->n++;
    }
    u->kv[i].key = block;
    u->kv[i].value = block + kn + 1;
    return DFSAE_OK;
}

void dfsae__meta_free(dfsae__user_meta *u, const dfsae_allocator *a)
{
    for (size_t i = 0; i < u->n; ++i)
        dfsae__free(a, u->kv[i].key);
    dfsae__free(a, u->kv);
    memset(u, 0, sizeof *u);
}

int dfsae_model_set_meta(dfsae_model *model, const char *key, const char *value)
{
    if (model == NULL)
        return DFSAE_ERR_NULL_ARG;
    if (key == NULL)
        return dfsae__fail(model->err, DFSAE_ERR_NULL_ARG,
                           "set_meta: key is NULL");
    int st = dfsae__meta_check(key, value, model->err);
    if (st == DFSAE_OK)
        st = dfsae__meta_put(&model->meta, &model->alloc, key, value,
                             model->err);
    return st;
}

const char *dfsae_model_get_meta(const dfsae_model *model, const char *key)
{
    if (model == NULL || key == NULL)
        return NULL;
    return dfsae__meta_find(&model->meta, key);
}

const char *dfsae_model_meta_key(const dfsae_model *model, size_t index)
{
    if (model == NULL || index >= model->meta.n)
        return NULL;
    return model->meta.kv[index].key;
}
