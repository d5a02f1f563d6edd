/* Writing float32 matrices as .npy (version 1), atomically. */
#include <stdio.h>
#include <string.h>

#include "data_internal.h"

int exdata_npy_begin(exdata_output *o, const char *path, size_t rows,
                     size_t cols, exdata_error *err)
{
    char header[160];
    size_t hlen, plen, count;
    int n;

    if (!exdata_size_mul(rows, cols, &count))
        return exdata__fail(err, path, "%zu x %zu values overflow", rows, cols);
    n = snprintf(header + 10, sizeof header - 10,
                 "{'descr': '<f4', 'fortran_order': False, "
                 "'shape': (%zu, %zu), }",
                 rows, cols);
    if (n < 0 || (size_t)n + 11 > sizeof header - 64)
        return exdata__fail(err, path, "shape too large for a header");
    /* numpy pads the header with spaces to a multiple of 64, ending '\n'. */
    hlen = (size_t)n;
    plen = (10 + hlen + 1 + 63) / 64 * 64 - 10;
    memset(header + 10 + hlen, ' ', plen - hlen - 1);
    header[10 + plen - 1] = '\n';
    memcpy(header, "\x93NUMPY\x01\x00", 8);
    header[8] = (char)(plen & 0xff);
    header[9] = (char)(plen >> 8);

    plen += 10;
    if (exdata_output_open(o, path, err) != 0)
        return -1;
    fwrite(header, 1, plen, o->file);
    return 0;
}

void exdata_npy_append(exdata_output *o, const float *values, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        unsigned char b[4];
        uint32_t u;
        memcpy(&u, &values[i], 4);
        b[0] = (unsigned char)u;
        b[1] = (unsigned char)(u >> 8);
        b[2] = (unsigned char)(u >> 16);
        b[3] = (unsigned char)(u >> 24);
        fwrite(b, 1, 4, o->file);
    }
}

int exdata_write_npy(const char *path, const float *values, size_t rows,
                     size_t cols, exdata_error *err)
{
    exdata_output o;
    if (exdata_npy_begin(&o, path, rows, cols, err) != 0)
        return -1;
    exdata_npy_append(&o, values, rows * cols);
    return exdata_output_commit(&o, err);
}
