/* The distributed seam's inside (docs/distributed.md): a model's comm and
 * mode, the agreement around each collective call, and the reductions the
 * objective makes at its few global points. Every helper takes a dist that
 * may be NULL (one process) and is then the identity. */
#ifndef DFSAE_DIST_DIST_H
#define DFSAE_DIST_DIST_H

#include <stddef.h>

#include "internal.h"
#include "parallel/pool.h"

typedef struct dfsae_dist {
    dfsae_comm comm;
    int mode;   /* DFSAE_DIST_DATA or DFSAE_DIST_DICTIONARY */
    int failed; /* the first transport error of the current call, or OK */
    size_t k_global, k_first; /* DICTIONARY: all components, the shard's 1st */
    size_t n_batch;           /* rows of the current global batch */
    int source;               /* DATA: the first rank with rows */
    float *shift;             /* K: DATA's common shift of the column sums */
    double *counts;           /* 2 x size: per-rank exchange */
} dfsae_dist;

/* 1 when d is set and in `mode`. */
static inline int dfsae__dist_is(const dfsae_dist *d, int mode)
{
    return d != NULL && d->mode == mode;
}

/* Opens a collective call on a model that validated its arguments locally
 * with status `st` and holds n rows: agrees on the status with every rank
 * and, when all passed, exchanges the row counts (d->n_batch, d->source).
 * Returns the agreed status, with the message in err when another rank
 * failed. Without a comm: returns st and sets nothing. */
int dfsae__dist_begin(dfsae_dist *d, char *err, const char *fn, int st,
                      size_t n);
/* Agrees on status st (and on a transport failure since the last begin):
 * the call's end, or a point where a rank may have failed alone. */
int dfsae__dist_agree(dfsae_dist *d, char *err, const char *fn, int st);

/* The reductions, in place; a transport error is kept in d->failed. */
void dfsae__dist_sum_f64(dfsae_dist *d, double *buf, size_t count);
void dfsae__dist_sum_f32(dfsae_dist *d, float *buf, size_t count);
void dfsae__dist_min_f32(dfsae_dist *d, float *buf, size_t count);
/* v summed over the ranks when d is in `mode`, else v. */
double dfsae__dist_total(dfsae_dist *d, int mode, double v);

/* The Gram side a term takes: the one its ops entry requires in d's mode
 * (dist_side), else the option resolved for an n x k matrix. */
struct dfsae_loss_ops;
int dfsae__dist_gram_side(const dfsae_dist *d, int side,
                          const struct dfsae_loss_ops *term, size_t n,
                          size_t k);

/* DATA: the common shift of the column sums, the first row of the global
 * batch (row 0 of A on rank d->source), k floats. Else A itself. */
const float *dfsae__dist_shift(dfsae_dist *d, const float *A, size_t n,
                               size_t k);

void dfsae__dist_free(dfsae_dist *d, const dfsae_allocator *a);

#endif
