/* dfsae_train_step: the gradient into the workspace and the optimizer's
 * update from it, in one call. The gradient's largest magnitude, found
 * when the gradient is checked, goes straight to the update's overflow
 * proof, so the step scans the gradient once and neither handle keeps
 * anything of the other. */
#include "dist/dist.h"
#include "model.h"
#include "optim/optim.h"

/* What can be refused before the gradient is computed. */
static int check(dfsae_model *m, dfsae_optimizer *opt)
{
    if (opt == NULL)
        return dfsae__fail(m->err, DFSAE_ERR_NULL_ARG,
                           "train_step: opt is NULL");
    int st = dfsae__optimizer_check(opt, m->n_params);
    if (st != DFSAE_OK)
        return dfsae__fail(m->err, st, "train_%s", opt->err);
    st = dfsae__ws_reserve_grad(&m->ws, &m->alloc, m->n_params);
    if (st != DFSAE_OK)
        return dfsae__fail(m->err, st,
                           "train_step: cannot allocate the gradient");
    return DFSAE_OK;
}

int dfsae_train_step(dfsae_model *model, dfsae_optimizer *opt, const float *X,
                     size_t n, double *loss, double *terms, size_t n_terms)
{
    if (model == NULL)
        return DFSAE_ERR_NULL_ARG;
    /* With a comm every rank takes part in the agreement, whatever it
     * found here. */
    int st = check(model, opt);
    float gmax = 0.0f;
    st = dfsae__evaluate(model, st, "train_step", X, n, model->ws.grad, &gmax,
                         loss, terms, n_terms);
    if (st != DFSAE_OK)
        return st;
    /* A shard's update may overflow alone: the ranks agree before any
     * commits it (docs/distributed.md). */
    st = dfsae__model_apply_step(model, opt, model->ws.grad, gmax, 1);
    if (st != DFSAE_OK)
        dfsae__fail(model->err, st, "train_%s", opt->err);
    return st;
}
