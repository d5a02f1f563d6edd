/* Loss terms. Each term lives in its own file and exports an ops table;
 * forward and backward sit side by side. */
#ifndef DFSAE_LOSS_H
#define DFSAE_LOSS_H

#include <stddef.h>

#include "layers/layers.h"
#include "model.h"

/* Column statistics over a batch, in double (col block of the workspace). */
typedef struct dfsae_colstats {
    const double *var; /* K unbiased variances, exactly 0 for constant */
    /* The K column means split into float pairs (dfsae__split_double), for
     * float sweeps to centre through dfsae__centre. */
    const float *mean_hi, *mean_lo;
} dfsae_colstats;

/* The front sweep's row statistics for L_lse (valid when it is on):
 * R_ij = exp(min_i - A_ij) / sum_i rebuilds softmax(-A) row by row. */
typedef struct dfsae_lse_rows {
    const float *min;  /* n row minima */
    const double *sum; /* n sums of exp(min_i - A_ij) */
    double total;      /* sum_i log sum_j exp(-A_ij) */
} dfsae_lse_rows;

typedef struct dfsae_loss_ctx {
    size_t n, k, d;
    size_t n_batch; /* rows of the batch over all ranks (n on one process) */
    struct dfsae_dist *dist; /* the reductions (dist/dist.h), or NULL */
    const float *A;          /* n x K activations */
    dfsae_colstats stats;    /* valid when the term needs_stats */
    dfsae_lse_rows lse;
    const float *W; /* K x D weights */
    const dfsae_options *opt;
    dfsae_workspace *ws;
    int gram_side;    /* resolved: FEATURE or SAMPLE */
    dfsae_pool *pool; /* for sweeps over n x K (NULL: the caller) */
} dfsae_loss_ctx;

/* dL/dA as the terms on A describe it, so that it is assembled in the one
 * backward sweep that also takes it through the activation
 * (dfsae__backward_sweep) instead of each term sweeping n x K itself:
 *   dL/dA_ij = r_scale R_ij + p_scale_j P_ij + centred_j (A_ij - mean_j)
 *              + constant_j
 * with R = softmax(-A) row-wise and P an n x K product a term leaves in
 * the workspace (the backward sweep overwrites it with dZ). Terms add
 * their weighted parts. */
typedef struct dfsae_dA_parts {
    double r_scale;
    float *P;         /* NULL while no term has left a product */
    float *p_scale;   /* k */
    double *centred;  /* k, starts at 0 */
    double *constant; /* k, starts at 0 */
} dfsae_dA_parts;

typedef struct dfsae_loss_ops {
    const char *name;
    int needs_stats; /* uses column variances, so needs n >= 2 */
    int on_weights;  /* depends on W directly rather than on A */
    /* Returns the term's unweighted value. When dA is non-NULL, adds the
     * parts of weight * dL/dA; when dW is non-NULL, adds weight * dL/dW
     * (K x D). A term touches only the one that depends on it. */
    double (*eval)(const dfsae_loss_ctx *ctx, double weight, dfsae_dA_parts *dA,
                   float *dW);
} dfsae_loss_ops;

/* Indexed by dfsae_term. */
extern const dfsae_loss_ops *const dfsae__loss_terms[DFSAE_TERM_COUNT];

/* 1 if a term of non-zero weight in lambda needs column statistics (then a
 * batch needs at least 2 rows). */
int dfsae__loss_needs_stats(const double lambda[DFSAE_TERM_COUNT]);

/* Column means and variances of an n x K matrix A: zero col's mean and var
 * slots, add every row in order (each column shifted by A's first row;
 * columns [j0, j1) of `count` rows per call: row blocks, or column ranges
 * over all rows), then finish. */
void dfsae__colstats_begin(size_t k, double *col);
void dfsae__colstats_add(const float *rows, size_t count, size_t k, size_t j0,
                         size_t j1, const float *first, double *col);
void dfsae__colstats_finish(const float *first, size_t n, size_t k, double *col,
                            float *mean_hi, float *mean_lo);

/* The row statistics of L_lse for `count` rows (dfsae_lse_rows), and
 * their total sum_i log sum_j exp(-A_ij) over n rows (summed in row order,
 * once all rows are in). */
void dfsae__lse_row_stats(const float *rows, size_t count, size_t k, float *min,
                          double *sum);
/* The same in two halves, for a minimum taken over several shards: the
 * row minima, then the sums of exp(min_i - A_ij) from given minima. */
void dfsae__lse_row_mins(const float *rows, size_t count, size_t k, float *min);
void dfsae__lse_row_sums(const float *rows, size_t count, size_t k,
                         const float *min, double *sum);
double dfsae__lse_total(const float *min, const double *sum, size_t n);

/* R = softmax(-A) row-wise (n x K). */
void dfsae__responsibilities(const float *A, size_t n, size_t k, float *R);

/* One sweep over the rows: dZ = phi'(Z) * dL/dA assembled from parts
 * (which must hold every enabled term's), and db = the column sums of dZ,
 * accumulated in acc (k doubles). dZ overwrites P when a term left one
 * (in place, which spares the write-allocate traffic of a fresh n x K
 * buffer), else goes to `spare`; returns where it is. */
float *dfsae__backward_sweep(const dfsae_loss_ctx *ctx,
                             const dfsae_dA_parts *parts,
                             const dfsae_activation_ops *act, double param,
                             float *spare, float *db, double *acc);

/* Rows per block of the front and backward sweeps: about 16 KiB of each
 * n x K array, so a block stays in L1 from one kernel to the next. */
static inline size_t dfsae__block_rows(size_t k)
{
    return k < 4096 ? 4096 / k : 1;
}

/* Cheaper Gram side for an n x k matrix when side is AUTO. */
int dfsae__resolve_gram_side(int side, size_t n, size_t k);

#endif
