/* The safetensors header: JSON parsed by cJSON, then every rule of the
 * layout checked, so that later code can trust names, dtypes, shapes and
 * offsets. Tensors other than dfsae's are validated and kept too: their
 * offsets take part in the no-overlap, no-gap rule. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "io/io.h"

typedef struct dtype_info {
    const char *name;
    size_t size;
} dtype_info;

/* The safetensors dtypes of a whole number of bytes. */
static const dtype_info dtypes[] = {
    {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1},
    {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},
    {"U32", 4},  {"F32", 4}, {"F64", 8}, {"I64", 8},     {"U64", 8},
};

static size_t dtype_size(const char *name)
{
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; ++i)
        if (strcmp(dtypes[i].name, name) == 0)
            return dtypes[i].size;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* cJSON keeps every member of an object, duplicates included. Sorting the
 * keys finds them in n log n whatever the member count. */
static int check_duplicates(const cJSON *obj, const char *where,
                            const dfsae_allocator *a, char *err)
{
    size_t n = 0;
    for (const cJSON *c = obj->child; c != NULL; c = c->next)
        ++n;
    if (n < 2)
        return DFSAE_OK;
    const char **keys = dfsae__alloc_array(a, n, sizeof *keys);
    if (keys == NULL)
        return dfsae__fail(err, DFSAE_ERR_NO_MEMORY,
                           "out of memory checking %zu keys", n);
    size_t i = 0;
    for (const cJSON *c = obj->child; c != NULL; c = c->next)
        keys[i++] = c->string;
    qsort(keys, n, sizeof *keys, cmp_str);
    int st = DFSAE_OK;
    for (i = 1; i < n; ++i) {
        if (strcmp(keys[i - 1], keys[i]) == 0) {
            st = dfsae__fail(err, DFSAE_ERR_DUPLICATE_KEY,
                             "the key \"%.64s\" appears twice in %s", keys[i],
                             where);
            break;
        }
    }
    dfsae__free(a, keys);
    return st;
}

/* A JSON number that is a whole value in [0, 2^53]. */
static int as_index(const cJSON *v, uint64_t *out)
{
    if (!cJSON_IsNumber(v))
        return 0;
    double d = v->valuedouble;
    if (!(d >= 0.0 && d <= DFSAE__MAX_JSON_INT) || d != floor(d))
        return 0;
    *out = (uint64_t)d;
    return 1;
}

