/* A small reader for IDX files (plain or gzip, through zlib), uint8 data
 * only: enough for the Fashion-MNIST images the timing run trains on. */
#ifndef DFSAE_BENCH_IDX_GZ_H
#define DFSAE_BENCH_IDX_GZ_H

#include <stddef.h>

/* Read an IDX file of unsigned bytes. On success *data (malloc'd, the
 * caller frees) holds dims[0] * ... * dims[*ndim - 1] bytes and 0 is
 * returned; on failure -1 with a message naming the file in err. */
int idx_read_u8(const char *path, unsigned char **data, size_t dims[4],
                int *ndim, char *err, size_t errcap);

#endif
