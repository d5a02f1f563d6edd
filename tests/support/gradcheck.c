/* Finite-difference gradient checker over the public API. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "grad_fixtures.h"
#include "gradcheck.h"

#define MAX_PRINTED 8

void gradcheck_default_opts(gradcheck_opts *o)
{
    /* Measured, not guessed (see test_gradcheck_self's step sweep). The
     * forward pass is float32, so the loss carries rounding noise of about
     * 1e-7 relative to the sum of the magnitudes it adds up; divided by
     * the step, that noise swamps small steps, while the truncation error
     * of a central difference grows as h^2 (h^4 with Richardson). With the
     * 4-point stencil the error curve is flat from h ~ 2^-9 to 2^-5 on the
     * fixtures; 2^-7 sits in the middle and keeps the kink margin (and so
     * the skipped fraction under relu) small. */
    o->h = 0x1p-7;
    o->stencil = 4;
    /* At h = 2^-7 the measured max relative error above the floor is at
     * most a few 1e-4 per term; 2e-3 leaves a margin and still catches a
     * 1% error in one coordinate (the self-test proves it). */
    o->rtol = 2e-3;
    o->atol = 1e-9;
    o->floor_frac = 0.05;
    o->max_coords = 400;
    o->n_dirs = 4;
    o->kink_margin = 2.0;
    o->min_checked_frac = 0.5;
    o->seed = 0x5eed;
}

typedef struct checker {
    dfsae_model *m;
    const float *X;
    size_t n, d, k, np;
    float *p0, *p; /* base and scratch parameters */
    float *Z;      /* n x K pre-activations at p0, NULL without kinks */
    float *Xin;    /* the linear layer's input: X' = (X - shift) * scale
                      under the model's input transform; NULL without kinks */
    double zslack; /* rounding allowance on Z */
    int status;
} checker;

static double loss_at(checker *c, const float *params)
{
    double total = NAN;
    int st = dfsae_model_set_params(c->m, params, c->np);
    if (st == DFSAE_OK)
        st = dfsae_model_loss(c->m, c->X, c->n, &total, NULL, 0);
    if (st != DFSAE_OK && c->status == DFSAE_OK)
        c->status = st;
    return total;
}

/* Central difference of coordinate i with step s, using the steps the
 * float parameters actually take. */
static double diff_coord(checker *c, size_t i, double s)
{
    memcpy(c->p, c->p0, c->np * sizeof *c->p);
    c->p[i] = (float)((double)c->p0[i] + s);
    double up = (double)c->p[i] - c->p0[i], lp = loss_at(c, c->p);
    c->p[i] = (float)((double)c->p0[i] - s);
    double dn = (double)c->p0[i] - c->p[i], lm = loss_at(c, c->p);
    return (lp - lm) / (up + dn);
}

/* Directional version: numeric (L+ - L-) / 2s and the analytic g . delta
 * over the same float displacements, so rounding of p0 + s v cancels. */
static void diff_dir(checker *c, const double *v, const float *g, double s,
                     double *num, double *ana)
{
    double gd = 0.0;
    for (size_t i = 0; i < c->np; ++i) {
        c->p[i] = (float)((double)c->p0[i] + s * v[i]);
        gd += (double)g[i] * ((double)c->p[i] - c->p0[i]);
    }
    double lp = loss_at(c, c->p);
    for (size_t i = 0; i < c->np; ++i) {
        c->p[i] = (float)((double)c->p0[i] - s * v[i]);
        gd += (double)g[i] * ((double)c->p0[i] - c->p[i]);
    }
    double lm = loss_at(c, c->p);
    *num = (lp - lm) / (2.0 * s);
    *ana = gd / (2.0 * s);
}

/* 1 if moving coordinate i by up to smax can carry a pre-activation across
 * the kink at 0: only column k of Z depends on W[k][:] and b[k]. */
static int near_kink(const checker *c, size_t i, double smax, double margin)
{
    if (c->Z == NULL)
        return 0;
    size_t kk = i < c->k * c->d ? i / c->d : i - c->k * c->d;
    for (size_t r = 0; r < c->n; ++r) {
        double slope =
            i < c->k * c->d ? fabs(c->Xin[r * c->d + i % c->d]) : 1.0;
        if (fabs(c->Z[r * c->k + kk]) <= margin * smax * slope + c->zslack)
            return 1;
    }
    return 0;
}

