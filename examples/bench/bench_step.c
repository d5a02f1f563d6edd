/* dfsae_bench: times the training step and the encoder through the public
 * API against bare CBLAS calls for the same shapes, in one process.
 *
 *   dfsae_bench [--shape I|BxDxK]... [--reps N] [--warmup N] [--budget S]
 *               [--threads N] [--seed N] [--json] [--check DIR]
 *               [--step-only] [--library-alloc] [--huge-ab]
 *
 * Every measurement is a median over repetitions after warm-up; the
 * repetitions of all items of a shape are interleaved (one of each per
 * round) so that load from other processes hits them alike and their
 * ratios stay meaningful. See docs/performance.md. */
/* Model threads and reserve: the experimental tier of dfsae.h. */
#define DFSAE_STATIC_LINKING_ONLY
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_bound.h"
#include "bench_check.h"
#include "bench_common.h"
#include "dfsae.h"

typedef struct shape {
    size_t b, d, k;
} shape;

static const shape k_default_shapes[] = {
    {128, 784, 64}, {1024, 784, 1024}, {1024, 768, 4096}, {4096, 768, 4096}};
#define N_DEFAULT_SHAPES (sizeof k_default_shapes / sizeof *k_default_shapes)
#define MAX_SHAPES       16

typedef struct options {
    shape shapes[MAX_SHAPES];
    size_t n_shapes;
    int reps; /* 0: chosen from the time budget */
    int warmup;
    double budget;     /* seconds of timed rounds per shape when reps == 0 */
    int threads;       /* 0: leave the BLAS as the environment set it */
    int model_threads; /* dfsae_model_set_threads; 0: as many as the BLAS */
    unsigned long long seed;
    int json;
    const char *check_dir;
    int step_only;     /* the default step and its products, one model */
    int library_alloc; /* the library's own allocator instead of the hook */
    int huge_ab;       /* --step-only, plus a second model on the library's
                          own allocator, its step timed in the same rounds */
} options;

/* What is timed at each shape: four library calls, then the products. */
enum {
    M_STEP,
    M_STEP_WR,
    M_ENCODE,
    M_ADAM,     /* the optimizer's share: its step with a caller's gradient */
    M_STEP_LIB, /* --huge-ab: the step of the model on the library's allocator
                 */
    M_PRODUCT0,
    M_COUNT = M_PRODUCT0 + BP_COUNT
};

/* Counts the library's allocations through its allocator hook, to show
 * that a step after warm-up allocates nothing. */
typedef struct alloc_counter {
    unsigned long long allocs;
} alloc_counter;

static void *counting_alloc(void *opaque, size_t size)
{
    ((alloc_counter *)opaque)->allocs++;
    return malloc(size);
}

static void counting_free(void *opaque, void *ptr)
{
    (void)opaque;
    free(ptr);
}

typedef struct bench_ctx {
    size_t b;
    alloc_counter counter;
    dfsae_allocator alloc;
    const float *X;
    float *A;
    dfsae_model *model, *model_wr;
    dfsae_optimizer *opt, *opt_wr;
    dfsae_optimizer *opt_share; /* M_ADAM's, with the gradient `grad` */
    dfsae_model *model_lib;     /* M_STEP_LIB's */
    dfsae_optimizer *opt_lib;
    float *grad;
    bench_bound bound;
} bench_ctx;

static void die(const char *what, int status, const char *detail)
{
    fprintf(stderr, "dfsae_bench: %s failed: %s%s%s\n", what,
            dfsae_status_string(status), detail ? ": " : "",
            detail ? detail : "");
    exit(1);
}

static void step(dfsae_model *m, dfsae_optimizer *opt, const float *X, size_t b)
{
    double total;
    int st = dfsae_train_step(m, opt, X, b, &total, NULL, 0);
    if (st != DFSAE_OK)
        die("dfsae_train_step", st, dfsae_model_last_error(m));
}

