#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fixture.h"
#include "train_data.h"
#include "train_fixture.h"

float *fx_train_data(void **state, size_t n, size_t d, uint64_t seed)
{
    float *X = fx_alloc(state, n * d * sizeof *X);
    train_fill(X, n * d, seed, -1.0, 1.0);
    return X;
}

dfsae_train_config *fx_config(void **state, double epochs, double batch,
                              double shuffle)
{
    return fx_keep_config(state, train_config(epochs, batch, shuffle));
}

void fx_fresh(void **state, const fresh_model *f, dfsae_model **m,
              dfsae_optimizer **o)
{
    *m = fx_model(state, f->d, f->k, f->init_seed);
    *o = fx_optimizer(state, DFSAE_ADAM, dfsae_model_num_params(*m));
    assert_int_equal(dfsae_model_set_run_state(*m, 0, 0, f->shuffle_seed),
                     DFSAE_OK);
}

float *fx_train_fresh(void **state, const fresh_model *f, dfsae_source *src,
                      const dfsae_train_config *c, dfsae_progress_fn progress,
                      void *user)
{
    dfsae_model *m;
    dfsae_optimizer *o;
    fx_fresh(state, f, &m, &o);
    assert_int_equal(dfsae_model_train_source(m, o, src, c, progress, user),
                     DFSAE_OK);
    float *p = fx_params(state, m);
    fx_drop(state, o);
    fx_drop(state, m);
    return p;
}

void fresh_assert_same(const fresh_model *f, const float *a, const float *b)
{
    assert_memory_equal(a, b, (f->k * f->d + f->k) * sizeof *a);
}
