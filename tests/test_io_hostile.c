/* Hostile files: each malformed input returns its specific status with a
 * detail message, never crashes, and leaves the handle it was loaded into
 * bit-identical (parameters and options). Create-style loads return the
 * same status and no model. */
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

/* D = 2, K = 2: weight 16 bytes at [0,16], bias 8 bytes at [16,24]. */
#define W                                                                      \
    "\"weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}"
#define B       "\"bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24]}"
#define META(x) "\"__metadata__\":{\"dfsae.format_version\":\"1\"" x "}"

enum { GOOD, NAN_W, INF_B, NAN_STATE, ZERO_SCALE };

/* The input transform's tensors after W and b: shift at bytes 24..32 and
 * scale at 32..40 of the data for D = 2 (n = 2). */
#define XF(shape, shift_end, scale_end)                                        \
    "\"input_transform.shift\":{\"dtype\":\"F32\",\"shape\":[" shape           \
    "],\"data_offsets\":[24," shift_end "]},\"input_transform.scale\":{"       \
    "\"dtype\":\"F32\",\"shape\":[" shape "],\"data_offsets\":[" shift_end     \
    "," scale_end "]}"

typedef struct hostile {
    const char *what;
    const char *json;
    size_t data_len;
    int data;
    int status;
    const char *msg; /* expected in the detail message */
} hostile;

