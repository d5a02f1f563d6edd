/* Model files through the public API: save and load round trips (buffer
 * and path, model and checkpoint), every option, the run state and the
 * user metadata preserved, the byte layout of the file, foreign PyTorch
 * files, a format-1 file, size queries, allocators. */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dfsae.h"
#include "fixture.h"
#include "io_util.h"

#define D  5
#define K  3
#define NP (K * D + K)

/* A D x K model the test's fixture owns. */
static dfsae_model *make_model(void **state, uint64_t seed)
{
    return fx_model(state, D, K, seed);
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
    assert_int_equal(dfsae_model_set_option(m, DFSAE_MODEL_VAR_CAP, 0.3),
                     DFSAE_OK);
    assert_int_equal(dfsae_model_set_option(m, DFSAE_MODEL_MAX_ROW_NORM, 2.5),
                     DFSAE_OK);
}

static void test_buffer_round_trip(void **state)
{
    dfsae_model *m = make_model(state, 7);
    set_unusual_options(m);
    size_t size = 0;
    assert_int_equal(dfsae_model_save_buffer(m, NULL, NULL, 0, &size),
                     DFSAE_OK);
    assert_true(size > 8 + 4 * NP);
    unsigned char *buf = fx_alloc(state, size);
    size_t written = 0;
    assert_int_equal(dfsae_model_save_buffer(m, NULL, buf, size, &written),
                     DFSAE_OK);
    assert_int_equal(written, size);

    dfsae_model **slot = fx_model_slot(state);
    char err[DFSAE_ERROR_MESSAGE_SIZE] = "x";
    assert_int_equal(
        dfsae_model_load_buffer(buf, size, NULL, slot, NULL, err, sizeof err),
        DFSAE_OK);
    dfsae_model *back = *slot;
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
}

static void test_small_buffer(void **state)
{
    dfsae_model *m = make_model(state, 1);
    size_t size = 0;
    assert_int_equal(dfsae_model_save_buffer(m, NULL, NULL, 0, &size),
                     DFSAE_OK);
    unsigned char *buf = fx_alloc(state, size);
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
}

/* The bytes follow safetensors: LE length, JSON from '{', padding to a
 * multiple of 8, weight then bias as raw little-endian floats. */
static void test_layout(void **state)
{
    dfsae_model *m = make_model(state, 11);
    size_t size = 0;
    dfsae_model_save_buffer(m, NULL, NULL, 0, &size);
    unsigned char *buf = fx_alloc(state, size);
    assert_int_equal(dfsae_model_save_buffer(m, NULL, buf, size, &size),
                     DFSAE_OK);
    uint64_t n = 0;
    for (int b = 7; b >= 0; --b)
        n = n << 8 | buf[b];
    assert_int_equal((8 + n) % 8, 0);
    assert_int_equal(size, 8 + n + 4 * NP);
    assert_int_equal(buf[8], '{');
    char *json = fx_alloc(state, n + 1);
    json[n] = '\0';
    memcpy(json, buf + 8, n);
    assert_non_null(strstr(json, "\"dfsae.format_version\":\"2\""));
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
}