static void run_item(bench_ctx *c, int item)
{
    switch (item) {
    case M_STEP: step(c->model, c->opt, c->X, c->b); break;
    case M_STEP_LIB: step(c->model_lib, c->opt_lib, c->X, c->b); break;
    case M_STEP_WR: step(c->model_wr, c->opt_wr, c->X, c->b); break;
    case M_ADAM: {
        int st = dfsae_optimizer_step(c->opt_share, c->model, c->grad);
        if (st != DFSAE_OK)
            die("dfsae_optimizer_step", st,
                dfsae_optimizer_last_error(c->opt_share));
        break;
    }
    case M_ENCODE: {
        int st = dfsae_model_forward(c->model, c->X, c->b, c->A, NULL, NULL);
        if (st != DFSAE_OK)
            die("dfsae_model_forward", st, dfsae_model_last_error(c->model));
        break;
    }
    default:
        bench_bound_run(&c->bound, (bench_product)(item - M_PRODUCT0));
        break;
    }
}

/* --step-only: a large dictionary's step and its bound, without the items
 * that would need a second model or the B x K encode output. */
static int wanted(const options *o, int item)
{
    if (item == M_STEP_LIB)
        return o->huge_ab;
    if (!o->step_only)
        return 1;
    return item == M_STEP || item == M_PRODUCT0 + BP_FORWARD ||
           item == M_PRODUCT0 + BP_WGRAD || item == M_PRODUCT0 + BP_TC_GRAM ||
           item == M_PRODUCT0 + BP_TC_GRAD;
}

/* The least memory the default step can run in, in bytes: W, b, their
 * gradient and Adam's two moments (4 (K D + K) floats); the activations,
 * standardised activations and L_tc's product (3 B K floats); the Gram of
 * the cheaper side (min(B, K)^2 floats); the per-row and per-column sums
 * (12 B + 112 K bytes). docs/performance.md derives it from the code. */
static double floor_bytes(const shape *s)
{
    double b = (double)s->b, d = (double)s->d, k = (double)s->k;
    double side = b < k ? b : k;
    return 16.0 * (k * d + k) + 12.0 * b * k + 4.0 * side * side + 12.0 * b +
           112.0 * k;
}

static void make_model(const shape *s, double lambda_wr, int threads,
                       const dfsae_allocator *alloc, dfsae_model **m,
                       dfsae_optimizer **opt)
{
    int st = dfsae_model_create(s->d, s->k, 1, alloc, m);
    if (st != DFSAE_OK)
        die("dfsae_model_create", st, NULL);
    st = dfsae_model_set_threads(*m, threads);
    if (st == DFSAE_OK)
        st = dfsae_model_set_option(*m, DFSAE_MODEL_LAMBDA_WR, lambda_wr);
    if (st == DFSAE_OK)
        st = dfsae_model_reserve(*m, s->b);
    if (st != DFSAE_OK)
        die("model setup", st, dfsae_model_last_error(*m));
    st = dfsae_optimizer_create(DFSAE_ADAM, dfsae_model_num_params(*m), alloc,
                                opt);
    if (st != DFSAE_OK)
        die("dfsae_optimizer_create", st, NULL);
}

typedef struct result {
    shape s;
    int reps;
    double med[M_COUNT]; /* seconds */
    double rss_mib;
    double base_mib;  /* --step-only: peak RSS before the model existed */
    double lib_mib;   /* --huge-ab: what the second model added to the peak */
    long long allocs; /* library allocations in the timed rounds, -1 unknown */
} result;

static double sum_products(const result *r, int with_wr)
{
    double t = r->med[M_PRODUCT0 + BP_FORWARD] + r->med[M_PRODUCT0 + BP_WGRAD] +
               r->med[M_PRODUCT0 + BP_TC_GRAM] +
               r->med[M_PRODUCT0 + BP_TC_GRAD];
    if (with_wr)
        t += r->med[M_PRODUCT0 + BP_WR_GRAM] + r->med[M_PRODUCT0 + BP_WR_GRAD];
    return t;
}

