/* The public save functions: to a path (atomically) or to a buffer. */
#include <string.h>

#include "io/io.h"

static int check_args(dfsae_model *m, const dfsae_optimizer *opt,
                      const char *fn)
{
    if (opt != NULL && opt->n != m->n_params)
        return dfsae__fail(m->err, DFSAE_ERR_SIZE_MISMATCH,
                           "%s: the optimizer is for %zu parameters, the "
                           "model has %zu",
                           fn, opt->n, m->n_params);
    return DFSAE_OK;
}

int dfsae__save_with(dfsae_model *model, const dfsae_optimizer *opt,
                     const char *path, const dfsae__file_ops *ops)
{
    if (model == NULL)
        return DFSAE_ERR_NULL_ARG;
    if (path == NULL)
        return dfsae__fail(model->err, DFSAE_ERR_NULL_ARG,
                           "save: path is NULL");
    int st = check_args(model, opt, "save");
    if (st != DFSAE_OK)
        return st;
    dfsae__writer w;
    st = dfsae__writer_init(&w, model, opt, model->err);
    if (st == DFSAE_OK)
        st = dfsae__atomic_save(path, &w.st, ops, &model->alloc, model->err);
    dfsae__writer_free(&w);
    return st;
}

int dfsae_model_save(dfsae_model *model, const dfsae_optimizer *opt,
                     const char *path)
{
    return dfsae__save_with(model, opt, path, &dfsae__posix_file_ops);
}

typedef struct mem_sink {
    unsigned char *p;
    size_t at;
} mem_sink;

static int mem_write(void *ctx, const void *p, size_t n, char *err)
{
    (void)err;
    mem_sink *s = ctx;
    memcpy(s->p + s->at, p, n);
    s->at += n;
    return DFSAE_OK;
}

int dfsae_model_save_buffer(dfsae_model *model, const dfsae_optimizer *opt,
                            void *buf, size_t cap, size_t *written)
{
    if (model == NULL)
        return DFSAE_ERR_NULL_ARG;
    if (written == NULL)
        return dfsae__fail(model->err, DFSAE_ERR_NULL_ARG,
                           "save_buffer: written is NULL");
    int st = check_args(model, opt, "save_buffer");
    if (st != DFSAE_OK)
        return st;
    dfsae__writer w;
    st = dfsae__writer_init(&w, model, opt, model->err);
    if (st == DFSAE_OK && w.st.total > SIZE_MAX)
        st = dfsae__fail(model->err, DFSAE_ERR_SIZE_OVERFLOW,
                         "save_buffer: the file does not fit in memory");
    if (st == DFSAE_OK) {
        *written = (size_t)w.st.total;
        if (buf != NULL && cap < w.st.total) {
            st = dfsae__fail(model->err, DFSAE_ERR_SIZE_MISMATCH,
                             "save_buffer: the buffer holds %zu bytes, the "
                             "file needs %zu",
                             cap, (size_t)w.st.total);
        } else if (buf != NULL) {
            mem_sink ms = {buf, 0};
            dfsae__sink sink = {mem_write, &ms};
            st = dfsae__st_writer_emit(&w.st, &sink, model->err);
        }
    }
    dfsae__writer_free(&w);
    return st;
}