static void test_path_round_trip(void **state)
{
    char *dir = fx_tempdir(state);
    char *path = fx_join(state, dir, "model.safetensors");
    dfsae_model *m = make_model(state, 5);
    set_unusual_options(m);
    assert_int_equal(dfsae_model_save(m, NULL, path), DFSAE_OK);
    assert_int_equal(io_count_entries(dir), 1); /* no temporary left */

    /* The file holds exactly the buffer form. */
    size_t flen = 0, blen = 0;
    unsigned char *file = fx_keep(state, io_read_file(path, &flen));
    dfsae_model_save_buffer(m, NULL, NULL, 0, &blen);
    unsigned char *buf = fx_alloc(state, blen);
    dfsae_model_save_buffer(m, NULL, buf, blen, &blen);
    assert_int_equal(flen, blen);
    assert_memory_equal(file, buf, blen);

    dfsae_model **back = fx_model_slot(state);
    assert_int_equal(dfsae_model_load(path, NULL, back, NULL, NULL, 0),
                     DFSAE_OK);
    assert_true(io_models_identical(m, *back));

    /* load_into replaces parameters and options of another model. */
    dfsae_model *other = make_model(state, 99);
    assert_false(io_models_identical(m, other));
    assert_int_equal(dfsae_model_load_into(other, NULL, path), DFSAE_OK);
    assert_true(io_models_identical(m, other));

    /* Saving over an existing file replaces it. */
    dfsae_model *third = make_model(state, 123);
    assert_int_equal(dfsae_model_save(third, NULL, path), DFSAE_OK);
    assert_int_equal(dfsae_model_load_into(other, NULL, path), DFSAE_OK);
    assert_true(io_models_identical(third, other));
    assert_int_equal(io_count_entries(dir), 1);
}

static void test_checkpoint_round_trip(void **state)
{
    for (int kind = 0; kind < DFSAE_OPTIMIZER_KIND_COUNT; ++kind) {
        dfsae_model *m = make_model(state, 21);
        dfsae_optimizer *o = fx_optimizer(state, kind, NP);
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
            assert_int_equal(dfsae_train_step(m, o, X, 8, NULL, NULL, 0),
                             DFSAE_OK);
        }
        size_t size = 0;
        assert_int_equal(dfsae_model_save_buffer(m, o, NULL, 0, &size),
                         DFSAE_OK);
        unsigned char *buf = fx_alloc(state, size);
        assert_int_equal(dfsae_model_save_buffer(m, o, buf, size, &size),
                         DFSAE_OK);

        dfsae_model **m2_slot = fx_model_slot(state);
        dfsae_optimizer **o2_slot = fx_optimizer_slot(state);
        char err[DFSAE_ERROR_MESSAGE_SIZE];
        assert_int_equal(dfsae_model_load_buffer(buf, size, NULL, m2_slot,
                                                 o2_slot, err, sizeof err),
                         DFSAE_OK);
        dfsae_model *m2 = *m2_slot;
        dfsae_optimizer *o2 = *o2_slot;
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
        dfsae_model **m3 = fx_model_slot(state);
        assert_int_equal(
            dfsae_model_load_buffer(buf, size, NULL, m3, NULL, NULL, 0),
            DFSAE_OK);
        assert_true(io_models_identical(m, *m3));

        /* One more step from each gives the same parameters. */
        assert_int_equal(dfsae_train_step(m, o, X, 8, NULL, NULL, 0), DFSAE_OK);
        assert_int_equal(dfsae_train_step(m2, o2, X, 8, NULL, NULL, 0),
                         DFSAE_OK);
        assert_true(io_models_identical(m, m2));
    }
}

/* A file saved without an optimizer: a create-style load returns no
 * optimizer, a load into one refuses (there is no state to load). */
static void test_model_only_file(void **state)
{
    dfsae_model *m = make_model(state, 2);
    size_t size = 0;
    dfsae_model_save_buffer(m, NULL, NULL, 0, &size);
    unsigned char *buf = fx_alloc(state, size);
    dfsae_model_save_buffer(m, NULL, buf, size, &size);
    dfsae_model **loaded = fx_model_slot(state);
    dfsae_optimizer *o2 = (dfsae_optimizer *)buf; /* must be set to NULL */
    char err[DFSAE_ERROR_MESSAGE_SIZE] = "x";
    assert_int_equal(
        dfsae_model_load_buffer(buf, size, NULL, loaded, &o2, err, sizeof err),
        DFSAE_OK);
    assert_true(io_models_identical(m, *loaded));
    assert_null(o2);
    assert_string_equal(err, "");
    /* A failed load sets both outputs to NULL. */
    dfsae_model *m2 = (dfsae_model *)buf;
    o2 = (dfsae_optimizer *)buf;
    assert_int_equal(
        dfsae_model_load_buffer(buf, size - 1, NULL, &m2, &o2, err, sizeof err),
        DFSAE_ERR_TRUNCATED);
    assert_null(m2);
    assert_null(o2);

    dfsae_optimizer *o = fx_optimizer(state, DFSAE_ADAM, NP);
    assert_int_equal(dfsae_model_load_buffer_into(m, o, buf, size),
                     DFSAE_ERR_BAD_HEADER);
    assert_non_null(strstr(dfsae_optimizer_last_error(o), "optimizer"));

    /* The optimizer's size must match the model's. */
    o = fx_optimizer(state, DFSAE_ADAM, NP + 1);
    assert_int_equal(dfsae_model_save_buffer(m, o, NULL, 0, &size),
                     DFSAE_ERR_SIZE_MISMATCH);
}

