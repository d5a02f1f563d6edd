/* Finite-difference gradient checker over the public API (area "grad").
 *
 * The numeric gradient is a central difference of dfsae_model_loss's
 * total (a double) as parameters are moved with dfsae_model_set_params;
 * the analytic one comes from dfsae_model_grad. Coordinate i passes when
 *     |a - n| <= rtol * (max(|a|, |n|) + floor_frac * max_j |a_j|) + atol
 * i.e. a relative error with a floor: the floor absorbs the float32 noise
 * of the forward pass, which does not shrink with the gradient entry.
 */
#ifndef GRADCHECK_H
#define GRADCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "dfsae.h"

typedef struct gradcheck_opts {
    double h;           /* step in parameter units */
    int stencil;        /* 2 (central) or 4 (central + Richardson) points */
    double rtol;        /* relative part of the tolerance */
    double atol;        /* absolute slack (for all-zero gradients) */
    double floor_frac;  /* floor of the relative error, times max|a| */
    size_t max_coords;  /* check every coordinate up to this many params */
    size_t n_dirs;      /* random-direction checks */
    double kink_margin; /* skip if |z| <= kink_margin * step * |dz/dstep| */
    double min_checked_frac; /* assert: at least this fraction checked */
    uint64_t seed;           /* coordinate subset and directions */
} gradcheck_opts;

typedef struct gradcheck_result {
    size_t n_params;
    size_t n_selected; /* coordinates chosen (all, or the capped subset) */
    size_t n_checked;  /* selected and not skipped */
    size_t n_skipped;  /* too close to an activation kink */
    size_t n_failed;
    size_t n_dirs_checked, n_dirs_failed;
    int status;       /* first failing dfsae status, DFSAE_OK if none */
    double max_rel;   /* max |a-n| / (max(|a|,|n|) + floor): the
                       * measured relative error, passes below rtol */
    double max_ratio; /* max |a-n| / tolerance: pass iff <= 1 */
    size_t worst;     /* index of the coordinate with max_ratio */
    double worst_analytic, worst_numeric;
    double dir_max_rel; /* same as max_rel, for the direction checks */
    double gmax;        /* max |analytic| */
    double max_abs;     /* max |a-n| over coordinates and directions */
} gradcheck_result;

/* The defaults every test starts from (values and why: gradcheck.c). */
void gradcheck_default_opts(gradcheck_opts *o);

/* Checks model `m` on the n x D batch X. `analytic` is the gradient to
 * test (num_params floats) or NULL to take dfsae_model_grad's. The
 * model's parameters are restored before returning. Failing coordinates
 * are printed (print_error) up to a small count, tagged with `label`.
 * Returns 1 if every checked coordinate and direction passed, no call
 * failed and enough coordinates were checked. */
int gradcheck_run(dfsae_model *m, const float *X, size_t n,
                  const float *analytic, const gradcheck_opts *o,
                  const char *label, gradcheck_result *res);

/* gradcheck_run with the library's gradient; fails the cmocka test with
 * the worst coordinate's index, analytic and numeric values if the check
 * does not pass. With DFSAE_GRADCHECK_VERBOSE set in the environment, the
 * result is printed either way (for measuring the error). */
void gradcheck_assert(dfsae_model *m, const float *X, size_t n,
                      const gradcheck_opts *o, const char *label,
                      gradcheck_result *res);

/* One summary line for a result, for print_message / print_error. */
void gradcheck_print(const char *label, const gradcheck_result *res);

#endif
