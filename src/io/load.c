/* The public load functions. Every load opens one source (a file or a
 * buffer) and reads and validates the whole file into staging memory
 * (file_open, file_stage); only then does the create path make new
 * handles or the into path replace existing ones, so a failed load leaves
 * them bit-identical. */
#include <string.h>

#include "io/io.h"

/* Reads tensor `t` (n floats) from the data section at `base` into dst
 * and checks that every value is finite. */
static int stage(const dfsae__source *src, uint64_t base,
                 const dfsae__tensor *t, float *dst, size_t n, char *err)
{
    int st = src->read(src->ctx, base + t->begin, dst, n * sizeof *dst, err);
    if (st != DFSAE_OK)
        return st;
    dfsae__f32_from_le(dst, (const unsigned char *)dst, n);
    size_t bad = dfsae__first_non_finite(dst, n);
    if (bad != n)
        return dfsae__fail(err, DFSAE_ERR_NON_FINITE_INPUT,
                           "tensor \"%.64s\": element %zu is NaN or Inf",
                           t->name, bad);
    return DFSAE_OK;
}

/* Everything a load reads and checks before it changes a handle. */
typedef struct staged {
    float *buf; /* the parameters, then the optimizer's state vectors */
    dfsae_transform xf;
    dfsae__user_meta meta;
} staged;

static void staged_free(staged *s, const dfsae_allocator *a)
{
    dfsae__free(a, s->buf);
    dfsae__transform_free(a, &s->xf);
    dfsae__meta_free(&s->meta, a);
}

/* Reads the input transform's values into tmp (2 * c->xf_n floats) and
 * makes the transform a model would hold. */
static int stage_transform(const dfsae__source *src, uint64_t base,
                           const dfsae__ckpt *c, const dfsae_allocator *a,
                           float *tmp, dfsae_transform *xf, char *err)
{
    const size_t n = c->xf_n;
    int st = stage(src, base, c->shift, tmp, n, err);
    if (st == DFSAE_OK)
        st = stage(src, base, c->scale, tmp + n, n, err);
    if (st != DFSAE_OK)
        return st;
    for (size_t i = 0; i < n; ++i)
        if (tmp[n + i] == 0.0f)
            return dfsae__fail(err, DFSAE_ERR_BAD_METADATA,
                               "tensor \"" DFSAE__TENSOR_SCALE "\": element "
                               "%zu is 0",
                               i);
    if (dfsae__transform_check(tmp, tmp + n, n, c->d) != DFSAE_OK ||
        dfsae__transform_make(a, tmp, tmp + n, n, xf) != DFSAE_OK)
        return dfsae__fail(err, DFSAE_ERR_NO_MEMORY,
                           "out of memory for the input transform");
    return DFSAE_OK;
}

/* Reads and checks every tensor, the transform and the user pairs. The
 * optimizer's state is read and checked even when the caller drops it: a
 * file with a corrupt checkpoint is not a valid model file. */
static int stage_all(const dfsae__source *src, uint64_t base,
                     const dfsae__st_header *h, const dfsae__ckpt *c,
                     const dfsae_allocator *a, staged *s, char *err)
{
    size_t vectors = 1 + (c->has_optimizer ? c->n_state : 0), floats;
    if (!dfsae__mul_size(vectors, c->n_params, &floats) ||
        floats > SIZE_MAX - 2 * c->xf_n)
        return dfsae__fail(err, DFSAE_ERR_SIZE_OVERFLOW,
                           "the tensors do not fit in memory");
    s->buf = dfsae__alloc_array(a, floats + 2 * c->xf_n, sizeof *s->buf);
    if (s->buf == NULL)
        return dfsae__fail(err, DFSAE_ERR_NO_MEMORY,
                           "out of memory for %zu floats", floats);
    size_t kd = c->n_params - c->k;
    int st = stage(src, base, c->weight, s->buf, kd, err);
    if (st == DFSAE_OK)
        st = stage(src, base, c->bias, s->buf + kd, c->k, err);
    for (size_t i = 0; c->has_optimizer && st == DFSAE_OK && i < c->n_state;
         ++i)
        st = stage(src, base, c->state[i], s->buf + (i + 1) * c->n_params,
                   c->n_params, err);
    if (st == DFSAE_OK && c->has_optimizer)
        st = dfsae__optim_state_check(c->opt_kind, c->opt_step, c->opt_started,
                                      s->buf + c->n_params, c->n_params, err);
    if (st == DFSAE_OK && c->xf_n > 0)
        st = stage_transform(src, base, c, a, s->buf + floats, &s->xf, err);
    /* The pairs and the transform are made with the allocator of the model
     * that keeps them (a created model's is the load's). */
    if (st == DFSAE_OK)
        st = dfsae__user_meta_read(h, a, &s->meta, err);
    return st;
}