static const hostile cases[] = {
    {"unterminated JSON", "{" W, 24, GOOD, DFSAE_ERR_BAD_HEADER, "JSON"},
    {"array header", "[1,2]", 24, GOOD, DFSAE_ERR_BAD_HEADER, "'{'"},
    {"leading space", " {" W "," B "}", 24, GOOD, DFSAE_ERR_BAD_HEADER, "'{'"},
    {"trailing data", "{" W "," B "}x", 24, GOOD, DFSAE_ERR_BAD_HEADER,
     "after"},
    {"invalid UTF-8", "{\"w\xff\":1," W "," B "}", 24, GOOD,
     DFSAE_ERR_BAD_HEADER, "UTF-8"},
    {"overlong UTF-8", "{\"\xc0\xaf\":1," W "," B "}", 24, GOOD,
     DFSAE_ERR_BAD_HEADER, "UTF-8"},
    {"UTF-8 surrogate", "{\"\xed\xa0\x80\":1," W "," B "}", 24, GOOD,
     DFSAE_ERR_BAD_HEADER, "UTF-8"},
    {"UTF-8 above U+10FFFF", "{\"\xf4\x90\x80\x80\":1," W "," B "}", 24, GOOD,
     DFSAE_ERR_BAD_HEADER, "UTF-8"},
    {"cut UTF-8 sequence", "{" W "," B ",\"\xe2\x82\"", 24, GOOD,
     DFSAE_ERR_BAD_HEADER, "UTF-8"},
    {"control byte", "{\"a\x01\":1," W "," B "}", 24, GOOD,
     DFSAE_ERR_BAD_HEADER, "control"},
    {"NUL escape",
     "{\"weight\\u0000x\":{\"dtype\":\"F32\",\"shape\":[2,2],"
     "\"data_offsets\":[0,16]}," B "}",
     24, GOOD, DFSAE_ERR_BAD_HEADER, "u0000"},
    {"duplicate tensor", "{" W "," B "," W "}", 24, GOOD,
     DFSAE_ERR_DUPLICATE_KEY, "\"weight\" appears twice"},
    {"escaped duplicate", "{" W "," B ",\"w\\u0065ight\":1}", 24, GOOD,
     DFSAE_ERR_DUPLICATE_KEY, "weight"},
    {"duplicate metadata",
     "{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}," W "," B "}", 24, GOOD,
     DFSAE_ERR_DUPLICATE_KEY, "__metadata__"},
    {"duplicate field",
     "{\"weight\":{\"dtype\":\"F32\",\"dtype\":\"F16\","
     "\"shape\":[2,2],\"data_offsets\":[0,16]}," B "}",
     24, GOOD, DFSAE_ERR_DUPLICATE_KEY, "dtype"},
    {"data past the end",
     "{" W ",\"bias\":{\"dtype\":\"F32\",\"shape\":[4],"
     "\"data_offsets\":[16,32]}}",
     24, GOOD, DFSAE_ERR_TRUNCATED, "need 32"},
    {"span differs from shape",
     "{" W ",\"bias\":{\"dtype\":\"F32\","
     "\"shape\":[2],\"data_offsets\":[16,28]}}",
     28, GOOD, DFSAE_ERR_BAD_OFFSETS, "need 8"},
    {"overlap",
     "{" W ",\"bias\":{\"dtype\":\"F32\",\"shape\":[2],"
     "\"data_offsets\":[8,16]}}",
     16, GOOD, DFSAE_ERR_BAD_OFFSETS, "overlap"},
    {"gap",
     "{" W ",\"bias\":{\"dtype\":\"F32\",\"shape\":[2],"
     "\"data_offsets\":[20,28]}}",
     28, GOOD, DFSAE_ERR_BAD_OFFSETS, "gap"},
    {"uncovered tail", "{" W "," B "}", 28, GOOD, DFSAE_ERR_BAD_OFFSETS,
     "no tensor"},
    {"end before begin",
     "{" W ",\"bias\":{\"dtype\":\"F32\",\"shape\":[0],"
     "\"data_offsets\":[24,16]}}",
     24, GOOD, DFSAE_ERR_BAD_OFFSETS, "end"},
    {"negative offset",
     "{\"weight\":{\"dtype\":\"F32\",\"shape\":[2,2],"
     "\"data_offsets\":[-8,8]}," B "}",
     24, GOOD, DFSAE_ERR_BAD_OFFSETS, "whole numbers"},
    {"offset written as a float",
     "{\"weight\":{\"dtype\":\"F32\",\"shape\":[2,2],"
     "\"data_offsets\":[0,16.0]}," B "}",
     24, GOOD, DFSAE_ERR_BAD_OFFSETS, "whole numbers"},
    {"dimension written with an exponent",
     "{\"weight\":{\"dtype\":\"F32\",\"shape\":[2,2e0],"
     "\"data_offsets\":[0,16]}," B "}",
     24, GOOD, DFSAE_ERR_BAD_SHAPE, "dimension 1"},
    {"duplicate deep inside a tensor",
     "{\"weight\":{\"dtype\":\"F32\",\"shape\":[2,2],"
     "\"data_offsets\":[0,16],\"x\":{\"y\":1,\"y\":2}}," B "}",
     24, GOOD, DFSAE_ERR_DUPLICATE_KEY, "\"y\" appears twice"},
    {"one offset",
     "{\"weight\":{\"dtype\":\"F32\",\"shape\":[2,2],"
     "\"data_offsets\":[0]}," B "}",
     24, GOOD, DFSAE_ERR_BAD_OFFSETS, "two"},
    {"huge offset",
     "{\"weight\":{\"dtype\":\"F32\",\"shape\":[2,2],"
     "\"data_offsets\":[1e300,1e300]}," B "}",
     24, GOOD, DFSAE_ERR_BAD_OFFSETS, "2^53"},
    {"F16 weight",
     "{\"weight\":{\"dtype\":\"F16\",\"shape\":[2,2],"
     "\"data_offsets\":[0,8]},\"bias\":{\"dtype\":\"F32\",\"shape\":[2],"
     "\"data_offsets\":[8,16]}}",
     16, GOOD, DFSAE_ERR_BAD_DTYPE, "F32 only"},
    {"unknown dtype",
     "{\"weight\":{\"dtype\":\"F33\",\"shape\":[2,2],"
     "\"data_offsets\":[0,16]}," B "}",
     24, GOOD, DFSAE_ERR_BAD_DTYPE, "unknown dtype"},
    {"dtype not a string",
     "{\"weight\":{\"dtype\":4,\"shape\":[2,2],"
     "\"data_offsets\":[0,16]}," B "}",
     24, GOOD, DFSAE_ERR_BAD_HEADER, "dtype"},
    {"rank 1 weight",
     "{\"weight\":{\"dtype\":\"F32\",\"shape\":[4],"
     "\"data_offsets\":[0,16]}," B "}",
     24, GOOD, DFSAE_ERR_BAD_SHAPE, "rank"},
    {"rank 3 weight",
     "{\"weight\":{\"dtype\":\"F32\",\"shape\":[2,2,1],"
     "\"data_offsets\":[0,16]}," B "}",
     24, GOOD, DFSAE_ERR_BAD_SHAPE, "rank"},
    {"bias of other K",
     "{" W ",\"bias\":{\"dtype\":\"F32\",\"shape\":[3],"
     "\"data_offsets\":[16,28]}}",
     28, GOOD, DFSAE_ERR_BAD_SHAPE, "shape"},
    {"empty weight",
     "{\"weight\":{\"dtype\":\"F32\",\"shape\":[2,0],"
     "\"data_offsets\":[0,0]},\"bias\":{\"dtype\":\"F32\",\"shape\":[2],"
     "\"data_offsets\":[0,8]}}",
     8, GOOD, DFSAE_ERR_BAD_SHAPE, "empty"},
    {"negative dimension",
     "{\"weight\":{\"dtype\":\"F32\",\"shape\":[-2,-2],"
     "\"data_offsets\":[0,16]}," B "}",
     24, GOOD, DFSAE_ERR_BAD_SHAPE, "dimension 0"},
    {"fractional dimension",
     "{\"weight\":{\"dtype\":\"F32\","
     "\"shape\":[2,1.5],\"data_offsets\":[0,16]}," B "}",
     24, GOOD, DFSAE_ERR_BAD_SHAPE, "dimension 1"},
    {"element count overflow",
     "{" W "," B ",\"x\":{\"dtype\":\"U8\","
     "\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[24,24]}}",
     24, GOOD, DFSAE_ERR_SIZE_OVERFLOW, "overflows"},
    {"byte size overflow",
     "{" W "," B ",\"x\":{\"dtype\":\"F64\","
     "\"shape\":[4294967296,4294967296],\"data_offsets\":[24,24]}}",
     24, GOOD, DFSAE_ERR_SIZE_OVERFLOW, "overflows"},
    {"no bias", "{" W "}", 16, GOOD, DFSAE_ERR_BAD_HEADER, "bias"},
    {"no tensors", "{}", 0, GOOD, DFSAE_ERR_BAD_HEADER, "weight"},
    {"tensor not an object", "{\"weight\":[1]," B "}", 24, GOOD,
     DFSAE_ERR_BAD_HEADER, "object"},
    {"both naming schemes",
     "{" W "," B ",\"linear.bias\":{\"dtype\":\"F32\","
     "\"shape\":[0],\"data_offsets\":[24,24]}}",
     24, GOOD, DFSAE_ERR_BAD_HEADER, "linear"},
    {"metadata not an object", "{\"__metadata__\":[]," W "," B "}", 24, GOOD,
     DFSAE_ERR_BAD_METADATA, "object"},
    {"metadata not a string", "{\"__metadata__\":{\"a\":1}," W "," B "}", 24,
     GOOD, DFSAE_ERR_BAD_METADATA, "string"},
    {"newer format",
     "{\"__metadata__\":{\"dfsae.format_version\":\"3\"}," W "," B "}", 24,
     GOOD, DFSAE_ERR_UNSUPPORTED_VERSION, "version 3"},
    {"bad version",
     "{\"__metadata__\":{\"dfsae.format_version\":\"1.0\"}," W "," B "}", 24,
     GOOD, DFSAE_ERR_BAD_METADATA, "format_version"},
    {"run state not a number",
     "{" META(",\"dfsae.run.epochs\":\"-1\"") "," W "," B "}", 24, GOOD,
     DFSAE_ERR_BAD_METADATA, "dfsae.run.epochs"},
    {"run seed above 64 bits",
     "{" META(",\"dfsae.run.seed\":\"18446744073709551616\"") "," W "," B "}",
     24, GOOD, DFSAE_ERR_BAD_METADATA, "dfsae.run.seed"},
    {"empty user key", "{" META(",\"user.\":\"x\"") "," W "," B "}", 24, GOOD,
     DFSAE_ERR_BAD_METADATA, "user."},
    {"user key with a control byte",
     "{" META(",\"user.a\\u0001\":\"x\"") "," W "," B "}", 24, GOOD,
     DFSAE_ERR_BAD_METADATA, "printable"},
    {"transform shift without scale",
     "{" W "," B ",\"input_transform.shift\":{\"dtype\":\"F32\",\"shape\":[2],"
     "\"data_offsets\":[24,32]}}",
     32, GOOD, DFSAE_ERR_BAD_HEADER, "without"},
    {"transform of 3 values for D = 2", "{" W "," B "," XF("3", "36", "48") "}",
     48, GOOD, DFSAE_ERR_BAD_SHAPE, "input_transform.shift"},
    {"transform scale of another length",
     "{" W "," B ",\"input_transform.shift\":{\"dtype\":\"F32\",\"shape\":[1],"
     "\"data_offsets\":[24,28]},\"input_transform.scale\":{\"dtype\":"
     "\"F32\",\"shape\":[2],\"data_offsets\":[28,36]}}",
     36, GOOD, DFSAE_ERR_BAD_SHAPE, "input_transform.scale"},
    {"transform with a zero scale", "{" W "," B "," XF("2", "32", "40") "}", 40,
     ZERO_SCALE, DFSAE_ERR_BAD_METADATA, "element 1 is 0"},
    {"transform with a NaN shift", "{" W "," B "," XF("2", "32", "40") "}", 40,
     NAN_STATE, DFSAE_ERR_NON_FINITE_INPUT, "input_transform.shift"},
    {"unknown activation",
     "{" META(",\"dfsae.activation\":\"gelu\"") "," W "," B "}", 24, GOOD,
     DFSAE_ERR_BAD_METADATA, "gelu"},
    {"negative lambda",
     "{" META(",\"dfsae.lambda_var\":\"-1\"") "," W "," B "}", 24, GOOD,
     DFSAE_ERR_BAD_METADATA, "lambda_var"},
    {"lambda inf", "{" META(",\"dfsae.lambda_tc\":\"inf\"") "," W "," B "}", 24,
     GOOD, DFSAE_ERR_BAD_METADATA, "lambda_tc"},
    {"lambda overflow",
     "{" META(",\"dfsae.lambda_tc\":\"1e999\"") "," W "," B "}", 24, GOOD,
     DFSAE_ERR_BAD_METADATA, "lambda_tc"},
    {"decimal comma", "{" META(",\"dfsae.eps_var\":\"1,5\"") "," W "," B "}",
     24, GOOD, DFSAE_ERR_BAD_METADATA, "eps_var"},
    {"unknown reduction",
     "{" META(",\"dfsae.lse_reduction\":\"max\"") "," W "," B "}", 24, GOOD,
     DFSAE_ERR_BAD_METADATA, "max"},
    {"unknown optimizer",
     "{" META(",\"dfsae.optimizer\":\"rmsprop\"") "," W "," B "}", 24, GOOD,
     DFSAE_ERR_BAD_METADATA, "rmsprop"},
    {"optimizer without step",
     "{" META(",\"dfsae.optimizer\":\"sgd\"") "," W "," B "}", 24, GOOD,
     DFSAE_ERR_BAD_METADATA, "step"},
    {"optimizer without state",
     "{" META(
         ",\"dfsae.optimizer\":\"sgd\",\"dfsae.optimizer.step\":\"1\","
         "\"dfsae.optimizer.lr\":\"0.1\",\"dfsae.optimizer.momentum\":\"0\","
         "\"dfsae.optimizer.dampening\":\"0\",\"dfsae.optimizer.nesterov\":"
         "\"0\","
         "\"dfsae.optimizer.weight_decay\":\"0\"") "," W "," B "}",
     24, GOOD, DFSAE_ERR_BAD_HEADER, "momentum_buffer"},
    {"bad momentum_started",
     "{" META(
         ",\"dfsae.optimizer\":\"sgd\",\"dfsae.optimizer.step\":\"1\","
         "\"dfsae.optimizer.lr\":\"0.1\",\"dfsae.optimizer.momentum\":\"0.9\","
         "\"dfsae.optimizer.dampening\":\"0\",\"dfsae.optimizer.nesterov\":"
         "\"0\","
         "\"dfsae.optimizer.weight_decay\":\"0\","
         "\"dfsae.optimizer.momentum_started\":\"2\"") "," W "," B "}",
     24, GOOD, DFSAE_ERR_BAD_METADATA, "momentum_started"},
    {"NaN weight", "{" W "," B "}", 24, NAN_W, DFSAE_ERR_NON_FINITE_INPUT,
     "\"weight\": element 1"},
    {"Inf bias", "{" W "," B "}", 24, INF_B, DFSAE_ERR_NON_FINITE_INPUT,
     "\"bias\": element 1"},
    /* Optimizer state is validated even by loads that drop it. */
    {"NaN momentum buffer",
     "{" META(
         ",\"dfsae.optimizer\":\"sgd\",\"dfsae.optimizer.step\":\"1\","
         "\"dfsae.optimizer.lr\":\"0.1\",\"dfsae.optimizer.momentum\":\"0.9\","
         "\"dfsae.optimizer.dampening\":\"0\",\"dfsae.optimizer.nesterov\":"
         "\"0\","
         "\"dfsae.optimizer.weight_decay\":\"0\","
         "\"dfsae.optimizer.momentum_started\":\"1\"") "," W "," B
                                                       ",\"optimizer.momentum_"
                                                       "buffer\":{\"dtype\":"
                                                       "\"F32\",\"shape\":[6],"
                                                       "\"data_offsets\":[24,"
                                                       "48]}}",
     48, NAN_STATE, DFSAE_ERR_NON_FINITE_INPUT, "momentum_buffer"},
};

