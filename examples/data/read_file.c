/* Reading a data file into memory: a regular file or a pipe, never more
 * than the memory limit. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data_internal.h"

static int fail_errno(exdata_error *err, const char *path, const char *what,
                      int fd, uint8_t *buf)
{
    int e = errno;
    free(buf);
    if (fd >= 0)
        close(fd);
    return exdata__fail(err, path, "%s: %s", what, strerror(e));
}

static int too_large(exdata_error *err, const char *path, size_t max, int fd,
                     uint8_t *buf)
{
    char max_s[32];
    free(buf);
    if (fd >= 0)
        close(fd);
    return exdata__over_limit(err, path, "larger than the memory limit of %s",
                              exdata_size_text(max, max_s, sizeof max_s));
}

/* Opens without blocking (a FIFO without a writer would wait forever),
 * then reads as usual. Only files and pipes: a device may never end. */
static int open_input(const char *path, struct stat *st, exdata_error *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    int flags;
    if (fd < 0)
        return fail_errno(err, path, "cannot open", -1, NULL);
    if (fstat(fd, st) != 0)
        return fail_errno(err, path, "cannot stat", fd, NULL);
    if (!S_ISREG(st->st_mode) && !S_ISFIFO(st->st_mode) &&
        !S_ISSOCK(st->st_mode)) {
        close(fd);
        return exdata__fail(err, path, "not a regular file or a pipe");
    }
    flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0)
        return fail_errno(err, path, "cannot read", fd, NULL);
    return fd;
}

int exdata_read_file(const char *path, size_t max_bytes, uint8_t **out,
                     size_t *out_len, exdata_error *err)
{
    struct stat st;
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    int fd;

    *out = NULL;
    *out_len = 0;
    if (max_bytes == 0)
        max_bytes = exdata_default_max_memory();
    fd = open_input(path, &st, err);
    if (fd < 0)
        return -1;
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max_bytes)
        return too_large(err, path, max_bytes, fd, NULL);
    for (;;) {
        ssize_t got;
        if (len == cap) {
            /* A file's size, else growing chunks; one byte past the limit
             * tells "too large" from "exactly the limit". */
            size_t ncap = cap == 0 && S_ISREG(st.st_mode)
                              ? (size_t)st.st_size + 1
                          : cap == 0 ? (size_t)1 << 16
                                     : exdata__sat_mul(cap, 2);
            uint8_t *nb;
            if (ncap > exdata__sat_add(max_bytes, 1))
                ncap = exdata__sat_add(max_bytes, 1);
            if (ncap <= cap)
                return too_large(err, path, max_bytes, fd, buf);
            nb = realloc(buf, ncap);
            if (nb == NULL) {
                free(buf);
                close(fd);
                return exdata__fail(err, path, "out of memory reading it");
            }
            buf = nb;
            cap = ncap;
        }
        got = read(fd, buf + len, cap - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return fail_errno(err, path, "read error", fd, buf);
        if (got == 0)
            break;
        len += (size_t)got;
    }
    close(fd);
    if (len > max_bytes)
        return too_large(err, path, max_bytes, -1, buf);
    *out = buf;
    *out_len = len;
    return 0;
}
