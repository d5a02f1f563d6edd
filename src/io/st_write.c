/* Serialisation: the JSON header is built up front (small, and its length
 * goes first), then the tensors stream to a sink in little-endian order:
 * weight, bias, the input transform's shift and scale (unless it is the
 * identity), then the optimizer's state vectors. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/io.h"

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

static void put_tensor(text *t, const char *name, size_t rank, size_t d0,
                       size_t d1, uint64_t *at)
{
    uint64_t bytes = (uint64_t)d0 * (rank == 2 ? d1 : 1) * 4u;
    put(t, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%zu", name, d0);
    if (rank == 2)
        put(t, ",%zu", d1);
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

/* Writes the JSON header (no length prefix, no padding) into t. dfsae's
 * own strings are plain ASCII that needs no escaping; the user's pairs
 * follow them ("user." sorts after "dfsae."), so keys stay sorted. */
static void build_json(text *t, const dfsae_model *m,
                       const dfsae_optimizer *opt)
{
    dfsae__meta_entry meta[DFSAE__MAX_META];
    size_t n = dfsae__meta_collect(m, opt, meta);
    put(t, "{\"__metadata__\":{");
    for (size_t i = 0; i < n; ++i)
        put(t, "%s\"%s\":\"%s\"", i ? "," : "", meta[i].key, meta[i].value);
    for (size_t i = 0; i < m->meta.n; ++i) {
        put_char(t, ',');
        put_string(t, DFSAE__USER_PREFIX, m->meta.kv[i].key);
        put_char(t, ':');
        put_string(t, "", m->meta.kv[i].value);
    }
    put(t, "}");
    uint64_t at = 0;
    put_tensor(t, "weight", 2, m->k, m->d, &at);
    put_tensor(t, "bias", 1, m->k, 0, &at);
    if (m->xf.n > 0) {
        put_tensor(t, DFSAE__TENSOR_SHIFT, 1, m->xf.n, 0, &at);
        put_tensor(t, DFSAE__TENSOR_SCALE, 1, m->xf.n, 0, &at);
    }
    if (opt != NULL)
        for (size_t i = 0; i < opt->ops->n_state; ++i)
            put_tensor(t, dfsae__state_name(opt->kind, i), 1, m->n_params, 0,
                       &at);
    put(t, "}");
}

/* A save writes nothing a load would refuse: the parameters and the
 * optimizer's state are checked as a loader checks them. */
static int check_savable(const dfsae_model *m, const dfsae_optimizer *opt,
                         char *err)
{
    size_t bad = dfsae__first_non_finite(m->params, m->n_params);
    if (bad != m->n_params)
        return dfsae__fail(err, DFSAE_ERR_NON_FINITE_INPUT,
                           "save: parameter %zu is NaN or Inf; nothing was "
                           "written",
                           bad);
    if (opt == NULL)
        return DFSAE_OK;
    char why[DFSAE_ERR_LEN];
    if (dfsae__optim_state_check(opt->kind, opt->t, opt->started, opt->state,
                                 opt->n, why) != DFSAE_OK)
        return dfsae__fail(err, DFSAE_ERR_INVALID_ARG,
                           "save: %.200s; nothing was written", why);
    return DFSAE_OK;
}

int dfsae__writer_init(dfsae__writer *w, const dfsae_model *m,
                       const dfsae_optimizer *opt, char *err)
{
    memset(w, 0, sizeof *w);
    w->model = m;
    w->opt = opt;
    int st = check_savable(m, opt, err);
    if (st != DFSAE_OK)
        return st;
    /* Data: (1 + n_state) vectors of n_params floats and the transform's
     * 2 n <= 2 D. Creation checked n_params * 4 fits size_t; the state
     * vectors fit it too. */
    uint64_t vectors = 1 + (opt != NULL ? opt->ops->n_state : 0);
    if ((uint64_t)m->n_params > UINT64_MAX / 4u / (vectors + 1))
        return dfsae__fail(err, DFSAE_ERR_SIZE_OVERFLOW,
                           "save: the file size overflows 64 bits");
    uint64_t data = (vectors * m->n_params + 2u * m->xf.n) * 4u;

    text t = {NULL, 0, 0};
    build_json(&t, m, opt);
    /* Pad with spaces so the data starts 8-byte aligned, as the reference
     * safetensors writer does. */
    size_t json_len = (t.len + 7u) & ~(size_t)7u;
    w->header_len = 8 + json_len;
    if (data > UINT64_MAX - w->header_len)
        return dfsae__fail(err, DFSAE_ERR_SIZE_OVERFLOW,
                           "save: the file size overflows 64 bits");
    w->total = w->header_len + data;
    w->header = dfsae__alloc(&m->alloc, w->header_len + 1);
    if (w->header == NULL)
        return dfsae__fail(err, DFSAE_ERR_NO_MEMORY,
                           "save: out of memory for a %zu-byte header",
                           w->header_len);
    t.p = w->header + 8;
    t.cap = json_len + 1;
    t.len = 0;
    build_json(&t, m, opt);
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

int dfsae__writer_emit(const dfsae__writer *w, const dfsae__sink *sink,
                       char *err)
{
    const dfsae_model *m = w->model;
    int st = sink->write(sink->ctx, w->header, w->header_len, err);
    if (st == DFSAE_OK)
        st = emit_floats(sink, m->params, m->n_params, err);
    if (st == DFSAE_OK && m->xf.n > 0)
        st = emit_floats(sink, m->xf.shift, m->xf.n, err);
    if (st == DFSAE_OK && m->xf.n > 0)
        st = emit_floats(sink, m->xf.scale, m->xf.n, err);
    if (w->opt != NULL)
        for (size_t i = 0; st == DFSAE_OK && i < w->opt->ops->n_state; ++i)
            st = emit_floats(sink, w->opt->state + i * w->opt->n, w->opt->n,
                             err);
    return st;
}

void dfsae__writer_free(dfsae__writer *w)
{
    if (w->header != NULL)
        dfsae__free(&w->model->alloc, w->header);
    w->header = NULL;
}
