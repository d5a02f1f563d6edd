/* Serialisation: the JSON header is built up front (small, and its length
 * goes first), then the tensors stream to a sink in little-endian order,
 * in the order of the list. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors/safetensors.h"

typedef struct text {
    char *p;    /* NULL while measuring */
    size_t cap; /* bytes available at p */
    size_t len; /* bytes needed so far */
} text;

static void put(text *t, const char *fmt, ...) DFSAE_PRINTF(2, 3);

static void put(text *t, const char *fmt, ...)
{
    char *dst = NULL;
    size_t room = 0;
    if (t->p != NULL && t->len < t->cap) {
        dst = t->p + t->len;
        room = t->cap - t->len;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(dst, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len += (size_t)n;
}

/* Elements of tensor t. */
static uint64_t count_of(const dfsae__st_out *t)
{
    return (uint64_t)t->dims[0] * (t->rank == 2 ? t->dims[1] : 1);
}

static void put_tensor(text *t, const dfsae__st_out *o, uint64_t *at)
{
    uint64_t bytes = count_of(o) * 4u;
    put(t, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%zu", o->name, o->dims[0]);
    if (o->rank == 2)
        put(t, ",%zu", o->dims[1]);
    put(t, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)*at,
        (unsigned long long)(*at + bytes));
    *at += bytes;
}

static void put_char(text *t, char c)
{
    if (t->p != NULL && t->len + 1 < t->cap)
        t->p[t->len] = c;
    t->len++;
}

/* A JSON string of `prefix` (plain ASCII) and user text (checked UTF-8):
 * quotes, backslashes and control bytes escaped, everything else as is.
 * Byte by byte without printf: the pairs may add up to megabytes. */
static void put_string(text *t, const char *prefix, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    put(t, "\"%s", prefix);
    for (const unsigned char *c = (const unsigned char *)s; *c; ++c) {
        if (*c == '"' || *c == '\\') {
            put_char(t, '\\');
            put_char(t, (char)*c);
        } else if (*c == '\n') {
            put_char(t, '\\');
            put_char(t, 'n');
        } else if (*c == '\t') {
            put_char(t, '\\');
            put_char(t, 't');
        } else if (*c < 0x20) {
            put_char(t, '\\');
            put_char(t, 'u');
            put_char(t, '0');
            put_char(t, '0');
            put_char(t, hex[*c >> 4]);
            put_char(t, hex[*c & 15]);
        } else {
            put_char(t, (char)*c);
        }
    }
    put_char(t, '"');
}

/* Writes the JSON header (no length prefix, no padding) into t. */
static void build_json(text *t, const dfsae__st_writer *w,
                       const dfsae__st_pair *meta, size_t n_meta)
{
    put(t, "{\"__metadata__\":{");
    for (size_t i = 0; i < n_meta; ++i) {
        if (i > 0)
            put_char(t, ',');
        put_string(t, meta[i].prefix, meta[i].key);
        put_char(t, ':');
        put_string(t, "", meta[i].value);
    }
    put(t, "}");
    uint64_t at = 0;
    for (size_t i = 0; i < w->n_tensors; ++i)
        put_tensor(t, &w->tensors[i], &at);
    put(t, "}");
}

int dfsae__st_writer_init(dfsae__st_writer *w, const dfsae__st_out *tensors,
                          size_t n, const dfsae__st_pair *meta, size_t n_meta,
                          const dfsae_allocator *a, char *err)
{
    memset(w, 0, sizeof *w);
    w->tensors = tensors;
    w->n_tensors = n;
    w->alloc = a;
    uint64_t data = 0;
    for (size_t i = 0; i < n; ++i) {
        const dfsae__st_out *t = &tensors[i];
        uint64_t d1 = t->rank == 2 ? t->dims[1] : 1;
        if (d1 != 0 && (uint64_t)t->dims[0] > UINT64_MAX / 4u / d1)
            return dfsae__fail(err, DFSAE_ERR_SIZE_OVERFLOW,
                               "save: the file size overflows 64 bits");
        uint64_t bytes = count_of(t) * 4u;
        if (bytes > UINT64_MAX - data)
            return dfsae__fail(err, DFSAE_ERR_SIZE_OVERFLOW,
                               "save: the file size overflows 64 bits");
        data += bytes;
    }

    text t = {NULL, 0, 0};
    build_json(&t, w, meta, n_meta);
    /* Pad with spaces so the data starts 8-byte aligned, as the reference
     * safetensors writer does. */
    size_t json_len = (t.len + 7u) & ~(size_t)7u;
    w->header_len = 8 + json_len;
    if (data > UINT64_MAX - w->header_len)
        return dfsae__fail(err, DFSAE_ERR_SIZE_OVERFLOW,
                           "save: the file size overflows 64 bits");
    w->total = w->header_len + data;
    w->header = dfsae__alloc(a, w->header_len + 1);
    if (w->header == NULL)
        return dfsae__fail(err, DFSAE_ERR_NO_MEMORY,
                           "save: out of memory for a %zu-byte header",
                           w->header_len);
    t.p = w->header + 8;
    t.cap = json_len + 1;
    t.len = 0;
    build_json(&t, w, meta, n_meta);
    memset(w->header + 8 + t.len, ' ', json_len - t.len);
    dfsae__u64_to_le((unsigned char *)w->header, (uint64_t)json_len);
    return DFSAE_OK;
}

/* Streams n floats in little-endian order through a bounce buffer (a
 * no-op conversion on little-endian hosts, but the bytes stay ours). */
static int emit_floats(const dfsae__sink *sink, const float *x, size_t n,
                       char *err)
{
    unsigned char buf[4096];
    const size_t chunk = sizeof buf / 4;
    for (size_t i = 0; i < n; i += chunk) {
        size_t c = n - i < chunk ? n - i : chunk;
        dfsae__f32_to_le(buf, x + i, c);
        int st = sink->write(sink->ctx, buf, 4 * c, err);
        if (st != DFSAE_OK)
            return st;
    }
    return DFSAE_OK;
}

int dfsae__st_writer_emit(const dfsae__st_writer *w, const dfsae__sink *sink,
                          char *err)
{
    int st = sink->write(sink->ctx, w->header, w->header_len, err);
    for (size_t i = 0; st == DFSAE_OK && i < w->n_tensors; ++i)
        st = emit_floats(sink, w->tensors[i].data,
                         (size_t)count_of(&w->tensors[i]), err);
    return st;
}

void dfsae__st_writer_free(dfsae__st_writer *w)
{
    if (w->header != NULL)
        dfsae__free(w->alloc, w->header);
    w->header = NULL;
}
