/* Which optimizer states a handle may hold: those that steps from creation
 * or reset can reach. A checkpoint's state is checked before a load
 * commits it and before a save writes it, so a file never carries a state
 * the step's arithmetic was not written for. */
#include <math.h>
#include <string.h>

#include "optim/optim.h"

/* 1 if all n values are +0 or -0. */
static int all_zero(const float *x, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        if (x[i] != 0.0f)
            return 0;
    return 1;
}

int dfsae__optim_state_check(int kind, uint64_t step, int started,
                             const float *state, size_t n, char *err)
{
    if (step > DFSAE__MAX_STEP_COUNT)
        return dfsae__fail(err, DFSAE_ERR_BAD_METADATA,
                           "the step count %llu is above the limit of 2^53",
                           (unsigned long long)step);
    const size_t vectors = kind == DFSAE_SGD ? 1 : 2;
    size_t bad = dfsae__first_non_finite(state, vectors * n);
    if (bad != vectors * n)
        return dfsae__fail(err, DFSAE_ERR_NON_FINITE_INPUT,
                           "optimizer state element %zu is NaN or Inf", bad);
    /* Every state starts as zeros and only a step changes it. */
    if (step == 0 && (started || !all_zero(state, vectors * n)))
        return dfsae__fail(err, DFSAE_ERR_BAD_METADATA,
                           "the optimizer state is not zero at step 0");
    /* PyTorch's buffer is written only by the step that starts it. */
    if (kind == DFSAE_SGD && !started && !all_zero(state, n))
        return dfsae__fail(err, DFSAE_ERR_BAD_METADATA,
                           "the momentum buffer is not zero but never "
                           "started (momentum_started 0)");
    /* v is a running mean of squares: a negative entry would make
     * sqrt(v) NaN in the next step. -0 is zero. */
    if (kind != DFSAE_SGD) {
        const float *v = state + n;
        for (size_t i = 0; i < n; ++i)
            if (v[i] < 0.0f)
                return dfsae__fail(err, DFSAE_ERR_BAD_METADATA,
                                   "exp_avg_sq (Adam's second moment) "
                                   "element %zu is negative (%g)",
                                   i, (double)v[i]);
    }
    return DFSAE_OK;
}

void dfsae__optim_export(const dfsae_optimizer *o, dfsae__optim_snapshot *s)
{
    s->kind = o->kind;
    s->step = o->t;
    s->started = o->started;
    memcpy(s->hp, o->hp, sizeof s->hp);
    s->n = o->n;
    s->n_state = o->ops->n_state;
    s->state = o->state;
}

int dfsae__optim_accepts(const dfsae_optimizer *o, int kind, size_t n,
                         char *err)
{
    if (kind != o->kind)
        return dfsae__fail(err, DFSAE_ERR_INVALID_ARG,
                           "the file holds %s state, the optimizer is %s",
                           dfsae_optimizer_kind_name(kind), o->ops->name);
    if (n != o->n)
        return dfsae__fail(err, DFSAE_ERR_SIZE_MISMATCH,
                           "the optimizer is for %zu parameters, the file "
                           "has %zu",
                           o->n, n);
    return DFSAE_OK;
}

int dfsae__optim_import(dfsae_optimizer *o, const dfsae__optim_snapshot *s,
                        char *err)
{
    int st = dfsae__optim_accepts(o, s->kind, s->n, err);
    if (st == DFSAE_OK)
        st = dfsae__optim_state_check(s->kind, s->step, s->started, s->state,
                                      s->n, err);
    if (st != DFSAE_OK)
        return st;
    for (int p = 0; p < DFSAE_OPT_COUNT; ++p)
        if (dfsae__optim_key_of(o->kind, p) != NULL)
            o->hp[p] = s->hp[p];
    memcpy(o->state, s->state, o->ops->n_state * o->n * sizeof *o->state);
    o->t = s->step;
    o->started = s->started;
    o->maxima_valid = 0; /* the next step rescans the imported state */
    return DFSAE_OK;
}
