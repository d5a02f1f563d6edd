/* Encoding latency and shared-model throughput (issue 16).
 *
 *   dfsae_bench_latency latency [--shape DxK]... [--n N]... [--budget S]
 *   dfsae_bench_latency throughput --threads T --n N [--shape DxK]
 *                       [--seconds S]
 *
 * latency: per call of dfsae_model_forward on n rows and of the bare
 * product on the same buffers (cblas_sgemv for one row, cblas_sgemm
 * otherwise), the two alternated call by call so that load from other
 * processes hits both alike. First measures the machine (bench_machine.h)
 * and prints
 *   MACHINE read_GB_per_s sgemm_GFLOP_per_s read_MiB sgemm_side
 * then one line per shape and n, bound_us the larger of the time to read
 * W at that rate and the time for the 2 n D K flops at that rate:
 *   LAT D K n dfsae_p50_us dfsae_p99_us bare_p50_us bare_p99_us calls
 *       bound_us
 * throughput: T threads share one const model, each encoding n rows per
 * call for S seconds; prints
 *   TPUT D K n T calls_per_s rows_per_s
 *
 *   dfsae_bench_latency ab --lib-a PATH --lib-b PATH [--shape DxK]...
 *                       [--n N]... [--budget S] [--act NAME] [--z 0|1]
 *
 * ab: two builds of libdfsae (each PATH a libdfsae.so or a build
 * directory) in this one process, their forward calls alternated; prints
 * ABLIB and AB lines (bench_ab.h). Only where dlmopen exists (glibc).
 * Run with OPENBLAS_NUM_THREADS=1 (the run script does). */
#include <cblas.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef DFSAE_BENCH_HAVE_DLMOPEN
#include "bench_ab.h"
#endif
#include "bench_common.h"
#include "bench_machine.h"
#include "dfsae.h"

#define MAX_LIST 16

typedef struct shape {
    size_t d, k;
} shape;

typedef struct bench {
    dfsae_model *m;
    size_t d, k, n;
    float *W, *X, *A, *Z;
} bench;

static int bench_open(bench *b, shape s, size_t n)
{
    memset(b, 0, sizeof *b);
    b->d = s.d, b->k = s.k, b->n = n;
    if (dfsae_model_create(s.d, s.k, 7, NULL, &b->m) != DFSAE_OK)
        return -1;
    const size_t np = dfsae_model_num_params(b->m);
    b->W = malloc(np * sizeof *b->W);
    b->X = malloc(n * s.d * sizeof *b->X);
    b->A = malloc(n * s.k * sizeof *b->A);
    b->Z = malloc(n * s.k * sizeof *b->Z);
    if (!b->W || !b->X || !b->A || !b->Z ||
        dfsae_model_get_params(b->m, b->W, np) != DFSAE_OK)
        return -1;
    bench_rng g;
    bench_rng_seed(&g, 3);
    bench_fill_normal(&g, b->X, n * s.d);
    return 0;
}

static void bench_close(bench *b)
{
    dfsae_model_free(b->m);
    free(b->W), free(b->X), free(b->A), free(b->Z);
}

static void bare_product(const bench *b)
{
    const int n = (int)b->n, d = (int)b->d, k = (int)b->k;
    if (n == 1)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, k, d, 1.0f, b->W, d, b->X, 1,
                    0.0f, b->Z, 1);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, k, d, 1.0f,
                    b->X, d, b->W, d, 0.0f, b->Z, k);
}

static int run_latency(shape s, size_t n, double budget,
                       const bench_machine *mach)
{
    bench b;
    if (bench_open(&b, s, n) != 0) {
        fprintf(stderr, "latency: set-up failed\n");
        bench_close(&b);
        return 1;
    }
    /* Warm-up, which also sizes the run to the budget. */
    double t0 = bench_now();
    size_t warm = 0;
    while (bench_now() - t0 < budget * 0.1 || warm < 3) {
        if (dfsae_model_forward(b.m, b.X, n, b.A, NULL, NULL) != DFSAE_OK)
            return 1;
        bare_product(&b);
        ++warm;
    }
    const double per_pair = (bench_now() - t0) / (double)warm;
    size_t calls = (size_t)(budget * 0.9 / per_pair);
    calls = calls < 50 ? 50 : calls > 20000 ? 20000 : calls;
    double *tl = malloc(calls * sizeof *tl), *tb = malloc(calls * sizeof *tb);
    if (!tl || !tb)
        return 1;
    for (size_t c = 0; c < calls; ++c) {
        double a = bench_now();
        int st = dfsae_model_forward(b.m, b.X, n, b.A, NULL, NULL);
        double mid = bench_now();
        bare_product(&b);
        double e = bench_now();
        if (st != DFSAE_OK)
            return 1;
        tl[c] = (mid - a) * 1e6, tb[c] = (e - mid) * 1e6;
    }
    const double lp50 = bench_quantile(tl, calls, 0.5),
                 lp99 = bench_quantile(tl, calls, 0.99);
    const double bp50 = bench_quantile(tb, calls, 0.5),
                 bp99 = bench_quantile(tb, calls, 0.99);
    const double dk = (double)s.d * (double)s.k;
    const double bound =
        bench_machine_bound_us(mach, dk * sizeof(float), 2.0 * (double)n * dk);
    printf("LAT %zu %zu %zu %.2f %.2f %.2f %.2f %zu %.2f\n", s.d, s.k, n, lp50,
           lp99, bp50, bp99, calls, bound);
    fflush(stdout);
    free(tl), free(tb);
    bench_close(&b);
    return 0;
}

