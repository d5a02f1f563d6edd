/* Property fuzzer (issue 14 item 1): any file a load accepts, with any
 * data, must leave the parameters finite through optimizer steps,
 * training, evaluation and forward, or the call must return an error;
 * outputs of calls that return DFSAE_OK are finite and in range; a step
 * that fails changes nothing; and what a save writes loads again.
 *
 * Input: an 8-byte control block, then the model file.
 *   byte 0  data scale: X is uniform(-1, 1) times 2^(byte0 - 128)
 *   byte 1  rows of X, 1 + byte1 % 48
 *   byte 2  which calls run (bits: steps, train, evaluate, forward, save)
 *   byte 3  steps, 1 + byte3 % 8; train's batch size 1 + byte3 / 32
 *   byte 4  learning rate 10^(byte4 / 16 - 8), when it is in bounds
 *   bytes 5-7  seed of X
 * A violated property traps (libFuzzer saves the input). Built by
 * tests/io.cmake with DFSAE_FUZZ=ON; run by .ci/steps/30-io-fuzz.sh;
 * tests/fuzz/train/ (the seeds and any regression inputs) is replayed by
 * test_fuzz_train_corpus in every build. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dfsae.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CONTROL    8
#define MAX_PARAMS 4096 /* keeps one input's work small */
#define MAX_ROWS   48

#define require(cond)                                                          \
    do {                                                                       \
        if (!(cond))                                                           \
            __builtin_trap();                                                  \
    } while (0)

typedef struct run {
    dfsae_model *m;
    dfsae_optimizer *o;
    size_t d, k, np, n;
    float *X, *p, *before, *g, *A, *Z, *R;
} run;

static int all_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

/* The parameters are finite; with `same`, also bit-identical to before. */
static void check_params(run *r, int same)
{
    require(dfsae_model_get_params(r->m, r->p, r->np) == DFSAE_OK);
    require(all_finite(r->p, r->np));
    if (same)
        require(memcmp(r->p, r->before, r->np * sizeof *r->p) == 0);
}

static void snapshot(run *r)
{
    require(dfsae_model_get_params(r->m, r->before, r->np) == DFSAE_OK);
}

static void steps(run *r, int count)
{
    for (int t = 0; t < count; ++t) {
        snapshot(r);
        uint64_t before = dfsae_optimizer_step_count(r->o);
        int st = dfsae_model_grad(r->m, r->X, r->n, r->g, NULL, NULL, 0);
        if (st == DFSAE_OK) {
            require(all_finite(r->g, r->np));
            st = dfsae_optimizer_step(r->o, r->m, r->g);
            require(dfsae_optimizer_step_count(r->o) ==
                    before + (st == DFSAE_OK));
        }
        check_params(r, st != DFSAE_OK);
        if (st != DFSAE_OK)
            return;
    }
}

static void train(run *r, size_t batch)
{
    dfsae_train_config *c = NULL;
    if (dfsae_train_config_create(NULL, &c) != DFSAE_OK)
        return;
    dfsae_train_config_set(c, DFSAE_TRAIN_BATCH_SIZE, (double)batch);
    (void)dfsae_model_train(r->m, r->o, r->X, r->n, c, NULL, NULL);
    check_params(r, 0);
    dfsae_train_config_free(c);
}

static void evaluate(run *r)
{
    double v[DFSAE_METRIC_COUNT];
    snapshot(r);
    int st =
        dfsae_model_evaluate(r->m, r->X, r->n, NULL, v, DFSAE_METRIC_COUNT);
    check_params(r, 1);
    if (st != DFSAE_OK)
        return;
    const double k = (double)r->k;
    for (int i = 0; i < DFSAE_METRIC_COUNT; ++i)
        require(isfinite(v[i]));
    require(v[DFSAE_METRIC_DEAD_UNITS] >= 0 && v[DFSAE_METRIC_DEAD_UNITS] <= k);
    require(v[DFSAE_METRIC_L0] >= 0 && v[DFSAE_METRIC_L0] <= k);
    require(v[DFSAE_METRIC_REDUNDANCY] >= 0 &&
            v[DFSAE_METRIC_REDUNDANCY] <= k * (k - 1));
    require(v[DFSAE_METRIC_MAX_RESP] > 0 && v[DFSAE_METRIC_MAX_RESP] <= 1);
}