/* The run state and the user metadata travel with the model; text that
 * JSON must escape (quotes, backslashes, control bytes) and non-ASCII
 * UTF-8 come back byte for byte; a load replaces the pairs a model had. */
static void test_run_state_and_meta_round_trip(void **state)
{
    static const char *const keys[] = {"a \"quoted\" \\ key", "empty",
                                       "image_shape", "z"};
    static const char *const values[] = {
        "line\nbreak\ttab\x01\x1f \"q\" \\ caf\xc3\xa9 \xf0\x9d\x84\x9e", "",
        "28x28", "last"};
    dfsae_model *m = make_model(state, 4);
    assert_int_equal(dfsae_model_set_run_state(m, 3, 7, UINT64_MAX), DFSAE_OK);
    for (int i = 3; i >= 0; --i) /* out of order: kept sorted */
        assert_int_equal(dfsae_model_set_meta(m, keys[i], values[i]), DFSAE_OK);
    for (size_t i = 0; i < 4; ++i)
        assert_string_equal(dfsae_model_meta_key(m, i), keys[i]);
    assert_null(dfsae_model_meta_key(m, 4));

    size_t size = 0;
    unsigned char *buf = fx_keep(state, io_save(m, NULL, &size));
    assert_non_null(buf);
    char *json = fx_keep(state, io_header_json(buf));
    assert_non_null(strstr(json, "\"dfsae.run.epochs\":\"3\""));
    assert_non_null(strstr(json, "\"dfsae.run.rows\":\"7\""));
    assert_non_null(
        strstr(json, "\"dfsae.run.seed\":\"18446744073709551615\""));
    assert_non_null(strstr(json, "\"user.image_shape\":\"28x28\""));
    assert_non_null(strstr(json, "\"user.a \\\"quoted\\\" \\\\ key\":"));
    assert_non_null(strstr(json, "line\\nbreak\\ttab\\u0001\\u001f"));

    dfsae_model *other = make_model(state, 5);
    assert_int_equal(dfsae_model_set_meta(other, "only in other", "x"),
                     DFSAE_OK);
    assert_int_equal(dfsae_model_load_buffer_into(other, NULL, buf, size),
                     DFSAE_OK);
    assert_true(io_models_identical(m, other));
    assert_null(dfsae_model_get_meta(other, "only in other"));
    for (size_t i = 0; i < 4; ++i)
        assert_string_equal(dfsae_model_get_meta(other, keys[i]), values[i]);
    uint64_t e, r, sd;
    dfsae_model_get_run_state(other, &e, &r, &sd);
    assert_true(e == 3 && r == 7 && sd == UINT64_MAX);

    /* The control: a changed pair makes the models differ. */
    assert_int_equal(dfsae_model_set_meta(other, "z", "changed"), DFSAE_OK);
    assert_false(io_models_identical(m, other));
    assert_int_equal(dfsae_model_set_meta(other, "z", NULL), DFSAE_OK);
    assert_null(dfsae_model_get_meta(other, "z"));
    assert_int_equal(dfsae_model_set_meta(other, "z", NULL), DFSAE_OK);
}

