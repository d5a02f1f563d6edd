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

/* Writes "<name>: <message>" into err (if non-NULL); returns -1. */
int dfsae_data__fail(dfsae_data_error *err, const char *name, const char *fmt,
                     ...) DFSAE_DATA_PRINTF(3, 4);
/* The same for an input that needs more than the memory limit. */
int dfsae_data__over_limit(dfsae_data_error *err, const char *name,
                           const char *fmt, ...) DFSAE_DATA_PRINTF(3, 4);

/* a * b and a + b, stuck at SIZE_MAX instead of wrapping around. */
size_t dfsae_data__sat_mul(size_t a, size_t b);
size_t dfsae_data__sat_add(size_t a, size_t b);

/* opt->max_memory, or the default if opt is NULL or it is 0. */
size_t dfsae_data__limit(const dfsae_data_options *opt);

/* What a binary file's header says: where the elements start and how many
 * there are, of which type. */
typedef struct dfsae_data__shape {
    size_t header;           /* bytes before the elements */
    size_t rows, cols;       /* cols: the product of the other dimensions */
    size_t bytes;            /* rows * cols elements of `dtype` */
    size_t image_h, image_w; /* for 3-D arrays, else 0 */
    int dtype, big_endian;
} dfsae_data__shape;

/* Header readers of IDX and .npy: 0 and *s filled, or -1 with the error in
 * err; then *short_input is 1 if the bytes end before the header does (a
 * longer prefix might parse). */
int dfsae_data__idx_shape(const uint8_t *p, size_t len, const char *name,
                          dfsae_data__shape *s, int *short_input,
                          dfsae_data_error *err);
int dfsae_data__npy_shape(const uint8_t *p, size_t len, const char *name,
                          dfsae_data__shape *s, int *short_input,
                          dfsae_data_error *err);

/* Refuses a file whose header announces more than the limit: its `total`
 * bytes plus the float32 values, on top of `held` bytes already in use. */
int dfsae_data__check_announced(const dfsae_data__shape *s, size_t total,
                                size_t held, size_t limit, const char *what,
                                const char *name, dfsae_data_error *err);

/* IDX or .npy (fmt): the header, then the elements, within the limit. */
int dfsae_data__parse_binary(int fmt, const uint8_t *p, size_t len,
                             const char *name, const dfsae_data_options *opt,
                             dfsae_data *out, dfsae_data_error *err);

/* Called while a gzip stream is decompressed, with the bytes so far:
 * -1 stops with the error it wrote, 0 asks to be called again, 1 is
 * satisfied (not called again). */
typedef int (*dfsae_data__inflate_check)(const uint8_t *p, size_t len,
                                         void *ctx, dfsae_data_error *err);

/* dfsae_data_gunzip with such a check (may be NULL), decompressing at most
 * limit - held bytes (`held` bytes are in use already, held <= limit). */
int dfsae_data__gunzip(const uint8_t *p, size_t len, const char *name,
                       size_t limit, size_t held,
                       dfsae_data__inflate_check check, void *ctx,
                       uint8_t **out, size_t *out_len, dfsae_data_error *err);

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
