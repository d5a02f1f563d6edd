/* SGD as in PyTorch: L2 weight decay into the gradient, momentum buffer
 * started from the first gradient it sees, optional dampening and
 * Nesterov. Its one pass runs on the caller. */
#include "fastmath.h"
#include "optim/optim.h"

/* The scalars of one step, rounded to float once. */
typedef struct sgd_coef {
    float lr, wd, mom, damp;
    int nesterov, fresh;
} sgd_coef;

static sgd_coef coefficients(const dfsae_optimizer *o)
{
    const double *hp = o->hp;
    sgd_coef c;
    c.lr = (float)hp[DFSAE_OPT_LR];
    c.wd = (float)hp[DFSAE_OPT_WEIGHT_DECAY];
    c.mom = (float)hp[DFSAE_OPT_MOMENTUM];
    c.damp = 1.0f - (float)hp[DFSAE_OPT_DAMPENING];
    c.nesterov = hp[DFSAE_OPT_NESTEROV] != 0.0;
    c.fresh = !o->started;
    return c;
}

typedef struct sgd_out {
    float p, buf; /* the new parameter and momentum buffer entry */
} sgd_out;

/* The update of one parameter: the formula, written once. */
static inline sgd_out sgd_element(const sgd_coef *c, float p, float grad,
                                  float buf)
{
    float g = grad + c->wd * p;
    float b = 0.0f;
    if (c->mom != 0.0f) {
        b = c->fresh ? g : c->mom * buf + c->damp * g;
        g = c->nesterov ? g + c->mom * b : b;
    }
    return (sgd_out){p - c->lr * g, b};
}

DFSAE_MULTIVERSION
static int sgd_check(const float *p, const float *grad, float gmax, size_t n,
                     const dfsae_optimizer *o, dfsae_pool *pool)
{
    (void)gmax;
    (void)pool;
    const sgd_coef c = coefficients(o);
    const float *buf = o->state;
    uint32_t bad = 0;
    for (size_t i = 0; i < n; ++i) {
        sgd_out u = sgd_element(&c, p[i], grad[i], buf[i]);
        bad |= dfsae__nonfinite(u.p) | dfsae__nonfinite(u.buf);
    }
    return bad == 0;
}

DFSAE_MULTIVERSION
static void sgd_update(float *p, const float *grad, size_t n,
                       dfsae_optimizer *o, dfsae_pool *pool)
{
    (void)pool;
    const sgd_coef c = coefficients(o);
    float *buf = o->state;
    for (size_t i = 0; i < n; ++i) {
        sgd_out u = sgd_element(&c, p[i], grad[i], buf[i]);
        p[i] = u.p;
        if (c.mom != 0.0f) /* PyTorch leaves a paused buffer alone */
            buf[i] = u.buf;
    }
    if (c.mom != 0.0f)
        o->started = 1;
}

const dfsae_optim_ops dfsae__optim_sgd = {"sgd", 1, sgd_check, sgd_update};
