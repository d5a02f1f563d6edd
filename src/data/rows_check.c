/* The rules a set of rows obeys before a model reads it, written once for
 * the core's batches and the training layer's data sets. */
#include <limits.h>

#include "data/source.h"

/* n rows of `width` floats fit in size_t bytes. */
static int addressable(size_t n, size_t width)
{
    size_t bytes;
    return dfsae__mul_size(n, width, &bytes) &&
           dfsae__mul_size(bytes, sizeof(float), &bytes);
}

int dfsae__rows_check(const dfsae_source *src, const dfsae__rows_rule *r,
                      char *err)
{
    const size_t n = src->n;
    if (n == 0 && !r->may_be_empty)
        return dfsae__fail(err, DFSAE_ERR_INVALID_ARG,
                           "%s: the %s is empty (n = 0)", r->fn, r->what);
    if (src->d != r->d)
        return dfsae__fail(err, DFSAE_ERR_SIZE_MISMATCH,
                           "%s: the source has rows of %zu values, the "
                           "model takes %zu",
                           r->fn, src->d, r->d);
    if (r->needs_variance && n < 2)
        return dfsae__fail(err, DFSAE_ERR_BATCH_TOO_SMALL,
                           "%s: a variance needs at least 2 rows", r->fn);
    if ((r->one_product && n > (size_t)INT_MAX) || !addressable(n, r->d) ||
        !addressable(n, r->k))
        return dfsae__fail(err, DFSAE_ERR_SIZE_OVERFLOW,
                           "%s: a %s of %zu rows overflows", r->fn, r->what, n);
    size_t bad = dfsae__source_first_non_finite(src);
    if (bad != n * r->d)
        return dfsae__fail(err, DFSAE_ERR_NON_FINITE_INPUT,
                           "%s: X[%zu][%zu] is not finite", r->fn, bad / r->d,
                           bad % r->d);
    return DFSAE_OK;
}

int dfsae__rows_check_read(const dfsae_source *src, const float *Xb,
                           size_t rows, const size_t *source_rows, size_t first,
                           const char *prefix, char *err)
{
    if (dfsae__source_is_array(src))
        return DFSAE_OK;
    const size_t d = src->d;
    size_t bad = dfsae__first_non_finite(Xb, rows * d);
    if (bad == rows * d)
        return DFSAE_OK;
    size_t row = source_rows != NULL ? source_rows[bad / d] : first + bad / d;
    return dfsae__fail_non_finite_row(err, prefix, row, bad % d);
}

int dfsae__fail_non_finite_row(char *err, const char *prefix, size_t row,
                               size_t col)
{
    return dfsae__fail(err, DFSAE_ERR_NON_FINITE_INPUT,
                       "%srow %zu of the source, column %zu, is not finite",
                       prefix, row, col);
}
