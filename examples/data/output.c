/* Output files written whole or not at all, as the library saves models: a
 * temporary beside the target (created with O_EXCL, so the umask sets its
 * permissions, or those of the file it replaces), flushed and fsynced,
 * renamed over the target, then the directory fsynced. A failure before
 * the rename removes the temporary and leaves the target as it was. Only a
 * regular file (or a symbolic link, replaced and not followed) is ever
 * replaced: never a device, a FIFO or a directory. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "data_internal.h"

/* The temporary is ".<up to 64 bytes of the name>.<pid>-<random>.tmp", so
 * a name that fits NAME_MAX leaves room for it. */
#define KEPT_NAME 64

static int fail_errno(exdata_error *err, const char *path, const char *what)
{
    return exdata__fail(err, path, "%s: %s", what, strerror(errno));
}

static const char *file_kind(mode_t m)
{
    return S_ISDIR(m)    ? "a directory"
           : S_ISCHR(m)  ? "a character device"
           : S_ISBLK(m)  ? "a block device"
           : S_ISFIFO(m) ? "a FIFO"
           : S_ISSOCK(m) ? "a socket"
                         : "not a regular file";
}

/* 0 if path may be replaced; *mode gets the permissions to keep, or -1 for
 * the umask's (no file yet, or a link to something else). */
static int check_target(const char *path, int *mode, exdata_error *err)
{
    struct stat st;
    *mode = -1;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : fail_errno(err, path, "cannot stat");
    if (S_ISLNK(st.st_mode)) {
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            *mode = (int)(st.st_mode & 07777);
        return 0;
    }
    if (!S_ISREG(st.st_mode))
        return exdata__fail(err, path, "is %s; only a regular file is replaced",
                            file_kind(st.st_mode));
    *mode = (int)(st.st_mode & 07777);
    return 0;
}

static int create_temp(exdata_output *o, exdata_error *err)
{
    const char *slash = strrchr(o->path, '/');
    const char *base = slash != NULL ? slash + 1 : o->path;
    size_t dir_len = (size_t)(base - o->path), base_len = strlen(base);
    struct timespec ts;
    unsigned long long r;
    int fd = -1;

    if (base_len > KEPT_NAME)
        base_len = KEPT_NAME;
    o->tmp = malloc(dir_len + base_len + 64);
    if (o->tmp == NULL)
        return exdata__fail(err, o->path, "out of memory");
    clock_gettime(CLOCK_REALTIME, &ts);
    r = (unsigned long long)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^
        (unsigned long long)ts.tv_sec;
    for (int attempt = 0; fd < 0 && attempt < 64; attempt++) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        sprintf(o->tmp, "%.*s.%.*s.%ld-%06llx.tmp", (int)dir_len, o->path,
                (int)base_len, base, (long)getpid(), (r >> 40) & 0xffffffull);
        fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST && errno != EINTR)
            break;
    }
    if (fd < 0) {
        int e = errno;
        free(o->tmp);
        o->tmp = NULL;
        errno = e;
        return fail_errno(err, o->path, "cannot create a file beside it");
    }
    return fd;
}

int exdata_output_open(exdata_output *o, const char *path, exdata_error *err)
{
    int mode, fd;
    memset(o, 0, sizeof *o);
    o->path = path;
    if (path[0] == '\0' || path[strlen(path) - 1] == '/')
        return exdata__fail(err, path, "not a file name");
    if (check_target(path, &mode, err) != 0)
        return -1;
    fd = create_temp(o, err);
    if (fd < 0)
        return -1;
    if (mode >= 0)
        (void)fchmod(fd, (mode_t)mode);
    o->file = fdopen(fd, "wb");
    if (o->file == NULL) {
        int e = errno;
        close(fd);
        exdata_output_abort(o);
        errno = e;
        return fail_errno(err, path, "cannot write");
    }
    return 0;
}

void exdata_output_abort(exdata_output *o)
{
    if (o->file != NULL)
        fclose(o->file);
    if (o->tmp != NULL)
        unlink(o->tmp);
    free(o->tmp);
    o->file = NULL;
    o->tmp = NULL;
}

/* fsync the directory holding the target, so the rename is durable; file
 * systems that cannot (EINVAL) are not an error. */
static int sync_dir(const exdata_output *o, exdata_error *err)
{
    const char *slash = strrchr(o->tmp, '/');
    char *dir = strdup(slash == NULL ? "." : o->tmp);
    int fd, rc;
    if (dir == NULL)
        return exdata__fail(err, o->path, "written, but out of memory");
    if (slash == o->tmp)
        dir[1] = '\0';
    else if (slash != NULL)
        dir[slash - o->tmp] = '\0';
    fd = open(dir, O_RDONLY | O_CLOEXEC);
    free(dir);
    if (fd < 0)
        return fail_errno(err, o->path, "written, but cannot open its folder");
    rc = fsync(fd) != 0 && errno != EINVAL ? -1 : 0;
    if (rc != 0)
        fail_errno(err, o->path, "written, but cannot fsync its folder");
    close(fd);
    return rc;
}

int exdata_output_commit(exdata_output *o, exdata_error *err)
{
    FILE *f = o->file;
    int rc = -1;
    o->file = NULL;
    errno = 0;
    if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0) {
        if (errno == 0) /* an earlier write failed, its errno is gone */
            errno = EIO;
        fail_errno(err, o->path, "write error");
        fclose(f);
    } else if (fclose(f) != 0) {
        fail_errno(err, o->path, "write error");
    } else if (rename(o->tmp, o->path) != 0) {
        fail_errno(err, o->path, "cannot replace it");
    } else {
        rc = sync_dir(o, err);
        free(o->tmp);
        o->tmp = NULL;
        return rc;
    }
    exdata_output_abort(o);
    return rc;
}
