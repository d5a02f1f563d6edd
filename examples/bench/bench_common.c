/* Shared helpers of the benchmark programs (see bench_common.h). */
#define _GNU_SOURCE /* dladdr, RTLD_DEFAULT, clock_gettime, getrusage */
#include "bench_common.h"

#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "splitmix64.h"

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, size_t n)
{
    if (n == 0)
        return 0.0;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double bench_quantile(double *v, size_t n, double q)
{
    qsort(v, n, sizeof *v, cmp_double);
    const size_t i = (size_t)(q * (double)n);
    return v[i < n ? i : n - 1];
}

void bench_rng_seed(bench_rng *rng, uint64_t seed)
{
    rng->state = seed;
}

uint64_t bench_rng_next(bench_rng *rng)
{
    return splitmix64_next(&rng->state);
}

size_t bench_rng_below(bench_rng *rng, size_t n)
{
    /* The modulo bias is below 2^-40 for any n a benchmark uses. */
    return (size_t)(bench_rng_next(rng) % (uint64_t)n);
}

/* Uniform in (0, 1]: never 0, so log() below is finite. */
static double uniform01(bench_rng *rng)
{
    return ((double)(bench_rng_next(rng) >> 11) + 1.0) * 0x1.0p-53;
}

void bench_fill_normal(bench_rng *rng, float *v, size_t n)
{
    const double two_pi = 6.283185307179586;
    for (size_t i = 0; i < n; i += 2) {
        double r = sqrt(-2.0 * log(uniform01(rng)));
        double t = two_pi * uniform01(rng);
        v[i] = (float)(r * cos(t));
        if (i + 1 < n)
            v[i + 1] = (float)(r * sin(t));
    }
}

long long bench_vmstat(const char *key)
{
    FILE *f = fopen("/proc/vmstat", "r");
    if (f == NULL)
        return -1;
    char name[128];
    long long value, found = -1;
    while (found < 0 && fscanf(f, "%127s %lld", name, &value) == 2)
        if (strcmp(name, key) == 0)
            found = value;
    fclose(f);
    return found;
}

double bench_peak_rss_mib(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0.0;
    return (double)ru.ru_maxrss / 1024.0; /* Linux reports KiB */
}

/* dlsym's object pointer to a function pointer without the cast that ISO C
 * leaves undefined (POSIX guarantees the representation). */
#define BENCH_LOOKUP(fp, name)                                                 \
    do {                                                                       \
        void *sym_ = dlsym(RTLD_DEFAULT, name);                                \
        fp = NULL;                                                             \
        if (sym_ != NULL)                                                      \
            memcpy(&fp, &sym_, sizeof fp);                                     \
    } while (0)

void bench_blas_name(char *buf, size_t cap)
{
    char *(*get_config)(void);
    char *(*get_corename)(void);
    BENCH_LOOKUP(get_config, "openblas_get_config");
    BENCH_LOOKUP(get_corename, "openblas_get_corename");
    if (get_config != NULL) {
        snprintf(buf, cap, "%s (core %s)", get_config(),
                 get_corename != NULL ? get_corename() : "?");
        return;
    }
    Dl_info info;
    void *sgemm = dlsym(RTLD_DEFAULT, "cblas_sgemm");
    if (sgemm != NULL && dladdr(sgemm, &info) != 0 && info.dli_fname) {
        char *real = realpath(info.dli_fname, NULL);
        snprintf(buf, cap, "%s", real != NULL ? real : info.dli_fname);
        free(real);
        return;
    }
    snprintf(buf, cap, "unknown CBLAS");
}

int bench_blas_threads(const char **source)
{
    int (*get_threads)(void);
    BENCH_LOOKUP(get_threads, "openblas_get_num_threads");
    if (get_threads != NULL) {
        *source = "openblas_get_num_threads";
        return get_threads();
    }
    const char *vars[] = {"OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; ++i) {
        const char *v = getenv(vars[i]);
        if (v != NULL && atoi(v) > 0) {
            *source = vars[i];
            return atoi(v);
        }
    }
    *source = "unknown";
    return 0;
}

int bench_blas_set_threads(int n)
{
    void (*set_threads)(int);
    BENCH_LOOKUP(set_threads, "openblas_set_num_threads");
    if (set_threads == NULL)
        return 0;
    set_threads(n);
    return 1;
}

int bench_write_npy(const char *path, const float *data, size_t rows,
                    size_t cols, int rank)
{
    char header[128];
    int len = rank == 1 ? snprintf(header, sizeof header,
                                   "{'descr': '<f4', 'fortran_order': False, "
                                   "'shape': (%zu,), }",
                                   rows * cols)
                        : snprintf(header, sizeof header,
                                   "{'descr': '<f4', 'fortran_order': False, "
                                   "'shape': (%zu, %zu), }",
                                   rows, cols);
    /* Version 1.0: 10-byte preamble, header padded with spaces and ended by
     * a newline so the data starts on a 64-byte boundary. */
    size_t total = 10 + (size_t)len + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)len + pad + 1;
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    unsigned char pre[10] = {0x93,
                             'N',
                             'U',
                             'M',
                             'P',
                             'Y',
                             1,
                             0,
                             (unsigned char)(hlen & 0xff),
                             (unsigned char)(hlen >> 8)};
    int ok = fwrite(pre, 1, sizeof pre, f) == sizeof pre &&
             fwrite(header, 1, (size_t)len, f) == (size_t)len;
    for (size_t i = 0; ok && i < pad; ++i)
        ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF;
    /* x86 and every target we build for are little-endian ('<f4'). */
    ok = ok && fwrite(data, sizeof *data, rows * cols, f) == rows * cols;
    if (fclose(f) != 0)
        ok = 0;
    if (!ok && errno == 0)
        errno = EIO;
    return ok ? 0 : -1;
}
