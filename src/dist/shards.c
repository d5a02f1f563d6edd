/* Sharded model files (docs/distributed.md): one ordinary model file per
 * dictionary shard, PREFIX-0000r-of-0000N.safetensors, and an index
 * PREFIX.index.json naming them with their component ranges; a load
 * assembles any range of components from them (re-sharding). */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dist/dist.h"
#include "io/io.h"
#include "model.h"
#include "optim/optim.h"

#define INDEX_FORMAT "dfsae-shards"
#define MAX_SHARDS   99999
#define PATH_CAP     4096

/* ---- Saving --------------------------------------------------------- */

static int shard_name(char *out, size_t cap, const char *prefix, int r,
                      int size)
{
    int len =
        snprintf(out, cap, "%s-%05d-of-%05d.safetensors", prefix, r + 1, size);
    return len > 0 && (size_t)len < cap;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

/* The index, written to a temporary file renamed over the target. */
static int write_index(const char *prefix, const dfsae_model *m, int size,
                       const double *counts, char *err)
{
    char path[PATH_CAP], tmp[PATH_CAP + 16], name[PATH_CAP];
    if (snprintf(path, sizeof path, "%s.index.json", prefix) >=
            (int)sizeof path ||
        snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >=
            (int)sizeof tmp)
        return dfsae__fail(err, DFSAE_ERR_INVALID_ARG,
                           "save_shards: the prefix is too long");
    FILE *f = fopen(tmp, "wb");
    if (f == NULL)
        return dfsae__fail(err, DFSAE_ERR_IO, "save_shards: cannot create %s",
                           tmp);
    size_t k_total = 0;
    for (int r = 0; r < size; ++r)
        k_total += (size_t)counts[r];
    fprintf(f,
            "{\n  \"format\": \"" INDEX_FORMAT "\",\n  \"version\": 1,\n"
            "  \"d_in\": %zu,\n  \"n_components\": %zu,\n  \"shards\": [\n",
            m->d, k_total);
    size_t first = 0;
    for (int r = 0; r < size; ++r) {
        shard_name(name, sizeof name, base_name(prefix), r, size);
        fprintf(f,
                "    {\"file\": \"%s\", \"first_component\": %zu, "
                "\"n_components\": %zu}%s\n",
                name, first, (size_t)counts[r], r + 1 < size ? "," : "");
        first += (size_t)counts[r];
    }
    fprintf(f, "  ]\n}\n");
    int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        remove(tmp);
        return dfsae__fail(err, DFSAE_ERR_IO, "save_shards: cannot write %s",
                           path);
    }
    return DFSAE_OK;
}

int dfsae_model_save_shards(dfsae_model *model, const dfsae_optimizer *opt,
                            const char *prefix)
{
    if (model == NULL)
        return DFSAE_ERR_NULL_ARG;
    dfsae_dist *d = model->dist;
    const int rank = d != NULL ? d->comm.rank : 0;
    const int size = d != NULL ? d->comm.size : 1;
    char path[PATH_CAP];
    int st = DFSAE_OK;
    if (prefix == NULL)
        st = dfsae__fail(model->err, DFSAE_ERR_NULL_ARG,
                         "save_shards: prefix is NULL");
    else if (dfsae__dist_is(d, DFSAE_DIST_DATA))
        st = dfsae__fail(model->err, DFSAE_ERR_INVALID_ARG,
                         "save_shards: data-parallel replicas are one model "
                         "(dfsae_model_save it on one rank)");
    else if (size > MAX_SHARDS ||
             !shard_name(path, sizeof path, prefix, rank, size))
        st = dfsae__fail(model->err, DFSAE_ERR_INVALID_ARG,
                         "save_shards: the prefix is too long");
    if (st == DFSAE_OK)
        st = dfsae_model_save(model, opt, path);
    /* Every shard is on disk before the index names them. */
    st = dfsae__dist_begin(d, model->err, "save_shards", st, 0);
    double one = (double)model->k;
    const double *counts = &one;
    if (st == DFSAE_OK && d != NULL) {
        for (int r = 0; r < size; ++r)
            d->counts[r] = r == rank ? (double)model->k : 0.0;
        dfsae__dist_sum_f64(d, d->counts, (size_t)size);
        counts = d->counts;
    }
    if (st == DFSAE_OK && rank == 0)
        st = write_index(prefix, model, size, counts, model->err);
    return dfsae__dist_agree(d, model->err, "save_shards", st);
}

