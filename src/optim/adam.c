/* Adam and AdamW with PyTorch's update rule:
 *   m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * Adam adds wd * p to g; AdamW multiplies p by 1 - lr * wd first. */
#include <math.h>

#include "fastmath.h"
#include "optim/optim.h"

static int adam_update(dfsae_optimizer *o, float *p, const float *grad,
                       int commit, int decoupled)
{
    const double *hp = o->hp;
    const double t = (double)(o->t + 1);
    const double lr = hp[DFSAE_OPT_LR], wd = hp[DFSAE_OPT_WEIGHT_DECAY];
    const double b1 = hp[DFSAE_OPT_BETA1], b2 = hp[DFSAE_OPT_BETA2];
    const float step = (float)(lr / (1.0 - pow(b1, t)));
    const float inv_bc2 = (float)(1.0 / sqrt(1.0 - pow(b2, t)));
    const float eps = (float)hp[DFSAE_OPT_EPS];
    /* 1 - beta in double, as PyTorch does: from a float-rounded beta2 it
     * would be 1.3e-5 off relative. */
    const float fb1 = (float)b1, fb2 = (float)b2;
    const float cb1 = (float)(1.0 - b1), cb2 = (float)(1.0 - b2);
    const float l2 = decoupled ? 0.0f : (float)wd;
    const float shrink = decoupled ? (float)(1.0 - lr * wd) : 1.0f;
    const size_t n = o->n;
    float *m = o->state, *v = o->state + n;
    uint32_t bad = 0;
    for (size_t i = 0; i < n; ++i) {
        float g = grad[i] + l2 * p[i];
        float nm = fb1 * m[i] + cb1 * g;
        float nv = fb2 * v[i] + cb2 * g * g;
        float np = p[i] * shrink - step * nm / (sqrtf(nv) * inv_bc2 + eps);
        if (commit) {
            m[i] = nm;
            v[i] = nv;
            p[i] = np;
        } else {
            bad |= dfsae__nonfinite(np) | dfsae__nonfinite(nv);
        }
    }
    return bad == 0;
}

static int adam_l2(dfsae_optimizer *o, float *p, const float *grad,
                   int commit)
{
    return adam_update(o, p, grad, commit, 0);
}

static int adamw(dfsae_optimizer *o, float *p, const float *grad,
                 int commit)
{
    return adam_update(o, p, grad, commit, 1);
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
    adam_l2,
};

const dfsae_optim_ops dfsae__optim_adamw = {
    "adamw",
    2,
    {[DFSAE_OPT_LR] = 1e-3, [DFSAE_OPT_WEIGHT_DECAY] = 1e-2,
     [DFSAE_OPT_BETA1] = 0.9, [DFSAE_OPT_BETA2] = 0.999,
     [DFSAE_OPT_EPS] = 1e-8},
    ADAM_APPLIES,
    adamw,
};
