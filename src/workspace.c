#include <string.h>

#include "workspace.h"

/* Replace *slot with a new array of n elements of size elem. */
static int grow(const dfsae_allocator *a, void **slot, size_t n, size_t elem)
{
    void *p = dfsae__alloc_array(a, n, elem);
    if (p == NULL)
        return 0;
    dfsae__free(a, *slot);
    *slot = p;
    return 1;
}

/* The per-column buffers: their size depends only on the model. */
static int reserve_cols(dfsae_workspace *ws, const dfsae_allocator *a, size_t k,
                        size_t parts_f32, size_t parts_f64)
{
    if (ws->col_stats != NULL)
        return DFSAE_OK;
    enum { N = 5 };
    const size_t count[N] = {2 * k, 2 * k, parts_f64 * k, parts_f32 * k, k};
    const size_t elem[N] = {sizeof(double), sizeof(float), sizeof(double),
                            sizeof(float), sizeof(double)};
    void **slots[N] = {(void **)&ws->col_stats, (void **)&ws->mean_split,
                       (void **)&ws->parts_f64, (void **)&ws->parts_f32,
                       (void **)&ws->bias_sums};
    void *fresh[N] = {NULL};
    for (int i = 0; i < N; ++i)
        if ((fresh[i] = dfsae__alloc_array(a, count[i], elem[i])) == NULL) {
            for (int j = 0; j < i; ++j)
                dfsae__free(a, fresh[j]);
            return DFSAE_ERR_NO_MEMORY;
        }
    for (int i = 0; i < N; ++i)
        *slots[i] = fresh[i];
    return DFSAE_OK;
}

int dfsae__ws_reserve_batch(dfsae_workspace *ws, const dfsae_allocator *a,
                            size_t rows, size_t k, int need_dz,
                            size_t parts_f32, size_t parts_f64)
{
    const int grow_a = rows > ws->rows, grow_dz = need_dz && rows > ws->dz_rows;
    if (grow_a || grow_dz) {
        size_t bk;
        if (!dfsae__mul_size(rows, k, &bk))
            return DFSAE_ERR_SIZE_OVERFLOW;
        /* Both first, so a failure leaves the old ones intact. */
        float *A = grow_a ? dfsae__alloc_array(a, bk, sizeof(float)) : NULL;
        float *dZ = grow_dz ? dfsae__alloc_array(a, bk, sizeof(float)) : NULL;
        if ((grow_a && A == NULL) || (grow_dz && dZ == NULL)) {
            dfsae__free(a, A);
            dfsae__free(a, dZ);
            return DFSAE_ERR_NO_MEMORY;
        }
        if (grow_a) {
            dfsae__free(a, ws->A);
            ws->A = A;
            ws->rows = rows;
        }
        if (grow_dz) {
            dfsae__free(a, ws->dZ);
            ws->dZ = dZ;
            ws->dz_rows = rows;
        }
    }
    return reserve_cols(ws, a, k, parts_f32, parts_f64);
}

int dfsae__ws_reserve_term(dfsae_workspace *ws, const dfsae_allocator *a, int t,
                           size_t f32, size_t f64)
{
    if (f32 > ws->term_f32_cap[t]) {
        if (!grow(a, (void **)&ws->term_f32[t], f32, sizeof(float)))
            return DFSAE_ERR_NO_MEMORY;
        ws->term_f32_cap[t] = f32;
    }
    if (f64 > ws->term_f64_cap[t]) {
        if (!grow(a, (void **)&ws->term_f64[t], f64, sizeof(double)))
            return DFSAE_ERR_NO_MEMORY;
        ws->term_f64_cap[t] = f64;
    }
    return DFSAE_OK;
}

int dfsae__ws_reserve_grad(dfsae_workspace *ws, const dfsae_allocator *a,
                           size_t n_params)
{
    if (ws->grad == NULL &&
        !grow(a, (void **)&ws->grad, n_params, sizeof(float)))
        return DFSAE_ERR_NO_MEMORY;
    return DFSAE_OK;
}

int dfsae__ws_reserve_inputs(dfsae_workspace *ws, const dfsae_allocator *a,
                             size_t floats)
{
    if (floats > ws->x_cap) {
        if (!grow(a, (void **)&ws->X, floats, sizeof(float)))
            return DFSAE_ERR_NO_MEMORY;
        ws->x_cap = floats;
    }
    return DFSAE_OK;
}

void dfsae__ws_free(dfsae_workspace *ws, const dfsae_allocator *a)
{
    void *bufs[] = {ws->A,          ws->dZ,        ws->col_stats,
                    ws->mean_split, ws->parts_f64, ws->parts_f32,
                    ws->bias_sums,  ws->X,         ws->grad};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; ++i)
        dfsae__free(a, bufs[i]);
    for (int t = 0; t < DFSAE_TERM_COUNT; ++t) {
        dfsae__free(a, ws->term_f32[t]);
        dfsae__free(a, ws->term_f64[t]);
    }
    memset(ws, 0, sizeof *ws);
}