/* ---- Loading -------------------------------------------------------- */

typedef struct shard_entry {
    char file[256];
    size_t first, count;
} shard_entry;

typedef struct shard_index {
    size_t d, k, n;
    shard_entry *shards;
} shard_index;

static int read_text(const char *path, const dfsae_allocator *a, char **out,
                     size_t *out_len, char *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return dfsae__fail(err, DFSAE_ERR_IO, "load_shards: cannot open %s",
                           path);
    enum { CAP = 1 << 24 }; /* 99999 shards take well under 16 MiB */
    long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (size < 0 || size > CAP || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return dfsae__fail(
            err, size > CAP ? DFSAE_ERR_HEADER_TOO_LARGE : DFSAE_ERR_IO,
            "load_shards: cannot read %s", path);
    }
    char *buf = dfsae__alloc(a, (size_t)size + 1);
    size_t len = buf != NULL ? fread(buf, 1, (size_t)size, f) : 0;
    int failed = ferror(f) || len != (size_t)size;
    fclose(f);
    if (buf == NULL)
        return dfsae__fail(err, DFSAE_ERR_NO_MEMORY, "load_shards: no memory");
    if (failed) {
        dfsae__free(a, buf);
        return dfsae__fail(err, DFSAE_ERR_IO, "load_shards: cannot read %s",
                           path);
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return DFSAE_OK;
}

static int json_size(const dfsae__json *o, const char *key, size_t *out)
{
    const dfsae__json *v = o != NULL ? dfsae__json_get(o, key) : NULL;
    if (v == NULL || v->type != DFSAE__JSON_NUMBER || !v->is_index ||
        v->u.index > SIZE_MAX)
        return 0;
    *out = (size_t)v->u.index;
    return 1;
}

/* A shard file is a plain name beside the index: no directory part. */
static int plain_name(const char *s)
{
    return s[0] != '\0' && strchr(s, '/') == NULL && strcmp(s, ".") != 0 &&
           strcmp(s, "..") != 0;
}

static int parse_index(const char *text, size_t len, const dfsae_allocator *a,
                       shard_index *ix, char *err)
{
    dfsae__json_doc doc;
    if (dfsae__json_parse(text, len, a, &doc, err) != DFSAE_OK)
        return dfsae__fail(err, DFSAE_ERR_BAD_HEADER,
                           "load_shards: the index is not JSON");
    const dfsae__json *root = &doc.nodes[0];
    int ok = root->type == DFSAE__JSON_OBJECT;
    const dfsae__json *fmt = ok ? dfsae__json_get(root, "format") : NULL;
    const dfsae__json *list = ok ? dfsae__json_get(root, "shards") : NULL;
    size_t version = 0;
    ok = ok && fmt != NULL && fmt->type == DFSAE__JSON_STRING &&
         strcmp(fmt->u.str, INDEX_FORMAT) == 0 &&
         json_size(root, "version", &version) && version == 1 &&
         json_size(root, "d_in", &ix->d) &&
         json_size(root, "n_components", &ix->k) && ix->d > 0 && ix->k > 0 &&
         list != NULL && list->type == DFSAE__JSON_ARRAY && list->count >= 1 &&
         list->count <= MAX_SHARDS;
    ix->n = ok ? list->count : 0;
    ix->shards = ok ? dfsae__alloc_array(a, ix->n, sizeof *ix->shards) : NULL;
    ok = ok && ix->shards != NULL;
    size_t next = 0, i = 0;
    for (const dfsae__json *e = ok ? dfsae__json_first(list) : NULL;
         ok && e != NULL; e = e->next, ++i) {
        const dfsae__json *file =
            e->type == DFSAE__JSON_OBJECT ? dfsae__json_get(e, "file") : NULL;
        shard_entry *sh = &ix->shards[i];
        ok = file != NULL && file->type == DFSAE__JSON_STRING &&
             plain_name(file->u.str) && strlen(file->u.str) < sizeof sh->file &&
             json_size(e, "first_component", &sh->first) &&
             json_size(e, "n_components", &sh->count) && sh->first == next &&
             sh->count > 0 && sh->count <= ix->k - next;
        if (ok) {
            strcpy(sh->file, file->u.str);
            next += sh->count;
        }
    }
    ok = ok && next == ix->k;
    dfsae__json_free(&doc, a);
    if (!ok) {
        dfsae__free(a, ix->shards);
        ix->shards = NULL;
        return dfsae__fail(err, DFSAE_ERR_BAD_HEADER,
                           "load_shards: not a valid " INDEX_FORMAT " index");
    }
    return DFSAE_OK;
}

/* Rows [a, b) of shard src's W and b into dst at component `at`. */
static void copy_rows(const dfsae_model *src, size_t a, size_t b,
                      dfsae_model *dst, size_t at)
{
    const size_t d = dst->d, rows = b - a;
    memcpy(dst->params + at * d, src->params + a * d, rows * d * sizeof(float));
    memcpy(dst->params + dst->k * d + at, src->params + src->k * d + a,
           rows * sizeof(float));
}

/* The same rows of each of a shard's optimizer state vectors (exported
 * from a model of k_src components) into to, the state vectors of the
 * optimizer of dst. Each vector is laid out as the parameters are. */
static void copy_state_rows(const dfsae__optim_snapshot *from, size_t k_src,
                            size_t a, size_t b, const dfsae_model *dst,
                            float *to, size_t at)
{
    const size_t d = dst->d, rows = b - a;
    for (size_t v = 0; v < from->n_state; ++v) {
        const float *f = from->state + v * from->n;
        float *t = to + v * dst->n_params;
        memcpy(t + at * d, f + a * d, rows * d * sizeof(float));
        memcpy(t + dst->k * d + at, f + k_src * d + a, rows * sizeof(float));
    }
}

/* The output's options, run state and metadata from the first shard it
 * draws on. */
static int adopt(const dfsae_model *src, dfsae_model *dst)
{
    dst->opt = src->opt;
    dst->run = src->run;
    const char *key;
    for (size_t i = 0; (key = dfsae_model_meta_key(src, i)) != NULL; ++i) {
        int st = dfsae_model_set_meta(dst, key, dfsae_model_get_meta(src, key));
        if (st != DFSAE_OK)
            return st;
    }
    return DFSAE_OK;
}

static int load_part(const char *dir, const shard_index *ix, size_t k0,
                     size_t k1, const dfsae_allocator *alloc,
                     dfsae_model **model_out, dfsae_optimizer **opt_out,
                     char *err)
{
    dfsae_model *out = NULL;
    /* The optimizer's state is assembled row by row from the shards'
     * exported states and imported into the output's optimizer at the
     * end, through the seam io/ uses (optim/state.c). */
    dfsae_optimizer *oo = NULL;
    dfsae__optim_snapshot whole = {0};
    float *whole_state = NULL;
    int st = dfsae_model_create(ix->d, k1 - k0, 0, alloc, &out);
    if (st != DFSAE_OK)
        return dfsae__fail(err, st, "load_shards: %s", dfsae_status_string(st));
    int adopted = 0;
    char path[PATH_CAP];
    for (size_t i = 0; i < ix->n && st == DFSAE_OK; ++i) {
        const shard_entry *s = &ix->shards[i];
        size_t a = s->first > k0 ? s->first : k0;
        size_t b = s->first + s->count < k1 ? s->first + s->count : k1;
        if (a >= b)
            continue;
        dfsae_model *sm = NULL;
        dfsae_optimizer *so = NULL;
        int len = snprintf(path, sizeof path, "%s%s", dir, s->file);
        if (len < 0 || (size_t)len >= sizeof path) {
            st =
                dfsae__fail(err, DFSAE_ERR_INVALID_ARG,
                            "load_shards: the path of %s is too long", s->file);
            break;
        }
        st = dfsae_model_load(path, alloc, &sm, opt_out != NULL ? &so : NULL,
                              err, DFSAE_ERR_LEN);
        if (st == DFSAE_OK && (sm->d != ix->d || sm->k != s->count))
            st = dfsae__fail(err, DFSAE_ERR_BAD_SHAPE,
                             "load_shards: %s is %zu x %zu, the index says "
                             "%zu x %zu",
                             s->file, sm->k, sm->d, s->count, ix->d);
        dfsae__optim_snapshot part = {0};
        if (st == DFSAE_OK && so != NULL)
            dfsae__optim_export(so, &part);
        if (st == DFSAE_OK && !adopted && so != NULL) {
            whole = part;
            whole.n = out->n_params;
            whole_state = dfsae__alloc_array(alloc, part.n_state * whole.n,
                                             sizeof(float));
            st = whole_state == NULL
                     ? dfsae__fail(err, DFSAE_ERR_NO_MEMORY,
                                   "load_shards: out of memory")
                     : dfsae_optimizer_create(part.kind, whole.n, alloc, &oo);
        }
        /* Every shard has optimizer state or none, of one kind and step. */
        if (st == DFSAE_OK && adopted &&
            ((so == NULL) != (oo == NULL) ||
             (so != NULL &&
              (part.kind != whole.kind || part.step != whole.step))))
            st = dfsae__fail(err, DFSAE_ERR_BAD_METADATA,
                             "load_shards: the shards' optimizer states "
                             "disagree (%s)",
                             s->file);
        if (st == DFSAE_OK && !adopted) {
            st = adopt(sm, out);
            adopted = 1;
        }
        if (st == DFSAE_OK) {
            copy_rows(sm, a - s->first, b - s->first, out, a - k0);
            if (so != NULL)
                copy_state_rows(&part, sm->k, a - s->first, b - s->first, out,
                                whole_state, a - k0);
        }
        dfsae_optimizer_free(so);
        dfsae_model_free(sm);
    }
    if (st == DFSAE_OK && oo != NULL) {
        whole.state = whole_state;
        st = dfsae__optim_import(oo, &whole, err);
    }
    dfsae__free(alloc, whole_state);
    if (st != DFSAE_OK) {
        dfsae_optimizer_free(oo);
        dfsae_model_free(out);
        return st;
    }
    *model_out = out;
    if (opt_out != NULL)
        *opt_out = oo;
    return DFSAE_OK;
}

int dfsae_model_load_shards(const char *index_path, int rank, int size,
                            const dfsae_allocator *allocator,
                            dfsae_model **model_out, dfsae_optimizer **opt_out,
                            char *errbuf, size_t errbuf_size)
{
    char err[DFSAE_ERR_LEN] = "";
    int st = DFSAE_OK;
    if (model_out != NULL)
        *model_out = NULL;
    if (opt_out != NULL)
        *opt_out = NULL;
    char *text = NULL;
    size_t text_len = 0;
    shard_index ix = {0, 0, 0, NULL};
    dfsae_allocator a;
    if (index_path == NULL || model_out == NULL)
        st = dfsae__fail(err, DFSAE_ERR_NULL_ARG,
                         "load_shards: a required pointer is NULL");
    else if (size < 1 || rank < 0 || rank >= size)
        st = dfsae__fail(err, DFSAE_ERR_INVALID_ARG,
                         "load_shards: rank %d outside [0, %d)", rank, size);
    else if (dfsae__allocator_init(&a, allocator) != DFSAE_OK)
        st = dfsae__fail(err, DFSAE_ERR_INVALID_ARG,
                         "load_shards: an allocator with one function");
    if (st == DFSAE_OK)
        st = read_text(index_path, &a, &text, &text_len, err);
    if (st == DFSAE_OK)
        st = parse_index(text, text_len, &a, &ix, err);
    if (st == DFSAE_OK && (size_t)size > ix.k)
        st =
            dfsae__fail(err, DFSAE_ERR_INVALID_ARG,
                        "load_shards: %d shards of %zu components", size, ix.k);
    if (st == DFSAE_OK) {
        /* The shard files sit beside the index. */
        char dir[PATH_CAP];
        size_t len = (size_t)(base_name(index_path) - index_path);
        if (len >= sizeof dir)
            st = dfsae__fail(err, DFSAE_ERR_INVALID_ARG,
                             "load_shards: the path is too long");
        else {
            memcpy(dir, index_path, len);
            dir[len] = '\0';
            size_t k0 = ix.k * (size_t)rank / (size_t)size;
            size_t k1 = ix.k * ((size_t)rank + 1) / (size_t)size;
            st = load_part(dir, &ix, k0, k1, &a, model_out, opt_out, err);
        }
    }
    if (text != NULL) {
        dfsae__free(&a, ix.shards);
        dfsae__free(&a, text);
    }
    if (errbuf != NULL && errbuf_size > 0) {
        size_t n =
            strlen(err) < errbuf_size - 1 ? strlen(err) : errbuf_size - 1;
        memcpy(errbuf, err, n);
        errbuf[n] = '\0';
    }
    return st;
}
