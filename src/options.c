/* Model options: defaults, bounds, and access by key. */
#include <float.h>
#include <math.h>

#include "layers/layers.h"
#include "model.h"

typedef struct option_spec {
    double lo, hi, def;
    int integral; /* an enumerated option: the value must be an integer */
} option_spec;

static const option_spec specs[DFSAE_MODEL_OPTION_COUNT] = {
    [DFSAE_MODEL_ACTIVATION] = {0, DFSAE_ACT_COUNT - 1, DFSAE_ACT_RELU, 1},
    [DFSAE_MODEL_LAMBDA_LSE] = {0, DBL_MAX, 1.0, 0},
    [DFSAE_MODEL_LAMBDA_VAR] = {0, DBL_MAX, 1.0, 0},
    [DFSAE_MODEL_LAMBDA_TC] = {0, DBL_MAX, 1.0, 0},
    [DFSAE_MODEL_LAMBDA_WR] = {0, DBL_MAX, 0.0, 0},
    [DFSAE_MODEL_EPS_VAR] = {DBL_MIN, 1.0, 1e-6, 0},
    [DFSAE_MODEL_LSE_REDUCTION] = {0, 1, DFSAE_REDUCE_SUM, 1},
    [DFSAE_MODEL_LEAKY_SLOPE] = {0, 1, 0.01, 0},
    [DFSAE_MODEL_GRAM_SIDE] = {0, 2, DFSAE_GRAM_AUTO, 1},
    [DFSAE_MODEL_SOFTMAX_TEMPERATURE] = {1e-3, 1e3, 1.0, 0},
    [DFSAE_MODEL_WR_FORM] = {0, 1, DFSAE_WR_NORMALISED, 1},
};

static int known(int param)
{
    return param >= 0 && param < DFSAE_MODEL_OPTION_COUNT;
}

int dfsae_model_option_bounds(int param, double *lo, double *hi)
{
    if (!known(param))
        return DFSAE_ERR_UNKNOWN_PARAM;
    if (lo != NULL)
        *lo = specs[param].lo;
    if (hi != NULL)
        *hi = specs[param].hi;
    return DFSAE_OK;
}

/* Stores value (already validated) into the option's field. */
static void store(dfsae_options *o, int param, double value)
{
    switch (param) {
    case DFSAE_MODEL_ACTIVATION: o->activation = (int)value; break;
    case DFSAE_MODEL_EPS_VAR: o->eps_var = value; break;
    case DFSAE_MODEL_LSE_REDUCTION: o->lse_reduction = (int)value; break;
    case DFSAE_MODEL_LEAKY_SLOPE: o->leaky_slope = value; break;
    case DFSAE_MODEL_GRAM_SIDE: o->gram_side = (int)value; break;
    case DFSAE_MODEL_SOFTMAX_TEMPERATURE: o->softmax_temperature = value; break;
    case DFSAE_MODEL_WR_FORM: o->wr_form = (int)value; break;
    default: o->lambda[param - DFSAE_MODEL_LAMBDA_LSE] = value; break;
    }
}

static double load(const dfsae_options *o, int param)
{
    switch (param) {
    case DFSAE_MODEL_ACTIVATION: return o->activation;
    case DFSAE_MODEL_EPS_VAR: return o->eps_var;
    case DFSAE_MODEL_LSE_REDUCTION: return o->lse_reduction;
    case DFSAE_MODEL_LEAKY_SLOPE: return o->leaky_slope;
    case DFSAE_MODEL_GRAM_SIDE: return o->gram_side;
    case DFSAE_MODEL_SOFTMAX_TEMPERATURE: return o->softmax_temperature;
    case DFSAE_MODEL_WR_FORM: return o->wr_form;
    default: return o->lambda[param - DFSAE_MODEL_LAMBDA_LSE];
    }
}

double dfsae__activation_param(const dfsae_options *o)
{
    int key = dfsae__activations[o->activation]->param_key;
    return key >= 0 ? load(o, key) : 0.0;
}

void dfsae__options_default(dfsae_options *o)
{
    for (int p = 0; p < DFSAE_MODEL_OPTION_COUNT; ++p)
        store(o, p, specs[p].def);
}

int dfsae_model_set_option(dfsae_model *model, int param, double value)
{
    if (model == NULL)
        return DFSAE_ERR_NULL_ARG;
    if (!known(param))
        return dfsae__fail(model->err, DFSAE_ERR_UNKNOWN_PARAM,
                           "set_param: unknown parameter key %d", param);
    const option_spec *s = &specs[param];
    if (!(value >= s->lo && value <= s->hi) ||
        (s->integral && value != floor(value)))
        return dfsae__fail(model->err, DFSAE_ERR_PARAM_OUT_OF_RANGE,
                           "set_param: value %g for key %d is outside "
                           "[%g, %g]%s",
                           value, param, s->lo, s->hi,
                           s->integral ? " or not an integer" : "");
    store(&model->opt, param, value);
    return DFSAE_OK;
}

int dfsae_model_get_option(const dfsae_model *model, int param, double *value)
{
    if (model == NULL || value == NULL)
        return DFSAE_ERR_NULL_ARG;
    if (!known(param))
        return DFSAE_ERR_UNKNOWN_PARAM;
    *value = load(&model->opt, param);
    return DFSAE_OK;
}
