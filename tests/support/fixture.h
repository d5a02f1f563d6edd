/* What a test owns, kept in CMocka's *state: fixture_setup makes an empty
 * list and fixture_teardown frees everything in it whether the test
 * passed or failed, so a failing assertion neither leaks nor hides a
 * leak. Register a test with FIXTURE_TEST(name). A handle on an allocator
 * that takes cmocka's test_malloc (api_alloc.h) must be dropped before a
 * passing test returns: cmocka checks those blocks then, before teardown. */
#ifndef FIXTURE_H
#define FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "api_alloc.h"
#include "dfsae.h"
#include "io_util.h"

int fixture_setup(void **state);
int fixture_teardown(void **state);

#define FIXTURE_TEST(f)                                                        \
    cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)

/* size bytes of zeroed memory (asserts success), freed at teardown. */
void *fx_alloc(void **state, size_t size);
/* Takes over p (malloc'ed, may be NULL) and returns it. */
void *fx_keep(void **state, void *p);
/* Takes over p (may be NULL), which teardown frees with free_fn(p). */
void *fx_keep_with(void **state, void *p, void (*free_fn)(void *));
/* A fresh temporary directory (io_tempdir; asserts), which teardown
 * removes with its files. */
char *fx_tempdir(void **state);
/* dir + "/" + name (asserts), freed at teardown. */
char *fx_join(void **state, const char *dir, const char *name);
/* A slot that teardown frees the handle in: pass it to a create or load. */
dfsae_model **fx_model_slot(void **state);
dfsae_optimizer **fx_optimizer_slot(void **state);
/* Takes over m (made by another helper, may be NULL) and returns it. */
dfsae_model *fx_keep_model(void **state, dfsae_model *m);
/* A created model or optimizer (asserts success), freed at teardown. */
dfsae_model *fx_model(void **state, size_t d, size_t k, uint64_t seed);
dfsae_optimizer *fx_optimizer(void **state, int kind, size_t n);
/* A counting control (api_alloc.h) at its initial state; made before the
 * handles on it, it outlives them. */
api_alloc_ctl *fx_alloc_ctl(void **state);
/* fx_model and fx_optimizer on the allocator reporting to ctl. */
dfsae_model *fx_model_on(void **state, api_alloc_ctl *ctl, size_t d, size_t k,
                         uint64_t seed);
dfsae_optimizer *fx_optimizer_on(void **state, api_alloc_ctl *ctl, int kind,
                                 size_t n);
/* A training configuration with the defaults, freed at teardown. */
dfsae_train_config *fx_train_config(void **state);
/* Takes over c (made by another helper, may be NULL) and returns it. */
dfsae_train_config *fx_keep_config(void **state, dfsae_train_config *c);
/* A slot that teardown frees the data source in. */
dfsae_source **fx_source_slot(void **state);
/* A copy of m's parameters, freed at teardown. */
float *fx_params(void **state, const dfsae_model *m);
/* Asserts that a and b hold bit-identical parameters. */
void fx_assert_same_params(void **state, const dfsae_model *a,
                           const dfsae_model *b);
/* A snapshot of m (io_util.h), freed at teardown. */
io_snapshot *fx_snapshot(void **state, const dfsae_model *m);
/* Frees p (memory, a directory or a handle the fixture holds) now. */
void fx_drop(void **state, const void *p);

#endif
