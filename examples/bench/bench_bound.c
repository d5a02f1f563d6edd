/* Bare CBLAS calls for the products of a training step (bench_bound.h).
 * The side of each Gram matrix is the cheaper one (docs/math.md): K x K costs
 * B K^2 for L_tc, B x B costs B^2 K; for L_wr, K^2 D against D^2 K. */
#include "bench_bound.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"

static float *alloc_normal(bench_rng *rng, size_t n)
{
    float *p = malloc(n * sizeof *p);
    if (p != NULL)
        bench_fill_normal(rng, p, n);
    return p;
}

static int init(bench_bound *bb, const float *X, size_t b, size_t d, size_t k,
                unsigned long long seed, int lean)
{
    bench_rng rng;
    bench_rng_seed(&rng, seed);
    memset(bb, 0, sizeof *bb);
    bb->b = b;
    bb->d = d;
    bb->k = k;
    bb->X = X;
    bb->tc_sample_side = k > b;
    bb->wr_sample_side = k > d;
    bb->lean = lean;
    size_t tside = bb->tc_sample_side ? b : k;
    size_t wside = bb->wr_sample_side ? d : k;
    bb->W = alloc_normal(&rng, k * d);
    bb->Z = alloc_normal(&rng, b * k);
    bb->dW = alloc_normal(&rng, k * d);
    bb->G = alloc_normal(&rng, b * k);
    /* The Grams are symmetric; symm reads one triangle of what syrk wrote
     * but it needs a finite start. */
    bb->gram = alloc_normal(&rng, tside * tside);
    int ok = bb->W && bb->Z && bb->dW && bb->G && bb->gram;
    if (lean) { /* the read-only B x K operands share Z's memory */
        bb->dZ = bb->S = bb->Z;
    } else {
        bb->dZ = alloc_normal(&rng, b * k);
        bb->S = alloc_normal(&rng, b * k);
        bb->gramw = alloc_normal(&rng, wside * wside);
        bb->GWn = alloc_normal(&rng, k * d);
        ok = ok && bb->dZ && bb->S && bb->gramw && bb->GWn;
    }
    if (!ok) {
        bench_bound_free(bb);
        return -1;
    }
    return 0;
}

int bench_bound_init(bench_bound *bb, const float *X, size_t b, size_t d,
                     size_t k, unsigned long long seed)
{
    return init(bb, X, b, d, k, seed, 0);
}

int bench_bound_init_step(bench_bound *bb, const float *X, size_t b, size_t d,
                          size_t k, unsigned long long seed)
{
    return init(bb, X, b, d, k, seed, 1);
}

void bench_bound_free(bench_bound *bb)
{
    if (!bb->lean) {
        free(bb->dZ);
        free(bb->S);
    }
    free(bb->W);
    free(bb->Z);
    free(bb->dW);
    free(bb->G);
    free(bb->gram);
    free(bb->gramw);
    free(bb->GWn);
    bb->W = bb->Z = bb->dZ = bb->dW = bb->S = bb->G = NULL;
    bb->gram = bb->gramw = bb->GWn = NULL;
}

