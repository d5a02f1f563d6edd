/* The input transform: validation, ownership and the elementwise kernel
 * that forward and the objective share, so both see the same X'. */
#include <string.h>

#include "fastmath.h"
#include "layers/transform.h"

int dfsae__transform_check(const float *shift, const float *scale, size_t n,
                           size_t d)
{
    if (n == 0)
        return shift == NULL && scale == NULL ? DFSAE_OK
                                              : DFSAE_ERR_INVALID_ARG;
    if (shift == NULL || scale == NULL)
        return DFSAE_ERR_NULL_ARG;
    if (n != 1 && n != d)
        return DFSAE_ERR_SIZE_MISMATCH;
    if (!dfsae__all_finite(shift, n) || !dfsae__all_finite(scale, n))
        return DFSAE_ERR_NON_FINITE_INPUT;
    for (size_t j = 0; j < n; ++j)
        if (scale[j] == 0.0f)
            return DFSAE_ERR_INVALID_ARG;
    return DFSAE_OK;
}

int dfsae__transform_make(const dfsae_allocator *a, const float *shift,
                          const float *scale, size_t n, dfsae_transform *out)
{
    dfsae_transform t = {n, NULL, NULL};
    if (n != 0) {
        t.shift = dfsae__alloc_array(a, 2 * n, sizeof(float));
        if (t.shift == NULL)
            return DFSAE_ERR_NO_MEMORY;
        t.scale = t.shift + n;
        memcpy(t.shift, shift, n * sizeof(float));
        memcpy(t.scale, scale, n * sizeof(float));
    }
    *out = t;
    return DFSAE_OK;
}

void dfsae__transform_free(const dfsae_allocator *a, dfsae_transform *t)
{
    dfsae__free(a, t->shift);
    memset(t, 0, sizeof *t);
}

void dfsae__transform_install(const dfsae_allocator *a, dfsae_transform *dst,
                              dfsae_transform *src)
{
    dfsae__transform_free(a, dst);
    *dst = *src;
    memset(src, 0, sizeof *src);
}

DFSAE_MULTIVERSION
static void per_feature(const float *X, size_t rows, size_t ldx,
                        const float *shift, const float *scale, size_t cols,
                        float *dst)
{
    for (size_t i = 0; i < rows; ++i)
        for (size_t j = 0; j < cols; ++j)
            dst[i * cols + j] = (X[i * ldx + j] - shift[j]) * scale[j];
}

DFSAE_MULTIVERSION
static void global(const float *X, size_t rows, size_t ldx, float shift,
                   float scale, size_t cols, float *dst)
{
    for (size_t i = 0; i < rows; ++i)
        for (size_t j = 0; j < cols; ++j)
            dst[i * cols + j] = (X[i * ldx + j] - shift) * scale;
}

void dfsae__transform_block(const dfsae_transform *t, const float *X,
                            size_t rows, size_t ldx, size_t c0, size_t cols,
                            float *dst)
{
    if (t->n == 1)
        global(X + c0, rows, ldx, t->shift[0], t->scale[0], cols, dst);
    else
        per_feature(X + c0, rows, ldx, t->shift + c0, t->scale + c0, cols, dst);
}
