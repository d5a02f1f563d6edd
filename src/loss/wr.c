/* L_wr = || Wn Wn^T - I ||_F^2 with Wn the rows of W over (||w_k|| + 1e-8),
 * on the cheaper side: K x K Gram (K^2 D) or D x D Gram M = Wn^T Wn (D^2 K),
 * using ||Wn Wn^T||_F = ||Wn^T Wn||_F (docs/math.md). The unnormalised
 * form ||W^T W - I_D||_F^2 is the same computation on W itself, with the
 * identity's size D in place of K. */
#include <math.h>

#include "blas/dfsae_blas.h"
#include "dist/dist.h"
#include "loss/loss.h"

#define NORM_EPS 1e-8

static void normalise_rows(const float *W, size_t k, size_t d, double *norm,
                           float *Wn)
{
    for (size_t r = 0; r < k; ++r) {
        const float *w = W + r * d;
        double ss = 0.0;
        for (size_t c = 0; c < d; ++c)
            ss += (double)w[c] * w[c];
        norm[r] = sqrt(ss);
        double inv = 1.0 / (norm[r] + NORM_EPS);
        for (size_t c = 0; c < d; ++c)
            Wn[r * d + c] = (float)(w[c] * inv);
    }
}

/* K x K side: value ||Gn - I||^2, GWn = 4 (Gn - I) Wn. */
static double feature_side(const dfsae_loss_ctx *ctx, const float *Wn,
                           float *GWn)
{
    const size_t k = ctx->k, d = ctx->d;
    float *Gn = ctx->ws->gramw;
    dfsae__ssyrk(DFSAE_NO_TRANS, (int)k, (int)d, 1.0f, Wn, (int)d, 0.0f, Gn,
                 (int)k);
    double value = 0.0;
    for (size_t r = 0; r < k; ++r) {
        Gn[r * k + r] -= 1.0f;
        value += (double)Gn[r * k + r] * Gn[r * k + r];
        for (size_t c = r + 1; c < k; ++c)
            value += 2.0 * (double)Gn[r * k + c] * Gn[r * k + c];
    }
    if (GWn != NULL)
        dfsae__ssymm(DFSAE_LEFT, (int)k, (int)d, 4.0f, Gn, (int)k, Wn, (int)d,
                     0.0f, GWn, (int)d);
    return value;
}

/* D x D side: value ||M||^2 - 2 sum_k ||wn_k||^2 + K, GWn = 4 (Wn M - Wn). */
static double sample_side(const dfsae_loss_ctx *ctx, const float *Wn,
                          float *GWn)
{
    const size_t k = ctx->k, d = ctx->d;
    float *M = ctx->ws->gramw;
    dfsae__ssyrk(DFSAE_TRANS, (int)d, (int)k, 1.0f, Wn, (int)d, 0.0f, M,
                 (int)d);
    /* Dictionary shards: M sums over the rows of W, so over the shards. */
    size_t k_all = k;
    if (dfsae__dist_is(ctx->dist, DFSAE_DIST_DICTIONARY)) {
        dfsae__dist_sum_f32(ctx->dist, M, d * d);
        k_all = ctx->dist->k_global;
    }
    double msq = 0.0, trace = 0.0;
    for (size_t r = 0; r < d; ++r) {
        msq += (double)M[r * d + r] * M[r * d + r];
        trace += M[r * d + r]; /* tr(M) = sum_k ||wn_k||^2 */
        for (size_t c = r + 1; c < d; ++c)
            msq += 2.0 * (double)M[r * d + c] * M[r * d + c];
    }
    if (GWn != NULL) {
        for (size_t i = 0; i < k * d; ++i)
            GWn[i] = Wn[i];
        dfsae__ssymm(DFSAE_RIGHT, (int)k, (int)d, 4.0f, M, (int)d, Wn, (int)d,
                     -4.0f, GWn, (int)d);
    }
    return msq - 2.0 * trace + (double)k_all;
}

static double wr_eval(const dfsae_loss_ctx *ctx, double weight,
                      dfsae_dA_parts *dA, float *dW)
{
    (void)dA;
    const size_t k = ctx->k, d = ctx->d;
    dfsae_workspace *ws = ctx->ws;
    const int raw = ctx->opt->wr_form == DFSAE_WR_UNNORMALISED;
    if (!raw)
        normalise_rows(ctx->W, k, d, ws->rown, ws->Wn);
    const float *V = raw ? ctx->W : ws->Wn;
    float *GWn = dW != NULL ? ws->GWn : NULL;
    double value = ctx->gram_side == DFSAE_GRAM_SAMPLE
                       ? sample_side(ctx, V, GWn)
                       : feature_side(ctx, V, GWn);
    /* ||W^T W - I_D||^2 = ||W W^T - I_K||^2 + D - K (the traces agree).
     * For K > D on the K x K side that subtracts K - D from a sum near it:
     * rounding can take the result a few K ulp below 0, its true bound. */
    if (raw) {
        value += (double)d - (double)k;
        value = value < 0.0 ? 0.0 : value; /* a NaN stays NaN */
    }
    if (dW == NULL)
        return value;
    if (raw) { /* dL/dW = 4 (W W^T - I) W, as GWn above */
        for (size_t i = 0; i < k * d; ++i)
            dW[i] += (float)(weight * GWn[i]);
        return value;
    }
    /* dL/dw = G/(|w| + eps) - (G . wn) wn / |w|; a zero row has G = 0. */
    for (size_t r = 0; r < k; ++r) {
        const float *g = GWn + r * d, *wn = ws->Wn + r * d;
        double dot = 0.0;
        for (size_t c = 0; c < d; ++c)
            dot += (double)g[c] * wn[c];
        double inv = 1.0 / (ws->rown[r] + NORM_EPS);
        double proj = ws->rown[r] > 0.0 ? dot / ws->rown[r] : 0.0;
        float *out = dW + r * d;
        for (size_t c = 0; c < d; ++c)
            out[c] += (float)(weight * (g[c] * inv - proj * wn[c]));
    }
    return value;
}

const dfsae_loss_ops dfsae__loss_wr = {"wr", 0, 1, wr_eval};
