#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastmath.h"

#include "internal.h"

static void *default_alloc(void *opaque, size_t size)
{
    (void)opaque;
    return malloc(size);
}

static void default_free(void *opaque, void *ptr)
{
    (void)opaque;
    free(ptr);
}

int dfsae__allocator_init(dfsae_allocator *dst, const dfsae_allocator *src)
{
    if (src != NULL && (src->alloc == NULL) != (src->free == NULL))
        return DFSAE_ERR_INVALID_ARG;
    if (src != NULL && src->alloc != NULL) {
        *dst = *src;
    } else {
        dst->alloc = default_alloc;
        dst->free = default_free;
        dst->opaque = NULL;
    }
    return DFSAE_OK;
}

void *dfsae__alloc(const dfsae_allocator *a, size_t size)
{
    return a->alloc(a->opaque, size == 0 ? 1 : size);
}

void *dfsae__alloc_array(const dfsae_allocator *a, size_t count, size_t elem)
{
    size_t bytes;
    if (!dfsae__mul_size(count, elem, &bytes))
        return NULL;
    return dfsae__alloc(a, bytes);
}

void dfsae__free(const dfsae_allocator *a, void *ptr)
{
    if (ptr != NULL)
        a->free(a->opaque, ptr);
}

int dfsae__mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return 0;
    *out = a * b;
    return 1;
}

int dfsae__fail(char *buf, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, DFSAE_ERR_LEN, fmt, ap);
    va_end(ap);
    return status;
}

DFSAE_MULTIVERSION
static size_t first_non_finite(const float *x, size_t n)
{
    /* Test blocks with an integer OR-reduction, which vectorises, and look
     * for the exact index only in a block that has a bad value. */
    const size_t block = 1024;
    for (size_t start = 0; start < n; start += block) {
        size_t len = n - start < block ? n - start : block;
        uint32_t bad = 0;
        for (size_t j = 0; j < len; ++j) {
            uint32_t u;
            memcpy(&u, &x[start + j], sizeof u);
            bad |= (uint32_t)dfsae__is_nonfinite_bits(u);
        }
        if (bad)
            for (size_t j = 0; j < len; ++j)
                if (!isfinite(x[start + j]))
                    return start + j;
    }
    return n;
}

/* The kernel is static so its clones stay local (DFSAE_MULTIVERSION). */
size_t dfsae__first_non_finite(const float *x, size_t n)
{
    return first_non_finite(x, n);
}

/* Non-negative floats order like their bit patterns, so an integer max
 * over |x| bits vectorises; NaN and Inf patterns are the largest. */
DFSAE_MULTIVERSION
static uint32_t max_abs_bits(const float *x, size_t n)
{
    uint32_t m = 0;
    for (size_t i = 0; i < n; ++i) {
        uint32_t u;
        memcpy(&u, &x[i], sizeof u);
        u &= 0x7fffffffu;
        m = u > m ? u : m;
    }
    return m;
}

float dfsae__max_abs(const float *x, size_t n)
{
    union {
        uint32_t u;
        float f;
    } b = {max_abs_bits(x, n)};
    return b.f;
}

int dfsae__all_finite(const float *x, size_t n)
{
    return dfsae__first_non_finite(x, n) == n;
}
