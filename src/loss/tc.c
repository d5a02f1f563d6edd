/* L_tc = sum_{j != k} Corr_jk^2 over the batch, on the cheaper Gram side.
 *
 * With S = Ac diag(1/s) the standardised batch (N = n - 1):
 *   feature side: C = S^T S / N (K x K), dL/dS = (4/N) S offdiag(C)
 *   sample side:  H = S S^T (n x n),     dL/dS = (4/N^2) H S - (4/N) S diag(C)
 * then through s_j = sqrt(v_j) + 1e-8 and the centring (docs/math.md). */
#include <math.h>

#include "blas/dfsae_blas.h"
#include "loss/loss.h"

#define STD_EPS 1e-8

/* S_ij = (A_ij - mean_j) / s_j; writes s into std. */
static void standardise(const dfsae_loss_ctx *ctx, double *std, float *S)
{
    const size_t n = ctx->n, k = ctx->k;
    for (size_t j = 0; j < k; ++j)
        std[j] = sqrt(ctx->stats.var[j]) + STD_EPS;
    for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < k; ++j)
            S[i * k + j] =
                (float)((ctx->A[i * k + j] - ctx->stats.mean[j]) / std[j]);
}

/* Sum of squares of a symmetric matrix from its upper triangle, optionally
 * without the diagonal. */
static double sym_sumsq(const float *M, size_t m, int with_diag)
{
    double off = 0.0, diag = 0.0;
    for (size_t r = 0; r < m; ++r) {
        diag += (double)M[r * m + r] * M[r * m + r];
        for (size_t c = r + 1; c < m; ++c)
            off += (double)M[r * m + c] * M[r * m + c];
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

static double sample_side(const dfsae_loss_ctx *ctx, const float *S, float *G,
                          double *diag)
{
    const size_t n = ctx->n, k = ctx->k;
    const double N = (double)(n - 1);
    float *H = ctx->ws->gram;
    /* diag(C)_j = sum_i S_ij^2 / N, from the same S as H for consistency. */
    for (size_t j = 0; j < k; ++j)
        diag[j] = 0.0;
    for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < k; ++j)
            diag[j] += (double)S[i * k + j] * S[i * k + j];
    double diag_sq = 0.0;
    for (size_t j = 0; j < k; ++j) {
        diag[j] /= N;
        diag_sq += diag[j] * diag[j];
    }
    dfsae__ssyrk(DFSAE_NO_TRANS, (int)n, (int)k, 1.0f, S, (int)k, 0.0f, H,
                 (int)n);
    double value = sym_sumsq(H, n, 1) / (N * N) - diag_sq;
    if (G != NULL) {
        dfsae__ssymm(DFSAE_LEFT, (int)n, (int)k, (float)(4.0 / (N * N)), H,
                     (int)n, S, (int)k, 0.0f, G, (int)k);
        for (size_t i = 0; i < n; ++i)
            for (size_t j = 0; j < k; ++j)
                G[i * k + j] -= (float)(4.0 / N * diag[j]) * S[i * k + j];
    }
    return value;
}

/* dL/dA from dL/dS = G: through s_j, then the centring. */
static void backprop_standardise(const dfsae_loss_ctx *ctx, const float *S,
                                 const float *G, const double *std,
                                 double *scratch, double weight, float *dA)
{
    const size_t n = ctx->n, k = ctx->k;
    const double N = (double)(n - 1);
    double *coef = scratch, *tmean = scratch + k;
    for (size_t j = 0; j < k; ++j)
        coef[j] = tmean[j] = 0.0;
    for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < k; ++j)
            coef[j] += (double)G[i * k + j] * S[i * k + j];
    /* t_ij = G_ij / s_j - coef_j S_ij with coef_j = g_j / (N sqrt(v_j));
     * a constant column has S = 0 and its 0/0 is taken as 0. */
    for (size_t j = 0; j < k; ++j) {
        double v = ctx->stats.var[j];
        coef[j] = v > 0.0 ? coef[j] / (N * sqrt(v)) : 0.0;
    }
    for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < k; ++j)
            tmean[j] += G[i * k + j] / std[j] - coef[j] * S[i * k + j];
    for (size_t j = 0; j < k; ++j)
        tmean[j] /= (double)n;
    for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < k; ++j) {
            double t = G[i * k + j] / std[j] - coef[j] * S[i * k + j];
            dA[i * k + j] += (float)(weight * (t - tmean[j]));
        }
}

static double tc_eval(const dfsae_loss_ctx *ctx, double weight, float *dA,
                      float *dW)
{
    (void)dW;
    dfsae_workspace *ws = ctx->ws;
    double *std = ws->col + 2 * ctx->k, *scratch = ws->col + 3 * ctx->k;
    float *G = dA != NULL ? ws->G : NULL;
    standardise(ctx, std, ws->S);
    double value = ctx->gram_side == DFSAE_GRAM_SAMPLE
                       ? sample_side(ctx, ws->S, G, scratch)
                       : feature_side(ctx, ws->S, G);
    if (dA != NULL)
        backprop_standardise(ctx, ws->S, G, std, scratch, weight, dA);
    return value;
}

const dfsae_loss_ops dfsae__loss_tc = {"tc", 1, 0, tc_eval};
