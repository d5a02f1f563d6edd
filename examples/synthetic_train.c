/*
 * Train a decoder-free sparse autoencoder on synthetic clustered data with
 * Adam and print the loss terms epoch by epoch, then the health of the
 * learned code (dead units, L0, redundancy) before and after training.
 *
 *   synthetic_train [epochs]        (default 30)
 *
 * Exits non-zero if the objective did not fall or a value is not finite,
 * so the same program doubles as a smoke test.
 */
#include <dfsae.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The tests' seeded generator, so every run sees the same data. */
#include "splitmix64.h"

enum { N_SAMPLES = 2048, DIM = 20, COMPONENTS = 16, CLUSTERS = 8, BATCH = 64 };

static double uniform01(uint64_t *s)
{
    return (double)(splitmix64_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

static double normal(uint64_t *s)
{
    double u = uniform01(s), v = uniform01(s);
    return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

/* Points scattered around CLUSTERS random centres. */
static void make_data(float *X, uint64_t *rng)
{
    double centres[CLUSTERS][DIM];
    for (int c = 0; c < CLUSTERS; c++)
        for (int d = 0; d < DIM; d++)
            centres[c][d] = 2.0 * normal(rng);
    for (size_t i = 0; i < N_SAMPLES; i++) {
        size_t c = (size_t)(splitmix64_next(rng) % CLUSTERS);
        for (size_t d = 0; d < DIM; d++)
            X[i * DIM + d] = (float)(centres[c][d] + 0.3 * normal(rng));
    }
}

static int check(int status, const char *what, const dfsae_model *m)
{
    if (status != DFSAE_OK)
        fprintf(stderr, "%s: %s (%s)\n", what, dfsae_status_string(status),
                m ? dfsae_model_last_error(m) : "");
    return status != DFSAE_OK;
}

/* Dead units, L0 and redundancy (the metrics of docs/training.md) over the
 * whole set. */
static int report_code(dfsae_model *m, const float *X, float *A,
                       const char *when)
{
    double terms[DFSAE_TERM_COUNT];
    if (check(dfsae_model_forward(m, X, N_SAMPLES, A, NULL, NULL), "forward",
              m) ||
        check(dfsae_model_loss(m, X, N_SAMPLES, NULL, terms, DFSAE_TERM_COUNT),
              "loss", m))
        return 1;
    int dead = 0;
    double active = 0.0;
    for (size_t k = 0; k < COMPONENTS; k++) {
        double mean = 0.0, ss = 0.0;
        for (size_t i = 0; i < N_SAMPLES; i++)
            mean += A[i * COMPONENTS + k];
        mean /= N_SAMPLES;
        for (size_t i = 0; i < N_SAMPLES; i++) {
            double a = A[i * COMPONENTS + k];
            ss += (a - mean) * (a - mean);
            active += fabs(a) > 0.01;
        }
        dead += ss / (N_SAMPLES - 1) < 0.01;
    }
    printf("%-6s dead units %d/%d, L0 %.2f, redundancy (L_tc) %.3f\n", when,
           dead, COMPONENTS, active / N_SAMPLES, terms[DFSAE_TERM_TC]);
    return !isfinite(terms[DFSAE_TERM_TC]);
}

int main(int argc, char **argv)
{
    int epochs = argc > 1 ? atoi(argv[1]) : 30;
    if (epochs < 1) {
        fprintf(stderr, "usage: %s [epochs >= 1]\n", argv[0]);
        return 2;
    }
    printf("dfsae %s: %d samples, %d -> %d, %d clusters, Adam, batch %d\n",
           dfsae_version_string(), N_SAMPLES, DIM, COMPONENTS, CLUSTERS, BATCH);

    uint64_t rng = 42;
    float *X = malloc(sizeof(float) * N_SAMPLES * DIM);
    float *batch = malloc(sizeof(float) * BATCH * DIM);
    float *A = malloc(sizeof(float) * N_SAMPLES * COMPONENTS);
    size_t *order = malloc(sizeof(size_t) * N_SAMPLES);
    dfsae_model *m = NULL;
    dfsae_optimizer *opt = NULL;
    int fail = !X || !batch || !A || !order;
    if (!fail) {
        make_data(X, &rng);
        for (size_t i = 0; i < N_SAMPLES; i++)
            order[i] = i;
        fail = check(dfsae_model_create(DIM, COMPONENTS, 1, NULL, &m), "create",
                     NULL) ||
               check(dfsae_optimizer_create(
                         DFSAE_ADAM, dfsae_model_num_params(m), NULL, &opt),
                     "optimizer", NULL) ||
               check(dfsae_optimizer_set_option(opt, DFSAE_OPT_LR, 5e-3), "lr",
                     NULL) ||
               report_code(m, X, A, "before");
    }

    double first = 0.0, last = 0.0;
    if (!fail)
        printf("epoch %10s %10s %10s %10s\n", "total", "lse", "var", "tc");
    for (int e = 1; e <= epochs && !fail; e++) {
        /* Shuffle, then one Adam step per full batch. */
        for (size_t i = N_SAMPLES - 1; i > 0; i--) {
            size_t j = (size_t)(splitmix64_next(&rng) % (i + 1)), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        double sum = 0.0, sum_terms[DFSAE_TERM_COUNT] = {0};
        size_t steps = 0;
        for (size_t s = 0; s + BATCH <= N_SAMPLES && !fail; s += BATCH) {
            for (size_t i = 0; i < BATCH; i++)
                for (size_t d = 0; d < DIM; d++)
                    batch[i * DIM + d] = X[order[s + i] * DIM + d];
            double total, terms[DFSAE_TERM_COUNT];
            fail = check(dfsae_train_step(m, opt, batch, BATCH, &total, terms,
                                          DFSAE_TERM_COUNT),
                         "train_step", m);
            sum += total;
            for (int t = 0; t < DFSAE_TERM_COUNT; t++)
                sum_terms[t] += terms[t];
            steps++;
        }
        if (fail)
            break;
        last = sum / (double)steps;
        if (e == 1)
            first = last;
        printf("%5d %10.3f %10.3f %10.3f %10.3f\n", e, last,
               sum_terms[DFSAE_TERM_LSE] / (double)steps,
               sum_terms[DFSAE_TERM_VAR] / (double)steps,
               sum_terms[DFSAE_TERM_TC] / (double)steps);
        fail = !isfinite(last);
    }
    if (!fail)
        fail = report_code(m, X, A, "after");
    if (!fail && epochs > 1 && !(last < first)) {
        fprintf(stderr, "the objective did not fall: %g -> %g\n", first, last);
        fail = 1;
    }

    dfsae_optimizer_free(opt);
    dfsae_model_free(m);
    free(order);
    free(A);
    free(batch);
    free(X);
    return fail ? 1 : 0;
}
