/* Atomic replacement of a file: write a temporary file in the target's
 * directory (a rename is only atomic within one file system), flush and
 * fsync it, rename it over the target, fsync the directory so the rename
 * itself survives a crash. Any failure before the rename removes the
 * temporary and leaves the target as it was.
 *
 * Only a regular file (or a symbolic link, which is replaced, not
 * followed) is replaced. The temporary's name is short whatever the
 * target's (a prefix of it and a hash of all of it), so any name that fits
 * NAME_MAX saves, and it names its writer's pid: a later save of the same
 * target removes the temporaries of writers that died (kill -9, power
 * loss), never a live one. */
#define _DEFAULT_SOURCE /* flock */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "safetensors/safetensors.h"

static long posix_write(int fd, const void *p, size_t n)
{
    return (long)write(fd, p, n);
}

static int posix_rename(int dirfd, const char *from, const char *to)
{
    return renameat(dirfd, from, dirfd, to);
}

const dfsae__file_ops dfsae__posix_file_ops = {posix_write, fsync,
                                               posix_rename};

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
            return io_fail(err, "cannot write the temporary file for", s->path);
        }
        b += got;
        n -= (size_t)got;
    }
    return DFSAE_OK;
}

/* ---- Temporary names ---------------------------------------------------- */

/* "<up to 64 bytes of the name>.dfsae-tmp-<hash>-<pid>-<random>" */
#define PREFIX_MAX 64
#define MARK       ".dfsae-tmp-"
#define TEMP_CAP   (PREFIX_MAX + sizeof MARK + 16 + 1 + 20 + 1 + 8 + 1)

/* 64-bit FNV-1a: tells apart targets whose names share the prefix. */
static unsigned long long name_hash(const char *s)
{
    unsigned long long h = 14695981039346656037ull;
    for (; *s != '\0'; ++s)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* The part of a temporary's name that only depends on the target. */
static int temp_stem(char out[TEMP_CAP], const char *base)
{
    size_t len = strlen(base);
    int prefix = (int)(len < PREFIX_MAX ? len : PREFIX_MAX);
    return snprintf(out, TEMP_CAP, "%.*s" MARK "%016llx-", prefix, base,
                    name_hash(base));
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* The writer's pid if `name` is a temporary of the target with this stem,
 * else 0. */
static long temp_writer(const char *name, const char *stem, size_t stem_len)
{
    if (strncmp(name, stem, stem_len) != 0)
        return 0;
    const char *s = name + stem_len;
    long pid = 0;
    size_t digits = 0;
    for (; *s >= '0' && *s <= '9' && digits < 18; ++s, ++digits)
        pid = pid * 10 + (*s - '0');
    if (digits == 0 || *s != '-')
        return 0;
    ++s;
    for (int i = 0; i < 8; ++i)
        if (!is_hex(s[i]))
            return 0;
    return s[8] == '\0' ? pid : 0;
}

/* Dead beyond doubt: no such process, and no one holds the lock its
 * writer took (pids are per namespace; the lock is on the file). */
static int writer_dead(int dirfd, const char *name, long pid)
{
    if (pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
        return 0;
    int fd =
        openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return 0;
    struct stat st;
    int dead = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
               flock(fd, LOCK_EX | LOCK_NB) == 0;
    close(fd); /* the unlink below needs no lock: names are never reused */
    return dead;
}

/* Best effort: a directory that cannot be listed keeps its leftovers. */
static void remove_stale(int dirfd, const char *base)
{
    char stem[TEMP_CAP];
    size_t stem_len = (size_t)temp_stem(stem, base);
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return;
    }
    const struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        long pid = temp_writer(e->d_name, stem, stem_len);
        if (pid > 0 && writer_dead(dirfd, e->d_name, pid))
            (void)unlinkat(dirfd, e->d_name, 0);
    }
    closedir(d);
}

/* Creates the temporary with O_EXCL (the umask applies as for any new
 * file) and locks it for as long as this writer lives. */
static int create_temp(int dirfd, const char *base, const char *path,
                       char tmp[TEMP_CAP], char *err)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long seed = (unsigned long long)ts.tv_nsec ^
                              ((unsigned long long)ts.tv_sec << 20) ^
                              ((unsigned long long)(uintptr_t)tmp << 3);
    int stem_len = temp_stem(tmp, base);
    for (int attempt = 0; attempt < 100; ++attempt) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        snprintf(tmp + stem_len, TEMP_CAP - (size_t)stem_len, "%ld-%08llx",
                 (long)getpid(), (seed >> 24) & 0xffffffffull);
        int fd =
            openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            (void)flock(fd, LOCK_EX | LOCK_NB); /* released by close */
            return fd;
        }
        if (errno != EEXIST && errno != EINTR) {
            io_fail(err, "cannot create a temporary file for", path);
            return -1;
        }
    }
    errno = EEXIST;
    io_fail(err, "cannot create a temporary file for", path);
    return -1;
}

