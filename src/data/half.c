/* float16 / bfloat16 to float32, batch by batch (half.h). */
#include <string.h>

#include "data/half.h"
#include "fastmath.h"

#if (defined(__x86_64__) || defined(__i386__)) &&                              \
    (defined(__GNUC__) || defined(__clang__)) && !defined(DFSAE_NO_F16C)
#define DFSAE_HAVE_F16C_PATH 1
#include <cpuid.h>
#include <immintrin.h>
#endif

/* Bits of float32 for one float16 pattern, branch-free so that the loop
 * vectorises. Normal numbers only need the exponent rebiased (127 - 15);
 * Inf/NaN get the all-ones exponent (and NaNs the quiet bit, as F16C
 * does); a subnormal m * 2^-24 is formed in float, where it is exact. */
static inline uint32_t f16_bits(uint32_t h)
{
    const uint32_t sign = (h & 0x8000u) << 16;
    const uint32_t em = (h & 0x7fffu) << 13;
    const uint32_t exp = em & 0x0f800000u;
    const uint32_t mant = h & 0x03ffu;
    float sub = (float)mant * 0x1p-24f;
    uint32_t sub_bits;
    memcpy(&sub_bits, &sub, sizeof sub_bits);
    const uint32_t normal = em + 0x38000000u;
    const uint32_t special = (em + 0x70000000u) | (mant ? 0x00400000u : 0u);
    uint32_t out = exp == 0 ? sub_bits : normal;
    out = exp == 0x0f800000u ? special : out;
    return out | sign;
}

DFSAE_MULTIVERSION
static void f16_portable(const uint16_t *src, float *dst, size_t n)
{
    for (size_t i = 0; i < n; ++i) {
        uint32_t b = f16_bits(src[i]);
        memcpy(&dst[i], &b, sizeof b);
    }
}

void dfsae__f16_to_f32_portable(const uint16_t *src, float *dst, size_t n)
{
    f16_portable(src, dst, n);
}

#ifdef DFSAE_HAVE_F16C_PATH
__attribute__((target("avx,f16c"))) static void f16_f16c(const uint16_t *src,
                                                         float *dst, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm_loadu_si128((const __m128i *)(const void *)(src + i));
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
    }
    f16_portable(src + i, dst + i, n - i);
}

/* CPUID leaf 1: F16C (ECX bit 29) and AVX (bit 28), with the OS saving the
 * YMM registers (OSXSAVE, bit 27, and XCR0 bits 1-2). __builtin_cpu_supports
 * would do, but clang 14 does not know "f16c". */
int dfsae__f16c_available(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    const unsigned need = (1u << 29) | (1u << 28) | (1u << 27);
    if ((c & need) != need)
        return 0;
    unsigned lo, hi;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    return (lo & 6u) == 6u;
}

void dfsae__f16_to_f32_f16c(const uint16_t *src, float *dst, size_t n)
{
    f16_f16c(src, dst, n);
}
#else
int dfsae__f16c_available(void)
{
    return 0;
}

void dfsae__f16_to_f32_f16c(const uint16_t *src, float *dst, size_t n)
{
    f16_portable(src, dst, n);
}
#endif

dfsae__widen_fn dfsae__f16_converter(void)
{
#ifdef DFSAE_HAVE_F16C_PATH
    if (dfsae__f16c_available())
        return f16_f16c;
#endif
    return f16_portable;
}

void dfsae__f16_to_f32(const uint16_t *src, float *dst, size_t n)
{
    dfsae__f16_converter()(src, dst, n);
}

DFSAE_MULTIVERSION
static void bf16_loop(const uint16_t *src, float *dst, size_t n)
{
    for (size_t i = 0; i < n; ++i) {
        uint32_t b = (uint32_t)src[i] << 16;
        memcpy(&dst[i], &b, sizeof b);
    }
}

void dfsae__bf16_to_f32(const uint16_t *src, float *dst, size_t n)
{
    bf16_loop(src, dst, n);
}
