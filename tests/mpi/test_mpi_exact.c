/* Distributed training is exact: N ranks, data- or dictionary-parallel,
 * give the loss terms and gradient of one process on the same global batch
 * (relative 1e-5), 20 training steps give its parameters within the
 * rounding of the reductions, and a rank that fails makes every rank
 * return an error. Run under mpiexec with N = 1, 2, 3 (tests/mpi.cmake);
 * rank 0 prints the measured maxima. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mpi_fixture.h"

#define TOL 1e-5

typedef struct shape {
    size_t b, d, k;
    int empty_first; /* data: rank 0 holds no row of the batch */
} shape;

/* K < B, K > B (the K x K side is then the dearer one), an empty rank. */
static const shape shapes[] = {
    {23, 12, 10, 0}, {8, 12, 13, 0}, {23, 12, 10, 1}};

typedef struct reference {
    dfsae_model *m;
    float *X, *grad;
    double terms[DFSAE_TERM_COUNT];
} reference;

static void reference_new(reference *r, const shape *s, uint64_t seed)
{
    r->m = fx_model(s->d, s->k, seed);
    r->X = fx_data(s->b, s->d, seed + 7);
    r->grad = malloc(dfsae_model_num_params(r->m) * sizeof *r->grad);
    assert_non_null(r->grad);
    assert_int_equal(dfsae_model_grad(r->m, r->X, s->b, r->grad, NULL, r->terms,
                                      DFSAE_TERM_COUNT),
                     DFSAE_OK);
}

static void reference_free(reference *r)
{
    dfsae_model_free(r->m);
    free(r->X);
    free(r->grad);
}

static double terms_rel(const double *a, const double *b)
{
    double worst = 0.0;
    for (int t = 0; t < DFSAE_TERM_COUNT; ++t)
        worst = fmax(worst, fabs(a[t] - b[t]) / fmax(fabs(b[t]), 1e-300));
    return worst;
}

static void data_rows(const shape *s, size_t *lo, size_t *hi)
{
    if (!s->empty_first || fx_size == 1) {
        fx_part(s->b, fx_rank, fx_size, lo, hi);
        return;
    }
    if (fx_rank == 0) {
        *lo = *hi = 0;
        return;
    }
    fx_part(s->b, fx_rank - 1, fx_size - 1, lo, hi);
}

static void data_loss_grad_exact(void **state)
{
    (void)state;
    double worst_terms = 0.0, worst_grad = 0.0, worst_loss = 0.0;
    for (size_t c = 0; c < sizeof shapes / sizeof shapes[0]; ++c) {
        const shape *s = &shapes[c];
        reference ref;
        reference_new(&ref, s, 11 + c);
        dfsae_model *m = fx_model(s->d, s->k, 11 + c);
        assert_int_equal(dfsae_model_set_comm(m, &fx_mpi.comm, DFSAE_DIST_DATA),
                         DFSAE_OK);
        size_t lo, hi;
        data_rows(s, &lo, &hi);
        const size_t np = dfsae_model_num_params(m);
        float *g = malloc(np * sizeof *g);
        assert_non_null(g);
        double terms[DFSAE_TERM_COUNT], loss_terms[DFSAE_TERM_COUNT];
        assert_int_equal(dfsae_model_grad(m, ref.X + lo * s->d, hi - lo, g,
                                          NULL, terms, DFSAE_TERM_COUNT),
                         DFSAE_OK);
        assert_int_equal(dfsae_model_loss(m, ref.X + lo * s->d, hi - lo, NULL,
                                          loss_terms, DFSAE_TERM_COUNT),
                         DFSAE_OK);
        worst_terms = fmax(worst_terms, terms_rel(terms, ref.terms));
        worst_loss = fmax(worst_loss, terms_rel(loss_terms, ref.terms));
        worst_grad = fmax(worst_grad, fx_rel(g, ref.grad, np));
        free(g);
        dfsae_model_free(m);
        reference_free(&ref);
    }
    worst_terms = fx_max(fmax(worst_terms, worst_loss));
    worst_grad = fx_max(worst_grad);
    if (fx_rank == 0)
        printf("mpi N=%d data: loss terms max rel diff %.3g, gradient max "
               "rel diff %.3g\n",
               fx_size, worst_terms, worst_grad);
    assert_true(worst_terms <= TOL);
    assert_true(worst_grad <= TOL);
}

