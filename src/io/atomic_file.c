/* Atomic replacement of a file: write a temporary file in the target's
 * directory (a rename is only atomic within one file system), flush and
 * fsync it, rename it over the target, fsync the directory so the rename
 * itself survives a crash. Any failure before the rename removes the
 * temporary and leaves the target as it was. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "io/io.h"

static long posix_write(int fd, const void *p, size_t n)
{
    return (long)write(fd, p, n);
}

const dfsae__file_ops dfsae__posix_file_ops = {posix_write, fsync, rename};

static void describe(int errnum, char *buf, size_t len)
{
    if (strerror_r(errnum, buf, len) != 0)
        snprintf(buf, len, "error %d", errnum);
}

static int io_fail(char *err, const char *what, const char *path)
{
    char why[128];
    describe(errno, why, sizeof why);
    return dfsae__fail(err, DFSAE_ERR_IO, "save: %s \"%.128s\": %s", what, path,
                       why);
}

typedef struct fd_sink {
    int fd;
    const dfsae__file_ops *ops;
    const char *path;
} fd_sink;

static int fd_write(void *ctx, const void *p, size_t n, char *err)
{
    const fd_sink *s = ctx;
    const unsigned char *b = p;
    while (n > 0) {
        size_t want = n > ((size_t)1 << 30) ? (size_t)1 << 30 : n;
        long got = s->ops->write(s->fd, b, want);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            if (got == 0)
                errno = EIO;
            return io_fail(err, "cannot write", s->path);
        }
        b += got;
        n -= (size_t)got;
    }
    return DFSAE_OK;
}

/* Creates "<path>.tmp-<pid>-<n>" with O_EXCL, so the umask applies as for
 * any new file and a stale temporary from a crash is never reused. */
static int create_temp(const char *path, char *tmp, size_t cap, char *err)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long seed = (unsigned long long)ts.tv_nsec ^
                              ((unsigned long long)ts.tv_sec << 20) ^
                              ((unsigned long long)(uintptr_t)tmp << 3);
    for (int attempt = 0; attempt < 100; ++attempt) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        snprintf(tmp, cap, "%s.tmp-%ld-%012llx", path, (long)getpid(),
                 (seed >> 16) & 0xffffffffffffull);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0)
            return fd;
        if (errno != EEXIST && errno != EINTR) {
            io_fail(err, "cannot create a temporary file for", path);
            return -1;
        }
    }
    errno = EEXIST;
    io_fail(err, "cannot create a temporary file for", path);
    return -1;
}

/* fsync the directory holding path, so the rename is durable. File
 * systems that cannot sync a directory (EINVAL) are not an error. */
static int sync_dir(const char *path, char *dir, char *err)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        strcpy(dir, ".");
    } else if (slash == path) {
        strcpy(dir, "/");
    } else {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_fail(err, "saved, but cannot open the directory", dir);
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    if (rc != 0 && saved != EINVAL) {
        errno = saved;
        return io_fail(err, "saved, but cannot fsync the directory", dir);
    }
    return DFSAE_OK;
}

int dfsae__atomic_save(const char *path, const dfsae__writer *w,
                       const dfsae__file_ops *ops, const dfsae_allocator *a,
                       char *err)
{
    size_t len = strlen(path);
    if (len == 0 || path[len - 1] == '/')
        return dfsae__fail(err, DFSAE_ERR_INVALID_ARG,
                           "save: \"%.128s\" is not a file name", path);
    size_t cap = len + 64;
    char *tmp = dfsae__alloc(a, cap);
    if (tmp == NULL)
        return dfsae__fail(err, DFSAE_ERR_NO_MEMORY,
                           "save: out of memory for a file name");
    int st = DFSAE_OK;
    int fd = create_temp(path, tmp, cap, err);
    if (fd < 0) {
        dfsae__free(a, tmp);
        return DFSAE_ERR_IO;
    }
    /* Keep an existing target's permissions. */
    struct stat old;
    if (stat(path, &old) == 0 && S_ISREG(old.st_mode))
        (void)fchmod(fd, old.st_mode & 07777);

    fd_sink sink_ctx = {fd, ops, tmp};
    dfsae__sink sink = {fd_write, &sink_ctx};
    st = dfsae__writer_emit(w, &sink, err);
    if (st == DFSAE_OK && ops->fsync(fd) != 0)
        st = io_fail(err, "cannot fsync", tmp);
    if (close(fd) != 0 && st == DFSAE_OK)
        st = io_fail(err, "cannot close", tmp);
    if (st == DFSAE_OK && ops->rename(tmp, path) != 0)
        st = io_fail(err, "cannot rename the temporary file over", path);
    if (st != DFSAE_OK) {
        unlink(tmp);
        dfsae__free(a, tmp);
        return st;
    }
    /* tmp has room for the directory name: it is a prefix of path. */
    st = sync_dir(path, tmp, err);
    dfsae__free(a, tmp);
    return st;
}
