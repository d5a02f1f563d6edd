/* SGD as in PyTorch: L2 weight decay into the gradient, momentum buffer
 * started from the first gradient it sees, optional dampening and
 * Nesterov. */
#include <math.h>

#include "fastmath.h"
#include "optim/optim.h"

DFSAE_MULTIVERSION
static int sgd_update(dfsae_optimizer *o, dfsae_pool *pool, float *p,
                      const float *grad, float gmax, int commit)
{
    (void)pool; /* SGD's one pass runs on the caller */
    (void)gmax;
    const double *hp = o->hp;
    const float lr = (float)hp[DFSAE_OPT_LR];
    const float wd = (float)hp[DFSAE_OPT_WEIGHT_DECAY];
    const float mom = (float)hp[DFSAE_OPT_MOMENTUM];
    const float damp = 1.0f - (float)hp[DFSAE_OPT_DAMPENING];
    const int nesterov = hp[DFSAE_OPT_NESTEROV] != 0.0;
    const int fresh = !o->started;
    float *buf = o->state;
    const size_t n = o->n;
    uint32_t bad = 0;
    for (size_t i = 0; i < n; ++i) {
        float g = grad[i] + wd * p[i];
        float b = 0.0f;
        if (mom != 0.0f) {
            b = fresh ? g : mom * buf[i] + damp * g;
            g = nesterov ? g + mom * b : b;
        }
        float np = p[i] - lr * g;
        if (commit) {
            p[i] = np;
            if (mom != 0.0f) /* PyTorch leaves a paused buffer alone */
                buf[i] = b;
        } else {
            bad |= dfsae__nonfinite(np) | dfsae__nonfinite(b);
        }
    }
    if (commit && mom != 0.0f)
        o->started = 1;
    return bad == 0;
}

const dfsae_optim_ops dfsae__optim_sgd = {
    "sgd",
    1,
    {[DFSAE_OPT_LR] = 1e-2},
    {[DFSAE_OPT_LR] = 1,
     [DFSAE_OPT_WEIGHT_DECAY] = 1,
     [DFSAE_OPT_MOMENTUM] = 1,
     [DFSAE_OPT_DAMPENING] = 1,
     [DFSAE_OPT_NESTEROV] = 1},
    sgd_update,
};
