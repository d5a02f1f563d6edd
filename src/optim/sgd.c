/* SGD as in PyTorch: L2 weight decay into the gradient, momentum buffer
 * started at the first gradient, optional dampening and Nesterov. */
#include "optim/optim.h"

static void sgd_step(const double *hp, float *buf, uint64_t t, float *p,
                     const float *grad, size_t n)
{
    const float lr = (float)hp[DFSAE_OPT_LR];
    const float wd = (float)hp[DFSAE_OPT_WEIGHT_DECAY];
    const float mom = (float)hp[DFSAE_OPT_MOMENTUM];
    const float damp = 1.0f - (float)hp[DFSAE_OPT_DAMPENING];
    const int nesterov = hp[DFSAE_OPT_NESTEROV] != 0.0;
    for (size_t i = 0; i < n; ++i) {
        float g = grad[i] + wd * p[i];
        if (mom != 0.0f) {
            buf[i] = t == 1 ? g : mom * buf[i] + damp * g;
            g = nesterov ? g + mom * buf[i] : buf[i];
        }
        p[i] -= lr * g;
    }
}

const dfsae_optim_ops dfsae__optim_sgd = {
    "sgd",
    1,
    {[DFSAE_OPT_LR] = 1e-2},
    {[DFSAE_OPT_LR] = 1, [DFSAE_OPT_WEIGHT_DECAY] = 1,
     [DFSAE_OPT_MOMENTUM] = 1, [DFSAE_OPT_DAMPENING] = 1,
     [DFSAE_OPT_NESTEROV] = 1},
    sgd_step,
};