/* The input transform travels as two tensors after W and b (none for the
 * identity); the loaded model's forward is the original's, bit for bit; a
 * load replaces the transform a model had, also by the identity. */
static void test_transform_round_trip(void **state)
{
    const float shift[D] = {0.5f, -1.0f, 0.0f, 255.0f, 1e-3f};
    const float scale[D] = {2.0f, 0.25f, -1.0f, 1.0f / 255.0f, 3.0f};
    const size_t lengths[2] = {D, 1};
    float X[3 * D], A1[3 * K], A2[3 * K];
    uint64_t s = 17;
    for (int i = 0; i < 3 * D; ++i)
        X[i] = io_uniform(&s) * 10.0f - 5.0f;
    for (int g = 0; g < 2; ++g) {
        const size_t n = lengths[g];
        dfsae_model *m = make_model(state, 8);
        dfsae_optimizer *o = fx_optimizer(state, DFSAE_ADAM, NP);
        assert_int_equal(dfsae_model_set_transform(m, shift, scale, n),
                         DFSAE_OK);
        size_t size = 0;
        unsigned char *buf = fx_keep(state, io_save(m, o, &size));
        assert_non_null(buf);
        char *json = fx_keep(state, io_header_json(buf));
        char want[160];
        snprintf(
            want, sizeof want,
            "\"input_transform.shift\":{\"dtype\":\"F32\",\"shape\":[%zu],"
            "\"data_offsets\":[72,%zu]},\"input_transform.scale\":{"
            "\"dtype\":\"F32\",\"shape\":[%zu],\"data_offsets\":[%zu,%zu]}",
            n, 72 + 4 * n, n, 72 + 4 * n, 72 + 8 * n);
        assert_non_null(strstr(json, want));

        dfsae_model **back_slot = fx_model_slot(state);
        dfsae_optimizer **ob_slot = fx_optimizer_slot(state);
        char err[DFSAE_ERROR_MESSAGE_SIZE];
        int st = dfsae_model_load_buffer(buf, size, NULL, back_slot, ob_slot,
                                         err, sizeof err);
        if (st != DFSAE_OK)
            fail_msg("%s", err);
        dfsae_model *back = *back_slot;
        dfsae_optimizer *ob = *ob_slot;
        assert_true(io_models_identical(m, back));
        assert_non_null(ob);
        assert_int_equal(dfsae_model_forward(m, X, 3, A1, NULL, NULL),
                         DFSAE_OK);
        assert_int_equal(dfsae_model_forward(back, X, 3, A2, NULL, NULL),
                         DFSAE_OK);
        assert_memory_equal(A1, A2, sizeof A1);

        /* An identity file replaces the transform with the identity. */
        dfsae_model *plain = make_model(state, 8);
        size_t plain_size = 0;
        unsigned char *plain_buf =
            fx_keep(state, io_save(plain, NULL, &plain_size));
        json = fx_keep(state, io_header_json(plain_buf));
        assert_null(strstr(json, "input_transform"));
        assert_int_equal(
            dfsae_model_load_buffer_into(back, NULL, plain_buf, plain_size),
            DFSAE_OK);
        size_t got = 9;
        dfsae_model_get_transform(back, NULL, NULL, 0, &got);
        assert_int_equal(got, 0);
        assert_true(io_models_identical(plain, back));
        /* ... and a file with one gives it back. */
        assert_int_equal(dfsae_model_load_buffer_into(back, ob, buf, size),
                         DFSAE_OK);
        assert_true(io_models_identical(m, back));
    }
}

/* Keys and values outside the documented rules are refused, and nothing
 * changes. */
