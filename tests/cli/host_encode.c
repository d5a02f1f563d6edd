/* A C host encoding raw inputs with a model the tool trained:
 *   host_encode MODEL DATA scale DIV
 *   host_encode MODEL DATA standardize DIV
 * reads DATA as stored (no scaling), encodes it with MODEL (whose input
 * transform the tool recorded), and encodes the inputs scaled here (X / DIV,
 * or StandardScaler's (X / DIV - mean) / std computed here in double, a
 * zero std taken as 1) with a twin of MODEL without a transform. The two
 * must agree; the twin on raw inputs (the control) must not.
 * Prints the differences; exit status 0 when both hold. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfsae.h"
#include "exdata.h"

/* The reference scaling, computed here independently of the tool. */
static void scale_here(const exdata *d, double div, int standardize, float *out)
{
    const size_t n = d->rows, D = d->cols;
    for (size_t j = 0; j < D; ++j) {
        double mean = 0.0, var = 0.0, sd;
        for (size_t i = 0; i < n; ++i)
            mean += d->values[i * D + j] / div;
        mean /= (double)n;
        for (size_t i = 0; i < n; ++i) {
            double e = d->values[i * D + j] / div - mean;
            var += e * e;
        }
        sd = sqrt(var / (double)n);
        if (!standardize) {
            mean = 0.0;
            sd = 1.0;
        } else if (sd == 0.0) {
            sd = 1.0;
        }
        for (size_t i = 0; i < n; ++i)
            out[i * D + j] = (float)((d->values[i * D + j] / div - mean) / sd);
    }
}

/* The model's parameters and options without its input transform. */
static dfsae_model *twin(const dfsae_model *m)
{
    size_t np = dfsae_model_num_params(m);
    float *p = malloc(np * sizeof *p);
    dfsae_model *t = NULL;
    if (p == NULL ||
        dfsae_model_create(dfsae_model_input_dim(m),
                           dfsae_model_num_components(m), 0, NULL,
                           &t) != DFSAE_OK ||
        dfsae_model_get_params(m, p, np) != DFSAE_OK ||
        dfsae_model_set_params(t, p, np) != DFSAE_OK) {
        free(p);
        dfsae_model_free(t);
        return NULL;
    }
    for (int o = 0; o < DFSAE_MODEL_OPTION_COUNT; ++o) {
        double v;
        if (dfsae_model_get_option(m, o, &v) == DFSAE_OK)
            dfsae_model_set_option(t, o, v);
    }
    free(p);
    return t;
}

static double max_diff(const float *a, const float *b, size_t n, double *top)
{
    double worst = 0.0;
    *top = 0.0;
    for (size_t i = 0; i < n; ++i) {
        worst = fmax(worst, fabs((double)a[i] - (double)b[i]));
        *top = fmax(*top, fabs((double)b[i]));
    }
    return worst;
}

int main(int argc, char **argv)
{
    char err[DFSAE_ERROR_MESSAGE_SIZE];
    dfsae_model *m = NULL, *t = NULL;
    exdata data;
    exdata_options opt;
    exdata_error derr;
    if (argc != 5 || (strcmp(argv[3], "scale") != 0 &&
                      strcmp(argv[3], "standardize") != 0)) {
        fprintf(stderr, "usage: host_encode MODEL DATA scale|standardize "
                        "DIV\n");
        return 2;
    }
    if (dfsae_model_load(argv[1], NULL, &m, NULL, err, sizeof err) !=
        DFSAE_OK) {
        fprintf(stderr, "host_encode: %s: %s\n", argv[1], err);
        return 1;
    }
    exdata_options_init(&opt);
    opt.divide = 1.0; /* raw, as stored */
    if (exdata_load(argv[2], &opt, &data, &derr) != 0) {
        fprintf(stderr, "host_encode: %s\n", derr.msg);
        return 1;
    }
    size_t n = data.rows, k = dfsae_model_num_components(m);
    float *A = malloc(n * k * sizeof *A), *B = malloc(n * k * sizeof *B),
          *C = malloc(n * k * sizeof *C),
          *Xs = malloc(n * data.cols * sizeof *Xs);
    t = twin(m);
    int rc = 1;
    if (A != NULL && B != NULL && C != NULL && Xs != NULL && t != NULL &&
        data.cols == dfsae_model_input_dim(m)) {
        scale_here(&data, atof(argv[4]), strcmp(argv[3], "standardize") == 0,
                   Xs);
        if (dfsae_model_forward(m, data.values, n, A, NULL, NULL) == DFSAE_OK &&
            dfsae_model_forward(t, Xs, n, B, NULL, NULL) == DFSAE_OK &&
            dfsae_model_forward(t, data.values, n, C, NULL, NULL) == DFSAE_OK) {
            double top, d = max_diff(A, B, n * k, &top);
            double ctl_top, ctl = max_diff(C, B, n * k, &ctl_top);
            printf("host_encode: %zu x %zu raw inputs: max |model - twin on "
                   "scaled| = %.3g (features up to %.3g); twin on raw "
                   "differs by %.3g\n",
                   n, k, d, top, ctl);
            rc = d <= 1e-5 * (1.0 + top) && ctl > 1e-2 * (1.0 + top) ? 0 : 1;
        }
    }
    free(A);
    free(B);
    free(C);
    free(Xs);
    exdata_free(&data);
    dfsae_model_free(t);
    dfsae_model_free(m);
    return rc;
}
