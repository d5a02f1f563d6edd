/* Shared helpers of the benchmark programs: clock, normal random data,
 * medians, peak memory, which BLAS is loaded and its threads, .npy output.
 * Not part of libdfsae. */
#ifndef DFSAE_BENCH_COMMON_H
#define DFSAE_BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic wall clock in seconds. */
double bench_now(void);

/* Median of v[0..n) (sorts v in place); 0 if n == 0. */
double bench_median(double *v, size_t n);

/* The q-quantile of v[0..n) by nearest rank (sorts v in place); n > 0. */
double bench_quantile(double *v, size_t n, double q);

/* A small seeded generator (tests/support/splitmix64.h): same seed, same
 * numbers. */
typedef struct bench_rng {
    uint64_t state;
} bench_rng;

void bench_rng_seed(bench_rng *rng, uint64_t seed);
uint64_t bench_rng_next(bench_rng *rng);
/* Uniform in [0, n), n > 0. */
size_t bench_rng_below(bench_rng *rng, size_t n);
/* Fill v[0..n) with N(0, 1) samples (Box-Muller). */
void bench_fill_normal(bench_rng *rng, float *v, size_t n);

/* A counter of the whole system's /proc/vmstat (e.g.
 * "workingset_refault_file": file pages read back after the kernel had
 * dropped them); -1 where there is none. */
long long bench_vmstat(const char *key);

/* Peak resident set size of this process so far, in MiB. */
double bench_peak_rss_mib(void);

/* The BLAS that cblas_sgemm resolves to, for the report: OpenBLAS's own
 * configuration string when the library exports it, else the path of the
 * shared object that holds cblas_sgemm. Writes at most cap bytes. */
void bench_blas_name(char *buf, size_t cap);

/* BLAS threads: OpenBLAS's count when it exports openblas_get_num_threads,
 * else OPENBLAS_NUM_THREADS / OMP_NUM_THREADS from the environment, else 0
 * (unknown). *source says which. */
int bench_blas_threads(const char **source);

/* Ask the BLAS for n threads (OpenBLAS's openblas_set_num_threads, looked
 * up at run time so no link dependency on OpenBLAS). Returns 0 if the BLAS
 * offers no such call: then only OPENBLAS_NUM_THREADS, set before the
 * program starts, can choose. */
int bench_blas_set_threads(int n);

/* Write a float32 C-order .npy file of the given shape (rank 1 or 2).
 * Returns 0 on success, -1 with errno set on failure. */
int bench_write_npy(const char *path, const float *data, size_t rows,
                    size_t cols, int rank);

#endif