static void fill(unsigned char *data, int kind)
{
    float f[12] = {0.5f, -0.25f, 1.0f, 2.0f, 0.125f, -1.5f,
                   0.1f, 0.2f,   0.3f, 0.4f, 0.5f,   0.6f};
    float inf = 1e30f * 1e30f;
    if (kind == NAN_W)
        f[1] = inf - inf;
    if (kind == INF_B)
        f[5] = -inf;
    if (kind == NAN_STATE)
        f[7] = inf - inf;
    if (kind == ZERO_SCALE)
        f[9] = 0.0f;
    memcpy(data, f, sizeof f); /* little-endian host assumed for tests */
}

/* Loads `file` every way and checks the status and that nothing moved. */
static void expect_failure(void **state, const char *what,
                           const unsigned char *file, size_t len, int status,
                           const char *msg)
{
    dfsae_model *m = fx_model(state, 2, 2, 42);
    dfsae_model_set_option(m, DFSAE_MODEL_ACTIVATION, DFSAE_ACT_TANH);
    dfsae_model_set_run_state(m, 4, 1, 9);
    dfsae_model_set_meta(m, "kept", "through failed loads");
    const float shift[2] = {0.5f, -1.0f}, scale[2] = {2.0f, 0.25f};
    dfsae_model_set_transform(m, shift, scale, 2);
    io_snapshot *before = fx_snapshot(state, m);
    int st = dfsae_model_load_buffer_into(m, NULL, file, len);
    if (st != status)
        fail_msg("%s: status %d (%s), expected %d; message: %s", what, st,
                 dfsae_status_string(st), status, dfsae_model_last_error(m));
    if (msg != NULL && strstr(dfsae_model_last_error(m), msg) == NULL)
        fail_msg("%s: message \"%s\" lacks \"%s\"", what,
                 dfsae_model_last_error(m), msg);
    assert_true(io_snapshot_same(m, before));

    dfsae_optimizer *o = fx_optimizer(state, DFSAE_ADAM, 6);
    st = dfsae_model_load_buffer_into(m, o, file, len);
    assert_int_not_equal(st, DFSAE_OK);
    assert_int_equal(dfsae_optimizer_step_count(o), 0);
    assert_true(io_snapshot_same(m, before));

    char err[DFSAE_ERROR_MESSAGE_SIZE] = "";
    dfsae_model *out = m;
    st = dfsae_model_load_buffer(file, len, NULL, &out, NULL, err, sizeof err);
    if (status != DFSAE_ERR_SIZE_MISMATCH) {
        assert_int_equal(st, status);
        assert_null(out);
        assert_true(strlen(err) > 0);
    } else {
        dfsae_model_free(out);
    }
    /* callers loop over many files: free this one's things now */
    fx_drop(state, o);
    fx_drop(state, before);
    fx_drop(state, m);
}

