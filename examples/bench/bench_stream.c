/* Mapped against in-memory training in one process, paired.
 *
 *   dfsae_bench_stream FILE.npy [--components K] [--batch B] [--block S]
 *                      [--skip W] [--pairs P] [--seed N]
 *
 * FILE is opened twice: memory-mapped, as `dfsae train --mmap` reads it
 * (a callback source over the examples' readers: pread from the page
 * cache, half precision widened by the library), and read whole into a
 * float32 array, as `dfsae train` without --mmap does. One model trains on
 * both in turn: a call of S steps on one source, then S steps on the
 * other, continuing the same shuffled epoch (the run state carries it
 * from call to call; each call is stopped by its progress callback), the
 * first of a pair alternating between pairs. A pair's ratio is its mapped
 * over its in-memory samples/s, the two measured seconds apart in the same
 * process, so that the machine's drift from run to run, which moves
 * separate processes' samples/s by up to 15% here, cancels; the summary
 * is the median and quartiles of the pairs' ratios. Times are from the
 * report of a call's step W + 1 to its last: the first W steps (default
 * 48) are left out, as the training loop spends a call's first 48 steps
 * trying both ways of fetching (docs/performance.md), which a call of S
 * steps would over-represent against a whole epoch's 48 of its steps;
 * --skip 0 times them too (a call's setup, the epoch's order, is never a
 * step). */
#define DFSAE_STATIC_LINKING_ONLY /* dfsae_source_set_parallel_reads */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "dfsae.h"
#include "exdata.h"

typedef struct block_clock {
    uint64_t limit; /* steps this call runs */
    uint64_t skip;  /* steps before the clock starts */
    uint64_t seen;  /* step reports so far */
    double first;   /* elapsed at step skip + 1's report */
    double last;    /* and at the last's */
    size_t rows;    /* rows trained after that report */
} block_clock;

static int on_progress(const dfsae_progress *p, void *user)
{
    block_clock *c = user;
    if (dfsae_progress_get(p, DFSAE_PROGRESS_EVENT) != DFSAE_EVENT_STEP)
        return 0;
    double t = dfsae_progress_get(p, DFSAE_PROGRESS_ELAPSED);
    if (c->seen == c->skip)
        c->first = t;
    else if (c->seen > c->skip)
        c->rows += (size_t)dfsae_progress_get(p, DFSAE_PROGRESS_BATCH_ROWS);
    c->seen++;
    c->last = t;
    return c->seen >= c->limit;
}

typedef struct args {
    const char *path;
    size_t components, batch, block, skip, pairs;
    uint64_t seed;
} args;

static int parse_size(const char *flag, const char *v, int may_be_zero,
                      size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || end == v || *end || (x == 0 && !may_be_zero)) {
        fprintf(stderr, "dfsae_bench_stream: %s wants a %s integer, not '%s'\n",
                flag, may_be_zero ? "non-negative" : "positive", v);
        return -1;
    }
    *out = (size_t)x;
    return 0;
}

static int parse(int argc, char **argv, args *a)
{
    a->path = NULL;
    a->components = 256;
    a->batch = 1024;
    a->block = 256;
    a->skip = 48;
    a->pairs = 8;
    a->seed = 1;
    for (int i = 1; i < argc; ++i) {
        size_t *dst = NULL, seed;
        if (strcmp(argv[i], "--components") == 0)
            dst = &a->components;
        else if (strcmp(argv[i], "--batch") == 0)
            dst = &a->batch;
        else if (strcmp(argv[i], "--block") == 0)
            dst = &a->block;
        else if (strcmp(argv[i], "--skip") == 0)
            dst = &a->skip;
        else if (strcmp(argv[i], "--pairs") == 0)
            dst = &a->pairs;
        else if (strcmp(argv[i], "--seed") == 0)
            dst = &seed;
        else if (argv[i][0] != '-' && a->path == NULL) {
            a->path = argv[i];
            continue;
        } else {
            fprintf(stderr, "dfsae_bench_stream: unknown argument '%s'\n",
                    argv[i]);
            return -1;
        }
        if (i + 1 == argc) {
            fprintf(stderr, "dfsae_bench_stream: %s wants a value\n", argv[i]);
            return -1;
        }
        if (parse_size(argv[i], argv[i + 1], dst == &a->skip, dst) != 0)
            return -1;
        if (dst == &seed)
            a->seed = seed;
        ++i;
    }
    if (a->path == NULL || a->block < a->skip + 2) {
        fprintf(stderr, "usage: dfsae_bench_stream FILE.npy [--components K] "
                        "[--batch B] [--block S >= W + 2] [--skip W] "
                        "[--pairs P] [--seed N]\n");
        return -1;
    }
    return 0;
}

static int element_of(int dtype)
{
    return dtype == DFSAE_DTYPE_F16    ? DFSAE_ELEM_F16
           : dtype == DFSAE_DTYPE_BF16 ? DFSAE_ELEM_BF16
                                       : DFSAE_ELEM_F32;
}

