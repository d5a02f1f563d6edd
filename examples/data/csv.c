/* CSV of numbers: one sample per line, fields separated by ',' (or ';',
 * or runs of spaces and tabs when the first line has neither), an
 * optional header line, '#' comment lines and blank lines ignored. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data_internal.h"

#define FIELD_MAX 64

typedef struct csv_state {
    const char *name;
    exdata_error *err;
    float *vals;
    size_t n, cap, cols, rows;
    size_t room, limit; /* values the memory limit leaves room for; it */
    double divide;
    char delim; /* 0 = whitespace */
} csv_state;

/* Field text for a message: printable, bounded. */
static void show(const uint8_t *s, size_t n, char *buf, size_t cap)
{
    size_t j = 0;
    for (size_t i = 0; i < n && j + 4 < cap; i++)
        buf[j++] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
    if (n > 0 && j + 4 >= cap) {
        memcpy(buf + j, "...", 3);
        j += 3;
    }
    buf[j] = '\0';
}

static int is_space(uint8_t ch)
{
    return ch == ' ' || ch == '\t';
}

/* Parse one field; 1 = number in *v, 0 = not a number, -1 = error. */
static int parse_number(const uint8_t *s, size_t n, double *v)
{
    char buf[FIELD_MAX + 1];
    char *end;
    while (n > 0 && is_space(s[0])) {
        s++;
        n--;
    }
    while (n > 0 && is_space(s[n - 1]))
        n--;
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        s++;
        n -= 2;
    }
    if (n == 0 || n > FIELD_MAX)
        return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    *v = strtod(buf, &end);
    if (end != buf + n)
        return 0;
    return 1;
}

/* Split [s, s+n) into fields; calls back per field. Returns the count. */
typedef int (*field_fn)(csv_state *st, size_t line, size_t col,
                        const uint8_t *f, size_t fn);

static long split(csv_state *st, size_t line, const uint8_t *s, size_t n,
                  field_fn fn)
{
    size_t col = 0, i = 0;
    if (st->delim == 0) {
        for (;;) {
            size_t b;
            while (i < n && is_space(s[i]))
                i++;
            if (i == n)
                break;
            b = i;
            while (i < n && !is_space(s[i]))
                i++;
            if (fn != NULL && fn(st, line, col, s + b, i - b) != 0)
                return -1;
            col++;
        }
        return (long)col;
    }
    for (;;) {
        size_t b = i;
        while (i < n && s[i] != (uint8_t)st->delim)
            i++;
        if (fn != NULL && fn(st, line, col, s + b, i - b) != 0)
            return -1;
        col++;
        if (i == n)
            break;
        i++; /* the delimiter; a trailing one makes an empty last field */
    }
    return (long)col;
}

/* Stops the split at the first numeric field: a line with none is a
 * header; a line with some is data (and its bad fields are errors). */
static int stop_at_number(csv_state *st, size_t line, size_t col,
                          const uint8_t *f, size_t fn)
{
    double v;
    (void)st;
    (void)line;
    (void)col;
    return parse_number(f, fn, &v) == 1;
}

static int store(csv_state *st, size_t line, size_t col, const uint8_t *f,
                 size_t fn)
{
    double v;
    char txt[32];
    if (parse_number(f, fn, &v) != 1) {
        show(f, fn, txt, sizeof txt);
        return exdata__fail(st->err, st->name,
                            "line %zu, column %zu: '%s' is not a number", line,
                            col + 1, txt);
    }
    v /= st->divide;
    if (!isfinite(v) || fabs(v) > 3.4028234663852886e38) {
        show(f, fn, txt, sizeof txt);
        return exdata__fail(
            st->err, st->name, "line %zu, column %zu: '%s' is %s", line,
            col + 1, txt,
            isfinite(v) ? "beyond float32's range" : "not finite");
    }
    if (st->n == st->cap) {
        size_t ncap = st->cap == 0 ? 1024 : exdata__sat_mul(st->cap, 2);
        float *nv;
        if (ncap > st->room)
            ncap = st->room;
        if (ncap <= st->cap) {
            char limit_s[32];
            return exdata__over_limit(
                st->err, st->name,
                "line %zu: the values so far and the file need more than "
                "the memory limit of %s",
                line, exdata_size_text(st->limit, limit_s, sizeof limit_s));
        }
        nv = realloc(st->vals, ncap * sizeof(float));
        if (nv == NULL)
            return exdata__fail(st->err, st->name, "out of memory at line %zu",
                                line);
        st->vals = nv;
        st->cap = ncap;
    }
    st->vals[st->n++] = (float)v;
    return 0;
}

static char pick_delim(const uint8_t *s, size_t n)
{
    if (memchr(s, ',', n) != NULL)
        return ',';
    if (memchr(s, ';', n) != NULL)
        return ';';
    return 0;
}

int exdata_parse_csv(const uint8_t *p, size_t len, const char *name,
                     const exdata_options *opt, exdata *out, exdata_error *err)
{
    csv_state st;
    size_t pos = 0, line = 0;
    int header = opt != NULL ? opt->csv_header : -1;
    int first = 1;

    memset(out, 0, sizeof *out);
    memset(&st, 0, sizeof st);
    st.name = name;
    st.err = err;
    st.divide = exdata__divisor(opt, DFSAE_DTYPE_TEXT);
    st.limit = exdata__limit(opt);
    st.room = st.limit > len ? (st.limit - len) / sizeof(float) : 0;
    if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
        pos = 3; /* UTF-8 byte-order mark */
    if (memchr(p, '\0', len) != NULL) {
        const uint8_t *z = memchr(p, '\0', len);
        size_t zl = 1;
        for (const uint8_t *q = p; q < z; q++)
            zl += *q == '\n';
        return exdata__fail(err, name,
                            "NUL byte on line %zu: not a text (CSV) file", zl);
    }
    while (pos < len) {
        const uint8_t *s = p + pos;
        const uint8_t *nl = memchr(s, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - s) : len - pos;
        size_t b = 0;
        long cols;
        pos += n + (nl != NULL);
        line++;
        if (n > 0 && s[n - 1] == '\r')
            n--;
        while (b < n && is_space(s[b]))
            b++;
        if (b == n || s[b] == '#')
            continue;
        if (first) {
            first = 0;
            st.delim = pick_delim(s, n);
            if (header == 1 ||
                (header == -1 && split(&st, line, s, n, stop_at_number) >= 0))
                continue;
        }
        cols = split(&st, line, s, n, store);
        if (cols < 0) {
            free(st.vals);
            return -1;
        }
        if (st.rows == 0) {
            st.cols = (size_t)cols;
        } else if ((size_t)cols != st.cols) {
            free(st.vals);
            return exdata__fail(err, name,
                                "line %zu has %ld fields, expected %zu "
                                "like the first data line",
                                line, cols, st.cols);
        }
        st.rows++;
    }
    if (st.rows == 0) {
        free(st.vals);
        return exdata__fail(err, name, "no data rows");
    }
    out->values = st.vals;
    out->rows = st.rows;
    out->cols = st.cols;
    out->dtype = DFSAE_DTYPE_TEXT;
    return 0;
}
