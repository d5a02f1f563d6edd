/* Model files through the public API: save and load round trips (buffer
 * and path, model and checkpoint), every option preserved, the byte
 * layout of the file, foreign PyTorch files, size queries, allocators. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dfsae.h"
#include "io_util.h"

#define D  5
#define K  3
#define NP (K * D + K)

static dfsae_model *make_model(uint64_t seed)
{
    dfsae_model *m = NULL;
    assert_int_equal(dfsae_model_create(D, K, seed, NULL, &m), DFSAE_OK);
    return m;
}

/* Non-default values for every option, each exactly representable or
 * not (0.1) so the text form must round-trip doubles exactly. */
static void set_unusual_options(dfsae_model *m)
{
    assert_int_equal(
        dfsae_model_set_option(m, DFSAE_MODEL_ACTIVATION, DFSAE_ACT_LEAKY_RELU),
        DFSAE_OK);
    assert_int_equal(dfsae_model_set_option(m, DFSAE_MODEL_LAMBDA_LSE, 0.1),
                     DFSAE_OK);
    assert_int_equal(dfsae_model_set_option(m, DFSAE_MODEL_LAMBDA_VAR, 2.5),
                     DFSAE_OK);
    assert_int_equal(
        dfsae_model_set_option(m, DFSAE_MODEL_LAMBDA_TC, 1.0 / 3.0), DFSAE_OK);
    assert_int_equal(dfsae_model_set_option(m, DFSAE_MODEL_LAMBDA_WR, 1e-7),
                     DFSAE_OK);
    assert_int_equal(dfsae_model_set_option(m, DFSAE_MODEL_EPS_VAR, 3e-5),
                     DFSAE_OK);
    assert_int_equal(
        dfsae_model_set_option(m, DFSAE_MODEL_LSE_REDUCTION, DFSAE_REDUCE_MEAN),
        DFSAE_OK);
    assert_int_equal(dfsae_model_set_option(m, DFSAE_MODEL_LEAKY_SLOPE, 0.2),
                     DFSAE_OK);
    assert_int_equal(
        dfsae_model_set_option(m, DFSAE_MODEL_GRAM_SIDE, DFSAE_GRAM_SAMPLE),
        DFSAE_OK);
    assert_int_equal(
        dfsae_model_set_option(m, DFSAE_MODEL_SOFTMAX_TEMPERATURE, 0.7),
        DFSAE_OK);
    assert_int_equal(
        dfsae_model_set_option(m, DFSAE_MODEL_WR_FORM, DFSAE_WR_UNNORMALISED),
        DFSAE_OK);
}

static void test_buffer_round_trip(void **state)
{
    (void)state;
    dfsae_model *m = make_model(7);
    set_unusual_options(m);
    size_t size = 0;
    assert_int_equal(dfsae_model_save_buffer(m, NULL, NULL, 0, &size),
                     DFSAE_OK);
    assert_true(size > 8 + 4 * NP);
    unsigned char *buf = malloc(size);
    size_t written = 0;
    assert_int_equal(dfsae_model_save_buffer(m, NULL, buf, size, &written),
                     DFSAE_OK);
    assert_int_equal(written, size);

    dfsae_model *back = NULL;
    char err[DFSAE_ERROR_MESSAGE_SIZE] = "x";
    assert_int_equal(
        dfsae_model_load_buffer(buf, size, NULL, &back, NULL, err, sizeof err),
        DFSAE_OK);
    assert_string_equal(err, "");
    assert_true(io_models_identical(m, back));
    double v;
    dfsae_model_get_option(back, DFSAE_MODEL_LAMBDA_LSE, &v);
    assert_true(v == 0.1);
    dfsae_model_get_option(back, DFSAE_MODEL_LAMBDA_TC, &v);
    assert_true(v == 1.0 / 3.0);

    /* Same forward pass. */
    float X[2 * D], A1[2 * K], A2[2 * K];
    uint64_t s = 3;
    for (int i = 0; i < 2 * D; ++i)
        X[i] = io_uniform(&s) * 2.0f - 1.0f;
    assert_int_equal(dfsae_model_forward(m, X, 2, A1, NULL, NULL), DFSAE_OK);
    assert_int_equal(dfsae_model_forward(back, X, 2, A2, NULL, NULL), DFSAE_OK);
    assert_memory_equal(A1, A2, sizeof A1);
    dfsae_model_free(back);
    free(buf);
    dfsae_model_free(m);
}