/* ---- The target --------------------------------------------------------- */

/* A regular file, a symbolic link or nothing may be replaced. *mode gets
 * the permissions to keep (-1: the umask's). */
static int check_target(int dirfd, const char *base, const char *path,
                        int *mode, char *err)
{
    *mode = -1;
    struct stat st;
    if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? DFSAE_OK : io_fail(err, "cannot stat", path);
    if (S_ISLNK(st.st_mode)) {
        if (fstatat(dirfd, base, &st, 0) == 0 && S_ISREG(st.st_mode))
            *mode = (int)(st.st_mode & 07777);
        return DFSAE_OK;
    }
    if (!S_ISREG(st.st_mode))
        return dfsae__fail(err, DFSAE_ERR_IO,
                           "save: \"%.128s\" is not a regular file (%s); "
                           "a save replaces only regular files",
                           path, dfsae__file_kind(st.st_mode));
    *mode = (int)(st.st_mode & 07777);
    return DFSAE_OK;
}

/* Without this check a write past RLIMIT_FSIZE raises SIGXFSZ, which
 * kills the process unless the host ignores it; a library installs no
 * handlers, so it never starts such a write. */
static int check_size_limit(uint64_t total, const char *path, char *err)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_FSIZE, &r) != 0 || r.rlim_cur == RLIM_INFINITY ||
        total <= (uint64_t)r.rlim_cur)
        return DFSAE_OK;
    return dfsae__fail(err, DFSAE_ERR_IO,
                       "save: \"%.128s\" would have %llu bytes, above the "
                       "file size limit (RLIMIT_FSIZE) of %llu bytes",
                       path, (unsigned long long)total,
                       (unsigned long long)r.rlim_cur);
}

/* Opens the directory holding path into *fd; *base gets the name inside
 * it. */
static int open_dir(const char *path, const char **base, int *fd,
                    const dfsae_allocator *a, char *err)
{
    const char *slash = strrchr(path, '/');
    *base = slash == NULL ? path : slash + 1;
    size_t dir_len = slash == NULL   ? 1
                     : slash == path ? 1
                                     : (size_t)(slash - path);
    char *dir = dfsae__alloc(a, dir_len + 1);
    if (dir == NULL)
        return dfsae__fail(err, DFSAE_ERR_NO_MEMORY,
                           "save: out of memory for a file name");
    memcpy(dir, slash == NULL ? "." : path, dir_len);
    dir[dir_len] = '\0';
    int st = DFSAE_OK;
    *fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*fd < 0)
        st = io_fail(err, "cannot create a temporary file in the directory of",
                     path);
    dfsae__free(a, dir);
    return st;
}

int dfsae__atomic_save(const char *path, const dfsae__st_writer *w,
                       const dfsae__file_ops *ops, const dfsae_allocator *a,
                       char *err)
{
    size_t len = strlen(path);
    if (len == 0 || path[len - 1] == '/')
        return dfsae__fail(err, DFSAE_ERR_INVALID_ARG,
                           "save: \"%.128s\" is not a file name", path);
    int st = check_size_limit(w->total, path, err);
    if (st != DFSAE_OK)
        return st;
    const char *base;
    int dirfd = -1;
    st = open_dir(path, &base, &dirfd, a, err);
    if (st != DFSAE_OK)
        return st;
    int mode;
    st = check_target(dirfd, base, path, &mode, err);
    if (st != DFSAE_OK) {
        close(dirfd);
        return st;
    }
    remove_stale(dirfd, base);

    char tmp[TEMP_CAP];
    int fd = create_temp(dirfd, base, path, tmp, err);
    if (fd < 0) {
        close(dirfd);
        return DFSAE_ERR_IO;
    }
    if (mode >= 0)
        (void)fchmod(fd, (mode_t)mode);
    fd_sink sink_ctx = {fd, ops, path};
    dfsae__sink sink = {fd_write, &sink_ctx};
    st = dfsae__st_writer_emit(w, &sink, err);
    if (st == DFSAE_OK && ops->fsync(fd) != 0)
        st = io_fail(err, "cannot fsync the temporary file for", path);
    if (close(fd) != 0 && st == DFSAE_OK)
        st = io_fail(err, "cannot close the temporary file for", path);
    if (st == DFSAE_OK && ops->rename(dirfd, tmp, base) != 0)
        st = io_fail(err, "cannot rename the temporary file over", path);
    if (st != DFSAE_OK) {
        (void)unlinkat(dirfd, tmp, 0);
    } else if (fsync(dirfd) != 0 && errno != EINVAL) {
        /* File systems that cannot sync a directory (EINVAL) are not an
         * error. */
        st = io_fail(err, "saved, but cannot fsync the directory of", path);
    }
    close(dirfd);
    return st;
}
