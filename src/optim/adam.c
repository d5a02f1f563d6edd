/* Adam and AdamW with PyTorch's update rule:
 *   m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * Adam adds wd * p to g; AdamW multiplies p by 1 - lr * wd first. */
#include <float.h>
#include <math.h>

#include "fastmath.h"
#include "optim/optim.h"

/* The scalars of one step, rounded to float once. */
typedef struct adam_coef {
    float step, inv_bc2, eps, b1, b2, cb1, cb2, l2, shrink;
} adam_coef;

static adam_coef coefficients(const dfsae_optimizer *o, int decoupled)
{
    const double *hp = o->hp;
    const double t = (double)(o->t + 1);
    const double lr = hp[DFSAE_OPT_LR], wd = hp[DFSAE_OPT_WEIGHT_DECAY];
    const double b1 = hp[DFSAE_OPT_BETA1], b2 = hp[DFSAE_OPT_BETA2];
    adam_coef c;
    c.step = (float)(lr / (1.0 - pow(b1, t)));
    c.inv_bc2 = (float)(1.0 / sqrt(1.0 - pow(b2, t)));
    c.eps = (float)hp[DFSAE_OPT_EPS];
    c.b1 = (float)b1;
    c.b2 = (float)b2;
    /* 1 - beta in double, as PyTorch does: from a float-rounded beta2 it
     * would be 1.3e-5 off relative. */
    c.cb1 = (float)(1.0 - b1);
    c.cb2 = (float)(1.0 - b2);
    c.l2 = decoupled ? 0.0f : (float)wd;
    c.shrink = decoupled ? (float)(1.0 - lr * wd) : 1.0f;
    return c;
}

/* 1 if the update provably stays finite, from maxima alone: with G =
 * max|g + l2 p|, |m'| <= b1 max|m| + (1 - b1) G, v' <= b2 max v +
 * (1 - b2) G^2, and since the denominator is at least eps, |p'| <= max|p
 * shrink| + step |m'| / eps. In double, with a factor 4 to spare for the
 * float rounding of the real update. */
static int proven_by_maxima(const dfsae_optimizer *o, const adam_coef *c,
                            float gmax, float pmax)
{
    const double limit = 0.25 * FLT_MAX;
    double g = (double)gmax + fabs((double)c->l2) * pmax;
    double m = (double)c->b1 * o->state_max[0] + (double)c->cb1 * g;
    double v = (double)c->b2 * o->state_max[1] + (double)c->cb2 * g * g;
    double reach = (double)pmax * fabs((double)c->shrink) +
                   m * (double)c->step / (double)c->eps;
    return v < limit && reach < limit;
}

/* The same proof element by element, still without the sqrt and divide:
 * taken when the maxima are too loose. */
DFSAE_MULTIVERSION
static int bounded(const adam_coef *c, const float *p, const float *grad,
                   const float *m, const float *v, size_t n)
{
    const float ratio = c->step / c->eps, limit = 0.25f * FLT_MAX;
    uint32_t bad = 0;
    for (size_t i = 0; i < n; ++i) {
        float g = grad[i] + c->l2 * p[i];
        float nm = c->b1 * m[i] + c->cb1 * g;
        float nv = c->b2 * v[i] + c->cb2 * g * g;
        float reach = fabsf(p[i] * c->shrink) + fabsf(nm) * ratio;
        /* `!(x <= limit)` also catches a NaN (0 * Inf); a negative v
         * (never loaded, never produced) would make sqrt(v) NaN. */
        bad |= dfsae__nonfinite(nv) | (uint32_t) !(reach <= limit) |
               (uint32_t) !(nv >= 0.0f);
    }
    return bad == 0;
}

/* The exact dry run: 1 if every new parameter and second moment is
 * finite. */
DFSAE_MULTIVERSION
static int exact_check(const adam_coef *c, const float *p, const float *grad,
                       const float *m, const float *v, size_t n)
{
    uint32_t bad = 0;
    for (size_t i = 0; i < n; ++i) {
        float g = grad[i] + c->l2 * p[i];
        float nm = c->b1 * m[i] + c->cb1 * g;
        float nv = c->b2 * v[i] + c->cb2 * g * g;
        float np =
            p[i] * c->shrink - c->step * nm / (sqrtf(nv) * c->inv_bc2 + c->eps);
        bad |= dfsae__nonfinite(np) | dfsae__nonfinite(nv);
    }
    return bad == 0;
}

/* The update; returns the new maxima of |m| and v as bit patterns (floats
 * >= 0 order like their bits), for the next step's proof. */
DFSAE_MULTIVERSION
static void apply_update(const adam_coef *c, float *p, const float *grad,
                         float *m, float *v, size_t n, uint32_t *m_bits,
                         uint32_t *v_bits)
{
    uint32_t mb = 0, vb = 0;
    for (size_t i = 0; i < n; ++i) {
        float g = grad[i] + c->l2 * p[i];
        float nm = c->b1 * m[i] + c->cb1 * g;
        float nv = c->b2 * v[i] + c->cb2 * g * g;
        p[i] =
            p[i] * c->shrink - c->step * nm / (sqrtf(nv) * c->inv_bc2 + c->eps);
        m[i] = nm;
        v[i] = nv;
        union {
            float f;
            uint32_t u;
        } am = {fabsf(nm)}, av = {nv};
        mb = am.u > mb ? am.u : mb;
        vb = av.u > vb ? av.u : vb;
    }
    *m_bits = mb;
    *v_bits = vb;
}

