/* Optimizers against their formulas (PyTorch's SGD, Adam, AdamW), computed
 * here in double from the update rules, independently of src/. The library
 * steps float parameters, so results are compared with a tight relative
 * tolerance. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api_alloc.h"
#include "api_state.h"
#include "dfsae.h"
#include "fixture.h"

#define D     4
#define K     3
#define NP    (K * D + K)
#define STEPS 6
/* Float against double: a few float ulps of each parameter and of the
 * distance it travelled (errors of each step's size accumulate). */
#define RTOL 1e-6
#define ATOL 1e-6

/* Hyper-parameters and state of the reference optimizer. */
typedef struct ref_opt {
    int kind;
    double lr, wd, momentum, dampening, beta1, beta2, eps;
    int nesterov;
    double p[NP], buf[NP], m[NP], v[NP];
    double path[NP]; /* sum of |step| per coordinate */
    int t;
} ref_opt;

static void ref_init(ref_opt *r, int kind, const float *p0)
{
    memset(r, 0, sizeof *r);
    r->kind = kind;
    /* PyTorch's defaults. */
    r->lr = kind == DFSAE_SGD ? 1e-2 : 1e-3;
    r->wd = kind == DFSAE_ADAMW ? 1e-2 : 0.0;
    r->beta1 = 0.9;
    r->beta2 = 0.999;
    r->eps = 1e-8;
    for (int i = 0; i < NP; ++i)
        r->p[i] = p0[i];
}

/* torch.optim.SGD.step, Adam.step, AdamW.step for one tensor. */
static void ref_step(ref_opt *r, const float *gf)
{
    r->t += 1;
    for (int i = 0; i < NP; ++i) {
        double g = gf[i], before = r->p[i];
        if (r->kind == DFSAE_SGD) {
            g += r->wd * r->p[i];
            if (r->momentum != 0.0) {
                r->buf[i] = r->t == 1 ? g
                                      : r->momentum * r->buf[i] +
                                            (1.0 - r->dampening) * g;
                g = r->nesterov ? g + r->momentum * r->buf[i] : r->buf[i];
            }
            r->p[i] -= r->lr * g;
            r->path[i] += fabs(r->p[i] - before);
            continue;
        }
        if (r->kind == DFSAE_ADAMW)
            r->p[i] *= 1.0 - r->lr * r->wd;
        else
            g += r->wd * r->p[i];
        r->m[i] = r->beta1 * r->m[i] + (1.0 - r->beta1) * g;
        r->v[i] = r->beta2 * r->v[i] + (1.0 - r->beta2) * g * g;
        double bc1 = 1.0 - pow(r->beta1, r->t);
        double bc2 = 1.0 - pow(r->beta2, r->t);
        double mhat = r->m[i] / bc1, vhat = r->v[i] / bc2;
        r->p[i] -= r->lr * mhat / (sqrt(vhat) + r->eps);
        r->path[i] += fabs(r->p[i] - before);
    }
}

/* Starting parameters with mixed signs and magnitudes, one exact zero. */
static void initial_params(float *p)
{
    for (int i = 0; i < NP; ++i)
        p[i] = (float)(0.75 * sin(0.9 * i + 0.3) + 0.1 * (i % 3));
    p[5] = 0.0f;
}

/* A gradient that changes sign and size between steps; coordinate 2 is 0
 * at every step (Adam must then leave it alone), coordinate 7 is tiny. */
static void gradient_at(int t, float *g)
{
    for (int i = 0; i < NP; ++i)
        g[i] = (float)((1.0 + 0.4 * i) * sin(1.3 * i + 0.7 * t + 0.2));
    g[2] = 0.0f;
    g[7] = (float)(1e-3 * cos(0.5 * t));
}

/* A model on a counting allocator (and the optimizer under test), all
 * the fixture's: freed in teardown if the test fails. */
typedef struct rig {
    api_alloc_ctl ctl;
    dfsae_allocator alloc;
    dfsae_model *model;
    dfsae_optimizer *opt;
} rig;

static rig *open_rig(void **state)
{
    rig *f = fx_alloc(state, sizeof *f); /* outlives the handles */
    api_alloc_ctl_init(&f->ctl);
    f->alloc = api_allocator(&f->ctl);
    f->opt = NULL;
    dfsae_model **slot = fx_model_slot(state);
    assert_int_equal(dfsae_model_create(D, K, 1, &f->alloc, slot), DFSAE_OK);
    f->model = *slot;
    return f;
}

/* The allocator takes test_malloc, whose blocks cmocka checks when a
 * passing test returns: the handles are dropped before that. */
static void close_rig(void **state, rig *f)
{
    fx_drop(state, f->opt);
    fx_drop(state, f->model);
    assert_int_equal(f->ctl.allocs, f->ctl.frees);
}

