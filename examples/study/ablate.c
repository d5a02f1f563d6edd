/* The ablation: every requested set of loss terms trained with the same
 * seeds and data order, measured on held-out rows, one table. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "study.h"

int study_parse_terms(const char *list, unsigned *mask)
{
    *mask = 0;
    const char *p = list;
    while (*p != '\0') {
        size_t len = strcspn(p, ",");
        int found = -1;
        for (int t = 0; t < DFSAE_TERM_COUNT; t++) {
            const char *name = dfsae_term_name(t);
            if (strlen(name) == len && strncmp(name, p, len) == 0)
                found = t;
        }
        if (found < 0)
            return -1;
        *mask |= STUDY_TERM(found);
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

void study_terms_name(unsigned mask, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int t = 0; t < DFSAE_TERM_COUNT; t++)
        if (mask & STUDY_TERM(t)) {
            int n = snprintf(buf + used, size - used, "%s%s", used ? "+" : "",
                             dfsae_term_name(t));
            if (n < 0 || (size_t)n >= size - used)
                return;
            used += (size_t)n;
        }
    if (used == 0)
        snprintf(buf, size, "none");
}

/* The term sets of a, in order: the explicit list, or the subsets of
 * `terms` (in increasing bit order) with `fixed` added; the empty set,
 * which has nothing to train, is left out. */
static size_t term_sets(const study_ablation *a, unsigned *sets)
{
    size_t n = 0;
    if (a->masks != NULL) {
        for (size_t i = 0; i < a->n_masks && n < 16; i++)
            if (a->masks[i] != 0)
                sets[n++] = a->masks[i];
        return n;
    }
    for (unsigned sub = 0; sub < 16; sub++)
        if ((sub & ~a->terms) == 0 && (sub | a->fixed) != 0)
            sets[n++] = sub | a->fixed;
    return n;
}

/* The columns of the table: a name, and how to read the value. */
enum {
    COL_DEAD,
    COL_L0,
    COL_RED,
    COL_WRED,
    COL_ENT,
    COL_MAXR,
    COL_MAXA,
    COL_MAXV,
    COL_PROBE,
    COL_EPOCHS,
    COL_LOSS,
    COL_SECONDS,
    N_COLS
};

static const char *const col_names[N_COLS] = {
    "dead_units",   "l0",       "redundancy", "weight_red",
    "resp_entropy", "max_resp", "max_act",    "max_var",
    "probe",        "epochs",   "final_loss", "train_s"};

static double col_value(const study_result *r, int col)
{
    switch (col) {
    case COL_DEAD: return r->metrics[DFSAE_METRIC_DEAD_UNITS];
    case COL_L0: return r->metrics[DFSAE_METRIC_L0];
    case COL_RED: return r->metrics[DFSAE_METRIC_REDUNDANCY];
    case COL_WRED: return r->metrics[DFSAE_METRIC_WEIGHT_REDUNDANCY];
    case COL_ENT: return r->metrics[DFSAE_METRIC_RESP_ENTROPY];
    case COL_MAXR: return r->metrics[DFSAE_METRIC_MAX_RESP];
    case COL_MAXA: return r->metrics[DFSAE_METRIC_MAX_ACTIVATION];
    case COL_MAXV: return r->metrics[DFSAE_METRIC_MAX_VARIANCE];
    case COL_PROBE: return r->probe_accuracy;
    case COL_EPOCHS:
        return (double)(r->converged_epoch ? r->converged_epoch
                                           : r->epochs_run);
    case COL_LOSS: return r->final_loss;
    default: return r->seconds;
    }
}

/* One cell: the mean over the runs that succeeded, and with more than
 * one their sample standard deviation. */
