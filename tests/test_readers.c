#define _POSIX_C_SOURCE 200809L
/* The data readers (examples/data): IDX, gzip, .npy, CSV, the .npy writer
 * and the prototype PNG. Valid files give exact values; every malformed
 * or truncated file gives an error that names the file and the problem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <png.h>
#include <zlib.h>

#include "exdata.h"
#include "fixture.h"
#include "io_util.h"

/* ---- helpers ----------------------------------------------------------- */

static void release_data(void *d)
{
    exdata_free(d);
    free(d);
}

/* A data set to parse into, freed (exdata_free) at teardown. Its fields
 * start as garbage, as on the stack, so a parse that leaves one unset
 * fails; all but the pointer, which teardown frees whatever happened. */
static exdata *new_data(void **state)
{
    exdata *d = malloc(sizeof *d);
    assert_non_null(d);
    memset(d, 0x5a, sizeof *d);
    d->values = NULL;
    return fx_keep_with(state, d, release_data);
}

static int parse(const void *p, size_t n, exdata *d, exdata_error *e)
{
    return exdata_parse(p, n, "in.dat", NULL, d, e);
}

/* Parsing must fail and the message must name the file and contain
 * `needle`. */
static void expect_error(const void *p, size_t n, const char *name,
                         const exdata_options *opt, const char *needle)
{
    exdata d;
    exdata_error e;
    memset(&d, 0x5a, sizeof d); /* what a failed parse must clear */
    memset(&e, 0, sizeof e);
    if (exdata_parse(p, n, name, opt, &d, &e) == 0) {
        exdata_free(&d); /* the test fails, leaking nothing */
        fail_msg("parsed, expected an error containing '%s'", needle);
    }
    if (strncmp(e.msg, name, strlen(name)) != 0 ||
        strstr(e.msg, needle) == NULL)
        fail_msg("message '%s' lacks '%s' or the name '%s'", e.msg, needle,
                 name);
    assert_null(d.values);
    assert_int_equal(d.rows, 0);
}

static size_t put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return 4;
}

/* IDX u8 file: n images of h x w with pixel (i, j) of image k = k+i+j. */
static size_t make_idx_u8(uint8_t *buf, uint32_t n, uint32_t h, uint32_t w)
{
    size_t o = 0;
    buf[o++] = 0;
    buf[o++] = 0;
    buf[o++] = 0x08;
    buf[o++] = 3;
    o += put_be32(buf + o, n);
    o += put_be32(buf + o, h);
    o += put_be32(buf + o, w);
    for (uint32_t k = 0; k < n; k++)
        for (uint32_t i = 0; i < h; i++)
            for (uint32_t j = 0; j < w; j++)
                buf[o++] = (uint8_t)(k + i + j);
    return o;
}