void bench_bound_run(const bench_bound *bb, bench_product p)
{
    const int b = (int)bb->b, d = (int)bb->d, k = (int)bb->k;
    switch (p) {
    case BP_FORWARD:
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, k, d, 1.0f,
                    bb->X, d, bb->W, d, 0.0f, bb->Z, k);
        break;
    case BP_WGRAD:
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, d, b, 1.0f,
                    bb->dZ, k, bb->X, d, 0.0f, bb->dW, d);
        break;
    case BP_TC_GRAM:
        if (bb->tc_sample_side)
            cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, b, k, 1.0f,
                        bb->S, k, 0.0f, bb->gram, b);
        else
            cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, k, b, 1.0f,
                        bb->S, k, 0.0f, bb->gram, k);
        break;
    case BP_TC_GRAD:
        if (bb->tc_sample_side)
            cblas_ssymm(CblasRowMajor, CblasLeft, CblasUpper, b, k, 1.0f,
                        bb->gram, b, bb->S, k, 0.0f, bb->G, k);
        else
            cblas_ssymm(CblasRowMajor, CblasRight, CblasUpper, b, k, 1.0f,
                        bb->gram, k, bb->S, k, 0.0f, bb->G, k);
        break;
    case BP_WR_GRAM:
        if (bb->wr_sample_side)
            cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, d, k, 1.0f,
                        bb->W, d, 0.0f, bb->gramw, d);
        else
            cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, k, d, 1.0f,
                        bb->W, d, 0.0f, bb->gramw, k);
        break;
    case BP_WR_GRAD:
        if (bb->wr_sample_side)
            cblas_ssymm(CblasRowMajor, CblasRight, CblasUpper, k, d, 1.0f,
                        bb->gramw, d, bb->W, d, 0.0f, bb->GWn, d);
        else
            cblas_ssymm(CblasRowMajor, CblasLeft, CblasUpper, k, d, 1.0f,
                        bb->gramw, k, bb->W, d, 0.0f, bb->GWn, d);
        break;
    case BP_COUNT: break;
    }
}

double bench_bound_flops(const bench_bound *bb, bench_product p)
{
    const double b = (double)bb->b, d = (double)bb->d, k = (double)bb->k;
    const double ts = bb->tc_sample_side ? b : k,
                 tl = bb->tc_sample_side ? k : b;
    const double ws = bb->wr_sample_side ? d : k,
                 wl = bb->wr_sample_side ? k : d;
    switch (p) {
    case BP_FORWARD:
    case BP_WGRAD: return 2.0 * b * d * k;
    case BP_TC_GRAM: return ts * (ts + 1.0) * tl;
    case BP_TC_GRAD: return 2.0 * ts * ts * tl;
    case BP_WR_GRAM: return ws * (ws + 1.0) * wl;
    case BP_WR_GRAD: return 2.0 * ws * ws * wl;
    case BP_COUNT: break;
    }
    return 0.0;
}

void bench_bound_describe(const bench_bound *bb, bench_product p, char *buf,
                          size_t cap)
{
    const size_t b = bb->b, d = bb->d, k = bb->k;
    switch (p) {
    case BP_FORWARD:
        snprintf(buf, cap, "forward  X W^T      gemm %zux%zux%zu", b, k, d);
        break;
    case BP_WGRAD:
        snprintf(buf, cap, "wgrad    dZ^T X     gemm %zux%zux%zu", k, d, b);
        break;
    case BP_TC_GRAM:
        if (bb->tc_sample_side)
            snprintf(buf, cap, "tc Gram  S S^T      syrk %zux%zu, k=%zu", b, b,
                     k);
        else
            snprintf(buf, cap, "tc Gram  S^T S      syrk %zux%zu, k=%zu", k, k,
                     b);
        break;
    case BP_TC_GRAD:
        if (bb->tc_sample_side)
            snprintf(buf, cap, "tc grad  H S        symm %zux%zu by %zux%zu", b,
                     b, b, k);
        else
            snprintf(buf, cap, "tc grad  S C        symm %zux%zu by %zux%zu", b,
                     k, k, k);
        break;
    case BP_WR_GRAM:
        if (bb->wr_sample_side)
            snprintf(buf, cap, "wr Gram  Wn^T Wn    syrk %zux%zu, k=%zu", d, d,
                     k);
        else
            snprintf(buf, cap, "wr Gram  Wn Wn^T    syrk %zux%zu, k=%zu", k, k,
                     d);
        break;
    case BP_WR_GRAD:
        if (bb->wr_sample_side)
            snprintf(buf, cap, "wr grad  Wn M       symm %zux%zu by %zux%zu", k,
                     d, d, d);
        else
            snprintf(buf, cap, "wr grad  G Wn       symm %zux%zu by %zux%zu", k,
                     k, k, d);
        break;
    case BP_COUNT: buf[0] = '\0'; break;
    }
}
