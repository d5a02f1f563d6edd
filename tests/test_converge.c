/* The convergence rule (DFSAE_TRAIN_CONVERGE_TOLERANCE / _PATIENCE): off
 * by default, the stopping epoch predicted from a run's own epoch losses,
 * the same parameters as a run of that many epochs, with and without a
 * callback, and the keys' bounds. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dfsae.h"
#include "fixture.h"
#include "train_data.h"
#include "train_fixture.h"

#define D      6
#define K      5
#define N      40
#define EPOCHS 30

typedef struct epochs_seen {
    size_t count, converged_at; /* converged_at: report index + 1, 0 none */
    size_t converged_reports;
    double loss[EPOCHS];
} epochs_seen;

static int record(const dfsae_progress *p, void *user)
{
    epochs_seen *s = user;
    if ((int)dfsae_progress_get(p, DFSAE_PROGRESS_EVENT) != DFSAE_EVENT_EPOCH) {
        assert_true(dfsae_progress_get(p, DFSAE_PROGRESS_CONVERGED) == 0.0);
        return 0;
    }
    assert_true(s->count < EPOCHS);
    s->loss[s->count++] = dfsae_progress_get(p, DFSAE_PROGRESS_LOSS);
    if (dfsae_progress_get(p, DFSAE_PROGRESS_CONVERGED) != 0.0) {
        s->converged_reports++;
        s->converged_at = s->count;
    }
    return 0;
}

/* Trains a fresh model (same seed every time) for up to `epochs` epochs
 * with the given rule (tolerance 0: off); returns its parameters (the
 * fixture's). The model, optimizer and config are the fixture's until the
 * run ends. */
static float *train(void **state, const float *X, double epochs, double tol,
                    double patience, int with_callback, epochs_seen *s)
{
    dfsae_model **ms = fx_model_slot(state);
    dfsae_optimizer **os = fx_optimizer_slot(state);
    train_make(D, K, 3, ms, os);
    dfsae_model *m = *ms;
    dfsae_optimizer *o = *os;
    assert_int_equal(dfsae_optimizer_set_option(o, DFSAE_OPT_LR, 0.02),
                     DFSAE_OK);
    dfsae_train_config *c = fx_train_config(state);
    train_set(c, DFSAE_TRAIN_EPOCHS, epochs);
    train_set(c, DFSAE_TRAIN_BATCH_SIZE, 8);
    train_set(c, DFSAE_TRAIN_CONVERGE_TOLERANCE, tol);
    train_set(c, DFSAE_TRAIN_CONVERGE_PATIENCE, patience);
    memset(s, 0, sizeof *s);
    assert_int_equal(
        dfsae_model_train(m, o, X, N, c, with_callback ? record : NULL, s),
        DFSAE_OK);
    float *p = fx_params(state, m);
    fx_drop(state, c);
    fx_drop(state, o);
    fx_drop(state, m);
    return p;
}

/* The first epoch (1-based) at which `patience` changes in a row of the
 * recorded mean losses are below tol; 0 if none. */
static size_t predicted_stop(const epochs_seen *s, double tol, size_t patience)
{
    size_t calm = 0;
    for (size_t e = 1; e < s->count; ++e) {
        calm = fabs(s->loss[e] - s->loss[e - 1]) < tol ? calm + 1 : 0;
        if (calm >= patience)
            return e + 1;
    }
    return 0;
}

/* Off by default: every epoch runs and none reports convergence. */
static void off_by_default(void **state)
{
    float *X = fx_train_data(state, N, D, 11);
    dfsae_train_config *c = fx_train_config(state);
    double v;
    assert_int_equal(
        dfsae_train_config_get(c, DFSAE_TRAIN_CONVERGE_TOLERANCE, &v),
        DFSAE_OK);
    assert_true(v == 0.0);
    epochs_seen s;
    train(state, X, 12, 0.0, 1, 1, &s);
    assert_int_equal(s.count, 12);
    assert_int_equal(s.converged_reports, 0);
    assert_true(isnan(dfsae_progress_get(NULL, DFSAE_PROGRESS_CONVERGED)));
}

/* With the tolerance set between the run's own epoch-to-epoch changes,
 * training stops exactly where the rule applied to the unstopped run's
 * losses says, reports it once, and holds the parameters of a run of that
 * many epochs; without a callback it stops at the same epoch. */
