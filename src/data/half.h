/* Half-precision inputs (IEEE float16 and bfloat16, host byte order)
 * widened to float32. Every half value is exactly a float32, so both
 * conversions are exact, NaN payloads included (a signalling float16 NaN
 * comes out quiet, as the F16C instruction makes it; bfloat16 NaNs keep
 * their bits). Each conversion returns the index of the first Inf or NaN
 * it converted (exponent bits all ones), or n: the check costs no pass of
 * its own. */
#ifndef DFSAE_DATA_HALF_H
#define DFSAE_DATA_HALF_H

#include <stddef.h>
#include <stdint.h>

typedef size_t (*dfsae__widen_fn)(const uint16_t *src, float *dst, size_t n);

/* The float16 loop for this CPU: F16C when it has it, else the portable
 * loop; both give the same bits. Asking costs a CPUID (a trap to the
 * hypervisor in a VM): sources ask once, when they are made. */
dfsae__widen_fn dfsae__f16_converter(void);
/* n float16 values into float32 with dfsae__f16_converter(). */
size_t dfsae__f16_to_f32(const uint16_t *src, float *dst, size_t n);
/* The portable loop alone (for the tests that compare the two). */
size_t dfsae__f16_to_f32_portable(const uint16_t *src, float *dst, size_t n);
/* 1 if this build and CPU run the F16C path (then it is also reachable
 * alone, for the tests). */
int dfsae__f16c_available(void);
size_t dfsae__f16_to_f32_f16c(const uint16_t *src, float *dst, size_t n);

/* n bfloat16 values into float32 (the top half of a float32's bits). */
size_t dfsae__bf16_to_f32(const uint16_t *src, float *dst, size_t n);

/* The same index without converting: of n bfloat16 (bfloat != 0) or float16
 * values. */
size_t dfsae__half_first_special(const uint16_t *h, size_t n, int bfloat);

#endif