static void test_meta_rules(void **state)
{
    dfsae_model *m = make_model(state, 6);
    assert_int_equal(dfsae_model_set_meta(m, "k", "v"), DFSAE_OK);
    char key[66], *big = fx_alloc(state, 16386);
    memset(key, 'k', sizeof key - 1);
    key[65] = '\0';
    memset(big, 'v', 16385);
    big[16385] = '\0';
    static const char *const bad_values[] = {
        "\xc0\x80",         /* overlong NUL */
        "\xed\xa0\x80",     /* a surrogate */
        "\x80",             /* a lone continuation byte */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xe2\x82",         /* cut short */
    };
    assert_int_equal(dfsae_model_set_meta(m, NULL, "v"), DFSAE_ERR_NULL_ARG);
    assert_int_equal(dfsae_model_set_meta(NULL, "k", "v"), DFSAE_ERR_NULL_ARG);
    assert_int_equal(dfsae_model_set_meta(m, "", "v"), DFSAE_ERR_INVALID_ARG);
    assert_int_equal(dfsae_model_set_meta(m, key, "v"), DFSAE_ERR_INVALID_ARG);
    key[64] = '\0'; /* 64 characters: the longest key */
    assert_int_equal(dfsae_model_set_meta(m, key, "v"), DFSAE_OK);
    assert_int_equal(dfsae_model_set_meta(m, key, NULL), DFSAE_OK);
    assert_int_equal(dfsae_model_set_meta(m, "tab\tkey", "v"),
                     DFSAE_ERR_INVALID_ARG);
    assert_int_equal(dfsae_model_set_meta(m, "caf\xc3\xa9", "v"),
                     DFSAE_ERR_INVALID_ARG);
    for (size_t i = 0; i < sizeof bad_values / sizeof *bad_values; ++i) {
        assert_int_equal(dfsae_model_set_meta(m, "k", bad_values[i]),
                         DFSAE_ERR_INVALID_ARG);
        assert_non_null(strstr(dfsae_model_last_error(m), "UTF-8"));
    }
    assert_int_equal(dfsae_model_set_meta(m, "k", big), DFSAE_ERR_INVALID_ARG);
    assert_string_equal(dfsae_model_get_meta(m, "k"), "v");
    big[16384] = '\0'; /* the longest value */
    assert_int_equal(dfsae_model_set_meta(m, "k", big), DFSAE_OK);
    assert_int_equal(strlen(dfsae_model_get_meta(m, "k")), 16384);
    assert_null(dfsae_model_get_meta(m, "missing"));
    assert_null(dfsae_model_get_meta(NULL, "k"));
    assert_null(dfsae_model_meta_key(NULL, 0));

    /* 256 pairs at most; replacing one of them is still fine. */
    for (int i = 1; i < 256; ++i) {
        char k[16];
        snprintf(k, sizeof k, "key%03d", i);
        assert_int_equal(dfsae_model_set_meta(m, k, "x"), DFSAE_OK);
    }
    assert_int_equal(dfsae_model_set_meta(m, "one too many", "x"),
                     DFSAE_ERR_INVALID_ARG);
    assert_null(dfsae_model_get_meta(m, "one too many"));
    assert_int_equal(dfsae_model_set_meta(m, "key001", "y"), DFSAE_OK);

    /* The largest model metadata there can be, every byte escaped six
     * times over, still saves and loads. */
    memset(big, 0x01, 16384);
    for (size_t i = 0; (dfsae_model_meta_key(m, i)) != NULL; ++i)
        assert_int_equal(
            dfsae_model_set_meta(m, dfsae_model_meta_key(m, i), big), DFSAE_OK);
    size_t size = 0;
    unsigned char *buf = fx_keep(state, io_save(m, NULL, &size));
    assert_non_null(buf);
    assert_true(size > 256u * 16384u * 6u);
    dfsae_model **back = fx_model_slot(state);
    char err[DFSAE_ERROR_MESSAGE_SIZE];
    int st =
        dfsae_model_load_buffer(buf, size, NULL, back, NULL, err, sizeof err);
    if (st != DFSAE_OK)
        fail_msg("%s", err);
    assert_true(io_models_identical(m, *back));
}