/* An optimizer on the rig's allocator, the fixture's. */
static dfsae_optimizer *rig_optimizer(void **state, rig *f, int kind)
{
    dfsae_optimizer **slot = fx_optimizer_slot(state);
    assert_int_equal(dfsae_optimizer_create(kind, NP, &f->alloc, slot),
                     DFSAE_OK);
    return *slot;
}

/* A test body taking an open rig (register it with FIXTURE_TEST). */
#define RIG_TEST(name)                                                         \
    static void name##_body(void **state, rig *f);                             \
    static void name(void **state)                                             \
    {                                                                          \
        rig *f = open_rig(state);                                              \
        name##_body(state, f);                                                 \
        close_rig(state, f);                                                   \
    }                                                                          \
    static void name##_body(void **state, rig *f)

/* Applies the same hyper-parameters to the library and the reference. */
static void configure(rig *f, ref_opt *r, int key, double value)
{
    assert_int_equal(dfsae_optimizer_set_option(f->opt, key, value), DFSAE_OK);
    switch (key) {
    case DFSAE_OPT_LR: r->lr = value; break;
    case DFSAE_OPT_WEIGHT_DECAY: r->wd = value; break;
    case DFSAE_OPT_MOMENTUM: r->momentum = value; break;
    case DFSAE_OPT_DAMPENING: r->dampening = value; break;
    case DFSAE_OPT_NESTEROV: r->nesterov = value != 0.0; break;
    case DFSAE_OPT_BETA1: r->beta1 = value; break;
    case DFSAE_OPT_BETA2: r->beta2 = value; break;
    case DFSAE_OPT_EPS: r->eps = value; break;
    default: fail_msg("unknown key %d", key);
    }
}

/* Creates the optimizer, places the initial parameters; returns the
 * reference in the same state. */
static void start(void **state, rig *f, ref_opt *r, int kind)
{
    float p0[NP];
    initial_params(p0);
    assert_int_equal(dfsae_model_num_params(f->model), NP);
    assert_int_equal(dfsae_model_set_params(f->model, p0, NP), DFSAE_OK);
    f->opt = rig_optimizer(state, f, kind);
    ref_init(r, kind, p0);
}

/* Steps both STEPS times, comparing after every step. */
static void run_and_compare(rig *f, ref_opt *r)
{
    float g[NP], p[NP];
    for (int t = 1; t <= STEPS; ++t) {
        gradient_at(t, g);
        assert_int_equal(dfsae_optimizer_step(f->opt, f->model, g), DFSAE_OK);
        ref_step(r, g);
        assert_true(dfsae_optimizer_step_count(f->opt) == (uint64_t)t);
        assert_int_equal(dfsae_model_get_params(f->model, p, NP), DFSAE_OK);
        for (int i = 0; i < NP; ++i) {
            double err = fabs((double)p[i] - r->p[i]);
            double tol = RTOL * (fabs(r->p[i]) + r->path[i]) + 1e-9;
            if (!(err <= tol))
                fail_msg("step %d: p[%d] = %.9g, want %.12g (error %.3g, "
                         "allowed %.3g)",
                         t, i, (double)p[i], r->p[i], err, tol);
        }
    }
}

RIG_TEST(test_sgd_plain)
{
    ref_opt r;
    start(state, f, &r, DFSAE_SGD);
    configure(f, &r, DFSAE_OPT_LR, 0.1);
    run_and_compare(f, &r);
}

/* The defaults alone (lr 1e-2) must already match. */
RIG_TEST(test_sgd_defaults)
{
    ref_opt r;
    start(state, f, &r, DFSAE_SGD);
    run_and_compare(f, &r);
}

RIG_TEST(test_sgd_momentum)
{
    ref_opt r;
    start(state, f, &r, DFSAE_SGD);
    configure(f, &r, DFSAE_OPT_LR, 0.1);
    configure(f, &r, DFSAE_OPT_MOMENTUM, 0.9);
    /* First step: the buffer is the gradient itself, p1 = p0 - lr g1. */
    float p0[NP], g[NP];
    double want[NP];
    initial_params(p0);
    gradient_at(1, g);
    for (int i = 0; i < NP; ++i)
        want[i] = (double)p0[i] - 0.1 * g[i];
    run_and_compare(f, &r);
    /* And the reference agrees with the hand formula for step 1. */
    ref_opt r1;
    ref_init(&r1, DFSAE_SGD, p0);
    r1.lr = 0.1;
    r1.momentum = 0.9;
    ref_step(&r1, g);
    for (int i = 0; i < NP; ++i)
        assert_true(fabs(r1.p[i] - want[i]) <= 1e-12);
}

RIG_TEST(test_sgd_dampening)
{
    ref_opt r;
    start(state, f, &r, DFSAE_SGD);
    configure(f, &r, DFSAE_OPT_LR, 0.1);
    configure(f, &r, DFSAE_OPT_MOMENTUM, 0.8);
    configure(f, &r, DFSAE_OPT_DAMPENING, 0.3);
    run_and_compare(f, &r);
}

