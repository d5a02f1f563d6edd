/* Atomic saves (white-box: failing system calls are substituted through
 * dfsae__file_ops): a save that fails returns DFSAE_ERR_IO, leaves the
 * existing file byte-identical and removes its temporary. Also the
 * locale-free number text and the header pre-scan. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/io.h"
#include "fixture.h"
#include "io_util.h"

/* Fails the write that would take the file past `limit` bytes. */
static size_t written_so_far, write_limit;

static long limited_write(int fd, const void *p, size_t n)
{
    if (written_so_far + n > write_limit) {
        errno = ENOSPC;
        return -1;
    }
    long got = dfsae__posix_file_ops.write(fd, p, n);
    if (got > 0)
        written_so_far += (size_t)got;
    return got;
}

static long short_write(int fd, const void *p, size_t n)
{
    /* One byte at a time: a save must loop over short writes. */
    return dfsae__posix_file_ops.write(fd, p, n > 0 ? 1 : 0);
}

static int failing_fsync(int fd)
{
    (void)fd;
    errno = EIO;
    return -1;
}

static int failing_rename(int dirfd, const char *a, const char *b)
{
    (void)dirfd;
    (void)a;
    (void)b;
    errno = EXDEV;
    return -1;
}

/* A temporary directory holding a saved model (its bytes kept), and the
 * model and optimizer to save over it, all the target's (state): removed
 * and freed in teardown pass or fail. */
typedef struct target {
    char *dir, *path;
    unsigned char *original;
    size_t original_len;
    dfsae_model *m;
    dfsae_optimizer *o;
} target;

static target *open_target(void **state)
{
    target *f = fx_alloc(state, sizeof *f);
    f->dir = fx_tempdir(state);
    f->path = fx_join(state, f->dir, "model.safetensors");
    dfsae_model *old = fx_model(state, 4, 3, 1);
    assert_int_equal(dfsae_model_save(old, NULL, f->path), DFSAE_OK);
    fx_drop(state, old);
    f->original = fx_keep(state, io_read_file(f->path, &f->original_len));
    assert_non_null(f->original);
    f->m = fx_model(state, 4, 3, 2);
    f->o = fx_optimizer(state, DFSAE_ADAM, 15);
    return f;
}

static void expect_untouched(void **state, const target *f)
{
    size_t len = 0;
    unsigned char *now = fx_keep(state, io_read_file(f->path, &len));
    assert_non_null(now);
    assert_int_equal(len, f->original_len);
    assert_memory_equal(now, f->original, len);
    fx_drop(state, now);
    assert_int_equal(io_count_entries(f->dir), 1); /* temporary removed */
}

static void test_write_error_at_every_point(void **state)
{
    target *f = open_target(state);
    size_t total = 0;
    dfsae_model_save_buffer(f->m, f->o, NULL, 0, &total);
    const dfsae__file_ops ops = {limited_write, fsync,
                                 dfsae__posix_file_ops.rename};
    /* Fail the header write, and writes inside each tensor. */
    size_t limits[] = {0, 7, 100, total - 4 * 45, total - 1};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; ++i) {
        written_so_far = 0;
        write_limit = limits[i];
        int st = dfsae__save_with(f->m, f->o, f->path, &ops);
        assert_int_equal(st, DFSAE_ERR_IO);
        assert_non_null(strstr(dfsae_model_last_error(f->m), "write"));
        assert_non_null(strstr(dfsae_model_last_error(f->m), "No space"));
        expect_untouched(state, f);
    }
    /* The control: the same seam with room for everything succeeds. */
    written_so_far = 0;
    write_limit = total;
    assert_int_equal(dfsae__save_with(f->m, f->o, f->path, &ops), DFSAE_OK);
    size_t len;
    fx_keep(state, io_read_file(f->path, &len));
    assert_int_equal(len, total);
}

static void test_fsync_error(void **state)
{
    target *f = open_target(state);
    const dfsae__file_ops ops = {dfsae__posix_file_ops.write, failing_fsync,
                                 dfsae__posix_file_ops.rename};
    assert_int_equal(dfsae__save_with(f->m, NULL, f->path, &ops), DFSAE_ERR_IO);
    assert_non_null(strstr(dfsae_model_last_error(f->m), "fsync"));
    expect_untouched(state, f);
}

static void test_rename_error(void **state)
{
    target *f = open_target(state);
    const dfsae__file_ops ops = {dfsae__posix_file_ops.write, fsync,
                                 failing_rename};
    assert_int_equal(dfsae__save_with(f->m, f->o, f->path, &ops), DFSAE_ERR_IO);
    assert_non_null(strstr(dfsae_model_last_error(f->m), "rename"));
    expect_untouched(state, f);
}

