/* The optimizer hyper-parameters: the key space's spec table, and access
 * by key. */
#include <float.h>

#include "optim/optim.h"

#define SGD   (1u << DFSAE_SGD)
#define ADAMS (1u << DFSAE_ADAM | 1u << DFSAE_ADAMW)
#define REAL  DFSAE__KIND_REAL
#define BOOL  DFSAE__KIND_BOOL

/* A row: key, metadata name, bounds, kind, the optimizer kinds it applies
 * to, then the defaults by kind (0 where not given). Every value is a
 * double at hp[key] of the handle; spec.def is unused, the default being
 * per kind. */
#define KEY(p, name, lo, hi, kind, kinds, ...)                                 \
    [p] = {{name, lo, hi, 0, kind, NULL, NULL,                                 \
            DFSAE__KEY_AT(struct dfsae_optimizer, hp[p])},                     \
           kinds,                                                              \
           {__VA_ARGS__}}

/* Inclusive bounds, in float's range since the updates run in float:
 * betas and momentum stay below 1 so the moments forget, eps stays a
 * positive float so the Adam denominator does. */
#define BELOW_ONE (1.0 - 0x1p-24)

static const dfsae__optim_key keys[DFSAE_OPT_COUNT] = {
    KEY(DFSAE_OPT_LR, "dfsae.optimizer.lr", 0, FLT_MAX, REAL, SGD | ADAMS,
        [DFSAE_SGD] = 1e-2, [DFSAE_ADAM] = 1e-3, [DFSAE_ADAMW] = 1e-3),
    KEY(DFSAE_OPT_WEIGHT_DECAY, "dfsae.optimizer.weight_decay", 0, FLT_MAX,
        REAL, SGD | ADAMS, [DFSAE_ADAMW] = 1e-2),
    KEY(DFSAE_OPT_MOMENTUM, "dfsae.optimizer.momentum", 0, BELOW_ONE, REAL, SGD,
        0),
    KEY(DFSAE_OPT_DAMPENING, "dfsae.optimizer.dampening", 0, 1, REAL, SGD, 0),
    KEY(DFSAE_OPT_NESTEROV, "dfsae.optimizer.nesterov", 0, 1, BOOL, SGD, 0),
    KEY(DFSAE_OPT_BETA1, "dfsae.optimizer.beta1", 0, BELOW_ONE, REAL,
        ADAMS, [DFSAE_ADAM] = 0.9, [DFSAE_ADAMW] = 0.9),
    KEY(DFSAE_OPT_BETA2, "dfsae.optimizer.beta2", 0, BELOW_ONE, REAL,
        ADAMS, [DFSAE_ADAM] = 0.999, [DFSAE_ADAMW] = 0.999),
    KEY(DFSAE_OPT_EPS, "dfsae.optimizer.eps", FLT_MIN, FLT_MAX, REAL,
        ADAMS, [DFSAE_ADAM] = 1e-8, [DFSAE_ADAMW] = 1e-8),
};

const dfsae__optim_key *dfsae__optim_key_of(int kind, int p)
{
    if (kind < 0 || kind >= DFSAE_OPTIMIZER_KIND_COUNT || p < 0 ||
        p >= DFSAE_OPT_COUNT || !(keys[p].kinds >> kind & 1u))
        return NULL;
    return &keys[p];
}

void dfsae__optim_hp_default(int kind, double hp[DFSAE_OPT_COUNT])
{
    for (int p = 0; p < DFSAE_OPT_COUNT; ++p) {
        const dfsae__optim_key *key = dfsae__optim_key_of(kind, p);
        hp[p] = key != NULL ? key->def[kind] : 0.0;
    }
}

int dfsae__optim_hp_check(const double hp[DFSAE_OPT_COUNT], char *err)
{
    if (hp[DFSAE_OPT_NESTEROV] != 0.0 &&
        (hp[DFSAE_OPT_MOMENTUM] == 0.0 || hp[DFSAE_OPT_DAMPENING] != 0.0))
        return dfsae__fail(err, DFSAE_ERR_INVALID_ARG,
                           "step: Nesterov momentum needs a non-zero "
                           "momentum and zero dampening");
    return DFSAE_OK;
}

int dfsae_optimizer_option_bounds(int kind, int param, double *lo, double *hi)
{
    if (kind < 0 || kind >= DFSAE_OPTIMIZER_KIND_COUNT)
        return DFSAE_ERR_INVALID_ARG;
    const dfsae__optim_key *key = dfsae__optim_key_of(kind, param);
    return dfsae__key_bounds(key != NULL ? &key->spec : NULL, lo, hi);
}

int dfsae_optimizer_set_option(dfsae_optimizer *opt, int param, double value)
{
    if (opt == NULL)
        return DFSAE_ERR_NULL_ARG;
    const dfsae__optim_key *key = dfsae__optim_key_of(opt->kind, param);
    if (key == NULL)
        return dfsae__fail(opt->err, DFSAE_ERR_UNKNOWN_PARAM,
                           "set_param: key %d does not apply to %s", param,
                           opt->ops->name);
    if (!dfsae__key_valid(&key->spec, value))
        return dfsae__fail(opt->err, DFSAE_ERR_PARAM_OUT_OF_RANGE,
                           "set_param: value %g for key %d is outside "
                           "[%g, %g]",
                           value, param, key->spec.lo, key->spec.hi);
    dfsae__key_store(&key->spec, opt, value);
    return DFSAE_OK;
}

int dfsae_optimizer_get_option(const dfsae_optimizer *opt, int param,
                               double *value)
{
    if (opt == NULL || value == NULL)
        return DFSAE_ERR_NULL_ARG;
    const dfsae__optim_key *key = dfsae__optim_key_of(opt->kind, param);
    if (key == NULL)
        return DFSAE_ERR_UNKNOWN_PARAM;
    *value = dfsae__key_load(&key->spec, opt);
    return DFSAE_OK;
}