RIG_TEST(test_sgd_nesterov)
{
    ref_opt r;
    start(state, f, &r, DFSAE_SGD);
    configure(f, &r, DFSAE_OPT_LR, 0.05);
    configure(f, &r, DFSAE_OPT_MOMENTUM, 0.9);
    configure(f, &r, DFSAE_OPT_NESTEROV, 1.0);
    run_and_compare(f, &r);
}

RIG_TEST(test_sgd_weight_decay)
{
    ref_opt r;
    start(state, f, &r, DFSAE_SGD);
    configure(f, &r, DFSAE_OPT_LR, 0.1);
    configure(f, &r, DFSAE_OPT_WEIGHT_DECAY, 0.5);
    run_and_compare(f, &r);
}

RIG_TEST(test_sgd_weight_decay_momentum)
{
    ref_opt r;
    start(state, f, &r, DFSAE_SGD);
    configure(f, &r, DFSAE_OPT_LR, 0.1);
    configure(f, &r, DFSAE_OPT_WEIGHT_DECAY, 0.2);
    configure(f, &r, DFSAE_OPT_MOMENTUM, 0.7);
    configure(f, &r, DFSAE_OPT_NESTEROV, 1.0);
    run_and_compare(f, &r);
}

/* An update that would overflow float is refused before anything changes:
 * parameters, moments and the step count. */
RIG_TEST(test_overflowing_update_changes_nothing)
{
    const int kinds[] = {DFSAE_SGD, DFSAE_ADAM};
    for (size_t k = 0; k < 2; ++k) {
        ref_opt r;
        start(state, f, &r, kinds[k]);
        float g[NP], before[NP], after[NP];
        gradient_at(1, g);
        assert_int_equal(dfsae_optimizer_step(f->opt, f->model, g), DFSAE_OK);
        assert_int_equal(dfsae_model_get_params(f->model, before, NP),
                         DFSAE_OK);
        /* SGD: lr * g overflows; Adam: g^2 overflows the second moment. */
        for (size_t i = 0; i < NP; ++i)
            g[i] = kinds[k] == DFSAE_SGD ? 1e30f : 3e37f;
        if (kinds[k] == DFSAE_SGD)
            assert_int_equal(
                dfsae_optimizer_set_option(f->opt, DFSAE_OPT_LR, 1e30),
                DFSAE_OK);
        assert_int_equal(dfsae_optimizer_step(f->opt, f->model, g),
                         DFSAE_ERR_NON_FINITE_RESULT);
        assert_true(dfsae_optimizer_step_count(f->opt) == 1);
        assert_int_equal(dfsae_model_get_params(f->model, after, NP), DFSAE_OK);
        assert_memory_equal(before, after, sizeof before);
        /* The state is intact: a sane step still succeeds. */
        if (kinds[k] == DFSAE_SGD)
            assert_int_equal(
                dfsae_optimizer_set_option(f->opt, DFSAE_OPT_LR, 1e-2),
                DFSAE_OK);
        gradient_at(2, g);
        assert_int_equal(dfsae_optimizer_step(f->opt, f->model, g), DFSAE_OK);
        fx_drop(state, f->opt);
        f->opt = NULL;
    }
}

/* A step with momentum 0 leaves the momentum buffer alone, as PyTorch does:
 * lr 1, gradient 1, momentum 0.5, 0, 0.5 gives -1, -2, then a buffer of
 * 0.5 * 1 + 1 = 1.5, so -3.5. */
static void test_sgd_momentum_paused_keeps_buffer(void **state)
{
    dfsae_model *m = fx_model(state, 1, 1, 1);
    dfsae_optimizer *o = fx_optimizer(state, DFSAE_SGD, 2);
    const float zero[2] = {0.0f, 0.0f}, g[2] = {1.0f, 1.0f};
    assert_int_equal(dfsae_model_set_params(m, zero, 2), DFSAE_OK);
    assert_int_equal(dfsae_optimizer_set_option(o, DFSAE_OPT_LR, 1.0),
                     DFSAE_OK);
    const double momentum[3] = {0.5, 0.0, 0.5};
    const float want[3] = {-1.0f, -2.0f, -3.5f};
    for (int t = 0; t < 3; ++t) {
        assert_int_equal(
            dfsae_optimizer_set_option(o, DFSAE_OPT_MOMENTUM, momentum[t]),
            DFSAE_OK);
        assert_int_equal(dfsae_optimizer_step(o, m, g), DFSAE_OK);
        float p[2];
        assert_int_equal(dfsae_model_get_params(m, p, 2), DFSAE_OK);
        if (p[0] != want[t] || p[1] != want[t])
            fail_msg("step %d: p = (%g, %g), want %g", t + 1, (double)p[0],
                     (double)p[1], (double)want[t]);
    }
}