/* Commits everything the file says about the model; the staged transform
 * and pairs are taken over on success. */
static int apply_model(dfsae_model *m, const dfsae__ckpt *c, staged *s)
{
    dfsae_options saved = m->opt;
    int st = DFSAE_OK;
    for (int p = 0; p < DFSAE_MODEL_OPTION_COUNT && st == DFSAE_OK; ++p)
        st = dfsae_model_set_option(m, p, c->options[p]);
    if (st == DFSAE_OK)
        st = dfsae_model_set_params(m, s->buf, c->n_params);
    if (st != DFSAE_OK) {
        m->opt = saved; /* unreachable: every value was validated */
        return st;
    }
    m->run = c->run;
    dfsae__transform_install(&m->alloc, &m->xf, &s->xf);
    dfsae__meta_free(&m->meta, &m->alloc);
    m->meta = s->meta;
    memset(&s->meta, 0, sizeof s->meta);
    return DFSAE_OK;
}

/* Hands the staged state to the optimizer (checked already: cannot fail). */
static int apply_opt(dfsae_optimizer *o, const dfsae__ckpt *c,
                     const float *state, char *err)
{
    dfsae__optim_snapshot s = {.kind = c->opt_kind,
                               .step = c->opt_step,
                               .started = c->opt_started,
                               .n = c->n_params,
                               .n_state = c->n_state,
                               .state = state};
    memcpy(s.hp, c->hp, sizeof s.hp);
    return dfsae__optim_import(o, &s, err);
}

/* One model file being loaded, whichever the path: its byte source, the
 * parsed header, what the header says and, once staged, the values. */
typedef struct model_file {
    dfsae__source src;
    dfsae__file_source fs; /* when reading from a path */
    dfsae__mem_source ms;  /* when reading from a buffer */
    int file_open, header_parsed;
    uint64_t base; /* where the data section starts */
    dfsae__st_header h;
    dfsae__ckpt c;
    staged s;
    const dfsae_allocator *a; /* staging memory */
} model_file;

static void file_close(model_file *f)
{
    staged_free(&f->s, f->a);
    if (f->header_parsed)
        dfsae__st_header_free(&f->h, f->a);
    if (f->file_open)
        dfsae__source_close(&f->fs);
}

/* Opens path (or the buffer data when path is NULL), parses and checks
 * the header and reads what it says; file_close releases *f either way. */
static int file_open(model_file *f, const char *path, const void *data,
                     size_t size, const dfsae_allocator *a, char *err)
{
    memset(f, 0, sizeof *f);
    f->a = a;
    if (path != NULL) {
        int st = dfsae__source_open(&f->src, &f->fs, path, err);
        if (st != DFSAE_OK)
            return st;
        f->file_open = 1;
    } else {
        dfsae__source_mem(&f->src, &f->ms, data, size);
    }
    uint64_t n;
    int st = dfsae__st_header_length(&f->src, &n, err);
    if (st != DFSAE_OK)
        return st;
    char *text = dfsae__alloc(a, (size_t)n);
    if (text == NULL)
        return dfsae__fail(err, DFSAE_ERR_NO_MEMORY,
                           "out of memory for a %llu-byte header",
                           (unsigned long long)n);
    st = f->src.read(f->src.ctx, 8, text, (size_t)n, err);
    if (st == DFSAE_OK)
        st = dfsae__st_parse(text, (size_t)n, f->src.size - 8 - n, a, &f->h,
                             err);
    dfsae__free(a, text);
    if (st != DFSAE_OK)
        return st;
    f->header_parsed = 1;
    f->base = 8 + n;
    return dfsae__ckpt_read(&f->h, &f->c, err);
}

