/*
 * dfsae_dist - the seam of distributed training (docs/distributed.md):
 * the collectives a model is given, the two ways to split the work, and
 * dictionary-sharded model files. libdfsae never links a transport itself;
 * dfsae_mpi.h (libdfsae_mpi) fills a dfsae_comm over MPI, and a host may
 * fill one over its own.
 * Experimental as a whole, like part 4 of dfsae.h: outside the ABI promise,
 * it may change in a minor release. Statuses and errors as in dfsae.h.
 */
#ifndef DFSAE_DIST_H
#define DFSAE_DIST_H

#include "dfsae.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Collectives over `size` ranks, this being `rank`: in-place sums and
 *  minima, the same bits on every rank; `agree` returns the smallest status
 *  of all ranks. Each returns DFSAE_OK or the status its dfsae call fails
 *  with. */
typedef struct dfsae_comm {
    int rank, size;
    void *user;
    int (*sum_f64)(void *user, double *buf, size_t count);
    int (*sum_f32)(void *user, float *buf, size_t count);
    int (*min_f32)(void *user, float *buf, size_t count);
    int (*agree)(void *user, int status);
} dfsae_comm;

/** One process; rows of each batch split; units (rows of W, b) split. */
typedef enum dfsae_dist_mode {
    DFSAE_DIST_NONE = 0,
    DFSAE_DIST_DATA = 1,
    DFSAE_DIST_DICTIONARY = 2
} dfsae_dist_mode;

/** Attach `comm` in `mode` (collective): loss, grad and train become
 *  collectives, a failure on one rank an error on all. NULL detaches. */
DFSAE_API int dfsae_model_set_comm(dfsae_model *model, const dfsae_comm *comm,
                                   int mode);

/** Save / load a dictionary-sharded model: a file per shard plus
 *  PREFIX.index.json; load part `rank` of `size` whatever the shards. */
DFSAE_API int dfsae_model_save_shards(dfsae_model *model,
                                      const dfsae_optimizer *opt,
                                      const char *prefix);
DFSAE_API int dfsae_model_load_shards(const char *index_path, int rank,
                                      int size, const dfsae_allocator *alloc,
                                      dfsae_model **model,
                                      dfsae_optimizer **opt, char *err,
                                      size_t err_size);

#ifdef __cplusplus
}
#endif

#endif /* DFSAE_DIST_H */
