/* Scratch memory for a batch: grown to the largest batch seen, then reused
 * so that a training step does not allocate. */
#ifndef DFSAE_WORKSPACE_H
#define DFSAE_WORKSPACE_H

#include <stddef.h>

#include "internal.h"

/* Slots of the col block, k doubles each. */
enum {
    DFSAE_COL_MEAN,
    DFSAE_COL_VAR,
    DFSAE_COL_TC, /* L_tc's six per-column vectors (tc.c) */
    DFSAE_COL_CENTRED = DFSAE_COL_TC + 6, /* the dL/dA parts (loss.h) */
    DFSAE_COL_CONSTANT,
    DFSAE_COL_BIAS, /* the bias gradient's sums */
    DFSAE_WS_COLS
};

/* Slots of the row block, k floats each. */
enum {
    DFSAE_ROW_MEAN_HI, /* the column means as float pairs (loss.h) */
    DFSAE_ROW_MEAN_LO,
    DFSAE_ROW_INV_STD, /* L_tc's 1 / s_j */
    DFSAE_ROW_P_SCALE, /* the dL/dA parts, in float for the sweep */
    DFSAE_ROW_CENTRED,
    DFSAE_ROW_CONSTANT,
    DFSAE_WS_ROWS
};

typedef struct dfsae_workspace {
    size_t rows;  /* batch capacity of the per-batch buffers */
    float *A;     /* rows x K activations */
    float *dA;    /* rows x K gradient w.r.t. Z, when G holds no product */
    float *S;     /* rows x K standardised activations (L_tc) */
    float *G;     /* rows x K product of L_tc's gradient, then dZ over it */
    float *rmin;  /* rows: each row's minimum activation (L_lse) */
    double *rsum; /* rows: each row's sum of exp(rmin - A_ij) (L_lse) */
    float *gram;  /* L_tc Gram, min(rows, K)^2 (or K^2 when forced) */
    size_t gram_cap;
    double *col; /* DFSAE_WS_COLS x K doubles, slots above */
    float *row;  /* DFSAE_WS_ROWS x K floats, slots above */
    /* L_wr buffers depend only on the model's shape. */
    float *Wn;    /* K x D normalised rows */
    float *GWn;   /* K x D gradient w.r.t. Wn */
    float *gramw; /* min(K, D)^2 (or the forced side) */
    size_t gramw_cap;
    double *rown; /* K row norms */
    /* The transformed inputs X' of a model with an input transform. */
    float *X;
    size_t x_cap; /* floats */
    float *grad;  /* dfsae_train_step's gradient, the model's parameter count */
} dfsae_workspace;

/* Make room for `rows` rows of a model with k components and a Gram of
 * `gram_elems` floats. Returns DFSAE_OK or DFSAE_ERR_NO_MEMORY, in which
 * case the workspace is unchanged. */
int dfsae__ws_reserve_batch(dfsae_workspace *ws, const dfsae_allocator *a,
                            size_t rows, size_t k, size_t gram_elems);
/* Make room for the L_wr buffers (K x D model, Gram of gram_elems). */
int dfsae__ws_reserve_wr(dfsae_workspace *ws, const dfsae_allocator *a,
                         size_t k, size_t d, size_t gram_elems);
/* Make room for the training step's gradient of n_params floats. */
int dfsae__ws_reserve_grad(dfsae_workspace *ws, const dfsae_allocator *a,
                           size_t n_params);
/* Make room for `floats` transformed inputs. */
int dfsae__ws_reserve_inputs(dfsae_workspace *ws, const dfsae_allocator *a,
                             size_t floats);
void dfsae__ws_free(dfsae_workspace *ws, const dfsae_allocator *a);

#endif