static void test_hostile_headers(void **state)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        unsigned char data[48] = {0};
        fill(data, cases[i].data);
        size_t len;
        unsigned char *file = fx_keep(
            state, io_build_file(cases[i].json, data, cases[i].data_len, &len));
        expect_failure(state, cases[i].what, file, len, cases[i].status,
                       cases[i].msg);
        fx_drop(state, file);
    }
}

static void test_good_control(void **state)
{
    /* The same builder with a correct header loads: the failures above
     * come from what each case changed. */
    unsigned char data[48];
    fill(data, GOOD);
    size_t len;
    unsigned char *file = fx_keep(
        state, io_build_file("{" META("") "," W "," B "}", data, 24, &len));
    dfsae_model **m = fx_model_slot(state);
    char err[DFSAE_ERROR_MESSAGE_SIZE];
    assert_int_equal(
        dfsae_model_load_buffer(file, len, NULL, m, NULL, err, sizeof err),
        DFSAE_OK);
    float p[6];
    dfsae_model_get_params(*m, p, 6);
    assert_true(p[0] == 0.5f && p[5] == -1.5f);
}

static void set_length(unsigned char *file, uint64_t n)
{
    for (int b = 0; b < 8; ++b)
        file[b] = (unsigned char)(n >> (8 * b));
}

