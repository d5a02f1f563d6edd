/* The safetensors header: strict JSON (json.c), then every rule of the
 * layout checked, so that later code can trust names, dtypes, shapes and
 * offsets. Tensors other than dfsae's are validated and kept too: their
 * offsets take part in the no-overlap, no-gap rule. */
#include <stdlib.h>
#include <string.h>

#include "safetensors/safetensors.h"

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

/* A JSON integer in [0, 2^53], written without fraction or exponent. */
static int as_index(const dfsae__json *v, uint64_t *out)
{
    if (v == NULL || v->type != DFSAE__JSON_NUMBER || !v->is_index)
        return 0;
    *out = v->u.index;
    return 1;
}

static int is_type(const dfsae__json *v, int type)
{
    return v != NULL && v->type == type;
}

static int read_tensor(const dfsae__json *entry, dfsae__tensor *t, char *err)
{
    const char *name = entry->key;
    if (!is_type(entry, DFSAE__JSON_OBJECT))
        return dfsae__fail(err, DFSAE_ERR_BAD_HEADER,
                           "tensor \"%.64s\" is not a JSON object", name);
    const dfsae__json *dtype = dfsae__json_get(entry, "dtype");
    const dfsae__json *shape = dfsae__json_get(entry, "shape");
    const dfsae__json *offs = dfsae__json_get(entry, "data_offsets");
    if (!is_type(dtype, DFSAE__JSON_STRING) ||
        !is_type(shape, DFSAE__JSON_ARRAY) || !is_type(offs, DFSAE__JSON_ARRAY))
        return dfsae__fail(err, DFSAE_ERR_BAD_HEADER,
                           "tensor \"%.64s\" needs a string \"dtype\" and "
                           "arrays \"shape\" and \"data_offsets\"",
                           name);
    t->name = name;
    t->dtype = dtype->u.str;
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
    for (const dfsae__json *d = dfsae__json_first(shape); d != NULL;
         d = d->next) {
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

    if (offs->count != 2 || !as_index(dfsae__json_first(offs), &t->begin) ||
        !as_index(dfsae__json_first(offs)->next, &t->end))
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

static int check_metadata(const dfsae__json *meta, char *err)
{
    if (!is_type(meta, DFSAE__JSON_OBJECT))
        return dfsae__fail(err, DFSAE_ERR_BAD_METADATA,
                           "\"__metadata__\" is not a JSON object");
    for (const dfsae__json *c = dfsae__json_first(meta); c != NULL; c = c->next)
        if (c->type != DFSAE__JSON_STRING)
            return dfsae__fail(err, DFSAE_ERR_BAD_METADATA,
                               "metadata \"%.64s\" is not a string", c->key);
    return DFSAE_OK;
}

int dfsae__st_header_length(const dfsae__source *src, uint64_t *n, char *err)
{
    unsigned char prefix[9];
    if (src->size < 8)
        return dfsae__fail(err, DFSAE_ERR_TRUNCATED,
                           "the file has %llu bytes; a safetensors file "
                           "starts with an 8-byte header length",
                           (unsigned long long)src->size);
    size_t have = src->size > 8 ? 9 : 8;
    int st = src->read(src->ctx, 0, prefix, have, err);
    if (st != DFSAE_OK)
        return st;
    *n = dfsae__u64_from_le(prefix);
    int fits = *n <= DFSAE_MAX_HEADER_BYTES && *n <= src->size - 8;
    /* A length that cannot be right and no '{' where the header would
     * start: some other format (gzip, zip, text), not a damaged model. */
    if (!fits && have == 9 && prefix[8] != '{')
        return dfsae__fail(err, DFSAE_ERR_BAD_HEADER,
                           "not a safetensors model file (the first 8 "
                           "bytes are not a plausible header length and "
                           "no JSON header follows them)");
    if (*n > DFSAE_MAX_HEADER_BYTES)
        return dfsae__fail(err, DFSAE_ERR_HEADER_TOO_LARGE,
                           "the header length %llu is above the limit of "
                           "%u bytes",
                           (unsigned long long)*n, DFSAE_MAX_HEADER_BYTES);
    if (*n > src->size - 8)
        return dfsae__fail(err, DFSAE_ERR_TRUNCATED,
                           "the header length is %llu bytes, the file has "
                           "only %llu after it",
                           (unsigned long long)*n,
                           (unsigned long long)(src->size - 8));
    return DFSAE_OK;
}

int dfsae__st_parse(const char *text, size_t n, uint64_t data_avail,
                    const dfsae_allocator *a, dfsae__st_header *h, char *err)
{
    memset(h, 0, sizeof *h);
    if (n == 0 || text[0] != '{')
        return dfsae__fail(err, DFSAE_ERR_BAD_HEADER,
                           "the header does not start with '{'");
    int st = dfsae__json_parse(text, n, a, &h->json, err);
    if (st != DFSAE_OK)
        return st;
    const dfsae__json *root = &h->json.nodes[0];
    size_t count = 0;
    for (const dfsae__json *c = dfsae__json_first(root); c != NULL;
         c = c->next) {
        if (strcmp(c->key, "__metadata__") == 0) {
            st = check_metadata(c, err);
            if (st != DFSAE_OK)
                goto fail;
            /* strings only: the members are the nodes after it */
            h->meta = c->count > 0 ? c + 1 : NULL;
            h->n_meta = c->count;
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
    for (const dfsae__json *c = dfsae__json_first(root); c != NULL;
         c = c->next) {
        if (strcmp(c->key, "__metadata__") == 0)
            continue;
        st = read_tensor(c, &h->tensors[h->n_tensors], err);
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
    dfsae__json_free(&h->json, a);
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
    for (size_t i = 0; i < h->n_meta; ++i)
        if (strcmp(h->meta[i].key, key) == 0)
            return h->meta[i].u.str;
    return NULL;
}

int dfsae__st_meta_each(const dfsae__st_header *h,
                        int (*fn)(void *ctx, const char *key,
                                  const char *value),
                        void *ctx)
{
    for (size_t i = 0; i < h->n_meta; ++i) {
        int st = fn(ctx, h->meta[i].key, h->meta[i].u.str);
        if (st != DFSAE_OK)
            return st;
    }
    return DFSAE_OK;
}
