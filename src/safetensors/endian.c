/* Little-endian float32 and uint64 conversion: safetensors data is
 * little-endian whatever the host is. */
#include <string.h>

#include "safetensors/safetensors.h"

static int host_is_le(void)
{
    const uint32_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first == 1;
}

void dfsae__f32_from_le(float *dst, const unsigned char *src, size_t n)
{
    if (host_is_le()) {
        if ((const void *)dst != (const void *)src) /* in place is fine */
            memcpy(dst, src, n * sizeof *dst);
        return;
    }
    for (size_t i = 0; i < n; ++i) {
        const unsigned char *p = src + 4 * i;
        uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
                     (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        memcpy(&dst[i], &u, sizeof u);
    }
}

void dfsae__f32_to_le(unsigned char *dst, const float *src, size_t n)
{
    if (host_is_le()) {
        memcpy(dst, src, n * sizeof *src);
        return;
    }
    for (size_t i = 0; i < n; ++i) {
        uint32_t u;
        memcpy(&u, &src[i], sizeof u);
        for (int b = 0; b < 4; ++b)
            dst[4 * i + (size_t)b] = (unsigned char)(u >> (8 * b));
    }
}

uint64_t dfsae__u64_from_le(const unsigned char src[8])
{
    uint64_t v = 0;
    for (int b = 7; b >= 0; --b)
        v = v << 8 | src[b];
    return v;
}

void dfsae__u64_to_le(unsigned char dst[8], uint64_t v)
{
    for (int b = 0; b < 8; ++b)
        dst[b] = (unsigned char)(v >> (8 * b));
}
