/* The GEMM bound: bare CBLAS calls for the matrix products that the
 * cheapest correct algorithm for a training step needs at a shape. */
#ifndef DFSAE_BENCH_BOUND_H
#define DFSAE_BENCH_BOUND_H

#include <stddef.h>

/* The products, each timed on its own; the bounds are sums of them. */
typedef enum bench_product {
    BP_FORWARD, /* Z = X W^T: gemm B x K x D */
    BP_WGRAD,   /* dW = dZ^T X: gemm K x D x B */
    BP_TC_GRAM, /* syrk on the cheaper side: S^T S (K x K) or S S^T (B x B) */
    BP_TC_GRAD, /* symm: S C (B x K by K x K) or H S (B x B by B x K) */
    BP_WR_GRAM, /* syrk: Wn Wn^T (K x K) or Wn^T Wn (D x D) */
    BP_WR_GRAD, /* symm with that Gram and Wn */
    BP_COUNT
} bench_product;

typedef struct bench_bound {
    size_t b, d, k;
    int tc_sample_side; /* 1: B x B Gram (K > B), 0: K x K */
    int wr_sample_side; /* 1: D x D Gram (K > D), 0: K x K */
    /* Operands, random normal; X is borrowed, the rest owned. */
    const float *X;
    float *W, *Z, *dZ, *dW, *S, *G, *gram, *gramw, *GWn;
    int lean; /* bench_bound_init_step's: dZ and S are Z, no L_wr operands */
} bench_bound;

/* Allocate the operands for shape (b, d, k); X is b x d. 0 on success. */
int bench_bound_init(bench_bound *bb, const float *X, size_t b, size_t d,
                     size_t k, unsigned long long seed);
/* Only the operands of the default step's products (BP_FORWARD to
 * BP_TC_GRAD), its read-only B x K ones sharing memory: a large dictionary's
 * bound in 2 B x K buffers instead of 4. */
int bench_bound_init_step(bench_bound *bb, const float *X, size_t b, size_t d,
                          size_t k, unsigned long long seed);
void bench_bound_free(bench_bound *bb);

/* Run one product once. */
void bench_bound_run(const bench_bound *bb, bench_product p);

/* Its floating-point operation count (syrk counts n(n+1)k, half a gemm). */
double bench_bound_flops(const bench_bound *bb, bench_product p);

/* Short description of a product for the report ("gemm 1024x4096x768"). */
void bench_bound_describe(const bench_bound *bb, bench_product p, char *buf,
                          size_t cap);

#endif
