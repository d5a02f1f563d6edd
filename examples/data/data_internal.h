/* Helpers shared by the readers (not installed, not exported). */
#ifndef DFSAE_DATA_INTERNAL_H
#define DFSAE_DATA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "dfsae_data.h"

#if defined(__GNUC__) || defined(__clang__)
#define DFSAE_DATA_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define DFSAE_DATA_PRINTF(fmt, args)
#endif

/* Default cap on a file's (decompressed) size. */
#define DFSAE_DATA_DEFAULT_MAX ((size_t)16 << 30)

/* Writes "<name>: <message>" into err (if non-NULL); returns -1. */
int dfsae_data__fail(dfsae_data_error *err, const char *name, const char *fmt,
                     ...) DFSAE_DATA_PRINTF(3, 4);

/* The divisor to apply for a file of element type `dtype`. */
double dfsae_data__divisor(const dfsae_data_options *opt, int dtype);

/*
 * Convert `count` packed elements of `dtype` (big- or little-endian) at
 * `src` into float32 values / divide. Rejects NaN, Inf and values beyond
 * float32's range, naming the row and column (`cols` per row).
 */
int dfsae_data__convert(const uint8_t *src, int dtype, int big_endian,
                        size_t count, size_t cols, double divide, float *dst,
                        const char *name, dfsae_data_error *err);

/* Bytes per element of a binary dtype (0 for text). */
size_t dfsae_data__dtype_size(int dtype);
const char *dfsae_data__dtype_name(int dtype);

/* Allocates out->values for rows x cols floats; fails cleanly. */
int dfsae_data__alloc(dfsae_data *out, size_t rows, size_t cols,
                      const char *name, dfsae_data_error *err);

#endif