/* Zeroes the direction on every unit whose pre-activations the move could
 * push across the kink; returns how many entries stay non-zero. */
static size_t restrict_dir(const checker *c, double *v, double smax,
                           double margin)
{
    size_t live = 0;
    for (size_t kk = 0; kk < c->k; ++kk) {
        int bad = 0;
        for (size_t r = 0; c->Z != NULL && r < c->n && !bad; ++r) {
            double dz = v[c->k * c->d + kk];
            for (size_t j = 0; j < c->d; ++j)
                dz += v[kk * c->d + j] * c->Xin[r * c->d + j];
            bad = fabs(c->Z[r * c->k + kk]) <=
                  margin * smax * fabs(dz) + c->zslack;
        }
        for (size_t j = 0; j < c->d; ++j) {
            if (bad)
                v[kk * c->d + j] = 0.0;
            live += v[kk * c->d + j] != 0.0;
        }
        if (bad)
            v[c->k * c->d + kk] = 0.0;
        live += v[c->k * c->d + kk] != 0.0;
    }
    return live;
}

/* Writes `take` distinct indices offset + [0, n) to out (partial
 * Fisher-Yates). */
static void sample(grad_rng *rng, size_t n, size_t take, size_t offset,
                   size_t *out)
{
    size_t *perm = malloc(n * sizeof *perm);
    assert_non_null(perm);
    for (size_t i = 0; i < n; ++i)
        perm[i] = i;
    for (size_t i = 0; i < take; ++i) {
        size_t j = i + grad_rng_below(rng, n - i);
        size_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
        out[i] = offset + perm[i];
    }
    free(perm);
}

/* Chooses the coordinates: all of them when few, otherwise the biases (up
 * to half the budget; there are only K) plus a random subset of W. */
static size_t select_coords(const checker *c, const gradcheck_opts *o,
                            grad_rng *rng, size_t *idx)
{
    size_t np = c->np, nw = c->k * c->d;
    if (np <= o->max_coords) {
        for (size_t i = 0; i < np; ++i)
            idx[i] = i;
        return np;
    }
    size_t nb = c->k <= o->max_coords / 2 ? c->k : o->max_coords / 2;
    sample(rng, nw, o->max_coords - nb, 0, idx);
    sample(rng, c->k, nb, nw, idx + o->max_coords - nb);
    return o->max_coords;
}

/* The relative error with a floor: |a - n| / (max(|a|, |n|) + floor). */
static double rel_err(double a, double num, double floor)
{
    double err = fabs(a - num), scale = fmax(fabs(a), fabs(num)) + floor;
    return scale > 0.0 ? err / scale : err;
}

static int passes(const gradcheck_opts *o, double a, double num, double floor)
{
    double scale = fmax(fabs(a), fabs(num)) + floor;
    return fabs(a - num) <= o->rtol * scale + o->atol;
}

static void note(gradcheck_result *res, const gradcheck_opts *o, double a,
                 double num, double floor, size_t i)
{
    double err = fabs(a - num);
    double tol = o->rtol * (fmax(fabs(a), fabs(num)) + floor) + o->atol;
    res->max_abs = fmax(res->max_abs, err);
    res->max_rel = fmax(res->max_rel, rel_err(a, num, floor));
    double ratio = tol > 0.0 ? err / tol : (err > 0.0 ? INFINITY : 0.0);
    if (!(ratio <= res->max_ratio)) { /* also takes a NaN */
        res->max_ratio = ratio;
        res->worst = i;
        res->worst_analytic = a;
        res->worst_numeric = num;
    }
}

static void describe(const checker *c, size_t i, char *buf, size_t cap)
{
    if (i < c->k * c->d)
        snprintf(buf, cap, "%zu (W[%zu][%zu])", i, i / c->d, i % c->d);
    else
        snprintf(buf, cap, "%zu (b[%zu])", i, i - c->k * c->d);
}

