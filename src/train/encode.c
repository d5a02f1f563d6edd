/* dfsae_model_encode: the activations of a whole data set, in batches. */
#include "model.h"
#include "train/train.h"

int dfsae_model_encode(dfsae_model *model, const float *X, size_t n,
                       const dfsae_train_config *config, float *A)
{
    if (model == NULL)
        return DFSAE_ERR_NULL_ARG;
    if (X == NULL || A == NULL)
        return dfsae__fail(model->err, DFSAE_ERR_NULL_ARG, "encode: %s is NULL",
                           X == NULL ? "X" : "A");
    if (n == 0)
        return dfsae__fail(model->err, DFSAE_ERR_INVALID_ARG,
                           "encode: the data set is empty (n = 0)");
    const size_t d = model->d, k = model->k;
    size_t nd, nk;
    if (!dfsae__mul_size(n, d, &nd) ||
        !dfsae__mul_size(nd, sizeof(float), &nd) ||
        !dfsae__mul_size(n, k, &nk) || !dfsae__mul_size(nk, sizeof(float), &nk))
        return dfsae__fail(model->err, DFSAE_ERR_SIZE_OVERFLOW,
                           "encode: %zu rows overflow", n);
    /* Checked up front so that a bad row leaves A untouched. */
    size_t bad = dfsae__first_non_finite(X, n * d);
    if (bad != n * d)
        return dfsae__fail(model->err, DFSAE_ERR_NON_FINITE_INPUT,
                           "encode: X[%zu][%zu] is not finite", bad / d,
                           bad % d);
    /* Batches keep every BLAS dimension within int, whatever n is. */
    size_t batch = dfsae__train_batch_size(config);
    for (size_t first = 0; first < n; first += batch) {
        size_t rows = n - first < batch ? n - first : batch;
        dfsae__encode(model, X + first * d, rows, A + first * k, NULL);
    }
    return DFSAE_OK;
}
