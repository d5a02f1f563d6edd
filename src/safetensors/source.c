/* Where a load reads from: a caller's buffer or a file. A file is read
 * piecewise (length, header, then only the tensors dfsae uses), so a
 * hostile file's size never decides how much memory a load takes. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safetensors/safetensors.h"

static int mem_read(void *ctx, uint64_t off, void *dst, size_t n, char *err)
{
    (void)err;
    const dfsae__mem_source *m = ctx;
    memcpy(dst, m->data + off, n);
    return DFSAE_OK;
}

void dfsae__source_mem(dfsae__source *s, dfsae__mem_source *ctx,
                       const void *data, size_t size)
{
    ctx->data = data;
    s->read = mem_read;
    s->ctx = ctx;
    s->size = size;
}

static void describe(int errnum, char *buf, size_t len)
{
    if (strerror_r(errnum, buf, len) != 0)
        snprintf(buf, len, "error %d", errnum);
}

static int file_read(void *ctx, uint64_t off, void *dst, size_t n, char *err)
{
    const dfsae__file_source *f = ctx;
    unsigned char *p = dst;
    while (n > 0) {
        size_t want = n > ((size_t)1 << 30) ? (size_t)1 << 30 : n;
        ssize_t got = pread(f->fd, p, want, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            char why[128];
            describe(errno, why, sizeof why);
            return dfsae__fail(err, DFSAE_ERR_IO, "read failed: %s", why);
        }
        if (got == 0)
            return dfsae__fail(err, DFSAE_ERR_TRUNCATED,
                               "the file ended while reading (did it "
                               "shrink?)");
        p += got;
        off += (uint64_t)got;
        n -= (size_t)got;
    }
    return DFSAE_OK;
}

const char *dfsae__file_kind(unsigned mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

int dfsae__source_open(dfsae__source *s, dfsae__file_source *ctx,
                       const char *path, char *err)
{
    ctx->fd = -1;
    /* O_NONBLOCK: opening a FIFO without a writer would wait forever
     * before the type check below could refuse it. */
    int fd;
    do
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    while (fd < 0 && errno == EINTR);
    char why[128];
    if (fd < 0) {
        describe(errno, why, sizeof why);
        return dfsae__fail(err, DFSAE_ERR_IO, "cannot open \"%.128s\": %s",
                           path, why);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        describe(errno, why, sizeof why);
        close(fd);
        return dfsae__fail(err, DFSAE_ERR_IO, "cannot stat \"%.128s\": %s",
                           path, why);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return dfsae__fail(err, DFSAE_ERR_IO,
                           "\"%.128s\" is not a regular file (%s)", path,
                           dfsae__file_kind(st.st_mode));
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        describe(errno, why, sizeof why);
        close(fd);
        return dfsae__fail(err, DFSAE_ERR_IO, "cannot read \"%.128s\": %s",
                           path, why);
    }
    ctx->fd = fd;
    s->read = file_read;
    s->ctx = ctx;
    s->size = (uint64_t)st.st_size;
    return DFSAE_OK;
}

void dfsae__source_close(dfsae__file_source *ctx)
{
    if (ctx->fd >= 0)
        close(ctx->fd);
    ctx->fd = -1;
}
