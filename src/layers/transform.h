/* The input transform X' = (X - shift) * scale, applied to the inputs of
 * forward, loss and gradient before the linear layer: per feature (n = D
 * values of each) or global (n = 1), identity when n = 0.
 *
 * For the model-file code: a model's transform is `model->xf` (model.h);
 * read n, shift and scale from it. To replace it all or nothing, check the
 * values (dfsae__transform_check), build a new one (dfsae__transform_make,
 * the only step that can fail for lack of memory), then install it
 * (dfsae__transform_install, which cannot fail). */
#ifndef DFSAE_TRANSFORM_H
#define DFSAE_TRANSFORM_H

#include <stddef.h>

#include "internal.h"

typedef struct dfsae_transform {
    size_t n;     /* 0 (identity), 1 (global) or D (per feature) */
    float *shift; /* n floats, then scale's n in the same block; NULL if 0 */
    float *scale;
} dfsae_transform;

/* DFSAE_OK if (shift, scale, n) may be the transform of a model with d
 * inputs: n = 0 with both NULL, or n = 1 or d with both non-NULL, all
 * values finite (DFSAE_ERR_NON_FINITE_INPUT) and no scale 0
 * (DFSAE_ERR_INVALID_ARG). Other n: DFSAE_ERR_SIZE_MISMATCH. */
int dfsae__transform_check(const float *shift, const float *scale, size_t n,
                           size_t d);
/* A copy of checked values in memory from `a` (identity for n = 0, which
 * allocates nothing). DFSAE_OK or DFSAE_ERR_NO_MEMORY (*out untouched). */
int dfsae__transform_make(const dfsae_allocator *a, const float *shift,
                          const float *scale, size_t n, dfsae_transform *out);
/* Frees *dst's memory and moves *src into it; *src becomes the identity. */
void dfsae__transform_install(const dfsae_allocator *a, dfsae_transform *dst,
                              dfsae_transform *src);
void dfsae__transform_free(const dfsae_allocator *a, dfsae_transform *t);

/* dst[i * cols + j] = (X[i * ldx + c0 + j] - shift) * scale for `rows`
 * rows and the `cols` columns from c0 (t is not the identity). */
void dfsae__transform_block(const dfsae_transform *t, const float *X,
                            size_t rows, size_t ldx, size_t c0, size_t cols,
                            float *dst);

#endif
