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

/* The term's scratch: W's rows normalised, the gradient with respect to
 * them, the Gram matrix and the row norms. */
typedef struct wr_bufs {
    float *Wn, *GWn; /* K x D each */
    float *gram;     /* K x K (feature side) or D x D (sample side) */
    double *norm;    /* K */
} wr_bufs;

/* Only the model's shape: n does not enter. */
static int wr_scratch(size_t n, size_t k, size_t d, int side,
                      dfsae_scratch_size *size)
{
    (void)n;
    size_t kd, gram, dim = dfsae__gram_dim(d, k, side);
    size->f32 = size->f64 = 0;
    return dfsae__mul_size(k, d, &kd) && dfsae__mul_size(dim, dim, &gram) &&
           dfsae__scratch_add(&size->f32, kd, sizeof(float)) &&
           dfsae__scratch_add(&size->f32, kd, sizeof(float)) &&
           dfsae__scratch_add(&size->f32, gram, sizeof(float)) &&
           dfsae__scratch_add(&size->f64, k, sizeof(double));
}

static wr_bufs bufs_of(const dfsae_loss_ctx *ctx)
{
    const size_t k = ctx->k, d = ctx->d,
                 dim = dfsae__gram_dim(d, k, ctx->gram_side);
    float *f = ctx->scratch_f32;
    double *g = ctx->scratch_f64;
    wr_bufs b;
    b.Wn = dfsae__scratch_take_f32(&f, k * d);
    b.GWn = dfsae__scratch_take_f32(&f, k * d);
    b.gram = dfsae__scratch_take_f32(&f, dim * dim);
    b.norm = dfsae__scratch_take_f64(&g, k);
    return b;
}

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
static double feature_side(const dfsae_loss_ctx *ctx, float *Gn,
                           const float *Wn, float *GWn)
{
    const size_t k = ctx->k, d = ctx->d;
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
static double sample_side(const dfsae_loss_ctx *ctx, float *M, const float *Wn,
                          float *GWn)
{
    const size_t k = ctx->k, d = ctx->d;
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
    wr_bufs b = bufs_of(ctx);
    const int raw = ctx->opt->wr_form == DFSAE_WR_UNNORMALISED;
    if (!raw)
        normalise_rows(ctx->W, k, d, b.norm, b.Wn);
    const float *V = raw ? ctx->W : b.Wn;
    float *GWn = dW != NULL ? b.GWn : NULL;
    double value = ctx->gram_side == DFSAE_GRAM_SAMPLE
                       ? sample_side(ctx, b.gram, V, GWn)
                       : feature_side(ctx, b.gram, V, GWn);
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
        const float *g = GWn + r * d, *wn = b.Wn + r * d;
        double dot = 0.0;
        for (size_t c = 0; c < d; ++c)
            dot += (double)g[c] * wn[c];
        double inv = 1.0 / (b.norm[r] + NORM_EPS);
        double proj = b.norm[r] > 0.0 ? dot / b.norm[r] : 0.0;
        float *out = dW + r * d;
        for (size_t c = 0; c < d; ++c)
            out[c] += (float)(weight * (g[c] * inv - proj * wn[c]));
    }
    return value;
}

/* Dictionary shards hold rows of W: the D x D Gram sums over them. Every
 * data-parallel rank holds all of W, so there the option decides. */
const dfsae_loss_ops dfsae__loss_wr = {
    .name = "wr",
    .on_weights = 1,
    .dist_side = {[DFSAE_DIST_DICTIONARY] = DFSAE_GRAM_SAMPLE},
    .scratch_size = wr_scratch,
    .eval = wr_eval};
