/* dfsae_bench_fmnist: wall time of training the published configuration
 * on Fashion-MNIST (60,000 images, 784 -> 64, relu, batch 128, Adam 1e-3,
 * lambdas 1/1/1/0, shuffled each epoch) through the public API.
 *
 *   dfsae_bench_fmnist [--epochs N] [--batch N] [--components K]
 *                      [--threads N] [--limit N] [--data DIR] [--seed N]
 *
 * By default through dfsae_model_train (its shuffle and batch-of-1 rule);
 * --loop 1 uses a plain loop over dfsae_train_step instead, as host
 * code with its own loop would. Only training is timed, not reading. */
/* Model threads and reserve: the experimental tier of dfsae.h. */
#define DFSAE_STATIC_LINKING_ONLY
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "dfsae.h"
#include "idx_gz.h"

typedef struct options {
    int epochs, batch, components, threads, limit, loop;
    unsigned long long seed;
    const char *data_dir;
} options;

static int parse_args(int argc, char **argv, options *o)
{
    o->epochs = 100;
    o->batch = 128;
    o->components = 64;
    o->threads = 0;
    o->limit = 0;
    o->loop = 0;
    o->seed = 1;
    o->data_dir = "/usr/share/datasets/fashion-mnist";
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0) {
            printf("usage: dfsae_bench_fmnist [--epochs N] [--batch N] "
                   "[--components K] [--threads N] [--limit N] [--data DIR] "
                   "[--seed N] [--loop 0|1]\n");
            exit(0);
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "dfsae_bench_fmnist: %s needs a value\n", a);
            return -1;
        }
        const char *v = argv[++i];
        char *end;
        errno = 0;
        long n = strtol(v, &end, 10);
        int num_ok = errno == 0 && *end == '\0' && n >= 0 && n <= 100000000;
        if (strcmp(a, "--data") == 0)
            o->data_dir = v;
        else if (num_ok && strcmp(a, "--epochs") == 0)
            o->epochs = (int)n;
        else if (num_ok && n >= 2 && strcmp(a, "--batch") == 0)
            o->batch = (int)n;
        else if (num_ok && n >= 1 && strcmp(a, "--components") == 0)
            o->components = (int)n;
        else if (num_ok && strcmp(a, "--threads") == 0)
            o->threads = (int)n;
        else if (num_ok && strcmp(a, "--limit") == 0)
            o->limit = (int)n;
        else if (num_ok && n <= 1 && strcmp(a, "--loop") == 0)
            o->loop = (int)n;
        else if (num_ok && strcmp(a, "--seed") == 0)
            o->seed = (unsigned long long)n;
        else {
            fprintf(stderr, "dfsae_bench_fmnist: bad option %s %s\n", a, v);
            return -1;
        }
    }
    return 0;
}

static float *load_images(const options *o, size_t *n, size_t *d)
{
    char path[4096], err[4200];
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte.gz", o->data_dir);
    unsigned char *raw;
    size_t dims[4];
    int ndim;
    if (idx_read_u8(path, &raw, dims, &ndim, err, sizeof err) != 0) {
        fprintf(stderr,
                "dfsae_bench_fmnist: %s (Debian: apt-get install "
                "dataset-fashion-mnist)\n",
                err);
        return NULL;
    }
    if (ndim != 3) {
        fprintf(stderr, "dfsae_bench_fmnist: %s: expected 3 dimensions\n",
                path);
        free(raw);
        return NULL;
    }
    *n = dims[0];
    *d = dims[1] * dims[2];
    if (o->limit > 0 && (size_t)o->limit < *n)
        *n = (size_t)o->limit;
    float *X = malloc(*n * *d * sizeof *X);
    if (X != NULL)
        for (size_t i = 0; i < *n * *d; ++i)
            X[i] = (float)raw[i] / 255.0f;
    free(raw);
    return X;
}

static int report_every_10(const dfsae_progress *r, void *user)
{
    (void)user;
    uint64_t e = (uint64_t)dfsae_progress_get(r, DFSAE_PROGRESS_EPOCH) + 1;
    if ((int)dfsae_progress_get(r, DFSAE_PROGRESS_EVENT) == DFSAE_EVENT_EPOCH &&
        (e == 1 || e % 10 == 0))
        printf("epoch %3llu  mean loss %12.4f  lse %10.3f var %9.3f tc %8.3f"
               "  elapsed %.2f s\n",
               (unsigned long long)e,
               dfsae_progress_get(r, DFSAE_PROGRESS_LOSS),
               dfsae_progress_get(r, DFSAE_PROGRESS_TERM_LSE),
               dfsae_progress_get(r, DFSAE_PROGRESS_TERM_VAR),
               dfsae_progress_get(r, DFSAE_PROGRESS_TERM_TC),
               dfsae_progress_get(r, DFSAE_PROGRESS_ELAPSED));
    fflush(stdout);
    return 0;
}

static int train_library(const options *o, dfsae_model *m, dfsae_optimizer *opt,
                         const float *X, size_t n, size_t *steps)
{
    dfsae_train_config *cfg = NULL;
    int st = dfsae_train_config_create(NULL, &cfg);
    if (st == DFSAE_OK)
        st = dfsae_model_set_run_state(m, 0, 0, o->seed);
    if (st == DFSAE_OK)
        st = dfsae_train_config_set(cfg, DFSAE_TRAIN_EPOCHS, o->epochs);
    if (st == DFSAE_OK)
        st = dfsae_train_config_set(cfg, DFSAE_TRAIN_BATCH_SIZE, o->batch);
    if (st == DFSAE_OK)
        st = dfsae_model_train(m, opt, X, n, cfg, report_every_10, NULL);
    dfsae_train_config_free(cfg);
    *steps = (size_t)dfsae_optimizer_step_count(opt);
    return st;
}

