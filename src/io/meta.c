/* What a file means for dfsae: which tensors are W and b, the options and
 * optimizer state in "__metadata__", and the reverse mapping for saving.
 * Every key is documented in docs/format.md. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/io.h"

#define KEY_VERSION   "dfsae.format_version"
#define KEY_LIBRARY   "dfsae.library_version"
#define KEY_OPTIMIZER "dfsae.optimizer"
#define KEY_STEP      "dfsae.optimizer.step"
#define KEY_STARTED   "dfsae.optimizer.momentum_started"

/* The run state's keys, each a whole number read into and written from
 * its field. */
static const struct {
    const char *key;
    size_t offset;
} run_keys[] = {
    {"dfsae.run.epochs", offsetof(dfsae__run_state, epochs)},
    {"dfsae.run.rows", offsetof(dfsae__run_state, rows)},
    {"dfsae.run.seed", offsetof(dfsae__run_state, seed)},
};
#define RUN_KEY_COUNT (sizeof run_keys / sizeof run_keys[0])

const char *dfsae__state_name(int kind, size_t index)
{
    static const char *const sgd[] = {"optimizer.momentum_buffer"};
    static const char *const adam[] = {"optimizer.exp_avg",
                                       "optimizer.exp_avg_sq"};
    if (kind == DFSAE_SGD)
        return index < 1 ? sgd[index] : NULL;
    if (kind == DFSAE_ADAM || kind == DFSAE_ADAMW)
        return index < 2 ? adam[index] : NULL;
    return NULL;
}

size_t dfsae__state_count(int kind)
{
    size_t n = 0;
    while (dfsae__state_name(kind, n) != NULL)
        ++n;
    return n;
}

/* Reads option `p` from its metadata string into *v. */
static int read_option(int p, const char *s, double *v, char *err)
{
    const dfsae__key_spec *spec = dfsae__model_option_spec(p);
    const char *key = spec->meta_key;
    if (spec->kind == DFSAE__KIND_ENUM) {
        for (int i = (int)spec->lo; i <= (int)spec->hi; ++i)
            if (strcmp(spec->value_name(i), s) == 0) {
                *v = i;
                return DFSAE_OK;
            }
        return dfsae__fail(err, DFSAE_ERR_BAD_METADATA,
                           "%s: unknown %s \"%.32s\"", key, spec->value_noun,
                           s);
    }
    if (!dfsae__parse_double(s, v))
        return dfsae__fail(err, DFSAE_ERR_BAD_METADATA,
                           "%s: \"%.32s\" is not a finite decimal number", key,
                           s);
    if (!(*v >= spec->lo && *v <= spec->hi))
        return dfsae__fail(err, DFSAE_ERR_BAD_METADATA,
                           "%s: %g is outside [%g, %g]", key, *v, spec->lo,
                           spec->hi);
    return DFSAE_OK;
}

static int read_version(const dfsae__st_header *h, char *err)
{
    const char *s = dfsae__st_meta(h, KEY_VERSION);
    uint64_t v;
    if (!dfsae__parse_u64(s, &v) || v == 0)
        return dfsae__fail(err, DFSAE_ERR_BAD_METADATA,
                           KEY_VERSION " \"%.32s\" is not a positive "
                                       "integer",
                           s);
    if (v > DFSAE_FORMAT_VERSION)
        return dfsae__fail(err, DFSAE_ERR_UNSUPPORTED_VERSION,
                           "the file has format version %llu; this "
                           "library (%s) reads versions up to %d",
                           (unsigned long long)v, DFSAE_VERSION_STRING,
                           DFSAE_FORMAT_VERSION);
    return DFSAE_OK;
}

/* Checks that tensor t is F32 with the given rank and dimensions. */
static int check_f32(const dfsae__tensor *t, size_t rank, uint64_t d0,
                     uint64_t d1, char *err)
{
    if (strcmp(t->dtype, "F32") != 0)
        return dfsae__fail(err, DFSAE_ERR_BAD_DTYPE,
                           "tensor \"%.64s\" has dtype %.16s; dfsae reads "
                           "F32 only",
                           t->name, t->dtype);
    if (t->rank != rank)
        return dfsae__fail(err, DFSAE_ERR_BAD_SHAPE,
                           "tensor \"%.64s\" has rank %zu, expected %zu",
                           t->name, t->rank, rank);
    if (t->dims[0] != d0 || (rank == 2 && t->dims[1] != d1))
        return dfsae__fail(err, DFSAE_ERR_BAD_SHAPE,
                           "tensor \"%.64s\" has the wrong shape (expected "
                           "%llu%s%.0llu)",
                           t->name, (unsigned long long)d0,
                           rank == 2 ? " x " : "",
                           (unsigned long long)(rank == 2 ? d1 : 0));
    return DFSAE_OK;
}

