/* float16 / bfloat16 to float32, batch by batch (half.h). */
#include <string.h>

#include "data/half.h"
#include "fastmath.h"

#if (defined(__x86_64__) || defined(__i386__)) &&                              \
    (defined(__GNUC__) || defined(__clang__))
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

/* Index of the first value whose exponent bits are all ones (Inf or NaN),
 * or n: blocks tested with an OR-reduction, which vectorises, the exact
 * index looked for only in a block that has one. */
DFSAE_MULTIVERSION
static size_t first_special(const uint16_t *h, size_t n, uint16_t exp_mask)
{
    const size_t block = 4096;
    for (size_t start = 0; start < n; start += block) {
        size_t len = n - start < block ? n - start : block;
        unsigned bad = 0;
        for (size_t j = 0; j < len; ++j)
            bad |= (h[start + j] & exp_mask) == exp_mask;
        if (bad)
            for (size_t j = 0; j < len; ++j)
                if ((h[start + j] & exp_mask) == exp_mask)
                    return start + j;
    }
    return n;
}

size_t dfsae__half_first_special(const uint16_t *h, size_t n, int bfloat)
{
    return first_special(h, n, bfloat ? 0x7f80u : 0x7c00u);
}

DFSAE_MULTIVERSION
static size_t f16_portable(const uint16_t *src, float *dst, size_t n)
{
    unsigned special = 0;
    for (size_t i = 0; i < n; ++i) {
        uint32_t b = f16_bits(src[i]);
        memcpy(&dst[i], &b, sizeof b);
        special |= (src[i] & 0x7c00u) == 0x7c00u;
    }
    return special ? first_special(src, n, 0x7c00u) : n;
}

size_t dfsae__f16_to_f32_portable(const uint16_t *src, float *dst, size_t n)
{
    return f16_portable(src, dst, n);
}

#ifdef DFSAE_HAVE_F16C_PATH
/* The exponent test rides along in integer lanes: a compare and an OR per
 * 8 values, no second pass over the data. */
__attribute__((target("avx,f16c"))) static size_t f16_f16c(const uint16_t *src,
                                                           float *dst, size_t n)
{
    const __m128i mask = _mm_set1_epi16(0x7c00);
    __m128i special = _mm_setzero_si128();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm_loadu_si128((const __m128i *)(const void *)(src + i));
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
        special = _mm_or_si128(special,
                               _mm_cmpeq_epi16(_mm_and_si128(h, mask), mask));
    }
    size_t tail = f16_portable(src + i, dst + i, n - i);
    if (_mm_movemask_epi8(special) != 0)
        return first_special(src, n, 0x7c00u);
    return tail == n - i ? n : i + tail;
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

size_t dfsae__f16_to_f32_f16c(const uint16_t *src, float *dst, size_t n)
{
    return f16_f16c(src, dst, n);
}
#else
int dfsae__f16c_available(void)
{
    return 0;
}

size_t dfsae__f16_to_f32_f16c(const uint16_t *src, float *dst, size_t n)
{
    return f16_portable(src, dst, n);
}
#endif

/* Under DFSAE_PORTABLE_ONLY the F16C loop stays (its own tests call it
 * through dfsae__f16_to_f32_f16c) but the dispatch never picks it. */
dfsae__widen_fn dfsae__f16_converter(void)
{
#if defined(DFSAE_HAVE_F16C_PATH) && !defined(DFSAE_PORTABLE_ONLY)
    if (dfsae__f16c_available())
        return f16_f16c;
#endif
    return f16_portable;
}

size_t dfsae__f16_to_f32(const uint16_t *src, float *dst, size_t n)
{
    return dfsae__f16_converter()(src, dst, n);
}

DFSAE_MULTIVERSION
static size_t bf16_loop(const uint16_t *src, float *dst, size_t n)
{
    unsigned special = 0;
    for (size_t i = 0; i < n; ++i) {
        uint32_t b = (uint32_t)src[i] << 16;
        memcpy(&dst[i], &b, sizeof b);
        special |= (src[i] & 0x7f80u) == 0x7f80u;
    }
    return special ? first_special(src, n, 0x7f80u) : n;
}

size_t dfsae__bf16_to_f32(const uint16_t *src, float *dst, size_t n)
{
    return bf16_loop(src, dst, n);
}
