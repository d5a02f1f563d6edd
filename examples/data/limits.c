/* The readers' memory limit: its default, and refusing inputs above it. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#include "data_internal.h"

#define FALLBACK_LIMIT ((uint64_t)4 << 30)

size_t exdata_default_max_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t half = 0;
    struct rlimit as;
    if (pages > 0 && page > 0)
        half = (uint64_t)pages / 2 * (uint64_t)page;
    /* Under `ulimit -v` the address space runs out before the memory. */
    if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY &&
        (half == 0 || (uint64_t)as.rlim_cur / 2 < half))
        half = (uint64_t)as.rlim_cur / 2;
    if (half == 0)
        half = FALLBACK_LIMIT;
    return half > SIZE_MAX ? SIZE_MAX : (size_t)half;
}

size_t exdata__limit(const exdata_options *opt)
{
    return opt != NULL && opt->max_memory != 0 ? opt->max_memory
                                               : exdata_default_max_memory();
}

const char *exdata_size_text(size_t bytes, char *buf, size_t cap)
{
    static const char *const units[] = {"KiB", "MiB", "GiB",
                                        "TiB", "PiB", "EiB"};
    double v = (double)bytes;
    int u = -1;
    while (v >= 1024.0 && u < 5) {
        v /= 1024.0;
        u++;
    }
    if (u < 0)
        snprintf(buf, cap, "%zu bytes", bytes);
    else
        snprintf(buf, cap, "%.1f %s", v, units[u]);
    return buf;
}

int exdata__over_limit(exdata_error *err, const char *name, const char *fmt,
                       ...)
{
    if (err != NULL) {
        char msg[EXDATA_ERR_LEN];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        exdata__fail(err, name, "%s", msg);
        err->kind = EXDATA_ERR_MEMORY_LIMIT;
    }
    return -1;
}

size_t exdata__sat_mul(size_t a, size_t b)
{
    size_t p;
    return exdata_size_mul(a, b, &p) ? p : SIZE_MAX;
}

size_t exdata__sat_add(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

int exdata__check_announced(const exdata__shape *s, size_t total, size_t held,
                            size_t limit, const char *what, const char *name,
                            exdata_error *err)
{
    size_t values =
        exdata__sat_mul(exdata__sat_mul(s->rows, s->cols), sizeof(float));
    size_t need = exdata__sat_add(exdata__sat_add(values, total), held);
    char need_s[32], limit_s[32];
    if (need <= limit && need != SIZE_MAX)
        return 0;
    return exdata__over_limit(
        err, name,
        "the %s header announces %zu x %zu values: reading them needs %s, "
        "above the memory limit of %s",
        what, s->rows, s->cols, exdata_size_text(need, need_s, sizeof need_s),
        exdata_size_text(limit, limit_s, sizeof limit_s));
}