/* Reads and checks every value the header points at. */
static int file_stage(model_file *f, char *err)
{
    return stage_all(&f->src, f->base, &f->h, &f->c, f->a, &f->s, err);
}

/* The create path: new handles from a file (*opt only when opt is not
 * NULL and the file holds an optimizer). */
static int create_from(model_file *f, const dfsae_allocator *allocator,
                       dfsae_model **model, dfsae_optimizer **opt, char *err)
{
    const dfsae__ckpt *c = &f->c;
    int st = file_stage(f, err);
    if (st != DFSAE_OK)
        return st;
    dfsae_model *m = NULL;
    dfsae_optimizer *o = NULL;
    st = dfsae_model_create(c->d, c->k, 0, allocator, &m);
    if (st != DFSAE_OK)
        return dfsae__fail(err, st,
                           "cannot create a model with D = %zu, "
                           "K = %zu: %s",
                           c->d, c->k, dfsae_status_string(st));
    int want_opt = opt != NULL && c->has_optimizer;
    if (want_opt) {
        st = dfsae_optimizer_create(c->opt_kind, c->n_params, allocator, &o);
        if (st != DFSAE_OK)
            st = dfsae__fail(err, st, "cannot create the optimizer: %s",
                             dfsae_status_string(st));
    }
    if (st == DFSAE_OK) {
        st = apply_model(m, c, &f->s);
        if (st != DFSAE_OK)
            dfsae__fail(err, st, "%s", m->err);
    }
    if (st == DFSAE_OK && want_opt)
        st = apply_opt(o, c, f->s.buf + c->n_params, err);
    if (st != DFSAE_OK) {
        dfsae_optimizer_free(o);
        dfsae_model_free(m);
        return st;
    }
    *model = m;
    if (opt != NULL)
        *opt = o;
    return DFSAE_OK;
}

/* The into path: replaces model (and opt, which may be NULL) with what
 * the file holds, all or nothing. */
static int replace_from(model_file *f, dfsae_model *m, dfsae_optimizer *o,
                        char *err)
{
    const dfsae__ckpt *c = &f->c;
    if (o != NULL && !c->has_optimizer)
        return dfsae__fail(err, DFSAE_ERR_BAD_HEADER,
                           "the file holds no optimizer state (it was "
                           "saved without an optimizer)");
    if (m->d != c->d || m->k != c->k)
        return dfsae__fail(err, DFSAE_ERR_SIZE_MISMATCH,
                           "the file holds a model with D = %zu, K = %zu; "
                           "this model has D = %zu, K = %zu",
                           c->d, c->k, m->d, m->k);
    int st = DFSAE_OK;
    if (o != NULL)
        st = dfsae__optim_accepts(o, c->opt_kind, c->n_params, err);
    if (st == DFSAE_OK)
        st = file_stage(f, err);
    if (st == DFSAE_OK)
        st = apply_model(m, c, &f->s);
    if (st == DFSAE_OK && o != NULL)
        st = apply_opt(o, c, f->s.buf + c->n_params, err);
    return st;
}

static void copy_message(char *errbuf, size_t size, const char *msg)
{
    if (errbuf == NULL || size == 0)
        return;
    size_t n = strlen(msg);
    if (n >= size)
        n = size - 1;
    memcpy(errbuf, msg, n);
    errbuf[n] = '\0';
}

