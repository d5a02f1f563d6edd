/* IDX (the MNIST format): 2 zero bytes, a type byte, a rank byte, the
 * dimensions as big-endian uint32, then the elements big-endian. */
#include <string.h>

#include "data_internal.h"

static int idx_dtype(uint8_t code)
{
    switch (code) {
    case 0x08: return DFSAE_DTYPE_U8;
    case 0x09: return DFSAE_DTYPE_I8;
    case 0x0B: return DFSAE_DTYPE_I16;
    case 0x0C: return DFSAE_DTYPE_I32;
    case 0x0D: return DFSAE_DTYPE_F32;
    case 0x0E: return DFSAE_DTYPE_F64;
    default: return -1;
    }
}

int exdata__idx_shape(const uint8_t *p, size_t len, const char *name,
                      exdata__shape *s, int *short_input, exdata_error *err)
{
    size_t ndim, cols = 1;
    size_t dims[255];

    memset(s, 0, sizeof *s);
    *short_input = len < 4;
    if (len < 4)
        return exdata__fail(err, name, "truncated IDX header (%zu of 4 bytes)",
                            len);
    if (p[0] != 0 || p[1] != 0)
        return exdata__fail(err, name,
                            "not an IDX file (magic starts %02x %02x, "
                            "expected 00 00)",
                            p[0], p[1]);
    s->dtype = idx_dtype(p[2]);
    if (s->dtype < 0)
        return exdata__fail(err, name, "unknown IDX element type 0x%02x", p[2]);
    ndim = p[3];
    if (ndim == 0)
        return exdata__fail(err, name, "IDX file has 0 dimensions");
    s->header = 4 + 4 * ndim;
    *short_input = len < s->header;
    if (len < s->header)
        return exdata__fail(err, name,
                            "truncated IDX header (%zu of %zu bytes for "
                            "%zu dimensions)",
                            len, s->header, ndim);
    for (size_t i = 0; i < ndim; i++) {
        const uint8_t *q = p + 4 + 4 * i;
        dims[i] = ((size_t)q[0] << 24) | ((size_t)q[1] << 16) |
                  ((size_t)q[2] << 8) | (size_t)q[3];
        if (dims[i] == 0)
            return exdata__fail(err, name, "IDX dimension %zu is 0", i + 1);
        if (i > 0 && !exdata_size_mul(cols, dims[i], &cols))
            return exdata__fail(err, name, "IDX dimensions overflow");
    }
    s->rows = dims[0];
    s->cols = cols;
    if (!exdata_size_mul(s->rows, cols, &s->bytes) ||
        !exdata_size_mul(s->bytes, exdata__dtype_size(s->dtype), &s->bytes) ||
        s->bytes > SIZE_MAX - s->header)
        return exdata__fail(err, name, "IDX dimensions overflow");
    s->big_endian = 1;
    if (ndim == 3) {
        s->image_h = dims[1];
        s->image_w = dims[2];
    }
    return 0;
}

int exdata_parse_idx(const uint8_t *p, size_t len, const char *name,
                     const exdata_options *opt, exdata *out, exdata_error *err)
{
    return exdata__parse_binary(EXDATA_IDX, p, len, name, opt, out, err);
}
