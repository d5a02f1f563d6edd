/* Memory-mapped .npy and safetensors data sets: one file, a directory of shards
 * or a list of them, read in place (exdata.h). */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data_internal.h"

typedef struct shard {
    unsigned char *map; /* the whole file while its header is validated */
    size_t len;
    int fd;          /* rows are read with pread (see exdata_map_read) */
    size_t offset;   /* of the first row in the file */
    size_t first, n; /* its rows of the data set */
} shard;

struct exdata_map {
    shard *shards;
    size_t n_shards, rows, cols, row_bytes;
    int dtype;
};

static int fail_errno(exdata_error *err, const char *path, const char *what)
{
    return exdata__fail(err, path, "%s: %s", what, strerror(errno));
}

/* The header of the mapped file: .npy by its magic, else safetensors. */
static int read_header(const shard *s, const char *path,
                       const exdata_map_options *opt, exdata__shape *shape,
                       exdata_error *err)
{
    int short_input;
    if (memcmp(s->map, "\x93NUMPY", 6) != 0) {
        if (s->map[8] != '{')
            return exdata__fail(err, path,
                                "neither a .npy (no \\x93NUMPY magic) "
                                "nor a safetensors file");
        return exdata__safetensors_shape(s->map, s->len, path, opt->tensor,
                                         shape, err);
    }
    if (opt->tensor != NULL)
        return exdata__fail(err, path,
                            "--tensor names a safetensors tensor; this is "
                            "a .npy file");
    if (exdata__npy_shape(s->map, s->len, path, shape, &short_input, err) !=
            0 ||
        exdata__settle_dtype(shape, opt->bf16, path, err) != 0)
        return -1;
    if (shape->dtype != DFSAE_DTYPE_F32 && shape->dtype != DFSAE_DTYPE_F16 &&
        shape->dtype != DFSAE_DTYPE_BF16)
        return exdata__fail(err, path,
                            "%s data cannot be read in place (need "
                            "float32 '<f4', float16 '<f2' or bfloat16; "
                            "drop --mmap to convert it in memory)",
                            exdata__dtype_name(shape->dtype));
    if (shape->big_endian)
        return exdata__fail(err, path,
                            "big-endian data cannot be read in place");
    if (s->len - shape->header < shape->bytes)
        return exdata__fail(err, path,
                            "truncated: the header promises %zu x %zu "
                            "values (%zu bytes), the file has %zu",
                            shape->rows, shape->cols, shape->bytes,
                            s->len - shape->header);
    if (s->len - shape->header > shape->bytes)
        return exdata__fail(err, path,
                            "%zu unexpected bytes after the array data",
                            s->len - shape->header - shape->bytes);
    return 0;
}

/* Maps `path` and checks that it is a .npy or safetensors file whose
 * header tells its size. */
static int map_one(const char *path, const exdata_map_options *opt, shard *s,
                   exdata__shape *shape, exdata_error *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0)
        return fail_errno(err, path, "cannot open");
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return exdata__fail(err, path, "not a regular file");
    }
    if (st.st_size < 10) {
        close(fd);
        return exdata__fail(err, path,
                            "truncated: %lld bytes cannot hold a .npy or "
                            "safetensors header",
                            (long long)st.st_size);
    }
    s->len = (size_t)st.st_size;
    s->map = mmap(NULL, s->len, PROT_READ, MAP_PRIVATE, fd, 0);
    s->fd = fd;
    if (s->map == MAP_FAILED) {
        s->map = NULL;
        return fail_errno(err, path, "cannot map");
    }
    if (read_header(s, path, opt, shape, err) != 0)
        return -1;
    /* Validated: the header's pages leave the process (rows come by pread). */
    munmap(s->map, s->len);
    s->map = NULL;
    s->offset = shape->header;
    s->n = shape->rows;
    posix_fadvise(fd, 0, 0,
                  opt->sequential ? POSIX_FADV_SEQUENTIAL : POSIX_FADV_RANDOM);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with(const char *name, const char *suffix)
{
    size_t n = strlen(name), k = strlen(suffix);
    return n > k && strcmp(name + n - k, suffix) == 0;
}

static int is_shard(const char *name)
{
    return name[0] != '.' &&
           (ends_with(name, ".npy") || ends_with(name, ".safetensors"));
}

/* A new string of `len` bytes at the end of the list (NULL: no memory). */
static char *push(char ***v, size_t *n, size_t *cap, size_t len)
{
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 16;
        char **w = realloc(*v, c * sizeof *w);
        if (w == NULL)
            return NULL;
        *v = w;
        *cap = c;
    }
    char *s = malloc(len);
    if (s != NULL)
        (*v)[(*n)++] = s;
    return s;
}

/* The shard paths: a directory's *.npy and *.safetensors files in name
 * order, a comma list,
 * or the one path (malloc'ed array of malloc'ed strings). */