static void measure(const options *o, const shape *s, result *r)
{
    bench_ctx c;
    memset(&c, 0, sizeof c);
    c.b = s->b;
    float *X = malloc(s->b * s->d * sizeof *X);
    c.A = malloc(s->b * s->k * sizeof *c.A);
    if (X == NULL || c.A == NULL) {
        fprintf(stderr, "dfsae_bench: out of memory\n");
        exit(1);
    }
    bench_rng rng;
    bench_rng_seed(&rng, o->seed);
    bench_fill_normal(&rng, X, s->b * s->d);
    c.X = X;
    c.alloc.alloc = counting_alloc;
    c.alloc.free = counting_free;
    c.alloc.opaque = &c.counter;
    const dfsae_allocator *hook = o->library_alloc ? NULL : &c.alloc;
    r->base_mib = bench_peak_rss_mib();
    make_model(s, 0.0, o->model_threads, hook, &c.model, &c.opt);
    if (o->step_only) {
        /* The model's peak before the bound's operands exist. */
        step(c.model, c.opt, X, s->b);
        r->rss_mib = bench_peak_rss_mib();
        if (o->huge_ab) {
            make_model(s, 0.0, o->model_threads, NULL, &c.model_lib,
                       &c.opt_lib);
            step(c.model_lib, c.opt_lib, X, s->b);
            r->lib_mib = bench_peak_rss_mib() - r->rss_mib;
        }
    } else {
        make_model(s, 1.0, o->model_threads, hook, &c.model_wr, &c.opt_wr);
        size_t np = dfsae_model_num_params(c.model);
        c.grad = malloc(np * sizeof *c.grad);
        if (c.grad == NULL) {
            fprintf(stderr, "dfsae_bench: out of memory\n");
            exit(1);
        }
        int st = dfsae_model_grad(c.model, X, s->b, c.grad, NULL, NULL, 0);
        if (st == DFSAE_OK)
            st = dfsae_optimizer_create(DFSAE_ADAM, np, hook, &c.opt_share);
        if (st != DFSAE_OK)
            die("optimizer share setup", st, dfsae_model_last_error(c.model));
    }
    if ((o->step_only ? bench_bound_init_step : bench_bound_init)(
            &c.bound, X, s->b, s->d, s->k, o->seed + 1) != 0) {
        fprintf(stderr, "dfsae_bench: out of memory\n");
        exit(1);
    }

    /* Warm-up rounds; the last one sizes the automatic repetition count. */
    int warmup = o->warmup > 0 ? o->warmup : 1;
    double round_time = 0.0;
    for (int w = 0; w < warmup; ++w) {
        double t0 = bench_now();
        for (int item = 0; item < M_COUNT; ++item)
            if (wanted(o, item))
                run_item(&c, item);
        round_time = bench_now() - t0;
    }
    int reps = o->reps;
    if (reps <= 0) {
        double want = o->budget / (round_time > 1e-9 ? round_time : 1e-9);
        reps = want < 5.0 ? 5 : want > 200.0 ? 200 : (int)want;
    }
    double *times = malloc((size_t)reps * M_COUNT * sizeof *times);
    if (times == NULL) {
        fprintf(stderr, "dfsae_bench: out of memory\n");
        exit(1);
    }
    unsigned long long allocs_before = c.counter.allocs;
    for (int rep = 0; rep < reps; ++rep)
        for (int item = 0; item < M_COUNT; ++item) {
            if (!wanted(o, item)) {
                times[(size_t)item * (size_t)reps + (size_t)rep] = 0.0;
                continue;
            }
            double t0 = bench_now();
            run_item(&c, item);
            double t = bench_now() - t0;
            times[(size_t)item * (size_t)reps + (size_t)rep] = t;
        }
    r->allocs =
        o->library_alloc ? -1 : (long long)(c.counter.allocs - allocs_before);
    r->s = *s;
    r->reps = reps;
    for (int item = 0; item < M_COUNT; ++item)
        r->med[item] =
            bench_median(times + (size_t)item * (size_t)reps, (size_t)reps);
    if (!o->step_only)
        r->rss_mib = bench_peak_rss_mib();

    free(times);
    bench_bound_free(&c.bound);
    dfsae_optimizer_free(c.opt);
    dfsae_optimizer_free(c.opt_lib);
    dfsae_model_free(c.model_lib);
    dfsae_optimizer_free(c.opt_wr);
    dfsae_optimizer_free(c.opt_share);
    free(c.grad);
    dfsae_model_free(c.model);
    dfsae_model_free(c.model_wr);
    free(c.A);
    free(X);
}

