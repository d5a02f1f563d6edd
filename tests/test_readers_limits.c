#define _POSIX_C_SOURCE 200809L
/* The readers' memory limit (examples/data): a header that announces more
 * than the limit is refused before its data is decompressed or allocated,
 * decompression and reading stop at the limit, devices are refused; and
 * the picture's size arithmetic never wraps. Peak memory is measured with
 * the kernel's high-water mark (VmHWM, reset through clear_refs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "exdata.h"
#include "fixture.h"
#include "io_util.h"

#define MIB ((size_t)1 << 20)

/* ---- helpers ----------------------------------------------------------- */

static size_t status_kib(const char *key)
{
    char line[256];
    size_t v = 0, n = strlen(key);
    FILE *f = fopen("/proc/self/status", "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, key, n) == 0)
            v = (size_t)strtoull(line + n, NULL, 10);
    fclose(f);
    return v;
}

/* Resets the peak resident size to the current one; returns it (KiB). */
static size_t reset_peak(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    assert_non_null(f);
    assert_true(fputs("5", f) >= 0);
    assert_int_equal(fclose(f), 0);
    return status_kib("VmHWM:");
}

/* How far the peak rose since reset_peak returned `base` (MiB). */
static double peak_rise_mib(size_t base)
{
    size_t hwm = status_kib("VmHWM:");
    return hwm > base ? (double)(hwm - base) / 1024.0 : 0.0;
}

/* A gzip stream of `head` followed by `zeros` zero bytes, compressed in
 * pieces so that no buffer of the uncompressed size exists; the
 * fixture's. */
static uint8_t *gzip_zeros(void **state, const uint8_t *head, size_t head_len,
                           size_t zeros, size_t *out_len)
{
    static const uint8_t block[1 << 16];
    size_t cap = zeros / 500 + head_len + 4096;
    uint8_t *out = fx_alloc(state, cap);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(
        deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    zs.next_in = (Bytef *)(uintptr_t)head;
    zs.avail_in = (uInt)head_len;
    assert_int_equal(deflate(&zs, Z_NO_FLUSH), Z_OK);
    while (zeros > 0) {
        size_t n = zeros < sizeof block ? zeros : sizeof block;
        zs.next_in = (Bytef *)(uintptr_t)block;
        zs.avail_in = (uInt)n;
        assert_int_equal(deflate(&zs, Z_NO_FLUSH), Z_OK);
        assert_int_equal(zs.avail_in, 0);
        zeros -= n;
    }
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    *out_len = cap - zs.avail_out;
    deflateEnd(&zs);
    return out;
}

static size_t idx_header(uint8_t *h, uint32_t n, uint32_t rows_h, uint32_t w)
{
    const uint32_t dims[3] = {n, rows_h, w};
    h[0] = 0;
    h[1] = 0;
    h[2] = 0x08; /* uint8 */
    h[3] = 3;
    for (int i = 0; i < 3; i++)
        for (int b = 0; b < 4; b++)
            h[4 + 4 * i + b] = (uint8_t)(dims[i] >> (24 - 8 * b));
    return 16;
}

/* Parse must fail as over the limit, naming the file and `needle`. */
static void expect_over_limit(const uint8_t *p, size_t n, const char *name,
                              size_t limit, const char *needle)
{
    exdata_options o;
    exdata d;
    exdata_error e;
    exdata_options_init(&o);
    o.max_memory = limit;
    memset(&e, 0, sizeof e);
    if (exdata_parse(p, n, name, &o, &d, &e) == 0) {
        exdata_free(&d); /* the test fails, leaking nothing */
        fail_msg("%s parsed under a %zu-byte limit", name, limit);
    }
    if (e.kind != EXDATA_ERR_MEMORY_LIMIT || strstr(e.msg, needle) == NULL)
        fail_msg("%s: '%s' (kind %d) is not a limit error with '%s'", name,
                 e.msg, e.kind, needle);
    assert_null(d.values);
}

/* ---- the default ------------------------------------------------------- */

static void default_is_half_the_physical_memory(void **state)
{
    char line[256];
    size_t total_kib = 0, def = exdata_default_max_memory();
    FILE *f = fopen("/proc/meminfo", "r");
    (void)state;
    assert_non_null(f);
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "MemTotal:", 9) == 0)
            total_kib = (size_t)strtoull(line + 9, NULL, 10);
    fclose(f);
    assert_true(total_kib > 0);
    /* No address-space limit here (ulimit -v): half of MemTotal, to the
     * page. */
    assert_true(def <= total_kib / 2 * 1024 + 4096);
    assert_true(def + 8192 >= total_kib / 2 * 1024);
    {
        exdata_options o;
        exdata_options_init(&o);
        assert_int_equal(o.max_memory, 0); /* 0 means the default */
    }
}

