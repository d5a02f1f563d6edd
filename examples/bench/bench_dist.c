/* dfsae_bench_dist: time per training step (dfsae_train_step, Adam, the
 * default terms) on one global batch over the ranks of MPI_COMM_WORLD,
 * and the bytes the step hands to the collectives, counted by wrapping
 * libdfsae_mpi's callbacks (docs/performance.md, "Distributed").
 *
 *   mpirun -np N dfsae_bench_dist --mode data|dictionary|none
 *          --shape BxDxK [--steps S] [--warmup W] [--threads T]
 *
 * `none` is one process without a comm (run it with -np 1). Each step is
 * timed between barriers, so a time is the slowest rank's; the median of
 * S steps is printed by rank 0 as one line of key=value pairs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* dfsae_model_set_threads is in the experimental tier. */
#define DFSAE_STATIC_LINKING_ONLY
#include "dfsae_mpi.h"

#include "bench_common.h"

/* The byte counter around the real callbacks. */
typedef struct counted {
    dfsae_comm inner;
    unsigned long long bytes, calls;
} counted;

static int c_sum_f64(void *u, double *buf, size_t n)
{
    counted *c = u;
    c->bytes += n * sizeof *buf;
    c->calls++;
    return c->inner.sum_f64(c->inner.user, buf, n);
}

static int c_sum_f32(void *u, float *buf, size_t n)
{
    counted *c = u;
    c->bytes += n * sizeof *buf;
    c->calls++;
    return c->inner.sum_f32(c->inner.user, buf, n);
}

static int c_min_f32(void *u, float *buf, size_t n)
{
    counted *c = u;
    c->bytes += n * sizeof *buf;
    c->calls++;
    return c->inner.min_f32(c->inner.user, buf, n);
}

static int c_agree(void *u, int st)
{
    counted *c = u;
    c->bytes += sizeof st;
    c->calls++;
    return c->inner.agree(c->inner.user, st);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const char *mode = "data";
    unsigned long b = 4096, d = 768, k = 4096;
    int steps = 5, warmup = 1, threads = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--mode") == 0)
            mode = argv[i + 1];
        else if (strcmp(argv[i], "--shape") == 0)
            sscanf(argv[i + 1], "%lux%lux%lu", &b, &d, &k);
        else if (strcmp(argv[i], "--steps") == 0)
            steps = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--warmup") == 0)
            warmup = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[i + 1]);
    }
    const int dict = strcmp(mode, "dictionary") == 0;
    const int none = strcmp(mode, "none") == 0;
    if (steps < 1 || steps > 1000 || (none && size != 1)) {
        if (rank == 0)
            fprintf(stderr, "dfsae_bench_dist: bad arguments\n");
        MPI_Finalize();
        return 2;
    }
    /* This rank's rows (data) or components (dictionary). */
    size_t r0 = none || dict ? 0 : b * (size_t)rank / (size_t)size;
    size_t r1 = none || dict ? b : b * ((size_t)rank + 1) / (size_t)size;
    size_t k0 = dict ? k * (size_t)rank / (size_t)size : 0;
    size_t k1 = dict ? k * ((size_t)rank + 1) / (size_t)size : k;
    float *X = malloc((r1 - r0) * d * sizeof *X + 1);
    /* N(0, 1) rows from the benchmarks' one generator, seeded by the first
     * row so that each rank holds different rows. */
    bench_rng rng;
    bench_rng_seed(&rng, 12345 + r0);
    if (X != NULL)
        bench_fill_normal(&rng, X, (r1 - r0) * d);
    dfsae_model *m = NULL;
    dfsae_optimizer *o = NULL;
    dfsae_mpi ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.mpi = MPI_COMM_NULL;
    counted cnt;
    memset(&cnt, 0, sizeof cnt);
    int st = X == NULL ? DFSAE_ERR_NO_MEMORY
                       : dfsae_model_create(d, k1 - k0, 7 + k0, NULL, &m);
    if (st == DFSAE_OK)
        st = dfsae_model_set_threads(m, threads);
    if (st == DFSAE_OK)
        st = dfsae_optimizer_create(DFSAE_ADAM, dfsae_model_num_params(m), NULL,
                                    &o);
    if (st == DFSAE_OK && !none) {
        st = dfsae_mpi_init(&ctx, MPI_COMM_WORLD);
        cnt.inner = ctx.comm;
        dfsae_comm wrapped = ctx.comm;
        wrapped.user = &cnt;
        wrapped.sum_f64 = c_sum_f64;
        wrapped.sum_f32 = c_sum_f32;
        wrapped.min_f32 = c_min_f32;
        wrapped.agree = c_agree;
        if (st == DFSAE_OK)
            st = dfsae_model_set_comm(
                m, &wrapped, dict ? DFSAE_DIST_DICTIONARY : DFSAE_DIST_DATA);
    }
    if (st == DFSAE_OK)
        st = dfsae_model_reserve(m, r1 - r0 > 0 ? r1 - r0 : 1);
    double *times = malloc((size_t)steps * sizeof *times);
    unsigned long long bytes0 = 0, calls0 = 0;
    for (int i = 0; st == DFSAE_OK && i < warmup + steps; ++i) {
        if (i == warmup && !none) {
            bytes0 = cnt.bytes;
            calls0 = cnt.calls;
        }
        double loss;
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        st = dfsae_train_step(m, o, X, r1 - r0, &loss, NULL, 0);
        MPI_Barrier(MPI_COMM_WORLD);
        if (i >= warmup)
            times[i - warmup] = MPI_Wtime() - t0;
    }
    if (st != DFSAE_OK)
        fprintf(stderr, "dfsae_bench_dist: rank %d: %s: %s\n", rank,
                dfsae_status_string(st), dfsae_model_last_error(m));
    else if (rank == 0) {
        /* bench_median sorts times: min and max are then at the ends. */
        double median = bench_median(times, (size_t)steps);
        double per = none ? 0.0 : (double)(cnt.bytes - bytes0) / steps;
        double calls = none ? 0.0 : (double)(cnt.calls - calls0) / steps;
        printf("mode=%s ranks=%d threads=%d shape=%lux%lux%lu steps=%d "
               "ms_per_step=%.1f min_ms=%.1f max_ms=%.1f "
               "reduced_bytes_per_step=%.0f collectives_per_step=%.0f\n",
               mode, size, threads, b, d, k, steps, 1e3 * median,
               1e3 * times[0], 1e3 * times[steps - 1], per, calls);
    }
    free(times);
    dfsae_optimizer_free(o);
    dfsae_model_free(m);
    dfsae_mpi_finish(&ctx);
    free(X);
    MPI_Finalize();
    return st == DFSAE_OK ? 0 : 1;
}