static double bound_flops(const bench_bound *bb, int with_wr)
{
    double f =
        bench_bound_flops(bb, BP_FORWARD) + bench_bound_flops(bb, BP_WGRAD) +
        bench_bound_flops(bb, BP_TC_GRAM) + bench_bound_flops(bb, BP_TC_GRAD);
    if (with_wr)
        f += bench_bound_flops(bb, BP_WR_GRAM) +
             bench_bound_flops(bb, BP_WR_GRAD);
    return f;
}

/* A bench_bound with only the shape filled in, for flop counts. */
static bench_bound shape_only(const shape *s)
{
    bench_bound bb;
    memset(&bb, 0, sizeof bb);
    bb.b = s->b;
    bb.d = s->d;
    bb.k = s->k;
    bb.tc_sample_side = s->k > s->b;
    bb.wr_sample_side = s->k > s->d;
    return bb;
}

static void print_header(const char *blas, int threads, const char *tsrc,
                         int model_threads)
{
    printf("dfsae %s benchmark; BLAS: %s; BLAS threads: %d (%s); "
           "dfsae threads: %d\n",
           dfsae_version_string(), blas, threads, tsrc, model_threads);
    printf("times are medians; bound = bare CBLAS products of the cheapest "
           "algorithm; ratio = dfsae / bound;\nallocs = allocations through "
           "dfsae's allocator hook during the timed rounds (all items)\n\n");
    printf("%-16s %-4s %9s %9s %6s %11s %9s %6s %11s %11s %6s %8s %8s %5s "
           "%6s\n",
           "B x D x K", "gram", "step ms", "bound ms", "ratio", "step+wr ms",
           "bound ms", "ratio", "encode/s", "bound/s", "ratio", "GFLOP/s",
           "RSS MiB", "reps", "allocs");
}

static void print_row(const result *r)
{
    const double *m = r->med;
    double bound = sum_products(r, 0), bound_wr = sum_products(r, 1);
    double enc_bound = m[M_PRODUCT0 + BP_FORWARD];
    bench_bound bb = shape_only(&r->s);
    char name[32];
    snprintf(name, sizeof name, "%zux%zux%zu", r->s.b, r->s.d, r->s.k);
    printf("%-16s %-4s %9.3f %9.3f %6.2f %11.3f %9.3f %6.2f %11.0f %11.0f "
           "%6.2f %8.1f %8.0f %5d %6lld\n",
           name, bb.tc_sample_side ? "BxB" : "KxK", 1e3 * m[M_STEP],
           1e3 * bound, m[M_STEP] / bound, 1e3 * m[M_STEP_WR], 1e3 * bound_wr,
           m[M_STEP_WR] / bound_wr, (double)r->s.b / m[M_ENCODE],
           (double)r->s.b / enc_bound, enc_bound / m[M_ENCODE],
           1e-9 * bound_flops(&bb, 0) / bound, r->rss_mib, r->reps, r->allocs);
}

static void print_breakdown(const options *o, const result *r, size_t n)
{
    printf("\nbare products (median ms, GFLOP/s):\n");
    for (size_t i = 0; i < n; ++i) {
        bench_bound bb = shape_only(&r[i].s);
        printf("  %zux%zux%zu (the step runs at %.1f GFLOP/s of the bound's "
               "flops; its optimizer step takes %.3f ms)\n",
               r[i].s.b, r[i].s.d, r[i].s.k,
               1e-9 * bound_flops(&bb, 0) / r[i].med[M_STEP],
               1e3 * r[i].med[M_ADAM]);
        for (int p = 0; p < BP_COUNT; ++p) {
            if (!wanted(o, M_PRODUCT0 + p))
                continue;
            char what[96];
            bench_bound_describe(&bb, (bench_product)p, what, sizeof what);
            double t = r[i].med[M_PRODUCT0 + p];
            printf("    %-46s %9.3f ms %8.1f GFLOP/s\n", what, 1e3 * t,
                   1e-9 * bench_bound_flops(&bb, (bench_product)p) / t);
        }
    }
}

