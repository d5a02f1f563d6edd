/* What a save or load meets on the file system (white-box where a crash
 * must be staged through dfsae__file_ops): targets that are not regular
 * files, FIFOs that would block a read, temporaries left by writers that
 * died, the file size limit, and names as long as NAME_MAX. Work that can
 * hang or die runs in a forked child under an alarm. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/io.h"
#include "fixture.h"
#include "io_util.h"

/* A temporary directory, the target's path in it and a model to save,
 * all the files's (state): removed and freed in teardown pass or fail. */
typedef struct files {
    char *dir, *path;
    dfsae_model *m;
} files;

static files *open_files(void **state)
{
    files *f = fx_alloc(state, sizeof *f);
    f->dir = fx_tempdir(state);
    f->path = fx_join(state, f->dir, "model.safetensors");
    f->m = fx_model(state, 16, 16, 2);
    return f;
}

/* Runs fn in a child killed after `seconds`; returns its exit code, or
 * 128 + the signal that ended it. */
static int in_child(int (*fn)(void *), void *arg, unsigned seconds)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(seconds);
        _exit(fn(arg));
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void expect_only(const char *dir, int entries)
{
    int n = io_count_entries(dir);
    if (n != entries)
        fail_msg("%s holds %d entries, expected %d", dir, n, entries);
}

/* ---- 5: a save replaces only a regular file (or a symbolic link) ---- */

