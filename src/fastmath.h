/* Small vectorisable math kernels for the elementwise sweeps. */
#ifndef DFSAE_FASTMATH_H
#define DFSAE_FASTMATH_H

#include <stddef.h>
#include <stdint.h>

/* The elementwise sweeps and the optimizer get AVX-512 and AVX2 clones
 * picked at load time (GNU ifunc); the default build targets baseline
 * x86-64. -ffp-contract=off keeps every clone's rounding the same. Only
 * on static functions, and only with gcc: clang 14 exports the resolvers
 * of static clones (test_abi_symbols caught it). DFSAE_PORTABLE_ONLY
 * leaves only the default version, which no run-time switch could pick. */
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) &&          \
    !defined(__clang__) && __GNUC__ >= 8 && !defined(DFSAE_PORTABLE_ONLY)
#define DFSAE_MULTIVERSION                                                     \
    __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define DFSAE_MULTIVERSION
#endif
#include <string.h>

/* exp(x) for x <= 0 in float, branch-free so loops over it vectorise
 * (libm's expf does not without -ffast-math). Range reduction x = n ln2 + r
 * with |r| <= ln2/2, a degree-7 polynomial for e^r, and 2^n built from its
 * exponent bits. Inputs below -87 give 0 (e^-87 ~ 1.6e-38). Measured
 * relative error over [-87, 0]: 1.4 ulp (tests/test_fastexp.c). */
static inline float dfsae__exp_nonpos(float x)
{
    const float shifter = 12582912.0f; /* 1.5 * 2^23: rounds to integer */
    /* NaN (from Inf - Inf upstream) must not reach the float-to-int
     * conversion below, which is undefined for it: clamp it too, and pass
     * it through at the end. */
    float xc = x >= -87.0f ? x : -87.0f;
    float t = xc * 1.44269504088896341f + shifter;
    float n = t - shifter;
    float r = xc - n * 0.693145751953125f; /* ln2 split for exactness */
    r = r - n * 1.42860682030941723e-06f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    /* C11 allows reading the other member of a union; unlike memcpy it
     * keeps the loop vectorisable. */
    union {
        int32_t i;
        float f;
    } scale = {.i = ((int32_t)n + 127) * (1 << 23)};
    return x >= -87.0f ? p * scale.f : (x < -87.0f ? 0.0f : x);
}

/* Sums in double of x[0..k) and of its squares, in sixteen independent
 * lanes: they vectorise (gcc 12 does not vectorise a float-to-double `omp
 * simd` reduction), and each vector of lanes is its own chain of adds, so
 * the adds' latency is hidden. */
#define DFSAE_SUM_LANES 16

/* The lanes' total as a tree (halves added pairwise): four vector adds
 * deep rather than fifteen scalar ones, which matters for short rows. */
static inline double dfsae__lanes_total(double *lane)
{
    for (size_t w = DFSAE_SUM_LANES / 2; w > 0; w /= 2)
        for (size_t l = 0; l < w; ++l)
            lane[l] += lane[l + w];
    return lane[0];
}

static inline double dfsae__sum_f64(const float *x, size_t k)
{
    double lane[DFSAE_SUM_LANES] = {0.0};
    size_t j = 0;
    for (; j + DFSAE_SUM_LANES <= k; j += DFSAE_SUM_LANES)
        for (size_t l = 0; l < DFSAE_SUM_LANES; ++l)
            lane[l] += (double)x[j + l];
    double s = dfsae__lanes_total(lane);
    for (; j < k; ++j)
        s += (double)x[j];
    return s;
}

static inline double dfsae__sumsq_f64(const float *x, size_t k)
{
    double lane[DFSAE_SUM_LANES] = {0.0};
    size_t j = 0;
    for (; j + DFSAE_SUM_LANES <= k; j += DFSAE_SUM_LANES)
        for (size_t l = 0; l < DFSAE_SUM_LANES; ++l)
            lane[l] += (double)x[j + l] * (double)x[j + l];
    double s = dfsae__lanes_total(lane);
    for (; j < k; ++j)
        s += (double)x[j] * (double)x[j];
    return s;
}

static inline double dfsae__dot_f64(const float *x, const float *y, size_t k)
{
    double lane[DFSAE_SUM_LANES] = {0.0};
    size_t j = 0;
    for (; j + DFSAE_SUM_LANES <= k; j += DFSAE_SUM_LANES)
        for (size_t l = 0; l < DFSAE_SUM_LANES; ++l)
            lane[l] += (double)x[j + l] * (double)y[j + l];
    double s = dfsae__lanes_total(lane);
    for (; j < k; ++j)
        s += (double)x[j] * (double)y[j];
    return s;
}

/* A double m as two floats, hi + lo = m to about 2^-48 relative, so that
 * float sweeps can centre on it (dfsae__centre). */
static inline void dfsae__split_double(double m, float *hi, float *lo)
{
    *hi = (float)m;
    *lo = (float)(m - (double)*hi);
}

/* a - m in float for m split by dfsae__split_double: the first difference
 * is exact when a and hi are within a factor 2 (Sterbenz), else rounded
 * once relative to a result comparable to a; lo is below half an ulp of
 * hi. Within about an ulp of the exact a - m (tests/test_fastexp.c), with
 * 16 lanes to a vector where the double subtraction has 8. */
static inline float dfsae__centre(float a, float hi, float lo)
{
    return (a - hi) - lo;
}

/* 1 if the IEEE-754 single has an all-ones exponent (NaN or Inf). */
static inline int dfsae__is_nonfinite_bits(uint32_t u)
{
    return (u & 0x7f800000u) == 0x7f800000u;
}

/* The same test on a float; an integer result so that OR-reductions over
 * it vectorise. */
static inline uint32_t dfsae__nonfinite(float x)
{
    union {
        float f;
        uint32_t u;
    } b = {x};
    return (uint32_t)dfsae__is_nonfinite_bits(b.u);
}

#endif
