/* The test's owned things (fixture.h): a fixed table, freed newest first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "fixture.h"
#include "io_util.h"

#define FIXTURE_CAP 64

enum { FX_EMPTY, FX_MEMORY, FX_DIR, FX_MODEL, FX_OPTIMIZER };

typedef struct owned {
    int kind;
    union {
        void *mem; /* FX_MEMORY, FX_DIR */
        dfsae_model *model;
        dfsae_optimizer *opt;
    } u;
} owned;

typedef struct fixture {
    owned items[FIXTURE_CAP];
} fixture;

static const void *address(const owned *o)
{
    switch (o->kind) {
    case FX_MODEL: return o->u.model;
    case FX_OPTIMIZER: return o->u.opt;
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
    case FX_MODEL: dfsae_model_free(o->u.model); break;
    case FX_OPTIMIZER: dfsae_optimizer_free(o->u.opt); break;
    default: free(o->u.mem); break;
    }
    o->kind = FX_EMPTY;
    o->u.mem = NULL;
}

int fixture_setup(void **state)
{
    *state = calloc(1, sizeof(fixture));
    return *state == NULL ? -1 : 0;
}

int fixture_teardown(void **state)
{
    fixture *f = *state;
    for (size_t i = FIXTURE_CAP; i-- > 0;)
        if (f->items[i].kind != FX_EMPTY)
            release(&f->items[i]);
    free(f);
    *state = NULL;
    return 0;
}

static owned *take(void **state, int kind)
{
    fixture *f = *state;
    assert_non_null(f);
    for (size_t i = 0; i < FIXTURE_CAP; ++i)
        if (f->items[i].kind == FX_EMPTY) {
            f->items[i].kind = kind;
            f->items[i].u.mem = NULL;
            return &f->items[i];
        }
    fail_msg("the fixture holds %d things already", FIXTURE_CAP);
    return NULL;
}

void *fx_keep(void **state, void *p)
{
    take(state, FX_MEMORY)->u.mem = p;
    return p;
}

void *fx_alloc(void **state, size_t size)
{
    void *p = fx_keep(state, malloc(size));
    assert_non_null(p);
    return p;
}

char *fx_keep_dir(void **state, char *dir)
{
    take(state, FX_DIR)->u.mem = dir;
    return dir;
}

dfsae_model **fx_model_slot(void **state)
{
    return &take(state, FX_MODEL)->u.model;
}

dfsae_optimizer **fx_optimizer_slot(void **state)
{
    return &take(state, FX_OPTIMIZER)->u.opt;
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

void fx_drop(void **state, const void *p)
{
    fixture *f = *state;
    if (p == NULL)
        return;
    for (size_t i = 0; i < FIXTURE_CAP; ++i)
        if (f->items[i].kind != FX_EMPTY && address(&f->items[i]) == p) {
            release(&f->items[i]);
            return;
        }
    fail_msg("fx_drop: %p is not the fixture's", p);
}
