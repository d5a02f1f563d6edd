/* Same-process A/B of dfsae_model_forward between two builds of libdfsae
 * (`dfsae_bench_latency ab`): both loaded with bench_lib.h, the same model
 * (B's parameters copied from A's) and the same inputs on both sides, the
 * calls alternated one by one with the order flipped on every call, so
 * that load from other processes, frequency changes and cache state hit
 * both alike. Built only where dlmopen exists (glibc). */
#ifndef DFSAE_BENCH_AB_H
#define DFSAE_BENCH_AB_H

#include "bench_lib.h"

typedef struct bench_ab {
    bench_lib lib[2];
} bench_ab;

/* Loads both libraries (an error on stderr if either fails) and prints
 *   ABLIB a|b VERSION PATH
 * for each. Returns 0 or -1. */
int bench_ab_open(bench_ab *ab, const char *lib_a, const char *lib_b);
void bench_ab_close(bench_ab *ab);

/* One cell: warm-up (a tenth of `budget` seconds, at least 3 pairs), then
 * as many alternated pairs as fit the rest (50 to 20000), and prints
 *   AB D K n act z calls a_p10 a_p50 a_p99 b_p10 b_p50 b_p99
 *      b/a_p10 b/a_p50 b/a_p99 max_abs_diff
 * times in us per call, act the activation's name, z 1 if Z was written
 * too, max_abs_diff the largest |A_a - A_b| (and |Z_a - Z_b|) over the
 * cell's outputs. Returns 0, or 1 with the reason on stderr. */
int bench_ab_cell(const bench_ab *ab, size_t d, size_t k, size_t n, int act,
                  int want_z, double budget);

#endif