static void test_short_writes(void **state)
{
    target *f = open_target(state);
    const dfsae__file_ops ops = {short_write, fsync,
                                 dfsae__posix_file_ops.rename};
    assert_int_equal(dfsae__save_with(f->m, f->o, f->path, &ops), DFSAE_OK);
    dfsae_model **back = fx_model_slot(state);
    dfsae_optimizer **ob = fx_optimizer_slot(state);
    assert_int_equal(dfsae_model_load(f->path, NULL, back, ob, NULL, 0),
                     DFSAE_OK);
    assert_true(io_models_identical(f->m, *back));
}

/* Real failures, no seam: a missing directory, a directory as target. */
static void test_real_failures(void **state)
{
    target *f = open_target(state);
    char *missing = fx_join(state, f->dir, "no/such/dir/m.safetensors");
    assert_int_equal(dfsae_model_save(f->m, NULL, missing), DFSAE_ERR_IO);
    assert_non_null(strstr(dfsae_model_last_error(f->m), "temporary"));
    expect_untouched(state, f);

    char *sub = fx_join(state, f->dir, "sub");
    assert_int_equal(mkdir(sub, 0700), 0);
    char *marker = fx_join(state, sub, "keep");
    assert_int_equal(io_write_file(marker, "x", 1), 0);
    assert_int_equal(dfsae_model_save(f->m, NULL, sub), DFSAE_ERR_IO);
    assert_int_equal(io_count_entries(sub), 1);
    assert_int_equal(io_count_entries(f->dir), 2); /* file and sub */
}

/* A successful save keeps the replaced file's permission bits. */
static void test_keeps_mode(void **state)
{
    target *f = open_target(state);
    assert_int_equal(chmod(f->path, 0640), 0);
    assert_int_equal(dfsae_model_save(f->m, NULL, f->path), DFSAE_OK);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    dfsae_model **back = fx_model_slot(state);
    assert_int_equal(dfsae_model_load(f->path, NULL, back, NULL, NULL, 0),
                     DFSAE_OK);
    assert_true(io_models_identical(f->m, *back));
}

static void test_number_text(void **state)
{
    (void)state;
    const double values[] = {0.0,
                             1.0,
                             0.1,
                             1.0 / 3.0,
                             1e-6,
                             2.5e-300,
                             1.7976931348623157e308,
                             0.01,
                             4.9406564584124654e-324,
                             123456789.125};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; ++i) {
        char text[DFSAE__NUM_LEN];
        dfsae__format_double(text, values[i]);
        double back = -1.0;
        assert_true(dfsae__parse_double(text, &back));
        assert_memory_equal(&back, &values[i], sizeof back);
    }
    static const char *const bad[] = {"",   "inf",  "nan",   "1,5", " 1",
                                      "1 ", "0x10", "1e999", "+1",  ".5",
                                      "1.", "1e",   "--1",   "1e+"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        double v;
        if (dfsae__parse_double(bad[i], &v))
            fail_msg("\"%s\" parsed as %g", bad[i], v);
    }
    uint64_t u;
    assert_true(dfsae__parse_u64("18446744073709551615", &u));
    assert_true(u == UINT64_MAX);
    assert_false(dfsae__parse_u64("18446744073709551616", &u));
    assert_false(dfsae__parse_u64("-1", &u));
    assert_false(dfsae__parse_u64("", &u));
}

static void test_prescan(void **state)
{
    (void)state;
    char err[DFSAE_ERR_LEN];
    dfsae__json_size size;
    static const char *const good[] = {"{\"\xc3\xa9\":\"\xe2\x82\xac\"}",
                                       "{\"\xf0\x9f\x98\x80\":1}",
                                       "{\"a\\u0001\":\"\\\\u0000\"}"};
    for (size_t i = 0; i < 3; ++i)
        assert_int_equal(
            dfsae__json_prescan(good[i], strlen(good[i]), &size, err),
            DFSAE_OK);
    static const char *const bad[] = {
        "{\"\xc3\"}", "{\"\xe0\x80\x80\"}", "{\"\xf5\x80\x80\x80\"}",
        "{\"\x80\"}", "{\"a\\u0000\"}",     "{\t\x7f\x01}"};
    for (size_t i = 0; i < 6; ++i)
        assert_int_equal(
            dfsae__json_prescan(bad[i], strlen(bad[i]), &size, err),
            DFSAE_ERR_BAD_HEADER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(test_write_error_at_every_point),
        FIXTURE_TEST(test_fsync_error),
        FIXTURE_TEST(test_rename_error),
        FIXTURE_TEST(test_short_writes),
        FIXTURE_TEST(test_real_failures),
        FIXTURE_TEST(test_keeps_mode),
        cmocka_unit_test(test_number_text),
        cmocka_unit_test(test_prescan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
