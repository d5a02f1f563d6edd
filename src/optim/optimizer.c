/* The optimizer's public entry points: validation and dispatch. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "dist/dist.h"
#include "model.h"
#include "optim/optim.h"

static const dfsae_optim_ops *const kinds[DFSAE_OPTIMIZER_KIND_COUNT] = {
    &dfsae__optim_sgd, &dfsae__optim_adam, &dfsae__optim_adamw};

static const dfsae_optim_ops *ops_of(int kind)
{
    return kind >= 0 && kind < DFSAE_OPTIMIZER_KIND_COUNT ? kinds[kind] : NULL;
}

const char *dfsae_optimizer_kind_name(int kind)
{
    const dfsae_optim_ops *ops = ops_of(kind);
    return ops != NULL ? ops->name : NULL;
}

int dfsae_optimizer_option_bounds(int kind, int param, double *lo, double *hi)
{
    const dfsae_optim_ops *ops = ops_of(kind);
    if (ops == NULL)
        return DFSAE_ERR_INVALID_ARG;
    if (param < 0 || param >= DFSAE_OPT_COUNT || !ops->applies[param])
        return DFSAE_ERR_UNKNOWN_PARAM;
    /* Inclusive bounds, in float's range since the update runs in float:
     * betas and momentum stay below 1 so the moments forget, eps stays a
     * positive float so the Adam denominator does. */
    static const double below_one = 1.0 - 0x1p-24;
    double l = 0.0, h = FLT_MAX;
    switch (param) {
    case DFSAE_OPT_MOMENTUM:
    case DFSAE_OPT_BETA1:
    case DFSAE_OPT_BETA2: h = below_one; break;
    case DFSAE_OPT_DAMPENING:
    case DFSAE_OPT_NESTEROV: h = 1.0; break;
    case DFSAE_OPT_EPS: l = FLT_MIN; break;
    default: break;
    }
    if (lo != NULL)
        *lo = l;
    if (hi != NULL)
        *hi = h;
    return DFSAE_OK;
}

int dfsae_optimizer_create(int kind, size_t n_params,
                           const dfsae_allocator *allocator,
                           dfsae_optimizer **out)
{
    if (out == NULL)
        return DFSAE_ERR_NULL_ARG;
    *out = NULL;
    const dfsae_optim_ops *ops = ops_of(kind);
    if (ops == NULL || n_params == 0)
        return DFSAE_ERR_INVALID_ARG;
    size_t count;
    if (!dfsae__mul_size(n_params, ops->n_state, &count) ||
        !dfsae__mul_size(count, sizeof(float), &count))
        return DFSAE_ERR_SIZE_OVERFLOW;
    dfsae_allocator alloc;
    if (dfsae__allocator_init(&alloc, allocator) != DFSAE_OK)
        return DFSAE_ERR_INVALID_ARG;
    dfsae_optimizer *o = dfsae__alloc(&alloc, sizeof *o);
    if (o == NULL)
        return DFSAE_ERR_NO_MEMORY;
    memset(o, 0, sizeof *o);
    o->alloc = alloc;
    o->ops = ops;
    o->kind = kind;
    o->n = n_params;
    o->state = dfsae__alloc(&alloc, count);
    if (o->state == NULL) {
        dfsae__free(&alloc, o);
        return DFSAE_ERR_NO_MEMORY;
    }
    memcpy(o->hp, ops->defaults, sizeof o->hp);
    dfsae_optimizer_reset(o);
    *out = o;
    return DFSAE_OK;
}

void dfsae_optimizer_free(dfsae_optimizer *opt)
{
    if (opt == NULL)
        return;
    dfsae_allocator a = opt->alloc;
    dfsae__free(&a, opt->state);
    dfsae__free(&a, opt);
}

int dfsae_optimizer_get_kind(const dfsae_optimizer *opt)
{
    return opt != NULL ? opt->kind : -1;
}

uint64_t dfsae_optimizer_step_count(const dfsae_optimizer *opt)
{
    return opt != NULL ? opt->t : 0;
}

const char *dfsae_optimizer_last_error(const dfsae_optimizer *opt)
{
    return opt != NULL ? opt->err : "optimizer is NULL";
}

