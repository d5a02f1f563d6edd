/* dfsae_comm over an MPI communicator. Counts above INT_MAX travel in
 * pieces (MPI counts are int). */
#include <limits.h>
#include <string.h>

#include "dfsae_mpi.h"

enum { PIECE = INT_MAX / 2 };

static int allreduce(void *user, void *buf, size_t count, size_t elem,
                     MPI_Datatype type, MPI_Op op)
{
    const dfsae_mpi *ctx = user;
    char *p = buf;
    while (count > 0) {
        int now = count > (size_t)PIECE ? PIECE : (int)count;
        if (MPI_Allreduce(MPI_IN_PLACE, p, now, type, op, ctx->mpi) !=
            MPI_SUCCESS)
            return DFSAE_ERR_IO;
        p += (size_t)now * elem;
        count -= (size_t)now;
    }
    return DFSAE_OK;
}

static int sum_f64(void *user, double *buf, size_t count)
{
    return allreduce(user, buf, count, sizeof *buf, MPI_DOUBLE, MPI_SUM);
}

static int sum_f32(void *user, float *buf, size_t count)
{
    return allreduce(user, buf, count, sizeof *buf, MPI_FLOAT, MPI_SUM);
}

static int min_f32(void *user, float *buf, size_t count)
{
    return allreduce(user, buf, count, sizeof *buf, MPI_FLOAT, MPI_MIN);
}

static int agree(void *user, int status)
{
    const dfsae_mpi *ctx = user;
    int all = status;
    if (MPI_Allreduce(&status, &all, 1, MPI_INT, MPI_MIN, ctx->mpi) !=
        MPI_SUCCESS)
        return DFSAE_ERR_IO;
    return all;
}

int dfsae_mpi_init(dfsae_mpi *ctx, MPI_Comm comm)
{
    if (ctx == NULL)
        return DFSAE_ERR_NULL_ARG;
    memset(ctx, 0, sizeof *ctx);
    ctx->mpi = MPI_COMM_NULL;
    int up = 0;
    MPI_Initialized(&up);
    if (!up || comm == MPI_COMM_NULL)
        return DFSAE_ERR_INVALID_ARG;
    if (MPI_Comm_dup(comm, &ctx->mpi) != MPI_SUCCESS)
        return DFSAE_ERR_IO;
    MPI_Comm_set_errhandler(ctx->mpi, MPI_ERRORS_RETURN);
    MPI_Comm_rank(ctx->mpi, &ctx->comm.rank);
    MPI_Comm_size(ctx->mpi, &ctx->comm.size);
    ctx->comm.user = ctx;
    ctx->comm.sum_f64 = sum_f64;
    ctx->comm.sum_f32 = sum_f32;
    ctx->comm.min_f32 = min_f32;
    ctx->comm.agree = agree;
    return DFSAE_OK;
}

void dfsae_mpi_finish(dfsae_mpi *ctx)
{
    if (ctx == NULL || ctx->mpi == MPI_COMM_NULL)
        return;
    MPI_Comm_free(&ctx->mpi);
    ctx->mpi = MPI_COMM_NULL;
}
