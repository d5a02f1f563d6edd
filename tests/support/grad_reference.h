/* A double-precision reference of the model and objective, written from
 * the definitions in docs/math.md alone (not from src/), to check the library's
 * values (area "grad"). Naive and O(n K^2 + K^2 D): for small problems only. */
#ifndef GRAD_REFERENCE_H
#define GRAD_REFERENCE_H

#include <stddef.h>

#include "dfsae.h"

typedef struct grad_ref_opts {
    int activation; /* dfsae_activation */
    double leaky_slope;
    double eps_var;
    int reduction;      /* dfsae_reduction for L_lse */
    double temperature; /* softmax's T */
} grad_ref_opts;

/* The documented defaults: relu, slope 0.01, eps 1e-6, sum; T = 1. */
grad_ref_opts grad_ref_defaults(void);

/* phi(z) in double for an elementwise phi (NaN for softmax). */
double grad_ref_phi(const grad_ref_opts *o, double z);

/* Z = X W^T + b and A = phi(Z), n x K in double; params is W (K x D) then
 * b (K) as in dfsae_model_get_params. Z may be NULL. Softmax is taken
 * row by row: A_ij = exp(Z_ij / T) / sum_l exp(Z_il / T). */
void grad_ref_forward(const grad_ref_opts *o, const float *X, size_t n,
                      size_t d, const float *params, size_t k, double *Z,
                      double *A);

/* The four unweighted terms (dfsae_term order) for activations A (n x K)
 * and weights W (K x D). L_var and L_tc need n >= 2. */
void grad_ref_terms(const grad_ref_opts *o, const double *A, size_t n, size_t k,
                    const float *W, size_t d, double terms[DFSAE_TERM_COUNT]);

/* L_wr alone for weights W (K x D). */
double grad_ref_wr(const float *W, size_t k, size_t d);
/* The unnormalised form ||W^T W - I_D||_F^2 (DFSAE_WR_UNNORMALISED), from
 * the D x D Gram. */
double grad_ref_wr_unnormalised(const float *W, size_t k, size_t d);

/* Row-wise softmax(-A) in double (n x K). */
void grad_ref_softmax_neg(const double *A, size_t n, size_t k, double *R);

#endif
