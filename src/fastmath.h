/* Small vectorisable math kernels for the elementwise sweeps. */
#ifndef DFSAE_FASTMATH_H
#define DFSAE_FASTMATH_H

#include <stdint.h>
#include <string.h>

/* exp(x) for x <= 0 in float, branch-free so loops over it vectorise
 * (libm's expf does not without -ffast-math). Range reduction x = n ln2 + r
 * with |r| <= ln2/2, a degree-7 polynomial for e^r, and 2^n built from its
 * exponent bits. Inputs below -87 give 0 (e^-87 ~ 1.6e-38). Measured
 * relative error over [-87, 0]: 1.4 ulp (tests/test_fastexp.c). */
static inline float dfsae__exp_nonpos(float x)
{
    const float shifter = 12582912.0f; /* 1.5 * 2^23: rounds to integer */
    float xc = x < -87.0f ? -87.0f : x;
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
    int32_t bits = ((int32_t)n + 127) * (1 << 23);
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return x < -87.0f ? 0.0f : p * scale;
}

/* 1 if the IEEE-754 single has an all-ones exponent (NaN or Inf). */
static inline int dfsae__is_nonfinite_bits(uint32_t u)
{
    return (u & 0x7f800000u) == 0x7f800000u;
}

#endif
