/* Writing float32 matrices as .npy (version 1), atomically. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data_internal.h"

/* Write to a temporary file beside `path`, then rename it over `path`, so a
 * failed or interrupted write never leaves a half-written file behind. */
int dfsae_data_write_npy(const char *path, const float *values, size_t rows,
                         size_t cols, dfsae_data_error *err)
{
    char header[160];
    char *tmp;
    size_t hlen, plen, count;
    int n, fd;
    FILE *f;

    if (!dfsae_data_size_mul(rows, cols, &count))
        return dfsae_data__fail(err, path, "%zu x %zu values overflow", rows,
                                cols);
    n = snprintf(header + 10, sizeof header - 10,
                 "{'descr': '<f4', 'fortran_order': False, "
                 "'shape': (%zu, %zu), }",
                 rows, cols);
    if (n < 0 || (size_t)n + 11 > sizeof header - 64)
        return dfsae_data__fail(err, path, "shape too large for a header");
    /* numpy pads the header with spaces to a multiple of 64, ending '\n'. */
    hlen = (size_t)n;
    plen = (10 + hlen + 1 + 63) / 64 * 64 - 10;
    memset(header + 10 + hlen, ' ', plen - hlen - 1);
    header[10 + plen - 1] = '\n';
    memcpy(header, "\x93NUMPY\x01\x00", 8);
    header[8] = (char)(plen & 0xff);
    header[9] = (char)(plen >> 8);

    plen += 10;
    tmp = malloc(strlen(path) + 16);
    if (tmp == NULL)
        return dfsae_data__fail(err, path, "out of memory");
    sprintf(tmp, "%s.tmp.XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return dfsae_data__fail(err, path,
                                "cannot create a file beside it: "
                                "%s",
                                strerror(e));
    }
    f = fdopen(fd, "wb");
    if (f == NULL) {
        close(fd);
        unlink(tmp);
        free(tmp);
        return dfsae_data__fail(err, path, "cannot open for writing");
    }
    fwrite(header, 1, plen, f);
    for (size_t i = 0; i < count; i++) {
        unsigned char b[4];
        uint32_t u;
        memcpy(&u, &values[i], 4);
        b[0] = (unsigned char)u;
        b[1] = (unsigned char)(u >> 8);
        b[2] = (unsigned char)(u >> 16);
        b[3] = (unsigned char)(u >> 24);
        fwrite(b, 1, 4, f);
    }
    if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0) {
        int e = errno;
        fclose(f);
        unlink(tmp);
        free(tmp);
        return dfsae_data__fail(err, path, "write error: %s", strerror(e));
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        free(tmp);
        return dfsae_data__fail(err, path, "cannot write: %s", strerror(e));
    }
    free(tmp);
    return 0;
}
