/* One configuration: train, then measure on held-out rows. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "study.h"
#include "study_probe.h"
#include "study_projected.h"

void study_config_defaults(study_config *c)
{
    memset(c, 0, sizeof *c);
    c->components = 64;
    c->epochs = 20;
    c->batch = 128;
    c->activation = DFSAE_ACT_RELU;
    c->temperature = 1.0;
    c->wr_form = DFSAE_WR_NORMALISED;
    c->lambda[DFSAE_TERM_LSE] = 1.0;
    c->lambda[DFSAE_TERM_VAR] = 1.0;
    c->lambda[DFSAE_TERM_TC] = 1.0;
    c->optimizer = DFSAE_ADAM;
    c->lr = 1e-3;
    c->weight_decay = -1.0;
    c->patience = 5;
    c->probe_c = 1.0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int fail(char *err, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, size, fmt, ap);
    va_end(ap);
    return -1;
}

typedef struct watch {
    const study_config *c;
    const char *tag;
    study_result *r;
} watch;

/* Records an epoch (1-based e) and prints its line unless quiet. */
static void note_epoch(watch *w, uint64_t e, double loss, const double *terms,
                       double samples_per_sec, int converged)
{
    w->r->final_loss = loss;
    w->r->epochs_run = e;
    if (converged)
        w->r->converged_epoch = e;
    if (w->c->quiet)
        return;
    fprintf(stderr,
            "%sepoch %2llu/%zu  loss %11.5g  lse %10.5g  var %9.5g  tc %8.4g"
            "  %6.0f samples/s%s\n",
            w->tag, (unsigned long long)e, w->c->epochs, loss,
            terms[DFSAE_TERM_LSE], terms[DFSAE_TERM_VAR], terms[DFSAE_TERM_TC],
            samples_per_sec, converged ? "  (converged)" : "");
}

static int on_epoch(const dfsae_progress *p, void *user)
{
    if ((int)dfsae_progress_get(p, DFSAE_PROGRESS_EVENT) != DFSAE_EVENT_EPOCH)
        return 0;
    double terms[DFSAE_TERM_COUNT];
    for (int t = 0; t < DFSAE_TERM_COUNT; t++)
        terms[t] = dfsae_progress_get(p, DFSAE_PROGRESS_TERM_LSE + t);
    note_epoch(user, (uint64_t)dfsae_progress_get(p, DFSAE_PROGRESS_EPOCH) + 1,
               dfsae_progress_get(p, DFSAE_PROGRESS_LOSS), terms,
               dfsae_progress_get(p, DFSAE_PROGRESS_SAMPLES_PER_SEC),
               dfsae_progress_get(p, DFSAE_PROGRESS_CONVERGED) != 0);
    return 0;
}

static void on_projected_epoch(void *user, uint64_t epoch, double loss,
                               const double *terms)
{
    note_epoch(user, epoch, loss, terms, 0.0, 0);
}

/* The model's options from c. */
static int set_model(dfsae_model *m, const study_config *c)
{
    static const int keys[DFSAE_TERM_COUNT] = {
        DFSAE_MODEL_LAMBDA_LSE, DFSAE_MODEL_LAMBDA_VAR, DFSAE_MODEL_LAMBDA_TC,
        DFSAE_MODEL_LAMBDA_WR};
    /* The seed seeds the shuffling too. */
    int st = dfsae_model_set_run_state(m, 0, 0, c->seed);
    for (int t = 0; t < DFSAE_TERM_COUNT && st == DFSAE_OK; t++)
        st = dfsae_model_set_option(m, keys[t], c->lambda[t]);
    if (st == DFSAE_OK)
        st = dfsae_model_set_option(m, DFSAE_MODEL_ACTIVATION, c->activation);
    if (st == DFSAE_OK)
        st = dfsae_model_set_option(m, DFSAE_MODEL_SOFTMAX_TEMPERATURE,
                                    c->temperature);
    if (st == DFSAE_OK)
        st = dfsae_model_set_option(m, DFSAE_MODEL_WR_FORM, c->wr_form);
    if (st == DFSAE_OK)
        st = dfsae_model_set_option(m, DFSAE_MODEL_VAR_CAP, c->var_cap);
    if (st == DFSAE_OK)
        st = dfsae_model_set_option(m, DFSAE_MODEL_MAX_ROW_NORM,
                                    c->max_row_norm);
    return st;
}

