/* L_tc = sum_{j != k} Corr_jk^2 over the batch, on the cheaper Gram side.
 *
 * With S = Ac diag(1/s) the standardised batch (N = n - 1):
 *   feature side: C = S^T S / N (K x K), dL/dS = (4/N) S offdiag(C)
 *   sample side:  H = S S^T (n x n),     dL/dS = (4/N^2) H S - (4/N) S diag(C)
 * then through s_j = sqrt(v_j) + 1e-8 and the centring (docs/math.md). */
#include <math.h>

#include "blas/dfsae_blas.h"
#include "fastmath.h"
#include "loss/loss.h"

#define STD_EPS 1e-8

/* Per-column quantities, each k doubles in the workspace's col block. */
typedef struct tc_cols {
    double *inv_std; /* 1 / s_j */
    double *ssum;    /* sum_i S_ij (0 up to rounding) */
    double *ssq;     /* sum_i S_ij^2 = N diag(C)_j */
    double *gs;      /* sum_i G_ij S_ij */
    double *gsum;    /* sum_i G_ij */
} tc_cols;

static tc_cols cols_of(const dfsae_loss_ctx *ctx)
{
    double *base = ctx->ws->col + 2 * ctx->k; /* after mean and var */
    tc_cols c = {base, base + ctx->k, base + 2 * ctx->k, base + 3 * ctx->k,
                 base + 4 * ctx->k};
    return c;
}

/* S_ij = (A_ij - mean_j) / s_j in one sweep, with S's column sums and sums
 * of squares. The centring is done in double: activations reach the
 * thousands while their spread may be small. */
DFSAE_MULTIVERSION
static void standardise(const dfsae_loss_ctx *ctx, const tc_cols *c, float *S)
{
    const size_t n = ctx->n, k = ctx->k;
    const double *mean = ctx->stats.mean;
    for (size_t j = 0; j < k; ++j) {
        c->inv_std[j] = 1.0 / (sqrt(ctx->stats.var[j]) + STD_EPS);
        c->ssum[j] = c->ssq[j] = 0.0;
    }
    for (size_t i = 0; i < n; ++i) {
        const float *a = ctx->A + i * k;
        float *s = S + i * k;
#pragma omp simd
        for (size_t j = 0; j < k; ++j) {
            float v = (float)(((double)a[j] - mean[j]) * c->inv_std[j]);
            s[j] = v;
            c->ssum[j] += (double)v;
            c->ssq[j] += (double)v * (double)v;
        }
    }
}

/* Sum of squares of a symmetric matrix from its upper triangle, optionally
 * without the diagonal. */
DFSAE_MULTIVERSION
static double sym_sumsq(const float *M, size_t m, int with_diag)
{
    double off = 0.0, diag = 0.0;
    for (size_t r = 0; r < m; ++r) {
        diag += (double)M[r * m + r] * M[r * m + r];
        off += dfsae__sumsq_f64(M + r * m + r + 1, m - r - 1);
    }
    return 2.0 * off + (with_diag ? diag : 0.0);
}

static double feature_side(const dfsae_loss_ctx *ctx, const float *S,
                           float *G)
{
    const size_t n = ctx->n, k = ctx->k;
    const double N = (double)(n - 1);
    float *C = ctx->ws->gram;
    dfsae__ssyrk(DFSAE_TRANS, (int)k, (int)n, (float)(1.0 / N), S, (int)k,
                 0.0f, C, (int)k);
    double value = sym_sumsq(C, k, 0);
    if (G != NULL) {
        for (size_t j = 0; j < k; ++j)
            C[j * k + j] = 0.0f;
        dfsae__ssymm(DFSAE_RIGHT, (int)n, (int)k, (float)(4.0 / N), C, (int)k,
                     S, (int)k, 0.0f, G, (int)k);
    }
    return value;
}