/* dz/dW[k][j] is X'[r][j]: the inputs after the model's transform. */
static void layer_input(checker *c)
{
    size_t nt;
    assert_int_equal(dfsae_model_get_transform(c->m, NULL, NULL, 0, &nt),
                     DFSAE_OK);
    float *shift = malloc((nt + 1) * sizeof *shift);
    float *scale = malloc((nt + 1) * sizeof *scale);
    c->Xin = malloc(c->n * c->d * sizeof *c->Xin);
    assert_non_null(shift);
    assert_non_null(scale);
    assert_non_null(c->Xin);
    assert_int_equal(dfsae_model_get_transform(c->m, shift, scale, nt, &nt),
                     DFSAE_OK);
    for (size_t i = 0; i < c->n * c->d; ++i) {
        size_t t = nt == 1 ? 0 : i % c->d;
        c->Xin[i] = nt == 0 ? c->X[i] : (c->X[i] - shift[t]) * scale[t];
    }
    free(shift);
    free(scale);
}

static int setup_checker(checker *c, dfsae_model *m, const float *X, size_t n)
{
    memset(c, 0, sizeof *c);
    c->m = m;
    c->X = X;
    c->n = n;
    c->d = dfsae_model_input_dim(m);
    c->k = dfsae_model_num_components(m);
    c->np = dfsae_model_num_params(m);
    c->p0 = malloc(c->np * sizeof *c->p0);
    c->p = malloc(c->np * sizeof *c->p);
    assert_non_null(c->p0);
    assert_non_null(c->p);
    assert_int_equal(dfsae_model_get_params(m, c->p0, c->np), DFSAE_OK);

    /* Kinks matter only if a term on the activations is enabled. */
    double act, lam[3];
    assert_int_equal(dfsae_model_get_option(m, DFSAE_MODEL_ACTIVATION, &act),
                     DFSAE_OK);
    for (int t = 0; t < 3; ++t)
        assert_int_equal(
            dfsae_model_get_option(m, DFSAE_MODEL_LAMBDA_LSE + t, &lam[t]),
            DFSAE_OK);
    if (grad_activation_has_kink((int)act) &&
        (lam[0] != 0.0 || lam[1] != 0.0 || lam[2] != 0.0)) {
        c->Z = malloc(n * c->k * sizeof *c->Z);
        float *A = malloc(n * c->k * sizeof *A);
        assert_non_null(c->Z);
        assert_non_null(A);
        int st = dfsae_model_forward(m, X, n, A, c->Z, NULL);
        free(A);
        if (st != DFSAE_OK)
            return st;
        /* Z is a float sum of D products: allow its rounding. */
        double zmax = 0.0;
        for (size_t i = 0; i < n * c->k; ++i)
            zmax = fmax(zmax, fabs((double)c->Z[i]));
        c->zslack = 1e-6 * (1.0 + zmax) * (double)(c->d + 1);
        layer_input(c);
    }
    return DFSAE_OK;
}

static void free_checker(checker *c)
{
    free(c->p0);
    free(c->p);
    free(c->Z);
    free(c->Xin);
}