typedef struct worker {
    const dfsae_model *m;
    size_t d, k, n;
    double seconds;
    size_t calls;
    int failed;
} worker;

/* Each thread its own inputs and outputs; the model is shared, const. */
static void *encode_loop(void *arg)
{
    worker *w = arg;
    float *X = malloc(w->n * w->d * sizeof *X);
    float *A = malloc(w->n * w->k * sizeof *A);
    if (!X || !A) {
        w->failed = 1;
        free(X), free(A);
        return NULL;
    }
    bench_rng g;
    bench_rng_seed(&g, (uint64_t)(uintptr_t)w);
    bench_fill_normal(&g, X, w->n * w->d);
    const double t0 = bench_now();
    while (bench_now() - t0 < w->seconds) {
        for (int r = 0; r < 8; ++r)
            if (dfsae_model_forward(w->m, X, w->n, A, NULL, NULL) != DFSAE_OK)
                w->failed = 1;
        w->calls += 8;
    }
    free(X), free(A);
    return NULL;
}

static int run_throughput(shape s, size_t n, int threads, double seconds)
{
    dfsae_model *m;
    if (threads < 1 || threads > 64 ||
        dfsae_model_create(s.d, s.k, 7, NULL, &m) != DFSAE_OK)
        return 1;
    worker w[64];
    pthread_t tid[64];
    for (int t = 0; t < threads; ++t)
        w[t] = (worker){m, s.d, s.k, n, seconds, 0, 0};
    const double t0 = bench_now();
    for (int t = 0; t < threads; ++t)
        if (pthread_create(&tid[t], NULL, encode_loop, &w[t]) != 0)
            return 1;
    size_t calls = 0;
    int failed = 0;
    for (int t = 0; t < threads; ++t) {
        pthread_join(tid[t], NULL);
        calls += w[t].calls, failed |= w[t].failed;
    }
    const double elapsed = bench_now() - t0;
    dfsae_model_free(m);
    if (failed)
        return 1;
    printf("TPUT %zu %zu %zu %d %.1f %.1f\n", s.d, s.k, n, threads,
           (double)calls / elapsed, (double)(calls * n) / elapsed);
    return 0;
}

static int parse_shape(const char *arg, shape *s)
{
    return sscanf(arg, "%zux%zu", &s->d, &s->k) == 2 && s->d > 0 && s->k > 0
               ? 0
               : -1;
}

static int parse_activation(const char *arg, int *act)
{
    for (int a = 0; a < DFSAE_ACT_COUNT; ++a)
        if (strcmp(arg, dfsae_activation_name(a)) == 0) {
            *act = a;
            return 0;
        }
    fprintf(stderr, "unknown activation %s\n", arg);
    return -1;
}

typedef struct options {
    shape shapes[MAX_LIST];
    size_t ns[MAX_LIST], nshapes, nn;
    double budget, seconds;
    int threads, act, want_z;
    const char *lib[2];
} options;

