/* Multinomial logistic regression fitted by L-BFGS: the probe that
 * scikit-learn's LogisticRegression() fits by default (C = 1, L2 on the
 * weights, not on the intercept), written out so the raw-pixel probe
 * (60000 x 784) takes a minute or two, where liblinear's one-vs-rest solver
 * on badly conditioned standardised pixels takes many minutes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "study_probe.h"

#define HIST     10 /* L-BFGS memory */
#define MAX_ITER PROBE_MAX_ITER
#define GTOL     1e-5 /* stop when max |gradient| of the mean loss is below */

typedef struct prob {
    const float *Z; /* n x d standardised features */
    const int *y;
    size_t n, d, c; /* c classes, labels 0..c-1 */
    double inv_c;   /* 1 / C */
    float *logit;   /* n x c scratch */
    float *Wf, *Gf; /* d x c scratch: W and its gradient in float */
} prob;

/* f = (sum_i CE_i + ||W||^2 / (2C)) / n and its gradient, with
 * theta = W (d x c, row-major) then b (c). The two products with the
 * n x d data go to the BLAS; everything else is in double. */
static double loss_grad(const prob *p, const double *th, double *g)
{
    const size_t d = p->d, c = p->c;
    const double *b = th + d * c;
    double f = 0;
    memset(g, 0, (d * c + c) * sizeof *g);
    for (size_t t = 0; t < d * c; t++)
        p->Wf[t] = (float)th[t];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)p->n, (int)c,
                (int)d, 1.0f, p->Z, (int)d, p->Wf, (int)c, 0.0f, p->logit,
                (int)c);
    for (size_t i = 0; i < p->n; i++) {
        float *l = p->logit + i * c;
        double e[64], mx = -INFINITY, s = 0;
        for (size_t k = 0; k < c; k++) {
            e[k] = (double)l[k] + b[k];
            mx = fmax(mx, e[k]);
        }
        /* CE = log sum_k exp(z_k) - z_y, shifted by the max for range */
        f -= (double)l[p->y[i]] + b[p->y[i]] - mx;
        for (size_t k = 0; k < c; k++) {
            e[k] = exp(e[k] - mx);
            s += e[k];
        }
        f += log(s);
        /* l becomes dCE/dlogit = softmax - onehot */
        for (size_t k = 0; k < c; k++) {
            double gk = e[k] / s - (k == (size_t)p->y[i] ? 1.0 : 0.0);
            l[k] = (float)gk;
            g[d * c + k] += gk;
        }
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)c,
                (int)p->n, 1.0f, p->Z, (int)d, p->logit, (int)c, 0.0f, p->Gf,
                (int)c);
    for (size_t t = 0; t < d * c; t++) {
        f += 0.5 * p->inv_c * th[t] * th[t];
        g[t] = (double)p->Gf[t] + p->inv_c * th[t];
    }
    for (size_t t = 0; t < d * c + c; t++)
        g[t] /= (double)p->n;
    return f / (double)p->n;
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static double max_abs(const double *a, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(a[i]));
    return m;
}

/* Minimises loss_grad from theta = 0. Returns iterations, or -1 (OOM). */
static int lbfgs(const prob *p, double *th)
{
    const size_t m = p->d * p->c + p->c;
    double *g = calloc(m, sizeof *g), *gn = calloc(m, sizeof *gn);
    double *dir = calloc(m, sizeof *dir), *tn = calloc(m, sizeof *tn);
    double *S = calloc(HIST * m, sizeof *S), *Y = calloc(HIST * m, sizeof *Y);
    double rho[HIST], alpha[HIST], f;
    int it, used = 0, head = 0;
    if (!g || !gn || !dir || !tn || !S || !Y) {
        it = -1;
        goto done;
    }
    f = loss_grad(p, th, g);
    for (it = 0; it < MAX_ITER && max_abs(g, m) > GTOL; it++) {
        double step = 1.0, gd, fn = f;
        /* Two-loop recursion: dir = -H g. */
        for (size_t t = 0; t < m; t++)
            dir[t] = -g[t];
        for (int h = 0; h < used; h++) {
            int k = (head - 1 - h + HIST) % HIST;
            alpha[k] = rho[k] * dot(S + (size_t)k * m, dir, m);
            for (size_t t = 0; t < m; t++)
                dir[t] -= alpha[k] * Y[(size_t)k * m + t];
        }
        if (used > 0) {
            int k = (head - 1 + HIST) % HIST;
            double gamma = dot(S + (size_t)k * m, Y + (size_t)k * m, m) /
                           dot(Y + (size_t)k * m, Y + (size_t)k * m, m);
            for (size_t t = 0; t < m; t++)
                dir[t] *= gamma;
        } else {
            double sc = 1.0 / fmax(1.0, sqrt(dot(g, g, m)));
            for (size_t t = 0; t < m; t++)
                dir[t] *= sc;
        }
        for (int h = used - 1; h >= 0; h--) {
            int k = (head - 1 - h + HIST) % HIST;
            double beta = rho[k] * dot(Y + (size_t)k * m, dir, m);
            for (size_t t = 0; t < m; t++)
                dir[t] += (alpha[k] - beta) * S[(size_t)k * m + t];
        }
        gd = dot(g, dir, m);
        if (gd >= 0) { /* not a descent direction: restart */
            for (size_t t = 0; t < m; t++)
                dir[t] = -g[t];
            gd = -dot(g, g, m);
            used = 0;
        }
        /* Backtracking (Armijo). */
        for (int ls = 0; ls < 40; ls++) {
            for (size_t t = 0; t < m; t++)
                tn[t] = th[t] + step * dir[t];
            fn = loss_grad(p, tn, gn);
            if (fn <= f + 1e-4 * step * gd)
                break;
            step *= 0.5;
        }
        if (!(fn < f))
            break; /* no progress possible at double precision */
        {
            double *s = S + (size_t)head * m, *yv = Y + (size_t)head * m, sy;
            for (size_t t = 0; t < m; t++) {
                s[t] = tn[t] - th[t];
                yv[t] = gn[t] - g[t];
            }
            sy = dot(s, yv, m);
            if (sy > 1e-12) {
                rho[head] = 1.0 / sy;
                head = (head + 1) % HIST;
                if (used < HIST)
                    used++;
            }
        }
        memcpy(th, tn, m * sizeof *th);
        memcpy(g, gn, m * sizeof *g);
        f = fn;
    }
done:
    free(g);
    free(gn);
    free(dir);
    free(tn);
    free(S);
    free(Y);
    return it;
}

