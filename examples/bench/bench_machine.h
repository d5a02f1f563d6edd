/* What the machine can do, measured in the run that uses it: the rate at
 * which one thread streams memory, and the rate of a large sgemm. Encode
 * latency is judged against the larger of the time to read W at the one
 * and the time for the flops at the other (issue 16). */
#ifndef DFSAE_BENCH_MACHINE_H
#define DFSAE_BENCH_MACHINE_H

#include <stddef.h>

typedef struct bench_machine {
    double read_gbps;   /* bytes per ns, best of a few passes */
    double gemm_gflops; /* flops per ns of a square sgemm, best of a few */
    size_t read_mib;    /* the buffer read (several times the LLC) */
    size_t gemm_side;   /* side of the sgemm */
} bench_machine;

/* 0 on success, -1 if a buffer could not be allocated. */
int bench_machine_measure(bench_machine *m);

/* max(bytes / read rate, flops / gemm rate), in microseconds. */
double bench_machine_bound_us(const bench_machine *m, double bytes,
                              double flops);

#endif