/* Every option takes a value. Returns 0, or 2 (usage) with a message. */
static int parse_options(int argc, char **argv, options *o)
{
    *o = (options){.budget = 1.0, .seconds = 3.0, .threads = 1};
    for (int i = 2; i < argc; ++i) {
        const char *opt = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL) {
            fprintf(stderr, "%s needs a value\n", opt);
            return 2;
        }
        ++i;
        if (strcmp(opt, "--shape") == 0 && o->nshapes < MAX_LIST) {
            if (parse_shape(v, &o->shapes[o->nshapes++]) != 0)
                return 2;
        } else if (strcmp(opt, "--n") == 0 && o->nn < MAX_LIST) {
            if ((o->ns[o->nn++] = (size_t)strtoul(v, NULL, 10)) == 0)
                return 2;
        } else if (strcmp(opt, "--budget") == 0)
            o->budget = strtod(v, NULL);
        else if (strcmp(opt, "--seconds") == 0)
            o->seconds = strtod(v, NULL);
        else if (strcmp(opt, "--threads") == 0)
            o->threads = atoi(v);
        else if (strcmp(opt, "--act") == 0) {
            if (parse_activation(v, &o->act) != 0)
                return 2;
        } else if (strcmp(opt, "--z") == 0)
            o->want_z = atoi(v) != 0;
        else if (strcmp(opt, "--lib-a") == 0)
            o->lib[0] = v;
        else if (strcmp(opt, "--lib-b") == 0)
            o->lib[1] = v;
        else {
            fprintf(stderr, "unknown option %s\n", opt);
            return 2;
        }
    }
    if (o->nshapes == 0) {
        o->shapes[o->nshapes++] = (shape){784, 64};
        o->shapes[o->nshapes++] = (shape){768, 4096};
    }
    const size_t dflt[] = {1, 8, 32, 128};
    if (o->nn == 0)
        for (; o->nn < 4; ++o->nn)
            o->ns[o->nn] = dflt[o->nn];
    return 0;
}

enum mode { MODE_LATENCY, MODE_THROUGHPUT, MODE_AB };

#ifdef DFSAE_BENCH_HAVE_DLMOPEN
static int open_ab(const options *o, bench_ab *ab)
{
    if (o->lib[0] == NULL || o->lib[1] == NULL) {
        fprintf(stderr, "ab needs --lib-a PATH and --lib-b PATH\n");
        return 2;
    }
    return bench_ab_open(ab, o->lib[0], o->lib[1]) == 0 ? 0 : 1;
}
#else
typedef struct bench_ab {
    int unused;
} bench_ab;

static int open_ab(const options *o, bench_ab *ab)
{
    (void)o, (void)ab;
    fprintf(stderr, "ab is not in this build: it needs dlmopen (glibc)\n");
    return 2;
}
#endif

static int run_cell(enum mode mode, const options *o, shape s, size_t n,
                    const bench_machine *mach, const bench_ab *ab)
{
    switch (mode) {
    case MODE_LATENCY: return run_latency(s, n, o->budget, mach);
    case MODE_THROUGHPUT: return run_throughput(s, n, o->threads, o->seconds);
    case MODE_AB:
#ifdef DFSAE_BENCH_HAVE_DLMOPEN
        return bench_ab_cell(ab, s.d, s.k, n, o->act, o->want_z, o->budget);
#else
        (void)ab; /* open_ab refused already */
#endif
    }
    return 1;
}

int main(int argc, char **argv)
{
    const char *modes[] = {"latency", "throughput", "ab"};
    int mode = -1;
    for (int m = 0; argc >= 2 && m < 3; ++m)
        if (strcmp(argv[1], modes[m]) == 0)
            mode = m;
    if (mode < 0) {
        fprintf(stderr, "usage: %s latency|throughput|ab [options]\n", argv[0]);
        return 2;
    }
    options o;
    int rc = parse_options(argc, argv, &o);
    bench_machine mach = {0};
    bench_ab ab;
    if (rc == 0 && mode == MODE_LATENCY) {
        if (bench_machine_measure(&mach) != 0) {
            fprintf(stderr, "latency: could not measure the machine\n");
            return 1;
        }
        printf("MACHINE %.2f %.2f %zu %zu\n", mach.read_gbps, mach.gemm_gflops,
               mach.read_mib, mach.gemm_side);
    }
    int ab_open = 0;
    if (rc == 0 && mode == MODE_AB)
        ab_open = (rc = open_ab(&o, &ab)) == 0;
    for (size_t si = 0; si < o.nshapes && rc == 0; ++si)
        for (size_t ni = 0; ni < o.nn && rc == 0; ++ni)
            if ((rc = run_cell((enum mode)mode, &o, o.shapes[si], o.ns[ni],
                               &mach, &ab)) != 0)
                fprintf(stderr, "failed at %zux%zu n=%zu\n", o.shapes[si].d,
                        o.shapes[si].k, o.ns[ni]);
#ifdef DFSAE_BENCH_HAVE_DLMOPEN
    if (ab_open)
        bench_ab_close(&ab);
#else
    (void)ab_open;
#endif
    return rc;
}
