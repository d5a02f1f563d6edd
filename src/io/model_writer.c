/* What a model (and optimizer) become in a file: tensors weight, bias, the
 * input transform's shift and scale (unless it is the identity), then the
 * optimizer's state vectors; dfsae's metadata (sorted), then the user's
 * pairs under "user." ("user." sorts after "dfsae.", so keys stay
 * sorted). */
#include <string.h>

#include "io/io.h"

/* A save writes nothing a load would refuse: the parameters and the
 * optimizer's state are checked as a loader checks them. */
static int check_savable(const dfsae_model *m, const dfsae__optim_snapshot *opt,
                         char *err)
{
    size_t bad = dfsae__first_non_finite(m->params, m->n_params);
    if (bad != m->n_params)
        return dfsae__fail(err, DFSAE_ERR_NON_FINITE_INPUT,
                           "save: parameter %zu is NaN or Inf; nothing was "
                           "written",
                           bad);
    if (opt == NULL)
        return DFSAE_OK;
    char why[DFSAE_ERR_LEN];
    if (dfsae__optim_state_check(opt->kind, opt->step, opt->started, opt->state,
                                 opt->n, why) != DFSAE_OK)
        return dfsae__fail(err, DFSAE_ERR_INVALID_ARG,
                           "save: %.200s; nothing was written", why);
    return DFSAE_OK;
}

static size_t list_tensors(const dfsae_model *m,
                           const dfsae__optim_snapshot *opt, dfsae__st_out *t)
{
    size_t n = 0;
    t[n++] = (dfsae__st_out){"weight", 2, {m->k, m->d}, m->params};
    t[n++] = (dfsae__st_out){"bias", 1, {m->k, 0}, m->params + m->k * m->d};
    if (m->xf.n > 0) {
        t[n++] =
            (dfsae__st_out){DFSAE__TENSOR_SHIFT, 1, {m->xf.n, 0}, m->xf.shift};
        t[n++] =
            (dfsae__st_out){DFSAE__TENSOR_SCALE, 1, {m->xf.n, 0}, m->xf.scale};
    }
    if (opt != NULL)
        for (size_t i = 0; i < opt->n_state; ++i)
            t[n++] = (dfsae__st_out){dfsae__state_name(opt->kind, i),
                                     1,
                                     {opt->n, 0},
                                     opt->state + i * opt->n};
    return n;
}

int dfsae__writer_init(dfsae__writer *w, const dfsae_model *m,
                       const dfsae_optimizer *opt, char *err)
{
    memset(w, 0, sizeof *w);
    dfsae__optim_snapshot snap, *opt_state = NULL;
    if (opt != NULL) {
        dfsae__optim_export(opt, &snap);
        opt_state = &snap;
    }
    int st = check_savable(m, opt_state, err);
    if (st != DFSAE_OK)
        return st;
    dfsae__meta_entry own[DFSAE__MAX_META];
    dfsae__st_pair pairs[DFSAE__MAX_META + DFSAE__META_ENTRIES];
    size_t n_own = dfsae__meta_collect(m, opt_state, own), n_pairs = 0;
    for (size_t i = 0; i < n_own; ++i)
        pairs[n_pairs++] = (dfsae__st_pair){"", own[i].key, own[i].value};
    for (size_t i = 0; i < m->meta.n; ++i)
        pairs[n_pairs++] = (dfsae__st_pair){
            DFSAE__USER_PREFIX, m->meta.kv[i].key, m->meta.kv[i].value};
    size_t n_tensors = list_tensors(m, opt_state, w->tensors);
    return dfsae__st_writer_init(&w->st, w->tensors, n_tensors, pairs, n_pairs,
                                 &m->alloc, err);
}

void dfsae__writer_free(dfsae__writer *w)
{
    dfsae__st_writer_free(&w->st);
}
