/* dfsae info MODEL: shapes, options, parameter statistics, optimizer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static void print_options(const dfsae_model *m)
{
    static const struct {
        int key;
        const char *name;
    } keys[] = {
        {DFSAE_MODEL_EPS_VAR, "eps_var"},
        {DFSAE_MODEL_LEAKY_SLOPE, "leaky_slope"},
        {DFSAE_MODEL_SOFTMAX_TEMPERATURE, "softmax_temperature"},
        {DFSAE_MODEL_VAR_CAP, "var_cap"},
        {DFSAE_MODEL_MAX_ROW_NORM, "max_row_norm"},
    };
    double v = 0;
    dfsae_model_get_option(m, DFSAE_MODEL_ACTIVATION, &v);
    printf("activation: %s\n", dfsae_activation_name((int)v));
    for (int t = 0; t < DFSAE_TERM_COUNT; t++) {
        dfsae_model_get_option(m, cli_lambda_keys[t], &v);
        printf("lambda_%s: %g\n", dfsae_term_name(t), v);
    }
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        dfsae_model_get_option(m, keys[i].key, &v);
        printf("%s: %g\n", keys[i].name, v);
    }
    dfsae_model_get_option(m, DFSAE_MODEL_LSE_REDUCTION, &v);
    printf("lse_reduction: %s\n", v == DFSAE_REDUCE_MEAN ? "mean" : "sum");
    dfsae_model_get_option(m, DFSAE_MODEL_WR_FORM, &v);
    printf("wr_form: %s\n",
           v == DFSAE_WR_UNNORMALISED ? "unnormalised" : "normalised");
}

static void print_params(const float *p, size_t k, size_t d)
{
    double nmin = INFINITY, nmax = 0, nsum = 0, bmin = INFINITY,
           bmax = -INFINITY;
    for (size_t r = 0; r < k; r++) {
        double s = 0;
        for (size_t i = 0; i < d; i++)
            s += (double)p[r * d + i] * p[r * d + i];
        s = sqrt(s);
        nmin = fmin(nmin, s);
        nmax = fmax(nmax, s);
        nsum += s;
        bmin = fmin(bmin, p[k * d + r]);
        bmax = fmax(bmax, p[k * d + r]);
    }
    printf("weight_row_norm: min %.4g mean %.4g max %.4g\n", nmin,
           nsum / (double)k, nmax);
    printf("bias: min %.4g max %.4g\n", bmin, bmax);
}

int cli_info(int argc, char **argv)
{
    const char *pos[1];
    size_t n_pos, k, d;
    dfsae_model *m = NULL;
    dfsae_optimizer *o = NULL;
    uint64_t epochs = 0, rows = 0, seed = 0;
    char xf[64];
    const char *key;
    float *p;
    int rc;
    cli_cmd c = {"info",
                 "MODEL",
                 "Describe a model file: shapes, options, parameter "
                 "statistics, optimizer and run state, metadata.",
                 NULL,
                 NULL,
                 0,
                 1,
                 1};
    rc = cli_parse(&c, argc, argv, pos, &n_pos);
    if (rc != 0)
        return rc > 0 ? CLI_OK : CLI_USAGE;
    rc = cli_model_load("info", pos[0], &m, &o);
    if (rc != CLI_OK)
        return rc;
    d = dfsae_model_input_dim(m);
    k = dfsae_model_num_components(m);
    printf("file: %s\ninputs: %zu\ncomponents: %zu\nparameters: %zu\n", pos[0],
           d, k, dfsae_model_num_params(m));
    print_options(m);
    p = calloc(dfsae_model_num_params(m), sizeof *p);
    if (p != NULL &&
        dfsae_model_get_params(m, p, dfsae_model_num_params(m)) == DFSAE_OK)
        print_params(p, k, d);
    free(p);
    if (o != NULL) {
        double lr = 0;
        dfsae_optimizer_get_option(o, DFSAE_OPT_LR, &lr);
        printf("optimizer: %s, lr %g, %llu steps\n",
               dfsae_optimizer_kind_name(dfsae_optimizer_get_kind(o)), lr,
               (unsigned long long)dfsae_optimizer_step_count(o));
    } else {
        printf("optimizer: none (not resumable with its state)\n");
    }
    cli_describe_transform(m, xf, sizeof xf);
    printf("input_transform: %s\n", xf);
    dfsae_model_get_run_state(m, &epochs, &rows, &seed);
    printf("epochs: %llu\nepoch_rows: %llu\nshuffle_seed: %llu\n",
           (unsigned long long)epochs, (unsigned long long)rows,
           (unsigned long long)seed);
    for (size_t i = 0; (key = dfsae_model_meta_key(m, i)) != NULL; i++)
        printf("meta.%s: %s\n", key, dfsae_model_get_meta(m, key));
    dfsae_optimizer_free(o);
    dfsae_model_free(m);
    return CLI_OK;
}
