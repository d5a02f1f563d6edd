/* The objective of docs/math.md in double, one formula per term, no shortcuts
 * (no Gram side tricks, no fused passes): an independent reference. */
#include <math.h>
#include <stdlib.h>

#include "grad_reference.h"

grad_ref_opts grad_ref_defaults(void)
{
    grad_ref_opts o = {DFSAE_ACT_RELU, 0.01, 1e-6, DFSAE_REDUCE_SUM, 1.0};
    return o;
}

double grad_ref_phi(const grad_ref_opts *o, double z)
{
    switch (o->activation) {
    case DFSAE_ACT_RELU: return z > 0.0 ? z : 0.0;
    case DFSAE_ACT_SOFTPLUS:
        return z > 0.0 ? z + log1p(exp(-z)) : log1p(exp(z));
    case DFSAE_ACT_IDENTITY: return z;
    case DFSAE_ACT_LEAKY_RELU: return z > 0.0 ? z : o->leaky_slope * z;
    case DFSAE_ACT_TANH: return tanh(z);
    default: return NAN;
    }
}

void grad_ref_forward(const grad_ref_opts *o, const float *X, size_t n,
                      size_t d, const float *params, size_t k, double *Z,
                      double *A)
{
    const float *W = params, *b = params + k * d;
    for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < k; ++j) {
            double z = b[j];
            for (size_t c = 0; c < d; ++c)
                z += (double)X[i * d + c] * W[j * d + c];
            if (Z != NULL)
                Z[i * k + j] = z;
            A[i * k + j] = o->activation == DFSAE_ACT_SOFTMAX
                               ? z / o->temperature
                               : grad_ref_phi(o, z);
        }
    if (o->activation != DFSAE_ACT_SOFTMAX)
        return;
    for (size_t i = 0; i < n; ++i) {
        double *a = A + i * k, amax = a[0], s = 0.0;
        for (size_t j = 1; j < k; ++j)
            amax = fmax(amax, a[j]);
        for (size_t j = 0; j < k; ++j)
            s += exp(a[j] - amax);
        for (size_t j = 0; j < k; ++j)
            a[j] = exp(a[j] - amax) / s;
    }
}

/* -log sum_j exp(-a_j), shifted by the row minimum so it stays finite. */
static double neg_lse_row(const double *a, size_t k)
{
    double amin = a[0];
    for (size_t j = 1; j < k; ++j)
        amin = fmin(amin, a[j]);
    double s = 0.0;
    for (size_t j = 0; j < k; ++j)
        s += exp(-(a[j] - amin));
    return amin - log(s);
}

void grad_ref_softmax_neg(const double *A, size_t n, size_t k, double *R)
{
    for (size_t i = 0; i < n; ++i) {
        const double *a = A + i * k;
        double amin = a[0], s = 0.0;
        for (size_t j = 1; j < k; ++j)
            amin = fmin(amin, a[j]);
        for (size_t j = 0; j < k; ++j)
            s += exp(-(a[j] - amin));
        for (size_t j = 0; j < k; ++j)
            R[i * k + j] = exp(-(a[j] - amin)) / s;
    }
}

static double col_mean(const double *A, size_t n, size_t k, size_t j)
{
    double m = 0.0;
    for (size_t i = 0; i < n; ++i)
        m += A[i * k + j];
    return m / (double)n;
}

/* Unbiased covariance of columns j and l (two-pass). */
static double col_cov(const double *A, size_t n, size_t k, size_t j, size_t l)
{
    double mj = col_mean(A, n, k, j), ml = col_mean(A, n, k, l), s = 0.0;
    for (size_t i = 0; i < n; ++i)
        s += (A[i * k + j] - mj) * (A[i * k + l] - ml);
    return s / (double)(n - 1);
}

void grad_ref_terms(const grad_ref_opts *o, const double *A, size_t n, size_t k,
                    const float *W, size_t d, double terms[DFSAE_TERM_COUNT])
{
    /* A term without a reference here compares against NaN and fails. */
    for (int t = 0; t < DFSAE_TERM_COUNT; ++t)
        terms[t] = NAN;
    /* 1. L_lse = -sum_i log sum_j exp(-A_ij), or its mean over rows. */
    double lse = 0.0;
    for (size_t i = 0; i < n; ++i)
        lse += neg_lse_row(A + i * k, k);
    terms[DFSAE_TERM_LSE] =
        o->reduction == DFSAE_REDUCE_MEAN ? lse / (double)n : lse;

    /* 2. L_var = -sum_j log(v_j + eps), v_j unbiased. */
    double var = 0.0, tc = 0.0;
    if (n >= 2) {
        for (size_t j = 0; j < k; ++j)
            var -= log(col_cov(A, n, k, j, j) + o->eps_var);
        /* 3. L_tc = sum_{j != l} (Cov_jl / (s_j s_l))^2, s = sqrt(v)+1e-8. */
        for (size_t j = 0; j < k; ++j)
            for (size_t l = 0; l < k; ++l) {
                if (j == l)
                    continue;
                double sj = sqrt(col_cov(A, n, k, j, j)) + 1e-8;
                double sl = sqrt(col_cov(A, n, k, l, l)) + 1e-8;
                double corr = col_cov(A, n, k, j, l) / (sj * sl);
                tc += corr * corr;
            }
    }
    terms[DFSAE_TERM_VAR] = var;
    terms[DFSAE_TERM_TC] = tc;

    terms[DFSAE_TERM_WR] = W != NULL ? grad_ref_wr(W, k, d) : 0.0;
}

/* 4. L_wr = ||Wn Wn^T - I||_F^2, rows of W over (||w_k|| + 1e-8). */
double grad_ref_wr(const float *W, size_t k, size_t d)
{
    double *norm = malloc(k * sizeof *norm), wr = 0.0;
    if (norm == NULL)
        return NAN;
    for (size_t j = 0; j < k; ++j) {
        double ss = 0.0;
        for (size_t c = 0; c < d; ++c)
            ss += (double)W[j * d + c] * W[j * d + c];
        norm[j] = sqrt(ss) + 1e-8;
    }
    for (size_t j = 0; j < k; ++j)
        for (size_t l = 0; l < k; ++l) {
            double g = 0.0;
            for (size_t c = 0; c < d; ++c)
                g += ((double)W[j * d + c] / norm[j]) *
                     ((double)W[l * d + c] / norm[l]);
            g -= j == l ? 1.0 : 0.0;
            wr += g * g;
        }
    free(norm);
    return wr;
}

double grad_ref_wr_unnormalised(const float *W, size_t k, size_t d)
{
    double wr = 0.0;
    for (size_t a = 0; a < d; ++a)
        for (size_t c = 0; c < d; ++c) {
            double g = 0.0;
            for (size_t j = 0; j < k; ++j)
                g += (double)W[j * d + a] * W[j * d + c];
            g -= a == c ? 1.0 : 0.0;
            wr += g * g;
        }
    return wr;
}