static void print_json(const options *o, const result *r, const char *blas,
                       int threads, int model_threads)
{
    const double *m = r->med;
    bench_bound bb = shape_only(&r->s);
    printf("{\"B\": %zu, \"D\": %zu, \"K\": %zu, \"tc_side\": \"%s\", "
           "\"step_ms\": %.6f, \"bound_ms\": %.6f, \"step_wr_ms\": %.6f, "
           "\"bound_wr_ms\": %.6f, \"encode_ms\": %.6f, "
           "\"encode_bound_ms\": %.6f, \"adam_ms\": %.6f, "
           "\"bound_gflops\": %.3f, "
           "\"rss_mib\": %.1f, \"base_mib\": %.1f, \"floor_mib\": %.1f, "
           "\"step_only\": %d, \"library_alloc\": %d, \"huge_ab\": %d, "
           "\"step_lib_ms\": %.6f, \"lib_mib\": %.1f, "
           "\"reps\": %d, \"allocs\": %lld, "
           "\"threads\": %d, \"dfsae_threads\": %d, "
           "\"blas\": \"%s\", \"products_ms\": [",
           r->s.b, r->s.d, r->s.k, bb.tc_sample_side ? "BxB" : "KxK",
           1e3 * m[M_STEP], 1e3 * sum_products(r, 0), 1e3 * m[M_STEP_WR],
           1e3 * sum_products(r, 1), 1e3 * m[M_ENCODE],
           1e3 * m[M_PRODUCT0 + BP_FORWARD], 1e3 * m[M_ADAM],
           1e-9 * bound_flops(&bb, 0) / sum_products(r, 0), r->rss_mib,
           r->base_mib, floor_bytes(&r->s) / (1024.0 * 1024.0), o->step_only,
           o->library_alloc, o->huge_ab, 1e3 * m[M_STEP_LIB], r->lib_mib,
           r->reps, r->allocs, threads, model_threads, blas);
    for (int p = 0; p < BP_COUNT; ++p)
        printf("%s%.6f", p ? ", " : "", 1e3 * m[M_PRODUCT0 + p]);
    printf("]}\n");
}

static int parse_shape(const char *arg, shape *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (errno == 0 && *end == '\0') {
        if (v >= N_DEFAULT_SHAPES)
            return -1;
        *s = k_default_shapes[v];
        return 0;
    }
    size_t b, d, k;
    char tail;
    if (sscanf(arg, "%zux%zux%zu%c", &b, &d, &k, &tail) != 3 || b < 2 ||
        d == 0 || k == 0)
        return -1;
    s->b = b;
    s->d = d;
    s->k = k;
    return 0;
}

static void usage(FILE *f)
{
    fprintf(
        f, "usage: dfsae_bench [options]\n"
           "  --shape I|BxDxK  a shape: index I into the default list, or "
           "explicit (repeatable)\n"
           "                   default: all of 128x784x64 1024x784x1024 "
           "1024x768x4096 4096x768x4096\n"
           "  --reps N         timed repetitions (default: fill --budget)\n"
           "  --warmup N       untimed rounds first (default 2)\n"
           "  --budget S       seconds of timed rounds per shape (default 10)\n"
           "  --threads N      BLAS threads (OpenBLAS's "
           "openblas_set_num_threads)\n"
           "  --dfsae-threads N  the models' own threads "
           "(dfsae_model_set_threads;\n"
           "                   default: the BLAS's thread count)\n"
           "  --seed N         data seed (default 42)\n"
           "  --json           one JSON object per shape instead of the table\n"
           "  --check DIR      write a small problem and dfsae's results "
           "there for torch_step.py --check\n"
           "  --step-only      one model: the default step and its four "
           "products only;\n"
           "                   RSS is the model's peak after its first step, "
           "next to its floor\n"
           "  --library-alloc  the library's own (default) allocator "
           "for every model\n"
           "                   instead of the counting malloc hook; allocs "
           "then -1\n"
           "  --huge-ab        --step-only with a second model on the "
           "library's allocator,\n"
           "                   its step timed in the same rounds "
           "(an allocator change against the hook)\n");
}