/* Hyper-parameters are bounded to what the float update can use. */
static void test_bounds_in_float_range(void **state)
{
    (void)state;
    double lo, hi;
    assert_int_equal(
        dfsae_optimizer_option_bounds(DFSAE_ADAM, DFSAE_OPT_EPS, &lo, NULL),
        DFSAE_OK);
    assert_true((float)lo > 0.0f);
    assert_int_equal(
        dfsae_optimizer_option_bounds(DFSAE_ADAM, DFSAE_OPT_BETA2, NULL, &hi),
        DFSAE_OK);
    assert_true((float)hi < 1.0f);
    assert_int_equal(
        dfsae_optimizer_option_bounds(DFSAE_SGD, DFSAE_OPT_LR, NULL, &hi),
        DFSAE_OK);
    assert_true(isfinite((float)hi));
}

/* PyTorch refuses Nesterov without momentum or with dampening; so does the
 * step, changing nothing. */
RIG_TEST(test_sgd_nesterov_needs_momentum_without_dampening)
{
    ref_opt r;
    start(state, f, &r, DFSAE_SGD);
    float g[NP], before[NP], after[NP];
    gradient_at(1, g);
    assert_int_equal(dfsae_model_get_params(f->model, before, NP), DFSAE_OK);
    configure(f, &r, DFSAE_OPT_NESTEROV, 1.0);
    assert_int_equal(dfsae_optimizer_step(f->opt, f->model, g),
                     DFSAE_ERR_INVALID_ARG);
    configure(f, &r, DFSAE_OPT_MOMENTUM, 0.7);
    configure(f, &r, DFSAE_OPT_DAMPENING, 0.1);
    assert_int_equal(dfsae_optimizer_step(f->opt, f->model, g),
                     DFSAE_ERR_INVALID_ARG);
    assert_non_null(strstr(dfsae_optimizer_last_error(f->opt), "Nesterov"));
    assert_true(dfsae_optimizer_step_count(f->opt) == 0);
    assert_int_equal(dfsae_model_get_params(f->model, after, NP), DFSAE_OK);
    assert_memory_equal(before, after, sizeof before);
}

/* PyTorch creates the momentum buffer from the first gradient it sees with
 * momentum on, also when momentum is switched on after some plain steps. */
RIG_TEST(test_sgd_momentum_enabled_later)
{
    ref_opt r;
    start(state, f, &r, DFSAE_SGD);
    configure(f, &r, DFSAE_OPT_LR, 0.1);
    float g[NP], p[NP];
    for (int t = 1; t <= 2; ++t) {
        gradient_at(t, g);
        assert_int_equal(dfsae_optimizer_step(f->opt, f->model, g), DFSAE_OK);
        ref_step(&r, g);
    }
    configure(f, &r, DFSAE_OPT_MOMENTUM, 0.9);
    configure(f, &r, DFSAE_OPT_DAMPENING, 0.5);
    /* The reference's buffer starts now: restart its count for momentum. */
    gradient_at(3, g);
    assert_int_equal(dfsae_optimizer_step(f->opt, f->model, g), DFSAE_OK);
    double want[NP];
    for (int i = 0; i < NP; ++i)
        want[i] = r.p[i] - 0.1 * g[i]; /* buffer = g, undampened */
    assert_int_equal(dfsae_model_get_params(f->model, p, NP), DFSAE_OK);
    api_assert_close(p, want, NP, RTOL, ATOL, "first momentum step");
}

RIG_TEST(test_adam)
{
    ref_opt r;
    start(state, f, &r, DFSAE_ADAM);
    configure(f, &r, DFSAE_OPT_LR, 0.1);
    run_and_compare(f, &r);
}

/* Bias correction makes the first step lr * g / (|g| + eps): about
 * lr * sign(g) for every coordinate whatever its gradient's size, and 0
 * where the gradient is 0. */
RIG_TEST(test_adam_first_step_is_lr_sign)
{
    ref_opt r;
    start(state, f, &r, DFSAE_ADAM);
    const double lr = 0.01;
    configure(f, &r, DFSAE_OPT_LR, lr);
    float p0[NP], p1[NP], g[NP];
    initial_params(p0);
    gradient_at(1, g);
    assert_int_equal(dfsae_optimizer_step(f->opt, f->model, g), DFSAE_OK);
    assert_int_equal(dfsae_model_get_params(f->model, p1, NP), DFSAE_OK);
    for (int i = 0; i < NP; ++i) {
        double moved = (double)p1[i] - p0[i];
        double want = g[i] > 0 ? -lr : g[i] < 0 ? lr : 0.0;
        /* float rounding of p (|p| < 1) is the only slack. */
        if (fabs(moved - want) > 2e-7 + 1e-5 * lr)
            fail_msg("coordinate %d (g = %g) moved %.9g, want %.9g", i,
                     (double)g[i], moved, want);
    }
}

