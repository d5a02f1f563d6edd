/* Gzip decompression from memory, bounded (a zip bomb is an error). */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "data_internal.h"

/* zlib counts in uInt: feed input and take output in chunks of this. */
#define CHUNK_MAX ((size_t)1 << 30)

int exdata_is_gzip(const uint8_t *p, size_t len)
{
    return p != NULL && len >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

static void feed(z_stream *zs, const uint8_t *p, size_t len, size_t off)
{
    size_t n = len - off;
    zs->next_in = (Bytef *)(uintptr_t)(p + off);
    zs->avail_in = (uInt)(n > CHUNK_MAX ? CHUNK_MAX : n);
}

int exdata_gunzip(const uint8_t *p, size_t len, const char *name,
                  size_t max_bytes, uint8_t **out, size_t *out_len,
                  exdata_error *err)
{
    return exdata__gunzip(p, len, name, max_bytes, 0, NULL, NULL, out, out_len,
                          err);
}

/* The decompressed bytes would not fit: say so in terms of the limit. */
static void over_limit(exdata_error *err, const char *name, size_t limit,
                       size_t held)
{
    char limit_s[32], room_s[32], held_s[32];
    exdata_size_text(limit, limit_s, sizeof limit_s);
    exdata_size_text(limit - held, room_s, sizeof room_s);
    exdata_size_text(held, held_s, sizeof held_s);
    if (held == 0)
        exdata__over_limit(err, name, "decompresses to more than %s", limit_s);
    else
        exdata__over_limit(err, name,
                           "decompresses to more than the %s that the "
                           "memory limit of %s leaves beside its %s of "
                           "compressed bytes",
                           room_s, limit_s, held_s);
}

int exdata__gunzip(const uint8_t *p, size_t len, const char *name, size_t limit,
                   size_t held, exdata__inflate_check check, void *ctx,
                   uint8_t **out, size_t *out_len, exdata_error *err)
{
    z_stream zs;
    uint8_t *buf = NULL;
    size_t cap = 0, used = 0, max_bytes = limit - held;
    int rc = -1;

    *out = NULL;
    *out_len = 0;
    memset(&zs, 0, sizeof zs);
    /* 15 + 16: a gzip wrapper only (a zlib or raw stream is not a .gz). */
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        return exdata__fail(err, name, "cannot initialise zlib");
    feed(&zs, p, len, 0);
    for (;;) {
        size_t room, off;
        int zr;
        if (zs.avail_in == 0) {
            off = (size_t)(zs.next_in - (const Bytef *)p);
            if (off < len)
                feed(&zs, p, len, off);
        }
        if (used == cap) {
            size_t ncap = cap == 0 ? (size_t)1 << 16 : cap * 2;
            uint8_t *nb;
            if (cap >= max_bytes) {
                over_limit(err, name, limit, held);
                goto done;
            }
            if (ncap > max_bytes || ncap < cap)
                ncap = max_bytes;
            nb = realloc(buf, ncap);
            if (nb == NULL) {
                exdata__fail(err, name, "out of memory decompressing it");
                goto done;
            }
            buf = nb;
            cap = ncap;
        }
        room = cap - used;
        if (room > CHUNK_MAX)
            room = CHUNK_MAX;
        zs.next_out = buf + used;
        zs.avail_out = (uInt)room;
        zr = inflate(&zs, Z_NO_FLUSH);
        used += room - zs.avail_out;
        if (check != NULL && used > 0) {
            int verdict = check(buf, used, ctx, err);
            if (verdict < 0)
                goto done;
            if (verdict > 0)
                check = NULL;
        }
        off = (size_t)(zs.next_in - (const Bytef *)p);
        if (zr == Z_STREAM_END) {
            if (off == len) {
                rc = 0;
                goto done;
            }
            /* Another gzip member may follow (as with `cat a.gz b.gz`). */
            if (!exdata_is_gzip(p + off, len - off)) {
                exdata__fail(err, name,
                             "%zu bytes of garbage after the gzip stream",
                             len - off);
                goto done;
            }
            inflateReset(&zs);
            feed(&zs, p, len, off);
        } else if (zr == Z_BUF_ERROR ||
                   (zr == Z_OK && off == len && zs.avail_out != 0)) {
            /* Output room was left, so zlib stopped for want of input. */
            exdata__fail(err, name, "truncated gzip stream (%zu bytes)", len);
            goto done;
        } else if (zr != Z_OK) {
            exdata__fail(err, name, "corrupt gzip data: %s",
                         zs.msg != NULL      ? zs.msg
                         : zr == Z_MEM_ERROR ? "out of memory"
                                             : "invalid stream");
            goto done;
        }
    }
done:
    inflateEnd(&zs);
    if (rc != 0) {
        free(buf);
        return -1;
    }
    *out = buf;
    *out_len = used;
    return 0;
}
