#include <math.h>
#include <stdio.h>
#include <stdlib.h>

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

void dfsae__allocator_init(dfsae_allocator *dst, const dfsae_allocator *src)
{
    if (src != NULL && src->alloc != NULL && src->free != NULL) {
        *dst = *src;
    } else {
        dst->alloc = default_alloc;
        dst->free = default_free;
        dst->opaque = NULL;
    }
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

size_t dfsae__first_non_finite(const float *x, size_t n)
{
    /* Branch-free block test keeps the common all-finite case fast. */
    size_t i = 0;
    const size_t block = 256;
    for (; i + block <= n; i += block) {
        float acc = 0.0f;
        for (size_t j = 0; j < block; ++j)
            acc += x[i + j] * 0.0f; /* NaN or Inf make acc NaN */
        if (acc != acc)
            break;
    }
    for (; i < n; ++i)
        if (!isfinite(x[i]))
            return i;
    return n;
}

int dfsae__all_finite(const float *x, size_t n)
{
    return dfsae__first_non_finite(x, n) == n;
}