typedef struct failing {
    size_t left; /* allocations that succeed before one fails */
} failing;

static void *fail_alloc(void *opaque, size_t size)
{
    failing *f = opaque;
    if (f->left == 0)
        return NULL;
    f->left--;
    return malloc(size);
}

static void fail_free(void *opaque, void *p)
{
    (void)opaque;
    free(p);
}

/* Out of memory in set_meta, for the pair or for a larger table, changes
 * nothing. */
static void test_meta_out_of_memory(void **state)
{
    /* In the fixture: teardown frees the model through it. */
    failing *f = fx_alloc(state, sizeof *f);
    f->left = SIZE_MAX;
    dfsae_allocator a = {fail_alloc, fail_free, f};
    dfsae_model **slot = fx_model_slot(state);
    assert_int_equal(dfsae_model_create(D, K, 1, &a, slot), DFSAE_OK);
    dfsae_model *m = *slot;
    for (int i = 0; i < 8; ++i) { /* fills the first table of 8 */
        char k[8];
        snprintf(k, sizeof k, "k%d", i);
        assert_int_equal(dfsae_model_set_meta(m, k, "v"), DFSAE_OK);
    }
    io_snapshot before;
    io_snapshot_take(m, &before);
    for (size_t left = 0; left < 2; ++left) {
        f->left = left; /* 0: the pair fails; 1: the larger table */
        assert_int_equal(dfsae_model_set_meta(m, "new", "v"),
                         DFSAE_ERR_NO_MEMORY);
        assert_true(io_snapshot_same(m, &before));
    }
    f->left = 0;
    assert_int_equal(dfsae_model_set_meta(m, "k3", "replaced"),
                     DFSAE_ERR_NO_MEMORY);
    assert_true(io_snapshot_same(m, &before));
    f->left = SIZE_MAX;
    assert_int_equal(dfsae_model_set_meta(m, "new", "v"), DFSAE_OK);
    io_snapshot_free(&before);
}

/* A file written by dfsae 0.1 (format 1: no run state, no user pairs),
 * kept as it was written: D = 3, K = 2, softplus, lambda_wr 0.5, the
 * parameters -1 + i/4 after two Adam steps (lr 1/8) with the gradient
 * (-1, 0, 1, -1, 0, 1, -1, 0), which move each by 0.25 against the
 * gradient's sign. */
static void test_format1_fixture(void **state)
{
    size_t len = 0;
    unsigned char *file = fx_keep(
        state, io_read_file(IO_FIXTURES "/format1-adam.safetensors", &len));
    assert_non_null(file);
    assert_non_null(memmem(file, len, "\"dfsae.format_version\":\"1\"", 26));
    dfsae_model **m_slot = fx_model_slot(state);
    dfsae_optimizer **o_slot = fx_optimizer_slot(state);
    char err[DFSAE_ERROR_MESSAGE_SIZE];
    int st = dfsae_model_load_buffer(file, len, NULL, m_slot, o_slot, err,
                                     sizeof err);
    if (st != DFSAE_OK)
        fail_msg("%s", err);
    dfsae_model *m = *m_slot;
    dfsae_optimizer *o = *o_slot;
    const float want[8] = {-0.75f, -0.75f, -0.75f, 0.0f,
                           0.0f,   0.0f,   0.75f,  0.75f};
    float got[8];
    assert_int_equal(dfsae_model_get_params(m, got, 8), DFSAE_OK);
    assert_memory_equal(got, want, sizeof got);
    double v;
    dfsae_model_get_option(m, DFSAE_MODEL_ACTIVATION, &v);
    assert_true(v == DFSAE_ACT_SOFTPLUS);
    dfsae_model_get_option(m, DFSAE_MODEL_LAMBDA_WR, &v);
    assert_true(v == 0.5);
    assert_int_equal(dfsae_optimizer_get_kind(o), DFSAE_ADAM);
    assert_int_equal(dfsae_optimizer_step_count(o), 2);
    dfsae_optimizer_get_option(o, DFSAE_OPT_LR, &v);
    assert_true(v == 0.125);
    uint64_t e = 1, r = 1, sd = 1;
    dfsae_model_get_run_state(m, &e, &r, &sd);
    assert_true(e == 0 && r == 0 && sd == 0);
    assert_null(dfsae_model_meta_key(m, 0));
    /* The moments were loaded: a third step with the same gradient moves
     * by lr * m_hat / (sqrt(v_hat) + eps), almost exactly lr; zero moments
     * at step 3 would move by about 0.08. */
    const float g[8] = {-1, 0, 1, -1, 0, 1, -1, 0};
    assert_int_equal(dfsae_optimizer_step(o, m, g), DFSAE_OK);
    dfsae_model_get_params(m, got, 8);
    for (int i = 0; i < 8; ++i) {
        double moved = (double)got[i] - (double)want[i];
        double expect = g[i] == 0 ? 0.0 : (g[i] > 0 ? -0.125 : 0.125);
        assert_true(fabs(moved - expect) < 1e-6);
    }
}

