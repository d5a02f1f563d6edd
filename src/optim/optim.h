/* Optimizers: one interface over flat parameter and gradient vectors,
 * independent of the objective and of the model handle (the model's side
 * of a step is src/model_step.c). */
#ifndef DFSAE_OPTIM_H
#define DFSAE_OPTIM_H

#include "internal.h"
#include "keyspec.h"
#include "parallel/pool.h"

typedef struct dfsae_optimizer dfsae_optimizer;

/* One update of the n parameters at params from the gradient grad, with
 * the optimizer's state vectors, step count and hyper-parameters in
 * `state`; the sweeps run on `pool` (or on the caller if NULL). `check`
 * computes the update without writing anything and returns 1 if every
 * new parameter and state value is finite; `update` writes it. The
 * caller has checked the gradient is finite; gmax is its largest
 * magnitude. */
typedef int (*dfsae__optim_check_fn)(const float *params, const float *grad,
                                     float gmax, size_t n,
                                     const dfsae_optimizer *state,
                                     dfsae_pool *pool);
typedef void (*dfsae__optim_update_fn)(float *params, const float *grad,
                                       size_t n, dfsae_optimizer *state,
                                       dfsae_pool *pool);

typedef struct dfsae_optim_ops {
    const char *name;
    size_t n_state; /* state vectors of n floats */
    dfsae__optim_check_fn check;
    dfsae__optim_update_fn update;
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
    double hp[DFSAE_OPT_COUNT]; /* by key; those the kind takes are used */
    char err[DFSAE_ERR_LEN];
};

/* The hyper-parameters' spec table (hparams.c), one row per key: spec
 * gives the metadata name, bounds, kind (REAL, or BOOL for 0 or 1) and
 * where the handle keeps the value (hp[key], a double; a snapshot's hp[]
 * is indexed alike); the default differs by optimizer kind, so spec.def
 * is unused and def[kind] holds it. */
typedef struct dfsae__optim_key {
    dfsae__key_spec spec;
    unsigned kinds; /* bit k set: the key applies to optimizer kind k */
    double def[DFSAE_OPTIMIZER_KIND_COUNT];
} dfsae__optim_key;

/* The row of key p if it applies to optimizer kind `kind`, else NULL. */
const dfsae__optim_key *dfsae__optim_key_of(int kind, int p);
/* hp[] as a new optimizer of this kind has it (0 where a key does not
 * apply). */
void dfsae__optim_hp_default(int kind, double hp[DFSAE_OPT_COUNT]);
/* The rule between keys that a step checks (each value being valid on its
 * own): Nesterov momentum needs a non-zero momentum and zero dampening.
 * DFSAE_OK or DFSAE_ERR_INVALID_ARG with err filled in. */
int dfsae__optim_hp_check(const double hp[DFSAE_OPT_COUNT], char *err);

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

/* The checks of a step on n parameters that do not read the gradient: the
 * parameter count, the step count's limit, the rule between keys.
 * DFSAE_OK, or a status with opt->err filled in. */
int dfsae__optimizer_check(dfsae_optimizer *opt, size_t n);
/* The dry run of a step with a finite gradient whose largest magnitude is
 * gmax: DFSAE_OK, or DFSAE_ERR_NON_FINITE_RESULT with opt->err filled in
 * if the update would overflow. Changes nothing but the message. */
int dfsae__optimizer_dry_run(dfsae_optimizer *opt, const float *params,
                             const float *grad, float gmax, dfsae_pool *pool);
/* The update the dry run accepted, and one more step counted. */
void dfsae__optimizer_commit(dfsae_optimizer *opt, float *params,
                             const float *grad, dfsae_pool *pool);

/* The export/import seam (state.c): an optimizer's state as a model file
 * carries it, so io/ never reads or writes the handle's fields. */
typedef struct dfsae__optim_snapshot {
    int kind;
    uint64_t step;
    int started;                /* SGD: the momentum buffer started */
    double hp[DFSAE_OPT_COUNT]; /* those that apply to kind; others unused */
    size_t n, n_state;          /* n_state vectors of n floats at state */
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
