#define _POSIX_C_SOURCE 200809L

#include "io_util.h"
#include "splitmix64.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

unsigned char *io_build_file(const char *json, const void *data,
                             size_t data_len, size_t *out_len)
{
    size_t n = strlen(json);
    unsigned char *f = malloc(8 + n + data_len + 1);
    if (f == NULL)
        return NULL;
    for (int b = 0; b < 8; ++b)
        f[b] = (unsigned char)((uint64_t)n >> (8 * b));
    memcpy(f + 8, json, n);
    if (data_len > 0)
        memcpy(f + 8 + n, data, data_len);
    *out_len = 8 + n + data_len;
    return f;
}

unsigned char *io_save(dfsae_model *m, const dfsae_optimizer *opt, size_t *size)
{
    if (dfsae_model_save_buffer(m, opt, NULL, 0, size) != DFSAE_OK)
        return NULL;
    unsigned char *buf = malloc(*size);
    if (buf != NULL &&
        dfsae_model_save_buffer(m, opt, buf, *size, size) != DFSAE_OK) {
        free(buf);
        buf = NULL;
    }
    return buf;
}

char *io_header_json(const unsigned char *file)
{
    uint64_t n = 0;
    for (int b = 7; b >= 0; --b)
        n = n << 8 | file[b];
    char *json = calloc(1, (size_t)n + 1);
    if (json != NULL)
        memcpy(json, file + 8, (size_t)n);
    return json;
}

void io_snapshot_take(const dfsae_model *m, io_snapshot *s)
{
    s->n = dfsae_model_num_params(m);
    s->params = malloc(s->n * sizeof *s->params);
    dfsae_model_get_params(m, s->params, s->n);
    for (int p = 0; p < DFSAE_MODEL_OPTION_COUNT; ++p)
        dfsae_model_get_option(m, p, &s->options[p]);
    dfsae_model_get_run_state(m, &s->run[0], &s->run[1], &s->run[2]);
    dfsae_model_get_transform(m, NULL, NULL, 0, &s->xf_n);
    s->xf = malloc(2 * s->xf_n * sizeof *s->xf + 1);
    dfsae_model_get_transform(m, s->xf, s->xf + s->xf_n, s->xf_n, &s->xf_n);
    s->meta_len = 0;
    const char *k;
    for (size_t i = 0; (k = dfsae_model_meta_key(m, i)) != NULL; ++i)
        s->meta_len += strlen(k) + strlen(dfsae_model_get_meta(m, k)) + 2;
    s->meta = malloc(s->meta_len + 1);
    size_t at = 0;
    for (size_t i = 0; (k = dfsae_model_meta_key(m, i)) != NULL; ++i) {
        const char *v = dfsae_model_get_meta(m, k);
        memcpy(s->meta + at, k, strlen(k) + 1);
        at += strlen(k) + 1;
        memcpy(s->meta + at, v, strlen(v) + 1);
        at += strlen(v) + 1;
    }
}

int io_snapshot_same(const dfsae_model *m, const io_snapshot *s)
{
    io_snapshot now;
    if (dfsae_model_num_params(m) != s->n)
        return 0;
    io_snapshot_take(m, &now);
    int same = memcmp(now.params, s->params, s->n * sizeof(float)) == 0 &&
               memcmp(now.options, s->options, sizeof s->options) == 0 &&
               memcmp(now.run, s->run, sizeof s->run) == 0 &&
               now.xf_n == s->xf_n &&
               memcmp(now.xf, s->xf, 2 * s->xf_n * sizeof *s->xf) == 0 &&
               now.meta_len == s->meta_len &&
               memcmp(now.meta, s->meta, s->meta_len) == 0;
    io_snapshot_free(&now);
    return same;
}

void io_snapshot_free(io_snapshot *s)
{
    free(s->params);
    free(s->meta);
    free(s->xf);
    s->xf = NULL;
    s->params = NULL;
    s->meta = NULL;
}

int io_models_identical(const dfsae_model *a, const dfsae_model *b)
{
    if (dfsae_model_input_dim(a) != dfsae_model_input_dim(b) ||
        dfsae_model_num_components(a) != dfsae_model_num_components(b))
        return 0;
    io_snapshot s;
    io_snapshot_take(a, &s);
    int same = io_snapshot_same(b, &s);
    io_snapshot_free(&s);
    return same;
}

char *io_tempdir(void)
{
    const char *base = getenv("TMPDIR");
    if (base == NULL || *base == '\0')
        base = "/tmp";
    char *dir = malloc(strlen(base) + 32);
    if (dir == NULL)
        return NULL;
    sprintf(dir, "%s/dfsae-io-XXXXXX", base);
    if (mkdtemp(dir) == NULL) {
        free(dir);
        return NULL;
    }
    return dir;
}

void io_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *p = io_join(dir, e->d_name);
        if (remove(p) != 0)
            io_rmdir(p); /* a directory made by a test */
        free(p);
    }
    closedir(d);
    rmdir(dir);
}

int io_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            ++n;
    closedir(d);
    return n;
}

unsigned char *io_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    unsigned char *buf = malloc(cap);
    size_t got;
    while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            unsigned char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

int io_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    size_t put = fwrite(data, 1, len, f);
    return fclose(f) == 0 && put == len ? 0 : -1;
}

char *io_join(const char *dir, const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    if (p != NULL)
        sprintf(p, "%s/%s", dir, name);
    return p;
}

float io_uniform(uint64_t *state)
{
    return (float)(splitmix64_next(state) >> 40) * 0x1p-24f;
}