static void test_header_length(void **state)
{
    unsigned char data[48];
    fill(data, GOOD);
    size_t len;
    unsigned char *file =
        fx_keep(state, io_build_file("{" W "," B "}", data, 24, &len));
    expect_failure(state, "empty file", file, 0, DFSAE_ERR_TRUNCATED, "8-byte");
    expect_failure(state, "7 bytes", file, 7, DFSAE_ERR_TRUNCATED, "8-byte");
    set_length(file, len - 7);
    expect_failure(state, "length past the end", file, len, DFSAE_ERR_TRUNCATED,
                   "header length");
    set_length(file, (uint64_t)1 << 63);
    expect_failure(state, "length 2^63", file, len, DFSAE_ERR_HEADER_TOO_LARGE,
                   "limit");
    set_length(file, UINT64_MAX);
    expect_failure(state, "length 2^64-1", file, len,
                   DFSAE_ERR_HEADER_TOO_LARGE, "limit");
    set_length(file, (uint64_t)DFSAE_MAX_HEADER_BYTES + 1);
    expect_failure(state, "length cap + 1", file, len,
                   DFSAE_ERR_HEADER_TOO_LARGE, "limit");
    set_length(file, 0);
    expect_failure(state, "length 0", file, len, DFSAE_ERR_BAD_HEADER, "'{'");
}

