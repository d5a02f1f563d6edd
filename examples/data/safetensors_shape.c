/* The header of a safetensors file, as far as a data set needs it: an
 * 8-byte little-endian length n, n bytes of JSON {"NAME": {"dtype": "F16",
 * "shape": [rows, cols], "data_offsets": [begin, end]}, ...,
 * "__metadata__": {...}}, then the data section the offsets point into.
 * One 2-D tensor of F32, F16 or BF16 is chosen (by name, or the only one)
 * and checked against the file: its shape against its byte range, the
 * range against the data section. The library's own parser
 * (src/safetensors/) is internal to it; this reads a few fields only. */
#include <stdio.h>
#include <string.h>

#include "data_internal.h"

/* Headers of real files are a few KiB; the format's authors cap them at
 * 100 MB. */
#define MAX_HEADER ((uint64_t)100 << 20)
#define MAX_DEPTH  64
#define NAME_CAP   256

typedef struct json {
    const uint8_t *p, *end;
    const char *file;
    exdata_error *err;
} json;

/* The tensor being looked at while its entry is read. */
typedef struct entry {
    char dtype[16];
    size_t dims[3], ndim;
    uint64_t begin, end;
    int have_dtype, have_shape, have_offsets;
} entry;

static int bad(json *j, const char *what)
{
    return exdata__fail(j->err, j->file, "bad safetensors header: %s", what);
}