static int parse_int(const char *s, int lo, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > 1000000)
        return -1;
    *out = (int)v;
    return 0;
}

static int parse_args(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->warmup = 2;
    o->budget = 10.0;
    o->seed = 42;
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(a, "--json") == 0) {
            o->json = 1;
            continue;
        } else if (strcmp(a, "--step-only") == 0) {
            o->step_only = 1;
            continue;
        } else if (strcmp(a, "--library-alloc") == 0) {
            o->library_alloc = 1;
            continue;
        } else if (strcmp(a, "--huge-ab") == 0) {
            o->huge_ab = o->step_only = 1;
            continue;
        } else if (v == NULL) {
            bad = 1;
        } else if (strcmp(a, "--shape") == 0) {
            bad = o->n_shapes == MAX_SHAPES ||
                  parse_shape(v, &o->shapes[o->n_shapes++]) != 0;
        } else if (strcmp(a, "--reps") == 0) {
            bad = parse_int(v, 1, &o->reps) != 0;
        } else if (strcmp(a, "--warmup") == 0) {
            bad = parse_int(v, 0, &o->warmup) != 0;
        } else if (strcmp(a, "--threads") == 0) {
            bad = parse_int(v, 1, &o->threads) != 0;
        } else if (strcmp(a, "--dfsae-threads") == 0) {
            bad = parse_int(v, 1, &o->model_threads) != 0;
        } else if (strcmp(a, "--budget") == 0) {
            char *end;
            o->budget = strtod(v, &end);
            bad = *end != '\0' || !(o->budget > 0.0);
        } else if (strcmp(a, "--seed") == 0) {
            char *end;
            errno = 0;
            o->seed = strtoull(v, &end, 10);
            bad = errno != 0 || *end != '\0';
        } else if (strcmp(a, "--check") == 0) {
            o->check_dir = v;
        } else {
            bad = 1;
        }
        if (bad) {
            fprintf(stderr, "dfsae_bench: bad option or value: %s%s%s\n", a,
                    v ? " " : "", v ? v : "");
            usage(stderr);
            return -1;
        }
        ++i;
    }
    if (o->n_shapes == 0) {
        for (size_t i = 0; i < N_DEFAULT_SHAPES; ++i)
            o->shapes[i] = k_default_shapes[i];
        o->n_shapes = N_DEFAULT_SHAPES;
    }
    return 0;
}

int main(int argc, char **argv)
{
    options o;
    if (parse_args(argc, argv, &o) != 0)
        return 2;
    if (o.threads > 0 && !bench_blas_set_threads(o.threads))
        fprintf(stderr, "dfsae_bench: this BLAS has no "
                        "openblas_set_num_threads; --threads ignored "
                        "(set OPENBLAS_NUM_THREADS or OMP_NUM_THREADS)\n");
    if (o.check_dir != NULL)
        return bench_check_write(o.check_dir, o.seed);

    char blas[256];
    const char *tsrc;
    bench_blas_name(blas, sizeof blas);
    int threads = bench_blas_threads(&tsrc);
    if (o.model_threads == 0)
        o.model_threads = threads > 0 ? threads : 1;
    if (!o.json) {
        print_header(blas, threads, tsrc, o.model_threads);
        fflush(stdout);
    }
    result res[MAX_SHAPES];
    for (size_t i = 0; i < o.n_shapes; ++i) {
        measure(&o, &o.shapes[i], &res[i]);
        if (o.json)
            print_json(&o, &res[i], blas, threads, o.model_threads);
        else
            print_row(&res[i]);
        fflush(stdout);
    }
    if (!o.json)
        print_breakdown(&o, res, o.n_shapes);
    return 0;
}
