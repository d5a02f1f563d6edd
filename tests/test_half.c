/* The half-precision conversions against an independent reference built
 * from the IEEE definitions with ldexp, on all 65536 patterns of each type:
 * the portable loop, the F16C path (where the CPU has it) and the
 * dispatching entry point, aligned and not; and the index each returns
 * of the first Inf or NaN it converted, wherever it is (vector part or
 * tail), which is the check of half-precision rows as they are read. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "data/half.h"

#define PATTERNS 65536u

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* float16: 1 sign, 5 exponent (bias 15), 10 mantissa bits. */
static uint32_t f16_reference(uint32_t h)
{
    uint32_t s = h >> 15, e = (h >> 10) & 31u, m = h & 1023u;
    if (e == 31u && m != 0u) /* NaN: payload kept, made quiet */
        return (s << 31) | 0x7f800000u | 0x00400000u | (m << 13);
    double v;
    if (e == 31u)
        v = INFINITY;
    else if (e == 0u)
        v = ldexp((double)m, -24);
    else
        v = ldexp((double)(1024u + m), (int)e - 25);
    return bits_of((float)(s ? -v : v));
}

/* bfloat16: 1 sign, 8 exponent (bias 127), 7 mantissa bits. */
static uint32_t bf16_reference(uint32_t h)
{
    uint32_t s = h >> 15, e = (h >> 7) & 255u, m = h & 127u;
    if (e == 255u && m != 0u) /* NaN: every bit kept */
        return (s << 31) | 0x7f800000u | (m << 16);
    double v;
    if (e == 255u)
        v = INFINITY;
    else if (e == 0u)
        v = ldexp((double)m, -133);
    else
        v = ldexp((double)(128u + m), (int)e - 134);
    return bits_of((float)(s ? -v : v));
}

typedef size_t (*convert_fn)(const uint16_t *, float *, size_t);

/* Converts all patterns starting `offset` elements into the buffers (so
 * that the vector loop meets unaligned data and a tail) and compares. */
static void check_all(convert_fn f, uint32_t (*ref)(uint32_t), size_t offset,
                      const char *what)
{
    uint16_t *src = malloc((PATTERNS + offset) * sizeof *src);
    float *dst = malloc((PATTERNS + offset) * sizeof *dst);
    assert_non_null(src);
    assert_non_null(dst);
    for (uint32_t i = 0; i < PATTERNS; ++i)
        src[offset + i] = (uint16_t)i;
    size_t special = f(src + offset, dst + offset, PATTERNS);
    size_t wrong = 0, nan = 0, sub = 0, first_bad = PATTERNS;
    for (uint32_t i = 0; i < PATTERNS; ++i) {
        uint32_t got = bits_of(dst[offset + i]), want = ref(i);
        if (first_bad == PATTERNS && !isfinite(dst[offset + i]))
            first_bad = i;
        nan += isnan(dst[offset + i]) != 0;
        sub += fpclassify(dst[offset + i]) == FP_SUBNORMAL;
        if (got != want && wrong++ < 5)
            print_error("%s: 0x%04x gives 0x%08x, expected 0x%08x\n", what,
                        (unsigned)i, (unsigned)got, (unsigned)want);
    }
    print_message("%s (offset %zu): %zu of 65536 wrong; %zu NaN, %zu "
                  "subnormal results\n",
                  what, offset, wrong, nan, sub);
    free(src);
    free(dst);
    assert_int_equal(wrong, 0);
    assert_true(nan > 0); /* the NaN patterns were among those checked */
    assert_true(first_bad < PATTERNS);
    assert_int_equal(special, first_bad);
}

static void f16_portable_is_exact(void **state)
{
    (void)state;
    check_all(dfsae__f16_to_f32_portable, f16_reference, 0, "f16 portable");
    check_all(dfsae__f16_to_f32_portable, f16_reference, 3, "f16 portable");
}

static void f16_dispatch_is_exact(void **state)
{
    (void)state;
    check_all(dfsae__f16_to_f32, f16_reference, 0, "f16 dispatch");
    check_all(dfsae__f16_to_f32, f16_reference, 5, "f16 dispatch");
}