/* The update's passes split over the pool; per-part results combine by
 * max and by and, which do not depend on the split. */
enum adam_pass { ADAM_APPLY, ADAM_BOUNDED, ADAM_EXACT };

typedef struct adam_job {
    const adam_coef *c;
    float *p, *m, *v;
    const float *grad;
    enum adam_pass pass;
    uint32_t out[DFSAE_MAX_THREADS][2];
} adam_job;

static void adam_part(void *arg, int part, size_t lo, size_t hi)
{
    adam_job *j = arg;
    const size_t len = hi - lo;
    uint32_t *out = j->out[part];
    switch (j->pass) {
    case ADAM_APPLY:
        apply_update(j->c, j->p + lo, j->grad + lo, j->m + lo, j->v + lo, len,
                     &out[0], &out[1]);
        break;
    case ADAM_BOUNDED:
        out[0] = (uint32_t)bounded(j->c, j->p + lo, j->grad + lo, j->m + lo,
                                   j->v + lo, len);
        break;
    case ADAM_EXACT:
        out[0] = (uint32_t)exact_check(j->c, j->p + lo, j->grad + lo, j->m + lo,
                                       j->v + lo, len);
        break;
    }
}

/* Runs a pass; returns the and of the parts' flags (checks), or leaves the
 * maxima of |m| and v in maxima (apply). */
static int adam_run(dfsae_pool *pool, size_t n, adam_job *job,
                    enum adam_pass pass, uint32_t maxima[2])
{
    job->pass = pass;
    int parts = dfsae__parallel_for(pool, n, 16, adam_part, job);
    uint32_t all = 1, mb = 0, vb = 0;
    for (int i = 0; i < parts; ++i) {
        all &= job->out[i][0] != 0;
        mb = job->out[i][0] > mb ? job->out[i][0] : mb;
        vb = job->out[i][1] > vb ? job->out[i][1] : vb;
    }
    if (maxima != NULL) {
        maxima[0] = mb;
        maxima[1] = vb;
    }
    return (int)all;
}

static int adam_update(dfsae_optimizer *o, dfsae_pool *pool, float *p,
                       const float *grad, float gmax, int do_commit,
                       int decoupled)
{
    const adam_coef c = coefficients(o, decoupled);
    adam_job job = {&c, p, o->state, o->state + o->n, grad, ADAM_APPLY, {{0}}};
    if (do_commit) {
        uint32_t bits[2];
        adam_run(pool, o->n, &job, ADAM_APPLY, bits);
        union {
            uint32_t u;
            float f;
        } mb = {bits[0]}, vb = {bits[1]};
        o->state_max[0] = mb.f;
        o->state_max[1] = vb.f;
        o->maxima_valid = 1;
        return 1;
    }
    if (o->maxima_valid &&
        proven_by_maxima(o, &c, gmax, dfsae__max_abs_par(pool, p, o->n)))
        return 1;
    if (adam_run(pool, o->n, &job, ADAM_BOUNDED, NULL))
        return 1;
    return adam_run(pool, o->n, &job, ADAM_EXACT, NULL);
}

static int adam_l2(dfsae_optimizer *o, dfsae_pool *pool, float *p,
                   const float *grad, float gmax, int commit)
{
    return adam_update(o, pool, p, grad, gmax, commit, 0);
}

static int adamw(dfsae_optimizer *o, dfsae_pool *pool, float *p,
                 const float *grad, float gmax, int commit)
{
    return adam_update(o, pool, p, grad, gmax, commit, 1);
}

#define ADAM_APPLIES                                                           \
    {                                                                          \
        [DFSAE_OPT_LR] = 1, [DFSAE_OPT_WEIGHT_DECAY] = 1,                      \
        [DFSAE_OPT_BETA1] = 1, [DFSAE_OPT_BETA2] = 1, [DFSAE_OPT_EPS] = 1      \
    }

const dfsae_optim_ops dfsae__optim_adam = {
    "adam",
    2,
    {[DFSAE_OPT_LR] = 1e-3,
     [DFSAE_OPT_BETA1] = 0.9,
     [DFSAE_OPT_BETA2] = 0.999,
     [DFSAE_OPT_EPS] = 1e-8},
    ADAM_APPLIES,
    adam_l2,
};

const dfsae_optim_ops dfsae__optim_adamw = {
    "adamw",
    2,
    {[DFSAE_OPT_LR] = 1e-3,
     [DFSAE_OPT_WEIGHT_DECAY] = 1e-2,
     [DFSAE_OPT_BETA1] = 0.9,
     [DFSAE_OPT_BETA2] = 0.999,
     [DFSAE_OPT_EPS] = 1e-8},
    ADAM_APPLIES,
    adamw,
};