static void dict_loss_grad_exact(void **state)
{
    (void)state;
    double worst_terms = 0.0, worst_grad = 0.0;
    for (size_t c = 0; c < 2; ++c) {
        const shape *s = &shapes[c];
        reference ref;
        reference_new(&ref, s, 21 + c);
        size_t k0, k1;
        fx_part(s->k, fx_rank, fx_size, &k0, &k1);
        dfsae_model *m = fx_shard(ref.m, k0, k1);
        assert_int_equal(
            dfsae_model_set_comm(m, &fx_mpi.comm, DFSAE_DIST_DICTIONARY),
            DFSAE_OK);
        const size_t np = dfsae_model_num_params(m);
        float *g = malloc(np * sizeof *g), *want = malloc(np * sizeof *want);
        assert_non_null(g);
        assert_non_null(want);
        double terms[DFSAE_TERM_COUNT];
        assert_int_equal(
            dfsae_model_grad(m, ref.X, s->b, g, NULL, terms, DFSAE_TERM_COUNT),
            DFSAE_OK);
        fx_slice(ref.grad, s->k, s->d, k0, k1, want);
        worst_terms = fmax(worst_terms, terms_rel(terms, ref.terms));
        worst_grad = fmax(worst_grad, fx_rel(g, want, np));
        free(g);
        free(want);
        dfsae_model_free(m);
        reference_free(&ref);
    }
    worst_terms = fx_max(worst_terms);
    worst_grad = fx_max(worst_grad);
    if (fx_rank == 0)
        printf("mpi N=%d dictionary: loss terms max rel diff %.3g, gradient "
               "max rel diff %.3g\n",
               fx_size, worst_terms, worst_grad);
    assert_true(worst_terms <= TOL);
    assert_true(worst_grad <= TOL);
}

enum {
    TRAIN_N = 40,
    TRAIN_D = 12,
    TRAIN_K = 10,
    TRAIN_BATCH = 8,
    TRAIN_EPOCHS = 4
};

static dfsae_train_config *train_config(void)
{
    dfsae_train_config *cfg = NULL;
    assert_int_equal(dfsae_train_config_create(NULL, &cfg), DFSAE_OK);
    assert_int_equal(
        dfsae_train_config_set(cfg, DFSAE_TRAIN_BATCH_SIZE, TRAIN_BATCH),
        DFSAE_OK);
    assert_int_equal(
        dfsae_train_config_set(cfg, DFSAE_TRAIN_EPOCHS, TRAIN_EPOCHS),
        DFSAE_OK);
    return cfg;
}

/* Trains m (20 steps, Adam) on n rows; returns its parameters. */
static float *train(dfsae_model *m, const float *X, size_t n)
{
    dfsae_optimizer *opt = NULL;
    const size_t np = dfsae_model_num_params(m);
    assert_int_equal(dfsae_optimizer_create(DFSAE_ADAM, np, NULL, &opt),
                     DFSAE_OK);
    assert_int_equal(dfsae_optimizer_set_option(opt, DFSAE_OPT_LR, 1e-2),
                     DFSAE_OK);
    dfsae_train_config *cfg = train_config();
    /* The shuffle seed, which every rank must share, is the model's. */
    assert_int_equal(dfsae_model_set_run_state(m, 0, 0, 5), DFSAE_OK);
    assert_int_equal(dfsae_model_train(m, opt, X, n, cfg, NULL, NULL),
                     DFSAE_OK);
    assert_int_equal(dfsae_optimizer_step_count(opt), 20);
    float *p = malloc(np * sizeof *p);
    assert_non_null(p);
    assert_int_equal(dfsae_model_get_params(m, p, np), DFSAE_OK);
    dfsae_train_config_free(cfg);
    dfsae_optimizer_free(opt);
    return p;
}

