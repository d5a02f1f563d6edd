/* A helper for the interop test and the fuzz corpus:
 *   io_tool export DIR   model.safetensors (D=7, K=5, with a per-feature
 *                        input transform), X.bin (n x D), A.bin =
 *                        dfsae's forward of X (float32, LE)
 *   io_tool check FILE XBIN ABIN ACT
 *                        loads FILE (written by Python), checks its
 *                        activation name and that its forward of XBIN
 *                        matches ABIN to 1e-5; prints its user metadata
 *                        as "meta KEY=VALUE" lines
 *   io_tool seeds DIR    writes the fuzzer's seed corpus
 * Exit status 0 on success. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfsae.h"

#define N_ROWS 11

static int write_bin(const char *dir, const char *name, const void *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    size_t put = fwrite(p, 1, n, f);
    return fclose(f) == 0 && put == n ? 0 : -1;
}

static float *read_bin(const char *path, size_t *n_floats)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    float *p = malloc((size_t)len + 4);
    size_t got = fread(p, 1, (size_t)len, f);
    fclose(f);
    *n_floats = got / 4;
    return p;
}

static int export_model(const char *dir)
{
    const size_t d = 7, k = 5;
    dfsae_model *m = NULL;
    if (dfsae_model_create(d, k, 31337, NULL, &m) != DFSAE_OK)
        return 1;
    float X[N_ROWS * 7], A[N_ROWS * 5];
    unsigned s = 1;
    for (size_t i = 0; i < N_ROWS * d; ++i) {
        s = s * 1103515245u + 12345u;
        X[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
    /* A per-feature input transform, which the forward applies. */
    float shift[7], scale[7];
    for (size_t j = 0; j < d; ++j) {
        shift[j] = 0.25f * (float)j - 0.5f;
        scale[j] = 1.0f + 0.5f * (float)j;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    int rc = dfsae_model_set_transform(m, shift, scale, d) != DFSAE_OK ||
             dfsae_model_save(m, NULL, path) != DFSAE_OK ||
             dfsae_model_forward(m, X, N_ROWS, A, NULL, NULL) != DFSAE_OK ||
             write_bin(dir, "X.bin", X, sizeof X) != 0 ||
             write_bin(dir, "A.bin", A, sizeof A) != 0;
    if (rc)
        fprintf(stderr, "export: %s\n", dfsae_model_last_error(m));
    dfsae_model_free(m);
    return rc;
}

static int check_model(const char *file, const char *xbin, const char *abin,
                       const char *act)
{
    char err[DFSAE_ERROR_MESSAGE_SIZE];
    dfsae_model *m = NULL;
    if (dfsae_model_load(file, NULL, &m, NULL, err, sizeof err) != DFSAE_OK) {
        fprintf(stderr, "check: %s: %s\n", file, err);
        return 1;
    }
    double a;
    dfsae_model_get_option(m, DFSAE_MODEL_ACTIVATION, &a);
    if (strcmp(dfsae_activation_name((int)a), act) != 0) {
        fprintf(stderr, "check: activation %s, expected %s\n",
                dfsae_activation_name((int)a), act);
        dfsae_model_free(m);
        return 1;
    }
    size_t nx, na;
    float *X = read_bin(xbin, &nx), *A = read_bin(abin, &na);
    size_t d = dfsae_model_input_dim(m), k = dfsae_model_num_components(m);
    int rc = 1;
    if (X != NULL && A != NULL && nx % d == 0 && na == nx / d * k) {
        size_t n = nx / d;
        float *mine = malloc(na * sizeof *mine);
        if (dfsae_model_forward(m, X, n, mine, NULL, NULL) == DFSAE_OK) {
            double worst = 0.0;
            for (size_t i = 0; i < na; ++i)
                worst = fmax(worst, fabs((double)mine[i] - (double)A[i]));
            printf("check: %s: D=%zu K=%zu n=%zu max |diff| = %.3g\n", file, d,
                   k, n, worst);
            const char *key;
            for (size_t i = 0; (key = dfsae_model_meta_key(m, i)) != NULL; ++i)
                printf("meta %s=%s\n", key, dfsae_model_get_meta(m, key));
            rc = worst <= 1e-5 ? 0 : 1;
        }
        free(mine);
    } else {
        fprintf(stderr, "check: X/A sizes do not fit D=%zu K=%zu\n", d, k);
    }
    free(X);
    free(A);
    dfsae_model_free(m);
    return rc;
}

/* Seeds: a model, checkpoints of each optimizer kind, non-default
 * options. D = 3, K = 2, as the fuzz target's handles. */
static int seeds(const char *dir)
{
    int rc = 0;
    for (int kind = -1; kind < DFSAE_OPTIMIZER_KIND_COUNT; ++kind) {
        dfsae_model *m = NULL;
        dfsae_optimizer *o = NULL;
        dfsae_model_create(3, 2, 5, NULL, &m);
        if (kind >= 0) {
            dfsae_optimizer_create(kind, 8, NULL, &o);
            dfsae_model_set_option(m, DFSAE_MODEL_ACTIVATION, kind + 1);
            dfsae_model_set_option(m, DFSAE_MODEL_LSE_REDUCTION, kind % 2);
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.safetensors", dir,
                 kind < 0 ? "model" : dfsae_optimizer_kind_name(kind));
        rc |= dfsae_model_save(m, o, path) != DFSAE_OK;
        dfsae_optimizer_free(o);
        dfsae_model_free(m);
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "export") == 0)
        return export_model(argv[2]);
    if (argc == 6 && strcmp(argv[1], "check") == 0)
        return check_model(argv[2], argv[3], argv[4], argv[5]);
    if (argc == 3 && strcmp(argv[1], "seeds") == 0)
        return seeds(argv[2]);
    fprintf(stderr, "usage: io_tool export DIR | check FILE X A ACT | "
                    "seeds DIR\n");
    return 2;
}
