/*
 * dfsae_mpi - dfsae's collectives over MPI (libdfsae_mpi).
 *
 * libdfsae itself never links MPI: it reduces what must be global through
 * a dfsae_comm (dfsae_dist.h, experimental). This library fills one in
 * over an MPI communicator. The host owns MPI_Init/MPI_Finalize and the
 * communicator it passes; docs/distributed.md has the modes and the
 * contract.
 *
 *     dfsae_mpi ctx;
 *     dfsae_mpi_init(&ctx, MPI_COMM_WORLD);          // collective
 *     dfsae_model_set_comm(model, &ctx.comm, DFSAE_DIST_DATA);
 *     ... dfsae_model_train(model, opt, my_rows, my_n, cfg, NULL, NULL);
 *     dfsae_model_free(model);
 *     dfsae_mpi_finish(&ctx);                        // collective
 */
#ifndef DFSAE_MPI_H
#define DFSAE_MPI_H

#include <mpi.h>

#include "dfsae_dist.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The collectives of one communicator: `comm` is what a model is given
 *  (dfsae_model_set_comm); its user pointer is this struct, which must
 *  stay where it is while a model uses it. */
typedef struct dfsae_mpi {
    dfsae_comm comm;
    MPI_Comm mpi; /**< a duplicate of the host's, errors returned */
} dfsae_mpi;

/**
 * Collective over `comm`: duplicate it (dfsae's messages never mix with
 * the host's), make its errors return rather than abort, and fill
 * ctx->comm. A failed MPI call in a later collective is reported as
 * DFSAE_ERR_IO by the dfsae call that made it.
 * @return DFSAE_OK, DFSAE_ERR_NULL_ARG, DFSAE_ERR_INVALID_ARG (MPI is not
 *         initialised) or DFSAE_ERR_IO (MPI_Comm_dup failed).
 */
DFSAE_API int dfsae_mpi_init(dfsae_mpi *ctx, MPI_Comm comm);

/** Collective: free the duplicate communicator. NULL is a no-op. Models
 *  that use ctx->comm must be freed or detached first. */
DFSAE_API void dfsae_mpi_finish(dfsae_mpi *ctx);

#ifdef __cplusplus
}
#endif

#endif /* DFSAE_MPI_H */
