/* Mapped against in-memory training in one process, paired.
 *
 *   dfsae_bench_stream FILE.npy [--components K] [--batch B] [--block S]
 *                      [--skip W] [--rounds R] [--fetch WAYS] [--seed N]
 *
 * FILE is opened twice: memory-mapped, as `dfsae train --mmap` reads it
 * (a callback source over the examples' readers: pread from the page
 * cache, half precision widened by the library), and read whole into a
 * float32 array, as `dfsae train` without --mmap does. One model trains on
 * both in turn, continuing the same shuffled epoch (the run state carries
 * it from call to call; each call is stopped by its progress callback):
 * in each round, a call of S steps on the array and one on the mapped
 * file for each way of fetching in WAYS (a comma-separated list of auto,
 * ahead, between: DFSAE_TRAIN_FETCH; default auto), in an order that
 * rotates from round to round. A way's ratio in a round is its samples/s
 * over the array's in that round, the calls seconds apart in the same
 * process, so that the machine's drift from run to run, which moves
 * separate processes' samples/s by up to 15% here, cancels; the summary
 * gives each way's median and quartiles over the rounds, and the share of
 * its timed steps whose batch was fetched ahead
 * (DFSAE_PROGRESS_FETCHED_AHEAD; the array's batches never are), and
 * then, per call of each, the file pages the system read back from disk
 * (/proc/vmstat's workingset_refault_file, the whole system's: 0 while the
 * page cache stays warm). Times
 * are from the report of a call's step W + 1 to its last: the first W
 * steps (default 48) are left out, as with auto the training loop spends
 * a call's first 48 steps trying both ways of fetching
 * (docs/performance.md), which a call of S steps would over-represent
 * against a whole epoch's 48 of its steps; --skip 0 times them too (a
 * call's setup, the epoch's order, is never a step). */
#define DFSAE_STATIC_LINKING_ONLY /* the parallel reads, the fetch key */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "dfsae.h"
#include "exdata.h"

#define MAX_WAYS 3

typedef struct block_clock {
    uint64_t limit; /* steps this call runs */
    uint64_t skip;  /* steps before the clock starts */
    uint64_t seen;  /* step reports so far */
    double first;   /* elapsed at step skip + 1's report */
    double last;    /* and at the last's */
    size_t rows;    /* rows trained after that report */
    size_t ahead;   /* of the timed steps, those fetched ahead */
} block_clock;

static int on_progress(const dfsae_progress *p, void *user)
{
    block_clock *c = user;
    if (dfsae_progress_get(p, DFSAE_PROGRESS_EVENT) != DFSAE_EVENT_STEP)
        return 0;
    double t = dfsae_progress_get(p, DFSAE_PROGRESS_ELAPSED);
    if (c->seen == c->skip)
        c->first = t;
    else if (c->seen > c->skip) {
        c->rows += (size_t)dfsae_progress_get(p, DFSAE_PROGRESS_BATCH_ROWS);
        c->ahead += dfsae_progress_get(p, DFSAE_PROGRESS_FETCHED_AHEAD) == 1.0;
    }
    c->seen++;
    c->last = t;
    return c->seen >= c->limit;
}

typedef struct args {
    const char *path;
    size_t components, batch, block, skip, rounds;
    uint64_t seed;
    int ways[MAX_WAYS]; /* dfsae_fetch_policy of each mapped call */
    size_t n_ways;
} args;

static const char *const way_names[] = {"auto", "ahead", "between"};

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

/* "auto,between" into a->ways; each way once. */
static int parse_ways(const char *v, args *a)
{
    a->n_ways = 0;
    for (const char *p = v;;) {
        const size_t len = strcspn(p, ",");
        int way = -1;
        for (int w = 0; w < MAX_WAYS; ++w)
            if (strlen(way_names[w]) == len &&
                strncmp(p, way_names[w], len) == 0)
                way = w;
        for (size_t j = 0; j < a->n_ways && way >= 0; ++j)
            if (a->ways[j] == way)
                way = -1;
        if (way < 0) {
            fprintf(stderr,
                    "dfsae_bench_stream: --fetch wants distinct ways out of "
                    "auto, ahead, between, not '%s'\n",
                    v);
            return -1;
        }
        a->ways[a->n_ways++] = way;
        if (p[len] == '\0')
            return 0;
        p += len + 1;
    }
}

