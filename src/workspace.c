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

int dfsae__ws_reserve_batch(dfsae_workspace *ws, const dfsae_allocator *a,
                            size_t rows, size_t k, size_t gram_elems)
{
    if (rows > ws->rows) {
        size_t bk;
        if (!dfsae__mul_size(rows, k, &bk))
            return DFSAE_ERR_SIZE_OVERFLOW;
        /* Allocate the whole set first so a failure leaves the old one
         * intact. */
        enum { N = 6 };
        const size_t count[N] = {bk, bk, bk, bk, rows, rows};
        const size_t elem[N] = {sizeof(float), sizeof(float), sizeof(float),
                                sizeof(float), sizeof(float), sizeof(double)};
        void *fresh[N] = {NULL};
        for (int i = 0; i < N; ++i) {
            fresh[i] = dfsae__alloc_array(a, count[i], elem[i]);
            if (fresh[i] == NULL) {
                for (int j = 0; j < i; ++j)
                    dfsae__free(a, fresh[j]);
                return DFSAE_ERR_NO_MEMORY;
            }
        }
        void **slots[N] = {(void **)&ws->A,    (void **)&ws->dA,
                           (void **)&ws->S,    (void **)&ws->G,
                           (void **)&ws->rmin, (void **)&ws->rsum};
        for (int i = 0; i < N; ++i) {
            dfsae__free(a, *slots[i]);
            *slots[i] = fresh[i];
        }
        ws->rows = rows;
    }
    if (ws->col == NULL &&
        !grow(a, (void **)&ws->col, DFSAE_WS_COLS * k, sizeof(double)))
        return DFSAE_ERR_NO_MEMORY;
    if (ws->row == NULL &&
        !grow(a, (void **)&ws->row, DFSAE_WS_ROWS * k, sizeof(float)))
        return DFSAE_ERR_NO_MEMORY;
    if (gram_elems > ws->gram_cap) {
        if (!grow(a, (void **)&ws->gram, gram_elems, sizeof(float)))
            return DFSAE_ERR_NO_MEMORY;
        ws->gram_cap = gram_elems;
    }
    return DFSAE_OK;
}

int dfsae__ws_reserve_wr(dfsae_workspace *ws, const dfsae_allocator *a,
                         size_t k, size_t d, size_t gram_elems)
{
    size_t kd = k * d; /* checked at model creation */
    if (ws->Wn == NULL && !grow(a, (void **)&ws->Wn, kd, sizeof(float)))
        return DFSAE_ERR_NO_MEMORY;
    if (ws->GWn == NULL && !grow(a, (void **)&ws->GWn, kd, sizeof(float)))
        return DFSAE_ERR_NO_MEMORY;
    if (ws->rown == NULL && !grow(a, (void **)&ws->rown, k, sizeof(double)))
        return DFSAE_ERR_NO_MEMORY;
    if (gram_elems > ws->gramw_cap) {
        if (!grow(a, (void **)&ws->gramw, gram_elems, sizeof(float)))
            return DFSAE_ERR_NO_MEMORY;
        ws->gramw_cap = gram_elems;
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
    void *bufs[] = {ws->A,    ws->dA,    ws->S,    ws->G,   ws->rmin,
                    ws->rsum, ws->gram,  ws->col,  ws->row, ws->Wn,
                    ws->GWn,  ws->gramw, ws->rown, ws->X,   ws->grad};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; ++i)
        dfsae__free(a, bufs[i]);
    memset(ws, 0, sizeof *ws);
}
