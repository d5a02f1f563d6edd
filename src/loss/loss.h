/* Loss terms. Each term lives in its own file and exports an ops table;
 * forward and backward sit side by side. */
#ifndef DFSAE_LOSS_H
#define DFSAE_LOSS_H

#include <stddef.h>

#include "internal.h"
#include "layers/layers.h"
#include "parallel/pool.h"

/* The options the terms read: a part of the model's options (model.h),
 * so that a term sees its own values and nothing of the model. */
typedef struct dfsae_loss_opts {
    double eps_var;    /* L_var: added inside the log */
    double var_cap;    /* L_var: the saturation cap, 0 for none */
    int lse_reduction; /* L_lse: DFSAE_REDUCE_* */
    int wr_form;       /* L_wr: DFSAE_WR_* */
} dfsae_loss_opts;

/* Column statistics over a batch, in double (dfsae__colstats_*). */
typedef struct dfsae_colstats {
    const double *var; /* K unbiased variances, exactly 0 for constant */
    /* The K column means split into float pairs (dfsae__split_double), for
     * float sweeps to centre through dfsae__centre. */
    const float *mean_hi, *mean_lo;
} dfsae_colstats;

/* What one term sees: the batch, the statistics it declared, its options,
 * its Gram side and its own scratch (its scratch_size, carved by the term
 * with dfsae__scratch_take in the order it sized it). */
typedef struct dfsae_loss_ctx {
    size_t n, k, d;
    size_t n_batch; /* rows of the batch over all ranks (n on one process) */
    struct dfsae_dist *dist; /* the reductions (dist/dist.h), or NULL */
    const float *A;          /* n x K activations */
    dfsae_colstats stats;    /* valid when the term needs_stats */
    const float *W;          /* K x D weights */
    const dfsae_loss_opts *opt;
    int gram_side;      /* resolved: FEATURE or SAMPLE */
    float *scratch_f32; /* the term's scratch */
    double *scratch_f64;
    dfsae_pool *pool; /* for sweeps over n x K (NULL: the caller) */
} dfsae_loss_ctx;

/* dL/dA as the terms on A describe it, so that it is assembled in the one
 * backward sweep that also takes it through the activation
 * (dfsae__backward_sweep) instead of each term sweeping n x K itself:
 *   dL/dA_ij = r_scale R_ij + p_scale_j P_ij + centred_j (A_ij - mean_j)
 *              + constant_j
 * with R = softmax(-A) row-wise, rebuilt from row statistics as
 * R_ij = exp(r_min_i - A_ij) / r_sum_i, and P an n x K product a term
 * leaves in its scratch (the backward sweep overwrites it with dZ). Terms
 * add their weighted parts. */
typedef struct dfsae_dA_parts {
    double r_scale;
    const float *r_min;  /* n, set with r_scale */
    const double *r_sum; /* n */
    float *P;            /* NULL while no term has left a product */
    float *p_scale;      /* k */
    double *centred;     /* k, starts at 0 */
    double *constant;    /* k, starts at 0 */
    float *centred_f32, *constant_f32; /* k each: the sweep's copies */
} dfsae_dA_parts;

/* Empty parts over storage of DFSAE_PARTS_F32 K floats and DFSAE_PARTS_F64
 * K doubles. */
enum { DFSAE_PARTS_F32 = 3, DFSAE_PARTS_F64 = 2 };
void dfsae__dA_parts_begin(dfsae_dA_parts *p, size_t k, float *f32,
                           double *f64);

/* A term's scratch, in floats and doubles. */
typedef struct dfsae_scratch_size {
    size_t f32, f64;
} dfsae_scratch_size;

/* Buffers in a term's scratch start on 64-byte boundaries, as separately
 * allocated ones would for the vector loops and BLAS. */
enum { DFSAE_SCRATCH_ALIGN = 64 };

/* Adds a buffer of `count` elements of `elem` bytes to *total (elements);
 * 0 if the size overflows. */
int dfsae__scratch_add(size_t *total, size_t count, size_t elem);
/* The next buffer of `count` elements from *cursor, which moves past it. */
static inline float *dfsae__scratch_take_f32(float **cursor, size_t count)
{
    float *p = *cursor;
    const size_t step = DFSAE_SCRATCH_ALIGN / sizeof(float);
    *cursor += (count + step - 1) / step * step;
    return p;
}
static inline double *dfsae__scratch_take_f64(double **cursor, size_t count)
{
    double *p = *cursor;
    const size_t step = DFSAE_SCRATCH_ALIGN / sizeof(double);
    *cursor += (count + step - 1) / step * step;
    return p;
}

