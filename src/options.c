/* Model options: the key space's spec table, and access by key. */
#include <float.h>
#include <stddef.h>

#include "layers/layers.h"
#include "model.h"

static const char *name_in(const char *const *names, int n, int v)
{
    return v >= 0 && v < n ? names[v] : NULL;
}

static const char *reduction_name(int v)
{
    static const char *const names[] = {"sum", "mean"};
    return name_in(names, 2, v);
}

static const char *gram_name(int v)
{
    static const char *const names[] = {"auto", "feature", "sample"};
    return name_in(names, 3, v);
}

static const char *wr_form_name(int v)
{
    static const char *const names[] = {"normalised", "unnormalised"};
    return name_in(names, 2, v);
}

#define AT(field) DFSAE__KEY_AT(dfsae_options, field)
#define REAL      DFSAE__KIND_REAL, NULL, NULL
#define ENUM(fn)  DFSAE__KIND_ENUM, fn, "value"

static const dfsae__key_spec specs[DFSAE_MODEL_OPTION_COUNT] = {
    [DFSAE_MODEL_ACTIVATION] = {"dfsae.activation", 0, DFSAE_ACT_COUNT - 1,
                                DFSAE_ACT_RELU, DFSAE__KIND_ENUM,
                                dfsae_activation_name, "activation",
                                AT(activation)},
    [DFSAE_MODEL_LAMBDA_LSE] = {"dfsae.lambda_lse", 0, DBL_MAX, 1.0, REAL,
                                AT(lambda[DFSAE_TERM_LSE])},
    [DFSAE_MODEL_LAMBDA_VAR] = {"dfsae.lambda_var", 0, DBL_MAX, 1.0, REAL,
                                AT(lambda[DFSAE_TERM_VAR])},
    [DFSAE_MODEL_LAMBDA_TC] = {"dfsae.lambda_tc", 0, DBL_MAX, 1.0, REAL,
                               AT(lambda[DFSAE_TERM_TC])},
    [DFSAE_MODEL_LAMBDA_WR] = {"dfsae.lambda_wr", 0, DBL_MAX, 0.0, REAL,
                               AT(lambda[DFSAE_TERM_WR])},
    [DFSAE_MODEL_EPS_VAR] = {"dfsae.eps_var", DBL_MIN, 1.0, 1e-6, REAL,
                             AT(loss.eps_var)},
    [DFSAE_MODEL_LSE_REDUCTION] = {"dfsae.lse_reduction", 0, 1,
                                   DFSAE_REDUCE_SUM, ENUM(reduction_name),
                                   AT(loss.lse_reduction)},
    [DFSAE_MODEL_LEAKY_SLOPE] = {"dfsae.leaky_slope", 0, 1, 0.01, REAL,
                                 AT(leaky_slope)},
    [DFSAE_MODEL_GRAM_SIDE] = {"dfsae.gram_side", 0, 2, DFSAE_GRAM_AUTO,
                               ENUM(gram_name), AT(gram_side)},
    [DFSAE_MODEL_SOFTMAX_TEMPERATURE] = {"dfsae.softmax_temperature", 1e-3, 1e3,
                                         1.0, REAL, AT(softmax_temperature)},
    [DFSAE_MODEL_WR_FORM] = {"dfsae.wr_form", 0, 1, DFSAE_WR_NORMALISED,
                             ENUM(wr_form_name), AT(loss.wr_form)},
    [DFSAE_MODEL_VAR_CAP] = {"dfsae.var_cap", 0, 1e12, 0.0, REAL,
                             AT(loss.var_cap)},
    [DFSAE_MODEL_MAX_ROW_NORM] = {"dfsae.max_row_norm", 0, 1e18, 0.0, REAL,
                                  AT(max_row_norm)},
};

const dfsae__key_spec *dfsae__model_option_spec(int param)
{
    return param >= 0 && param < DFSAE_MODEL_OPTION_COUNT ? &specs[param]
                                                          : NULL;
}

int dfsae_model_option_bounds(int param, double *lo, double *hi)
{
    return dfsae__key_bounds(dfsae__model_option_spec(param), lo, hi);
}

double dfsae__activation_param(const dfsae_options *o)
{
    int key = dfsae__activations[o->activation]->param_key;
    return key >= 0 ? dfsae__key_load(&specs[key], o) : 0.0;
}

void dfsae__options_default(dfsae_options *o)
{
    for (int p = 0; p < DFSAE_MODEL_OPTION_COUNT; ++p)
        dfsae__key_store(&specs[p], o, specs[p].def);
}

int dfsae_model_set_option(dfsae_model *model, int param, double value)
{
    if (model == NULL)
        return DFSAE_ERR_NULL_ARG;
    const dfsae__key_spec *s = dfsae__model_option_spec(param);
    if (s == NULL)
        return dfsae__fail(model->err, DFSAE_ERR_UNKNOWN_PARAM,
                           "set_param: unknown parameter key %d", param);
    if (!dfsae__key_valid(s, value))
        return dfsae__fail(model->err, DFSAE_ERR_PARAM_OUT_OF_RANGE,
                           "set_param: value %g for key %d is outside "
                           "[%g, %g]%s",
                           value, param, s->lo, s->hi,
                           s->kind != DFSAE__KIND_REAL ? " or not an integer"
                                                       : "");
    dfsae__key_store(s, &model->opt, value);
    return DFSAE_OK;
}

int dfsae_model_get_option(const dfsae_model *model, int param, double *value)
{
    if (model == NULL || value == NULL)
        return DFSAE_ERR_NULL_ARG;
    const dfsae__key_spec *s = dfsae__model_option_spec(param);
    if (s == NULL)
        return DFSAE_ERR_UNKNOWN_PARAM;
    *value = dfsae__key_load(s, &model->opt);
    return DFSAE_OK;
}