static void cell(const study_result *runs, const int *ok, size_t n, int col,
                 char *buf, size_t size)
{
    double sum = 0, sq = 0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (ok[i]) {
            sum += col_value(&runs[i], col);
            m++;
        }
    if (m == 0) {
        snprintf(buf, size, "-");
        return;
    }
    double mean = sum / (double)m;
    for (size_t i = 0; i < n; i++)
        if (ok[i]) {
            double d = col_value(&runs[i], col) - mean;
            sq += d * d;
        }
    int used = snprintf(buf, size, "%.4g", mean);
    if (m > 1 && used > 0 && (size_t)used < size)
        snprintf(buf + used, size - (size_t)used, " +- %.2g",
                 sqrt(sq / (double)(m - 1)));
}

/* Convergence epochs are marked with a '*' when some run did not. */
static int all_converged(const study_result *runs, const int *ok, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ok[i] && runs[i].converged_epoch == 0)
            return 0;
    return 1;
}

static void print_header(FILE *out, const study_config *c,
                         const study_ablation *a, const study_split *tr,
                         const study_split *ev, int probe)
{
    double lr = c->lr;
    fprintf(out, "ablation: %zu -> %zu %s", tr->d, c->components,
            dfsae_activation_name(c->activation));
    if (c->activation == DFSAE_ACT_SOFTMAX)
        fprintf(out, " (T = %g)", c->temperature);
    fprintf(out, ", %s", dfsae_optimizer_kind_name(c->optimizer));
    if (lr > 0)
        fprintf(out, " lr %g", lr);
    fprintf(out, ", batch %zu, %zu epochs", c->batch, c->epochs);
    if (c->tolerance > 0)
        fprintf(out, " (or until the loss changes by < %g for %zu epochs)",
                c->tolerance, c->patience);
    if (c->weight_decay >= 0)
        fprintf(out, ", weight decay %g", c->weight_decay);
    if (c->wr_form == DFSAE_WR_UNNORMALISED)
        fprintf(out, ", L_wr unnormalised");
    if (c->var_cap > 0)
        fprintf(out, ", L_var capped at %g", c->var_cap);
    if (c->max_row_norm > 0)
        fprintf(out, ", max row norm %g", c->max_row_norm);
    if (c->max_bias > 0)
        fprintf(out, ", |b| clipped to %g", c->max_bias);
    fprintf(out, "; %zu training rows, metrics on %zu held-out rows", tr->n,
            ev->n);
    if (a->seeds > 1)
        fprintf(out, "; seeds %llu..%llu (mean +- sd)",
                (unsigned long long)c->seed,
                (unsigned long long)(c->seed + a->seeds - 1));
    else
        fprintf(out, "; seed %llu", (unsigned long long)c->seed);
    if (probe)
        fprintf(out,
                "; probe: softmax regression (C = %g) on the training "
                "rows' features, accuracy on the held-out rows",
                c->probe_c);
    fprintf(out, "\n%s", a->markdown ? "\n" : "");
}

/* The probe's column needs labels, the epochs' the convergence rule. */
static int shown(int col, int probe, int converge)
{
    return (col != COL_PROBE || probe) && (col != COL_EPOCHS || converge);
}

static void print_row(FILE *out, const study_ablation *a, const char *name,
                      const study_result *runs, const int *ok, size_t n,
                      int probe, int converge, const char *failure)
{
    char buf[64];
    if (a->markdown)
        fprintf(out, "| %s |", name);
    else
        fprintf(out, "%-16s", name);
    for (int col = 0; col < N_COLS; col++) {
        if (!shown(col, probe, converge))
            continue;
        cell(runs, ok, n, col, buf, sizeof buf);
        if (col == COL_EPOCHS && !all_converged(runs, ok, n))
            strncat(buf, "*", sizeof buf - strlen(buf) - 1);
        if (a->markdown)
            fprintf(out, " %s |", buf);
        else
            fprintf(out, " %12s", buf);
    }
    if (failure != NULL)
        fprintf(out, a->markdown ? " failed: %s |" : "  failed: %s", failure);
    fprintf(out, "\n");
}