static void f16c_path_is_exact(void **state)
{
    (void)state;
    if (!dfsae__f16c_available()) {
        print_message("this CPU has no F16C: only the portable loop runs\n");
        skip();
    }
    check_all(dfsae__f16_to_f32_f16c, f16_reference, 0, "f16 F16C");
    check_all(dfsae__f16_to_f32_f16c, f16_reference, 1, "f16 F16C");
}

static void bf16_is_exact(void **state)
{
    (void)state;
    check_all(dfsae__bf16_to_f32, bf16_reference, 0, "bf16");
    check_all(dfsae__bf16_to_f32, bf16_reference, 7, "bf16");
}

/* Short and empty calls (all tail, no vector iteration). */
static void short_calls(void **state)
{
    (void)state;
    const uint16_t h[3] = {0x3c00u, 0xc000u, 0x0001u}; /* 1, -2, 2^-24 */
    float f[3] = {0, 0, 0};
    dfsae__f16_to_f32(h, f, 3);
    assert_true(f[0] == 1.0f && f[1] == -2.0f && f[2] == 0x1p-24f);
    dfsae__f16_to_f32(h, f, 0);
    const uint16_t b[2] = {0x3f80u, 0x0001u}; /* 1, smallest subnormal */
    dfsae__bf16_to_f32(b, f, 2);
    assert_true(f[0] == 1.0f && f[1] == 0x1p-133f);
}

/* One non-finite value at every position of 37 finite ones (4 vector
 * iterations and a tail of 5), then a second one after it: the index
 * returned is the first's, and n when there is none. The largest finite
 * value (all exponent bits but one) is not taken for one. */
static void first_special_at(convert_fn f, uint16_t finite, uint16_t largest,
                             const uint16_t *bad, size_t n_bad,
                             const char *what)
{
    enum { N = 37 };
    uint16_t h[N];
    float out[N];
    for (size_t i = 0; i < N; ++i)
        h[i] = i % 3 ? finite : largest;
    assert_int_equal(f(h, out, N), N);
    for (size_t b = 0; b < n_bad; ++b)
        for (size_t at = 0; at < N; ++at) {
            h[at] = bad[b];
            if (at + 2 < N)
                h[at + 2] = bad[(b + 1) % n_bad];
            size_t got = f(h, out, N);
            if (got != at)
                print_error("%s: 0x%04x at %zu reported at %zu\n", what,
                            (unsigned)bad[b], at, got);
            assert_int_equal(got, at);
            assert_true(isfinite(out[at]) == 0);
            h[at] = finite;
            if (at + 2 < N)
                h[at + 2] = finite;
        }
    assert_int_equal(f(h, out, N), N);
}

static void f16_specials_are_found(void **state)
{
    (void)state;
    const uint16_t bad[] = {0x7c00u, 0xfc00u, 0x7e00u, 0x7c01u, 0xffffu};
    const size_t n = sizeof bad / sizeof bad[0];
    first_special_at(dfsae__f16_to_f32_portable, 0x3c00u, 0x7bffu, bad, n,
                     "f16 portable");
    first_special_at(dfsae__f16_to_f32, 0x3c00u, 0x7bffu, bad, n,
                     "f16 dispatch");
    if (dfsae__f16c_available())
        first_special_at(dfsae__f16_to_f32_f16c, 0x3c00u, 0x7bffu, bad, n,
                         "f16 F16C");
}

static void bf16_specials_are_found(void **state)
{
    (void)state;
    const uint16_t bad[] = {0x7f80u, 0xff80u, 0x7fc0u, 0x7f81u, 0xffffu};
    first_special_at(dfsae__bf16_to_f32, 0x3f80u, 0x7f7fu, bad,
                     sizeof bad / sizeof bad[0], "bf16");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(f16_portable_is_exact),
        cmocka_unit_test(f16_specials_are_found),
        cmocka_unit_test(bf16_specials_are_found),
        cmocka_unit_test(f16_dispatch_is_exact),
        cmocka_unit_test(f16c_path_is_exact),
        cmocka_unit_test(bf16_is_exact),
        cmocka_unit_test(short_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