static int list_paths(const char *path, char ***out, size_t *count,
                      exdata_error *err)
{
    struct stat st;
    char **v = NULL;
    size_t n = 0, cap = 0;
    int oom = 0;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d == NULL)
            return fail_errno(err, path, "cannot read the directory");
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!is_shard(e->d_name))
                continue;
            size_t len = strlen(path) + strlen(e->d_name) + 2;
            char *slot = push(&v, &n, &cap, len);
            if (slot == NULL) {
                oom = 1;
                break;
            }
            snprintf(slot, len, "%s/%s", path, e->d_name);
        }
        closedir(d);
        if (n == 0) {
            free(v);
            return exdata__fail(err, path,
                                "no .npy or .safetensors files in "
                                "the directory");
        }
        qsort(v, n, sizeof *v, by_name);
    } else {
        for (const char *p = path;;) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            char *slot = push(&v, &n, &cap, len + 1);
            if (slot == NULL) {
                oom = 1;
                break;
            }
            memcpy(slot, p, len);
            slot[len] = '\0';
            if (comma == NULL)
                break;
            p = comma + 1;
        }
    }
    if (oom) {
        for (size_t i = 0; i < n; ++i)
            free(v[i]);
        free(v);
        return exdata__fail(err, path, "out of memory for the file list");
    }
    *out = v;
    *count = n;
    return 0;
}

void exdata_map_options_init(exdata_map_options *opt)
{
    memset(opt, 0, sizeof *opt);
}

int exdata_map_open(const char *path, const exdata_map_options *opt,
                    exdata_map **out, exdata_error *err)
{
    exdata_map_options def;
    if (opt == NULL) {
        exdata_map_options_init(&def);
        opt = &def;
    }
    char **paths = NULL;
    size_t n_paths = 0;
    *out = NULL;
    if (list_paths(path, &paths, &n_paths, err) != 0)
        return -1;
    exdata_map *m = calloc(1, sizeof *m);
    if (m != NULL)
        m->shards = calloc(n_paths, sizeof *m->shards);
    int rc = m == NULL || m->shards == NULL
                 ? exdata__fail(err, path, "out of memory")
                 : 0;
    for (size_t i = 0; rc == 0 && i < n_paths; ++i) {
        exdata__shape shape;
        shard *s = &m->shards[m->n_shards++];
        rc = map_one(paths[i], opt, s, &shape, err);
        if (rc != 0)
            break;
        if (i == 0) {
            m->cols = shape.cols;
            m->dtype = shape.dtype;
        } else if (shape.cols != m->cols || shape.dtype != m->dtype) {
            rc = exdata__fail(err, paths[i],
                              "%zu columns of %s, but %s has %zu of %s",
                              shape.cols, exdata__dtype_name(shape.dtype),
                              paths[0], m->cols, exdata__dtype_name(m->dtype));
            break;
        }
        s->first = m->rows;
        m->rows += s->n;
    }
    for (size_t i = 0; i < n_paths; ++i)
        free(paths[i]);
    free(paths);
    if (rc != 0) {
        exdata_map_close(m);
        return -1;
    }
    m->row_bytes = m->cols * exdata__dtype_size(m->dtype);
    *out = m;
    return 0;
}

void exdata_map_close(exdata_map *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n_shards; ++i) {
        if (m->shards[i].map != NULL)
            munmap(m->shards[i].map, m->shards[i].len);
        if (m->shards[i].fd > 0)
            close(m->shards[i].fd);
    }
    free(m->shards);
    free(m);
}

size_t exdata_map_rows(const exdata_map *m)
{
    return m->rows;
}

size_t exdata_map_cols(const exdata_map *m)
{
    return m->cols;
}

int exdata_map_dtype(const exdata_map *m)
{
    return m->dtype;
}

/* The shard holding row r (binary search over the first rows). */
static const shard *find(const exdata_map *m, size_t r)
{
    size_t lo = 0, hi = m->n_shards;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->shards[mid].first <= r)
            lo = mid;
        else
            hi = mid;
    }
    return &m->shards[lo];
}

/* Rows are copied from the page cache with pread, runs of consecutive rows
 * in one call: read through the map instead, Linux 6.18 maps the whole
 * large folio around each fault, and a shuffled epoch had the process's
 * RSS at the file's size between MADV_DONTNEEDs every 32 rows (measured;
 * docs/performance.md). The copy is what the map would have cost too. */
int exdata_map_read(void *map, const size_t *rows, size_t count, void *out)
{
    exdata_map *m = map;
    unsigned char *dst = out;
    const shard *s = &m->shards[0];
    for (size_t i = 0; i < count;) {
        const size_t r = rows[i];
        if (r < s->first || r - s->first >= s->n)
            s = find(m, r);
        size_t run = 1;
        while (i + run < count && rows[i + run] == r + run &&
               r + run - s->first < s->n)
            ++run;
        size_t len = run * m->row_bytes, got = 0;
        off_t at = (off_t)(s->offset + (r - s->first) * m->row_bytes);
        while (got < len) {
            ssize_t k = pread(s->fd, dst + i * m->row_bytes + got, len - got,
                              at + (off_t)got);
            if (k <= 0 && !(k < 0 && errno == EINTR))
                return -1; /* the file shrank, or an I/O error */
            if (k > 0)
                got += (size_t)k;
        }
        i += run;
    }
    return 0;
}
