/* The test's owned things (fixture.h): a list, freed newest first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "api_alloc.h"
#include "fixture.h"
#include "io_util.h"

enum {
    FX_MEMORY,
    FX_DIR,
    FX_SNAPSHOT,
    FX_MODEL,
    FX_OPTIMIZER,
    FX_CONFIG,
    FX_SOURCE,
    FX_CUSTOM
};

/* One owned thing; a list node, so a slot's address stays put. */
typedef struct owned {
    struct owned *next;
    int kind;
    union {
        void *mem; /* FX_MEMORY, FX_DIR, FX_SNAPSHOT */
        dfsae_model *model;
        dfsae_optimizer *opt;
        dfsae_train_config *config;
        dfsae_source *source;
    } u;
    void (*release)(void *); /* FX_CUSTOM, on u.mem */
} owned;

typedef struct fixture {
    owned *newest;
} fixture;

static const void *address(const owned *o)
{
    switch (o->kind) {
    case FX_MODEL: return o->u.model;
    case FX_OPTIMIZER: return o->u.opt;
    case FX_CONFIG: return o->u.config;
    case FX_SOURCE: return o->u.source;
    default: return o->u.mem;
    }
}

static void release(owned *o)
{
    switch (o->kind) {
    case FX_DIR:
        if (o->u.mem != NULL)
            io_rmdir(o->u.mem);
        free(o->u.mem);
        break;
    case FX_SNAPSHOT:
        if (o->u.mem != NULL)
            io_snapshot_free(o->u.mem);
        free(o->u.mem);
        break;
    case FX_MODEL: dfsae_model_free(o->u.model); break;
    case FX_OPTIMIZER: dfsae_optimizer_free(o->u.opt); break;
    case FX_CONFIG: dfsae_train_config_free(o->u.config); break;
    case FX_SOURCE: dfsae_source_free(o->u.source); break;
    case FX_CUSTOM:
        if (o->u.mem != NULL)
            o->release(o->u.mem);
        break;
    default: free(o->u.mem); break;
    }
    free(o);
}

int fixture_setup(void **state)
{
    *state = calloc(1, sizeof(fixture));
    return *state == NULL ? -1 : 0;
}

int fixture_teardown(void **state)
{
    fixture *f = *state;
    while (f->newest != NULL) {
        owned *o = f->newest;
        f->newest = o->next;
        release(o);
    }
    free(f);
    *state = NULL;
    return 0;
}

static owned *take(void **state, int kind)
{
    fixture *f = *state;
    assert_non_null(f);
    owned *o = calloc(1, sizeof *o);
    assert_non_null(o);
    o->kind = kind;
    o->next = f->newest;
    f->newest = o;
    return o;
}

void *fx_keep(void **state, void *p)
{
    take(state, FX_MEMORY)->u.mem = p;
    return p;
}

void *fx_alloc(void **state, size_t size)
{
    void *p = fx_keep(state, calloc(1, size));
    assert_non_null(p);
    return p;
}

void *fx_keep_with(void **state, void *p, void (*free_fn)(void *))
{
    owned *o = take(state, FX_CUSTOM);
    o->u.mem = p;
    o->release = free_fn;
    return p;
}

char *fx_tempdir(void **state)
{
    char *dir = io_tempdir();
    take(state, FX_DIR)->u.mem = dir;
    assert_non_null(dir);
    return dir;
}

char *fx_join(void **state, const char *dir, const char *name)
{
    char *path = fx_keep(state, io_join(dir, name));
    assert_non_null(path);
    return path;
}

dfsae_model **fx_model_slot(void **state)
{
    return &take(state, FX_MODEL)->u.model;
}

dfsae_optimizer **fx_optimizer_slot(void **state)
{
    return &take(state, FX_OPTIMIZER)->u.opt;
}

dfsae_model *fx_keep_model(void **state, dfsae_model *m)
{
    *fx_model_slot(state) = m;
    return m;
}

dfsae_model *fx_model(void **state, size_t d, size_t k, uint64_t seed)
{
    dfsae_model **m = fx_model_slot(state);
    assert_int_equal(dfsae_model_create(d, k, seed, NULL, m), DFSAE_OK);
    return *m;
}

dfsae_optimizer *fx_optimizer(void **state, int kind, size_t n)
{
    dfsae_optimizer **o = fx_optimizer_slot(state);
    assert_int_equal(dfsae_optimizer_create(kind, n, NULL, o), DFSAE_OK);
    return *o;
}

api_alloc_ctl *fx_alloc_ctl(void **state)
{
    api_alloc_ctl *ctl = fx_alloc(state, sizeof *ctl);
    api_alloc_ctl_init(ctl);
    return ctl;
}

dfsae_model *fx_model_on(void **state, api_alloc_ctl *ctl, size_t d, size_t k,
                         uint64_t seed)
{
    const dfsae_allocator a = api_allocator(ctl);
    dfsae_model **m = fx_model_slot(state);
    assert_int_equal(dfsae_model_create(d, k, seed, &a, m), DFSAE_OK);
    return *m;
}

dfsae_optimizer *fx_optimizer_on(void **state, api_alloc_ctl *ctl, int kind,
                                 size_t n)
{
    const dfsae_allocator a = api_allocator(ctl);
    dfsae_optimizer **o = fx_optimizer_slot(state);
    assert_int_equal(dfsae_optimizer_create(kind, n, &a, o), DFSAE_OK);
    return *o;
}

dfsae_train_config *fx_train_config(void **state)
{
    owned *o = take(state, FX_CONFIG);
    assert_int_equal(dfsae_train_config_create(NULL, &o->u.config), DFSAE_OK);
    return o->u.config;
}

dfsae_train_config *fx_keep_config(void **state, dfsae_train_config *c)
{
    take(state, FX_CONFIG)->u.config = c;
    return c;
}

dfsae_source **fx_source_slot(void **state)
{
    return &take(state, FX_SOURCE)->u.source;
}

float *fx_params(void **state, const dfsae_model *m)
{
    const size_t np = dfsae_model_num_params(m);
    float *p = fx_alloc(state, np * sizeof *p);
    assert_int_equal(dfsae_model_get_params(m, p, np), DFSAE_OK);
    return p;
}

void fx_assert_same_params(void **state, const dfsae_model *a,
                           const dfsae_model *b)
{
    float *pa = fx_params(state, a), *pb = fx_params(state, b);
    assert_memory_equal(pa, pb, dfsae_model_num_params(a) * sizeof *pa);
    fx_drop(state, pb);
    fx_drop(state, pa);
}

io_snapshot *fx_snapshot(void **state, const dfsae_model *m)
{
    owned *o = take(state, FX_SNAPSHOT);
    io_snapshot *s = o->u.mem = calloc(1, sizeof *s);
    assert_non_null(s);
    io_snapshot_take(m, s);
    return s;
}

void fx_drop(void **state, const void *p)
{
    fixture *f = *state;
    if (p == NULL)
        return;
    for (owned **at = &f->newest; *at != NULL; at = &(*at)->next)
        if (address(*at) == p) {
            owned *o = *at;
            *at = o->next;
            release(o);
            return;
        }
    fail_msg("fx_drop: %p is not the fixture's", p);
}