/* Create-style loads from a file (path) or a buffer (data). */
static int load_new(const char *path, const void *data, size_t size,
                    const dfsae_allocator *allocator, dfsae_model **model_out,
                    dfsae_optimizer **opt_out, char *errbuf, size_t errbuf_size)
{
    char err[DFSAE_ERR_LEN] = "";
    if (model_out != NULL)
        *model_out = NULL;
    if (opt_out != NULL)
        *opt_out = NULL;
    int st;
    if (model_out == NULL || (path == NULL && data == NULL)) {
        st = dfsae__fail(err, DFSAE_ERR_NULL_ARG, "load: %s is NULL",
                         model_out == NULL ? "the model output"
                                           : "the path or data");
        copy_message(errbuf, errbuf_size, err);
        return st;
    }
    dfsae_allocator a;
    if (dfsae__allocator_init(&a, allocator) != DFSAE_OK) {
        st = dfsae__fail(err, DFSAE_ERR_INVALID_ARG,
                         "load: the allocator sets only one of alloc/free");
        copy_message(errbuf, errbuf_size, err);
        return st;
    }
    model_file f;
    st = file_open(&f, path, data, size, &a, err);
    if (st == DFSAE_OK)
        st = create_from(&f, allocator, model_out, opt_out, err);
    file_close(&f);
    if (st == DFSAE_OK)
        err[0] = '\0';
    copy_message(errbuf, errbuf_size, err);
    return st;
}

/* Loads into existing handles; the message goes to both. */
static int load_into(dfsae_model *model, dfsae_optimizer *opt, const char *path,
                     const void *data, size_t size)
{
    if (model == NULL)
        return DFSAE_ERR_NULL_ARG;
    char *err = model->err;
    int st;
    if (path == NULL && data == NULL) {
        st = dfsae__fail(err, DFSAE_ERR_NULL_ARG,
                         "load_into: the path or data is NULL");
    } else {
        model_file f;
        st = file_open(&f, path, data, size, &model->alloc, err);
        if (st == DFSAE_OK)
            st = replace_from(&f, model, opt, err);
        file_close(&f);
    }
    if (st != DFSAE_OK && opt != NULL)
        memcpy(opt->err, model->err, DFSAE_ERR_LEN);
    return st;
}

int dfsae_model_load(const char *path, const dfsae_allocator *allocator,
                     dfsae_model **model_out, dfsae_optimizer **opt_out,
                     char *errbuf, size_t errbuf_size)
{
    if (path == NULL) {
        copy_message(errbuf, errbuf_size, "load: path is NULL");
        if (model_out != NULL)
            *model_out = NULL;
        if (opt_out != NULL)
            *opt_out = NULL;
        return DFSAE_ERR_NULL_ARG;
    }
    return load_new(path, NULL, 0, allocator, model_out, opt_out, errbuf,
                    errbuf_size);
}

int dfsae_model_load_buffer(const void *data, size_t size,
                            const dfsae_allocator *allocator,
                            dfsae_model **model_out, dfsae_optimizer **opt_out,
                            char *errbuf, size_t errbuf_size)
{
    if (data == NULL) {
        copy_message(errbuf, errbuf_size, "load_buffer: data is NULL");
        if (model_out != NULL)
            *model_out = NULL;
        if (opt_out != NULL)
            *opt_out = NULL;
        return DFSAE_ERR_NULL_ARG;
    }
    return load_new(NULL, data, size, allocator, model_out, opt_out, errbuf,
                    errbuf_size);
}

int dfsae_model_load_into(dfsae_model *model, dfsae_optimizer *opt,
                          const char *path)
{
    return load_into(model, opt, path, NULL, 0);
}

int dfsae_model_load_buffer_into(dfsae_model *model, dfsae_optimizer *opt,
                                 const void *data, size_t size)
{
    return load_into(model, opt, NULL, data, size);
}
