/* L_tc = sum_{j != k} Corr_jk^2 over the batch, on the cheaper Gram side.
 *
 * With S = Ac diag(1/s) the standardised batch (N = n - 1):
 *   feature side: C = S^T S / N (K x K), dL/dS = (4/N) S offdiag(C)
 *   sample side:  H = S S^T (n x n),     dL/dS = (4/N^2) H S - (4/N) S diag(C)
 * then through s_j = sqrt(v_j) + 1e-8 and the centring (docs/math.md).
 * The product P (the first part of dL/dS) is left in the scratch for the
 * backward sweep; the rest is a per-column affine function of A. */
#include <math.h>

#include "blas/dfsae_blas.h"
#include "dist/dist.h"
#include "fastmath.h"
#include "loss/loss.h"

#define STD_EPS 1e-8

/* The term's scratch: the n x K standardised batch S, the n x K product P
 * (then dZ over it, loss.h), the Gram matrix and per-column quantities. */
typedef struct tc_bufs {
    float *S, *P;
    float *gram;        /* K x K (feature side) or n x n (sample side) */
    float *inv_std_f32; /* 1 / s_j in float, for the sweep */
    double *inv_std;    /* 1 / s_j */
    double *ssum;       /* sum_i S_ij: sample side only (standardise) */
    double *ssq;        /* sum_i S_ij^2 = N diag(C)_j: sample side only */
    double *gs;         /* sum_i (dL/dS)_ij S_ij */
    double *gsum;       /* sum_i (dL/dS)_ij */
    double *d4;         /* sample side: (4/N) diag(C)_j */
} tc_bufs;

static int tc_scratch(size_t n, size_t k, size_t d, int side,
                      dfsae_scratch_size *size)
{
    (void)d;
    size_t nk, gram, dim = dfsae__gram_dim(n, k, side);
    size->f32 = size->f64 = 0;
    return dfsae__mul_size(n, k, &nk) && dfsae__mul_size(dim, dim, &gram) &&
           dfsae__scratch_add(&size->f32, nk, sizeof(float)) &&
           dfsae__scratch_add(&size->f32, nk, sizeof(float)) &&
           dfsae__scratch_add(&size->f32, gram, sizeof(float)) &&
           dfsae__scratch_add(&size->f32, k, sizeof(float)) &&
           dfsae__scratch_add(&size->f64, 6 * k, sizeof(double));
}

static tc_bufs bufs_of(const dfsae_loss_ctx *ctx)
{
    const size_t n = ctx->n, k = ctx->k,
                 dim = dfsae__gram_dim(n, k, ctx->gram_side);
    float *f = ctx->scratch_f32;
    double *g = ctx->scratch_f64;
    tc_bufs b;
    b.S = dfsae__scratch_take_f32(&f, n * k);
    b.P = dfsae__scratch_take_f32(&f, n * k);
    b.gram = dfsae__scratch_take_f32(&f, dim * dim);
    b.inv_std_f32 = dfsae__scratch_take_f32(&f, k);
    b.inv_std = dfsae__scratch_take_f64(&g, 6 * k);
    b.ssum = b.inv_std + k;
    b.ssq = b.inv_std + 2 * k;
    b.gs = b.inv_std + 3 * k;
    b.gsum = b.inv_std + 4 * k;
    b.d4 = b.inv_std + 5 * k;
    return b;
}

/* S_ij = (A_ij - mean_j) / s_j for columns [j0, j1), centred in float
 * through the split mean (loss.h). With `sums`, also S's column sums and
 * sums of squares, which the sample side needs; the feature side takes
 * sum_i S_ij as exact arithmetic has it, 0 (the rounded S's own sums are
 * ~sqrt(n) ulp, and would move the gradient by ~1e-9 relative). */
DFSAE_MULTIVERSION
static void standardise(const dfsae_loss_ctx *ctx, const tc_bufs *c, float *S,
                        size_t j0, size_t j1, int sums)
{
    const size_t n = ctx->n, k = ctx->k;
    const float *hi = ctx->stats.mean_hi, *lo = ctx->stats.mean_lo;
    float *inv = c->inv_std_f32;
    for (size_t j = j0; j < j1; ++j) {
        c->inv_std[j] = 1.0 / (sqrt(ctx->stats.var[j]) + STD_EPS);
        inv[j] = (float)c->inv_std[j];
        c->ssum[j] = c->ssq[j] = 0.0;
    }
    for (size_t i = 0; i < n; ++i) {
        const float *a = ctx->A + i * k;
        float *s = S + i * k;
        for (size_t j = j0; j < j1; ++j)
            s[j] = dfsae__centre(a[j], hi[j], lo[j]) * inv[j];
        if (!sums)
            continue;
#pragma omp simd
        for (size_t j = j0; j < j1; ++j) {
            c->ssum[j] += (double)s[j];
            c->ssq[j] += (double)s[j] * (double)s[j];
        }
    }
}

