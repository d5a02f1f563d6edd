/* Shared reader plumbing: options, errors, element conversion, dispatch. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_internal.h"

void exdata_options_init(exdata_options *opt)
{
    opt->format = EXDATA_AUTO;
    opt->divide = EXDATA_SCALE_AUTO;
    opt->csv_header = -1;
    opt->max_memory = 0;
    opt->bf16 = 0;
}

int exdata__fail(exdata_error *err, const char *name, const char *fmt, ...)
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
        err->kind = EXDATA_ERR_INPUT;
    }
    return -1;
}

int exdata_size_mul(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return 0;
    *out = a * b;
    return 1;
}

size_t exdata__dtype_size(int dtype)
{
    switch (dtype) {
    case DFSAE_DTYPE_U8:
    case DFSAE_DTYPE_I8: return 1;
    case DFSAE_DTYPE_I16:
    case DFSAE_DTYPE_F16:
    case DFSAE_DTYPE_BF16: return 2;
    case DFSAE_DTYPE_I32:
    case DFSAE_DTYPE_F32: return 4;
    case DFSAE_DTYPE_F64: return 8;
    default: return 0;
    }
}

const char *exdata__dtype_name(int dtype)
{
    switch (dtype) {
    case DFSAE_DTYPE_U8: return "uint8";
    case DFSAE_DTYPE_I8: return "int8";
    case DFSAE_DTYPE_I16: return "int16";
    case DFSAE_DTYPE_I32: return "int32";
    case DFSAE_DTYPE_F32: return "float32";
    case DFSAE_DTYPE_F16: return "float16";
    case DFSAE_DTYPE_BF16: return "bfloat16";
    case DFSAE_DTYPE_F64: return "float64";
    case DFSAE_DTYPE_TEXT: return "text";
    default: return "unknown";
    }
}

double exdata__divisor(const exdata_options *opt, int dtype)
{
    if (opt != NULL && opt->divide != EXDATA_SCALE_AUTO)
        return opt->divide;
    return dtype == DFSAE_DTYPE_U8 ? 255.0 : 1.0;
}

int exdata__alloc(exdata *out, size_t rows, size_t cols, const char *name,
                  exdata_error *err)
{
    size_t count, bytes;
    if (!exdata_size_mul(rows, cols, &count) ||
        !exdata_size_mul(count, sizeof(float), &bytes))
        return exdata__fail(err, name, "%zu x %zu values overflow memory", rows,
                            cols);
    out->values = malloc(bytes == 0 ? 1 : bytes);
    if (out->values == NULL)
        return exdata__fail(err, name, "out of memory for %zu x %zu values",
                            rows, cols);
    out->rows = rows;
    out->cols = cols;
    return 0;
}

/* The header of an IDX or .npy file (fmt), as the format's reader says. */
static int read_shape(int fmt, const uint8_t *p, size_t len, const char *name,
                      exdata__shape *s, int *short_input, exdata_error *err)
{
    if (fmt == EXDATA_IDX)
        return exdata__idx_shape(p, len, name, s, short_input, err);
    return exdata__npy_shape(p, len, name, s, short_input, err);
}

static const char *format_word(int fmt)
{
    return fmt == EXDATA_IDX ? "IDX" : "array";
}

/* The rest of a binary read once its header is known: the file's length
 * must match, then the values are converted into out. */
