/* train's input transform: --scale and --standardize become the model's
 * X' = (X - shift) * scale, so that the model file says how its inputs
 * are scaled and encode, eval and any C host feed it raw data. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

/* Per-feature mean and standard deviation (population, as sklearn's
 * StandardScaler) of the raw data, for X' = (X / div - mean') / std' with
 * mean' and std' those of X / div. A constant feature (a spread below
 * float resolution) is only centred and divided by div: a scale of 1 in
 * the divided units, never 0 or Inf. */
static void fit_standardize(const exdata *d, double div, float *shift,
                            float *scale)
{
    const size_t n = d->rows, D = d->cols;
    double *mean = calloc(2 * D, sizeof *mean), *var = mean + D;
    if (mean == NULL) {
        for (size_t j = 0; j < D; j++) {
            shift[j] = 0.0f;
            scale[j] = (float)(1.0 / div);
        }
        return;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < D; j++)
            mean[j] += d->values[i * D + j];
    for (size_t j = 0; j < D; j++)
        mean[j] /= (double)n;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < D; j++) {
            double e = d->values[i * D + j] - mean[j];
            var[j] += e * e;
        }
    for (size_t j = 0; j < D; j++) {
        double sd = sqrt(var[j] / (double)n);
        float s = (float)(1.0 / sd);
        shift[j] = (float)mean[j];
        if (sd <= 10.0 * FLT_EPSILON * fabs(mean[j]) || !isfinite(s) ||
            s == 0.0f)
            s = (float)(1.0 / div);
        scale[j] = s;
    }
    free(mean);
}

int cli_set_input_transform(const char *cmd, const char *scale_flag,
                            int standardize, const char *resume, int flags_seen,
                            const exdata *data, dfsae_model *m)
{
    double div;
    size_t have = 0;
    int st;
    if (cli_parse_scale(cmd, scale_flag, &div) != CLI_OK)
        return CLI_USAGE;
    if (div == EXDATA_SCALE_AUTO)
        div = data->dtype == DFSAE_DTYPE_U8 ? 255.0 : 1.0;
    if (resume != NULL) {
        /* The file's transform is the one the model was trained with. */
        dfsae_model_get_transform(m, NULL, NULL, 0, &have);
        if (!flags_seen)
            return CLI_OK;
        if (have != 0)
            return cli_error(cmd, CLI_USAGE,
                             "--scale/--standardize: %s records its input "
                             "transform; resume without them",
                             resume);
    }
    if (standardize) {
        float *v = malloc(2 * data->cols * sizeof *v);
        if (v == NULL)
            return cli_error(cmd, CLI_FAIL, "out of memory");
        fit_standardize(data, div, v, v + data->cols);
        st = dfsae_model_set_transform(m, v, v + data->cols, data->cols);
        free(v);
    } else if (div != 1.0) {
        const float shift = 0.0f, scale = (float)(1.0 / div);
        st = dfsae_model_set_transform(m, &shift, &scale, 1);
    } else {
        st = dfsae_model_set_transform(m, NULL, NULL, 0);
    }
    if (st != DFSAE_OK)
        return cli_lib_error(cmd, st, dfsae_model_last_error(m),
                             "input transform");
    return CLI_OK;
}

void cli_describe_transform(const dfsae_model *m, char *buf, size_t cap)
{
    size_t n = 0;
    float shift = 0.0f, scale = 1.0f;
    dfsae_model_get_transform(m, NULL, NULL, 0, &n);
    if (n == 0)
        snprintf(buf, cap, "none");
    else if (n == 1 &&
             dfsae_model_get_transform(m, &shift, &scale, 1, &n) == DFSAE_OK)
        snprintf(buf, cap, "(x - %g) * %g", (double)shift, (double)scale);
    else
        snprintf(buf, cap, "per feature (%zu shifts and scales)", n);
}