int gradcheck_run(dfsae_model *m, const float *X, size_t n,
                  const float *analytic, const gradcheck_opts *o,
                  const char *label, gradcheck_result *res)
{
    checker c;
    memset(res, 0, sizeof *res);
    res->status = setup_checker(&c, m, X, n);
    res->n_params = c.np;
    float *g = malloc(c.np * sizeof *g);
    size_t *idx = malloc(c.np * sizeof *idx);
    double *v = malloc(c.np * sizeof *v);
    assert_non_null(g);
    assert_non_null(idx);
    assert_non_null(v);
    if (res->status == DFSAE_OK) {
        if (analytic != NULL)
            memcpy(g, analytic, c.np * sizeof *g);
        else
            res->status = dfsae_model_grad(m, X, n, g, NULL, NULL, 0);
    }
    if (res->status != DFSAE_OK) {
        print_error("gradcheck %s: setup failed: %s (%s)\n", label,
                    dfsae_status_string(res->status),
                    dfsae_model_last_error(m));
        free_checker(&c);
        free(g);
        free(idx);
        free(v);
        return 0;
    }

    for (size_t i = 0; i < c.np; ++i)
        res->gmax = fmax(res->gmax, fabs((double)g[i]));
    const double floor = o->floor_frac * res->gmax;
    const double smax = o->stencil == 4 ? 2.0 * o->h : o->h;
    grad_rng rng;
    grad_rng_seed(&rng, o->seed);
    res->n_selected = select_coords(&c, o, &rng, idx);
    size_t printed = 0;

    for (size_t s = 0; s < res->n_selected; ++s) {
        size_t i = idx[s];
        if (near_kink(&c, i, smax, o->kink_margin)) {
            res->n_skipped++;
            continue;
        }
        double num = diff_coord(&c, i, o->h);
        if (o->stencil == 4)
            num = (4.0 * num - diff_coord(&c, i, 2.0 * o->h)) / 3.0;
        double a = g[i];
        res->n_checked++;
        note(res, o, a, num, floor, i);
        if (!passes(o, a, num, floor)) {
            res->n_failed++;
            if (printed++ < MAX_PRINTED) {
                char where[96];
                describe(&c, i, where, sizeof where);
                print_error("gradcheck %s: coordinate %s analytic %.9g "
                            "numeric %.9g rel.err %.3g > rtol %.3g\n",
                            label, where, a, num, rel_err(a, num, floor),
                            o->rtol);
            }
        }
    }

    /* Random directions cover the coordinates a capped subset leaves out
     * and catch errors spread thinly over many entries. */
    for (size_t t = 0; t < o->n_dirs; ++t) {
        for (size_t i = 0; i < c.np; ++i)
            v[i] = grad_rng_normal(&rng);
        if (restrict_dir(&c, v, smax, o->kink_margin) == 0)
            continue;
        double vn = 0.0;
        for (size_t i = 0; i < c.np; ++i)
            vn += v[i] * v[i];
        for (size_t i = 0; i < c.np; ++i)
            v[i] /= sqrt(vn);
        double num, ana, num2, ana2;
        diff_dir(&c, v, g, o->h, &num, &ana);
        if (o->stencil == 4) {
            diff_dir(&c, v, g, 2.0 * o->h, &num2, &ana2);
            num = (4.0 * num - num2) / 3.0;
            ana = (4.0 * ana - ana2) / 3.0;
        }
        /* The loss noise does not depend on the direction, so the same
         * floor applies. */
        res->n_dirs_checked++;
        res->max_abs = fmax(res->max_abs, fabs(ana - num));
        res->dir_max_rel = fmax(res->dir_max_rel, rel_err(ana, num, floor));
        if (!passes(o, ana, num, floor)) {
            res->n_dirs_failed++;
            print_error("gradcheck %s: direction %zu analytic %.9g numeric "
                        "%.9g rel.err %.3g > rtol %.3g\n",
                        label, t, ana, num, rel_err(ana, num, floor), o->rtol);
        }
    }

    /* Leave the model exactly as it was. */
    int st = dfsae_model_set_params(m, c.p0, c.np);
    if (st != DFSAE_OK && res->status == DFSAE_OK)
        res->status = st;
    free_checker(&c);
    free(g);
    free(idx);
    free(v);

    int enough =
        (double)res->n_checked >= o->min_checked_frac * (double)res->n_selected;
    if (!enough)
        print_error("gradcheck %s: only %zu of %zu coordinates checked "
                    "(%zu near a kink)\n",
                    label, res->n_checked, res->n_selected, res->n_skipped);
    if (res->status != DFSAE_OK)
        print_error("gradcheck %s: a loss evaluation failed: %s\n", label,
                    dfsae_status_string(res->status));
    return res->status == DFSAE_OK && res->n_failed == 0 &&
           res->n_dirs_failed == 0 && enough;
}

void gradcheck_print(const char *label, const gradcheck_result *res)
{
    print_message("gradcheck %-40s checked %4zu/%4zu (skipped %zu) dirs %zu "
                  "max_rel %.2e dir_rel %.2e worst/tol %.3f\n",
                  label, res->n_checked, res->n_params, res->n_skipped,
                  res->n_dirs_checked, res->max_rel, res->dir_max_rel,
                  res->max_ratio);
}

void gradcheck_assert(dfsae_model *m, const float *X, size_t n,
                      const gradcheck_opts *o, const char *label,
                      gradcheck_result *res)
{
    gradcheck_result local;
    if (res == NULL)
        res = &local;
    int ok = gradcheck_run(m, X, n, NULL, o, label, res);
    if (getenv("DFSAE_GRADCHECK_VERBOSE") != NULL)
        gradcheck_print(label, res);
    if (!ok)
        fail_msg("gradcheck %s: %zu of %zu coordinates and %zu of %zu "
                 "directions failed; worst index %zu analytic %.9g numeric "
                 "%.9g (|diff|/tol %.3g)",
                 label, res->n_failed, res->n_checked, res->n_dirs_failed,
                 res->n_dirs_checked, res->worst, res->worst_analytic,
                 res->worst_numeric, res->max_ratio);
}