int probe_softmax_accuracy(const probe_data *trn, const probe_data *tst,
                           double C, double *acc, int *iters, char *msg,
                           size_t msg_size)
{
    const size_t d = trn->d;
    size_t c = 0, correct = 0;
    double *mean = calloc(d, sizeof *mean), *inv = calloc(d, sizeof *inv);
    float *Z = NULL;
    double *th = NULL;
    float *logit = NULL, *Wf = NULL, *Gf = NULL;
    prob p;
    int rc = -1;

    for (size_t i = 0; i < trn->n; i++)
        if (trn->y[i] < 0 || trn->y[i] >= 64) {
            snprintf(msg, msg_size, "labels must be 0..63");
            goto done;
        } else if ((size_t)trn->y[i] + 1 > c) {
            c = (size_t)trn->y[i] + 1;
        }
    Z = malloc(trn->n * d * sizeof *Z);
    th = calloc(d * c + c, sizeof *th);
    logit = malloc(trn->n * c * sizeof *logit);
    Wf = malloc(d * c * sizeof *Wf);
    Gf = malloc(d * c * sizeof *Gf);
    if (mean == NULL || inv == NULL || Z == NULL || th == NULL ||
        logit == NULL || Wf == NULL || Gf == NULL) {
        snprintf(msg, msg_size, "out of memory");
        goto done;
    }
    probe_standardise(trn, mean, inv);
    for (size_t i = 0; i < trn->n; i++)
        for (size_t j = 0; j < d; j++)
            Z[i * d + j] =
                (float)(((double)trn->X[i * d + j] - mean[j]) * inv[j]);
    p.Z = Z;
    p.y = trn->y;
    p.n = trn->n;
    p.d = d;
    p.c = c;
    p.inv_c = 1.0 / C;
    p.logit = logit;
    p.Wf = Wf;
    p.Gf = Gf;
    *iters = lbfgs(&p, th);
    if (*iters < 0) {
        snprintf(msg, msg_size, "out of memory in L-BFGS");
        goto done;
    }
    for (size_t i = 0; i < tst->n; i++) {
        size_t best = 0;
        double bv = -INFINITY;
        for (size_t k = 0; k < c; k++) {
            double v = th[d * c + k];
            for (size_t j = 0; j < d; j++)
                v += ((double)tst->X[i * d + j] - mean[j]) * inv[j] *
                     th[j * c + k];
            if (v > bv) {
                bv = v;
                best = k;
            }
        }
        correct += (int)best == tst->y[i];
    }
    *acc = (double)correct / (double)tst->n;
    rc = 0;
done:
    free(mean);
    free(inv);
    free(Z);
    free(th);
    free(logit);
    free(Wf);
    free(Gf);
    return rc;
}

void probe_standardise(const probe_data *trn, double *mean, double *inv_std)
{
    memset(mean, 0, trn->d * sizeof *mean);
    memset(inv_std, 0, trn->d * sizeof *inv_std);
    for (size_t i = 0; i < trn->n; i++)
        for (size_t j = 0; j < trn->d; j++)
            mean[j] += trn->X[i * trn->d + j];
    for (size_t j = 0; j < trn->d; j++)
        mean[j] /= (double)trn->n;
    for (size_t i = 0; i < trn->n; i++)
        for (size_t j = 0; j < trn->d; j++) {
            double c = trn->X[i * trn->d + j] - mean[j];
            inv_std[j] += c * c;
        }
    for (size_t j = 0; j < trn->d; j++) {
        double sd = sqrt(inv_std[j] / (double)trn->n);
        /* A constant feature carries nothing: keep it at 0. */
        inv_std[j] = sd > 1e-12 ? 1.0 / sd : 0.0;
    }
}