static int train_loop(const options *o, dfsae_model *m, dfsae_optimizer *opt,
                      const float *X, size_t n, float *batch, size_t *order,
                      size_t *steps_out)
{
    const size_t b = (size_t)o->batch, d = dfsae_model_input_dim(m);
    double terms[DFSAE_TERM_COUNT] = {0}, t_start = bench_now();
    size_t steps = 0;
    int st = DFSAE_OK;
    bench_rng rng;
    bench_rng_seed(&rng, o->seed);
    for (size_t i = 0; i < n; ++i)
        order[i] = i;
    for (int epoch = 0; epoch < o->epochs; ++epoch) {
        for (size_t i = n - 1; i > 0; --i) { /* Fisher-Yates */
            size_t j = bench_rng_below(&rng, i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        double epoch_loss = 0.0;
        size_t epoch_steps = 0;
        /* The last partial batch is kept unless it has one row (the
         * variance terms need two). */
        for (size_t start = 0; start + 2 <= n; start += b) {
            size_t rows = n - start < b ? n - start : b;
            for (size_t r = 0; r < rows; ++r)
                memcpy(batch + r * d, X + order[start + r] * d,
                       d * sizeof *batch);
            double total;
            st = dfsae_train_step(m, opt, batch, rows, &total, terms,
                                  DFSAE_TERM_COUNT);
            if (st != DFSAE_OK)
                return st;
            epoch_loss += total;
            ++epoch_steps;
            ++steps;
        }
        if ((epoch + 1) % 10 == 0 || epoch == 0)
            printf("epoch %3d  mean loss %12.4f  last batch: lse %10.3f var "
                   "%9.3f tc %8.3f  elapsed %.2f s\n",
                   epoch + 1, epoch_loss / (double)epoch_steps, terms[0],
                   terms[1], terms[2], bench_now() - t_start);
        fflush(stdout);
    }
    *steps_out = steps;
    return st;
}

int main(int argc, char **argv)
{
    options o;
    if (parse_args(argc, argv, &o) != 0)
        return 2;
    if (o.threads > 0 && !bench_blas_set_threads(o.threads))
        fprintf(stderr,
                "dfsae_bench_fmnist: --threads ignored (no "
                "openblas_set_num_threads; use OPENBLAS_NUM_THREADS)\n");
    size_t n, d, b = (size_t)o.batch, k = (size_t)o.components;
    float *X = load_images(&o, &n, &d);
    if (X == NULL)
        return 1;
    if (n < 2) {
        fprintf(stderr, "dfsae_bench_fmnist: need at least 2 images\n");
        return 1;
    }
    float *batch = malloc(b * d * sizeof *batch);
    size_t *order = malloc(n * sizeof *order);
    dfsae_model *m = NULL;
    dfsae_optimizer *opt = NULL;
    int st = dfsae_model_create(d, k, o.seed, NULL, &m);
    if (st == DFSAE_OK)
        st = dfsae_model_reserve(m, b);
    if (st == DFSAE_OK)
        st = dfsae_optimizer_create(DFSAE_ADAM, dfsae_model_num_params(m), NULL,
                                    &opt);
    if (st != DFSAE_OK || batch == NULL || order == NULL) {
        fprintf(stderr, "dfsae_bench_fmnist: setup failed: %s\n",
                dfsae_status_string(st));
        return 1;
    }

    char blas[256];
    const char *tsrc;
    bench_blas_name(blas, sizeof blas);
    int threads = bench_blas_threads(&tsrc);
    printf("Fashion-MNIST %zu images, %zu -> %zu, batch %zu, Adam 1e-3, "
           "lambdas 1/1/1/0, %d epochs, %s; BLAS %s, %d thread(s) (%s)\n",
           n, d, k, b, o.epochs,
           o.loop ? "plain loop over dfsae_train_step" : "dfsae_model_train",
           blas, threads, tsrc);
    fflush(stdout);

    double t_start = bench_now();
    size_t steps = 0;
    st = o.loop ? train_loop(&o, m, opt, X, n, batch, order, &steps)
                : train_library(&o, m, opt, X, n, &steps);
    if (st != DFSAE_OK) {
        fprintf(stderr, "dfsae_bench_fmnist: training failed: %s: %s\n",
                dfsae_status_string(st), dfsae_model_last_error(m));
        return 1;
    }
    double elapsed = bench_now() - t_start;
    printf("trained %d epochs (%zu steps) in %.2f s: %.3f s/epoch, %.1f "
           "us/step, %.0f samples/s; peak RSS %.0f MiB\n",
           o.epochs, steps, elapsed, elapsed / (o.epochs > 0 ? o.epochs : 1),
           1e6 * elapsed / (double)(steps ? steps : 1),
           (double)n * o.epochs / elapsed, bench_peak_rss_mib());
    dfsae_optimizer_free(opt);
    dfsae_model_free(m);
    free(order);
    free(batch);
    free(X);
    return 0;
}
