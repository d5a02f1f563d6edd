/* The model's side of an optimizer step: the optimizer works on flat
 * vectors (optim/optim.h); this hands it the model's parameters and pool,
 * lets the ranks of a comm agree on the dry run, and applies the model's
 * max-norm constraint after the update. */
#include <math.h>

#include "dist/dist.h"
#include "model.h"
#include "optim/optim.h"

int dfsae__model_apply_step(dfsae_model *model, dfsae_optimizer *opt,
                            const float *grad, float gmax, int collective)
{
    dfsae_pool *pool = dfsae__pool_for(model->pool, opt->n);
    /* A dry run first: an update that would overflow changes nothing. */
    int st = dfsae__optimizer_dry_run(opt, model->params, grad, gmax, pool);
    if (collective)
        st = dfsae__dist_agree(model->dist, opt->err, "step", st);
    if (st != DFSAE_OK)
        return st;
    dfsae__optimizer_commit(opt, model->params, grad, pool);
    dfsae__max_row_norm_project(model);
    return DFSAE_OK;
}

int dfsae_optimizer_step(dfsae_optimizer *opt, dfsae_model *model,
                         const float *grad)
{
    if (opt == NULL || model == NULL)
        return DFSAE_ERR_NULL_ARG;
    if (grad == NULL)
        return dfsae__fail(opt->err, DFSAE_ERR_NULL_ARG, "step: grad is NULL");
    int st = dfsae__optimizer_check(opt, model->n_params);
    if (st != DFSAE_OK)
        return st;
    float gmax =
        dfsae__max_abs_par(dfsae__pool_for(model->pool, opt->n), grad, opt->n);
    if (!isfinite(gmax))
        return dfsae__fail(opt->err, DFSAE_ERR_NON_FINITE_INPUT,
                           "step: gradient entry %zu is not finite",
                           dfsae__first_non_finite(grad, opt->n));
    return dfsae__model_apply_step(model, opt, grad, gmax, 0);
}