/* W and b under nn.Linear's names or an Encoder's "linear." names; mixing
 * the two or carrying both would be ambiguous. */
/* The input transform: both tensors F32 of 1 or D elements, or neither.
 * Their values are checked when the load stages them. */
static int find_transform(const dfsae__st_header *h, dfsae__ckpt *c, char *err)
{
    const dfsae__tensor *shift = dfsae__st_find(h, DFSAE__TENSOR_SHIFT);
    const dfsae__tensor *scale = dfsae__st_find(h, DFSAE__TENSOR_SCALE);
    if (shift == NULL && scale == NULL)
        return DFSAE_OK;
    if (shift == NULL || scale == NULL)
        return dfsae__fail(
            err, DFSAE_ERR_BAD_HEADER, "the file has \"%s\" without \"%s\"",
            shift != NULL ? DFSAE__TENSOR_SHIFT : DFSAE__TENSOR_SCALE,
            shift != NULL ? DFSAE__TENSOR_SCALE : DFSAE__TENSOR_SHIFT);
    uint64_t n = shift->rank == 1 && shift->dims[0] == 1 ? 1 : c->d;
    int st = check_f32(shift, 1, n, 0, err);
    if (st == DFSAE_OK)
        st = check_f32(scale, 1, n, 0, err);
    if (st != DFSAE_OK)
        return st;
    c->shift = shift;
    c->scale = scale;
    c->xf_n = (size_t)n;
    return DFSAE_OK;
}

static int find_params(const dfsae__st_header *h, dfsae__ckpt *c, char *err)
{
    const dfsae__tensor *w = dfsae__st_find(h, "weight");
    const dfsae__tensor *b = dfsae__st_find(h, "bias");
    const dfsae__tensor *lw = dfsae__st_find(h, "linear.weight");
    const dfsae__tensor *lb = dfsae__st_find(h, "linear.bias");
    if ((w != NULL || b != NULL) && (lw != NULL || lb != NULL))
        return dfsae__fail(err, DFSAE_ERR_BAD_HEADER,
                           "the file has both \"weight\"/\"bias\" and "
                           "\"linear.weight\"/\"linear.bias\"");
    if (w == NULL && b == NULL) {
        w = lw;
        b = lb;
    }
    if (w == NULL || b == NULL)
        return dfsae__fail(err, DFSAE_ERR_BAD_HEADER,
                           "the file has no %s tensor (\"weight\" and "
                           "\"bias\", or \"linear.weight\" and "
                           "\"linear.bias\")",
                           w == NULL ? "weight" : "bias");
    if (strcmp(w->dtype, "F32") != 0 || w->rank != 2)
        return check_f32(w, 2, w->dims[0], w->dims[1], err);
    if (w->dims[0] == 0 || w->dims[1] == 0)
        return dfsae__fail(err, DFSAE_ERR_BAD_SHAPE,
                           "tensor \"%.64s\" is empty (%llu x %llu)", w->name,
                           (unsigned long long)w->dims[0],
                           (unsigned long long)w->dims[1]);
    int st = check_f32(b, 1, w->dims[0], 0, err);
    if (st != DFSAE_OK)
        return st;
    /* The data section bounds the counts, and the whole section fit in
     * memory or a file; still, K and D must pass dfsae_model_create. */
    if (w->dims[0] > SIZE_MAX || w->dims[1] > SIZE_MAX)
        return dfsae__fail(err, DFSAE_ERR_SIZE_OVERFLOW,
                           "the model's shape overflows size_t");
    c->k = (size_t)w->dims[0];
    c->d = (size_t)w->dims[1];
    c->n_params = (size_t)(w->count + b->count);
    c->weight = w;
    c->bias = b;
    return DFSAE_OK;
}