static int read_tensor(const cJSON *entry, dfsae__tensor *t,
                       const dfsae_allocator *a, char *err)
{
    const char *name = entry->string;
    if (!cJSON_IsObject(entry))
        return dfsae__fail(err, DFSAE_ERR_BAD_HEADER,
                           "tensor \"%.64s\" is not a JSON object", name);
    int st = check_duplicates(entry, name, a, err);
    if (st != DFSAE_OK)
        return st;
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(entry, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(entry, "shape");
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(entry, "data_offsets");
    if (!cJSON_IsString(dtype) || !cJSON_IsArray(shape) || !cJSON_IsArray(offs))
        return dfsae__fail(err, DFSAE_ERR_BAD_HEADER,
                           "tensor \"%.64s\" needs a string \"dtype\" and "
                           "arrays \"shape\" and \"data_offsets\"",
                           name);
    t->name = name;
    t->dtype = dtype->valuestring;
    t->elem_size = dtype_size(t->dtype);
    if (t->elem_size == 0)
        return dfsae__fail(err, DFSAE_ERR_BAD_DTYPE,
                           "tensor \"%.64s\" has the unknown dtype "
                           "\"%.32s\"",
                           name, t->dtype);

    t->rank = 0;
    t->count = 1;
    t->dims[0] = t->dims[1] = 0;
    int overflow = 0;
    for (const cJSON *d = shape->child; d != NULL; d = d->next) {
        uint64_t dim;
        if (!as_index(d, &dim))
            return dfsae__fail(err, DFSAE_ERR_BAD_SHAPE,
                               "tensor \"%.64s\": dimension %zu is not a "
                               "whole number in [0, 2^53]",
                               name, t->rank);
        if (t->rank < 2)
            t->dims[t->rank] = dim;
        ++t->rank;
        if (dim != 0 && t->count > UINT64_MAX / dim)
            overflow = 1;
        else
            t->count *= dim;
    }
    /* A zero dimension makes the count 0 even after an overflow. */
    if (overflow && t->count != 0)
        return dfsae__fail(err, DFSAE_ERR_SIZE_OVERFLOW,
                           "tensor \"%.64s\": the shape's element count "
                           "overflows 64 bits",
                           name);
    uint64_t bytes;
    if (t->count > UINT64_MAX / t->elem_size)
        return dfsae__fail(err, DFSAE_ERR_SIZE_OVERFLOW,
                           "tensor \"%.64s\": the byte size overflows 64 "
                           "bits",
                           name);
    bytes = t->count * t->elem_size;

    if (cJSON_GetArraySize(offs) != 2 || !as_index(offs->child, &t->begin) ||
        !as_index(offs->child->next, &t->end))
        return dfsae__fail(err, DFSAE_ERR_BAD_OFFSETS,
                           "tensor \"%.64s\": data_offsets must be two "
                           "whole numbers in [0, 2^53]",
                           name);
    if (t->end < t->begin)
        return dfsae__fail(err, DFSAE_ERR_BAD_OFFSETS,
                           "tensor \"%.64s\": data_offsets end before "
                           "they begin",
                           name);
    if (t->end - t->begin != bytes)
        return dfsae__fail(err, DFSAE_ERR_BAD_OFFSETS,
                           "tensor \"%.64s\": data_offsets span %llu "
                           "bytes, the shape and dtype need %llu",
                           name, (unsigned long long)(t->end - t->begin),
                           (unsigned long long)bytes);
    return DFSAE_OK;
}

static int cmp_tensor(const void *pa, const void *pb)
{
    const dfsae__tensor *a = pa, *b = pb;
    if (a->begin != b->begin)
        return a->begin < b->begin ? -1 : 1;
    if (a->end != b->end)
        return a->end < b->end ? -1 : 1;
    return 0;
}

/* The tensors must tile the data section exactly: sorted by offset, each
 * starts where the previous ended, the last ends at the section's end. */
static int check_tiling(dfsae__st_header *h, uint64_t data_avail, char *err)
{
    qsort(h->tensors, h->n_tensors, sizeof *h->tensors, cmp_tensor);
    uint64_t at = 0;
    for (size_t i = 0; i < h->n_tensors; ++i) {
        const dfsae__tensor *t = &h->tensors[i];
        if (t->begin != at)
            return dfsae__fail(
                err, DFSAE_ERR_BAD_OFFSETS,
                "tensor \"%.64s\" starts at byte %llu of the data, the "
                "previous tensor ends at %llu (%s)",
                t->name, (unsigned long long)t->begin, (unsigned long long)at,
                t->begin < at ? "overlap" : "gap");
        at = t->end;
    }
    h->data_len = at;
    if (at > data_avail)
        return dfsae__fail(err, DFSAE_ERR_TRUNCATED,
                           "the tensors need %llu bytes of data, the file "
                           "holds %llu",
                           (unsigned long long)at,
                           (unsigned long long)data_avail);
    if (at < data_avail)
        return dfsae__fail(err, DFSAE_ERR_BAD_OFFSETS,
                           "%llu bytes after the last tensor belong to no "
                           "tensor",
                           (unsigned long long)(data_avail - at));
    return DFSAE_OK;
}

static int check_metadata(const cJSON *meta, const dfsae_allocator *a,
                          char *err)
{
    if (!cJSON_IsObject(meta))
        return dfsae__fail(err, DFSAE_ERR_BAD_METADATA,
                           "\"__metadata__\" is not a JSON object");
    int st = check_duplicates(meta, "__metadata__", a, err);
    if (st != DFSAE_OK)
        return st;
    for (const cJSON *c = meta->child; c != NULL; c = c->next)
        if (!cJSON_IsString(c))
            return dfsae__fail(err, DFSAE_ERR_BAD_METADATA,
                               "metadata \"%.64s\" is not a string", c->string);
    return DFSAE_OK;
}

static int is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int dfsae__st_parse(const char *text, size_t n, uint64_t data_avail,
                    const dfsae_allocator *a, dfsae__st_header *h, char *err)
{
    memset(h, 0, sizeof *h);
    if (n == 0 || text[0] != '{')
        return dfsae__fail(err, DFSAE_ERR_BAD_HEADER,
                           "the header does not start with '{'");
    int st = dfsae__json_prescan(text, n, err);
    if (st != DFSAE_OK)
        return st;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, n, &end, 0);
    if (root == NULL) {
        size_t at = end != NULL && end >= text ? (size_t)(end - text) : 0;
        return dfsae__fail(err, DFSAE_ERR_BAD_HEADER,
                           "the header is not valid JSON (near byte %zu)", at);
    }
    h->json = root;
    for (size_t i = (size_t)(end - text); i < n; ++i)
        if (!is_json_space(text[i])) {
            st = dfsae__fail(err, DFSAE_ERR_BAD_HEADER,
                             "the header has data after its JSON object "
                             "(byte %zu)",
                             i);
            goto fail;
        }
    if (!cJSON_IsObject(root)) {
        st = dfsae__fail(err, DFSAE_ERR_BAD_HEADER,
                         "the header is not a JSON object");
        goto fail;
    }
    st = check_duplicates(root, "the header", a, err);
    if (st != DFSAE_OK)
        goto fail;

    size_t count = 0;
    for (const cJSON *c = root->child; c != NULL; c = c->next) {
        if (strcmp(c->string, "__metadata__") == 0) {
            st = check_metadata(c, a, err);
            if (st != DFSAE_OK)
                goto fail;
            h->metadata = c;
        } else {
            ++count;
        }
    }
    h->tensors = dfsae__alloc_array(a, count, sizeof *h->tensors);
    if (h->tensors == NULL) {
        st = dfsae__fail(err, DFSAE_ERR_NO_MEMORY,
                         "out of memory for %zu tensor entries", count);
        goto fail;
    }
    for (const cJSON *c = root->child; c != NULL; c = c->next) {
        if (c == h->metadata)
            continue;
        st = read_tensor(c, &h->tensors[h->n_tensors], a, err);
        if (st != DFSAE_OK)
            goto fail;
        ++h->n_tensors;
    }
    st = check_tiling(h, data_avail, err);
    if (st != DFSAE_OK)
        goto fail;
    return DFSAE_OK;
fail:
    dfsae__st_header_free(h, a);
    return st;
}

void dfsae__st_header_free(dfsae__st_header *h, const dfsae_allocator *a)
{
    cJSON_Delete(h->json);
    dfsae__free(a, h->tensors);
    memset(h, 0, sizeof *h);
}

const dfsae__tensor *dfsae__st_find(const dfsae__st_header *h, const char *name)
{
    for (size_t i = 0; i < h->n_tensors; ++i)
        if (strcmp(h->tensors[i].name, name) == 0)
            return &h->tensors[i];
    return NULL;
}

const char *dfsae__st_meta(const dfsae__st_header *h, const char *key)
{
    if (h->metadata == NULL)
        return NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(h->metadata, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int dfsae__st_meta_each(const dfsae__st_header *h,
                        int (*fn)(void *ctx, const char *key,
                                  const char *value),
                        void *ctx)
{
    if (h->metadata == NULL)
        return DFSAE_OK;
    const cJSON *meta = h->metadata;
    for (const cJSON *c = meta->child; c != NULL; c = c->next) {
        int st = fn(ctx, c->string, c->valuestring);
        if (st != DFSAE_OK)
            return st;
    }
    return DFSAE_OK;
}
