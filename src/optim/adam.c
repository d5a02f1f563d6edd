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

static adam_coef coefficients(const dfsae_optimizer *o)
{
    const int decoupled = o->kind == DFSAE_ADAMW;
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

typedef struct adam_out {
    float p, m, v; /* the new parameter and moments */
} adam_out;

/* The update of one parameter: the formula, written once; the dry run
 * and the update both call it. */
static inline adam_out adam_element(const adam_coef *c, float p, float grad,
                                    float m, float v)
{
    const float g = grad + c->l2 * p;
    adam_out u;
    u.m = c->b1 * m + c->cb1 * g;
    u.v = c->b2 * v + c->cb2 * g * g;
    u.p = p * c->shrink - c->step * u.m / (sqrtf(u.v) * c->inv_bc2 + c->eps);
    return u;
}

/* The fast path of the dry run: 1 if the update provably stays finite,
 * from maxima alone. With G = max|g + l2 p|, |m'| <= b1 max|m| + (1 - b1)
 * G, v' <= b2 max v + (1 - b2) G^2, and since the denominator is at least
 * eps, |p'| <= max|p shrink| + step |m'| / eps. In double, with a factor
 * 4 to spare for the float rounding of the real update. */
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

/* 1 if every new parameter and second moment is finite (a negative v,
 * never loaded nor produced, would make sqrt(v) and the parameter NaN). */
DFSAE_MULTIVERSION
static int all_finite(const adam_coef *c, const float *p, const float *grad,
                      const float *m, const float *v, size_t n)
{
    uint32_t bad = 0;
    for (size_t i = 0; i < n; ++i) {
        adam_out u = adam_element(c, p[i], grad[i], m[i], v[i]);
        bad |= dfsae__nonfinite(u.p) | dfsae__nonfinite(u.v);
    }
    return bad == 0;
}

/* The update; returns the new maxima of |m| and v as bit patterns (floats
 * >= 0 order like their bits), for the next dry run's fast path. */
DFSAE_MULTIVERSION
static void apply(const adam_coef *c, float *p, const float *grad, float *m,
                  float *v, size_t n, uint32_t *m_bits, uint32_t *v_bits)
{
    uint32_t mb = 0, vb = 0;
    for (size_t i = 0; i < n; ++i) {
        adam_out u = adam_element(c, p[i], grad[i], m[i], v[i]);
        p[i] = u.p;
        m[i] = u.m;
        v[i] = u.v;
        union {
            float f;
            uint32_t u;
        } am = {fabsf(u.m)}, av = {u.v};
        mb = am.u > mb ? am.u : mb;
        vb = av.u > vb ? av.u : vb;
    }
    *m_bits = mb;
    *v_bits = vb;
}

/* Both passes split over the pool; per-part results combine by max and
 * by and, which do not depend on the split. */
typedef struct adam_job {
    const adam_coef *c;
    float *p, *m, *v; /* written by the update pass only */
    const float *grad;
    int update;
    uint32_t out[DFSAE_MAX_THREADS][2];
} adam_job;

static void adam_part(void *arg, int part, size_t lo, size_t hi)
{
    adam_job *j = arg;
    const size_t len = hi - lo;
    uint32_t *out = j->out[part];
    if (j->update)
        apply(j->c, j->p + lo, j->grad + lo, j->m + lo, j->v + lo, len, &out[0],
              &out[1]);
    else
        out[0] = (uint32_t)all_finite(j->c, j->p + lo, j->grad + lo, j->m + lo,
                                      j->v + lo, len);
}

/* Runs a pass over n parameters; returns the and of the parts' flags
 * (dry run) and leaves the maxima of the parts' |m| and v in maxima. */
static int adam_run(dfsae_pool *pool, size_t n, adam_job *job,
                    uint32_t maxima[2])
{
    int parts = dfsae__parallel_for(pool, n, 16, adam_part, job);
    uint32_t all = 1, mb = 0, vb = 0;
    for (int i = 0; i < parts; ++i) {
        all &= job->out[i][0] != 0;
        mb = job->out[i][0] > mb ? job->out[i][0] : mb;
        vb = job->out[i][1] > vb ? job->out[i][1] : vb;
    }
    maxima[0] = mb;
    maxima[1] = vb;
    return (int)all;
}

static int adam_check(const float *p, const float *grad, float gmax, size_t n,
                      const dfsae_optimizer *o, dfsae_pool *pool)
{
    const adam_coef c = coefficients(o);
    if (o->maxima_valid &&
        proven_by_maxima(o, &c, gmax, dfsae__max_abs_par(pool, p, n)))
        return 1;
    /* The pass reads only; the job's pointers are not const for the
     * update pass's sake. */
    adam_job job = {
        &c, (float *)p, (float *)o->state, (float *)o->state + n, grad,
        0,  {{0}}};
    uint32_t unused[2];
    return adam_run(pool, n, &job, unused);
}

static void adam_update(float *p, const float *grad, size_t n,
                        dfsae_optimizer *o, dfsae_pool *pool)
{
    const adam_coef c = coefficients(o);
    adam_job job = {&c, p, o->state, o->state + n, grad, 1, {{0}}};
    uint32_t bits[2];
    adam_run(pool, n, &job, bits);
    union {
        uint32_t u;
        float f;
    } mb = {bits[0]}, vb = {bits[1]};
    o->state_max[0] = mb.f;
    o->state_max[1] = vb.f;
    o->maxima_valid = 1;
}

const dfsae_optim_ops dfsae__optim_adam = {"adam", 2, adam_check, adam_update};
const dfsae_optim_ops dfsae__optim_adamw = {"adamw", 2, adam_check,
                                            adam_update};