/* ---- announced sizes --------------------------------------------------- */

static void gzip_idx_refused_by_its_header(void **state)
{
    /* 8 MiB of pixels, 32 MiB of values: an 8 KiB file. Refused from its
     * first bytes, without inflating the rest. */
    uint8_t h[16];
    size_t z, base;
    uint8_t *gz =
        gzip_zeros(state, h, idx_header(h, 8192, 32, 32), 8 * MIB, &z);
    assert_true(z < MIB / 32);
    base = reset_peak();
    expect_over_limit(gz, z, "pixels.idx.gz", 2 * MIB,
                      "the IDX header announces 8192 x 1024 values: reading "
                      "them needs 40.0 MiB");
    assert_true(peak_rise_mib(base) < 4.0);
    /* The same file fits a limit above its 40 MiB. */
    {
        exdata_options o;
        exdata d;
        exdata_error e;
        exdata_options_init(&o);
        o.max_memory = 41 * MIB;
        assert_int_equal(exdata_parse(gz, z, "pixels.idx.gz", &o, &d, &e), 0);
        const size_t rows = d.rows, cols = d.cols;
        exdata_free(&d); /* before the checks: a failed one leaks nothing */
        assert_int_equal(rows, 8192);
        assert_int_equal(cols, 1024);
    }
}

static void lying_header_refused_before_allocation(void **state)
{
    /* The header announces 60000 x 100 x 100 pixels; 10 bytes follow. */
    uint8_t h[16 + 10] = {0};
    size_t z;
    uint8_t *gz;
    idx_header(h, 60000, 100, 100);
    gz = gzip_zeros(state, h, sizeof h, 0, &z);
    expect_over_limit(gz, z, "lie.idx.gz", 64 * MIB,
                      "announces 60000 x 10000 values");
    fx_drop(state, gz);
    /* Under a limit that allows it, the truth comes out. */
    {
        exdata d;
        exdata_error e;
        exdata_options o;
        exdata_options_init(&o);
        o.max_memory = (size_t)4 << 30;
        gz = gzip_zeros(state, h, sizeof h, 0, &z);
        if (exdata_parse(gz, z, "lie.idx.gz", &o, &d, &e) == 0) {
            exdata_free(&d); /* the test fails, leaking nothing */
            fail_msg("lie.idx.gz parsed");
        }
        assert_int_equal(e.kind, EXDATA_ERR_INPUT);
        assert_non_null(strstr(e.msg, "truncated"));
    }
}

static void npy_header_counts_too(void **state)
{
    static const char dict[] = "{'descr': '|u1', 'fortran_order': False, "
                               "'shape': (4096, 4096), }";
    uint8_t h[128];
    size_t hl = sizeof dict - 1, z;
    uint8_t *gz;
    memcpy(h, "\x93NUMPY\x01\x00", 8);
    h[8] = (uint8_t)(hl + 1);
    h[9] = 0;
    memcpy(h + 10, dict, hl);
    h[10 + hl] = '\n';
    gz = gzip_zeros(state, h, 11 + hl, 16 * MIB, &z);
    expect_over_limit(gz, z, "a.npy.gz", 32 * MIB,
                      "the array header announces 4096 x 4096 values: "
                      "reading them needs 80.0 MiB");
}

static void plain_file_values_count(void **state)
{
    /* 1 MiB of pixels become 4 MiB of values: 5 MiB in all. */
    size_t n = 16 + MIB;
    uint8_t *p = fx_alloc(state, n);
    exdata d;
    exdata_error e;
    exdata_options o;
    idx_header(p, 1024, 32, 32);
    expect_over_limit(p, n, "plain.idx", 5 * MIB, "needs 5.0 MiB");
    exdata_options_init(&o);
    o.max_memory = 5 * MIB + 16;
    assert_int_equal(exdata_parse(p, n, "plain.idx", &o, &d, &e), 0);
    const size_t rows = d.rows;
    exdata_free(&d); /* before the check: a failed one leaks nothing */
    assert_int_equal(rows, 1024);
}

/* ---- streams without an announcement ---------------------------------- */

static void gzip_bomb_stops_at_the_limit(void **state)
{
    /* 32 MiB of zeros as a CSV: nothing announces the size. */
    size_t z, base;
    uint8_t *gz = gzip_zeros(state, (const uint8_t *)"1,2\n", 4, 32 * MIB, &z);
    base = reset_peak();
    expect_over_limit(gz, z, "bomb.csv.gz", MIB,
                      "decompresses to more than the");
    assert_true(peak_rise_mib(base) < 8.0);
}