static double sample_side(const dfsae_loss_ctx *ctx, const tc_cols *c,
                          const float *S, float *G)
{
    const size_t n = ctx->n, k = ctx->k;
    const double N = (double)(n - 1);
    float *H = ctx->ws->gram;
    /* diag(C)_j = ssq_j / N, from the same S as H so the two agree. */
    double diag_sq = 0.0;
    for (size_t j = 0; j < k; ++j)
        diag_sq += (c->ssq[j] / N) * (c->ssq[j] / N);
    dfsae__ssyrk(DFSAE_NO_TRANS, (int)n, (int)k, 1.0f, S, (int)k, 0.0f, H,
                 (int)n);
    /* A difference of two O(K) sums: rounding can take it a few K ulp
     * below zero for decorrelated codes, where the true value is >= 0. */
    double value = sym_sumsq(H, n, 1) / (N * N) - diag_sq;
    value = value < 0.0 ? 0.0 : value; /* a NaN stays NaN */
    if (G != NULL) {
        dfsae__ssymm(DFSAE_LEFT, (int)n, (int)k, (float)(4.0 / (N * N)), H,
                     (int)n, S, (int)k, 0.0f, G, (int)k);
        float *d4 = ctx->ws->row;
        for (size_t j = 0; j < k; ++j)
            d4[j] = (float)(4.0 / N * c->ssq[j] / N);
        for (size_t i = 0; i < n; ++i) {
            float *g = G + i * k;
            const float *s = S + i * k;
#pragma omp simd
            for (size_t j = 0; j < k; ++j)
                g[j] -= d4[j] * s[j];
        }
    }
    return value;
}

/* dL/dA from dL/dS = G, through s_j and then the centring:
 *   t_ij = G_ij / s_j - S_ij sum_i(G_ij S_ij) / (N sqrt(v_j)),
 *   dA_ij += weight (t_ij - mean_i t_ij).
 * A constant column has S = 0 and its 0/0 is taken as 0. */
DFSAE_MULTIVERSION
static void backprop_standardise(const dfsae_loss_ctx *ctx, const tc_cols *c,
                                 const float *S, const float *G,
                                 double weight, float *dA)
{
    const size_t n = ctx->n, k = ctx->k;
    const double N = (double)(n - 1);
    for (size_t j = 0; j < k; ++j)
        c->gs[j] = c->gsum[j] = 0.0;
    for (size_t i = 0; i < n; ++i) {
        const float *g = G + i * k, *s = S + i * k;
#pragma omp simd
        for (size_t j = 0; j < k; ++j) {
            c->gs[j] += (double)g[j] * s[j];
            c->gsum[j] += (double)g[j];
        }
    }
    /* Column factors in float for the final sweep, weight folded in. */
    float *fg = ctx->ws->row, *fs = fg + k, *fc = fg + 2 * k;
    for (size_t j = 0; j < k; ++j) {
        double v = ctx->stats.var[j];
        double coef = v > 0.0 ? c->gs[j] / (N * sqrt(v)) : 0.0;
        double tmean =
            (c->gsum[j] * c->inv_std[j] - coef * c->ssum[j]) / (double)n;
        fg[j] = (float)(weight * c->inv_std[j]);
        fs[j] = (float)(weight * coef);
        fc[j] = (float)(weight * tmean);
    }
    for (size_t i = 0; i < n; ++i) {
        const float *g = G + i * k, *s = S + i * k;
        float *d = dA + i * k;
#pragma omp simd
        for (size_t j = 0; j < k; ++j)
            d[j] += fg[j] * g[j] - fs[j] * s[j] - fc[j];
    }
}

static double tc_eval(const dfsae_loss_ctx *ctx, double weight, float *dA,
                      float *dW)
{
    (void)dW;
    dfsae_workspace *ws = ctx->ws;
    tc_cols c = cols_of(ctx);
    float *G = dA != NULL ? ws->G : NULL;
    standardise(ctx, &c, ws->S);
    double value = ctx->gram_side == DFSAE_GRAM_SAMPLE
                       ? sample_side(ctx, &c, ws->S, G)
                       : feature_side(ctx, ws->S, G);
    if (dA != NULL)
        backprop_standardise(ctx, &c, ws->S, G, weight, dA);
    return value;
}

const dfsae_loss_ops dfsae__loss_tc = {"tc", 1, 0, tc_eval};