static int read_elements(const uint8_t *p, size_t len, const char *name,
                         const exdata_options *opt, const exdata__shape *s,
                         const char *what, exdata *out, exdata_error *err)
{
    size_t data = len - s->header;
    if (data < s->bytes)
        return exdata__fail(err, name,
                            "truncated: the header promises %zu bytes of "
                            "%s data, the file has %zu",
                            s->bytes, exdata__dtype_name(s->dtype), data);
    if (data > s->bytes)
        return exdata__fail(err, name, "%zu unexpected bytes after the %s data",
                            data - s->bytes, what);
    if (exdata__check_announced(s, len, 0, exdata__limit(opt), what, name,
                                err) != 0 ||
        exdata__alloc(out, s->rows, s->cols, name, err) != 0)
        return -1;
    if (exdata__convert(
            p + s->header, s->dtype, s->big_endian, s->rows * s->cols, s->cols,
            exdata__divisor(opt, s->dtype), out->values, name, err) != 0) {
        exdata_free(out);
        return -1;
    }
    out->dtype = s->dtype;
    out->image_h = s->image_h;
    out->image_w = s->image_w;
    return 0;
}

int exdata__parse_binary(int fmt, const uint8_t *p, size_t len,
                         const char *name, const exdata_options *opt,
                         exdata *out, exdata_error *err)
{
    exdata__shape s;
    int short_input;
    memset(out, 0, sizeof *out);
    if (read_shape(fmt, p, len, name, &s, &short_input, err) != 0 ||
        exdata__settle_dtype(&s, opt != NULL && opt->bf16, name, err) != 0)
        return -1;
    return read_elements(p, len, name, opt, &s, format_word(fmt), out, err);
}