static void data_train_20_steps(void **state)
{
    (void)state;
    float *X = fx_data(TRAIN_N, TRAIN_D, 31);
    dfsae_model *ref = fx_model(TRAIN_D, TRAIN_K, 32);
    float *want = train(ref, X, TRAIN_N);
    dfsae_model *m = fx_model(TRAIN_D, TRAIN_K, 32);
    assert_int_equal(dfsae_model_set_comm(m, &fx_mpi.comm, DFSAE_DIST_DATA),
                     DFSAE_OK);
    size_t lo, hi;
    fx_part(TRAIN_N, fx_rank, fx_size, &lo, &hi);
    float *got = train(m, X + lo * TRAIN_D, hi - lo);
    const size_t np = dfsae_model_num_params(m);
    double rel = fx_max(fx_rel(got, want, np));
    /* The replicas: every rank's parameters bit-identical to rank 0's. */
    float *zero = malloc(np * sizeof *zero);
    assert_non_null(zero);
    memcpy(zero, got, np * sizeof *zero);
    MPI_Bcast(zero, (int)np, MPI_FLOAT, 0, MPI_COMM_WORLD);
    double differ = fx_max(memcmp(zero, got, np * sizeof *zero) != 0);
    if (fx_rank == 0)
        printf("mpi N=%d data: 20 Adam steps, parameters max rel diff %.3g "
               "vs one process; replicas %s\n",
               fx_size, rel, differ == 0.0 ? "bit-identical" : "DIFFER");
    assert_true(rel <= 1e-4);
    assert_true(differ == 0.0);
    free(zero);
    free(got);
    free(want);
    dfsae_model_free(m);
    dfsae_model_free(ref);
    free(X);
}

static void dict_train_20_steps(void **state)
{
    (void)state;
    float *X = fx_data(TRAIN_N, TRAIN_D, 41);
    dfsae_model *ref = fx_model(TRAIN_D, TRAIN_K, 42);
    size_t k0, k1;
    fx_part(TRAIN_K, fx_rank, fx_size, &k0, &k1);
    dfsae_model *m = fx_shard(ref, k0, k1);
    float *full = train(ref, X, TRAIN_N);
    assert_int_equal(
        dfsae_model_set_comm(m, &fx_mpi.comm, DFSAE_DIST_DICTIONARY), DFSAE_OK);
    float *got = train(m, X, TRAIN_N);
    const size_t np = dfsae_model_num_params(m);
    float *want = malloc(np * sizeof *want);
    assert_non_null(want);
    fx_slice(full, TRAIN_K, TRAIN_D, k0, k1, want);
    double rel = fx_max(fx_rel(got, want, np));
    if (fx_rank == 0)
        printf("mpi N=%d dictionary: 20 Adam steps, parameters max rel diff "
               "%.3g vs one process\n",
               fx_size, rel);
    assert_true(rel <= 1e-4);
    free(want);
    free(got);
    free(full);
    dfsae_model_free(m);
    dfsae_model_free(ref);
    free(X);
}

/* The last rank's input holds a NaN: every rank gets an error, and no
 * model changes. */
