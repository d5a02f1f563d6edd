/* Helpers shared by the readers (not installed, not exported). */
#ifndef EXDATA_INTERNAL_H
#define EXDATA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "exdata.h"

#if defined(__GNUC__) || defined(__clang__)
#define EXDATA_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define EXDATA_PRINTF(fmt, args)
#endif

/* Writes "<name>: <message>" into err (if non-NULL); returns -1. */
int exdata__fail(exdata_error *err, const char *name, const char *fmt, ...)
    EXDATA_PRINTF(3, 4);
/* The same for an input that needs more than the memory limit. */
int exdata__over_limit(exdata_error *err, const char *name, const char *fmt,
                       ...) EXDATA_PRINTF(3, 4);

/* a * b and a + b, stuck at SIZE_MAX instead of wrapping around. */
size_t exdata__sat_mul(size_t a, size_t b);
size_t exdata__sat_add(size_t a, size_t b);

/* opt->max_memory, or the default if opt is NULL or it is 0. */
size_t exdata__limit(const exdata_options *opt);

/* What a binary file's header says: where the elements start and how many
 * there are, of which type. */
typedef struct exdata__shape {
    size_t header;           /* bytes before the elements */
    size_t rows, cols;       /* cols: the product of the other dimensions */
    size_t bytes;            /* rows * cols elements of `dtype` */
    size_t image_h, image_w; /* for 3-D arrays, else 0 */
    int dtype, big_endian;
    int untyped;   /* a .npy '<u2' or '<V2' (dtype BF16 if the user says) */
    char descr[8]; /* the .npy descr of an untyped file, for messages */
} exdata__shape;

/* Accepts or refuses an untyped file's BF16 (above), or refuses `bf16`
 * (the user's "the data are bfloat16") for a file of another dtype. */
int exdata__settle_dtype(exdata__shape *s, int bf16, const char *name,
                         exdata_error *err);

/* Header readers of IDX and .npy: 0 and *s filled, or -1 with the error in
 * err; then *short_input is 1 if the bytes end before the header does (a
 * longer prefix might parse). */
int exdata__idx_shape(const uint8_t *p, size_t len, const char *name,
                      exdata__shape *s, int *short_input, exdata_error *err);
int exdata__npy_shape(const uint8_t *p, size_t len, const char *name,
                      exdata__shape *s, int *short_input, exdata_error *err);

/* The safetensors header of a mapped file: *s describes the tensor named
 * `tensor` (NULL: the only 2-D one), which must be a 2-D F32, F16 or BF16
 * tensor lying within the file; s->header is its first byte. */
int exdata__safetensors_shape(const uint8_t *p, size_t len, const char *file,
                              const char *tensor, exdata__shape *s,
                              exdata_error *err);

/* Refuses a file whose header announces more than the limit: its `total`
 * bytes plus the float32 values, on top of `held` bytes already in use. */
int exdata__check_announced(const exdata__shape *s, size_t total, size_t held,
                            size_t limit, const char *what, const char *name,
                            exdata_error *err);

/* IDX or .npy (fmt): the header, then the elements, within the limit. */
int exdata__parse_binary(int fmt, const uint8_t *p, size_t len,
                         const char *name, const exdata_options *opt,
                         exdata *out, exdata_error *err);

/* Called while a gzip stream is decompressed, with the bytes so far:
 * -1 stops with the error it wrote, 0 asks to be called again, 1 is
 * satisfied (not called again). */
typedef int (*exdata__inflate_check)(const uint8_t *p, size_t len, void *ctx,
                                     exdata_error *err);

/* exdata_gunzip with such a check (may be NULL), decompressing at most
 * limit - held bytes (`held` bytes are in use already, held <= limit). */
int exdata__gunzip(const uint8_t *p, size_t len, const char *name, size_t limit,
                   size_t held, exdata__inflate_check check, void *ctx,
                   uint8_t **out, size_t *out_len, exdata_error *err);

/* The divisor to apply for a file of element type `dtype`. */
double exdata__divisor(const exdata_options *opt, int dtype);

/*
 * Convert `count` packed elements of `dtype` (big- or little-endian) at
 * `src` into float32 values / divide. Rejects NaN, Inf and values beyond
 * float32's range, naming the row and column (`cols` per row).
 */
int exdata__convert(const uint8_t *src, int dtype, int big_endian, size_t count,
                    size_t cols, double divide, float *dst, const char *name,
                    exdata_error *err);

/* Bytes per element of a binary dtype (0 for text). */
size_t exdata__dtype_size(int dtype);
const char *exdata__dtype_name(int dtype);

/* Allocates out->values for rows x cols floats; fails cleanly. */
int exdata__alloc(exdata *out, size_t rows, size_t cols, const char *name,
                  exdata_error *err);

#endif
