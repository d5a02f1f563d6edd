/* dfsae_model_set_comm: attaching a model to the host's collectives. */
#include <string.h>

#include "dist/dist.h"
#include "model.h"

static int check_comm(dfsae_model *m, const dfsae_comm *c, int mode)
{
    if (mode != DFSAE_DIST_DATA && mode != DFSAE_DIST_DICTIONARY)
        return dfsae__fail(m->err, DFSAE_ERR_INVALID_ARG,
                           "set_comm: unknown mode %d", mode);
    if (c->sum_f64 == NULL || c->sum_f32 == NULL || c->min_f32 == NULL ||
        c->agree == NULL)
        return dfsae__fail(m->err, DFSAE_ERR_INVALID_ARG,
                           "set_comm: a callback is NULL");
    if (c->size < 1 || c->rank < 0 || c->rank >= c->size)
        return dfsae__fail(m->err, DFSAE_ERR_INVALID_ARG,
                           "set_comm: rank %d outside [0, %d)", c->rank,
                           c->size);
    return DFSAE_OK;
}

static dfsae_dist *dist_new(dfsae_model *m, const dfsae_comm *c, int mode)
{
    dfsae_dist *d = dfsae__alloc(&m->alloc, sizeof *d);
    if (d == NULL)
        return NULL;
    memset(d, 0, sizeof *d);
    d->comm = *c;
    d->mode = mode;
    d->shift = dfsae__alloc_array(&m->alloc, m->k, sizeof *d->shift);
    d->counts =
        dfsae__alloc_array(&m->alloc, 2 * (size_t)c->size, sizeof *d->counts);
    if (d->shift == NULL || d->counts == NULL) {
        dfsae__dist_free(d, &m->alloc);
        return NULL;
    }
    return d;
}

/* Every rank's D and K; checks the shapes fit the mode and sets the
 * shard's place among all components. */
static int exchange_shapes(dfsae_model *m, dfsae_dist *d)
{
    const size_t size = (size_t)d->comm.size, rank = (size_t)d->comm.rank;
    for (size_t r = 0; r < 2 * size; ++r)
        d->counts[r] = 0.0;
    d->counts[rank] = (double)m->d;
    d->counts[size + rank] = (double)m->k;
    int st = d->comm.sum_f64(d->comm.user, d->counts, 2 * size);
    if (st != DFSAE_OK)
        return dfsae__fail(m->err, st, "set_comm: a reduction failed (%s)",
                           dfsae_status_string(st));
    d->k_global = d->k_first = 0;
    for (size_t r = 0; r < size; ++r) {
        size_t dr = (size_t)d->counts[r], kr = (size_t)d->counts[size + r];
        if (dr != m->d)
            return dfsae__fail(m->err, DFSAE_ERR_SIZE_MISMATCH,
                               "set_comm: rank %zu has D = %zu, this one %zu",
                               r, dr, m->d);
        if (d->mode == DFSAE_DIST_DATA && kr != m->k)
            return dfsae__fail(m->err, DFSAE_ERR_SIZE_MISMATCH,
                               "set_comm: data-parallel replicas differ: rank "
                               "%zu has K = %zu, this one %zu",
                               r, kr, m->k);
        if (r < rank)
            d->k_first += kr;
        d->k_global += kr;
    }
    return DFSAE_OK;
}

int dfsae_model_set_comm(dfsae_model *model, const dfsae_comm *comm, int mode)
{
    if (model == NULL)
        return DFSAE_ERR_NULL_ARG;
    if (comm == NULL || mode == DFSAE_DIST_NONE) {
        dfsae__dist_free(model->dist, &model->alloc);
        model->dist = NULL;
        return DFSAE_OK;
    }
    int st = check_comm(model, comm, mode);
    dfsae_dist *d = NULL;
    if (st == DFSAE_OK && (d = dist_new(model, comm, mode)) == NULL)
        st = dfsae__fail(model->err, DFSAE_ERR_NO_MEMORY,
                         "set_comm: cannot allocate the exchange buffers");
    /* A rank that fails still takes part in the agreement, if it can. */
    if (comm->agree != NULL) {
        int all = comm->agree(comm->user, st);
        if (st == DFSAE_OK && all != DFSAE_OK)
            st = dfsae__fail(model->err, all,
                             "set_comm: another rank failed (%s)",
                             dfsae_status_string(all));
    }
    if (st == DFSAE_OK)
        st = exchange_shapes(model, d);
    if (st == DFSAE_OK && comm->agree != NULL)
        st = comm->agree(comm->user, st);
    if (st != DFSAE_OK) {
        dfsae__dist_free(d, &model->alloc);
        return st;
    }
    dfsae__dist_free(model->dist, &model->alloc);
    model->dist = d;
    return DFSAE_OK;
}
