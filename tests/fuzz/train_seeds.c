/* Writes the seed corpus of the property fuzzer (tests/fuzz/fuzz_train.c):
 * checkpoints after a few steps under different options and optimizers,
 * each behind a control block choosing the data scale and the calls.
 *   fuzz_train_seeds DIR
 * The committed tests/fuzz/train/seed-* files are its output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfsae.h"

typedef struct seed {
    const char *name;
    int kind; /* -1: no optimizer state */
    size_t d, k;
    int steps;
    int option; /* a model option to set, or -1 */
    double value;
    unsigned char control[8];
} seed;

/* Name, optimizer (-1: none), D, K, steps, a model option (-1: none) and
 * its value, the control block (tests/fuzz/fuzz_train.c). */
/* clang-format off */
static const seed seeds[] = {
    {"adam-relu", DFSAE_ADAM, 4, 3, 3, -1, 0,
     {128, 15, 31, 3, 80, 1, 2, 3}},
    {"sgd-tanh-wr", DFSAE_SGD, 3, 4, 2, DFSAE_MODEL_LAMBDA_WR, 1,
     {128, 20, 31, 2, 96, 4, 5, 6}},
    {"adamw-softplus-1e30", DFSAE_ADAMW, 5, 2, 5, DFSAE_MODEL_ACTIVATION,
     DFSAE_ACT_SOFTPLUS, {228, 30, 31, 7, 80, 7, 8, 9}},
    {"plain-identity-2e36", -1, 3, 3, 0, DFSAE_MODEL_ACTIVATION,
     DFSAE_ACT_IDENTITY, {248, 9, 31, 4, 80, 1, 1, 1}},
    {"adam-softmax-big-lr", DFSAE_ADAM, 4, 4, 0, DFSAE_MODEL_ACTIVATION,
     DFSAE_ACT_SOFTMAX, {128, 12, 31, 5, 200, 2, 2, 2}},
    {"adam-sample-side", DFSAE_ADAM, 6, 2, 4, DFSAE_MODEL_GRAM_SIDE,
     DFSAE_GRAM_SAMPLE, {140, 40, 31, 96, 64, 3, 3, 3}},
};
/* clang-format on */

static int write_seed(const char *dir, const seed *s)
{
    dfsae_model *m = NULL;
    dfsae_optimizer *o = NULL;
    if (dfsae_model_create(s->d, s->k, 11, NULL, &m) != DFSAE_OK)
        return -1;
    if (s->option >= 0)
        dfsae_model_set_option(m, s->option, s->value);
    if (s->kind == DFSAE_SGD)
        dfsae_model_set_option(m, DFSAE_MODEL_ACTIVATION, DFSAE_ACT_TANH);
    if (s->kind >= 0 &&
        dfsae_optimizer_create(s->kind, dfsae_model_num_params(m), NULL, &o) !=
            DFSAE_OK)
        return -1;
    if (s->kind == DFSAE_SGD)
        dfsae_optimizer_set_option(o, DFSAE_OPT_MOMENTUM, 0.9);
    enum { rows = 16 };
    float X[rows * 8], g[64];
    for (size_t i = 0; i < rows * s->d; ++i)
        X[i] = (float)((i * 37) % 17) / 8.0f - 1.0f;
    for (int t = 0; t < s->steps; ++t)
        if (dfsae_model_grad(m, X, rows, g, NULL, NULL, 0) != DFSAE_OK ||
            dfsae_optimizer_step(o, m, g) != DFSAE_OK)
            return -1;
    size_t len = 0;
    dfsae_model_save_buffer(m, o, NULL, 0, &len);
    unsigned char *buf = malloc(8 + len);
    int rc = -1;
    if (buf != NULL &&
        dfsae_model_save_buffer(m, o, buf + 8, len, &len) == DFSAE_OK) {
        memcpy(buf, s->control, 8);
        char path[4096];
        snprintf(path, sizeof path, "%s/seed-%s", dir, s->name);
        FILE *f = fopen(path, "wb");
        if (f != NULL) {
            rc = fwrite(buf, 1, 8 + len, f) == 8 + len ? 0 : -1;
            rc |= fclose(f);
        }
    }
    free(buf);
    dfsae_optimizer_free(o);
    dfsae_model_free(m);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_train_seeds DIR\n");
        return 2;
    }
    int rc = 0;
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; ++i)
        if (write_seed(argv[1], &seeds[i]) != 0) {
            fprintf(stderr, "fuzz_train_seeds: %s failed\n", seeds[i].name);
            rc = 1;
        }
    return rc;
}
