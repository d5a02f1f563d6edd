/* The optimizer handle and the dispatch of a step over flat vectors. */
#include <string.h>

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
    dfsae__optim_hp_default(kind, o->hp);
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

int dfsae__optimizer_check(dfsae_optimizer *opt, size_t n)
{
    if (n != opt->n)
        return dfsae__fail(opt->err, DFSAE_ERR_SIZE_MISMATCH,
                           "step: the optimizer was made for %zu parameters, "
                           "the model has %zu",
                           opt->n, n);
    if (opt->t >= DFSAE__MAX_STEP_COUNT)
        return dfsae__fail(opt->err, DFSAE_ERR_SIZE_OVERFLOW,
                           "step: the step count has reached its limit of "
                           "2^53; reset the optimizer to go on");
    return dfsae__optim_hp_check(opt->hp, opt->err);
}

int dfsae__optimizer_dry_run(dfsae_optimizer *opt, const float *params,
                             const float *grad, float gmax, dfsae_pool *pool)
{
    if (opt->ops->check(params, grad, gmax, opt->n, opt, pool))
        return DFSAE_OK;
    return dfsae__fail(opt->err, DFSAE_ERR_NON_FINITE_RESULT,
                       "step: the update overflows float (learning rate "
                       "or gradient too large); nothing was changed");
}

void dfsae__optimizer_commit(dfsae_optimizer *opt, float *params,
                             const float *grad, dfsae_pool *pool)
{
    opt->ops->update(params, grad, opt->n, opt, pool);
    opt->t += 1;
}
