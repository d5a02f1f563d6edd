/* Shared internal helpers: allocation, error messages, size arithmetic.
 * Internal symbols use the dfsae__ prefix and hidden visibility. */
#ifndef DFSAE_INTERNAL_H
#define DFSAE_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "dfsae.h"
#include "dfsae_dist.h"

#define DFSAE_ERR_LEN 256

#if defined(__GNUC__) || defined(__clang__)
#define DFSAE_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define DFSAE_PRINTF(fmt, args)
#endif

/* Allocator with defaults filled in (never has NULL function pointers):
 * src NULL means malloc/free. Returns DFSAE_ERR_INVALID_ARG, leaving dst
 * unset, for a src with only one of its two functions. */
int dfsae__allocator_init(dfsae_allocator *dst, const dfsae_allocator *src);
void *dfsae__alloc(const dfsae_allocator *a, size_t size);
/* Allocates count * elem bytes, NULL on overflow or failure. */
void *dfsae__alloc_array(const dfsae_allocator *a, size_t count, size_t elem);
void dfsae__free(const dfsae_allocator *a, void *ptr);

/* a * b into *out; returns 0 on overflow. */
int dfsae__mul_size(size_t a, size_t b, size_t *out);

/* Writes a formatted message into buf (DFSAE_ERR_LEN bytes), returns
 * status so callers can `return dfsae__fail(...)`. */
int dfsae__fail(char *buf, int status, const char *fmt, ...) DFSAE_PRINTF(3, 4);

/* The largest |x_i| of n floats (0 for n = 0), or +Inf/NaN if any is not
 * finite: one vectorised pass over the bit patterns. */
float dfsae__max_abs(const float *x, size_t n);

/* 1 if all n floats are finite. */
int dfsae__all_finite(const float *x, size_t n);
/* Index of the first non-finite float, or n if all are finite. */
size_t dfsae__first_non_finite(const float *x, size_t n);

#endif
