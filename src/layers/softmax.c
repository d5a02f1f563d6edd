/* The row-wise softmax activation, a_ij = exp(z_ij / T) / sum_l
 * exp(z_il / T): forward in place over Z + b, and the gradient through
 * the row's Jacobian, J^T g = (a * (g - a . g)) / T (docs/math.md,
 * section 9). */
#include "dfsae.h"
#include "fastmath.h"
#include "layers/layers.h"

/* Maximum of t[0..k): independent lanes so that it vectorises (as the
 * row minimum of L_lse). */
static inline float row_max(const float *t, size_t k)
{
    enum { LANES = 32 };
    float m[LANES];
    for (size_t l = 0; l < LANES; ++l)
        m[l] = t[0];
    size_t j = 0;
    for (; j + LANES <= k; j += LANES)
        for (size_t l = 0; l < LANES; ++l)
            m[l] = t[j + l] > m[l] ? t[j + l] : m[l];
    for (size_t w = LANES / 2; w > 0; w /= 2)
        for (size_t l = 0; l < w; ++l)
            m[l] = m[l + w] > m[l] ? m[l + w] : m[l];
    float tmax = m[0];
    for (; j < k; ++j)
        tmax = t[j] > tmax ? t[j] : tmax;
    return tmax;
}

/* The row's exponentials shifted by its maximum (every exponent <= 0, so
 * nothing overflows and the sum lies in [1, k]), then the division by the
 * sum: two more passes over a row of scaled logits still in L1. */
static inline void normalise_row(float *row, size_t k)
{
    const float tmax = row_max(row, k);
    for (size_t j = 0; j < k; ++j)
        row[j] = dfsae__exp_nonpos(row[j] - tmax);
    const float f = (float)(1.0 / dfsae__sum_f64(row, k));
    for (size_t j = 0; j < k; ++j)
        row[j] *= f;
}

DFSAE_MULTIVERSION
static void softmax_apply(float *za, const float *b, size_t n, size_t k,
                          double param)
{
    const float inv_t = (float)(1.0 / param);
    for (size_t i = 0; i < n; ++i) {
        float *row = za + i * k;
        for (size_t j = 0; j < k; ++j)
            row[j] = (row[j] + b[j]) * inv_t;
        normalise_row(row, k);
    }
}

/* The forward epilogue (layers.h) over whole rows: the checks and the
 * bias as the row is scaled, then the row's normalisation and A's check
 * while it is in L1. */
DFSAE_MULTIVERSION
static uint32_t softmax_epilogue(float *p, float *a, const float *b,
                                 size_t rows, size_t k, size_t ld, double param)
{
    const float inv_t = (float)(1.0 / param);
    uint32_t bad = 0;
    for (size_t i = 0; i < rows; ++i) {
        float *pr = p + i * ld, *ar = a + i * ld;
        if (a == p) /* one loop per case: an overlap stops vectorising */
            for (size_t j = 0; j < k; ++j) {
                bad |= dfsae__nonfinite_mark(pr[j]);
                pr[j] = (pr[j] + b[j]) * inv_t;
            }
        else
            for (size_t j = 0; j < k; ++j) {
                const float z = pr[j] + b[j];
                bad |= dfsae__nonfinite_mark(pr[j]) | dfsae__nonfinite_mark(z);
                pr[j] = z;
                ar[j] = z * inv_t;
            }
        normalise_row(ar, k);
        for (size_t j = 0; j < k; ++j)
            bad |= dfsae__nonfinite_mark(ar[j]);
    }
    return DFSAE__NONFINITE_MARKED(bad);
}

/* dz_j = a_j (g_j - sum_l a_l g_l) / T, the sum in double. */
DFSAE_MULTIVERSION
static void softmax_backprop_row(const float *a, float *g, size_t k,
                                 double param)
{
    const float s = (float)dfsae__dot_f64(a, g, k);
    const float inv_t = (float)(1.0 / param);
    for (size_t j = 0; j < k; ++j)
        g[j] = a[j] * (g[j] - s) * inv_t;
}

const dfsae_activation_ops dfsae__softmax = {
    "softmax", softmax_apply,        softmax_epilogue,
    NULL,      softmax_backprop_row, DFSAE_MODEL_SOFTMAX_TEMPERATURE};
