/* Same-process A/B of dfsae_model_forward (see bench_ab.h). */
#include "bench_ab.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_common.h"

int bench_ab_open(bench_ab *ab, const char *lib_a, const char *lib_b)
{
    const char *paths[2] = {lib_a, lib_b};
    char err[4200];
    for (int v = 0; v < 2; ++v)
        if (bench_lib_open(&ab->lib[v], paths[v], err, sizeof err) != 0) {
            fprintf(stderr, "ab: %s\n", err);
            if (v == 1)
                bench_lib_close(&ab->lib[0]);
            return -1;
        }
    for (int v = 0; v < 2; ++v)
        printf("ABLIB %c %s %s\n", "ab"[v], ab -> lib[v].version_string,
               ab->lib[v].path);
    if (ab->lib[0].version != ab->lib[1].version)
        fprintf(stderr, "ab: note: the versions differ (%s, %s)\n",
                ab->lib[0].version_string, ab->lib[1].version_string);
    return 0;
}

void bench_ab_close(bench_ab *ab)
{
    bench_lib_close(&ab->lib[1]);
    bench_lib_close(&ab->lib[0]);
}

/* One side of the comparison: its library, model, outputs and times. */
typedef struct side {
    const bench_lib *lib;
    dfsae_model *m;
    float *A, *Z;
    double *us;
} side;

static int failed(const side *s, const char *call, int st)
{
    fprintf(stderr, "ab: %s: %s: %s\n", s->lib->path, call,
            s->lib->status_string(st));
    return 1;
}

/* Both models from A's seed and parameters, with activation `act`. */
static int make_models(side s[2], size_t d, size_t k, int act)
{
    int st;
    for (int v = 0; v < 2; ++v) {
        if ((st = s[v].lib->create(d, k, 7, NULL, &s[v].m)) != DFSAE_OK)
            return failed(&s[v], "dfsae_model_create", st);
        st = s[v].lib->set_option(s[v].m, DFSAE_MODEL_ACTIVATION, act);
        if (st != DFSAE_OK)
            return failed(&s[v], "dfsae_model_set_option", st);
    }
    const size_t np = s[0].lib->num_params(s[0].m);
    float *p = malloc(np * sizeof *p);
    if (p == NULL)
        return failed(&s[0], "parameter copy", DFSAE_ERR_NO_MEMORY);
    if ((st = s[0].lib->get_params(s[0].m, p, np)) != DFSAE_OK)
        failed(&s[0], "dfsae_model_get_params", st);
    else if ((st = s[1].lib->set_params(s[1].m, p, np)) != DFSAE_OK)
        failed(&s[1], "dfsae_model_set_params", st);
    free(p);
    return st != DFSAE_OK;
}

static int forward(const side *s, const float *X, size_t n)
{
    return s->lib->forward(s->m, X, n, s->A, s->Z, NULL);
}

static double max_abs_diff(const float *x, const float *y, size_t len)
{
    double m = 0.0;
    for (size_t i = 0; x != NULL && i < len; ++i)
        m = fmax(m, fabs((double)x[i] - (double)y[i]));
    return m;
}

/* Times `calls` alternated pairs; the first side of each pair flips. */
static int time_pairs(side s[2], const float *X, size_t n, size_t calls)
{
    for (size_t c = 0; c < calls; ++c)
        for (size_t q = 0; q < 2; ++q) {
            side *sv = &s[(c + q) & 1];
            const double t0 = bench_now();
            const int st = forward(sv, X, n);
            sv->us[c] = (bench_now() - t0) * 1e6;
            if (st != DFSAE_OK)
                return failed(sv, "dfsae_model_forward", st);
        }
    return 0;
}

/* Warm-up for a tenth of the budget; returns the pairs that fit the rest,
 * or 0 if a call failed. */
static size_t warm_up(side s[2], const float *X, size_t n, double budget)
{
    const double t0 = bench_now();
    size_t pairs = 0;
    while (bench_now() - t0 < budget * 0.1 || pairs < 3) {
        for (int v = 0; v < 2; ++v) {
            const int st = forward(&s[v], X, n);
            if (st != DFSAE_OK) {
                failed(&s[v], "dfsae_model_forward", st);
                return 0;
            }
        }
        ++pairs;
    }
    const double per_pair = (bench_now() - t0) / (double)pairs;
    const size_t calls = (size_t)(budget * 0.9 / per_pair);
    return calls < 50 ? 50 : calls > 20000 ? 20000 : calls;
}

static int measure(side s[2], size_t d, size_t k, size_t n, int act, int want_z,
                   double budget)
{
    float *X = malloc(n * d * sizeof *X);
    if (X == NULL)
        return failed(&s[0], "inputs", DFSAE_ERR_NO_MEMORY);
    bench_rng g;
    bench_rng_seed(&g, 3);
    bench_fill_normal(&g, X, n * d);
    const size_t calls = warm_up(s, X, n, budget);
    int rc = calls == 0;
    for (int v = 0; v < 2 && rc == 0; ++v)
        if ((s[v].us = malloc(calls * sizeof *s[v].us)) == NULL)
            rc = failed(&s[v], "timings", DFSAE_ERR_NO_MEMORY);
    if (rc == 0)
        rc = time_pairs(s, X, n, calls);
    free(X);
    if (rc != 0)
        return rc;
    double q[2][3];
    for (int v = 0; v < 2; ++v) {
        q[v][0] = bench_quantile(s[v].us, calls, 0.10);
        q[v][1] = bench_quantile(s[v].us, calls, 0.50);
        q[v][2] = bench_quantile(s[v].us, calls, 0.99);
    }
    const double diff = fmax(max_abs_diff(s[0].A, s[1].A, n * k),
                             max_abs_diff(s[0].Z, s[1].Z, n * k));
    printf("AB %zu %zu %zu %s %d %zu %.2f %.2f %.2f %.2f %.2f %.2f %.4f %.4f "
           "%.4f %.3g\n",
           d, k, n, dfsae_activation_name(act), want_z, calls, q[0][0], q[0][1],
           q[0][2], q[1][0], q[1][1], q[1][2], q[1][0] / q[0][0],
           q[1][1] / q[0][1], q[1][2] / q[0][2], diff);
    fflush(stdout);
    return 0;
}

int bench_ab_cell(const bench_ab *ab, size_t d, size_t k, size_t n, int act,
                  int want_z, double budget)
{
    side s[2] = {{&ab->lib[0], NULL, NULL, NULL, NULL},
                 {&ab->lib[1], NULL, NULL, NULL, NULL}};
    int rc = make_models(s, d, k, act);
    for (int v = 0; v < 2 && rc == 0; ++v) {
        s[v].A = malloc(n * k * sizeof *s[v].A);
        s[v].Z = want_z ? malloc(n * k * sizeof *s[v].Z) : NULL;
        if (s[v].A == NULL || (want_z && s[v].Z == NULL))
            rc = failed(&s[v], "outputs", DFSAE_ERR_NO_MEMORY);
    }
    if (rc == 0)
        rc = measure(s, d, k, n, act, want_z, budget);
    for (int v = 0; v < 2; ++v) {
        if (s[v].m != NULL)
            s[v].lib->free_model(s[v].m);
        free(s[v].A), free(s[v].Z), free(s[v].us);
    }
    return rc;
}