/* The column-parallel sweeps' shared arguments. */
typedef struct tc_job {
    const dfsae_loss_ctx *ctx;
    const tc_bufs *c;
    float *S;
    const float *P;
    int sums;
} tc_job;

static void standardise_cols(void *arg, int part, size_t lo, size_t hi)
{
    (void)part;
    const tc_job *t = arg;
    standardise(t->ctx, t->c, t->S, lo, hi, t->sums);
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

/* With P = (4/N) S C' (C' = C without its diagonal), the column sums the
 * chain rule needs follow from C alone, with no pass over n x K:
 *   sum_i P_ij S_ij = 4 sum_l C'_lj C_lj,
 *   sum_i P_ij = (4/N) sum_l (sum_i S_il) C'_lj = 0 (standardise).
 * One pass over the upper triangle; zeroes the diagonal on the way. */
DFSAE_MULTIVERSION
static void feature_sums(float *C, size_t k, const tc_bufs *c)
{
    double *gs = c->gs;
    for (size_t j = 0; j < k; ++j)
        gs[j] = c->gsum[j] = 0.0;
    for (size_t r = 0; r < k; ++r) {
        float *row = C + r * k;
        row[r] = 0.0f;
        /* Row r's upper part counts for columns q > r and, by symmetry,
         * for column r itself. */
        for (size_t q = r + 1; q < k; ++q)
            gs[q] += (double)row[q] * (double)row[q];
        gs[r] += dfsae__sumsq_f64(row + r + 1, k - r - 1);
    }
    for (size_t j = 0; j < k; ++j)
        gs[j] *= 4.0;
}

/* Returns the value; with P non-NULL also writes P = (4/N) S C' and the
 * column sums. */
static double feature_side(const dfsae_loss_ctx *ctx, const tc_bufs *c,
                           const float *S, float *P)
{
    const size_t n = ctx->n, k = ctx->k;
    const double N = (double)(ctx->n_batch - 1);
    float *C = c->gram;
    if (n > 0)
        dfsae__ssyrk(DFSAE_TRANS, (int)k, (int)n, (float)(1.0 / N), S, (int)k,
                     0.0f, C, (int)k);
    else /* a data-parallel rank without rows adds nothing */
        for (size_t i = 0; i < k * k; ++i)
            C[i] = 0.0f;
    /* Data-parallel: C is a sum over the rows, so over the ranks' rows. */
    if (dfsae__dist_is(ctx->dist, DFSAE_DIST_DATA))
        dfsae__dist_sum_f32(ctx->dist, C, k * k);
    double value = sym_sumsq(C, k, 0);
    if (P != NULL) {
        feature_sums(C, k, c);
        if (n > 0)
            dfsae__ssymm(DFSAE_RIGHT, (int)n, (int)k, (float)(4.0 / N), C,
                         (int)k, S, (int)k, 0.0f, P, (int)k);
    }
    return value;
}

/* sum_i P_ij S_ij and sum_i P_ij for columns [j0, j1) in one sweep. */
DFSAE_MULTIVERSION
static void product_sums(const float *P, const float *S, size_t n, size_t k,
                         size_t j0, size_t j1, double *ps, double *psum)
{
    for (size_t j = j0; j < j1; ++j)
        ps[j] = psum[j] = 0.0;
    for (size_t i = 0; i < n; ++i) {
        const float *p = P + i * k, *s = S + i * k;
#pragma omp simd
        for (size_t j = j0; j < j1; ++j) {
            ps[j] += (double)p[j] * s[j];
            psum[j] += (double)p[j];
        }
    }
}

static void product_sums_cols(void *arg, int part, size_t lo, size_t hi)
{
    (void)part;
    const tc_job *t = arg;
    product_sums(t->P, t->S, t->ctx->n, t->ctx->k, lo, hi, t->c->gs,
                 t->c->gsum);
}

/* Returns the value; with P non-NULL also writes P = (4/N^2) H S, d4
 * (dL/dS = P - S diag(d4)), and the column sums of dL/dS. */
static double sample_side(const dfsae_loss_ctx *ctx, const tc_bufs *c,
                          const float *S, float *P)
{
    const size_t n = ctx->n, k = ctx->k;
    const double N = (double)(ctx->n_batch - 1);
    float *H = c->gram;
    /* diag(C)_j = ssq_j / N, from the same S as H so the two agree. */
    double diag_sq = 0.0;
    for (size_t j = 0; j < k; ++j)
        diag_sq += (c->ssq[j] / N) * (c->ssq[j] / N);
    dfsae__ssyrk(DFSAE_NO_TRANS, (int)n, (int)k, 1.0f, S, (int)k, 0.0f, H,
                 (int)n);
    /* Dictionary shards: H = sum over the shards of S_r S_r^T, and the
     * diagonal's sum runs over all components (docs/math.md). */
    if (dfsae__dist_is(ctx->dist, DFSAE_DIST_DICTIONARY)) {
        dfsae__dist_sum_f32(ctx->dist, H, n * n);
        dfsae__dist_sum_f64(ctx->dist, &diag_sq, 1);
    }
    /* A difference of two O(K) sums: rounding can take it a few K ulp
     * below zero for decorrelated codes, where the true value is >= 0. */
    double value = sym_sumsq(H, n, 1) / (N * N) - diag_sq;
    value = value < 0.0 ? 0.0 : value; /* a NaN stays NaN */
    if (P != NULL) {
        dfsae__ssymm(DFSAE_LEFT, (int)n, (int)k, (float)(4.0 / (N * N)), H,
                     (int)n, S, (int)k, 0.0f, P, (int)k);
        tc_job job = {ctx, c, c->S, P, 0}; /* S is that same buffer */
        dfsae__parallel_for(ctx->pool, k, 16, product_sums_cols, &job);
        for (size_t j = 0; j < k; ++j) {
            c->d4[j] = 4.0 / N * c->ssq[j] / N;
            c->gs[j] -= c->d4[j] * c->ssq[j];
            c->gsum[j] -= c->d4[j] * c->ssum[j];
        }
    }
    return value;
}

/* The parts of weight * dL/dA, from dL/dS = P - S diag(d4) through s_j
 * and then the centring:
 *   t_ij = (dL/dS)_ij / s_j - S_ij sum_i((dL/dS)_ij S_ij) / (N sqrt(v_j)),
 *   dL/dA_ij = t_ij - mean_i t_ij,
 * with S_ij = (A_ij - mean_j) / s_j. A constant column has S = 0 and its
 * 0/0 is taken as 0. */
static void add_parts(const dfsae_loss_ctx *ctx, const tc_bufs *c, int sample,
                      double weight, float *P, dfsae_dA_parts *dA)
{
    const size_t n = ctx->n_batch, k = ctx->k;
    const double N = (double)(n - 1);
    for (size_t j = 0; j < k; ++j) {
        double v = ctx->stats.var[j], inv_std = c->inv_std[j];
        double coef = v > 0.0 ? c->gs[j] / (N * sqrt(v)) : 0.0;
        double tmean = (c->gsum[j] * inv_std - coef * c->ssum[j]) / (double)n;
        double on_s = sample ? inv_std * c->d4[j] + coef : coef;
        dA->p_scale[j] = (float)(weight * inv_std);
        dA->centred[j] -= weight * on_s * inv_std;
        dA->constant[j] -= weight * tmean;
    }
    dA->P = P;
}

static double tc_eval(const dfsae_loss_ctx *ctx, double weight,
                      dfsae_dA_parts *dA, float *dW)
{
    (void)dW;
    tc_bufs c = bufs_of(ctx);
    float *P = dA != NULL ? c.P : NULL;
    int sample = ctx->gram_side == DFSAE_GRAM_SAMPLE;
    tc_job job = {ctx, &c, c.S, NULL, sample};
    dfsae__parallel_for(ctx->pool, ctx->k, 16, standardise_cols, &job);
    double value =
        sample ? sample_side(ctx, &c, c.S, P) : feature_side(ctx, &c, c.S, P);
    if (dA != NULL)
        add_parts(ctx, &c, sample, weight, P, dA);
    return value;
}

/* Distributed, the Gram that sums over the split dimension: K x K over the
 * rows (data-parallel), B x B over the units (dictionary shards). */
const dfsae_loss_ops dfsae__loss_tc = {
    .name = "tc",
    .needs_stats = 1,
    .leaves_product = 1,
    .dist_side = {[DFSAE_DIST_DATA] = DFSAE_GRAM_FEATURE,
                  [DFSAE_DIST_DICTIONARY] = DFSAE_GRAM_SAMPLE},
    .scratch_size = tc_scratch,
    .eval = tc_eval};
