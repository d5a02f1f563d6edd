/* dfsae_model_forward: reads the model and nothing else, allocates
 * nothing and runs on the caller, so any number of threads may share one
 * model. Errors are reported by status alone (no message is written into
 * the model). */
#include <string.h>

#include "layers/layers.h"
#include "loss/loss.h"
#include "model.h"

/* Rows per product: every BLAS dimension stays within int, whatever n. */
#define FORWARD_ROWS ((size_t)1 << 16)

int dfsae__forward(const dfsae_model *m, const float *X, size_t n, float *A,
                   float *Z)
{
    const size_t d = m->d, k = m->k;
    const float *W = m->params, *b = m->params + k * d;
    const dfsae_activation_ops *act = dfsae__activations[m->opt.activation];
    for (size_t first = 0; first < n; first += FORWARD_ROWS) {
        const size_t rows = n - first < FORWARD_ROWS ? n - first : FORWARD_ROWS;
        const size_t len = rows * k;
        float *a = A + first * k;
        float *z = Z != NULL ? Z + first * k : a;
        dfsae__linear_forward(X + first * d, rows, d, W, k, z);
        /* Checked before the activation: relu would turn a NaN (Inf - Inf
         * in the product) into 0. A scan costs 1/D of the product. */
        if (!dfsae__all_finite(z, len))
            return DFSAE_ERR_NON_FINITE_RESULT;
        if (Z != NULL) {
            memcpy(a, z, len * sizeof *a);
            dfsae__add_bias(z, b, rows, k);
            if (!dfsae__all_finite(z, len))
                return DFSAE_ERR_NON_FINITE_RESULT;
        }
        /* The bias can still overflow a finite product; an activation that
         * maps -Inf to an exact value (relu: 0) leaves A finite and right. */
        act->apply(a, b, rows, k, dfsae__activation_param(&m->opt));
        if (!dfsae__all_finite(a, len))
            return DFSAE_ERR_NON_FINITE_RESULT;
    }
    return DFSAE_OK;
}

int dfsae_model_forward(const dfsae_model *model, const float *X, size_t n,
                        float *A, float *Z, float *R)
{
    if (model == NULL || X == NULL || A == NULL)
        return DFSAE_ERR_NULL_ARG;
    if (n == 0 || Z == A || R == A || (R != NULL && R == Z))
        return DFSAE_ERR_INVALID_ARG;
    size_t nd, nk;
    if (!dfsae__mul_size(n, model->d, &nd) ||
        !dfsae__mul_size(nd, sizeof(float), &nd) ||
        !dfsae__mul_size(n, model->k, &nk) ||
        !dfsae__mul_size(nk, sizeof(float), &nk))
        return DFSAE_ERR_SIZE_OVERFLOW;
    /* Checked up front so that a bad row leaves the outputs untouched. */
    if (!dfsae__all_finite(X, n * model->d))
        return DFSAE_ERR_NON_FINITE_INPUT;
    int st = dfsae__forward(model, X, n, A, Z);
    if (st != DFSAE_OK)
        return st;
    if (R != NULL)
        dfsae__responsibilities(A, n, model->k, R);
    return DFSAE_OK;
}
