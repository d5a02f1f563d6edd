/* "Nothing changed" checks for the API tests. A twin holds two models and
 * two optimizers built and stepped identically; bad calls go to twin 0
 * only, and api_twin_check proves they left no trace: parameters, options,
 * hyper-parameters, step counts, the gradient, and the next step's result
 * are compared bit for bit with twin 1. */
#ifndef API_STATE_H
#define API_STATE_H

#include <stddef.h>

#include "dfsae.h"

typedef struct api_twin {
    dfsae_model *m[2];
    dfsae_optimizer *o[2];
    size_t d, k, n, np;
    float *X; /* n x d batch used for the gradients */
} api_twin;

/* Both twins: a model (d x k, same seed), an optimizer of `kind`, and one
 * step on X so the moments and the step count are not trivial. */
void api_twin_init(api_twin *t, size_t d, size_t k, size_t n, int kind,
                   const dfsae_allocator *alloc);
/* Asserts the twins are bit-identical, then steps both once with the same
 * gradient and asserts the results are bit-identical too. */
void api_twin_check(api_twin *t);
void api_twin_free(api_twin *t);

/* Asserts |got - want| <= rtol * |want| + atol element-wise, naming the
 * first failing index. */
void api_assert_close(const float *got, const double *want, size_t n,
                      double rtol, double atol, const char *what);

/* Asserts that s contains `needle` (case-sensitive), printing both. */
void api_assert_contains(const char *s, const char *needle);

#endif