static void stops_where_the_rule_says(void **state)
{
    float *X = fx_train_data(state, N, D, 12);
    epochs_seen full, stopped, quiet;
    train(state, X, EPOCHS, 0.0, 1, 1, &full);
    assert_int_equal(full.count, EPOCHS);
    /* A tolerance that some changes pass and others do not: the median. */
    double change[EPOCHS], tol;
    for (size_t e = 1; e < EPOCHS; ++e)
        change[e - 1] = fabs(full.loss[e] - full.loss[e - 1]);
    for (size_t i = 0; i + 1 < EPOCHS - 1; ++i) /* insertion sort */
        for (size_t j = i + 1; j > 0 && change[j] < change[j - 1]; --j) {
            double t = change[j];
            change[j] = change[j - 1];
            change[j - 1] = t;
        }
    tol = change[(EPOCHS - 1) / 2];
    for (size_t patience = 1; patience <= 3; ++patience) {
        size_t want = predicted_stop(&full, tol, patience);
        assert_true(want > 0); /* the losses settle: the rule can fire */
        float *p = train(state, X, EPOCHS, tol, (double)patience, 1, &stopped);
        assert_int_equal(stopped.count, want);
        assert_int_equal(stopped.converged_reports, 1);
        assert_int_equal(stopped.converged_at, want);
        for (size_t e = 0; e < want; ++e)
            assert_true(stopped.loss[e] == full.loss[e]);
        epochs_seen exact;
        float *p_exact = train(state, X, (double)want, 0.0, 1, 1, &exact);
        assert_memory_equal(p, p_exact, (K * D + K) * sizeof *p);
        float *p_quiet =
            train(state, X, EPOCHS, tol, (double)patience, 0, &quiet);
        assert_memory_equal(p, p_quiet, (K * D + K) * sizeof *p);
        assert_int_equal(quiet.count, 0);
        fx_drop(state, p);
        fx_drop(state, p_exact);
        fx_drop(state, p_quiet);
    }
}

/* The first epoch has nothing to compare with: a tolerance every change
 * passes stops after patience + 1 epochs. */
static void first_epoch_does_not_count(void **state)
{
    float *X = fx_train_data(state, N, D, 13);
    epochs_seen s;
    train(state, X, EPOCHS, 1e300, 4, 1, &s);
    assert_int_equal(s.count, 5);
    assert_int_equal(s.converged_at, 5);
}

static void bounds(void **state)
{
    dfsae_train_config *c = fx_train_config(state);
    double lo, hi, v;
    assert_int_equal(
        dfsae_train_option_bounds(DFSAE_TRAIN_CONVERGE_TOLERANCE, &lo, &hi),
        DFSAE_OK);
    assert_true(lo == 0.0 && hi > 1e300);
    assert_int_equal(
        dfsae_train_option_bounds(DFSAE_TRAIN_CONVERGE_PATIENCE, &lo, NULL),
        DFSAE_OK);
    assert_true(lo == 1.0);
    const double bad_tol[] = {-1e-9, NAN, INFINITY};
    for (size_t i = 0; i < 3; ++i)
        assert_int_equal(dfsae_train_config_set(
                             c, DFSAE_TRAIN_CONVERGE_TOLERANCE, bad_tol[i]),
                         DFSAE_ERR_PARAM_OUT_OF_RANGE);
    assert_int_equal(
        dfsae_train_config_set(c, DFSAE_TRAIN_CONVERGE_PATIENCE, 0.0),
        DFSAE_ERR_PARAM_OUT_OF_RANGE);
    assert_int_equal(
        dfsae_train_config_set(c, DFSAE_TRAIN_CONVERGE_PATIENCE, 2.5),
        DFSAE_ERR_PARAM_OUT_OF_RANGE);
    assert_int_equal(
        dfsae_train_config_set(c, DFSAE_TRAIN_CONVERGE_TOLERANCE, 0.25),
        DFSAE_OK);
    assert_int_equal(
        dfsae_train_config_get(c, DFSAE_TRAIN_CONVERGE_TOLERANCE, &v),
        DFSAE_OK);
    assert_true(v == 0.25);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(off_by_default),
        FIXTURE_TEST(stops_where_the_rule_says),
        FIXTURE_TEST(first_epoch_does_not_count),
        FIXTURE_TEST(bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
