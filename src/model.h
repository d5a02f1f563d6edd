/* The model handle: shapes, parameters, options, workspace. */
#ifndef DFSAE_MODEL_H
#define DFSAE_MODEL_H

#include "internal.h"
#include "keyspec.h"
#include "layers/transform.h"
#include "loss/loss.h"
#include "parallel/pool.h"
#include "user_meta.h"
#include "workspace.h"

typedef struct dfsae_options {
    int activation;
    double lambda[DFSAE_TERM_COUNT];
    dfsae_loss_opts loss; /* what the terms read */
    double leaky_slope;
    int gram_side;
    double softmax_temperature;
    double max_row_norm;
} dfsae_options;

/* Where dfsae_model_train stands (dfsae_model_get_run_state). */
typedef struct dfsae__run_state {
    uint64_t epochs; /* epochs completed */
    uint64_t rows;   /* rows of the next epoch already trained */
    uint64_t seed;   /* the shuffle seed */
} dfsae__run_state;

struct dfsae_model {
    dfsae_allocator alloc;
    size_t d, k, n_params;
    float *params; /* W (k x d) then b (k) */
    dfsae_options opt;
    dfsae_transform xf; /* applied to X before the linear layer */
    dfsae_workspace ws;
    dfsae_pool *pool; /* NULL: everything on the caller */
    dfsae__run_state run;
    dfsae__user_meta meta;
    struct dfsae_dist *dist; /* NULL: one process (dist/dist.h) */
    char err[DFSAE_ERR_LEN];
};

void dfsae__options_default(dfsae_options *o);
/* The spec of model option `param` (options.c), or NULL if unknown. */
const dfsae__key_spec *dfsae__model_option_spec(int param);
/* The value of the option the activation's `param` is (layers.h), or 0. */
double dfsae__activation_param(const dfsae_options *o);

/* A = phi(X W^T + b) and optionally Z = X W^T + b for n validated rows
 * (forward.c): reads the model only, allocates nothing. Returns
 * DFSAE_ERR_NON_FINITE_RESULT if X W^T, Z or A holds a NaN or Inf (the
 * outputs are then unspecified), else DFSAE_OK. */
int dfsae__forward(const dfsae_model *m, const float *X, size_t n, float *A,
                   float *Z);
/* The objective (objective.c). Arguments are validated. */
/* Sizes the workspace for batches of up to n rows under the current
 * options, so later calls on such batches do not allocate. */
int dfsae__reserve(dfsae_model *m, size_t n);
int dfsae__objective(dfsae_model *m, const float *X, size_t n, float *grad,
                     double *total, double terms[DFSAE_TERM_COUNT]);
/* The unweighted value of term t, a term on W, on this process's W alone
 * (no reduction across ranks), as the objective computes it: the seam
 * dfsae_model_evaluate reaches the term through. */
int dfsae__weight_term_value(dfsae_model *m, int t, double *value);
/* Loss and grad's common path (model.c): validates X (unless `st`, what
 * the caller found so far, is an error), agrees on the status with the
 * other ranks of a comm, evaluates, and checks the results. With grad, the
 * gradient's largest magnitude goes to *gmax (if not NULL). */
int dfsae__evaluate(dfsae_model *m, int st, const char *fn, const float *X,
                    size_t n, float *grad, float *gmax, double *total,
                    double *terms, size_t n_terms);

/* One checked optimizer step of the model's parameters with a finite
 * gradient whose largest magnitude is gmax (model_step.c): a dry run,
 * then the update and the max-norm constraint (a step that would
 * overflow changes nothing: DFSAE_ERR_NON_FINITE_RESULT, message in
 * opt's error). With `collective`, the model's ranks agree on the dry
 * run's verdict before any commits, so a step that would overflow on one
 * dictionary shard changes no shard. */
int dfsae__model_apply_step(dfsae_model *model, dfsae_optimizer *opt,
                            const float *grad, float gmax, int collective);
/* The max-norm constraint of DFSAE_MODEL_MAX_ROW_NORM (max_row_norm.c),
 * applied after every update; nothing when the option is 0. */
void dfsae__max_row_norm_project(dfsae_model *model);

#endif
