/*
 * dfsae_experimental - part 4 of dfsae.h, the experimental tier: the
 * model's own threads, the workspace reserve, the Gram-side option,
 * parallel reads of a callback source, how training fetches its batches.
 * dfsae.h includes it at its end when DFSAE_STATIC_LINKING_ONLY is defined
 * before it; without the macro this header refuses to compile. Exported
 * like the rest but outside the ABI promise (left out of abi/libdfsae.abi):
 * these may change in a minor release. Statuses and errors as in dfsae.h.
 */
#ifndef DFSAE_EXPERIMENTAL_H
#define DFSAE_EXPERIMENTAL_H

#ifndef DFSAE_STATIC_LINKING_ONLY
#error "experimental API: define DFSAE_STATIC_LINKING_ONLY before dfsae.h"
#endif

#include "dfsae.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The model's own threads (1-64, default 1) for its elementwise work;
 *  results are bit-identical for every count. Not across fork(). */
DFSAE_API int dfsae_model_set_threads(dfsae_model *model, int n_threads);
DFSAE_API int dfsae_model_threads(const dfsae_model *model);
/** Size the workspace now for batches of up to `max_batch` rows. */
DFSAE_API int dfsae_model_reserve(dfsae_model *model, size_t max_batch);
/** 1: training may call `source`'s read callback on two threads at once,
 *  splitting a batch it fetches between them (never a sequential source's);
 *  0 (default): one at a time. Arrays are read so anyway. */
DFSAE_API int dfsae_source_set_parallel_reads(dfsae_source *source, int on);
/** Train config key: when dfsae_model_train(_source) fetches (reads and
 *  widens) a batch that is copied, not used in place: dfsae_fetch_policy,
 *  AUTO (default) measures the two ways and keeps the cheaper. Batches,
 *  and so the model, are the same bits in every way. With a comm a batch
 *  is always fetched between steps, on the caller. */
#define DFSAE_TRAIN_FETCH 100
typedef enum dfsae_fetch_policy {
    DFSAE_FETCH_AUTO = 0,
    /** On a helper thread while the step before trains. */
    DFSAE_FETCH_AHEAD = 1,
    /** Between steps, split with the helper if the source reads in
     *  parallel (dfsae_source_set_parallel_reads), else on the caller. */
    DFSAE_FETCH_BETWEEN = 2
} dfsae_fetch_policy;
/** Progress key: STEP, 1 if its batch was fetched ahead, else 0; EPOCH, the
 *  epoch's steps so fetched in this call. */
#define DFSAE_PROGRESS_FETCHED_AHEAD 100
/** Option key: which side of the Gram matrices L_tc and L_wr use, the
 *  cheaper (default), K x K, or B x B / D x D. */
#define DFSAE_MODEL_GRAM_SIDE 8
typedef enum dfsae_gram_side {
    DFSAE_GRAM_AUTO = 0,
    DFSAE_GRAM_FEATURE = 1,
    DFSAE_GRAM_SAMPLE = 2
} dfsae_gram_side;

#ifdef __cplusplus
}
#endif

#endif /* DFSAE_EXPERIMENTAL_H */