static void test_save_refuses_fifo(void **state)
{
    files *f = open_files(state);
    assert_int_equal(mkfifo(f->path, 0600), 0);
    assert_int_equal(dfsae_model_save(f->m, NULL, f->path), DFSAE_ERR_IO);
    assert_non_null(strstr(dfsae_model_last_error(f->m), "not a regular file"));
    struct stat st;
    assert_int_equal(lstat(f->path, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    expect_only(f->dir, 1); /* no temporary left */
}

static void test_save_refuses_directory(void **state)
{
    files *f = open_files(state);
    assert_int_equal(mkdir(f->path, 0700), 0);
    assert_int_equal(dfsae_model_save(f->m, NULL, f->path), DFSAE_ERR_IO);
    assert_non_null(strstr(dfsae_model_last_error(f->m), "not a regular file"));
    expect_only(f->dir, 1);
}

/* Documented behaviour: the link is replaced by the file, not followed. */
static void test_save_replaces_symlink(void **state)
{
    files *f = open_files(state);
    char *real = fx_join(state, f->dir, "real");
    assert_int_equal(io_write_file(real, "keep", 4), 0);
    assert_int_equal(symlink("real", f->path), 0);
    assert_int_equal(dfsae_model_save(f->m, NULL, f->path), DFSAE_OK);
    struct stat st;
    assert_int_equal(lstat(f->path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    size_t len;
    unsigned char *kept = fx_keep(state, io_read_file(real, &len));
    assert_int_equal(len, 4);
    assert_memory_equal(kept, "keep", 4);
    expect_only(f->dir, 2);
}

/* ---- 6: a load never blocks on a FIFO ------------------------------- */

static int load_fifo(void *arg)
{
    const char *path = arg;
    dfsae_model *m = NULL;
    char err[DFSAE_ERROR_MESSAGE_SIZE];
    int st = dfsae_model_load(path, NULL, &m, NULL, err, sizeof err);
    if (st != DFSAE_ERR_IO || strstr(err, "not a regular file") == NULL)
        return 1;
    dfsae_model_create(16, 16, 1, NULL, &m);
    st = dfsae_model_load_into(m, NULL, path);
    int bad = st != DFSAE_ERR_IO ||
              strstr(dfsae_model_last_error(m), "not a regular file") == NULL;
    dfsae_model_free(m);
    return bad;
}

static void test_load_refuses_fifo(void **state)
{
    files *f = open_files(state);
    assert_int_equal(mkfifo(f->path, 0600), 0);
    int rc = in_child(load_fifo, f->path, 10);
    if (rc != 0)
        fail_msg("loading a FIFO: child %s %d", rc > 128 ? "signal" : "exit",
                 rc > 128 ? rc - 128 : rc);
}

/* ---- 7: temporaries of dead writers; the file size limit ------------ */

static size_t dying_after;

/* Writes a little of the file, then dies as kill -9 would. */
static long dying_write(int fd, const void *p, size_t n)
{
    if (dying_after == 0)
        raise(SIGKILL);
    size_t k = n < dying_after ? n : dying_after;
    dying_after -= k;
    return dfsae__posix_file_ops.write(fd, p, k);
}

static int crash_saving(void *arg)
{
    const files *f = arg;
    const dfsae__file_ops ops = {dying_write, fsync,
                                 dfsae__posix_file_ops.rename};
    dying_after = 100;
    (void)dfsae__save_with(f->m, NULL, f->path, &ops);
    return 0; /* not reached */
}

static void test_stale_temporaries_removed(void **state)
{
    files *f = open_files(state);
    assert_int_equal(dfsae_model_save(f->m, NULL, f->path), DFSAE_OK);
    /* Neighbours that are not this target's temporaries stay. */
    char *other = fx_join(state, f->dir, "model.safetensors.bak");
    assert_int_equal(io_write_file(other, "x", 1), 0);
    char *other_target = fx_join(state, f->dir, "other.safetensors");
    for (int crash = 0; crash < 3; ++crash)
        assert_int_equal(in_child(crash_saving, f, 10), 128 + SIGKILL);
    files g = *f;
    g.path = other_target;
    assert_int_equal(in_child(crash_saving, &g, 10), 128 + SIGKILL);
    /* target, .bak, one temporary each: every crashed save removed the
     * one before it */
    expect_only(f->dir, 4);

    assert_int_equal(dfsae_model_save(f->m, NULL, f->path), DFSAE_OK);
    expect_only(f->dir, 3); /* other.safetensors's temporary is not ours */
    assert_int_equal(dfsae_model_save(f->m, NULL, other_target), DFSAE_OK);
    expect_only(f->dir, 3);
    dfsae_model **back = fx_model_slot(state);
    assert_int_equal(dfsae_model_load(f->path, NULL, back, NULL, NULL, 0),
                     DFSAE_OK);
    assert_true(io_models_identical(f->m, *back));
}

/* A writer that pauses inside its save until told to go on. */
static int pause_ready[2], pause_go[2];

static long pausing_write(int fd, const void *p, size_t n)
{
    static int paused;
    if (!paused) {
        paused = 1;
        char c = 'r';
        if (write(pause_ready[1], &c, 1) != 1 || read(pause_go[0], &c, 1) != 1)
            return -1;
    }
    return dfsae__posix_file_ops.write(fd, p, n);
}

static int save_with_pause(void *arg)
{
    const files *f = arg;
    const dfsae__file_ops ops = {pausing_write, fsync,
                                 dfsae__posix_file_ops.rename};
    dfsae_model *mine = NULL;
    dfsae_model_create(16, 16, 99, NULL, &mine);
    int st = dfsae__save_with(mine, NULL, f->path, &ops);
    dfsae_model_free(mine);
    return st == DFSAE_OK ? 0 : 1;
}

static void test_live_temporary_kept(void **state)
{
    files *f = open_files(state);
    assert_int_equal(pipe(pause_ready), 0);
    assert_int_equal(pipe(pause_go), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(20);
        _exit(save_with_pause(f));
    }
    char c;
    assert_int_equal(read(pause_ready[0], &c, 1), 1);
    expect_only(f->dir, 1); /* the child's temporary */
    assert_int_equal(dfsae_model_save(f->m, NULL, f->path), DFSAE_OK);
    expect_only(f->dir, 2); /* ours in place, the child's still there */
    assert_int_equal(write(pause_go[1], "g", 1), 1);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    expect_only(f->dir, 1);
    dfsae_model **back = fx_model_slot(state);
    assert_int_equal(dfsae_model_load(f->path, NULL, back, NULL, NULL, 0),
                     DFSAE_OK);
    dfsae_model *child = fx_model(state, 16, 16, 99);
    assert_true(io_models_identical(child, *back)); /* the child renamed last */
    for (int i = 0; i < 2; ++i) {
        close(pause_ready[i]);
        close(pause_go[i]);
    }
}

static int lower_limit_once;

/* Lowers the file size limit under a running save (SIGXFSZ ignored). */
static long limit_lowering_write(int fd, const void *p, size_t n)
{
    if (lower_limit_once) {
        lower_limit_once = 0;
        struct rlimit r = {512, 512};
        if (setrlimit(RLIMIT_FSIZE, &r) != 0)
            return -1;
    }
    return dfsae__posix_file_ops.write(fd, p, n);
}

/* The child saves a model bigger than the limit over an existing one. */
static int save_over_limit(void *arg)
{
    const files *f = arg;
    size_t before_len = 0;
    unsigned char *before = io_read_file(f->path, &before_len);
    int ignore = f->m == NULL; /* see test_file_size_limit */
    dfsae_model *big = NULL;
    dfsae_model_create(32, 32, 5, NULL, &big);
    int st;
    if (ignore) {
        signal(SIGXFSZ, SIG_IGN);
        const dfsae__file_ops ops = {limit_lowering_write, fsync,
                                     dfsae__posix_file_ops.rename};
        lower_limit_once = 1;
        st = dfsae__save_with(big, NULL, f->path, &ops);
    } else {
        signal(SIGXFSZ, SIG_DFL);
        struct rlimit r = {2048, 2048};
        if (setrlimit(RLIMIT_FSIZE, &r) != 0)
            return 2;
        st = dfsae_model_save(big, NULL, f->path);
    }
    const char *msg = dfsae_model_last_error(big);
    int bad = st != DFSAE_ERR_IO;
    if (!ignore)
        bad |= strstr(msg, "RLIMIT_FSIZE") == NULL;
    else
        bad |= strstr(msg, "File too large") == NULL;
    size_t now_len = 0;
    unsigned char *now = io_read_file(f->path, &now_len);
    bad |= now == NULL || now_len != before_len ||
           memcmp(now, before, now_len) != 0;
    bad |= io_count_entries(f->dir) != 1;
    free(now);
    free(before);
    dfsae_model_free(big);
    return bad ? 3 : 0;
}

static void test_file_size_limit(void **state)
{
    files *f = open_files(state);
    dfsae_model *small = fx_model(state, 2, 2, 1);
    assert_int_equal(dfsae_model_save(small, NULL, f->path), DFSAE_OK);
    fx_drop(state, small);
    /* SIGXFSZ at its default (the library must not die of it) */
    int rc = in_child(save_over_limit, f, 10);
    if (rc != 0)
        fail_msg("default SIGXFSZ: child %s %d", rc > 128 ? "signal" : "exit",
                 rc > 128 ? rc - 128 : rc);
    /* SIGXFSZ ignored, the limit lowered during the save: EFBIG */
    files g = *f;
    g.m = NULL;
    rc = in_child(save_over_limit, &g, 10);
    if (rc != 0)
        fail_msg("ignored SIGXFSZ: child %s %d", rc > 128 ? "signal" : "exit",
                 rc > 128 ? rc - 128 : rc);
}

/* ---- 8: any name that fits NAME_MAX can be saved -------------------- */

static void test_long_names(void **state)
{
    files *f = open_files(state);
    const size_t lengths[] = {200, 240, 250, NAME_MAX};
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; ++i) {
        char name[NAME_MAX + 2];
        memset(name, 'n', lengths[i]);
        memcpy(name + lengths[i] - 12, ".safetensors", 12);
        name[lengths[i]] = '\0';
        char *path = fx_join(state, f->dir, name);
        int st = dfsae_model_save(f->m, NULL, path);
        if (st != DFSAE_OK)
            fail_msg("%zu-byte name: %s", lengths[i],
                     dfsae_model_last_error(f->m));
        dfsae_model **back = fx_model_slot(state);
        assert_int_equal(dfsae_model_load(path, NULL, back, NULL, NULL, 0),
                         DFSAE_OK);
        assert_true(io_models_identical(f->m, *back));
        fx_drop(state, *back);
        /* again, over the existing file */
        assert_int_equal(dfsae_model_save(f->m, NULL, path), DFSAE_OK);
        expect_only(f->dir, (int)i + 1);
        fx_drop(state, path);
    }
    char name[NAME_MAX + 2];
    memset(name, 'n', NAME_MAX + 1);
    name[NAME_MAX + 1] = '\0';
    char *path = fx_join(state, f->dir, name);
    assert_int_equal(dfsae_model_save(f->m, NULL, path), DFSAE_ERR_IO);
    assert_non_null(strstr(dfsae_model_last_error(f->m), "too long"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(test_save_refuses_fifo),
        FIXTURE_TEST(test_save_refuses_directory),
        FIXTURE_TEST(test_save_replaces_symlink),
        FIXTURE_TEST(test_load_refuses_fifo),
        FIXTURE_TEST(test_stale_temporaries_removed),
        FIXTURE_TEST(test_live_temporary_kept),
        FIXTURE_TEST(test_file_size_limit),
        FIXTURE_TEST(test_long_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
