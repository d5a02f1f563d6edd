/* Training progress: a bar redrawn in place on a terminal, one plain line
 * per epoch otherwise; Ctrl-C asks training to stop after this step. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static volatile sig_atomic_t sigint_seen;

static void on_sigint(int sig)
{
    (void)sig;
    sigint_seen = 1;
}

void cli_install_sigint(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    /* A second Ctrl-C gets the default action: the user insists. */
    sa.sa_flags = (int)SA_RESETHAND;
    sigaction(SIGINT, &sa, NULL);
}

int cli_sigint_seen(void)
{
    return sigint_seen != 0;
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void fmt_time(double s, char *buf, size_t cap)
{
    unsigned long t = s > 0 && s < 1e9 ? (unsigned long)(s + 0.5) : 0;
    if (t >= 3600)
        snprintf(buf, cap, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, cap, "%lu:%02lu", t / 60, t % 60);
}

/* "lse 1.23e+03 var -45.6 tc 0.12" for the enabled terms. */
static void fmt_terms(const dfsae_progress *p, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int t = 0; t < DFSAE_TERM_COUNT && used < cap; t++) {
        double v = dfsae_progress_get(p, DFSAE_PROGRESS_TERM_LSE + t);
        int n;
        if (v == 0.0)
            continue;
        n = snprintf(buf + used, cap - used, "%s%s %.4g", used ? " " : "",
                     dfsae_term_name(t), v);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static void draw_bar(cli_progress *pr, const dfsae_progress *p)
{
    uint64_t done = (uint64_t)dfsae_progress_get(p, DFSAE_PROGRESS_STEPS_DONE);
    uint64_t total =
        (uint64_t)dfsae_progress_get(p, DFSAE_PROGRESS_STEPS_TOTAL);
    double el = dfsae_progress_get(p, DFSAE_PROGRESS_ELAPSED);
    double eta = done > 0 ? el * (double)(total - done) / (double)done : 0;
    char terms[96], eta_s[32], line[512];
    cli_bar_fields f;
    fmt_terms(p, terms, sizeof terms);
    fmt_time(eta, eta_s, sizeof eta_s);
    f.epoch = (uint64_t)dfsae_progress_get(p, DFSAE_PROGRESS_EPOCH) + 1;
    f.epochs = pr->epochs;
    f.step = (uint64_t)dfsae_progress_get(p, DFSAE_PROGRESS_STEP) + 1;
    f.steps = (uint64_t)dfsae_progress_get(p, DFSAE_PROGRESS_STEPS_PER_EPOCH);
    f.loss = dfsae_progress_get(p, DFSAE_PROGRESS_LOSS);
    f.samples_per_sec = dfsae_progress_get(p, DFSAE_PROGRESS_SAMPLES_PER_SEC);
    f.terms = terms;
    f.eta = eta_s;
    /* Asked at every redraw: the terminal may have been resized. */
    cli_bar_line(&f, cli_terminal_width(fileno(stderr)), line, sizeof line);
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
}

int cli_progress_cb(const dfsae_progress *p, void *user)
{
    cli_progress *pr = user;
    int ev = (int)dfsae_progress_get(p, DFSAE_PROGRESS_EVENT);
    pr->last_event = ev;
    pr->last_epoch = (uint64_t)dfsae_progress_get(p, DFSAE_PROGRESS_EPOCH);
    pr->last_step = (uint64_t)dfsae_progress_get(p, DFSAE_PROGRESS_STEP);
    pr->steps_per_epoch =
        (uint64_t)dfsae_progress_get(p, DFSAE_PROGRESS_STEPS_PER_EPOCH);
    pr->converged = (int)dfsae_progress_get(p, DFSAE_PROGRESS_CONVERGED);
    if (ev == DFSAE_EVENT_STEP) {
        double now = cli_now();
        /* Redraw at most ten times a second: drawing is not free. */
        if (pr->tty && !pr->quiet && now - pr->last_draw >= 0.1) {
            pr->last_draw = now;
            draw_bar(pr, p);
        }
    } else if (!pr->quiet) {
        char terms[96], el[32];
        fmt_terms(p, terms, sizeof terms);
        fmt_time(dfsae_progress_get(p, DFSAE_PROGRESS_ELAPSED), el, sizeof el);
        fprintf(stderr,
                "%sepoch %llu/%llu loss %.6g (%s) %.0f samples/s "
                "elapsed %s\n",
                pr->tty ? "\r\033[K" : "",
                (unsigned long long)((uint64_t)dfsae_progress_get(
                                         p, DFSAE_PROGRESS_EPOCH) +
                                     1),
                (unsigned long long)pr->epochs,
                dfsae_progress_get(p, DFSAE_PROGRESS_LOSS), terms,
                dfsae_progress_get(p, DFSAE_PROGRESS_SAMPLES_PER_SEC), el);
        fflush(stderr);
    }
    if (sigint_seen) {
        pr->interrupted = 1;
        return 1;
    }
    return 0;
}