static void csv_values_stop_at_the_limit(void **state)
{
    /* 256 Ki fields "1," need 1 MiB of values beside the 512 KiB text. */
    size_t n = (size_t)1 << 19;
    char *text = fx_alloc(state, n);
    for (size_t i = 0; i < n; i += 2) {
        text[i] = '1';
        text[i + 1] = i + 2 == n ? '\n' : ',';
    }
    expect_over_limit((const uint8_t *)text, n, "wide.csv", MIB,
                      "need more than the memory limit of 1.0 MiB");
}

static void read_file_refuses_devices_and_stops_pipes(void **state)
{
    exdata d;
    exdata_error e;
    exdata_options o;
    int fds[2];
    pid_t child;
    char path[64];
    (void)state;
    assert_int_not_equal(exdata_load("/dev/zero", NULL, &d, &e), 0);
    assert_non_null(strstr(e.msg, "/dev/zero: not a regular file or a pipe"));

    /* A pipe that would never end: read up to the limit, then refused. */
    assert_int_equal(pipe(fds), 0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        static const char zeros[4096];
        close(fds[0]);
        while (write(fds[1], zeros, sizeof zeros) > 0)
            ;
        _exit(0);
    }
    close(fds[1]);
    snprintf(path, sizeof path, "/dev/fd/%d", fds[0]);
    exdata_options_init(&o);
    o.max_memory = MIB;
    assert_int_not_equal(exdata_load(path, &o, &d, &e), 0);
    assert_int_equal(e.kind, EXDATA_ERR_MEMORY_LIMIT);
    assert_non_null(strstr(e.msg, "larger than the memory limit of 1.0 MiB"));
    close(fds[0]); /* the writer gets EPIPE and ends */
    assert_int_equal(waitpid(child, NULL, 0), child);
}

static void large_file_refused_by_its_size(void **state)
{
    /* A sparse 1 GiB file: refused from its size, nothing read. In the
     * fixture's directory, removed pass or fail. */
    char *dir = fx_tempdir(state);
    char *path = fx_join(state, dir, "limits");
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    exdata d;
    exdata_error e;
    exdata_options o;
    size_t base;
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)1 << 30), 0);
    close(fd);
    exdata_options_init(&o);
    o.max_memory = 64 * MIB;
    base = reset_peak();
    assert_int_not_equal(exdata_load(path, &o, &d, &e), 0);
    assert_true(peak_rise_mib(base) < 4.0);
    assert_int_equal(e.kind, EXDATA_ERR_MEMORY_LIMIT);
    assert_non_null(strstr(e.msg, "larger than the memory limit of 64.0 MiB"));
}

/* ---- picture sizes ----------------------------------------------------- */

static void picture_sizes_do_not_wrap(void **state)
{
    /* 4 x (2^62 - 1) + 5 is 1 modulo 2^64: a wrapped cell of one pixel. */
    static const float W[2 * 16];
    const char *path = "/tmp/dfsae_limits_never.png";
    exdata_error e;
    (void)state;
    unlink(path);
    assert_int_equal(exdata_write_tiles_png(path, W, 2, 16, 4, 4, 0,
                                            ((size_t)1 << 62) - 1, 5, NULL,
                                            NULL, &e),
                     -1);
    assert_non_null(strstr(e.msg, "picture too large"));
    assert_int_equal(exdata_write_tiles_png(path, W, 2, 16, 4, 4, 0, 1,
                                            SIZE_MAX, NULL, NULL, &e),
                     -1);
    assert_int_equal(exdata_write_tiles_png(path, W, 2, 16, 4, 4, 0, 1,
                                            (size_t)1 << 62, NULL, NULL, &e),
                     -1);
    assert_int_equal(access(path, F_OK), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_is_half_the_physical_memory),
        FIXTURE_TEST(gzip_idx_refused_by_its_header),
        FIXTURE_TEST(lying_header_refused_before_allocation),
        FIXTURE_TEST(npy_header_counts_too),
        FIXTURE_TEST(plain_file_values_count),
        FIXTURE_TEST(gzip_bomb_stops_at_the_limit),
        FIXTURE_TEST(csv_values_stop_at_the_limit),
        cmocka_unit_test(read_file_refuses_devices_and_stops_pipes),
        FIXTURE_TEST(large_file_refused_by_its_size),
        cmocka_unit_test(picture_sizes_do_not_wrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
