/* Streaming-read bandwidth and sgemm rate (bench_machine.h). */
#include "bench_machine.h"

#include <cblas.h>
#include <stdint.h>
#include <stdlib.h>

#include "bench_common.h"

/* 256 MiB: eight times a 32 MiB LLC, so a pass comes from memory. */
#define READ_MIB  ((size_t)256)
#define READ_REPS 10
#define GEMM_SIDE ((size_t)1024)
#define GEMM_REPS 3

/* Integer sums reassociate freely, so the compiler vectorises the loop
 * and the pass is bound by the read, not by an add chain. */
static uint64_t sum_words(const uint64_t *p, size_t n)
{
    uint64_t s = 0;
    for (size_t i = 0; i < n; ++i)
        s += p[i];
    return s;
}

static int measure_read(bench_machine *m)
{
    const size_t n = READ_MIB * 1024 * 1024 / sizeof(uint64_t);
    uint64_t *p = malloc(n * sizeof *p);
    if (p == NULL)
        return -1;
    for (size_t i = 0; i < n; ++i) /* touched: pages mapped before timing */
        p[i] = i;
    volatile uint64_t sink = 0;
    double best = 1e30;
    for (int r = 0; r < READ_REPS; ++r) {
        const double t0 = bench_now();
        sink += sum_words(p, n);
        const double t = bench_now() - t0;
        best = t < best ? t : best;
    }
    (void)sink;
    free(p);
    m->read_mib = READ_MIB;
    m->read_gbps = (double)(n * sizeof(uint64_t)) / best * 1e-9;
    return 0;
}

static int measure_gemm(bench_machine *m)
{
    const size_t s = GEMM_SIDE;
    float *a = malloc(3 * s * s * sizeof *a);
    if (a == NULL)
        return -1;
    bench_rng g;
    bench_rng_seed(&g, 5);
    bench_fill_normal(&g, a, 3 * s * s);
    const int is = (int)s;
    double best = 1e30;
    for (int r = 0; r < GEMM_REPS + 1; ++r) { /* the first warms up */
        const double t0 = bench_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, is, is, is, 1.0f,
                    a, is, a + s * s, is, 0.0f, a + 2 * s * s, is);
        const double t = bench_now() - t0;
        best = r > 0 && t < best ? t : best;
    }
    free(a);
    m->gemm_side = s;
    m->gemm_gflops = 2.0 * (double)s * (double)s * (double)s / best * 1e-9;
    return 0;
}

int bench_machine_measure(bench_machine *m)
{
    return measure_read(m) == 0 && measure_gemm(m) == 0 ? 0 : -1;
}

double bench_machine_bound_us(const bench_machine *m, double bytes,
                              double flops)
{
    const double read_us = bytes / m->read_gbps * 1e-3;
    const double flop_us = flops / m->gemm_gflops * 1e-3;
    return read_us > flop_us ? read_us : flop_us;
}