int exdata__settle_dtype(exdata__shape *s, int bf16, const char *name,
                         exdata_error *err)
{
    if (s->untyped && !bf16)
        return exdata__fail(err, name,
                            "2-byte elements of no numeric type ('%s'); "
                            "if they are bfloat16 (as ml_dtypes saves "
                            "them), say so with --dtype bf16",
                            s->descr);
    if (bf16 && s->dtype != DFSAE_DTYPE_BF16)
        return exdata__fail(err, name,
                            "--dtype bf16, but the file holds %s data",
                            exdata__dtype_name(s->dtype));
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
    case DFSAE_DTYPE_F16: {
        /* 1 sign, 5 exponent (bias 15), 10 mantissa bits */
        uint32_t h = (uint32_t)load_uint(p, 2, big_endian);
        uint32_t e = (h >> 10) & 31u, m = h & 1023u;
        double v = e == 31u  ? (m ? NAN : INFINITY)
                   : e == 0u ? ldexp((double)m, -24)
                             : ldexp((double)(1024u + m), (int)e - 25);
        return h & 0x8000u ? -v : v;
    }
    case DFSAE_DTYPE_BF16: {
        uint32_t u = (uint32_t)load_uint(p, 2, big_endian) << 16;
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

int exdata__convert(const uint8_t *src, int dtype, int big_endian, size_t count,
                    size_t cols, double divide, float *dst, const char *name,
                    exdata_error *err)
{
    size_t es = exdata__dtype_size(dtype);
    if (cols == 0)
        cols = 1;
    for (size_t i = 0; i < count; i++) {
        double v = element(src + i * es, dtype, big_endian) / divide;
        if (!isfinite(v) || fabs(v) > (double)3.4028234663852886e38)
            return exdata__fail(
                err, name, "%s value at row %zu, column %zu (%g)",
                isfinite(v) ? "out-of-float32-range" : "non-finite",
                i / cols + 1, i % cols + 1, v);
        dst[i] = (float)v;
    }
    return 0;
}

void exdata_free(exdata *d)
{
    if (d == NULL)
        return;
    free(d->values);
    memset(d, 0, sizeof *d);
}

void exdata_truncate(exdata *d, size_t rows)
{
    if (d != NULL && rows < d->rows)
        d->rows = rows;
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
        return EXDATA_NPY;
    if (len >= 4 && p[0] == 0 && p[1] == 0)
        return EXDATA_IDX;
    if (name == NULL)
        return EXDATA_CSV;
    n = strlen(name);
    if (n >= sizeof base)
        name += n - (sizeof base - 1);
    snprintf(base, sizeof base, "%s", name);
    if (ends_with(base, ".gz"))
        base[strlen(base) - 3] = '\0';
    if (ends_with(base, ".npy"))
        return EXDATA_NPY;
    if (ends_with(base, "ubyte") || ends_with(base, ".idx"))
        return EXDATA_IDX;
    return EXDATA_CSV;
}

/* While a gzip stream inflates: refuse it as soon as the header of the
 * file inside announces more than the limit allows. */
typedef struct announce_ctx {
    const exdata_options *opt;
    const char *name;
    size_t held, limit; /* the compressed bytes; the limit */
} announce_ctx;

static int check_announced(const uint8_t *p, size_t len, void *vctx,
                           exdata_error *err)
{
    const announce_ctx *c = vctx;
    exdata__shape s;
    exdata_error ignored;
    int fmt = c->opt->format != EXDATA_AUTO ? c->opt->format
                                            : detect_format(p, len, c->name);
    int short_input = 0;
    if (fmt != EXDATA_IDX && fmt != EXDATA_NPY)
        return 1; /* CSV announces nothing */
    if (read_shape(fmt, p, len, c->name, &s, &short_input, &ignored) != 0)
        return short_input ? 0 : 1; /* malformed: the parser will say so */
    if (exdata__check_announced(&s, s.header + s.bytes, c->held, c->limit,
                                format_word(fmt), c->name, err) != 0)
        return -1;
    return 1;
}

int exdata_parse(const void *bytes, size_t len, const char *name,
                 const exdata_options *opt, exdata *out, exdata_error *err)
{
    exdata_options def, sub;
    const uint8_t *p = bytes;
    uint8_t *unz = NULL;
    int fmt, rc;

    if (out == NULL)
        return exdata__fail(err, name, "no output");
    memset(out, 0, sizeof *out);
    if (opt == NULL) {
        exdata_options_init(&def);
        opt = &def;
    }
    if (p == NULL && len != 0)
        return exdata__fail(err, name, "no input");
    if (opt->divide != EXDATA_SCALE_AUTO &&
        !(isfinite(opt->divide) && opt->divide > 0))
        return exdata__fail(err, name, "scale divisor %g is not positive",
                            opt->divide);
    if (exdata_is_gzip(p, len)) {
        size_t limit = exdata__limit(opt), ulen;
        announce_ctx ctx = {opt, name, len, limit};
        if (len > limit) {
            char limit_s[32];
            return exdata__over_limit(
                err, name, "%zu bytes, above the memory limit of %s", len,
                exdata_size_text(limit, limit_s, sizeof limit_s));
        }
        if (exdata__gunzip(p, len, name, limit, len, check_announced, &ctx,
                           &unz, &ulen, err) != 0)
            return -1;
        /* The compressed bytes stay in memory while the values are read. */
        sub = *opt;
        sub.max_memory = limit - len;
        opt = &sub;
        p = unz;
        len = ulen;
    }
    fmt =
        opt->format != EXDATA_AUTO ? opt->format : detect_format(p, len, name);
    switch (fmt) {
    case EXDATA_IDX: rc = exdata_parse_idx(p, len, name, opt, out, err); break;
    case EXDATA_NPY: rc = exdata_parse_npy(p, len, name, opt, out, err); break;
    case EXDATA_CSV: rc = exdata_parse_csv(p, len, name, opt, out, err); break;
    default: rc = exdata__fail(err, name, "unknown format %d", fmt); break;
    }
    free(unz);
    if (rc != 0)
        exdata_free(out);
    return rc;
}

int exdata_load(const char *path, const exdata_options *opt, exdata *out,
                exdata_error *err)
{
    uint8_t *buf;
    size_t len;
    int rc;
    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (path == NULL)
        return exdata__fail(err, "<null>", "no file name");
    if (exdata_read_file(path, exdata__limit(opt), &buf, &len, err) != 0)
        return -1;
    rc = exdata_parse(buf, len, path, opt, out, err);
    free(buf);
    return rc;
}