RIG_TEST(test_adam_weight_decay)
{
    ref_opt r;
    start(state, f, &r, DFSAE_ADAM);
    configure(f, &r, DFSAE_OPT_LR, 0.1);
    configure(f, &r, DFSAE_OPT_WEIGHT_DECAY, 0.3);
    run_and_compare(f, &r);
}

/* Betas far from the defaults and a large eps make every factor visible. */
/* eps at its lower bound with lr 1: the cheap finiteness bound
 * (|p| + step |m| / eps) cannot prove the update finite, so the exact dry
 * run decides; the update must still match the reference. */
RIG_TEST(test_adam_tiny_eps_takes_the_exact_check)
{
    ref_opt r;
    start(state, f, &r, DFSAE_ADAM);
    double lo;
    assert_int_equal(
        dfsae_optimizer_option_bounds(DFSAE_ADAM, DFSAE_OPT_EPS, &lo, NULL),
        DFSAE_OK);
    configure(f, &r, DFSAE_OPT_LR, 1.0);
    configure(f, &r, DFSAE_OPT_EPS, lo);
    run_and_compare(f, &r);
}

RIG_TEST(test_adam_custom_betas_eps)
{
    ref_opt r;
    start(state, f, &r, DFSAE_ADAM);
    configure(f, &r, DFSAE_OPT_LR, 0.2);
    configure(f, &r, DFSAE_OPT_BETA1, 0.5);
    configure(f, &r, DFSAE_OPT_BETA2, 0.75);
    configure(f, &r, DFSAE_OPT_EPS, 0.05);
    run_and_compare(f, &r);
}

RIG_TEST(test_adamw)
{
    ref_opt r;
    start(state, f, &r, DFSAE_ADAMW); /* default weight decay 1e-2 */
    configure(f, &r, DFSAE_OPT_LR, 0.1);
    run_and_compare(f, &r);
}

RIG_TEST(test_adamw_strong_decay)
{
    ref_opt r;
    start(state, f, &r, DFSAE_ADAMW);
    configure(f, &r, DFSAE_OPT_LR, 0.1);
    configure(f, &r, DFSAE_OPT_WEIGHT_DECAY, 0.8);
    configure(f, &r, DFSAE_OPT_BETA1, 0.6);
    run_and_compare(f, &r);
}

/* Decoupled decay differs from L2 decay: same settings, other result. */
RIG_TEST(test_adamw_differs_from_adam)
{
    float p0[NP], g[NP], pa[NP], pw[NP];
    initial_params(p0);
    dfsae_optimizer *adam = NULL;
    for (int kind = DFSAE_ADAM; kind <= DFSAE_ADAMW; ++kind) {
        dfsae_optimizer *o = rig_optimizer(state, f, kind);
        assert_int_equal(dfsae_optimizer_set_option(o, DFSAE_OPT_LR, 0.1),
                         DFSAE_OK);
        assert_int_equal(
            dfsae_optimizer_set_option(o, DFSAE_OPT_WEIGHT_DECAY, 0.5),
            DFSAE_OK);
        assert_int_equal(dfsae_model_set_params(f->model, p0, NP), DFSAE_OK);
        for (int t = 1; t <= 3; ++t) {
            gradient_at(t, g);
            assert_int_equal(dfsae_optimizer_step(o, f->model, g), DFSAE_OK);
        }
        assert_int_equal(
            dfsae_model_get_params(f->model, kind == DFSAE_ADAM ? pa : pw, NP),
            DFSAE_OK);
        if (kind == DFSAE_ADAM)
            adam = o;
        else
            fx_drop(state, o);
    }
    fx_drop(state, adam);
    double diff = 0.0;
    for (int i = 0; i < NP; ++i)
        diff = fmax(diff, fabs((double)pa[i] - pw[i]));
    assert_true(diff > 1e-3);
}

/* After reset, stepping equals stepping a fresh optimizer (with the same
 * hyper-parameters), bit for bit; hyper-parameters survive the reset. */
