/* Numbers as metadata text, independent of the C locale: a host that calls
 * setlocale(LC_NUMERIC, "de_DE") must still write "0.01", not "0,01", and
 * read back the same double. %.17g round-trips every double exactly. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors/safetensors.h"

/* The current locale's decimal point, found by formatting 0.5 (thread-safe
 * unlike localeconv). At most a few bytes. */
static void radix(char out[8])
{
    char buf[32];
    snprintf(buf, sizeof buf, "%.1f", 0.5);
    size_t len = strlen(buf);
    /* buf is "0" radix "5" */
    size_t r = len >= 3 ? len - 2 : 0;
    if (r == 0 || r >= 8) {
        strcpy(out, ".");
        return;
    }
    memcpy(out, buf + 1, r);
    out[r] = '\0';
}

void dfsae__format_double(char out[DFSAE__NUM_LEN], double v)
{
    char buf[64], rad[8];
    snprintf(buf, sizeof buf, "%.17g", v);
    radix(rad);
    char *p = strstr(buf, rad);
    size_t o = 0;
    for (const char *s = buf; *s != '\0' && o + 1 < DFSAE__NUM_LEN;) {
        if (s == p) {
            out[o++] = '.';
            s += strlen(rad);
        } else {
            out[o++] = *s++;
        }
    }
    out[o] = '\0';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Length of a run of digits at s. */
static size_t digits(const char *s)
{
    size_t n = 0;
    while (is_digit(s[n]))
        ++n;
    return n;
}

int dfsae__parse_double(const char *s, double *out)
{
    /* Validate the grammar first so strtod cannot accept "inf", "0x1p3",
     * leading spaces or a locale's own radix. */
    size_t i = 0, dot = 0;
    if (s[i] == '-')
        ++i;
    size_t n = digits(s + i);
    if (n == 0)
        return 0;
    i += n;
    if (s[i] == '.') {
        dot = i;
        n = digits(s + i + 1);
        if (n == 0)
            return 0;
        i += 1 + n;
    }
    if (s[i] == 'e' || s[i] == 'E') {
        ++i;
        if (s[i] == '+' || s[i] == '-')
            ++i;
        n = digits(s + i);
        if (n == 0)
            return 0;
        i += n;
    }
    if (s[i] != '\0' || i >= DFSAE__NUM_LEN)
        return 0;

    char buf[DFSAE__NUM_LEN + 8], rad[8];
    radix(rad);
    size_t rl = strlen(rad), o = 0;
    for (size_t j = 0; j < i; ++j) {
        if (dot != 0 && j == dot) {
            memcpy(buf + o, rad, rl);
            o += rl;
        } else {
            buf[o++] = s[j];
        }
    }
    buf[o] = '\0';
    char *end = NULL;
    double v = strtod(buf, &end);
    if (end != buf + o || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

int dfsae__parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; ++s) {
        if (!is_digit(*s))
            return 0;
        uint64_t digit = (uint64_t)(*s - '0');
        if (v > (UINT64_MAX - digit) / 10)
            return 0;
        v = v * 10 + digit;
    }
    *out = v;
    return 1;
}
