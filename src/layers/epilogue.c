/* The forward pass's epilogue (layers.h): check, bias, check, phi, check
 * in one sweep over the outputs instead of three, a chunk of a row at a
 * time so that the chunk stays in L1 between the steps. */
#include "fastmath.h"
#include "layers/layers.h"

/* Columns per chunk of an elementwise phi: with Z wanted, Z's and A's
 * chunks (4 KiB) stay in L1 through the four steps. */
#define CHUNK ((size_t)512)

/* p[j] += b[j] over len entries; nonzero if a p[j] was not finite, or
 * (check_sum) a sum is not. */
DFSAE_MULTIVERSION
static uint32_t add_bias_checked(float *p, const float *b, size_t len,
                                 int check_sum)
{
    uint32_t bad = 0;
    if (check_sum)
        for (size_t j = 0; j < len; ++j) {
            const float s = p[j] + b[j];
            bad |= dfsae__nonfinite(p[j]) | dfsae__nonfinite(s);
            p[j] = s;
        }
    else
        for (size_t j = 0; j < len; ++j) {
            bad |= dfsae__nonfinite(p[j]);
            p[j] += b[j];
        }
    return bad;
}

DFSAE_MULTIVERSION
static uint32_t any_nonfinite(const float *a, size_t len)
{
    uint32_t bad = 0;
    for (size_t j = 0; j < len; ++j)
        bad |= dfsae__nonfinite(a[j]);
    return bad;
}

void dfsae__epilogue_run(dfsae__epilogue *ep, size_t i0, size_t i1, size_t c0,
                         size_t c1)
{
    const size_t k = ep->k;
    const int want_z = ep->Z != NULL;
    float *P = want_z ? ep->Z : ep->A;
    const size_t chunk = ep->act->backprop_row != NULL ? c1 - c0 : CHUNK;
    uint32_t bad = 0;
    for (size_t i = i0; i < i1; ++i)
        for (size_t c = c0; c < c1; c += chunk) {
            const size_t len = c1 - c < chunk ? c1 - c : chunk;
            float *p = P + i * k + c, *a = ep->A + i * k + c;
            bad |= add_bias_checked(p, ep->b + c, len, want_z);
            ep->act->map(a, p, len, ep->param);
            bad |= any_nonfinite(a, len);
        }
    if (bad)
        ep->bad = 1;
}