static void check_reset(void **state, rig *f, int kind)
{
    float p0[NP], g[NP], pa[NP], pb[NP];
    initial_params(p0);
    dfsae_optimizer *used = rig_optimizer(state, f, kind);
    dfsae_optimizer *fresh = rig_optimizer(state, f, kind);
    dfsae_model **other_slot = fx_model_slot(state);
    assert_int_equal(dfsae_model_create(D, K, 1, &f->alloc, other_slot),
                     DFSAE_OK);
    dfsae_model *other = *other_slot;
    dfsae_optimizer *both[2] = {used, fresh};
    for (int i = 0; i < 2; ++i) {
        assert_int_equal(
            dfsae_optimizer_set_option(both[i], DFSAE_OPT_LR, 0.05), DFSAE_OK);
        if (kind == DFSAE_SGD) {
            assert_int_equal(
                dfsae_optimizer_set_option(both[i], DFSAE_OPT_MOMENTUM, 0.9),
                DFSAE_OK);
            assert_int_equal(
                dfsae_optimizer_set_option(both[i], DFSAE_OPT_DAMPENING, 0.25),
                DFSAE_OK);
        }
    }
    /* Build up state in `used`, on a throwaway parameter vector. */
    assert_int_equal(dfsae_model_set_params(f->model, p0, NP), DFSAE_OK);
    for (int t = 1; t <= 4; ++t) {
        gradient_at(t + 10, g);
        assert_int_equal(dfsae_optimizer_step(used, f->model, g), DFSAE_OK);
    }
    assert_true(dfsae_optimizer_step_count(used) == 4);
    dfsae_optimizer_reset(used);
    assert_true(dfsae_optimizer_step_count(used) == 0);
    double lr;
    assert_int_equal(dfsae_optimizer_get_option(used, DFSAE_OPT_LR, &lr),
                     DFSAE_OK);
    assert_true(lr == 0.05);

    assert_int_equal(dfsae_model_set_params(f->model, p0, NP), DFSAE_OK);
    assert_int_equal(dfsae_model_set_params(other, p0, NP), DFSAE_OK);
    for (int t = 1; t <= 4; ++t) {
        gradient_at(t, g);
        assert_int_equal(dfsae_optimizer_step(used, f->model, g), DFSAE_OK);
        assert_int_equal(dfsae_optimizer_step(fresh, other, g), DFSAE_OK);
        assert_int_equal(dfsae_model_get_params(f->model, pa, NP), DFSAE_OK);
        assert_int_equal(dfsae_model_get_params(other, pb, NP), DFSAE_OK);
        assert_memory_equal(pa, pb, sizeof pa);
        assert_true(dfsae_optimizer_step_count(used) ==
                    dfsae_optimizer_step_count(fresh));
    }
    fx_drop(state, other);
    fx_drop(state, used);
    fx_drop(state, fresh);
}

RIG_TEST(test_reset_sgd)
{
    check_reset(state, f, DFSAE_SGD);
}

RIG_TEST(test_reset_adam)
{
    check_reset(state, f, DFSAE_ADAM);
}

RIG_TEST(test_reset_adamw)
{
    check_reset(state, f, DFSAE_ADAMW);
}

/* The step count counts successful steps only; the kind getter reports
 * the kind it was made with. */
RIG_TEST(test_step_count)
{
    float g[NP];
    for (int kind = 0; kind < DFSAE_OPTIMIZER_KIND_COUNT; ++kind) {
        dfsae_optimizer *o = rig_optimizer(state, f, kind);
        assert_int_equal(dfsae_optimizer_get_kind(o), kind);
        assert_true(dfsae_optimizer_step_count(o) == 0);
        for (uint64_t t = 1; t <= 5; ++t) {
            gradient_at((int)t, g);
            assert_int_equal(dfsae_optimizer_step(o, f->model, g), DFSAE_OK);
            assert_true(dfsae_optimizer_step_count(o) == t);
        }
        g[0] = NAN;
        assert_int_equal(dfsae_optimizer_step(o, f->model, g),
                         DFSAE_ERR_NON_FINITE_INPUT);
        assert_true(dfsae_optimizer_step_count(o) == 5);
        fx_drop(state, o);
    }
}

/* PyTorch's defaults, per kind; keys of other kinds are unknown. */
static void test_hyper_parameter_defaults(void **state)
{
    static const struct {
        int kind, key;
        double value;
    } defaults[] = {
        {DFSAE_SGD, DFSAE_OPT_LR, 1e-2},
        {DFSAE_SGD, DFSAE_OPT_WEIGHT_DECAY, 0.0},
        {DFSAE_SGD, DFSAE_OPT_MOMENTUM, 0.0},
        {DFSAE_SGD, DFSAE_OPT_DAMPENING, 0.0},
        {DFSAE_SGD, DFSAE_OPT_NESTEROV, 0.0},
        {DFSAE_ADAM, DFSAE_OPT_LR, 1e-3},
        {DFSAE_ADAM, DFSAE_OPT_WEIGHT_DECAY, 0.0},
        {DFSAE_ADAM, DFSAE_OPT_BETA1, 0.9},
        {DFSAE_ADAM, DFSAE_OPT_BETA2, 0.999},
        {DFSAE_ADAM, DFSAE_OPT_EPS, 1e-8},
        {DFSAE_ADAMW, DFSAE_OPT_LR, 1e-3},
        {DFSAE_ADAMW, DFSAE_OPT_WEIGHT_DECAY, 1e-2},
        {DFSAE_ADAMW, DFSAE_OPT_BETA1, 0.9},
        {DFSAE_ADAMW, DFSAE_OPT_BETA2, 0.999},
        {DFSAE_ADAMW, DFSAE_OPT_EPS, 1e-8},
    };
    int applicable[DFSAE_OPTIMIZER_KIND_COUNT] = {0};
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; ++i) {
        dfsae_optimizer *o = fx_optimizer(state, defaults[i].kind, 4);
        double v = -1.0;
        assert_int_equal(dfsae_optimizer_get_option(o, defaults[i].key, &v),
                         DFSAE_OK);
        if (v != defaults[i].value)
            fail_msg("kind %d key %d: default %.17g, want %.17g",
                     defaults[i].kind, defaults[i].key, v, defaults[i].value);
        applicable[defaults[i].kind]++;
        fx_drop(state, o);
    }
    /* Exactly the listed keys apply. */
    for (int kind = 0; kind < DFSAE_OPTIMIZER_KIND_COUNT; ++kind) {
        int n = 0;
        for (int key = -2; key < DFSAE_OPT_COUNT + 2; ++key)
            n += dfsae_optimizer_option_bounds(kind, key, NULL, NULL) ==
                 DFSAE_OK;
        assert_int_equal(n, applicable[kind]);
    }
}