/* Indexes of dfsae_loss_ops.dist_side: the distribution modes (the public
 * DFSAE_DIST_*, 0 for one process). */
enum { DFSAE_DIST_MODE_COUNT = DFSAE_DIST_DICTIONARY + 1 };

typedef struct dfsae_loss_ops {
    const char *name;
    int needs_stats; /* uses column variances, so needs n >= 2 */
    int on_weights;  /* depends on W directly rather than on A */
    /* With dA, eval always leaves an n x K product in dA->P (so the
     * backward sweep needs no dZ buffer of its own). */
    int leaves_product;
    /* The Gram side the term takes in each distribution mode, the one whose
     * Gram is a sum over what the mode splits (rows or units) and which the
     * term reduces across the ranks; DFSAE_GRAM_AUTO (0, the default)
     * where the option decides (dfsae__dist_gram_side). */
    int dist_side[DFSAE_DIST_MODE_COUNT];
    /* The scratch for n rows of K components from D inputs on Gram side
     * `side` (resolved); 0 if its size overflows. NULL: none. */
    int (*scratch_size)(size_t n, size_t k, size_t d, int side,
                        dfsae_scratch_size *size);
    /* Row statistics, NULL if none: the front sweep calls `rows` on rows
     * [first, first + count) of ctx->A as soon as they are activated (from
     * several threads, on disjoint rows), then `rows_done` once. */
    void (*rows)(const dfsae_loss_ctx *ctx, size_t first, size_t count);
    void (*rows_done)(const dfsae_loss_ctx *ctx);
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

/* The names of the terms that need column statistics, for messages:
 * "L_var and L_tc". */
enum { DFSAE_STATS_NAMES_LEN = 64 };
void dfsae__loss_stats_names(char buf[DFSAE_STATS_NAMES_LEN]);

/* Column means and variances of an n x K matrix A in `col`, 2K doubles: the
 * K sums, then K sums of squares (adjacent, for one reduction across
 * ranks), which finish turns into the means and the variances. Zero them,
 * add every row in order (each column shifted by `shift`, the same k
 * floats in every call: A's first row for the loss terms; columns [j0, j1)
 * of `count` rows per call: row blocks, or column ranges over all rows),
 * then finish. Until finish, `col` holds the shifted sums, which
 * dfsae__shifted_cov turns into (co)variances. */
void dfsae__colstats_begin(size_t k, double *col);
void dfsae__colstats_add(const float *rows, size_t count, size_t k, size_t j0,
                         size_t j1, const float *shift, double *col);
void dfsae__colstats_finish(const float *shift, size_t n, size_t k, double *col,
                            float *mean_hi, float *mean_lo);

/* The unbiased covariance of two columns over n >= 2 rows from sums around
 * a common shift: sxy of the shifted products, sx and sy of the shifted
 * values (sxy = sum of squares and sx = sy for a variance, which rounding
 * may put below 0). */
static inline double dfsae__shifted_cov(double sxy, double sx, double sy,
                                        size_t n)
{
    return (sxy - sx * (sy * (1.0 / (double)n))) / (double)(n - 1);
}

/* The unbiased variance from a column's shifted sum and sum of squares:
 * clamped at 0, but a NaN (an overflowed unit) stays NaN. */
static inline double dfsae__shifted_var(double sum, double sq, size_t n)
{
    double v = dfsae__shifted_cov(sq, sum, sum, n);
    return v < 0.0 ? 0.0 : v;
}

/* R = softmax(-A) row-wise (n x K). */
void dfsae__responsibilities(const float *A, size_t n, size_t k, float *R);

/* One sweep over the rows of ctx->A: dZ = phi'(Z) * dL/dA assembled from
 * parts (which must hold every enabled term's), and db = the column sums of dZ,
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

/* The side length of a term's Gram matrix on a resolved side: the other
 * dimension n (rows, or inputs for a term on W) on the sample side, the k
 * components on the feature side. */
static inline size_t dfsae__gram_dim(size_t n, size_t k, int side)
{
    return side == DFSAE_GRAM_SAMPLE ? n : k;
}

#endif