static void failing_rank_fails_all(void **state)
{
    (void)state;
    const shape *s = &shapes[0];
    float *X = fx_data(s->b, s->d, 51);
    if (fx_rank == fx_size - 1)
        X[s->b * s->d - 1] = NAN;
    for (int mode = DFSAE_DIST_DATA; mode <= DFSAE_DIST_DICTIONARY; ++mode) {
        dfsae_model *m = fx_model(s->d, s->k, 52);
        assert_int_equal(dfsae_model_set_comm(m, &fx_mpi.comm, mode), DFSAE_OK);
        const size_t np = dfsae_model_num_params(m);
        float *before = malloc(np * sizeof *before),
              *after = malloc(np * sizeof *after);
        assert_non_null(before);
        assert_non_null(after);
        assert_int_equal(dfsae_model_get_params(m, before, np), DFSAE_OK);
        size_t lo = 0, hi = s->b;
        if (mode == DFSAE_DIST_DATA)
            fx_part(s->b, fx_rank, fx_size, &lo, &hi);
        if (fx_rank == fx_size - 1 && mode == DFSAE_DIST_DATA)
            hi = s->b; /* the NaN row is this rank's */
        const float *Xr = X + lo * s->d;
        dfsae_optimizer *opt = NULL;
        assert_int_equal(dfsae_optimizer_create(DFSAE_ADAM, np, NULL, &opt),
                         DFSAE_OK);
        int st_grad = dfsae_train_step(m, opt, Xr, hi - lo, NULL, NULL, 0);
        int st_loss = dfsae_model_loss(m, Xr, hi - lo, NULL, NULL, 0);
        int st_train = dfsae_model_train(m, opt, Xr, hi - lo, NULL, NULL, NULL);
        assert_int_equal(dfsae_model_get_params(m, after, np), DFSAE_OK);
        double ok = fx_max(st_grad == DFSAE_OK || st_loss == DFSAE_OK ||
                           st_train == DFSAE_OK);
        double changed = fx_max(memcmp(before, after, np * sizeof *after) != 0);
        if (fx_rank == 0)
            printf("mpi N=%d %s: a NaN on rank %d: grad %d, loss %d, train %d "
                   "(%s)\n",
                   fx_size, mode == DFSAE_DIST_DATA ? "data" : "dictionary",
                   fx_size - 1, st_grad, st_loss, st_train,
                   dfsae_model_last_error(m));
        assert_true(ok == 0.0);
        assert_true(changed == 0.0);
        assert_int_equal(dfsae_optimizer_step_count(opt), 0);
        dfsae_optimizer_free(opt);
        free(before);
        free(after);
        dfsae_model_free(m);
    }
    free(X);
}

/* A step that overflows on the last dictionary shard only (its learning
 * rate is huge) changes no shard: the ranks agree before committing. */
static void overflowing_shard_steps_none(void **state)
{
    (void)state;
    const shape *s = &shapes[0];
    float *X = fx_data(s->b, s->d, 71);
    dfsae_model *full = fx_model(s->d, s->k, 72);
    size_t k0, k1;
    fx_part(s->k, fx_rank, fx_size, &k0, &k1);
    dfsae_model *m = fx_shard(full, k0, k1);
    assert_int_equal(
        dfsae_model_set_comm(m, &fx_mpi.comm, DFSAE_DIST_DICTIONARY), DFSAE_OK);
    const size_t np = dfsae_model_num_params(m);
    dfsae_optimizer *opt = NULL;
    assert_int_equal(dfsae_optimizer_create(DFSAE_SGD, np, NULL, &opt),
                     DFSAE_OK);
    if (fx_rank == fx_size - 1)
        assert_int_equal(dfsae_optimizer_set_option(opt, DFSAE_OPT_LR, 1e38),
                         DFSAE_OK);
    float *before = malloc(np * sizeof *before);
    float *after = malloc(np * sizeof *after);
    assert_non_null(before);
    assert_non_null(after);
    assert_int_equal(dfsae_model_get_params(m, before, np), DFSAE_OK);
    double loss;
    int st = dfsae_train_step(m, opt, X, s->b, &loss, NULL, 0);
    assert_int_equal(dfsae_model_get_params(m, after, np), DFSAE_OK);
    double ok = fx_max(st == DFSAE_OK);
    double changed = fx_max(memcmp(before, after, np * sizeof *after) != 0);
    double stepped = fx_max((double)dfsae_optimizer_step_count(opt));
    if (fx_rank == 0)
        printf("mpi N=%d dictionary: an overflowing step on rank %d: status "
               "%d (%s); shards changed: %s\n",
               fx_size, fx_size - 1, st, dfsae_model_last_error(m),
               changed == 0.0 ? "none" : "SOME");
    assert_true(ok == 0.0);
    assert_true(changed == 0.0);
    assert_true(stepped == 0.0);
    free(before);
    free(after);
    dfsae_optimizer_free(opt);
    dfsae_model_free(m);
    dfsae_model_free(full);
    free(X);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(data_loss_grad_exact),
        cmocka_unit_test(dict_loss_grad_exact),
        cmocka_unit_test(data_train_20_steps),
        cmocka_unit_test(dict_train_20_steps),
        cmocka_unit_test(failing_rank_fails_all),
        cmocka_unit_test(overflowing_shard_steps_none),
    };
    return fx_main(argc, argv, tests, sizeof tests / sizeof tests[0],
                   "mpi_exact");
}
