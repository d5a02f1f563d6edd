/* NumPy .npy: "\x93NUMPY", version, header length (uint16 in v1, uint32 in
 * v2/v3), a Python dict literal {'descr': ..., 'fortran_order': ...,
 * 'shape': (...)}, then the raw elements. */
#include <stdio.h>
#include <string.h>

#include "data_internal.h"

#define NPY_MAX_DIMS 32

typedef struct npy_header {
    int have_descr, have_order, have_shape;
    int dtype, big_endian, fortran, untyped;
    char descr[8];
    size_t ndim;
    size_t dims[NPY_MAX_DIMS];
} npy_header;

typedef struct cursor {
    const uint8_t *p, *end;
    const char *name;
    exdata_error *err;
} cursor;

static void skip_ws(cursor *c)
{
    while (c->p < c->end &&
           (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int bad(cursor *c, const char *what)
{
    return exdata__fail(c->err, c->name, "bad .npy header: %s", what);
}

static int expect(cursor *c, char ch)
{
    skip_ws(c);
    if (c->p >= c->end || *c->p != (uint8_t)ch)
        return exdata__fail(c->err, c->name, "bad .npy header: expected '%c'",
                            ch);
    c->p++;
    return 0;
}

/* A quoted Python string into buf (NUL-terminated, bounded). */
static int read_string(cursor *c, char *buf, size_t cap)
{
    uint8_t q;
    size_t n = 0;
    skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
        return bad(c, "expected a quoted string");
    q = *c->p++;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\' || *c->p < 0x20 || n + 1 >= cap)
            return bad(c, "unsupported or overlong string");
        buf[n++] = (char)*c->p++;
    }
    if (c->p >= c->end)
        return bad(c, "unterminated string");
    c->p++;
    buf[n] = '\0';
    return 0;
}

static int read_word(cursor *c, const char *word)
{
    size_t n = strlen(word);
    skip_ws(c);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return -1;
    c->p += n;
    return 0;
}

static int parse_descr(cursor *c, npy_header *h)
{
    char s[32];
    char order, kind;
    skip_ws(c);
    if (c->p < c->end && *c->p == '[')
        return exdata__fail(c->err, c->name,
                            "structured dtypes are not supported (need "
                            "float32, float64 or uint8)");
    if (read_string(c, s, sizeof s) != 0)
        return -1;
    order = s[0];
    if (order == '<' || order == '>' || order == '=' || order == '|') {
        memmove(s, s + 1, strlen(s));
    } else {
        order = '=';
    }
    kind = s[0];
    if (kind == 'f' && strcmp(s + 1, "4") == 0)
        h->dtype = DFSAE_DTYPE_F32;
    else if (kind == 'f' && strcmp(s + 1, "2") == 0)
        h->dtype = DFSAE_DTYPE_F16;
    else if (kind == 'f' && strcmp(s + 1, "8") == 0)
        h->dtype = DFSAE_DTYPE_F64;
    else if (kind == 'u' && strcmp(s + 1, "1") == 0)
        h->dtype = DFSAE_DTYPE_U8;
    else if ((kind == 'u' || kind == 'V') && strcmp(s + 1, "2") == 0) {
        /* NumPy has no bfloat16: such data come as raw 2-byte elements,
         * bfloat16 only if the user says so (dfsae__settle_dtype). */
        h->dtype = DFSAE_DTYPE_BF16;
        h->untyped = 1;
        snprintf(h->descr, sizeof h->descr, "%c%c2", order, kind);
    } else
        return exdata__fail(c->err, c->name,
                            "unsupported dtype '%c%s' (need float32 "
                            "'<f4', float64 '<f8' or uint8 '|u1')",
                            order, s);
    /* '=' and '|' mean the writer's native order; numpy writes '<' for
     * little-endian data, so '=' is read as little-endian. */
    h->big_endian = order == '>';
    h->have_descr = 1;
    return 0;
}

static int parse_shape(cursor *c, npy_header *h)
{
    if (expect(c, '(') != 0)
        return -1;
    h->ndim = 0;
    for (;;) {
        size_t v = 0;
        int digits = 0;
        skip_ws(c);
        if (c->p < c->end && *c->p == ')') {
            c->p++;
            break;
        }
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            size_t d = (size_t)(*c->p - '0');
            if (v > (SIZE_MAX - d) / 10)
                return exdata__fail(c->err, c->name,
                                    "shape dimension overflows");
            v = v * 10 + d;
            digits++;
            c->p++;
        }
        if (digits == 0)
            return bad(c, "shape must be a tuple of non-negative integers");
        if (c->p < c->end && *c->p == 'L')
            c->p++; /* Python 2 long suffix */
        if (h->ndim == NPY_MAX_DIMS)
            return bad(c, "more than 32 dimensions");
        h->dims[h->ndim++] = v;
        skip_ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (expect(c, ')') != 0)
            return -1;
        break;
    }
    h->have_shape = 1;
    return 0;
}

static int parse_dict(cursor *c, npy_header *h)
{
    memset(h, 0, sizeof *h);
    if (expect(c, '{') != 0)
        return -1;
    for (;;) {
        char key[32];
        skip_ws(c);
        if (c->p < c->end && *c->p == '}') {
            c->p++;
            break;
        }
        if (read_string(c, key, sizeof key) != 0 || expect(c, ':') != 0)
            return -1;
        if (strcmp(key, "descr") == 0) {
            if (h->have_descr)
                return bad(c, "duplicate key 'descr'");
            if (parse_descr(c, h) != 0)
                return -1;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (h->have_order)
                return bad(c, "duplicate key 'fortran_order'");
            if (read_word(c, "True") == 0)
                h->fortran = 1;
            else if (read_word(c, "False") == 0)
                h->fortran = 0;
            else
                return bad(c, "fortran_order must be True or False");
            h->have_order = 1;
        } else if (strcmp(key, "shape") == 0) {
            if (h->have_shape)
                return bad(c, "duplicate key 'shape'");
            if (parse_shape(c, h) != 0)
                return -1;
        } else {
            return exdata__fail(c->err, c->name,
                                "bad .npy header: unknown key '%s'", key);
        }
        skip_ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (expect(c, '}') != 0)
            return -1;
        break;
    }
    skip_ws(c);
    if (c->p != c->end)
        return bad(c, "unexpected text after the dictionary");
    if (!h->have_descr || !h->have_order || !h->have_shape)
        return bad(c, "missing 'descr', 'fortran_order' or 'shape'");
    return 0;
}

int exdata__npy_shape(const uint8_t *p, size_t len, const char *name,
                      exdata__shape *s, int *short_input, exdata_error *err)
{
    npy_header h;
    cursor c;
    size_t hlen, start, cols = 1;
    unsigned major;

    memset(s, 0, sizeof *s);
    *short_input = len < 12 && memcmp(p, "\x93NUMPY", len < 6 ? len : 6) == 0;
    if (len < 10 || memcmp(p, "\x93NUMPY", 6) != 0)
        return exdata__fail(err, name,
                            len < 10 && len >= 6 &&
                                    memcmp(p, "\x93NUMPY", 6) == 0
                                ? "truncated .npy preamble"
                                : "not a .npy file (no \\x93NUMPY magic)");
    major = p[6];
    if (major == 1) {
        hlen = (size_t)p[8] | ((size_t)p[9] << 8);
        start = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12)
            return exdata__fail(err, name, "truncated .npy preamble");
        hlen = (size_t)p[8] | ((size_t)p[9] << 8) | ((size_t)p[10] << 16) |
               ((size_t)p[11] << 24);
        start = 12;
    } else {
        *short_input = 0;
        return exdata__fail(err, name,
                            "unsupported .npy version %u.%u (need 1, 2 "
                            "or 3)",
                            major, p[7]);
    }
    *short_input = hlen > len - start;
    if (hlen > len - start)
        return exdata__fail(err, name,
                            "truncated .npy header (%zu of %zu bytes)",
                            len - start, hlen);
    c.p = p + start;
    c.end = p + start + hlen;
    c.name = name;
    c.err = err;
    if (parse_dict(&c, &h) != 0)
        return -1;
    if (h.ndim == 0)
        return exdata__fail(err, name,
                            "0-d array (a scalar), need rows x columns");
    if (h.fortran && h.ndim > 1)
        return exdata__fail(err, name,
                            "Fortran-order arrays are not supported; save "
                            "with np.ascontiguousarray");
    for (size_t i = 1; i < h.ndim; i++)
        if (!exdata_size_mul(cols, h.dims[i], &cols))
            return exdata__fail(err, name, "shape overflows");
    s->rows = h.dims[0];
    s->cols = cols;
    if (s->rows == 0 || cols == 0)
        return exdata__fail(err, name, "empty array (a dimension is 0)");
    s->header = start + hlen;
    if (!exdata_size_mul(s->rows, cols, &s->bytes) ||
        !exdata_size_mul(s->bytes, exdata__dtype_size(h.dtype), &s->bytes) ||
        s->bytes > SIZE_MAX - s->header)
        return exdata__fail(err, name, "shape overflows");
    s->dtype = h.dtype;
    s->big_endian = h.big_endian;
    s->untyped = h.untyped;
    memcpy(s->descr, h.descr, sizeof s->descr);
    if (h.ndim == 3) {
        s->image_h = h.dims[1];
        s->image_w = h.dims[2];
    }
    return 0;
}

int exdata_parse_npy(const uint8_t *p, size_t len, const char *name,
                     const exdata_options *opt, exdata *out, exdata_error *err)
{
    return exdata__parse_binary(EXDATA_NPY, p, len, name, opt, out, err);
}
