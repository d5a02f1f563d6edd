/* Shared reader plumbing: options, errors, element conversion, dispatch. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_internal.h"

void dfsae_data_options_init(dfsae_data_options *opt)
{
    opt->format = DFSAE_DATA_AUTO;
    opt->divide = DFSAE_DATA_SCALE_AUTO;
    opt->csv_header = -1;
    opt->max_bytes = 0;
}

int dfsae_data__fail(dfsae_data_error *err, const char *name, const char *fmt,
                     ...)
{
    if (err != NULL) {
        va_list ap;
        int n = snprintf(err->msg, sizeof err->msg,
                         "%s: ", name != NULL ? name : "<input>");
        size_t used = n < 0 ? 0 : (size_t)n;
        if (used >= sizeof err->msg)
            used = sizeof err->msg - 1;
        va_start(ap, fmt);
        vsnprintf(err->msg + used, sizeof err->msg - used, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int dfsae_data_size_mul(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return 0;
    *out = a * b;
    return 1;
}

size_t dfsae_data__dtype_size(int dtype)
{
    switch (dtype) {
    case DFSAE_DTYPE_U8:
    case DFSAE_DTYPE_I8: return 1;
    case DFSAE_DTYPE_I16: return 2;
    case DFSAE_DTYPE_I32:
    case DFSAE_DTYPE_F32: return 4;
    case DFSAE_DTYPE_F64: return 8;
    default: return 0;
    }
}

const char *dfsae_data__dtype_name(int dtype)
{
    switch (dtype) {
    case DFSAE_DTYPE_U8: return "uint8";
    case DFSAE_DTYPE_I8: return "int8";
    case DFSAE_DTYPE_I16: return "int16";
    case DFSAE_DTYPE_I32: return "int32";
    case DFSAE_DTYPE_F32: return "float32";
    case DFSAE_DTYPE_F64: return "float64";
    case DFSAE_DTYPE_TEXT: return "text";
    default: return "unknown";
    }
}

double dfsae_data__divisor(const dfsae_data_options *opt, int dtype)
{
    if (opt != NULL && opt->divide != DFSAE_DATA_SCALE_AUTO)
        return opt->divide;
    return dtype == DFSAE_DTYPE_U8 ? 255.0 : 1.0;
}

int dfsae_data__alloc(dfsae_data *out, size_t rows, size_t cols,
                      const char *name, dfsae_data_error *err)
{
    size_t count, bytes;
    if (!dfsae_data_size_mul(rows, cols, &count) ||
        !dfsae_data_size_mul(count, sizeof(float), &bytes))
        return dfsae_data__fail(err, name, "%zu x %zu values overflow memory",
                                rows, cols);
    out->values = malloc(bytes == 0 ? 1 : bytes);
    if (out->values == NULL)
        return dfsae_data__fail(err, name, "out of memory for %zu x %zu values",
                                rows, cols);
    out->rows = rows;
    out->cols = cols;
    return 0;
}

static uint64_t load_uint(const uint8_t *p, size_t size, int big_endian)
{
    uint64_t v = 0;
    for (size_t i = 0; i < size; i++) {
        size_t j = big_endian ? i : size - 1 - i;
        v = (v << 8) | p[j];
    }
    return v;
}

static double element(const uint8_t *p, int dtype, int big_endian)
{
    switch (dtype) {
    case DFSAE_DTYPE_U8: return (double)p[0];
    case DFSAE_DTYPE_I8: return (double)(int8_t)p[0];
    case DFSAE_DTYPE_I16:
        return (double)(int16_t)(uint16_t)load_uint(p, 2, big_endian);
    case DFSAE_DTYPE_I32:
        return (double)(int32_t)(uint32_t)load_uint(p, 4, big_endian);
    case DFSAE_DTYPE_F32: {
        uint32_t u = (uint32_t)load_uint(p, 4, big_endian);
        float f;
        memcpy(&f, &u, sizeof f);
        return (double)f;
    }
    case DFSAE_DTYPE_F64: {
        uint64_t u = load_uint(p, 8, big_endian);
        double d;
        memcpy(&d, &u, sizeof d);
        return d;
    }
    default: return 0.0;
    }
}

int dfsae_data__convert(const uint8_t *src, int dtype, int big_endian,
                        size_t count, size_t cols, double divide, float *dst,
                        const char *name, dfsae_data_error *err)
{
    size_t es = dfsae_data__dtype_size(dtype);
    if (cols == 0)
        cols = 1;
    for (size_t i = 0; i < count; i++) {
        double v = element(src + i * es, dtype, big_endian) / divide;
        if (!isfinite(v) || fabs(v) > (double)3.4028234663852886e38)
            return dfsae_data__fail(
                err, name, "%s value at row %zu, column %zu (%g)",
                isfinite(v) ? "out-of-float32-range" : "non-finite",
                i / cols + 1, i % cols + 1, v);
        dst[i] = (float)v;
    }
    return 0;
}

void dfsae_data_free(dfsae_data *d)
{
    if (d == NULL)
        return;
    free(d->values);
    memset(d, 0, sizeof *d);
}

void dfsae_data_truncate(dfsae_data *d, size_t rows)
{
    if (d != NULL && rows < d->rows)
        d->rows = rows;
}

int dfsae_data_read_file(const char *path, size_t max_bytes, uint8_t **out,
                         size_t *out_len, dfsae_data_error *err)
{
    FILE *f;
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;

    *out = NULL;
    *out_len = 0;
    if (max_bytes == 0)
        max_bytes = DFSAE_DATA_DEFAULT_MAX;
    f = fopen(path, "rb");
    if (f == NULL)
        return dfsae_data__fail(err, path, "cannot open: %s", strerror(errno));
    /* Read in growing chunks: works for pipes and files alike. */
    for (;;) {
        size_t got;
        if (len == cap) {
            size_t ncap = cap == 0 ? ((size_t)1 << 16) : cap * 2;
            uint8_t *nb;
            /* One byte past the limit tells "too large" from "exactly". */
            size_t limit = max_bytes < SIZE_MAX ? max_bytes + 1 : SIZE_MAX;
            if (ncap > limit)
                ncap = limit;
            if (ncap <= cap) {
                free(buf);
                fclose(f);
                return dfsae_data__fail(err, path,
                                        "file larger than the %zu-byte limit",
                                        max_bytes);
            }
            nb = realloc(buf, ncap);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return dfsae_data__fail(err, path, "out of memory reading it");
            }
            buf = nb;
            cap = ncap;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        int e = errno;
        free(buf);
        fclose(f);
        return dfsae_data__fail(err, path, "read error: %s", strerror(e));
    }
    fclose(f);
    if (len > max_bytes) {
        free(buf);
        return dfsae_data__fail(
            err, path, "file larger than the %zu-byte limit", max_bytes);
    }
    *out = buf;
    *out_len = len;
    return 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The format from the bytes first (they cannot lie about .npy), then from
 * the name with any ".gz" removed. */