/* One call of a.block steps on src; its samples/s. */
static int train_block(dfsae_model *m, dfsae_optimizer *o, dfsae_source *src,
                       dfsae_train_config *cfg, size_t block, size_t skip,
                       double *rate)
{
    block_clock c = {block, skip, 0, 0.0, 0.0, 0};
    int st = dfsae_model_train_source(m, o, src, cfg, on_progress, &c);
    if (st != DFSAE_OK && st != DFSAE_ERR_CANCELLED) {
        fprintf(stderr, "dfsae_bench_stream: train: %s\n",
                dfsae_model_last_error(m));
        return -1;
    }
    *rate = c.last > c.first ? (double)c.rows / (c.last - c.first) : 0.0;
    return 0;
}

int main(int argc, char **argv)
{
    args a;
    if (parse(argc, argv, &a) != 0)
        return 2;
    exdata_error err;
    exdata_map *map = NULL;
    exdata data;
    memset(&data, 0, sizeof data);
    if (exdata_map_open(a.path, NULL, &map, &err) != 0 ||
        exdata_load(a.path, NULL, &data, &err) != 0) {
        fprintf(stderr, "dfsae_bench_stream: %s\n", err.msg);
        exdata_map_close(map);
        return 1;
    }
    const size_t n = data.rows, d = data.cols;
    dfsae_source *src[2] = {NULL, NULL}; /* mapped, in memory */
    dfsae_model *m = NULL;
    dfsae_optimizer *o = NULL;
    dfsae_train_config *cfg = NULL;
    int rc = 1;
    if (dfsae_source_from_callback(exdata_map_read, map,
                                   element_of(exdata_map_dtype(map)), n, d, 0,
                                   NULL, &src[0]) != DFSAE_OK ||
        dfsae_source_set_parallel_reads(src[0], 1) != DFSAE_OK ||
        dfsae_source_from_array(data.values, DFSAE_ELEM_F32, n, d, NULL,
                                &src[1]) != DFSAE_OK ||
        dfsae_model_create(d, a.components, a.seed, NULL, &m) != DFSAE_OK ||
        dfsae_optimizer_create(DFSAE_ADAM, dfsae_model_num_params(m), NULL,
                               &o) != DFSAE_OK ||
        dfsae_train_config_create(NULL, &cfg) != DFSAE_OK ||
        dfsae_train_config_set(cfg, DFSAE_TRAIN_BATCH_SIZE, (double)a.batch) !=
            DFSAE_OK ||
        dfsae_train_config_set(cfg, DFSAE_TRAIN_EPOCHS, 1.0) != DFSAE_OK) {
        fprintf(stderr,
                "dfsae_bench_stream: cannot set up %zu x %zu -> %zu "
                "(batch %zu)\n",
                n, d, a.components, a.batch);
        goto done;
    }
    char blas[128];
    const char *threads_from;
    bench_blas_name(blas, sizeof blas);
    const int threads = bench_blas_threads(&threads_from);
    printf("dfsae_bench_stream: %s, %zu rows x %zu (%s) -> %zu components, "
           "batch %zu, %zu steps a call (the first %zu untimed), %zu pairs; "
           "%s, %d "
           "BLAS threads (%s)\n",
           a.path, n, d,
           exdata_map_dtype(map) == DFSAE_DTYPE_F16    ? "float16"
           : exdata_map_dtype(map) == DFSAE_DTYPE_BF16 ? "bfloat16"
                                                       : "float32",
           a.components, a.batch, a.block, a.skip, a.pairs, blas, threads,
           threads_from);
    double *ratio = malloc(a.pairs * sizeof *ratio);
    if (ratio == NULL)
        goto done;
    printf("pair  first   mapped samples/s  memory samples/s  ratio\n");
    for (size_t p = 0; p < a.pairs; ++p) {
        double rate[2];
        const int first = (int)(p % 2); /* 0: mapped first */
        if (train_block(m, o, src[first], cfg, a.block, a.skip, &rate[first]) !=
                0 ||
            train_block(m, o, src[!first], cfg, a.block, a.skip,
                        &rate[!first]) != 0) {
            free(ratio);
            goto done;
        }
        ratio[p] = rate[0] / rate[1];
        printf("%4zu  %-6s  %16.0f  %16.0f  %.3f\n", p + 1,
               first == 0 ? "mapped" : "memory", rate[0], rate[1], ratio[p]);
        fflush(stdout);
    }
    printf("mapped / memory over %zu pairs: median %.3f, quartiles %.3f - "
           "%.3f\n",
           a.pairs, bench_median(ratio, a.pairs),
           bench_quantile(ratio, a.pairs, 0.25),
           bench_quantile(ratio, a.pairs, 0.75));
    free(ratio);
    rc = 0;
done:
    dfsae_train_config_free(cfg);
    dfsae_optimizer_free(o);
    dfsae_model_free(m);
    dfsae_source_free(src[0]);
    dfsae_source_free(src[1]);
    exdata_free(&data);
    exdata_map_close(map);
    return rc;
}