/* Files of other formats (a gzip, a zip such as a .pt, text) are named
 * for what they are, not for an absurd header length. */
static void test_not_a_model_file(void **state)
{
    static const struct {
        const char *what;
        unsigned char bytes[24];
    } others[] = {
        {"gzip",
         {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x4b,
          0x4c, 0x4a, 0x06, 0x00, 0xc2, 0x41, 0x24, 0x35}},
        {"zip", {'P', 'K', 3, 4, 20, 0, 0, 0, 8, 0, 0, 0, 33, 0}},
        {"text", "hello, this is text\n"},
        {"npy", {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 'v', 0, '{', '\''}},
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; ++i)
        expect_failure(state, others[i].what, others[i].bytes,
                       sizeof others[i].bytes, DFSAE_ERR_BAD_HEADER,
                       "not a safetensors model file");
}

/* A header of a million tiny values would become a tree of ~32 MB; the
 * token cap refuses it before parsing. */
static void test_token_bomb(void **state)
{
    size_t n = (1u << 20) + 10;
    char *json = fx_alloc(state, 2 * n + 16);
    strcpy(json, "{\"a\":[");
    char *p = json + strlen(json);
    for (size_t i = 0; i < n; ++i) {
        *p++ = '0';
        *p++ = ',';
    }
    strcpy(p - 1, "]}");
    size_t len;
    unsigned char *file = fx_keep(state, io_build_file(json, NULL, 0, &len));
    expect_failure(state, "token bomb", file, len, DFSAE_ERR_HEADER_TOO_LARGE,
                   "JSON values");
}

/* The parser recurses per nesting level; its limit (64) must stop a deep
 * header before the stack does. */
static void test_deep_nesting(void **state)
{
    size_t depth = 100000;
    char *json = fx_alloc(state, 2 * depth + 16);
    strcpy(json, "{\"x\":");
    size_t at = strlen(json);
    memset(json + at, '[', depth);
    memset(json + at + depth, ']', depth);
    strcpy(json + at + 2 * depth, "}");
    size_t len;
    unsigned char *file = fx_keep(state, io_build_file(json, NULL, 0, &len));
    expect_failure(state, "deep nesting", file, len, DFSAE_ERR_BAD_HEADER,
                   "JSON");
}