static int detect_format(const uint8_t *p, size_t len, const char *name)
{
    char base[256];
    size_t n;
    if (len >= 6 && memcmp(p, "\x93NUMPY", 6) == 0)
        return DFSAE_DATA_NPY;
    if (len >= 4 && p[0] == 0 && p[1] == 0)
        return DFSAE_DATA_IDX;
    if (name == NULL)
        return DFSAE_DATA_CSV;
    n = strlen(name);
    if (n >= sizeof base)
        name += n - (sizeof base - 1);
    snprintf(base, sizeof base, "%s", name);
    if (ends_with(base, ".gz"))
        base[strlen(base) - 3] = '\0';
    if (ends_with(base, ".npy"))
        return DFSAE_DATA_NPY;
    if (ends_with(base, "ubyte") || ends_with(base, ".idx"))
        return DFSAE_DATA_IDX;
    return DFSAE_DATA_CSV;
}

int dfsae_data_parse(const void *bytes, size_t len, const char *name,
                     const dfsae_data_options *opt, dfsae_data *out,
                     dfsae_data_error *err)
{
    dfsae_data_options def;
    const uint8_t *p = bytes;
    uint8_t *unz = NULL;
    int fmt, rc;

    if (out == NULL)
        return dfsae_data__fail(err, name, "no output");
    memset(out, 0, sizeof *out);
    if (opt == NULL) {
        dfsae_data_options_init(&def);
        opt = &def;
    }
    if (p == NULL && len != 0)
        return dfsae_data__fail(err, name, "no input");
    if (opt->divide != DFSAE_DATA_SCALE_AUTO &&
        !(isfinite(opt->divide) && opt->divide > 0))
        return dfsae_data__fail(err, name, "scale divisor %g is not positive",
                                opt->divide);
    if (dfsae_data_is_gzip(p, len)) {
        size_t ulen;
        size_t cap = opt->max_bytes ? opt->max_bytes : DFSAE_DATA_DEFAULT_MAX;
        if (dfsae_data_gunzip(p, len, name, cap, &unz, &ulen, err) != 0)
            return -1;
        p = unz;
        len = ulen;
    }
    fmt = opt->format != DFSAE_DATA_AUTO ? opt->format
                                         : detect_format(p, len, name);
    switch (fmt) {
    case DFSAE_DATA_IDX:
        rc = dfsae_data_parse_idx(p, len, name, opt, out, err);
        break;
    case DFSAE_DATA_NPY:
        rc = dfsae_data_parse_npy(p, len, name, opt, out, err);
        break;
    case DFSAE_DATA_CSV:
        rc = dfsae_data_parse_csv(p, len, name, opt, out, err);
        break;
    default: rc = dfsae_data__fail(err, name, "unknown format %d", fmt); break;
    }
    free(unz);
    if (rc != 0)
        dfsae_data_free(out);
    return rc;
}

int dfsae_data_load(const char *path, const dfsae_data_options *opt,
                    dfsae_data *out, dfsae_data_error *err)
{
    uint8_t *buf;
    size_t len;
    int rc;
    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (path == NULL)
        return dfsae_data__fail(err, "<null>", "no file name");
    if (dfsae_data_read_file(path, opt != NULL ? opt->max_bytes : 0, &buf, &len,
                             err) != 0)
        return -1;
    rc = dfsae_data_parse(buf, len, path, opt, out, err);
    free(buf);
    return rc;
}
