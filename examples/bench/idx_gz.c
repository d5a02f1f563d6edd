/* IDX reader (idx_gz.h). Layout: two zero bytes, a type byte (0x08 for
 * uint8), a rank byte, then each dimension as a big-endian uint32, then
 * the data in C order. gzread also reads uncompressed files as they are. */
#include "idx_gz.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

static int read_exact(gzFile f, void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        unsigned chunk = n > (1u << 30) ? (1u << 30) : (unsigned)n;
        int got = gzread(f, p, chunk);
        if (got <= 0)
            return -1;
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

int idx_read_u8(const char *path, unsigned char **data, size_t dims[4],
                int *ndim, char *err, size_t errcap)
{
    *data = NULL;
    gzFile f = gzopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errcap, "%s: cannot open", path);
        return -1;
    }
    unsigned char magic[4];
    if (read_exact(f, magic, 4) != 0 || magic[0] != 0 || magic[1] != 0 ||
        magic[2] != 0x08 || magic[3] < 1 || magic[3] > 4) {
        snprintf(err, errcap, "%s: not an IDX file of unsigned bytes", path);
        gzclose(f);
        return -1;
    }
    *ndim = magic[3];
    size_t total = 1;
    for (int i = 0; i < *ndim; ++i) {
        unsigned char be[4];
        if (read_exact(f, be, 4) != 0) {
            snprintf(err, errcap, "%s: truncated header", path);
            gzclose(f);
            return -1;
        }
        dims[i] = (size_t)be[0] << 24 | (size_t)be[1] << 16 |
                  (size_t)be[2] << 8 | (size_t)be[3];
        /* Fashion-MNIST is 47 MB; refuse anything absurd before malloc. */
        if (dims[i] == 0 || total > ((size_t)1 << 32) / dims[i]) {
            snprintf(err, errcap, "%s: bad dimension %zu", path, dims[i]);
            gzclose(f);
            return -1;
        }
        total *= dims[i];
    }
    *data = malloc(total);
    if (*data == NULL || read_exact(f, *data, total) != 0) {
        snprintf(err, errcap, "%s: %s", path,
                 *data == NULL ? "out of memory" : "truncated data");
        free(*data);
        *data = NULL;
        gzclose(f);
        return -1;
    }
    gzclose(f);
    return 0;
}