static void forward(run *r)
{
    snapshot(r);
    int st = dfsae_model_forward(r->m, r->X, r->n, r->A, r->Z, r->R);
    check_params(r, 1);
    if (st == DFSAE_OK) {
        const size_t nk = r->n * r->k;
        require(all_finite(r->A, nk) && all_finite(r->Z, nk) &&
                all_finite(r->R, nk));
        for (size_t i = 0; i < nk; ++i)
            require(r->R[i] >= 0.0f && r->R[i] <= 1.0f);
    }
    if (dfsae_model_forward(r->m, r->X, r->n, r->A, NULL, NULL) == DFSAE_OK)
        require(all_finite(r->A, r->n * r->k));
}

/* What a save writes, a load accepts: the same parameters and step. */
static void save_and_reload(run *r)
{
    size_t len = 0;
    if (dfsae_model_save_buffer(r->m, r->o, NULL, 0, &len) != DFSAE_OK)
        return;
    unsigned char *buf = malloc(len);
    if (buf == NULL)
        return;
    require(dfsae_model_save_buffer(r->m, r->o, buf, len, &len) == DFSAE_OK);
    dfsae_model *m2 = NULL;
    dfsae_optimizer *o2 = NULL;
    require(dfsae_model_load_buffer(buf, len, NULL, &m2, &o2, NULL, 0) ==
            DFSAE_OK);
    require(dfsae_optimizer_step_count(o2) == dfsae_optimizer_step_count(r->o));
    require(dfsae_model_get_params(m2, r->before, r->np) == DFSAE_OK);
    require(dfsae_model_get_params(r->m, r->p, r->np) == DFSAE_OK);
    require(memcmp(r->p, r->before, r->np * sizeof *r->p) == 0);
    dfsae_optimizer_free(o2);
    dfsae_model_free(m2);
    free(buf);
}

static void make_data(run *r, const uint8_t *c)
{
    const float scale = ldexpf(1.0f, c[0] - 128);
    uint64_t s = (uint64_t)c[5] | (uint64_t)c[6] << 8 | (uint64_t)c[7] << 16;
    s = s * 0x9e3779b97f4a7c15u + 1;
    for (size_t i = 0; i < r->n * r->d; ++i) {
        s = s * 6364136223846793005u + 1442695040888963407u;
        float u = (float)(s >> 40) / (float)(1u << 24); /* [0, 1) */
        r->X[i] = (2.0f * u - 1.0f) * scale;
    }
}

static int alloc_buffers(run *r)
{
    float **bufs[] = {&r->p, &r->before, &r->g};
    for (size_t i = 0; i < 3; ++i)
        if ((*bufs[i] = malloc(r->np * sizeof(float))) == NULL)
            return 0;
    float **rows[] = {&r->A, &r->Z, &r->R};
    for (size_t i = 0; i < 3; ++i)
        if ((*rows[i] = malloc(r->n * r->k * sizeof(float))) == NULL)
            return 0;
    return (r->X = malloc(r->n * r->d * sizeof(float))) != NULL;
}

static void free_run(run *r)
{
    void *bufs[] = {r->X, r->p, r->before, r->g, r->A, r->Z, r->R};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; ++i)
        free(bufs[i]);
    dfsae_optimizer_free(r->o);
    dfsae_model_free(r->m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < CONTROL)
        return 0;
    const uint8_t *c = data;
    run r;
    memset(&r, 0, sizeof r);
    if (dfsae_model_load_buffer(data + CONTROL, size - CONTROL, NULL, &r.m,
                                &r.o, NULL, 0) != DFSAE_OK)
        return 0;
    r.d = dfsae_model_input_dim(r.m);
    r.k = dfsae_model_num_components(r.m);
    r.np = dfsae_model_num_params(r.m);
    r.n = 1 + c[1] % MAX_ROWS;
    if (r.np > MAX_PARAMS || !alloc_buffers(&r) ||
        (r.o == NULL &&
         dfsae_optimizer_create(DFSAE_ADAM, r.np, NULL, &r.o) != DFSAE_OK)) {
        free_run(&r);
        return 0;
    }
    check_params(&r, 0); /* what a load accepts is finite */
    double lo, hi, lr = pow(10.0, c[4] / 16.0 - 8.0);
    dfsae_optimizer_option_bounds(dfsae_optimizer_get_kind(r.o), DFSAE_OPT_LR,
                                  &lo, &hi);
    if (lr >= lo && lr <= hi)
        require(dfsae_optimizer_set_option(r.o, DFSAE_OPT_LR, lr) == DFSAE_OK);
    make_data(&r, c);
    if (c[2] & 1)
        steps(&r, 1 + c[3] % 8);
    if (c[2] & 2)
        train(&r, 1 + (size_t)c[3] / 32);
    if (c[2] & 4)
        evaluate(&r);
    if (c[2] & 8)
        forward(&r);
    if (c[2] & 16)
        save_and_reload(&r);
    free_run(&r);
    return 0;
}