/* A plain PyTorch state dict: no dfsae metadata, so default options. */
static void test_foreign_files(void **state)
{
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
        unsigned char *file =
            fx_keep(state, io_build_file(headers[h], extra,
                                         sizeof data + (h == 2 ? 8 : 0), &len));
        dfsae_model **slot = fx_model_slot(state);
        char err[DFSAE_ERROR_MESSAGE_SIZE];
        int st = dfsae_model_load_buffer(file, len, NULL, slot, NULL, err,
                                         sizeof err);
        if (st != DFSAE_OK)
            fail_msg("header %zu: %s", h, err);
        dfsae_model *m = *slot;
        assert_int_equal(dfsae_model_input_dim(m), D);
        assert_int_equal(dfsae_model_num_components(m), K);
        float got[NP];
        dfsae_model_get_params(m, got, NP);
        assert_memory_equal(got, data, sizeof data);
        dfsae_model *fresh = make_model(state, 0);
        for (int p = 0; p < DFSAE_MODEL_OPTION_COUNT; ++p) {
            double a, b;
            dfsae_model_get_option(m, p, &a);
            dfsae_model_get_option(fresh, p, &b);
            assert_true(a == b);
        }
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
    dfsae_model *m = make_model(state, 3);
    size_t size = 0;
    dfsae_model_save_buffer(m, NULL, NULL, 0, &size);
    unsigned char *buf = fx_alloc(state, size);
    dfsae_model_save_buffer(m, NULL, buf, size, &size);
    counting *c = fx_alloc(state, sizeof *c); /* outlives the model */
    c->allocs = c->frees = 0;
    dfsae_allocator a = {count_alloc, count_free, c};
    dfsae_model **back = fx_model_slot(state);
    assert_int_equal(
        dfsae_model_load_buffer(buf, size, &a, back, NULL, NULL, 0), DFSAE_OK);
    assert_true(c->allocs > 0);
    fx_drop(state, *back);
    assert_int_equal(c->allocs, c->frees);
}

static void test_null_args(void **state)
{
    dfsae_model *m = make_model(state, 3);
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
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(test_buffer_round_trip),
        FIXTURE_TEST(test_small_buffer),
        FIXTURE_TEST(test_layout),
        FIXTURE_TEST(test_path_round_trip),
        FIXTURE_TEST(test_checkpoint_round_trip),
        FIXTURE_TEST(test_model_only_file),
        FIXTURE_TEST(test_run_state_and_meta_round_trip),
        FIXTURE_TEST(test_meta_rules),
        FIXTURE_TEST(test_transform_round_trip),
        FIXTURE_TEST(test_meta_out_of_memory),
        FIXTURE_TEST(test_format1_fixture),
        FIXTURE_TEST(test_foreign_files),
        FIXTURE_TEST(test_allocator_used),
        FIXTURE_TEST(test_null_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
