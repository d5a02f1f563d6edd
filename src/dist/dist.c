/* The agreement around a collective call and the reductions, over the
 * host's callbacks (dfsae_comm). */
#include <string.h>

#include "dist/dist.h"
#include "loss/loss.h"

/* The agreed status: the local one when it failed, else the smallest of
 * the others', with a message saying it came from elsewhere. */
static int agree(dfsae_dist *d, char *err, const char *fn, int st)
{
    int all = d->comm.agree(d->comm.user, st);
    if (all == DFSAE_OK || st != DFSAE_OK)
        return st != DFSAE_OK ? st : all;
    return dfsae__fail(err, all, "%s: another rank failed (%s)", fn,
                       dfsae_status_string(all));
}

int dfsae__dist_begin(dfsae_dist *d, char *err, const char *fn, int st,
                      size_t n)
{
    if (d == NULL)
        return st;
    d->failed = DFSAE_OK;
    st = agree(d, err, fn, st);
    if (st != DFSAE_OK)
        return st;
    const size_t size = (size_t)d->comm.size;
    for (size_t r = 0; r < size; ++r)
        d->counts[r] = 0.0;
    d->counts[d->comm.rank] = (double)n; /* exact below 2^53 */
    dfsae__dist_sum_f64(d, d->counts, size);
    size_t total = 0;
    d->source = -1;
    for (size_t r = 0; r < size; ++r) {
        size_t c = (size_t)d->counts[r];
        if (d->source < 0 && c > 0)
            d->source = (int)r;
        total += c;
    }
    d->n_batch = total;
    if (d->mode == DFSAE_DIST_DICTIONARY) {
        /* Every shard sees the whole batch. */
        d->n_batch = n;
        for (size_t r = 0; r < size; ++r)
            if ((size_t)d->counts[r] != n)
                return dfsae__fail(err, DFSAE_ERR_SIZE_MISMATCH,
                                   "%s: dictionary shards must all see the "
                                   "same batch (rank %zu has %zu rows, this "
                                   "one %zu)",
                                   fn, r, (size_t)d->counts[r], n);
    }
    if (d->failed != DFSAE_OK)
        return dfsae__fail(err, d->failed, "%s: a reduction failed (%s)", fn,
                           dfsae_status_string(d->failed));
    return DFSAE_OK;
}

int dfsae__dist_agree(dfsae_dist *d, char *err, const char *fn, int st)
{
    if (d == NULL)
        return st;
    if (st == DFSAE_OK && d->failed != DFSAE_OK)
        st = dfsae__fail(err, d->failed, "%s: a reduction failed (%s)", fn,
                         dfsae_status_string(d->failed));
    return agree(d, err, fn, st);
}

void dfsae__dist_sum_f64(dfsae_dist *d, double *buf, size_t count)
{
    if (d == NULL)
        return;
    int st = d->comm.sum_f64(d->comm.user, buf, count);
    if (d->failed == DFSAE_OK)
        d->failed = st;
}

void dfsae__dist_sum_f32(dfsae_dist *d, float *buf, size_t count)
{
    if (d == NULL)
        return;
    int st = d->comm.sum_f32(d->comm.user, buf, count);
    if (d->failed == DFSAE_OK)
        d->failed = st;
}

void dfsae__dist_min_f32(dfsae_dist *d, float *buf, size_t count)
{
    if (d == NULL)
        return;
    int st = d->comm.min_f32(d->comm.user, buf, count);
    if (d->failed == DFSAE_OK)
        d->failed = st;
}

double dfsae__dist_total(dfsae_dist *d, int mode, double v)
{
    if (dfsae__dist_is(d, mode))
        dfsae__dist_sum_f64(d, &v, 1);
    return v;
}

int dfsae__dist_gram_side(const dfsae_dist *d, int side,
                          const dfsae_loss_ops *term, size_t n, size_t k)
{
    int forced = term->dist_side[d != NULL ? d->mode : DFSAE_DIST_NONE];
    if (forced != DFSAE_GRAM_AUTO)
        return forced;
    return dfsae__resolve_gram_side(side, n, k);
}

const float *dfsae__dist_shift(dfsae_dist *d, const float *A, size_t n,
                               size_t k)
{
    if (!dfsae__dist_is(d, DFSAE_DIST_DATA))
        return A;
    /* A sum with zeros from every other rank: rank source's row, exactly. */
    if (d->comm.rank == d->source && n > 0)
        memcpy(d->shift, A, k * sizeof *A);
    else
        memset(d->shift, 0, k * sizeof *A);
    dfsae__dist_sum_f32(d, d->shift, k);
    return d->shift;
}

void dfsae__dist_free(dfsae_dist *d, const dfsae_allocator *a)
{
    if (d == NULL)
        return;
    dfsae__free(a, d->shift);
    dfsae__free(a, d->counts);
    dfsae__free(a, d);
}