static size_t gzip_bytes(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(
        deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    deflateEnd(&zs);
    return zs.total_out;
}

/* .npy with a v1 or v2 preamble around `dict` and `data`. */
static size_t make_npy(uint8_t *buf, int version, const char *dict,
                       const void *data, size_t n)
{
    size_t dl = strlen(dict), o = 0;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (uint8_t)version;
    buf[7] = 0;
    if (version == 1) {
        buf[8] = (uint8_t)dl;
        buf[9] = (uint8_t)(dl >> 8);
        o = 10;
    } else {
        buf[8] = (uint8_t)dl;
        buf[9] = (uint8_t)(dl >> 8);
        buf[10] = 0;
        buf[11] = 0;
        o = 12;
    }
    memcpy(buf + o, dict, dl);
    o += dl;
    if (n > 0) /* data may be NULL for an empty payload */
        memcpy(buf + o, data, n);
    return o + n;
}

static uint8_t big[1 << 16];
static uint8_t big2[1 << 16];

/* ---- IDX --------------------------------------------------------------- */

static void idx_u8_scaled_with_image_shape(void **state)
{
    exdata *d = new_data(state);
    exdata_error e;
    size_t n = make_idx_u8(big, 3, 4, 5);
    assert_int_equal(parse(big, n, d, &e), 0);
    assert_int_equal(d->rows, 3);
    assert_int_equal(d->cols, 20);
    assert_int_equal(d->image_h, 4);
    assert_int_equal(d->image_w, 5);
    assert_int_equal(d->dtype, DFSAE_DTYPE_U8);
    /* image 2, pixel (3, 4): 2 + 3 + 4 = 9, scaled by 1/255 */
    assert_true(d->values[2 * 20 + 3 * 5 + 4] == (float)(9.0 / 255.0));
    exdata_free(d);
    assert_null(d->values);
}

static void idx_scale_none_keeps_bytes(void **state)
{
    exdata *d = new_data(state);
    exdata_error e;
    exdata_options o;
    size_t n = make_idx_u8(big, 2, 2, 2);
    exdata_options_init(&o);
    o.divide = 1.0;
    assert_int_equal(exdata_parse(big, n, "x", &o, d, &e), 0);
    assert_true(d->values[7] == 3.0f); /* image 1, (1, 1): 1 + 1 + 1 */
}

static void idx_f32_and_i16_big_endian(void **state)
{
    uint8_t b[64];
    exdata *d = new_data(state);
    exdata_error e;
    size_t o = 0;
    uint32_t u;
    float f = -1.5f;
    b[o++] = 0, b[o++] = 0, b[o++] = 0x0D, b[o++] = 2;
    o += put_be32(b + o, 1);
    o += put_be32(b + o, 2);
    memcpy(&u, &f, 4);
    o += put_be32(b + o, u);
    f = 3.25f;
    memcpy(&u, &f, 4);
    o += put_be32(b + o, u);
    assert_int_equal(parse(b, o, d, &e), 0);
    assert_int_equal(d->rows, 1);
    assert_int_equal(d->cols, 2);
    assert_int_equal(d->image_h, 0);
    assert_true(d->values[0] == -1.5f && d->values[1] == 3.25f);
    exdata_free(d);

    o = 0;
    b[o++] = 0, b[o++] = 0, b[o++] = 0x0B, b[o++] = 1;
    o += put_be32(b + o, 2);
    b[o++] = 0xFF, b[o++] = 0xFE; /* -2 */
    b[o++] = 0x01, b[o++] = 0x00; /* 256 */
    assert_int_equal(parse(b, o, d, &e), 0);
    assert_int_equal(d->rows, 2);
    assert_int_equal(d->cols, 1);
    assert_true(d->values[0] == -2.0f && d->values[1] == 256.0f);
}

static void idx_malformed(void **state)
{
    (void)state;
    uint8_t b[64];
    size_t n = make_idx_u8(big, 2, 3, 3);
    exdata_options o;
    exdata_options_init(&o);
    o.format = EXDATA_IDX;
    expect_error(big, 3, "a.idx", &o, "truncated IDX header");
    expect_error("\x01\x00\x08\x01", 4, "a.idx", &o, "not an IDX file");
    expect_error("\x00\x00\x07\x01\x00\x00\x00\x01\x00", 9, "a.idx", &o,
                 "unknown IDX element type 0x07");
    expect_error("\x00\x00\x08\x00", 4, "a.idx", &o, "0 dimensions");
    expect_error("\x00\x00\x08\x02\x00\x00\x00\x01", 8, "a.idx", &o,
                 "truncated IDX header");
    expect_error("\x00\x00\x08\x01\x00\x00\x00\x00", 8, "a.idx", &o,
                 "dimension 1 is 0");
    expect_error(big, n - 1, "a.idx", &o, "truncated");
    memcpy(b, big, 30);
    expect_error(big, 30, "a.idx", &o, "promises 18 bytes");
    big[n] = 7;
    expect_error(big, n + 1, "a.idx", &o, "1 unexpected bytes");
    /* 0xFFFFFFFF^4 elements overflow any size_t. */
    memcpy(b, "\x00\x00\x0E\x04", 4);
    memset(b + 4, 0xFF, 16);
    expect_error(b, 20, "a.idx", &o, "overflow");
}

static void idx_rejects_nan(void **state)
{
    (void)state;
    uint8_t b[16];
    size_t o = 0;
    b[o++] = 0, b[o++] = 0, b[o++] = 0x0D, b[o++] = 1;
    o += put_be32(b + o, 2);
    o += put_be32(b + o, 0x3F800000u); /* 1.0 */
    o += put_be32(b + o, 0x7FC00000u); /* NaN */
    expect_error(b, o, "nan.idx", NULL, "non-finite value at row 2");
}

/* ---- gzip -------------------------------------------------------------- */

static void gzip_matches_plain(void **state)
{
    exdata *a = new_data(state), *b = new_data(state);
    exdata_error e;
    size_t n = make_idx_u8(big, 5, 6, 7);
    size_t z = gzip_bytes(big, n, big2, sizeof big2);
    assert_int_equal(parse(big, n, a, &e), 0);
    assert_int_equal(exdata_parse(big2, z, "x.gz", NULL, b, &e), 0);
    assert_int_equal(a->rows, b->rows);
    assert_int_equal(a->cols, b->cols);
    assert_memory_equal(a->values, b->values,
                        a->rows * a->cols * sizeof(float));
}

static void gzip_bad_streams(void **state)
{
    size_t n = make_idx_u8(big, 5, 6, 7);
    size_t z = gzip_bytes(big, n, big2, sizeof big2);
    exdata_options o;
    expect_error(big2, z / 2, "t.gz", NULL, "truncated gzip stream");
    expect_error(big2, z - 1, "t.gz", NULL, "truncated gzip stream");
    big2[z] = 'x';
    big2[z + 1] = 'y';
    expect_error(big2, z + 2, "t.gz", NULL, "garbage after the gzip stream");
    big2[z / 2] ^= 0x55;
    big2[z / 2 + 1] ^= 0x55;
    {
        exdata *d = new_data(state);
        exdata_error e;
        /* A flipped byte is either corrupt data or a failed CRC. */
        assert_int_not_equal(exdata_parse(big2, z, "c.gz", NULL, d, &e), 0);
        assert_non_null(strstr(e.msg, "c.gz: "));
    }
    z = gzip_bytes(big, n, big2, sizeof big2);
    exdata_options_init(&o);
    o.max_memory = z + 100; /* 100 bytes left for the 222 decompressed */
    o.format = EXDATA_CSV;  /* announces no size: inflating hits it */
    expect_error(big2, z, "bomb.gz", &o,
                 "decompresses to more than the 100 bytes");
}

static void gzip_concatenated_members(void **state)
{
    /* A gzip file of two members decompresses to their concatenation:
     * here an IDX header in one member and its data in the other. */
    exdata *d = new_data(state);
    exdata_error e;
    size_t n = make_idx_u8(big, 2, 2, 2);
    size_t z1 = gzip_bytes(big, 16, big2, sizeof big2);
    size_t z2 = gzip_bytes(big + 16, n - 16, big2 + z1, sizeof big2 - z1);
    assert_int_equal(exdata_parse(big2, z1 + z2, "m.gz", NULL, d, &e), 0);
    assert_int_equal(d->rows, 2);
    assert_true(d->values[7] == (float)(3.0 / 255.0));
}

/* ---- .npy -------------------------------------------------------------- */

static void npy_v1_f4_and_v2_f8(void **state)
{
    const float f[6] = {1, 2, 3, 4, 5, -6.5f};
    const double g[2] = {0.25, -1e10};
    exdata *d = new_data(state);
    exdata_error e;
    size_t n;
    n = make_npy(big, 1,
                 "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), "
                 "}          \n",
                 f, sizeof f);
    assert_int_equal(parse(big, n, d, &e), 0);
    assert_int_equal(d->rows, 2);
    assert_int_equal(d->cols, 3);
    assert_memory_equal(d->values, f, sizeof f);
    exdata_free(d);
    n = make_npy(big, 2,
                 "{\"shape\": (2,), \"fortran_order\": False, \"descr\": "
                 "\"<f8\"}\n",
                 g, sizeof g);
    assert_int_equal(parse(big, n, d, &e), 0);
    assert_int_equal(d->rows, 2);
    assert_int_equal(d->cols, 1);
    assert_true(d->values[0] == 0.25f && d->values[1] == -1e10f);
}

static void npy_u8_3d_and_big_endian(void **state)
{
    uint8_t px[12];
    const uint8_t be[8] = {0x3F, 0x80, 0, 0, 0xC0, 0, 0, 0}; /* 1, -2 */
    exdata *d = new_data(state);
    exdata_error e;
    size_t n;
    for (int i = 0; i < 12; i++)
        px[i] = (uint8_t)(i * 20);
    n = make_npy(big, 1,
                 "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 2, "
                 "2), }\n",
                 px, sizeof px);
    assert_int_equal(parse(big, n, d, &e), 0);
    assert_int_equal(d->rows, 3);
    assert_int_equal(d->cols, 4);
    assert_int_equal(d->image_h, 2);
    assert_int_equal(d->image_w, 2);
    assert_true(d->values[11] == (float)(220.0 / 255.0));
    exdata_free(d);
    n = make_npy(big, 1,
                 "{'descr': '>f4', 'fortran_order': False, 'shape': (1, 2)}",
                 be, sizeof be);
    assert_int_equal(parse(big, n, d, &e), 0);
    assert_true(d->values[0] == 1.0f && d->values[1] == -2.0f);
}

static void npy_malformed(void **state)
{
    (void)state;
    const float f[4] = {1, 2, 3, 4};
    size_t n;
    expect_error("\x93NUMPX\x01\x00\x00\x00", 10, "a.npy", NULL,
                 "not a .npy file");
    n = make_npy(big, 4, "{}", NULL, 0);
    expect_error(big, n, "a.npy", NULL, "unsupported .npy version 4");
    n = make_npy(big, 1,
                 "{'descr': '<i8', 'fortran_order': False, 'shape': (1,)}", f,
                 8);
    expect_error(big, n, "a.npy", NULL, "unsupported dtype '<i8'");
    n = make_npy(big, 1,
                 "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2)}", f,
                 sizeof f);
    expect_error(big, n, "a.npy", NULL, "Fortran-order");
    n = make_npy(big, 1, "{'descr': '<f4', 'shape': (2, 2)}", f, sizeof f);
    expect_error(big, n, "a.npy", NULL, "missing");
    n = make_npy(big, 1,
                 "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, "
                 "'shape': (4,)}",
                 f, sizeof f);
    expect_error(big, n, "a.npy", NULL, "duplicate key 'descr'");
    n = make_npy(big, 1,
                 "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2)}", f,
                 sizeof f);
    expect_error(big, n - 1, "a.npy", NULL, "promises 16 bytes");
    big[n] = 0;
    expect_error(big, n + 1, "a.npy", NULL, "1 unexpected bytes");
    expect_error(big, 40, "a.npy", NULL, "truncated .npy header");
    n = make_npy(big, 1,
                 "{'descr': '<f4', 'fortran_order': False, 'shape': ()}", f, 4);
    expect_error(big, n, "a.npy", NULL, "0-d array");
    n = make_npy(big, 1,
                 "{'descr': '<f4', 'fortran_order': False, 'shape': "
                 "(99999999999999999999999,)}",
                 f, 4);
    expect_error(big, n, "a.npy", NULL, "overflows");
    n = make_npy(big, 1,
                 "{'descr': '<f4', 'fortran_order': False, 'shape': "
                 "(4294967296, 4294967296, 4294967296)}",
                 f, 4);
    expect_error(big, n, "a.npy", NULL, "overflows");
    n = make_npy(big, 1,
                 "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), "
                 "'extra': 1}",
                 f, sizeof f);
    expect_error(big, n, "a.npy", NULL, "unknown key 'extra'");
    n = make_npy(big, 1,
                 "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': "
                 "(4,)}",
                 f, sizeof f);
    expect_error(big, n, "a.npy", NULL, "structured dtypes");
}

/* ---- CSV --------------------------------------------------------------- */

static void csv_variants(void **state)
{
    static const char *const ok[] = {
        "1,2,3\n4,5,6\n",
        "a,b,c\r\n1,2,3\r\n4,5,6\r\n",
        "\xEF\xBB\xBF# comment\n\n 1 , 2 ,3\n4,5,\"6\"",
        "1 2 3\n  4\t5   6  \n\n",
        "x;y;z\n1;2;3\n4;5;6\n",
        "1e0,2.0,3\n0.4e1,+5,6",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        exdata *d = new_data(state);
        exdata_error e;
        if (exdata_parse(ok[i], strlen(ok[i]), "t.csv", NULL, d, &e) != 0)
            fail_msg("case %zu: %s", i, e.msg);
        assert_int_equal(d->rows, 2);
        assert_int_equal(d->cols, 3);
        for (int j = 0; j < 6; j++)
            if (d->values[j] != (float)(j + 1))
                fail_msg("case %zu value %d is %g", i, j, (double)d->values[j]);
        exdata_free(d);
    }
}

static void csv_scaling_and_forced_header(void **state)
{
    exdata *d = new_data(state);
    exdata_error e;
    exdata_options o;
    exdata_options_init(&o);
    o.divide = 255;
    o.csv_header = 1;
    assert_int_equal(
        exdata_parse("9,9\n0,255\n51,102\n", 17, "s.csv", &o, d, &e), 0);
    assert_int_equal(d->rows, 2);
    assert_true(d->values[1] == 1.0f && d->values[2] == 0.2f);
}

static void csv_malformed(void **state)
{
    (void)state;
    exdata_options o;
    expect_error("1,2\n3\n", 6, "r.csv", NULL,
                 "line 2 has 1 fields, expected 2");
    expect_error("1,2\n3,x4\n", 9, "r.csv", NULL,
                 "line 2, column 2: 'x4' is not a number");
    expect_error("1,2\n3,\n", 7, "r.csv", NULL,
                 "line 2, column 2: '' is not a number");
    expect_error("1,nan\n", 6, "r.csv", NULL, "not finite");
    expect_error("1,1e39\n", 7, "r.csv", NULL, "beyond float32's range");
    expect_error("", 0, "r.csv", NULL, "no data rows");
    expect_error("a,b\n# only a header\n", 20, "r.csv", NULL, "no data rows");
    expect_error("1,2\n3,\0004\n", 9, "r.csv", NULL, "NUL byte on line 2");
    exdata_options_init(&o);
    o.csv_header = 0;
    expect_error("a,b\n1,2\n", 8, "r.csv", &o,
                 "line 1, column 1: 'a' is not a number");
    o.format = EXDATA_CSV;
    o.divide = -1;
    expect_error("1\n", 2, "r.csv", &o, "not positive");
}

/* ---- files, the writer, the picture ------------------------------------ */

/* Frees a png_image read half way (a failed check between begin and
 * finish), or not at all. */
static void release_png(void *img)
{
    png_image_free(img);
    free(img);
}

static void file_errors_name_the_path(void **state)
{
    exdata *d = new_data(state);
    exdata_error e;
    assert_int_equal(exdata_load("/nonexistent/dir/x.npy", NULL, d, &e), -1);
    assert_non_null(strstr(e.msg, "/nonexistent/dir/x.npy: cannot open"));
}

/* A path in a temporary directory that teardown removes. */
static char *temp_path(void **state, const char *name)
{
    return fx_join(state, fx_tempdir(state), name);
}

static void npy_writer_round_trip(void **state)
{
    char *path = temp_path(state, "v.npy");
    float v[15];
    exdata *d = new_data(state);
    exdata_error e;
    FILE *f;
    long size;
    for (int i = 0; i < 15; i++)
        v[i] = (float)i * 0.5f - 3.0f;
    assert_int_equal(exdata_write_npy(path, v, 5, 3, &e), 0);
    assert_int_equal(exdata_load(path, NULL, d, &e), 0);
    assert_int_equal(d->rows, 5);
    assert_int_equal(d->cols, 3);
    assert_memory_equal(d->values, v, sizeof v);
    exdata_free(d);
    /* numpy's layout: the header pads the data to a 64-byte boundary. */
    f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fclose(f);
    assert_int_equal(size, 128 + 60); /* 10 + 60-char dict, padded */
    assert_int_equal(exdata_write_npy("/nonexistent/dir/f.npy", v, 5, 3, &e),
                     -1);
    assert_non_null(strstr(e.msg, "/nonexistent/dir/f.npy: "));
}

static void png_tiles_size_and_colours(void **state)
{
    /* Two 2x3 tiles: tile 0 has -1 at (0,0), +1 at (0,1), 0 elsewhere;
     * tile 1 is +0.5 everywhere (its own scale: full blue). */
    float W[12] = {-1, 1, 0, 0, 0, 0, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f};
    char *path = temp_path(state, "tiles.png");
    size_t w, h;
    exdata_error e;
    png_image *img = fx_keep_with(state, calloc(1, sizeof *img), release_png);
    uint8_t *px;
    assert_non_null(img);
    assert_int_equal(
        exdata_write_tiles_png(path, W, 2, 6, 2, 3, 2, 2, 1, &w, &h, &e), 0);
    /* 2 tiles of 3*2 px + 3 gaps wide; 1 tile of 2*2 px + 2 gaps high. */
    assert_int_equal(w, 2 * 6 + 3);
    assert_int_equal(h, 4 + 2);
    img->version = PNG_IMAGE_VERSION;
    assert_true(png_image_begin_read_from_file(img, path));
    assert_int_equal(img->width, w);
    assert_int_equal(img->height, h);
    img->format = PNG_FORMAT_RGB;
    px = fx_alloc(state, PNG_IMAGE_SIZE(*img));
    assert_true(png_image_finish_read(img, NULL, px, 0, NULL));
#define PX(x, y) (px + 3 * ((size_t)(y)*w + (size_t)(x)))
    assert_memory_equal(PX(0, 0), "\x80\x80\x80", 3); /* border */
    assert_memory_equal(PX(1, 1), "\xff\x00\x00", 3); /* -1: red */
    assert_memory_equal(PX(2, 2), "\xff\x00\x00", 3); /* zoomed */
    assert_memory_equal(PX(3, 1), "\x00\x00\xff", 3); /* +1: blue */
    assert_memory_equal(PX(5, 1), "\xff\xff\xff", 3); /* 0: white */
    assert_memory_equal(PX(8, 3), "\x00\x00\xff", 3); /* tile 1 */
    assert_int_equal(
        exdata_write_tiles_png(path, W, 2, 6, 4, 4, 0, 1, 0, NULL, NULL, &e),
        -1);
    assert_non_null(strstr(e.msg, "does not match"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(idx_u8_scaled_with_image_shape),
        FIXTURE_TEST(idx_scale_none_keeps_bytes),
        FIXTURE_TEST(idx_f32_and_i16_big_endian),
        cmocka_unit_test(idx_malformed),
        cmocka_unit_test(idx_rejects_nan),
        FIXTURE_TEST(gzip_matches_plain),
        FIXTURE_TEST(gzip_bad_streams),
        FIXTURE_TEST(gzip_concatenated_members),
        FIXTURE_TEST(npy_v1_f4_and_v2_f8),
        FIXTURE_TEST(npy_u8_3d_and_big_endian),
        cmocka_unit_test(npy_malformed),
        FIXTURE_TEST(csv_variants),
        FIXTURE_TEST(csv_scaling_and_forced_header),
        cmocka_unit_test(csv_malformed),
        FIXTURE_TEST(file_errors_name_the_path),
        FIXTURE_TEST(npy_writer_round_trip),
        FIXTURE_TEST(png_tiles_size_and_colours),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
