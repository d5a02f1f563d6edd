/* The forward pass's epilogue (layers.h): check, bias, check, phi, check
 * in one sweep over the outputs instead of three, a group of rows or a
 * chunk of a row at a time so that it stays in L1 between the steps. */
#include "fastmath.h"
#include "layers/layers.h"

/* Floats per group: with Z wanted, Z's and A's (8 KiB each) stay in L1
 * through the steps. Short rows go in groups of whole rows, which are
 * contiguous, so that each step is one call however short the rows. */
#define GROUP ((size_t)2048)

/* p[i*k + j] += b[j] over rows of len; nonzero if a p was not finite or
 * (check_sum) a sum is not. */
DFSAE_MULTIVERSION
static uint32_t add_bias_checked(float *p, size_t k, const float *b,
                                 size_t rows, size_t len, int check_sum)
{
    uint32_t bad = 0;
    for (size_t i = 0; i < rows; ++i) {
        float *row = p + i * k;
        if (check_sum)
            for (size_t j = 0; j < len; ++j) {
                const float s = row[j] + b[j];
                bad |= dfsae__nonfinite(row[j]) | dfsae__nonfinite(s);
                row[j] = s;
            }
        else
            for (size_t j = 0; j < len; ++j) {
                bad |= dfsae__nonfinite(row[j]);
                row[j] += b[j];
            }
    }
    return bad;
}

DFSAE_MULTIVERSION
static uint32_t any_nonfinite(const float *a, size_t k, size_t rows, size_t len)
{
    uint32_t bad = 0;
    for (size_t i = 0; i < rows; ++i)
        for (size_t j = 0; j < len; ++j)
            bad |= dfsae__nonfinite(a[i * k + j]);
    return bad;
}

/* Rows [i0, i1) by columns [c0, c1) of the biased P: A = phi(P) and A's
 * check; with_bias: the bias and the checks before it first. */
static void sweep(dfsae__epilogue *ep, size_t i0, size_t i1, size_t c0,
                  size_t c1, int with_bias)
{
    const size_t k = ep->k;
    const int want_z = ep->Z != NULL, whole = c0 == 0 && c1 == k;
    float *P = want_z ? ep->Z : ep->A;
    /* A row-wise phi takes whole rows, one at a time. */
    const size_t chunk = ep->act->backprop_row != NULL ? c1 - c0
                         : whole && k < GROUP          ? k
                                                       : GROUP;
    const size_t group =
        whole && chunk == k && ep->act->backprop_row == NULL ? GROUP / k : 1;
    uint32_t bad = 0;
    for (size_t i = i0; i < i1; i += group) {
        const size_t g = i1 - i < group ? i1 - i : group;
        for (size_t c = c0; c < c1; c += chunk) {
            const size_t len = c1 - c < chunk ? c1 - c : chunk;
            float *p = P + i * k + c, *a = ep->A + i * k + c;
            if (with_bias)
                bad |= add_bias_checked(p, k, ep->b + c, g, len, want_z);
            if (g > 1) /* whole rows: contiguous */
                ep->act->map(a, p, g * k, ep->param);
            else
                ep->act->map(a, p, len, ep->param);
            bad |= any_nonfinite(a, k, g, len);
        }
    }
    if (bad)
        ep->bad = 1;
}

void dfsae__epilogue_run(dfsae__epilogue *ep, size_t i0, size_t i1, size_t c0,
                         size_t c1)
{
    sweep(ep, i0, i1, c0, c1, 1);
}

void dfsae__epilogue_phi(dfsae__epilogue *ep, size_t i0, size_t i1, size_t c0,
                         size_t c1)
{
    sweep(ep, i0, i1, c0, c1, 0);
}
