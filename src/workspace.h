/* Scratch memory for a batch: grown to the largest batch seen, then reused
 * so that a training step does not allocate. An arena of the objective's
 * batch buffers plus one scratch per loss term, which the term sizes and
 * lays out itself (loss/loss.h). */
#ifndef DFSAE_WORKSPACE_H
#define DFSAE_WORKSPACE_H

#include <stddef.h>

#include "internal.h"

typedef struct dfsae_workspace {
    size_t rows;       /* batch capacity of A */
    float *A;          /* rows x K activations */
    size_t dz_rows;    /* batch capacity of dZ (0: none) */
    float *dZ;         /* dz_rows x K gradient w.r.t. Z, only while no term
                          leaves a product to write it over (loss.h) */
    double *col_stats; /* 2K: column sums, then means and variances */
    float *mean_split; /* 2K: the column means as float pairs */
    double *parts_f64; /* the dL/dA parts' storage (loss.h) */
    float *parts_f32;
    double *bias_sums; /* K: the bias gradient's sums */
    float *X;          /* the transformed inputs X' (input transform) */
    size_t x_cap;      /* floats */
    float *grad;       /* dfsae_train_step's gradient, n_params floats */
    float *term_f32[DFSAE_TERM_COUNT]; /* each term's scratch */
    double *term_f64[DFSAE_TERM_COUNT];
    size_t term_f32_cap[DFSAE_TERM_COUNT], term_f64_cap[DFSAE_TERM_COUNT];
} dfsae_workspace;

/* Make room for `rows` rows of a model with k components, whose dL/dA
 * parts take parts_f32 K floats and parts_f64 K doubles; for dZ too when
 * need_dz. Returns DFSAE_OK, DFSAE_ERR_SIZE_OVERFLOW or
 * DFSAE_ERR_NO_MEMORY, in which case the buffers hold what they held. */
int dfsae__ws_reserve_batch(dfsae_workspace *ws, const dfsae_allocator *a,
                            size_t rows, size_t k, int need_dz,
                            size_t parts_f32, size_t parts_f64);
/* Make room for term t's scratch of f32 floats and f64 doubles. */
int dfsae__ws_reserve_term(dfsae_workspace *ws, const dfsae_allocator *a, int t,
                           size_t f32, size_t f64);
/* Make room for the training step's gradient of n_params floats. */
int dfsae__ws_reserve_grad(dfsae_workspace *ws, const dfsae_allocator *a,
                           size_t n_params);
/* Make room for `floats` transformed inputs. */
int dfsae__ws_reserve_inputs(dfsae_workspace *ws, const dfsae_allocator *a,
                             size_t floats);
void dfsae__ws_free(dfsae_workspace *ws, const dfsae_allocator *a);

#endif