static void print_columns(FILE *out, const study_ablation *a, int probe,
                          int converge)
{
    if (a->markdown)
        fprintf(out, "| objective |");
    else
        fprintf(out, "%-16s", "objective");
    for (int col = 0; col < N_COLS; col++) {
        if (!shown(col, probe, converge))
            continue;
        if (a->markdown)
            fprintf(out, " %s |", col_names[col]);
        else
            fprintf(out, " %12s", col_names[col]);
    }
    fprintf(out, "\n");
    if (!a->markdown)
        return;
    fprintf(out, "|---|");
    for (int col = 0; col < N_COLS; col++)
        if (shown(col, probe, converge))
            fprintf(out, "---:|");
    fprintf(out, "\n");
}

int study_ablate(const study_config *c, const study_ablation *a,
                 const study_split *tr, const study_split *ev, FILE *out,
                 char *err, size_t err_size)
{
    unsigned sets[16];
    const size_t n_sets = term_sets(a, sets);
    const size_t seeds = a->seeds > 0 ? a->seeds : 1;
    const int probe = tr->y != NULL && ev->y != NULL;
    if (n_sets == 0) {
        snprintf(err, err_size, "no term set to train (all terms off)");
        return -1;
    }
    study_result *runs = calloc(n_sets * seeds, sizeof *runs);
    int *ok = calloc(n_sets * seeds, sizeof *ok);
    char(*failure)[192] = calloc(n_sets, sizeof *failure);
    if (runs == NULL || ok == NULL || failure == NULL) {
        free(runs);
        free(ok);
        free(failure);
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    for (size_t s = 0; s < n_sets; s++)
        for (size_t i = 0; i < seeds; i++) {
            study_config run = *c;
            run.seed = c->seed + i;
            for (int t = 0; t < DFSAE_TERM_COUNT; t++)
                run.lambda[t] = (sets[s] & STUDY_TERM(t))
                                    ? (c->lambda[t] > 0 ? c->lambda[t] : 1.0)
                                    : 0.0;
            char name[48], tag[96], msg[128];
            study_terms_name(sets[s], name, sizeof name);
            snprintf(tag, sizeof tag, "[%s seed %llu] ", name,
                     (unsigned long long)run.seed);
            study_result *r = &runs[s * seeds + i];
            dfsae_model *m = NULL;
            int rc = study_train(&run, tr, tag, &m, r, msg, sizeof msg);
            if (rc == 0)
                rc = study_measure(m, &run, tr, ev, r, msg, sizeof msg);
            dfsae_model_free(m);
            ok[s * seeds + i] = rc == 0;
            if (rc != 0)
                snprintf(failure[s], sizeof failure[s], "seed %llu: %s",
                         (unsigned long long)run.seed, msg);
            if (!c->quiet)
                fprintf(stderr, "%s%s in %.1f s\n", tag,
                        rc == 0 ? "trained and measured" : msg, r->seconds);
        }
    print_header(out, c, a, tr, ev, probe);
    const int converge = c->tolerance > 0;
    print_columns(out, a, probe, converge);
    for (size_t s = 0; s < n_sets; s++) {
        char name[48];
        study_terms_name(sets[s], name, sizeof name);
        print_row(out, a, name, runs + s * seeds, ok + s * seeds, seeds, probe,
                  converge, failure[s][0] != '\0' ? failure[s] : NULL);
        if (!a->per_seed || seeds < 2)
            continue;
        for (size_t i = 0; i < seeds; i++) {
            char label[64];
            snprintf(label, sizeof label, "  seed %llu",
                     (unsigned long long)(c->seed + i));
            print_row(out, a, label, runs + s * seeds + i, ok + s * seeds + i,
                      1, probe, converge, NULL);
        }
    }
    if (converge)
        fprintf(out,
                "%sepochs: the convergence epoch; '*': some run did not "
                "converge, counted at its last epoch\n",
                a->markdown ? "\n" : "");
    free(runs);
    free(ok);
    free(failure);
    return 0;
}
