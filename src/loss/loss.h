/* Loss terms. Each term lives in its own file and exports an ops table;
 * forward and backward sit side by side. */
#ifndef DFSAE_LOSS_H
#define DFSAE_LOSS_H

#include <stddef.h>

#include "model.h"

/* Column statistics over a batch, in double (col block of the workspace). */
typedef struct dfsae_colstats {
    const double *mean; /* K column means */
    const double *var;  /* K unbiased variances, exactly 0 for constant */
} dfsae_colstats;

typedef struct dfsae_loss_ctx {
    size_t n, k, d;
    const float *A;          /* n x K activations */
    dfsae_colstats stats;    /* valid when the term needs_stats */
    const float *W;          /* K x D weights */
    const dfsae_options *opt;
    dfsae_workspace *ws;
    int gram_side;           /* resolved: FEATURE or SAMPLE */
} dfsae_loss_ctx;

typedef struct dfsae_loss_ops {
    const char *name;
    int needs_stats; /* uses column variances, so needs n >= 2 */
    int on_weights;  /* depends on W directly rather than on A */
    /* Returns the term's unweighted value. When dA is non-NULL, adds
     * weight * dL/dA (n x K); when dW is non-NULL, adds weight * dL/dW
     * (K x D). A term touches only the one that depends on it. */
    double (*eval)(const dfsae_loss_ctx *ctx, double weight, float *dA,
                   float *dW);
} dfsae_loss_ops;

/* Indexed by dfsae_term. */
extern const dfsae_loss_ops *const dfsae__loss_terms[DFSAE_TERM_COUNT];

/* Fills mean and var (col[0..K) and col[K..2K)) for the n x K matrix A. */
void dfsae__colstats(const float *A, size_t n, size_t k, double *col);

/* Row-wise log-sum-exp of -A: returns sum_i log sum_j exp(-A_ij); if R is
 * non-NULL writes scale * softmax(-A) row-wise into it (added if
 * accumulate). `scratch` holds k floats; it may be NULL when R is non-NULL
 * and accumulate is 0. */
double dfsae__lse_rows(const float *A, size_t n, size_t k, float *R,
                       float scale, int accumulate, float *scratch);

/* Cheaper Gram side for an n x k matrix when side is AUTO. */
int dfsae__resolve_gram_side(int side, size_t n, size_t k);

#endif