static int read_optimizer(const dfsae__st_header *h, dfsae__ckpt *c, char *err)
{
    const char *kind = dfsae__st_meta(h, KEY_OPTIMIZER);
    c->opt_kind = -1;
    for (int k = 0; k < DFSAE_OPTIMIZER_KIND_COUNT; ++k)
        if (strcmp(dfsae_optimizer_kind_name(k), kind) == 0)
            c->opt_kind = k;
    if (c->opt_kind < 0)
        return dfsae__fail(err, DFSAE_ERR_BAD_METADATA,
                           KEY_OPTIMIZER ": unknown optimizer \"%.32s\"", kind);
    const char *step = dfsae__st_meta(h, KEY_STEP);
    if (step == NULL || !dfsae__parse_u64(step, &c->opt_step))
        return dfsae__fail(err, DFSAE_ERR_BAD_METADATA,
                           KEY_STEP " is missing or not a whole number");
    for (int p = 0; p < DFSAE_OPT_COUNT; ++p) {
        c->hp[p] = 0.0;
        const dfsae__optim_key *key = dfsae__optim_key_of(c->opt_kind, p);
        if (key == NULL)
            continue;
        const dfsae__key_spec *spec = &key->spec;
        const char *s = dfsae__st_meta(h, spec->meta_key);
        if (s == NULL)
            return dfsae__fail(err, DFSAE_ERR_BAD_METADATA, "%s is missing",
                               spec->meta_key);
        if (!dfsae__parse_double(s, &c->hp[p]) ||
            !dfsae__key_valid(spec, c->hp[p]))
            return dfsae__fail(err, DFSAE_ERR_BAD_METADATA,
                               "%s: \"%.32s\" is not a number in [%g, %g]",
                               spec->meta_key, s, spec->lo, spec->hi);
    }
    /* SGD starts its momentum buffer at the first step that uses
     * momentum; without the key, that is any step taken with momentum. */
    c->opt_started = c->opt_kind == DFSAE_SGD && c->opt_step > 0 &&
                     c->hp[DFSAE_OPT_MOMENTUM] != 0.0;
    const char *started = dfsae__st_meta(h, KEY_STARTED);
    if (c->opt_kind == DFSAE_SGD && started != NULL) {
        if (strcmp(started, "0") != 0 && strcmp(started, "1") != 0)
            return dfsae__fail(err, DFSAE_ERR_BAD_METADATA,
                               KEY_STARTED " \"%.32s\" is not 0 or 1", started);
        c->opt_started = started[0] == '1';
    }
    c->n_state = dfsae__state_count(c->opt_kind);
    for (size_t i = 0; i < c->n_state; ++i) {
        const char *name = dfsae__state_name(c->opt_kind, i);
        const dfsae__tensor *t = dfsae__st_find(h, name);
        if (t == NULL)
            return dfsae__fail(err, DFSAE_ERR_BAD_HEADER,
                               "the %s optimizer state has no \"%s\" "
                               "tensor",
                               kind, name);
        int st = check_f32(t, 1, c->n_params, 0, err);
        if (st != DFSAE_OK)
            return st;
        c->state[i] = t;
    }
    c->has_optimizer = 1;
    return DFSAE_OK;
}

/* The run state; each missing key reads as 0 (format 1 has none). */
static int read_run_state(const dfsae__st_header *h, dfsae__run_state *r,
                          char *err)
{
    for (size_t i = 0; i < RUN_KEY_COUNT; ++i) {
        const char *s = dfsae__st_meta(h, run_keys[i].key);
        uint64_t v = 0;
        if (s != NULL && !dfsae__parse_u64(s, &v))
            return dfsae__fail(err, DFSAE_ERR_BAD_METADATA,
                               "%s: \"%.32s\" is not a whole number",
                               run_keys[i].key, s);
        memcpy((char *)r + run_keys[i].offset, &v, sizeof v);
    }
    return DFSAE_OK;
}

typedef struct user_reader {
    dfsae__user_meta *out;
    const dfsae_allocator *a;
    char *err;
} user_reader;

static int read_user_pair(void *ctx, const char *key, const char *value)
{
    user_reader *r = ctx;
    const size_t plen = sizeof DFSAE__USER_PREFIX - 1;
    if (strncmp(key, DFSAE__USER_PREFIX, plen) != 0)
        return DFSAE_OK;
    /* What a model cannot hold is not loaded silently: the message names
     * the file's key. */
    char why[DFSAE_ERR_LEN];
    int st = dfsae__meta_check(key + plen, value, why);
    if (st == DFSAE_OK && dfsae__meta_find(r->out, key + plen) == NULL &&
        r->out->n == DFSAE__META_ENTRIES)
        st = dfsae__fail(why, DFSAE_ERR_INVALID_ARG, "more than %d pairs",
                         DFSAE__META_ENTRIES);
    if (st != DFSAE_OK)
        return dfsae__fail(r->err, DFSAE_ERR_BAD_METADATA, "%.40s: %s", key,
                           why);
    return dfsae__meta_put(r->out, r->a, key + plen, value, r->err);
}

