/* The convergence rule of DFSAE_TRAIN_CONVERGE_TOLERANCE: the epoch's mean
 * loss has changed by less than the tolerance, from the epoch before, for
 * `patience` epochs in a row. */
#include <math.h>

#include "train/train.h"

void dfsae__converge_init(dfsae_converge *c, const dfsae_train_config *cfg)
{
    c->tolerance = dfsae__train_value(cfg, DFSAE_TRAIN_CONVERGE_TOLERANCE);
    c->patience = dfsae__train_u64(cfg, DFSAE_TRAIN_CONVERGE_PATIENCE);
    c->calm = 0;
    c->have_last = 0;
    c->last = 0.0;
}

int dfsae__converge_update(dfsae_converge *c, double mean_loss)
{
    if (c->tolerance == 0.0)
        return 0;
    /* A NaN change is not a small one. */
    int small = c->have_last && fabs(mean_loss - c->last) < c->tolerance;
    c->calm = small ? c->calm + 1 : 0;
    c->last = mean_loss;
    c->have_last = 1;
    return c->calm >= c->patience;
}