static int parse(int argc, char **argv, args *a)
{
    a->path = NULL;
    a->components = 256;
    a->batch = 1024;
    a->block = 256;
    a->skip = 48;
    a->rounds = 8;
    a->seed = 1;
    a->ways[0] = DFSAE_FETCH_AUTO;
    a->n_ways = 1;
    for (int i = 1; i < argc; ++i) {
        size_t *dst = NULL, seed;
        if (strcmp(argv[i], "--fetch") == 0 && i + 1 < argc) {
            if (parse_ways(argv[++i], a) != 0)
                return -1;
            continue;
        }
        if (strcmp(argv[i], "--components") == 0)
            dst = &a->components;
        else if (strcmp(argv[i], "--batch") == 0)
            dst = &a->batch;
        else if (strcmp(argv[i], "--block") == 0)
            dst = &a->block;
        else if (strcmp(argv[i], "--skip") == 0)
            dst = &a->skip;
        else if (strcmp(argv[i], "--rounds") == 0)
            dst = &a->rounds;
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
                        "[--rounds R] [--fetch auto,ahead,between] "
                        "[--seed N]\n");
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

/* What the calls of one source or way did, summed over the rounds. */
typedef struct tally {
    size_t ahead;        /* timed steps fetched ahead */
    long long refaulted; /* file pages read back from disk (-1: unknown) */
} tally;

/* One call of block steps on src, fetching as `way` says; its samples/s,
 * and what it did added to *t. The page cache counter is the whole
 * system's: a warm cache should read nothing back. */
static int train_block(dfsae_model *m, dfsae_optimizer *o, dfsae_source *src,
                       dfsae_train_config *cfg, int way, const args *a,
                       double *rate, tally *t)
{
    const long long refaults0 = bench_vmstat("workingset_refault_file");
    block_clock c = {a->block, a->skip, 0, 0.0, 0.0, 0, 0};
    int st = dfsae_train_config_set(cfg, DFSAE_TRAIN_FETCH, way);
    if (st == DFSAE_OK)
        st = dfsae_model_train_source(m, o, src, cfg, on_progress, &c);
    if (st != DFSAE_OK && st != DFSAE_ERR_CANCELLED) {
        fprintf(stderr, "dfsae_bench_stream: train: %s\n",
                dfsae_model_last_error(m));
        return -1;
    }
    *rate = c.last > c.first ? (double)c.rows / (c.last - c.first) : 0.0;
    t->ahead += c.ahead;
    const long long refaults1 = bench_vmstat("workingset_refault_file");
    if (refaults0 < 0 || refaults1 < 0 || t->refaulted < 0)
        t->refaulted = -1;
    else
        t->refaulted += refaults1 - refaults0;
    return 0;
}

/* The distribution-free 95% interval of the median of sorted v[0..n):
 * the order statistics of 1-based ranks n / 2 - 0.98 sqrt(n), rounded
 * down, and 1 + n / 2 + 0.98 sqrt(n), rounded up (the binomial(n, 1/2)'s
 * normal approximation), clamped to the data. */
static void median_interval(const double *v, size_t n, double *lo, double *hi)
{
    const double half = 0.98 * sqrt((double)n);
    double l = floor((double)n / 2.0 - half) - 1.0;
    double h = ceil((double)n / 2.0 + half);
    l = l < 0.0 ? 0.0 : l;
    h = h > (double)n - 1.0 ? (double)n - 1.0 : h;
    *lo = v[(size_t)l];
    *hi = v[(size_t)h];
}

/* The rounds: per round, the array's call and one per way, the order
 * rotating; each way's ratios to the array in ratio[w * rounds + r]. */
static int run_rounds(dfsae_model *m, dfsae_optimizer *o, dfsae_source **src,
                      dfsae_train_config *cfg, const args *a, double *ratio,
                      tally *t)
{
    const size_t calls = a->n_ways + 1; /* call 0: the array */
    printf("round  first    memory samples/s");
    for (size_t w = 0; w < a->n_ways; ++w)
        printf("  %7s samples/s  ratio", way_names[a->ways[w]]);
    printf("\n");
    for (size_t r = 0; r < a->rounds; ++r) {
        double rate[MAX_WAYS + 1];
        for (size_t i = 0; i < calls; ++i) {
            const size_t c = (r + i) % calls;
            int st = c == 0 ? train_block(m, o, src[1], cfg, DFSAE_FETCH_AUTO,
                                          a, &rate[0], &t[0])
                            : train_block(m, o, src[0], cfg, a->ways[c - 1], a,
                                          &rate[c], &t[c]);
            if (st != 0)
                return -1;
        }
        const size_t first = r % calls;
        printf("%5zu  %-7s  %16.0f", r + 1,
               first == 0 ? "memory" : way_names[a->ways[first - 1]], rate[0]);
        for (size_t w = 0; w < a->n_ways; ++w) {
            ratio[w * a->rounds + r] = rate[w + 1] / rate[0];
            printf("  %17.0f  %5.3f", rate[w + 1], ratio[w * a->rounds + r]);
        }
        printf("\n");
        fflush(stdout);
    }
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
           "batch %zu, %zu steps a call (the first %zu untimed), %zu rounds; "
           "%s, %d "
           "BLAS threads (%s)\n",
           a.path, n, d,
           exdata_map_dtype(map) == DFSAE_DTYPE_F16    ? "float16"
           : exdata_map_dtype(map) == DFSAE_DTYPE_BF16 ? "bfloat16"
                                                       : "float32",
           a.components, a.batch, a.block, a.skip, a.rounds, blas, threads,
           threads_from);
    double *ratio = malloc(a.n_ways * a.rounds * sizeof *ratio);
    tally t[MAX_WAYS + 1]; /* t[0]: the array's calls */
    memset(t, 0, sizeof t);
    if (ratio == NULL || run_rounds(m, o, src, cfg, &a, ratio, t) != 0) {
        free(ratio);
        goto done;
    }
    const double timed = (double)(a.rounds * (a.block - a.skip - 1));
    for (size_t w = 0; w < a.n_ways; ++w) {
        double *v = ratio + w * a.rounds;
        double lo, hi;
        const double median = bench_median(v, a.rounds);
        median_interval(v, a.rounds, &lo, &hi);
        printf("mapped (%s) / memory over %zu rounds: median %.3f, "
               "quartiles %.3f - %.3f, 95%% interval of the median %.3f - "
               "%.3f; timed steps fetched ahead: %.3f\n",
               way_names[a.ways[w]], a.rounds, median,
               bench_quantile(v, a.rounds, 0.25),
               bench_quantile(v, a.rounds, 0.75), lo, hi,
               (double)t[w + 1].ahead / timed);
    }
    /* Per call, to show whether the cache stayed warm (on this machine the
     * kernel's proactive reclaim, DAMON, drops file pages it sees idle). */
    printf("file pages read back from disk, per call (workingset_refault_file):"
           " memory %s",
           t[0].refaulted < 0 ? "n/a" : "");
    if (t[0].refaulted >= 0)
        printf("%.0f", (double)t[0].refaulted / (double)a.rounds);
    for (size_t w = 0; w < a.n_ways; ++w) {
        if (t[w + 1].refaulted < 0)
            printf(", %s n/a", way_names[a.ways[w]]);
        else
            printf(", %s %.0f", way_names[a.ways[w]],
                   (double)t[w + 1].refaulted / (double)a.rounds);
    }
    printf("\n");
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
