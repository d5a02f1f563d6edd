/* Sharded model files on one process: a model saved as 1 of 1 loads back
 * identical (model and optimizer), in parts that tile it, and an index
 * that is malformed, inconsistent with its files, or names a file outside
 * its directory is refused without a model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dfsae_dist.h"
#include "fixture.h"
#include "io_util.h"

/* A trained model and its optimizer, both owned by the fixture. */
static dfsae_model *trained(void **state, dfsae_optimizer **opt)
{
    dfsae_model *m = fx_model(state, 6, 5, 3);
    assert_int_equal(dfsae_model_set_meta(m, "note", "sharded"), DFSAE_OK);
    *opt = fx_optimizer(state, DFSAE_ADAM, dfsae_model_num_params(m));
    float X[12 * 6];
    uint64_t s = 9;
    for (size_t i = 0; i < sizeof X / sizeof X[0]; ++i)
        X[i] = io_uniform(&s);
    assert_int_equal(dfsae_model_train(m, *opt, X, 12, NULL, NULL, NULL),
                     DFSAE_OK);
    return m;
}

static void one_shard_round_trip(void **state)
{
    char *dir = fx_tempdir(state);
    char *prefix = fx_join(state, dir, "m");
    char *index = fx_join(state, dir, "m.index.json");
    dfsae_optimizer *opt = NULL;
    dfsae_model *m = trained(state, &opt);
    assert_int_equal(dfsae_model_save_shards(m, opt, prefix), DFSAE_OK);
    assert_int_equal(io_count_entries(dir), 2);
    dfsae_model **back_slot = fx_model_slot(state);
    dfsae_optimizer **back_opt_slot = fx_optimizer_slot(state);
    char err[DFSAE_ERROR_MESSAGE_SIZE];
    assert_int_equal(dfsae_model_load_shards(index, 0, 1, NULL, back_slot,
                                             back_opt_slot, err, sizeof err),
                     DFSAE_OK);
    dfsae_model *back = *back_slot;
    dfsae_optimizer *back_opt = *back_opt_slot;
    assert_true(io_models_identical(m, back));
    assert_int_equal(dfsae_optimizer_step_count(back_opt),
                     dfsae_optimizer_step_count(opt));
    /* Parts 0..4 of 5 tile the model's components, one each. */
    float *all = fx_alloc(state, dfsae_model_num_params(m) * sizeof *all);
    assert_int_equal(dfsae_model_get_params(m, all, dfsae_model_num_params(m)),
                     DFSAE_OK);
    for (int q = 0; q < 5; ++q) {
        dfsae_model **part_slot = fx_model_slot(state);
        assert_int_equal(dfsae_model_load_shards(index, q, 5, NULL, part_slot,
                                                 NULL, err, sizeof err),
                         DFSAE_OK);
        dfsae_model *part = *part_slot;
        float p[7];
        assert_int_equal(dfsae_model_get_params(part, p, 7), DFSAE_OK);
        assert_memory_equal(p, all + q * 6, 6 * sizeof *p);
        assert_memory_equal(p + 6, all + 30 + q, sizeof *p);
        assert_string_equal(dfsae_model_get_meta(part, "note"), "sharded");
        fx_drop(state, part);
    }
    dfsae_model *none = (dfsae_model *)1;
    assert_int_equal(dfsae_model_load_shards(index, 0, 6, NULL, &none, NULL,
                                             err, sizeof err),
                     DFSAE_ERR_INVALID_ARG);
    /* A model wrongly made is the fixture's, so the failure leaks nothing. */
    if (none != (dfsae_model *)1)
        fx_keep_model(state, none);
    assert_null(none);
}

/* Each index differs from a valid one in one way. */
static void bad_indexes_are_refused(void **state)
{
    char *dir = fx_tempdir(state);
    char *prefix = fx_join(state, dir, "m");
    char *index = fx_join(state, dir, "bad.index.json");
    dfsae_optimizer *opt = NULL;
    dfsae_model *m = trained(state, &opt);
    assert_int_equal(dfsae_model_save_shards(m, NULL, prefix), DFSAE_OK);
    static const struct {
        const char *json;
        int status;
    } cases[] = {
        {"not json", DFSAE_ERR_BAD_HEADER},
        {"{\"format\": \"other\", \"version\": 1, \"d_in\": 6, "
         "\"n_components\": 5, \"shards\": [{\"file\": "
         "\"m-00001-of-00001.safetensors\", \"first_component\": 0, "
         "\"n_components\": 5}]}",
         DFSAE_ERR_BAD_HEADER},
        /* a gap between the shards' ranges */
        {"{\"format\": \"dfsae-shards\", \"version\": 1, \"d_in\": 6, "
         "\"n_components\": 5, \"shards\": [{\"file\": "
         "\"m-00001-of-00001.safetensors\", \"first_component\": 1, "
         "\"n_components\": 4}]}",
         DFSAE_ERR_BAD_HEADER},
        /* a file outside the index's directory */
        {"{\"format\": \"dfsae-shards\", \"version\": 1, \"d_in\": 6, "
         "\"n_components\": 5, \"shards\": [{\"file\": "
         "\"../m-00001-of-00001.safetensors\", \"first_component\": 0, "
         "\"n_components\": 5}]}",
         DFSAE_ERR_BAD_HEADER},
        /* the index's shape is not the file's */
        {"{\"format\": \"dfsae-shards\", \"version\": 1, \"d_in\": 7, "
         "\"n_components\": 5, \"shards\": [{\"file\": "
         "\"m-00001-of-00001.safetensors\", \"first_component\": 0, "
         "\"n_components\": 5}]}",
         DFSAE_ERR_BAD_SHAPE},
        /* a missing file */
        {"{\"format\": \"dfsae-shards\", \"version\": 1, \"d_in\": 6, "
         "\"n_components\": 5, \"shards\": [{\"file\": "
         "\"gone.safetensors\", \"first_component\": 0, "
         "\"n_components\": 5}]}",
         DFSAE_ERR_IO},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
        assert_int_equal(
            io_write_file(index, cases[c].json, strlen(cases[c].json)), 0);
        dfsae_model *out = (dfsae_model *)1;
        char err[DFSAE_ERROR_MESSAGE_SIZE] = "";
        int st = dfsae_model_load_shards(index, 0, 1, NULL, &out, NULL, err,
                                         sizeof err);
        if (st != cases[c].status)
            fail_msg("case %zu: status %d (%s), expected %d", c, st, err,
                     cases[c].status);
        if (out != (dfsae_model *)1)
            fx_keep_model(state, out);
        assert_null(out);
        assert_true(err[0] != '\0');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(one_shard_round_trip),
        FIXTURE_TEST(bad_indexes_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