/* Bounds are inclusive and set_param agrees with them; values outside,
 * NaN, and keys of another kind are refused and the old value stays. */
static void test_hyper_parameter_bounds(void **state)
{
    for (int kind = 0; kind < DFSAE_OPTIMIZER_KIND_COUNT; ++kind) {
        dfsae_optimizer *o = fx_optimizer(state, kind, 4);
        for (int key = 0; key < DFSAE_OPT_COUNT; ++key) {
            double lo, hi, before, after;
            int st = dfsae_optimizer_option_bounds(kind, key, &lo, &hi);
            if (st != DFSAE_OK) {
                assert_int_equal(st, DFSAE_ERR_UNKNOWN_PARAM);
                assert_int_equal(dfsae_optimizer_set_option(o, key, 0.5),
                                 DFSAE_ERR_UNKNOWN_PARAM);
                assert_true(dfsae_optimizer_last_error(o)[0] != '\0');
                assert_int_equal(dfsae_optimizer_get_option(o, key, &after),
                                 DFSAE_ERR_UNKNOWN_PARAM);
                continue;
            }
            assert_true(lo <= hi);
            assert_int_equal(dfsae_optimizer_get_option(o, key, &before),
                             DFSAE_OK);
            assert_true(before >= lo && before <= hi);
            assert_int_equal(dfsae_optimizer_set_option(o, key, lo), DFSAE_OK);
            assert_int_equal(dfsae_optimizer_get_option(o, key, &after),
                             DFSAE_OK);
            assert_true(after == lo);
            assert_int_equal(dfsae_optimizer_set_option(o, key, hi), DFSAE_OK);
            assert_int_equal(dfsae_optimizer_get_option(o, key, &after),
                             DFSAE_OK);
            assert_true(after == hi);
            assert_int_equal(dfsae_optimizer_set_option(o, key, before),
                             DFSAE_OK);
            const double bad[] = {nextafter(lo, -INFINITY),
                                  nextafter(hi, INFINITY), NAN, -INFINITY,
                                  INFINITY};
            for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
                if (bad[i] >= lo && bad[i] <= hi)
                    continue; /* an infinite bound has no outside */
                assert_int_equal(dfsae_optimizer_set_option(o, key, bad[i]),
                                 DFSAE_ERR_PARAM_OUT_OF_RANGE);
                assert_int_equal(dfsae_optimizer_get_option(o, key, &after),
                                 DFSAE_OK);
                assert_memory_equal(&after, &before, sizeof after);
            }
        }
        fx_drop(state, o);
    }
}