static void test_small_buffer(void **state)
{
    (void)state;
    dfsae_model *m = make_model(1);
    size_t size = 0;
    assert_int_equal(dfsae_model_save_buffer(m, NULL, NULL, 0, &size),
                     DFSAE_OK);
    unsigned char *buf = malloc(size);
    memset(buf, 0xAB, size);
    size_t written = 0;
    assert_int_equal(dfsae_model_save_buffer(m, NULL, buf, size - 1, &written),
                     DFSAE_ERR_SIZE_MISMATCH);
    assert_int_equal(written, size);
    for (size_t i = 0; i < size; ++i)
        assert_int_equal(buf[i], 0xAB);
    assert_non_null(strstr(dfsae_model_last_error(m), "buffer"));
    assert_int_equal(dfsae_model_save_buffer(m, NULL, buf, size, NULL),
                     DFSAE_ERR_NULL_ARG);
    free(buf);
    dfsae_model_free(m);
}

/* The bytes follow safetensors: LE length, JSON from '{', padding to a
 * multiple of 8, weight then bias as raw little-endian floats. */
static void test_layout(void **state)
{
    (void)state;
    dfsae_model *m = make_model(11);
    size_t size = 0;
    dfsae_model_save_buffer(m, NULL, NULL, 0, &size);
    unsigned char *buf = malloc(size);
    assert_int_equal(dfsae_model_save_buffer(m, NULL, buf, size, &size),
                     DFSAE_OK);
    uint64_t n = 0;
    for (int b = 7; b >= 0; --b)
        n = n << 8 | buf[b];
    assert_int_equal((8 + n) % 8, 0);
    assert_int_equal(size, 8 + n + 4 * NP);
    assert_int_equal(buf[8], '{');
    char *json = calloc(1, n + 1);
    memcpy(json, buf + 8, n);
    assert_non_null(strstr(json, "\"dfsae.format_version\":\"1\""));
    assert_non_null(
        strstr(json, "\"dfsae.library_version\":\"" DFSAE_VERSION_STRING "\""));
    assert_non_null(strstr(json, "\"dfsae.activation\":\"relu\""));
    assert_non_null(strstr(json, "\"dfsae.lse_reduction\":\"sum\""));
    assert_non_null(
        strstr(json, "\"dfsae.eps_var\":\"9.9999999999999995e-07\""));
    assert_non_null(strstr(json, "\"weight\":{\"dtype\":\"F32\",\"shape\":[3,5]"
                                 ",\"data_offsets\":[0,60]}"));
    assert_non_null(strstr(
        json,
        "\"bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[60,72]}"));
    free(json);
    float params[NP];
    dfsae_model_get_params(m, params, NP);
    for (int i = 0; i < NP; ++i) {
        unsigned char *p = buf + 8 + n + 4 * (size_t)i;
        uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
                     (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        float f;
        memcpy(&f, &u, 4);
        assert_true(memcmp(&f, &params[i], 4) == 0);
    }
    free(buf);
    dfsae_model_free(m);
}

static void test_path_round_trip(void **state)
{
    (void)state;
    char *dir = io_tempdir();
    assert_non_null(dir);
    char *path = io_join(dir, "model.safetensors");
    dfsae_model *m = make_model(5);
    set_unusual_options(m);
    assert_int_equal(dfsae_model_save(m, NULL, path), DFSAE_OK);
    assert_int_equal(io_count_entries(dir), 1); /* no temporary left */

    /* The file holds exactly the buffer form. */
    size_t flen = 0, blen = 0;
    unsigned char *file = io_read_file(path, &flen);
    dfsae_model_save_buffer(m, NULL, NULL, 0, &blen);
    unsigned char *buf = malloc(blen);
    dfsae_model_save_buffer(m, NULL, buf, blen, &blen);
    assert_int_equal(flen, blen);
    assert_memory_equal(file, buf, blen);

    dfsae_model *back = NULL;
    assert_int_equal(dfsae_model_load(path, NULL, &back, NULL, NULL, 0),
                     DFSAE_OK);
    assert_true(io_models_identical(m, back));

    /* load_into replaces parameters and options of another model. */
    dfsae_model *other = make_model(99);
    assert_false(io_models_identical(m, other));
    assert_int_equal(dfsae_model_load_into(other, NULL, path), DFSAE_OK);
    assert_true(io_models_identical(m, other));

    /* Saving over an existing file replaces it. */
    dfsae_model *third = make_model(123);
    assert_int_equal(dfsae_model_save(third, NULL, path), DFSAE_OK);
    assert_int_equal(dfsae_model_load_into(other, NULL, path), DFSAE_OK);
    assert_true(io_models_identical(third, other));
    assert_int_equal(io_count_entries(dir), 1);

    dfsae_model_free(third);
    dfsae_model_free(other);
    dfsae_model_free(back);
    dfsae_model_free(m);
    free(buf);
    free(file);
    free(path);
    io_rmdir(dir);
    free(dir);
}

static void test_checkpoint_round_trip(void **state)
{
    (void)state;
    for (int kind = 0; kind < DFSAE_OPTIMIZER_KIND_COUNT; ++kind) {
        dfsae_model *m = make_model(21);
        dfsae_optimizer *o = NULL;
        assert_int_equal(dfsae_optimizer_create(kind, NP, NULL, &o), DFSAE_OK);
        if (kind == DFSAE_SGD) {
            dfsae_optimizer_set_option(o, DFSAE_OPT_MOMENTUM, 0.9);
            dfsae_optimizer_set_option(o, DFSAE_OPT_NESTEROV, 1);
        }
        dfsae_optimizer_set_option(o, DFSAE_OPT_LR, 0.003);
        float X[8 * D];
        uint64_t s = 9;
        for (int i = 0; i < 8 * D; ++i)
            X[i] = io_uniform(&s);
        for (int step = 0; step < 3; ++step) {
            assert_int_equal(dfsae_model_grad(m, X, 8, NULL, NULL, NULL, 0),
                             DFSAE_OK);
            assert_int_equal(dfsae_optimizer_step(o, m, NULL), DFSAE_OK);
        }
        size_t size = 0;
        assert_int_equal(dfsae_model_save_buffer(m, o, NULL, 0, &size),
                         DFSAE_OK);
        unsigned char *buf = malloc(size);
        assert_int_equal(dfsae_model_save_buffer(m, o, buf, size, &size),
                         DFSAE_OK);

        dfsae_model *m2 = NULL;
        dfsae_optimizer *o2 = NULL;
        char err[DFSAE_ERROR_MESSAGE_SIZE];
        assert_int_equal(
            dfsae_model_load_buffer(buf, size, NULL, &m2, &o2, err, sizeof err),
            DFSAE_OK);
        assert_true(io_models_identical(m, m2));
        assert_int_equal(dfsae_optimizer_get_kind(o2), kind);
        assert_int_equal(dfsae_optimizer_step_count(o2), 3);
        for (int p = 0; p < DFSAE_OPT_COUNT; ++p) {
            double a, b;
            int st = dfsae_optimizer_get_option(o, p, &a);
            assert_int_equal(dfsae_optimizer_get_option(o2, p, &b), st);
            if (st == DFSAE_OK)
                assert_true(a == b);
        }
        /* A model-only load of a checkpoint ignores the optimizer. */
        dfsae_model *m3 = NULL;
        assert_int_equal(
            dfsae_model_load_buffer(buf, size, NULL, &m3, NULL, NULL, 0),
            DFSAE_OK);
        assert_true(io_models_identical(m, m3));

        /* One more step from each gives the same parameters. */
        dfsae_model_grad(m, X, 8, NULL, NULL, NULL, 0);
        dfsae_optimizer_step(o, m, NULL);
        dfsae_model_grad(m2, X, 8, NULL, NULL, NULL, 0);
        dfsae_optimizer_step(o2, m2, NULL);
        assert_true(io_models_identical(m, m2));

        dfsae_model_free(m3);
        dfsae_model_free(m2);
        dfsae_optimizer_free(o2);
        free(buf);
        dfsae_optimizer_free(o);
        dfsae_model_free(m);
    }
}

/* A file saved without an optimizer: a create-style load returns no
 * optimizer, a load into one refuses (there is no state to load). */
static void test_model_only_file(void **state)
{
    (void)state;
    dfsae_model *m = make_model(2);
    size_t size = 0;
    dfsae_model_save_buffer(m, NULL, NULL, 0, &size);
    unsigned char *buf = malloc(size);
    dfsae_model_save_buffer(m, NULL, buf, size, &size);
    dfsae_model *m2 = NULL;
    dfsae_optimizer *o2 = (dfsae_optimizer *)buf; /* must be set to NULL */
    char err[DFSAE_ERROR_MESSAGE_SIZE] = "x";
    assert_int_equal(
        dfsae_model_load_buffer(buf, size, NULL, &m2, &o2, err, sizeof err),
        DFSAE_OK);
    assert_true(io_models_identical(m, m2));
    assert_null(o2);
    assert_string_equal(err, "");
    dfsae_model_free(m2);
    /* A failed load sets both outputs to NULL. */
    m2 = (dfsae_model *)buf;
    o2 = (dfsae_optimizer *)buf;
    assert_int_equal(
        dfsae_model_load_buffer(buf, size - 1, NULL, &m2, &o2, err, sizeof err),
        DFSAE_ERR_TRUNCATED);
    assert_null(m2);
    assert_null(o2);

    dfsae_optimizer *o = NULL;
    dfsae_optimizer_create(DFSAE_ADAM, NP, NULL, &o);
    assert_int_equal(dfsae_model_load_buffer_into(m, o, buf, size),
                     DFSAE_ERR_BAD_HEADER);
    assert_non_null(strstr(dfsae_optimizer_last_error(o), "optimizer"));
    dfsae_optimizer_free(o);

    /* The optimizer's size must match the model's. */
    assert_int_equal(dfsae_optimizer_create(DFSAE_ADAM, NP + 1, NULL, &o),
                     DFSAE_OK);
    assert_int_equal(dfsae_model_save_buffer(m, o, NULL, 0, &size),
                     DFSAE_ERR_SIZE_MISMATCH);
    dfsae_optimizer_free(o);
    free(buf);
    dfsae_model_free(m);
}

/* A plain PyTorch state dict: no dfsae metadata, so default options. */
static void test_foreign_files(void **state)
{
    (void)state;
    float data[NP];
    for (int i = 0; i < NP; ++i)
        data[i] = (float)i * 0.25f - 1.0f;
    static const char *const headers[] = {
        "{\"weight\":{\"dtype\":\"F32\",\"shape\":[3,5],\"data_offsets\":[0,60]"
        "},"
        "\"bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[60,72]}}",
        /* torch's save_file adds {"format":"pt"}; tensors in any order */
        "{\"__metadata__\":{\"format\":\"pt\"},"
        "\"linear.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[60,"
        "72]},"
        "\"linear.weight\":{\"dtype\":\"F32\",\"shape\":[3,5],\"data_offsets\":"
        "[0,60]}}  ",
        /* extra tensors of other dtypes are validated and ignored */
        "{\"weight\":{\"dtype\":\"F32\",\"shape\":[3,5],\"data_offsets\":[0,60]"
        "},"
        "\"bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[60,72]},"
        "\"step\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[72,80]}}",
    };
    for (size_t h = 0; h < 3; ++h) {
        unsigned char extra[NP * 4 + 8];
        memcpy(extra, data, sizeof data);
        memset(extra + sizeof data, 0, 8);
        size_t len = 0;
        unsigned char *file = io_build_file(
            headers[h], extra, sizeof data + (h == 2 ? 8 : 0), &len);
        dfsae_model *m = NULL;
        char err[DFSAE_ERROR_MESSAGE_SIZE];
        int st =
            dfsae_model_load_buffer(file, len, NULL, &m, NULL, err, sizeof err);
        if (st != DFSAE_OK)
            fail_msg("header %zu: %s", h, err);
        assert_int_equal(dfsae_model_input_dim(m), D);
        assert_int_equal(dfsae_model_num_components(m), K);
        float got[NP];
        dfsae_model_get_params(m, got, NP);
        assert_memory_equal(got, data, sizeof data);
        dfsae_model *fresh = make_model(0);
        for (int p = 0; p < DFSAE_MODEL_OPTION_COUNT; ++p) {
            double a, b;
            dfsae_model_get_option(m, p, &a);
            dfsae_model_get_option(fresh, p, &b);
            assert_true(a == b);
        }
        dfsae_model_free(fresh);
        dfsae_model_free(m);
        free(file);
    }
}

typedef struct counting {
    size_t allocs, frees;
} counting;

static void *count_alloc(void *opaque, size_t size)
{
    ((counting *)opaque)->allocs++;
    return malloc(size);
}

static void count_free(void *opaque, void *p)
{
    ((counting *)opaque)->frees++;
    free(p);
}

static void test_allocator_used(void **state)
{
    (void)state;
    dfsae_model *m = make_model(3);
    size_t size = 0;
    dfsae_model_save_buffer(m, NULL, NULL, 0, &size);
    unsigned char *buf = malloc(size);
    dfsae_model_save_buffer(m, NULL, buf, size, &size);
    counting c = {0, 0};
    dfsae_allocator a = {count_alloc, count_free, &c};
    dfsae_model *back = NULL;
    assert_int_equal(
        dfsae_model_load_buffer(buf, size, &a, &back, NULL, NULL, 0), DFSAE_OK);
    assert_true(c.allocs > 0);
    dfsae_model_free(back);
    assert_int_equal(c.allocs, c.frees);
    free(buf);
    dfsae_model_free(m);
}

static void test_null_args(void **state)
{
    (void)state;
    dfsae_model *m = make_model(3);
    char err[DFSAE_ERROR_MESSAGE_SIZE];
    dfsae_model *out = m;
    assert_int_equal(dfsae_model_save(NULL, NULL, "x"), DFSAE_ERR_NULL_ARG);
    assert_int_equal(dfsae_model_save(m, NULL, NULL), DFSAE_ERR_NULL_ARG);
    assert_int_equal(dfsae_model_load(NULL, NULL, &out, NULL, err, sizeof err),
                     DFSAE_ERR_NULL_ARG);
    assert_null(out);
    assert_true(strlen(err) > 0);
    assert_int_equal(dfsae_model_load_buffer(NULL, 0, NULL, &out, NULL, err, 4),
                     DFSAE_ERR_NULL_ARG);
    assert_true(strlen(err) == 3); /* truncated, NUL-terminated */
    assert_int_equal(dfsae_model_load_into(NULL, NULL, "x"),
                     DFSAE_ERR_NULL_ARG);
    assert_int_equal(dfsae_model_load_into(m, NULL, NULL), DFSAE_ERR_NULL_ARG);
    assert_int_equal(dfsae_model_load_buffer_into(m, NULL, NULL, 10),
                     DFSAE_ERR_NULL_ARG);
    assert_int_equal(dfsae_model_save(m, NULL, ""), DFSAE_ERR_INVALID_ARG);
    assert_int_equal(dfsae_model_save(m, NULL, "/tmp/"), DFSAE_ERR_INVALID_ARG);
    assert_int_equal(dfsae_model_load("/nonexistent/dir/m.safetensors", NULL,
                                      &out, NULL, err, sizeof err),
                     DFSAE_ERR_IO);
    assert_non_null(strstr(err, "cannot open"));
    assert_int_equal(
        dfsae_model_load("/tmp", NULL, &out, NULL, err, sizeof err),
        DFSAE_ERR_IO);
    dfsae_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buffer_round_trip),
        cmocka_unit_test(test_small_buffer),
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_path_round_trip),
        cmocka_unit_test(test_checkpoint_round_trip),
        cmocka_unit_test(test_model_only_file),
        cmocka_unit_test(test_foreign_files),
        cmocka_unit_test(test_allocator_used),
        cmocka_unit_test(test_null_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