static int set_training(dfsae_optimizer *o, dfsae_train_config *cfg,
                        const study_config *c)
{
    int st = DFSAE_OK;
    if (c->lr > 0.0)
        st = dfsae_optimizer_set_option(o, DFSAE_OPT_LR, c->lr);
    if (st == DFSAE_OK && c->weight_decay >= 0.0)
        st = dfsae_optimizer_set_option(o, DFSAE_OPT_WEIGHT_DECAY,
                                        c->weight_decay);
    if (st == DFSAE_OK)
        st = dfsae_train_config_set(cfg, DFSAE_TRAIN_EPOCHS, (double)c->epochs);
    if (st == DFSAE_OK)
        st = dfsae_train_config_set(cfg, DFSAE_TRAIN_BATCH_SIZE,
                                    (double)c->batch);
    /* Epoch reports only: a step report per batch costs time for nothing. */
    if (st == DFSAE_OK)
        st = dfsae_train_config_set(cfg, DFSAE_TRAIN_REPORT_EVERY, 0);
    if (st == DFSAE_OK)
        st = dfsae_train_config_set(cfg, DFSAE_TRAIN_CONVERGE_TOLERANCE,
                                    c->tolerance);
    if (st == DFSAE_OK)
        st = dfsae_train_config_set(cfg, DFSAE_TRAIN_CONVERGE_PATIENCE,
                                    (double)c->patience);
    return st;
}

int study_train(const study_config *c, const study_split *tr, const char *tag,
                dfsae_model **out, study_result *r, char *err, size_t err_size)
{
    dfsae_model *m = NULL;
    dfsae_optimizer *o = NULL;
    dfsae_train_config *cfg = NULL;
    watch w = {c, tag != NULL ? tag : "", r};
    int rc = -1;
    memset(r, 0, sizeof *r);
    r->probe_accuracy = NAN;
    if (out != NULL)
        *out = NULL;
    int st = dfsae_model_create(tr->d, c->components, c->seed, NULL, &m);
    if (st != DFSAE_OK)
        return fail(err, err_size, "create the model: %s",
                    dfsae_status_string(st));
    st = set_model(m, c);
    if (st == DFSAE_OK)
        st = dfsae_optimizer_create(c->optimizer, dfsae_model_num_params(m),
                                    NULL, &o);
    if (st == DFSAE_OK)
        st = dfsae_train_config_create(NULL, &cfg);
    if (st == DFSAE_OK)
        st = set_training(o, cfg, c);
    if (st == DFSAE_OK && c->tolerance > 0.0 && c->max_bias > 0.0) {
        fail(err, err_size, "the projected loop has no convergence rule");
        goto done;
    }
    if (st != DFSAE_OK) {
        fail(err, err_size, "set up training: %s (%s)",
             dfsae_model_last_error(m), dfsae_status_string(st));
        goto done;
    }
    const double t0 = now();
    if (c->max_bias > 0.0)
        st = study_train_projected(m, o, c, tr, on_projected_epoch, &w);
    else
        st = dfsae_model_train(m, o, tr->X, tr->n, cfg, on_epoch, &w);
    r->seconds = now() - t0;
    if (st != DFSAE_OK) {
        fail(err, err_size, "train: %s (%s)", dfsae_model_last_error(m),
             dfsae_status_string(st));
        goto done;
    }
    rc = 0;
    if (out != NULL) {
        *out = m;
        m = NULL;
    }
done:
    dfsae_train_config_free(cfg);
    dfsae_optimizer_free(o);
    dfsae_model_free(m);
    return rc;
}

float *study_features(const dfsae_model *m, const float *X, size_t n)
{
    size_t k = dfsae_model_num_components(m);
    float *A = malloc(n * k * sizeof *A);
    if (A != NULL && dfsae_model_forward(m, X, n, A, NULL, NULL) != DFSAE_OK) {
        free(A);
        A = NULL;
    }
    return A;
}

int study_measure(dfsae_model *m, const study_config *c, const study_split *tr,
                  const study_split *ev, study_result *r, char *err,
                  size_t err_size)
{
    int st = dfsae_model_evaluate(m, ev->X, ev->n, NULL, r->metrics,
                                  DFSAE_METRIC_COUNT);
    if (st != DFSAE_OK)
        return fail(err, err_size, "evaluate: %s (%s)",
                    dfsae_model_last_error(m), dfsae_status_string(st));
    r->probe_accuracy = NAN;
    if (tr->y == NULL || ev->y == NULL)
        return 0;
    const size_t k = dfsae_model_num_components(m);
    float *Atr = study_features(m, tr->X, tr->n);
    float *Aev = study_features(m, ev->X, ev->n);
    int rc = -1, iters = 0;
    if (Atr == NULL || Aev == NULL) {
        fail(err, err_size, "encode: out of memory or non-finite features");
    } else {
        probe_data ptr = {Atr, tr->y, tr->n, k};
        probe_data pev = {Aev, ev->y, ev->n, k};
        char msg[256];
        rc = probe_softmax_accuracy(&ptr, &pev, c->probe_c, &r->probe_accuracy,
                                    &iters, msg, sizeof msg);
        if (rc != 0)
            fail(err, err_size, "probe: %s", msg);
    }
    free(Atr);
    free(Aev);
    return rc;
}
