/* dfsae_model_forward: reads the model and nothing else, allocates
 * nothing and runs on the caller, so any number of threads may share one
 * model. Errors are reported by status alone (no message is written into
 * the model). */
#include "data/source.h"
#include "layers/layers.h"
#include "loss/loss.h"
#include "model.h"

/* Rows per product: every BLAS dimension stays within int, whatever n. */
#define FORWARD_ROWS ((size_t)1 << 16)

/* A transformed X goes through 32 KiB of scratch on the caller's stack:
 * blocks of rows, and for inputs wider than 64 blocks of MIN_ROWS rows by
 * 64 columns, the slices' products accumulated (beta = 1). Each product
 * repacks its slice of W, so the blocks keep many rows: with 8 rows the
 * transformed forward took 2 to 3 times the identity's, with 128 about
 * 1.1 to 1.3 times (1024 rows, D 768 to 4096, K 64 to 4096, 1 thread). */
#define SCRATCH_FLOATS ((size_t)8192)
#define MIN_ROWS       ((size_t)128)

/* Columns per block: all D, or a slice when fewer than MIN_ROWS rows of
 * D would fit. */
static size_t block_cols(size_t d)
{
    return d * MIN_ROWS <= SCRATCH_FLOATS ? d : SCRATCH_FLOATS / MIN_ROWS;
}

/* z (rows x k) = X' W^T for rows <= SCRATCH_FLOATS / block_cols(d); the
 * small kernel fuses the epilogue into the last slice, else it runs
 * after. */
static void transformed_product(const dfsae_model *m, const float *X,
                                size_t rows, float *z, dfsae__epilogue *ep)
{
    float scratch[SCRATCH_FLOATS];
    const size_t d = m->d, cols = block_cols(d);
    /* Beyond DFSAE__SMALL_MAX_ROWS the kernel was measured on whole rows
     * only: these blocks keep sgemm there. */
    const int kernel = rows <= DFSAE__SMALL_MAX_ROWS &&
                       dfsae__small_product_takes(rows, d, m->k);
    for (size_t c0 = 0; c0 < d; c0 += cols) {
        const size_t w = d - c0 < cols ? d - c0 : cols;
        dfsae__transform_block(&m->xf, X, rows, d, c0, w, scratch);
        const float beta = c0 == 0 ? 0.0f : 1.0f;
        const int last = c0 + w == d;
        if (kernel)
            dfsae__small_product(scratch, rows, w, m->params + c0, d, m->k,
                                 beta, z, last ? ep : NULL);
        else
            dfsae__linear_forward_cols(scratch, rows, w, m->params + c0, d,
                                       m->k, beta, z);
    }
    if (!kernel)
        dfsae__epilogue_run(ep, 0, rows, 0, m->k);
}

/* Rows per kernel call for n rows: the fewest calls of at most
 * DFSAE__SMALL_MAX_ROWS, their rows as equal as can be. */
static size_t kernel_block(size_t n)
{
    const size_t calls =
        (n + DFSAE__SMALL_MAX_ROWS - 1) / DFSAE__SMALL_MAX_ROWS;
    return (n + calls - 1) / calls;
}

int dfsae__forward(const dfsae_model *m, const float *X, size_t n, float *A,
                   float *Z)
{
    const size_t d = m->d, k = m->k;
    const float *W = m->params;
    const int identity = m->xf.n == 0;
    const int kernel = identity && dfsae__small_product_takes(n, d, k);
    const size_t block = !identity ? SCRATCH_FLOATS / block_cols(d)
                         : kernel  ? kernel_block(n)
                                   : FORWARD_ROWS;
    dfsae__epilogue ep = {.b = m->params + k * d,
                          .act = dfsae__activations[m->opt.activation],
                          .param = dfsae__activation_param(&m->opt),
                          .k = k};
    for (size_t first = 0; first < n && !ep.bad; first += block) {
        const size_t rows = n - first < block ? n - first : block;
        ep.A = A + first * k;
        ep.Z = Z != NULL ? Z + first * k : NULL;
        /* The product goes where the epilogue reads it (layers.h). */
        float *p = Z != NULL ? ep.Z : ep.A;
        /* A few rows skip sgemm's packing of W and take the epilogue
         * fused (layers/forward_small.c). */
        if (kernel)
            dfsae__small_product(X + first * d, rows, d, W, d, k, 0.0f, p, &ep);
        else if (identity) {
            dfsae__linear_forward(X + first * d, rows, d, W, k, p);
            dfsae__epilogue_run(&ep, 0, rows, 0, k);
        } else
            transformed_product(m, X + first * d, rows, p, &ep);
    }
    return ep.bad ? DFSAE_ERR_NON_FINITE_RESULT : DFSAE_OK;
}

int dfsae_model_forward(const dfsae_model *model, const float *X, size_t n,
                        float *A, float *Z, float *R)
{
    if (model == NULL || X == NULL || A == NULL)
        return DFSAE_ERR_NULL_ARG;
    if (Z == A || R == A || (R != NULL && R == Z))
        return DFSAE_ERR_INVALID_ARG;
    /* Checked up front so that a bad row leaves the outputs untouched; the
     * rows are taken in blocks, so n need not fit an int. The message
     * goes nowhere: the model is read only. */
    dfsae_source rows;
    dfsae__source_view(&rows, X, n, model->d);
    const dfsae__rows_rule rule = {
        .fn = "forward", .what = "batch", .d = model->d, .k = model->k};
    char unused[DFSAE_ERR_LEN];
    int st = dfsae__rows_check(&rows, &rule, unused);
    if (st == DFSAE_OK)
        st = dfsae__forward(model, X, n, A, Z);
    if (st != DFSAE_OK)
        return st;
    if (R != NULL)
        dfsae__responsibilities(A, n, model->k, R);
    return DFSAE_OK;
}
