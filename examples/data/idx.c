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

int dfsae_data_parse_idx(const uint8_t *p, size_t len, const char *name,
                         const dfsae_data_options *opt, dfsae_data *out,
                         dfsae_data_error *err)
{
    size_t ndim, header, rows, cols = 1, count, bytes;
    size_t dims[255];
    int dtype;

    memset(out, 0, sizeof *out);
    if (len < 4)
        return dfsae_data__fail(err, name,
                                "truncated IDX header (%zu of 4 bytes)", len);
    if (p[0] != 0 || p[1] != 0)
        return dfsae_data__fail(err, name,
                                "not an IDX file (magic starts %02x %02x, "
                                "expected 00 00)",
                                p[0], p[1]);
    dtype = idx_dtype(p[2]);
    if (dtype < 0)
        return dfsae_data__fail(err, name, "unknown IDX element type 0x%02x",
                                p[2]);
    ndim = p[3];
    if (ndim == 0)
        return dfsae_data__fail(err, name, "IDX file has 0 dimensions");
    header = 4 + 4 * ndim;
    if (len < header)
        return dfsae_data__fail(err, name,
                                "truncated IDX header (%zu of %zu bytes for "
                                "%zu dimensions)",
                                len, header, ndim);
    for (size_t i = 0; i < ndim; i++) {
        const uint8_t *q = p + 4 + 4 * i;
        dims[i] = ((size_t)q[0] << 24) | ((size_t)q[1] << 16) |
                  ((size_t)q[2] << 8) | (size_t)q[3];
        if (dims[i] == 0)
            return dfsae_data__fail(err, name, "IDX dimension %zu is 0", i + 1);
        if (i > 0 && !dfsae_data_size_mul(cols, dims[i], &cols))
            return dfsae_data__fail(err, name, "IDX dimensions overflow");
    }
    rows = dims[0];
    if (!dfsae_data_size_mul(rows, cols, &count) ||
        !dfsae_data_size_mul(count, dfsae_data__dtype_size(dtype), &bytes))
        return dfsae_data__fail(err, name, "IDX dimensions overflow");
    if (len - header < bytes)
        return dfsae_data__fail(err, name,
                                "truncated: the header promises %zu bytes of "
                                "%s data, the file has %zu",
                                bytes, dfsae_data__dtype_name(dtype),
                                len - header);
    if (len - header > bytes)
        return dfsae_data__fail(err, name,
                                "%zu unexpected bytes after the IDX data",
                                len - header - bytes);
    if (dfsae_data__alloc(out, rows, cols, name, err) != 0)
        return -1;
    if (dfsae_data__convert(p + header, dtype, 1, count, cols,
                            dfsae_data__divisor(opt, dtype), out->values, name,
                            err) != 0) {
        dfsae_data_free(out);
        return -1;
    }
    out->dtype = dtype;
    if (ndim == 3) {
        out->image_h = dims[1];
        out->image_w = dims[2];
    }
    return 0;
}
