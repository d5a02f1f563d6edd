/* The progress bar's line, fitted to the terminal: what does not fit goes,
 * least useful first (the loss terms, the speed, the time left), then the
 * bar narrows and goes; a line is never wider than the terminal, so it
 * redraws in place instead of wrapping and scrolling. */
#define _DEFAULT_SOURCE /* TIOCGWINSZ */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"

#define BAR_MAX 30 /* the bar's inside at its widest */
#define BAR_MIN 5  /* and narrowest */

size_t cli_terminal_width(int fd)
{
    struct winsize ws;
    const char *env = getenv("COLUMNS");
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    if (env != NULL && *env >= '1' && *env <= '9') {
        char *end;
        unsigned long c = strtoul(env, &end, 10);
        if (*end == '\0' && c <= 10000)
            return (size_t)c;
    }
    return 80;
}

static int digits(uint64_t v)
{
    int n = 1;
    for (; v >= 10; v /= 10)
        n++;
    return n;
}

/* " [=====>    ]" with `inner` cells, `done` of `total` filled. */
static void bar_text(char *buf, size_t inner, uint64_t done, uint64_t total)
{
    size_t fill =
        total ? (size_t)((double)inner * (double)done / (double)total) : 0;
    buf[0] = ' ';
    buf[1] = '[';
    for (size_t i = 0; i < inner; i++)
        buf[2 + i] = i < fill ? '=' : (i == fill ? '>' : ' ');
    buf[2 + inner] = ']';
    buf[3 + inner] = '\0';
}

void cli_bar_line(const cli_bar_fields *f, size_t width, char *out, size_t cap)
{
    /* The parts in the order shown; `drop` lists the optional ones, the
     * first to go first, then the bar, the loss and the step count. */
    char head[48], bar[BAR_MAX + 4], count[48], loss[40], terms[112];
    char speed[40], eta[40];
    char *parts[] = {head, bar, count, loss, terms, speed, eta};
    char *drop[] = {terms, speed, eta, bar, loss, count};
    size_t room = width > 1 ? width - 1 : 0; /* the last column wraps */
    size_t used = 0, inner, n = 0;

    /* Counts padded to their totals' width: the bar keeps its place. */
    snprintf(head, sizeof head, "epoch %*llu/%llu", digits(f->epochs),
             (unsigned long long)f->epoch, (unsigned long long)f->epochs);
    snprintf(count, sizeof count, " %*llu/%llu", digits(f->steps),
             (unsigned long long)f->step, (unsigned long long)f->steps);
    snprintf(loss, sizeof loss, " loss %.5g", f->loss);
    terms[0] = '\0';
    if (f->terms != NULL && f->terms[0] != '\0')
        snprintf(terms, sizeof terms, " (%s)", f->terms);
    snprintf(speed, sizeof speed, " %.0f samples/s", f->samples_per_sec);
    snprintf(eta, sizeof eta, " ETA %s", f->eta);
    bar[0] = '\0';
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        used += strlen(parts[i]);
    /* An optional part goes while the bar would get fewer than twice
     * BAR_MIN cells; the bar, once fewer than BAR_MIN. */
    for (;;) {
        inner = room > used + 3 ? room - used - 3 : 0;
        if (inner >= (n < 3 ? 2 * BAR_MIN : BAR_MIN) || n == 3)
            break;
        used -= strlen(drop[n]);
        drop[n++][0] = '\0';
    }
    if (inner >= BAR_MIN)
        bar_text(bar, inner > BAR_MAX ? BAR_MAX : inner, f->step, f->steps);
    else /* then the loss, the count, and at last a cut */
        for (n = 4; used > room && n < 6; n++) {
            used -= strlen(drop[n]);
            drop[n][0] = '\0';
        }
    snprintf(out, cap, "%s%s%s%s%s%s%s", head, bar, count, loss, terms, speed,
             eta);
    if (strlen(out) > room)
        out[room] = '\0';
}
