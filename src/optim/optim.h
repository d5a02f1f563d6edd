/* Optimizers: one interface over flat parameter and gradient vectors,
 * independent of the objective. */
#ifndef DFSAE_OPTIM_H
#define DFSAE_OPTIM_H

#include "internal.h"
#include "parallel/pool.h"

typedef struct dfsae_optimizer dfsae_optimizer;

typedef struct dfsae_optim_ops {
    const char *name;
    size_t n_state; /* state vectors of n floats */
    double defaults[DFSAE_OPT_COUNT];
    unsigned char applies[DFSAE_OPT_COUNT];
    /* One update of n parameters. With commit = 0 it only computes the new
     * parameters and state and returns 1 if all of them are finite; with
     * commit = 1 it writes them (the return value is then unused). The
     * caller runs the first before the second, so a step that would
     * overflow changes nothing. The caller has checked the gradient is
     * finite; gmax is its largest magnitude. The sweeps run on `pool`
     * (the stepped model's, or NULL). */
    int (*update)(dfsae_optimizer *o, dfsae_pool *pool, float *params,
                  const float *grad, float gmax, int commit);
} dfsae_optim_ops;

struct dfsae_optimizer {
    dfsae_allocator alloc;
    const dfsae_optim_ops *ops;
    int kind;
    size_t n;
    float *state; /* ops->n_state vectors of n floats */
    uint64_t t;   /* steps taken */
    /* Bounds on the state, so a dry run can often prove the update finite
     * in O(1) (adam.c); maxima_valid is cleared when the state is replaced
     * wholesale (reset keeps it: all zeros). */
    float state_max[2];
    int maxima_valid;
    int started; /* SGD: the momentum buffer holds a gradient (PyTorch
                  * starts it at the first step that uses momentum) */
    double hp[DFSAE_OPT_COUNT];
    char err[DFSAE_ERR_LEN];
};

/* The largest step count a handle holds or a checkpoint records: the bias
 * correction computes in double from t + 1, exact up to 2^53, and a count
 * that a step cannot wrap. */
#define DFSAE__MAX_STEP_COUNT ((uint64_t)1 << 53)

/* DFSAE_OK if the state (n parameters; one vector for SGD, m then v for
 * Adam) after `step` steps, with SGD's buffer `started` or not, is one
 * that steps from creation or reset reach: finite, v >= 0, zero at step 0
 * and in a buffer that never started, step <= DFSAE__MAX_STEP_COUNT.
 * Otherwise DFSAE_ERR_NON_FINITE_INPUT or DFSAE_ERR_BAD_METADATA with
 * err filled in. */
int dfsae__optim_state_check(int kind, uint64_t step, int started,
                             const float *state, size_t n, char *err);

/* The checks of a step that do not read the gradient: the parameter
 * count, the step count's limit, Nesterov's conditions. DFSAE_OK, or a
 * status with opt->err filled in. */
int dfsae__optimizer_check(dfsae_optimizer *opt, const dfsae_model *model);
/* One checked step with a finite gradient whose largest magnitude is gmax:
 * a dry run, then the update (a step that would overflow changes
 * nothing: DFSAE_ERR_NON_FINITE_RESULT). With `collective`, the model's
 * ranks agree on the dry run's verdict before any commits, so a step
 * that would overflow on one dictionary shard changes no shard. */
int dfsae__optimizer_apply(dfsae_optimizer *opt, dfsae_model *model,
                           const float *grad, float gmax, int collective);
/* The max-norm constraint of DFSAE_MODEL_MAX_ROW_NORM (max_norm.c), applied
 * after every update; nothing when the option is 0. */
void dfsae__max_row_norm_project(dfsae_model *model);

/* The export/import seam (state.c): an optimizer's state as a model file
 * carries it, so io/ never reads or writes the handle's fields. */
typedef struct dfsae__optim_snapshot {
    int kind;
    uint64_t step;
    int started;                /* SGD: the momentum buffer started */
    double hp[DFSAE_OPT_COUNT]; /* those `applies` marks; others unused */
    const unsigned char *applies;
    size_t n, n_state; /* n_state vectors of n floats at state */
    const float *state;
} dfsae__optim_snapshot;

/* The state of o (borrowed: valid while o is unchanged). */
void dfsae__optim_export(const dfsae_optimizer *o, dfsae__optim_snapshot *s);
/* DFSAE_OK if o is of this kind and for n parameters, else
 * DFSAE_ERR_INVALID_ARG or DFSAE_ERR_SIZE_MISMATCH with err filled in. */
int dfsae__optim_accepts(const dfsae_optimizer *o, int kind, size_t n,
                         char *err);
/* Replaces o's state, step count and the hyper-parameters that apply with
 * s's, all or nothing: DFSAE_ERR_INVALID_ARG or DFSAE_ERR_SIZE_MISMATCH
 * for another kind or n, or dfsae__optim_state_check's refusal, with o
 * unchanged. */
int dfsae__optim_import(dfsae_optimizer *o, const dfsae__optim_snapshot *s,
                        char *err);

extern const dfsae_optim_ops dfsae__optim_sgd, dfsae__optim_adam,
    dfsae__optim_adamw;

#endif