int dfsae_optimizer_set_option(dfsae_optimizer *opt, int param, double value)
{
    if (opt == NULL)
        return DFSAE_ERR_NULL_ARG;
    double lo, hi;
    int st = dfsae_optimizer_option_bounds(opt->kind, param, &lo, &hi);
    if (st != DFSAE_OK)
        return dfsae__fail(opt->err, st,
                           "set_param: key %d does not apply to %s", param,
                           opt->ops->name);
    if (!(value >= lo && value <= hi) ||
        (param == DFSAE_OPT_NESTEROV && value != 0.0 && value != 1.0))
        return dfsae__fail(opt->err, DFSAE_ERR_PARAM_OUT_OF_RANGE,
                           "set_param: value %g for key %d is outside "
                           "[%g, %g]",
                           value, param, lo, hi);
    opt->hp[param] = value;
    return DFSAE_OK;
}

int dfsae_optimizer_get_option(const dfsae_optimizer *opt, int param,
                               double *value)
{
    if (opt == NULL || value == NULL)
        return DFSAE_ERR_NULL_ARG;
    int st = dfsae_optimizer_option_bounds(opt->kind, param, NULL, NULL);
    if (st != DFSAE_OK)
        return st;
    *value = opt->hp[param];
    return DFSAE_OK;
}

void dfsae_optimizer_reset(dfsae_optimizer *opt)
{
    if (opt == NULL)
        return;
    memset(opt->state, 0, opt->n * opt->ops->n_state * sizeof(float));
    opt->t = 0;
    opt->started = 0;
    opt->state_max[0] = opt->state_max[1] = 0.0f;
    opt->maxima_valid = 1;
}

int dfsae__optimizer_check(dfsae_optimizer *opt, const dfsae_model *model)
{
    if (model->n_params != opt->n)
        return dfsae__fail(opt->err, DFSAE_ERR_SIZE_MISMATCH,
                           "step: the optimizer was made for %zu parameters, "
                           "the model has %zu",
                           opt->n, model->n_params);
    if (opt->t >= DFSAE__MAX_STEP_COUNT)
        return dfsae__fail(opt->err, DFSAE_ERR_SIZE_OVERFLOW,
                           "step: the step count has reached its limit of "
                           "2^53; reset the optimizer to go on");
    if (opt->hp[DFSAE_OPT_NESTEROV] != 0.0 &&
        (opt->hp[DFSAE_OPT_MOMENTUM] == 0.0 ||
         opt->hp[DFSAE_OPT_DAMPENING] != 0.0))
        return dfsae__fail(opt->err, DFSAE_ERR_INVALID_ARG,
                           "step: Nesterov momentum needs a non-zero "
                           "momentum and zero dampening");
    return DFSAE_OK;
}

int dfsae__optimizer_apply(dfsae_optimizer *opt, dfsae_model *model,
                           const float *grad, float gmax, int collective)
{
    dfsae_pool *pool = dfsae__pool_for(model->pool, opt->n);
    /* A dry run first: an update that would overflow changes nothing. */
    int st = DFSAE_OK;
    if (!opt->ops->update(opt, pool, model->params, grad, gmax, 0))
        st = dfsae__fail(opt->err, DFSAE_ERR_NON_FINITE_RESULT,
                         "step: the update overflows float (learning rate "
                         "or gradient too large); nothing was changed");
    if (collective)
        st = dfsae__dist_agree(model->dist, opt->err, "step", st);
    if (st != DFSAE_OK)
        return st;
    opt->ops->update(opt, pool, model->params, grad, gmax, 1);
    opt->t += 1;
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
    int st = dfsae__optimizer_check(opt, model);
    if (st != DFSAE_OK)
        return st;
    float gmax =
        dfsae__max_abs_par(dfsae__pool_for(model->pool, opt->n), grad, opt->n);
    if (!isfinite(gmax))
        return dfsae__fail(opt->err, DFSAE_ERR_NON_FINITE_INPUT,
                           "step: gradient entry %zu is not finite",
                           dfsae__first_non_finite(grad, opt->n));
    return dfsae__optimizer_apply(opt, model, grad, gmax, 0);
}
