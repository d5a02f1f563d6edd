/* The public load functions. One path for all of them: read and validate
 * the whole file into staging memory, and only then create or change the
 * handles, so a failed load leaves them bit-identical. */
#include <string.h>

#include "io/io.h"

typedef struct target {
    /* load_into: the handles to change (opt may be NULL) */
    dfsae_model *model;
    dfsae_optimizer *opt;
    /* load: the handles to create (opt_out may be NULL) */
    dfsae_model **model_out;
    dfsae_optimizer **opt_out;
    const dfsae_allocator *alloc;
} target;

static int check_handles(const target *t, const dfsae__ckpt *c, char *err)
{
    if (t->model == NULL)
        return DFSAE_OK;
    if (t->model->d != c->d || t->model->k != c->k)
        return dfsae__fail(err, DFSAE_ERR_SIZE_MISMATCH,
                           "the file holds a model with D = %zu, K = %zu; "
                           "this model has D = %zu, K = %zu",
                           c->d, c->k, t->model->d, t->model->k);
    if (t->opt == NULL)
        return DFSAE_OK;
    return dfsae__optim_accepts(t->opt, c->opt_kind, c->n_params, err);
}

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

/* Creates the handles a create-style load returns. */
static int create_handles(target *t, const dfsae__ckpt *c, char *err)
{
    int st = dfsae_model_create(c->d, c->k, 0, t->alloc, &t->model);
    if (st != DFSAE_OK)
        return dfsae__fail(err, st,
                           "cannot create a model with D = %zu, "
                           "K = %zu: %s",
                           c->d, c->k, dfsae_status_string(st));
    if (t->opt_out == NULL || !c->has_optimizer)
        return DFSAE_OK;
    st = dfsae_optimizer_create(c->opt_kind, c->n_params, t->alloc, &t->opt);
    if (st != DFSAE_OK) {
        dfsae_model_free(t->model);
        t->model = NULL;
        return dfsae__fail(err, st, "cannot create the optimizer: %s",
                           dfsae_status_string(st));
    }
    return DFSAE_OK;
}

static int load_parsed(const dfsae__source *src, uint64_t base,
                       const dfsae__st_header *h, target *t,
                       const dfsae_allocator *a, char *err)
{
    dfsae__ckpt c;
    int st = dfsae__ckpt_read(h, &c, err);
    if (st != DFSAE_OK)
        return st;
    /* A create-style load returns no optimizer for a file without one;
     * loading into an optimizer needs the state to load. */
    if (t->opt != NULL && !c.has_optimizer)
        return dfsae__fail(err, DFSAE_ERR_BAD_HEADER,
                           "the file holds no optimizer state (it was "
                           "saved without an optimizer)");
    int want_opt = t->opt != NULL || (t->opt_out != NULL && c.has_optimizer);
    st = check_handles(t, &c, err);
    if (st != DFSAE_OK)
        return st;

    staged s;
    memset(&s, 0, sizeof s);
    st = stage_all(src, base, h, &c, a, &s, err);
    int created = t->model == NULL;
    if (st == DFSAE_OK && created)
        st = create_handles(t, &c, err);
    if (st == DFSAE_OK) {
        st = apply_model(t->model, &c, &s);
        if (st != DFSAE_OK && err != t->model->err)
            dfsae__fail(err, st, "%s", t->model->err);
    }
    if (st == DFSAE_OK && want_opt)
        st = apply_opt(t->opt, &c, s.buf + c.n_params, err);
    if (st != DFSAE_OK && created) {
        dfsae_model_free(t->model);
        dfsae_optimizer_free(t->opt);
        t->model = NULL;
        t->opt = NULL;
    }
    staged_free(&s, a);
    return st;
}

/* Reads the length prefix and the header, then hands over. */
static int load(const dfsae__source *src, target *t, const dfsae_allocator *a,
                char *err)
{
    uint64_t n;
    int st = dfsae__st_header_length(src, &n, err);
    if (st != DFSAE_OK)
        return st;
    char *text = dfsae__alloc(a, (size_t)n);
    if (text == NULL)
        return dfsae__fail(err, DFSAE_ERR_NO_MEMORY,
                           "out of memory for a %llu-byte header",
                           (unsigned long long)n);
    st = src->read(src->ctx, 8, text, (size_t)n, err);
    dfsae__st_header h;
    if (st == DFSAE_OK)
        st = dfsae__st_parse(text, (size_t)n, src->size - 8 - n, a, &h, err);
    dfsae__free(a, text);
    if (st != DFSAE_OK)
        return st;
    st = load_parsed(src, 8 + n, &h, t, a, err);
    dfsae__st_header_free(&h, a);
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
    target t = {NULL, NULL, model_out, opt_out, allocator};
    dfsae__source src;
    if (path != NULL) {
        dfsae__file_source fs;
        st = dfsae__source_open(&src, &fs, path, err);
        if (st == DFSAE_OK) {
            st = load(&src, &t, &a, err);
            dfsae__source_close(&fs);
        }
    } else {
        dfsae__mem_source ms;
        dfsae__source_mem(&src, &ms, data, size);
        st = load(&src, &t, &a, err);
    }
    if (st == DFSAE_OK) {
        *model_out = t.model;
        if (opt_out != NULL)
            *opt_out = t.opt;
        err[0] = '\0';
    }
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
        target t = {model, opt, NULL, NULL, NULL};
        dfsae__source src;
        if (path != NULL) {
            dfsae__file_source fs;
            st = dfsae__source_open(&src, &fs, path, err);
            if (st == DFSAE_OK) {
                st = load(&src, &t, &model->alloc, err);
                dfsae__source_close(&fs);
            }
        } else {
            dfsae__mem_source ms;
            dfsae__source_mem(&src, &ms, data, size);
            st = load(&src, &t, &model->alloc, err);
        }
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