static void ws(json *j)
{
    while (j->p < j->end &&
           (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int eat(json *j, char c)
{
    ws(j);
    if (j->p >= j->end || *j->p != (uint8_t)c)
        return -1;
    j->p++;
    return 0;
}

/* A JSON string into buf (NUL-terminated, cut at cap - 1 bytes; *cut says
 * so). \uXXXX escapes are kept as written: names compared with them are
 * compared as written. */
static int string(json *j, char *buf, size_t cap, int *cut)
{
    size_t n = 0;
    *cut = 0;
    if (eat(j, '"') != 0)
        return bad(j, "expected a string");
    while (j->p < j->end && *j->p != '"') {
        uint8_t c = *j->p++;
        if (c < 0x20)
            return bad(j, "control character in a string");
        if (c == '\\') {
            if (j->p >= j->end)
                break;
            c = *j->p++;
            c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
        }
        if (n + 1 < cap)
            buf[n++] = (char)c;
        else
            *cut = 1;
    }
    if (j->p >= j->end)
        return bad(j, "unterminated string");
    j->p++;
    buf[n] = '\0';
    return 0;
}

/* A non-negative integer of at most 2^64 - 1. */
static int integer(json *j, uint64_t *v)
{
    int digits = 0;
    ws(j);
    *v = 0;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
        uint64_t d = (uint64_t)(*j->p++ - '0');
        if (*v > (UINT64_MAX - d) / 10)
            return bad(j, "an integer overflows 64 bits");
        *v = *v * 10 + d;
        digits++;
    }
    if (digits == 0)
        return bad(j, "expected a non-negative integer");
    return 0;
}

/* Any JSON value, not looked at (metadata, unknown fields). */
static int skip(json *j, int depth)
{
    char scratch[2];
    int cut;
    ws(j);
    if (depth > MAX_DEPTH)
        return bad(j, "nested too deeply");
    if (j->p >= j->end)
        return bad(j, "a value is missing");
    if (*j->p == '"')
        return string(j, scratch, sizeof scratch, &cut);
    if (*j->p == '{' || *j->p == '[') {
        const char close = *j->p == '{' ? '}' : ']';
        const int object = close == '}';
        j->p++;
        if (eat(j, close) == 0)
            return 0;
        do {
            if (object && (string(j, scratch, sizeof scratch, &cut) != 0 ||
                           eat(j, ':') != 0))
                return bad(j, "expected \"key\": value");
            if (skip(j, depth + 1) != 0)
                return -1;
        } while (eat(j, ',') == 0);
        return eat(j, close) == 0 ? 0 : bad(j, "unclosed array or object");
    }
    /* numbers, true, false, null */
    const uint8_t *start = j->p;
    while (j->p < j->end && *j->p != 0 &&
           strchr("+-.0123456789eEtrufalsn", *j->p) != NULL)
        j->p++;
    return j->p > start ? 0 : bad(j, "unexpected character");
}

/* A list of at most `cap` integers into v; *n their count. */
static int int_list(json *j, uint64_t *v, size_t cap, size_t *n)
{
    *n = 0;
    if (eat(j, '[') != 0)
        return bad(j, "expected a list of integers");
    if (eat(j, ']') == 0)
        return 0;
    do {
        uint64_t x;
        if (integer(j, &x) != 0)
            return -1;
        if (*n < cap)
            v[*n] = x;
        ++*n;
    } while (eat(j, ',') == 0);
    return eat(j, ']') == 0 ? 0 : bad(j, "unclosed list");
}

static int read_entry(json *j, entry *e)
{
    memset(e, 0, sizeof *e);
    if (eat(j, '{') != 0)
        return bad(j, "a tensor's entry is not an object");
    if (eat(j, '}') == 0)
        return 0;
    do {
        char key[16];
        int cut;
        if (string(j, key, sizeof key, &cut) != 0 || eat(j, ':') != 0)
            return bad(j, "expected \"key\": value");
        if (!cut && strcmp(key, "dtype") == 0) {
            if (string(j, e->dtype, sizeof e->dtype, &cut) != 0)
                return -1;
            e->have_dtype = 1;
        } else if (!cut && strcmp(key, "shape") == 0) {
            uint64_t v[3];
            if (int_list(j, v, 3, &e->ndim) != 0)
                return -1;
            for (size_t i = 0; i < e->ndim && i < 3; ++i) {
                if (v[i] > SIZE_MAX)
                    return bad(j, "a dimension overflows");
                e->dims[i] = (size_t)v[i];
            }
            e->have_shape = 1;
        } else if (!cut && strcmp(key, "data_offsets") == 0) {
            uint64_t v[2];
            size_t n;
            if (int_list(j, v, 2, &n) != 0)
                return -1;
            if (n != 2)
                return bad(j, "data_offsets is not [begin, end]");
            e->begin = v[0];
            e->end = v[1];
            e->have_offsets = 1;
        } else if (skip(j, 1) != 0) {
            return -1;
        }
    } while (eat(j, ',') == 0);
    if (eat(j, '}') != 0)
        return bad(j, "unclosed tensor entry");
    if (!e->have_dtype || !e->have_shape || !e->have_offsets)
        return bad(j, "a tensor without dtype, shape or data_offsets");
    return 0;
}

static int element_type(const char *dtype)
{
    if (strcmp(dtype, "F32") == 0)
        return DFSAE_DTYPE_F32;
    if (strcmp(dtype, "F16") == 0)
        return DFSAE_DTYPE_F16;
    if (strcmp(dtype, "BF16") == 0)
        return DFSAE_DTYPE_BF16;
    return -1;
}

/* The chosen tensor against the file: dtype, shape, byte range. */
static int check_entry(const char *file, const char *tname, const entry *e,
                       uint64_t data_len, exdata__shape *s, exdata_error *err)
{
    int dtype = element_type(e->dtype);
    if (dtype < 0)
        return exdata__fail(err, file,
                            "tensor '%s' is %s (need F32, F16 or BF16)", tname,
                            e->dtype);
    if (e->ndim != 2)
        return exdata__fail(err, file,
                            "tensor '%s' has %zu dimensions (need rows x "
                            "columns)",
                            tname, e->ndim);
    size_t bytes;
    if (!exdata_size_mul(e->dims[0], e->dims[1], &bytes) ||
        !exdata_size_mul(bytes, exdata__dtype_size(dtype), &bytes))
        return exdata__fail(err, file, "tensor '%s': shape overflows", tname);
    if (bytes == 0)
        return exdata__fail(err, file,
                            "tensor '%s' is empty (a dimension is 0)", tname);
    if (e->end < e->begin)
        return exdata__fail(err, file,
                            "tensor '%s': data_offsets [%llu, %llu] end "
                            "before they begin",
                            tname, (unsigned long long)e->begin,
                            (unsigned long long)e->end);
    if (e->end - e->begin != bytes)
        return exdata__fail(
            err, file,
            "tensor '%s': shape [%zu, %zu] of %s is %zu bytes, its "
            "data_offsets hold %llu",
            tname, e->dims[0], e->dims[1], e->dtype, bytes,
            (unsigned long long)(e->end - e->begin));
    if (e->end > data_len)
        return exdata__fail(err, file,
                            "truncated or out of range: tensor '%s' ends "
                            "at byte %llu of the data, the file has %llu",
                            tname, (unsigned long long)e->end,
                            (unsigned long long)data_len);
    s->rows = e->dims[0];
    s->cols = e->dims[1];
    s->bytes = bytes;
    s->dtype = dtype;
    return 0;
}

int exdata__safetensors_shape(const uint8_t *p, size_t len, const char *file,
                              const char *tensor, exdata__shape *s,
                              exdata_error *err)
{
    memset(s, 0, sizeof *s);
    if (len < 8)
        return exdata__fail(err, file, "truncated safetensors preamble");
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i)
        n = (n << 8) | p[i];
    if (n > MAX_HEADER || n > len - 8)
        return exdata__fail(err, file,
                            "truncated or not a safetensors file: the "
                            "header length %llu exceeds the file's %zu "
                            "bytes",
                            (unsigned long long)n, len - 8);
    json j = {p + 8, p + 8 + n, file, err};
    const uint64_t data_len = (uint64_t)(len - 8 - n);
    char name[NAME_CAP], chosen[NAME_CAP] = "", others[96] = "";
    entry e, found = {0};
    size_t matrices = 0;
    int cut;
    if (eat(&j, '{') != 0)
        return bad(&j, "not a JSON object");
    if (eat(&j, '}') != 0) {
        do {
            if (string(&j, name, sizeof name, &cut) != 0 || eat(&j, ':') != 0)
                return bad(&j, "expected \"name\": {...}");
            if (strcmp(name, "__metadata__") == 0) {
                if (skip(&j, 1) != 0)
                    return -1;
                continue;
            }
            if (read_entry(&j, &e) != 0)
                return -1;
            const int wanted = tensor != NULL
                                   ? !cut && strcmp(name, tensor) == 0
                                   : e.ndim == 2;
            if (!wanted)
                continue;
            if (matrices++ == 0) {
                found = e;
                snprintf(chosen, sizeof chosen, "%s", name);
            } else if (strlen(others) + strlen(name) + 3 < sizeof others) {
                strcat(others, ", ");
                strcat(others, name);
            }
        } while (eat(&j, ',') == 0);
        if (eat(&j, '}') != 0)
            return bad(&j, "unclosed object");
    }
    ws(&j);
    if (j.p != j.end)
        return bad(&j, "text after the object");
    if (tensor != NULL && matrices == 0)
        return exdata__fail(err, file, "no tensor named '%s'", tensor);
    if (matrices == 0)
        return exdata__fail(err, file, "no 2-D tensor (rows x columns)");
    if (matrices > 1 && tensor != NULL)
        return exdata__fail(err, file, "tensor '%s' appears twice", tensor);
    if (matrices > 1)
        return exdata__fail(err, file,
                            "%zu 2-D tensors ('%s'%s): choose one with "
                            "--tensor NAME",
                            matrices, chosen, others);
    if (check_entry(file, chosen, &found, data_len, s, err) != 0)
        return -1;
    s->header = (size_t)(8 + n + found.begin);
    return 0;
}