/* The specific ranges PyTorch's semantics need. */
static void test_hyper_parameter_ranges(void **state)
{
    dfsae_optimizer *sgd = fx_optimizer(state, DFSAE_SGD, 4);
    dfsae_optimizer *adam = fx_optimizer(state, DFSAE_ADAM, 4);
    const struct {
        dfsae_optimizer *o;
        int key;
        double value;
        int status;
    } cases[] = {
        {sgd, DFSAE_OPT_LR, -1e-3, DFSAE_ERR_PARAM_OUT_OF_RANGE},
        {sgd, DFSAE_OPT_LR, 0.5, DFSAE_OK},
        {sgd, DFSAE_OPT_WEIGHT_DECAY, -0.1, DFSAE_ERR_PARAM_OUT_OF_RANGE},
        {sgd, DFSAE_OPT_MOMENTUM, 1.0, DFSAE_ERR_PARAM_OUT_OF_RANGE},
        {sgd, DFSAE_OPT_MOMENTUM, -0.5, DFSAE_ERR_PARAM_OUT_OF_RANGE},
        {sgd, DFSAE_OPT_MOMENTUM, 0.99, DFSAE_OK},
        {sgd, DFSAE_OPT_DAMPENING, 1.5, DFSAE_ERR_PARAM_OUT_OF_RANGE},
        {sgd, DFSAE_OPT_NESTEROV, 0.5, DFSAE_ERR_PARAM_OUT_OF_RANGE},
        {sgd, DFSAE_OPT_NESTEROV, 2.0, DFSAE_ERR_PARAM_OUT_OF_RANGE},
        {sgd, DFSAE_OPT_NESTEROV, 1.0, DFSAE_OK},
        {sgd, DFSAE_OPT_BETA1, 0.5, DFSAE_ERR_UNKNOWN_PARAM},
        {sgd, DFSAE_OPT_EPS, 1e-6, DFSAE_ERR_UNKNOWN_PARAM},
        {sgd, DFSAE_OPT_COUNT, 0.5, DFSAE_ERR_UNKNOWN_PARAM},
        {sgd, -1, 0.5, DFSAE_ERR_UNKNOWN_PARAM},
        {adam, DFSAE_OPT_BETA1, 1.0, DFSAE_ERR_PARAM_OUT_OF_RANGE},
        {adam, DFSAE_OPT_BETA2, 1.0, DFSAE_ERR_PARAM_OUT_OF_RANGE},
        {adam, DFSAE_OPT_BETA2, -0.1, DFSAE_ERR_PARAM_OUT_OF_RANGE},
        {adam, DFSAE_OPT_BETA1, 0.0, DFSAE_OK},
        {adam, DFSAE_OPT_EPS, 0.0, DFSAE_ERR_PARAM_OUT_OF_RANGE},
        {adam, DFSAE_OPT_EPS, -1e-8, DFSAE_ERR_PARAM_OUT_OF_RANGE},
        {adam, DFSAE_OPT_MOMENTUM, 0.5, DFSAE_ERR_UNKNOWN_PARAM},
        {adam, DFSAE_OPT_NESTEROV, 1.0, DFSAE_ERR_UNKNOWN_PARAM},
        {adam, DFSAE_OPT_DAMPENING, 0.0, DFSAE_ERR_UNKNOWN_PARAM},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        double before = NAN, after = NAN;
        int known = dfsae_optimizer_get_option(cases[i].o, cases[i].key,
                                               &before) == DFSAE_OK;
        int st = dfsae_optimizer_set_option(cases[i].o, cases[i].key,
                                            cases[i].value);
        if (st != cases[i].status)
            fail_msg("case %zu (key %d = %g): status %d, want %d", i,
                     cases[i].key, cases[i].value, st, cases[i].status);
        if (!known)
            continue;
        assert_int_equal(
            dfsae_optimizer_get_option(cases[i].o, cases[i].key, &after),
            DFSAE_OK);
        assert_true(st == DFSAE_OK ? after == cases[i].value : after == before);
        if (st != DFSAE_OK)
            assert_true(dfsae_optimizer_last_error(cases[i].o)[0] != '\0');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(test_sgd_plain),
        FIXTURE_TEST(test_sgd_defaults),
        FIXTURE_TEST(test_sgd_momentum),
        FIXTURE_TEST(test_sgd_dampening),
        FIXTURE_TEST(test_sgd_nesterov),
        FIXTURE_TEST(test_sgd_weight_decay),
        FIXTURE_TEST(test_sgd_weight_decay_momentum),
        FIXTURE_TEST(test_sgd_nesterov_needs_momentum_without_dampening),
        FIXTURE_TEST(test_overflowing_update_changes_nothing),
        cmocka_unit_test(test_bounds_in_float_range),
        FIXTURE_TEST(test_sgd_momentum_paused_keeps_buffer),
        FIXTURE_TEST(test_sgd_momentum_enabled_later),
        FIXTURE_TEST(test_adam),
        FIXTURE_TEST(test_adam_first_step_is_lr_sign),
        FIXTURE_TEST(test_adam_weight_decay),
        FIXTURE_TEST(test_adam_custom_betas_eps),
        FIXTURE_TEST(test_adam_tiny_eps_takes_the_exact_check),
        FIXTURE_TEST(test_adamw),
        FIXTURE_TEST(test_adamw_strong_decay),
        FIXTURE_TEST(test_adamw_differs_from_adam),
        FIXTURE_TEST(test_reset_sgd),
        FIXTURE_TEST(test_reset_adam),
        FIXTURE_TEST(test_reset_adamw),
        FIXTURE_TEST(test_step_count),
        FIXTURE_TEST(test_hyper_parameter_defaults),
        FIXTURE_TEST(test_hyper_parameter_bounds),
        FIXTURE_TEST(test_hyper_parameter_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
