/* Internals of the training layer: the config handle, the progress report,
 * the epoch's batch plan and shuffle, and a monotonic clock. */
#ifndef DFSAE_TRAIN_H
#define DFSAE_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* The experimental keys' values follow the public ones'. */
#define DFSAE__TRAIN_FETCH_SLOT DFSAE_TRAIN_OPTION_COUNT
#define DFSAE__TRAIN_SLOTS      (DFSAE_TRAIN_OPTION_COUNT + 1)

struct dfsae_train_config {
    dfsae_allocator alloc;
    double value[DFSAE__TRAIN_SLOTS];
};

/* Default values; used when a call is given a NULL config. */
void dfsae__train_config_default(struct dfsae_train_config *c);
/* The batch size of a config (or of the defaults when c is NULL). */
size_t dfsae__train_batch_size(const dfsae_train_config *c);
/* Integer value of key `param` (validated when it was set). */
uint64_t dfsae__train_u64(const dfsae_train_config *c, int param);
/* Value of key `param` (or its default when c is NULL). */
double dfsae__train_value(const dfsae_train_config *c, int param);
/* DFSAE_TRAIN_FETCH's dfsae_fetch_policy. */
int dfsae__train_fetch(const dfsae_train_config *c);

struct dfsae_progress {
    int event;
    uint64_t epoch, step, steps_per_epoch, steps_done, steps_total;
    double loss, terms[DFSAE_TERM_COUNT];
    size_t rows;
    const size_t *indices;
    double samples_per_sec, elapsed;
    int converged;
    uint64_t fetched_ahead; /* STEP: 0 or 1; EPOCH: count */
};

/* The state of the convergence rule (converge.c). */
typedef struct dfsae_converge {
    double tolerance, last;  /* tolerance 0: off */
    uint64_t patience, calm; /* calm: small changes in a row so far */
    int have_last;
} dfsae_converge;

void dfsae__converge_init(dfsae_converge *c, const dfsae_train_config *cfg);
/* Feeds an epoch's mean loss; returns 1 once training has converged. */
int dfsae__converge_update(dfsae_converge *c, double mean_loss);

/* How rows [start, n) of an epoch's order are cut into batches of `batch`
 * rows (start > 0 continues an epoch a previous run stopped in). With
 * `merge_single`, a final batch of 1 row joins the previous batch. */
typedef struct dfsae_batch_plan {
    size_t n, start, batch;
    uint64_t steps;
    int merged; /* the last step has batch + 1 rows */
} dfsae_batch_plan;

void dfsae__batch_plan(dfsae_batch_plan *p, size_t n, size_t start,
                       size_t batch, int merge_single);
/* Largest batch of the plan, in rows. */
size_t dfsae__batch_plan_max_rows(const dfsae_batch_plan *p);
/* First row (offset into the epoch's order) and row count of step s
 * (counted from the plan's start). */
void dfsae__batch_plan_step(const dfsae_batch_plan *p, uint64_t s,
                            size_t *first, size_t *rows);

/* Writes the order of epoch `epoch` into idx (n entries): the identity, or
 * a Fisher-Yates permutation driven by a generator derived from (seed,
 * epoch) alone, so an epoch's order does not depend on earlier epochs. */
void dfsae__epoch_order(size_t *idx, size_t n, int shuffle, uint64_t seed,
                        uint64_t epoch);

/* The chunked shuffle (docs/training.md): the ceil(n / chunk) chunks of
 * consecutive rows are permuted, their order is written to `chunks`; then
 * each run of `window` chunks in that order is a window, whose rows are
 * permuted among themselves into idx. Deterministic from (seed, epoch). */
size_t dfsae__chunk_count(size_t n, size_t chunk);
void dfsae__epoch_order_chunked(size_t *idx, size_t *chunks, size_t n,
                                size_t chunk, size_t window, uint64_t seed,
                                uint64_t epoch);

/* Seconds from an arbitrary fixed point, monotonic where available. */
double dfsae__now(void);

#endif
