/* Optimizers: one interface over flat parameter and gradient vectors,
 * independent of the objective. */
#ifndef DFSAE_OPTIM_H
#define DFSAE_OPTIM_H

#include "internal.h"

typedef struct dfsae_optim_ops {
    const char *name;
    size_t n_state;                       /* state vectors of n floats */
    double defaults[DFSAE_OPT_PARAM_COUNT];
    unsigned char applies[DFSAE_OPT_PARAM_COUNT];
    /* One update; t is the 1-based index of this step. */
    void (*step)(const double *hp, float *state, uint64_t t, float *params,
                 const float *grad, size_t n);
} dfsae_optim_ops;

struct dfsae_optimizer {
    dfsae_allocator alloc;
    const dfsae_optim_ops *ops;
    int kind;
    size_t n;
    float *state; /* ops->n_state vectors of n floats */
    uint64_t t;   /* steps taken */
    double hp[DFSAE_OPT_PARAM_COUNT];
    char err[DFSAE_ERR_LEN];
};

extern const dfsae_optim_ops dfsae__optim_sgd, dfsae__optim_adam,
    dfsae__optim_adamw;

#endif
