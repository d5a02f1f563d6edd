/* liblinear wants rows of (index, value) nodes; dense standardised
 * features make every node present. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linear.h>

#include "probe.h"

static void quiet(const char *s)
{
    (void)s;
}

/* Dense rows as liblinear nodes: d features, the bias feature (index
 * d + 1, value 1: liblinear's intercept), then the -1 terminator. */
static struct feature_node **nodes(const probe_data *p, const double *mean,
                                   const double *inv_std,
                                   struct feature_node **pool)
{
    struct feature_node **rows = malloc(p->n * sizeof *rows);
    struct feature_node *all = malloc(p->n * (p->d + 2) * sizeof *all);
    if (rows == NULL || all == NULL) {
        free(rows);
        free(all);
        return NULL;
    }
    for (size_t i = 0; i < p->n; i++) {
        struct feature_node *r = all + i * (p->d + 2);
        for (size_t j = 0; j < p->d; j++) {
            r[j].index = (int)j + 1;
            r[j].value = ((double)p->X[i * p->d + j] - mean[j]) * inv_std[j];
        }
        r[p->d].index = (int)p->d + 1;
        r[p->d].value = 1.0;
        r[p->d + 1].index = -1;
        r[p->d + 1].value = 0;
        rows[i] = r;
    }
    *pool = all;
    return rows;
}

int probe_accuracy(const probe_data *trn, const probe_data *tst, double C,
                   double *acc, char *msg, size_t msg_size)
{
    double *mean = calloc(trn->d, sizeof *mean);
    double *inv_std = calloc(trn->d, sizeof *inv_std);
    double *y = malloc(trn->n * sizeof *y);
    struct feature_node *pool_tr = NULL, *pool_te = NULL;
    struct feature_node **xtr = NULL, **xte = NULL;
    struct problem prob;
    struct parameter param;
    struct model *model = NULL;
    const char *bad;
    size_t correct = 0;
    int rc = -1;

    if (mean == NULL || inv_std == NULL || y == NULL) {
        snprintf(msg, msg_size, "out of memory");
        goto done;
    }
    probe_standardise(trn, mean, inv_std);
    xtr = nodes(trn, mean, inv_std, &pool_tr);
    xte = nodes(tst, mean, inv_std, &pool_te);
    if (xtr == NULL || xte == NULL) {
        snprintf(msg, msg_size, "out of memory for the probe's features");
        goto done;
    }
    for (size_t i = 0; i < trn->n; i++)
        y[i] = trn->y[i];
    memset(&prob, 0, sizeof prob);
    prob.l = (int)trn->n;
    prob.n = (int)trn->d + 1;
    prob.y = y;
    prob.x = xtr;
    prob.bias = 1.0;
    memset(&param, 0, sizeof param);
    /* liblinear's primal trust-region Newton solver for L2-regularised
     * logistic regression, one-vs-rest over the 10 classes, with its
     * default stopping tolerance. */
    param.solver_type = L2R_LR;
    param.C = C;
    param.eps = 0.01;
    bad = check_parameter(&prob, &param);
    if (bad != NULL) {
        snprintf(msg, msg_size, "liblinear: %s", bad);
        goto done;
    }
    set_print_string_function(quiet);
    model = train(&prob, &param);
    if (model == NULL) {
        snprintf(msg, msg_size, "liblinear failed to train");
        goto done;
    }
    for (size_t i = 0; i < tst->n; i++)
        correct += (int)predict(model, xte[i]) == tst->y[i];
    *acc = (double)correct / (double)tst->n;
    rc = 0;
done:
    if (model != NULL)
        free_and_destroy_model(&model);
    free(xtr);
    free(xte);
    free(pool_tr);
    free(pool_te);
    free(mean);
    free(inv_std);
    free(y);
    return rc;
}
