/* Adam and AdamW with PyTorch's update rule:
 *   m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * Adam adds wd * p to g; AdamW multiplies p by 1 - lr * wd first. */
#include <math.h>

#include "optim/optim.h"

static void adam_update(const double *hp, float *state, uint64_t t, float *p,
                        const float *grad, size_t n, int decoupled)
{
    const double lr = hp[DFSAE_OPT_LR], wd = hp[DFSAE_OPT_WEIGHT_DECAY];
    const double b1 = hp[DFSAE_OPT_BETA1], b2 = hp[DFSAE_OPT_BETA2];
    const float step = (float)(lr / (1.0 - pow(b1, (double)t)));
    const float inv_bc2 = (float)(1.0 / sqrt(1.0 - pow(b2, (double)t)));
    const float eps = (float)hp[DFSAE_OPT_EPS];
    const float fb1 = (float)b1, fb2 = (float)b2;
    const float l2 = decoupled ? 0.0f : (float)wd;
    const float shrink = decoupled ? (float)(1.0 - lr * wd) : 1.0f;
    float *m = state, *v = state + n;
    for (size_t i = 0; i < n; ++i) {
        float g = grad[i] + l2 * p[i];
        m[i] = fb1 * m[i] + (1.0f - fb1) * g;
        v[i] = fb2 * v[i] + (1.0f - fb2) * g * g;
        p[i] = p[i] * shrink - step * m[i] / (sqrtf(v[i]) * inv_bc2 + eps);
    }
}

static void adam_step(const double *hp, float *state, uint64_t t, float *p,
                      const float *grad, size_t n)
{
    adam_update(hp, state, t, p, grad, n, 0);
}

static void adamw_step(const double *hp, float *state, uint64_t t, float *p,
                       const float *grad, size_t n)
{
    adam_update(hp, state, t, p, grad, n, 1);
}

#define ADAM_APPLIES                                                          \
    {[DFSAE_OPT_LR] = 1, [DFSAE_OPT_WEIGHT_DECAY] = 1, [DFSAE_OPT_BETA1] = 1, \
     [DFSAE_OPT_BETA2] = 1, [DFSAE_OPT_EPS] = 1}

const dfsae_optim_ops dfsae__optim_adam = {
    "adam",
    2,
    {[DFSAE_OPT_LR] = 1e-3, [DFSAE_OPT_BETA1] = 0.9,
     [DFSAE_OPT_BETA2] = 0.999, [DFSAE_OPT_EPS] = 1e-8},
    ADAM_APPLIES,
    adam_step,
};

const dfsae_optim_ops dfsae__optim_adamw = {
    "adamw",
    2,
    {[DFSAE_OPT_LR] = 1e-3, [DFSAE_OPT_WEIGHT_DECAY] = 1e-2,
     [DFSAE_OPT_BETA1] = 0.9, [DFSAE_OPT_BETA2] = 0.999,
     [DFSAE_OPT_EPS] = 1e-8},
    ADAM_APPLIES,
    adamw_step,
};