/* A real checkpoint cut at every length is always "truncated". */
static void test_every_truncation(void **state)
{
    dfsae_model *m = fx_model(state, 3, 2, 1);
    dfsae_optimizer *o =
        fx_optimizer(state, DFSAE_ADAM, dfsae_model_num_params(m));
    size_t size;
    dfsae_model_save_buffer(m, o, NULL, 0, &size);
    unsigned char *buf = fx_alloc(state, size);
    assert_int_equal(dfsae_model_save_buffer(m, o, buf, size, &size), DFSAE_OK);
    dfsae_model *target = fx_model(state, 3, 2, 77);
    const io_snapshot *before = fx_snapshot(state, target);
    for (size_t cut = 0; cut < size; ++cut) {
        /* exact size for ASan */
        unsigned char *copy = fx_alloc(state, cut + 1);
        memcpy(copy, buf, cut);
        int st = dfsae_model_load_buffer_into(target, o, copy, cut);
        if (st != DFSAE_ERR_TRUNCATED)
            fail_msg("cut at %zu: status %d: %s", cut, st,
                     dfsae_model_last_error(target));
        fx_drop(state, copy);
    }
    assert_true(io_snapshot_same(target, before));
}

/* Every byte of a real header replaced by a few values: no crash, and a
 * failed load leaves the model alone (ASan and UBSan watch in CI). */
static void test_byte_mutations(void **state)
{
    dfsae_model *m = fx_model(state, 2, 2, 1);
    dfsae_optimizer *o = fx_optimizer(state, DFSAE_SGD, 6);
    size_t size;
    dfsae_model_save_buffer(m, o, NULL, 0, &size);
    unsigned char *buf = fx_alloc(state, size);
    dfsae_model_save_buffer(m, o, buf, size, &size);
    static const unsigned char values[] = {0x00, '"', '9', '{', ',', 0xff};
    dfsae_model *target = fx_model(state, 2, 2, 5);
    const io_snapshot *before = fx_snapshot(state, target);
    size_t failures = 0;
    for (size_t i = 0; i < size; ++i) {
        for (size_t v = 0; v < sizeof values; ++v) {
            unsigned char keep = buf[i];
            if (keep == values[v])
                continue;
            buf[i] = values[v];
            int st = dfsae_model_load_buffer_into(target, o, buf, size);
            if (st != DFSAE_OK) {
                ++failures;
                assert_true(io_snapshot_same(target, before));
                assert_true(strlen(dfsae_model_last_error(target)) > 0);
            } else {
                /* a mutation in the data; put the model back */
                dfsae_model_set_params(target, before->params, before->n);
                for (int p = 0; p < DFSAE_MODEL_OPTION_COUNT; ++p)
                    dfsae_model_set_option(target, p, before->options[p]);
                dfsae_model_set_run_state(target, before->run[0],
                                          before->run[1], before->run[2]);
            }
            buf[i] = keep;
        }
    }
    assert_true(failures > size); /* most header mutations must fail */
}

static void test_shape_mismatch(void **state)
{
    dfsae_model *src = fx_model(state, 3, 2, 1);
    size_t size;
    dfsae_model_save_buffer(src, NULL, NULL, 0, &size);
    unsigned char *buf = fx_alloc(state, size);
    dfsae_model_save_buffer(src, NULL, buf, size, &size);
    expect_failure(state, "D mismatch", buf, size, DFSAE_ERR_SIZE_MISMATCH,
                   "D = 3, K = 2");

    src = fx_model(state, 2, 3, 1);
    dfsae_optimizer *o = fx_optimizer(state, DFSAE_SGD, 9);
    dfsae_model_save_buffer(src, o, NULL, 0, &size);
    buf = fx_alloc(state, size);
    dfsae_model_save_buffer(src, o, buf, size, &size);
    expect_failure(state, "K mismatch", buf, size, DFSAE_ERR_SIZE_MISMATCH,
                   "K = 3");
    /* Right shape, wrong optimizer kind. */
    dfsae_model *same = fx_model(state, 2, 3, 8);
    dfsae_optimizer *adam = fx_optimizer(state, DFSAE_ADAM, 9);
    const io_snapshot *before = fx_snapshot(state, same);
    assert_int_equal(dfsae_model_load_buffer_into(same, adam, buf, size),
                     DFSAE_ERR_INVALID_ARG);
    assert_non_null(strstr(dfsae_optimizer_last_error(adam), "sgd"));
    assert_true(io_snapshot_same(same, before));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(test_hostile_headers),
        FIXTURE_TEST(test_good_control),
        FIXTURE_TEST(test_header_length),
        FIXTURE_TEST(test_not_a_model_file),
        FIXTURE_TEST(test_token_bomb),
        FIXTURE_TEST(test_deep_nesting),
        FIXTURE_TEST(test_every_truncation),
        FIXTURE_TEST(test_byte_mutations),
        FIXTURE_TEST(test_shape_mismatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