int dfsae__user_meta_read(const dfsae__st_header *h, const dfsae_allocator *a,
                          dfsae__user_meta *out, char *err)
{
    memset(out, 0, sizeof *out);
    user_reader r = {out, a, err};
    int st = dfsae__st_meta_each(h, read_user_pair, &r);
    if (st != DFSAE_OK)
        dfsae__meta_free(out, a);
    return st;
}

int dfsae__ckpt_read(const dfsae__st_header *h, dfsae__ckpt *c, char *err)
{
    memset(c, 0, sizeof *c);
    int st = find_params(h, c, err);
    if (st == DFSAE_OK)
        st = find_transform(h, c, err);
    if (st != DFSAE_OK)
        return st;
    for (int p = 0; p < DFSAE_MODEL_OPTION_COUNT; ++p)
        c->options[p] = dfsae__model_option_spec(p)->def;
    /* A file without dfsae's version key is a foreign tensor file (plain
     * PyTorch, or a tool's own metadata): W and b with default options. */
    if (dfsae__st_meta(h, KEY_VERSION) == NULL)
        return DFSAE_OK;
    st = read_version(h, err);
    if (st != DFSAE_OK)
        return st;
    for (int p = 0; p < DFSAE_MODEL_OPTION_COUNT; ++p) {
        const char *s =
            dfsae__st_meta(h, dfsae__model_option_spec(p)->meta_key);
        if (s == NULL)
            continue;
        st = read_option(p, s, &c->options[p], err);
        if (st != DFSAE_OK)
            return st;
    }
    st = read_run_state(h, &c->run, err);
    if (st != DFSAE_OK)
        return st;
    if (dfsae__st_meta(h, KEY_OPTIMIZER) != NULL)
        return read_optimizer(h, c, err);
    return DFSAE_OK;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const dfsae__meta_entry *)a)->key,
                  ((const dfsae__meta_entry *)b)->key);
}

size_t dfsae__meta_collect(const dfsae_model *m,
                           const dfsae__optim_snapshot *opt,
                           dfsae__meta_entry out[DFSAE__MAX_META])
{
    size_t n = 0;
    out[n].key = KEY_VERSION;
    snprintf(out[n++].value, DFSAE__NUM_LEN, "%d", DFSAE_FORMAT_VERSION);
    out[n].key = KEY_LIBRARY;
    snprintf(out[n++].value, DFSAE__NUM_LEN, "%s", DFSAE_VERSION_STRING);
    for (int p = 0; p < DFSAE_MODEL_OPTION_COUNT; ++p) {
        const dfsae__key_spec *spec = dfsae__model_option_spec(p);
        double v = dfsae__key_load(spec, &m->opt);
        out[n].key = spec->meta_key;
        if (spec->kind == DFSAE__KIND_ENUM)
            snprintf(out[n].value, DFSAE__NUM_LEN, "%s",
                     spec->value_name((int)v));
        else
            dfsae__format_double(out[n].value, v);
        ++n;
    }
    for (size_t i = 0; i < RUN_KEY_COUNT; ++i) {
        uint64_t v;
        memcpy(&v, (const char *)&m->run + run_keys[i].offset, sizeof v);
        out[n].key = run_keys[i].key;
        snprintf(out[n++].value, DFSAE__NUM_LEN, "%llu", (unsigned long long)v);
    }
    if (opt != NULL) {
        out[n].key = KEY_OPTIMIZER;
        snprintf(out[n++].value, DFSAE__NUM_LEN, "%s",
                 dfsae_optimizer_kind_name(opt->kind));
        out[n].key = KEY_STEP;
        snprintf(out[n++].value, DFSAE__NUM_LEN, "%llu",
                 (unsigned long long)opt->step);
        if (opt->kind == DFSAE_SGD) {
            out[n].key = KEY_STARTED;
            snprintf(out[n++].value, DFSAE__NUM_LEN, "%d", opt->started != 0);
        }
        for (int p = 0; p < DFSAE_OPT_COUNT; ++p) {
            const dfsae__optim_key *key = dfsae__optim_key_of(opt->kind, p);
            if (key == NULL)
                continue;
            out[n].key = key->spec.meta_key;
            dfsae__format_double(out[n++].value, opt->hp[p]);
        }
    }
    qsort(out, n, sizeof *out, cmp_entry);
    return n;
}
