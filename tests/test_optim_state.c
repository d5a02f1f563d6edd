/* Optimizer state from checkpoints (issue 14, items 1 and 4): a load
 * accepts only states that steps from creation or reset can reach (Adam's
 * second moment >= 0, nothing but zeros at step 0 or in an SGD buffer that
 * never started, a step count of at most 2^53), a step never writes a
 * non-finite parameter whatever state it holds, and a save never writes
 * non-finite parameters or a state its loader would refuse. White-box
 * where only a corrupted handle can reach a case. */
#include <float.h>
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
#include "model.h"
#include "optim/optim.h"

#define D    3
#define K    2
#define NP   (K * D + K)
#define ROWS 8

/* A checkpoint file's bytes. */
typedef struct ckpt {
    unsigned char *file;
    size_t len;
} ckpt;

static void make_data(float *X)
{
    uint64_t s = 99;
    for (int i = 0; i < ROWS * D; ++i)
        X[i] = io_uniform(&s) * 2.0f - 1.0f;
}

static int take_steps(dfsae_model *m, dfsae_optimizer *o, int steps)
{
    float X[ROWS * D], g[NP];
    make_data(X);
    for (int t = 0; t < steps; ++t) {
        int st = dfsae_model_grad(m, X, ROWS, g, NULL, NULL, 0);
        if (st == DFSAE_OK)
            st = dfsae_optimizer_step(o, m, g);
        if (st != DFSAE_OK)
            return st;
    }
    return DFSAE_OK;
}

static ckpt save_ckpt(void **state, dfsae_model *m, const dfsae_optimizer *o)
{
    ckpt c = {NULL, 0};
    assert_int_equal(dfsae_model_save_buffer(m, o, NULL, 0, &c.len), DFSAE_OK);
    c.file = fx_alloc(state, c.len);
    assert_int_equal(dfsae_model_save_buffer(m, o, c.file, c.len, &c.len),
                     DFSAE_OK);
    return c;
}

/* A checkpoint of `kind` after `steps` steps (SGD with momentum 0.9). */
static ckpt checkpoint_after(void **state, int kind, int steps)
{
    dfsae_model *m = fx_model(state, D, K, 7);
    dfsae_optimizer *o = fx_optimizer(state, kind, NP);
    if (kind == DFSAE_SGD)
        assert_int_equal(dfsae_optimizer_set_option(o, DFSAE_OPT_MOMENTUM, 0.9),
                         DFSAE_OK);
    assert_int_equal(take_steps(m, o, steps), DFSAE_OK);
    ckpt c = save_ckpt(state, m, o);
    fx_drop(state, o);
    fx_drop(state, m);
    return c;
}

static uint64_t header_len(const ckpt *c)
{
    uint64_t n = 0;
    for (int b = 7; b >= 0; --b)
        n = n << 8 | c->file[b];
    return n;
}

/* Element i of tensor `name`: found through its data_offsets. */
static float *tensor_elem(void **state, ckpt *c, const char *name, size_t i)
{
    uint64_t n = header_len(c);
    char *json = fx_alloc(state, n + 1);
    memcpy(json, c->file + 8, n);
    json[n] = '\0';
    char key[64];
    snprintf(key, sizeof key, "\"%s\":", name);
    const char *at = strstr(json, key);
    assert_non_null(at);
    at = strstr(at, "\"data_offsets\":[");
    assert_non_null(at);
    unsigned long long begin = 0;
    assert_int_equal(sscanf(at, "\"data_offsets\":[%llu", &begin), 1);
    fx_drop(state, json);
    return (float *)(void *)(c->file + 8 + n + begin + 4 * i);
}

/* The checkpoint with metadata value `key` replaced by `value`. */
static ckpt with_meta(void **state, const ckpt *c, const char *key,
                      const char *value)
{
    uint64_t n = header_len(c);
    const char *json = (const char *)c->file + 8;
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *at = strstr(json, pattern);
    assert_non_null(at);
    at += strlen(pattern);
    const char *end = strchr(at, '"');
    size_t head = (size_t)(at - json), tail = (size_t)(json + n - end);
    size_t len = head + strlen(value) + tail;
    char *text = fx_alloc(state, len + 8);
    memcpy(text, json, head);
    memcpy(text + head, value, strlen(value));
    memcpy(text + head + strlen(value), end, tail);
    /* Re-pad the header to a multiple of 8 bytes, as dfsae writes it. */
    while (text[len - 1] == ' ')
        --len;
    while (len % 8 != 0)
        text[len++] = ' ';
    text[len] = '\0';
    ckpt out;
    out.file = fx_keep(
        state, io_build_file(text, c->file + 8 + n, c->len - 8 - n, &out.len));
    fx_drop(state, text);
    return out;
}

/* Every load of the file fails with `status` and a message holding `msg`,
 * and the handles loaded into stay bit-identical. */
static void expect_refused(void **state, const ckpt *c, int kind, int status,
                           const char *msg)
{
    dfsae_model *out = NULL;
    dfsae_optimizer *oout = NULL;
    char err[DFSAE_ERROR_MESSAGE_SIZE];
    int st = dfsae_model_load_buffer(c->file, c->len, NULL, &out, &oout, err,
                                     sizeof err);
    if (st != status)
        fail_msg("status %d (%s), expected %d; message: %s", st,
                 dfsae_status_string(st), status, err);
    if (strstr(err, msg) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", err, msg);
    assert_null(out);
    assert_null(oout);
    /* A load that drops the optimizer refuses the file too. */
    assert_int_equal(dfsae_model_load_buffer(c->file, c->len, NULL, &out, NULL,
                                             err, sizeof err),
                     status);

    dfsae_model *m = fx_model(state, D, K, 3);
    dfsae_optimizer *o = fx_optimizer(state, kind, NP);
    assert_int_equal(take_steps(m, o, 2), DFSAE_OK);
    io_snapshot *before = fx_snapshot(state, m);
    float kept[2 * NP];
    memcpy(kept, o->state, o->ops->n_state * NP * sizeof *kept);
    assert_int_equal(dfsae_model_load_buffer_into(m, o, c->file, c->len),
                     status);
    assert_true(io_snapshot_same(m, before));
    assert_memory_equal(kept, o->state, o->ops->n_state * NP * sizeof *kept);
    assert_true(dfsae_optimizer_step_count(o) == 2);
    fx_drop(state, before);
    fx_drop(state, o);
    fx_drop(state, m);
}

/* The file: a finite negative second moment. It used to load, and
 * the next step returned OK with NaN in W. */
static void negative_second_moment_is_refused(void **state)
{
    for (int kind = DFSAE_ADAM; kind <= DFSAE_ADAMW; ++kind) {
        ckpt c = checkpoint_after(state, kind, 3);
        *tensor_elem(state, &c, "optimizer.exp_avg_sq", 4) = -0.5f;
        expect_refused(state, &c, kind, DFSAE_ERR_BAD_METADATA, "element 4");
    }
}

/* Reachable states load: after steps, at step 0 (all zero), a second
 * moment of zero next to a non-zero first moment (g^2 underflows), and an
 * SGD buffer that never started. */
static void reachable_states_load(void **state)
{
    for (int kind = 0; kind < DFSAE_OPTIMIZER_KIND_COUNT; ++kind)
        for (int steps = 0; steps <= 2; steps += 2) {
            ckpt c = checkpoint_after(state, kind, steps);
            if (kind != DFSAE_SGD && steps > 0)
                *tensor_elem(state, &c, "optimizer.exp_avg_sq", 1) = 0.0f;
            dfsae_model **m = fx_model_slot(state);
            dfsae_optimizer **o = fx_optimizer_slot(state);
            char err[DFSAE_ERROR_MESSAGE_SIZE];
            int st = dfsae_model_load_buffer(c.file, c.len, NULL, m, o, err,
                                             sizeof err);
            if (st != DFSAE_OK)
                fail_msg("%s after %d steps: %s",
                         dfsae_optimizer_kind_name(kind), steps, err);
            assert_true(dfsae_optimizer_step_count(*o) == (uint64_t)steps);
            assert_int_equal(take_steps(*m, *o, 1), DFSAE_OK);
        }
}

/* Non-zero state at step 0, or in an SGD buffer marked as never started,
 * is no state any sequence of steps leaves behind. */
static void state_inconsistent_with_step_is_refused(void **state)
{
    ckpt adam = checkpoint_after(state, DFSAE_ADAM, 0);
    *tensor_elem(state, &adam, "optimizer.exp_avg", 2) = 0.25f;
    expect_refused(state, &adam, DFSAE_ADAM, DFSAE_ERR_BAD_METADATA, "step 0");

    ckpt sgd = checkpoint_after(state, DFSAE_SGD, 2);
    ckpt unstarted =
        with_meta(state, &sgd, "dfsae.optimizer.momentum_started", "0");
    expect_refused(state, &unstarted, DFSAE_SGD, DFSAE_ERR_BAD_METADATA,
                   "never started");
    ckpt at_zero = with_meta(state, &sgd, "dfsae.optimizer.step", "0");
    expect_refused(state, &at_zero, DFSAE_SGD, DFSAE_ERR_BAD_METADATA,
                   "step 0");
}

/* Issue 14 item 4: a step count of 2^64 - 1 used to load, and every later
 * step failed blaming the learning rate (t + 1 wrapped to 0). Counts above
 * 2^53 are refused on load; at 2^53 a step says the count is exhausted. */
static void step_count_limit(void **state)
{
    ckpt c = checkpoint_after(state, DFSAE_ADAM, 2);
    ckpt huge =
        with_meta(state, &c, "dfsae.optimizer.step", "18446744073709551615");
    expect_refused(state, &huge, DFSAE_ADAM, DFSAE_ERR_BAD_METADATA, "2^53");
    ckpt above =
        with_meta(state, &c, "dfsae.optimizer.step", "9007199254740993");
    expect_refused(state, &above, DFSAE_ADAM, DFSAE_ERR_BAD_METADATA, "2^53");

    ckpt at = with_meta(state, &c, "dfsae.optimizer.step", "9007199254740992");
    dfsae_model **m_slot = fx_model_slot(state);
    dfsae_optimizer **o_slot = fx_optimizer_slot(state);
    char err[DFSAE_ERROR_MESSAGE_SIZE];
    assert_int_equal(dfsae_model_load_buffer(at.file, at.len, NULL, m_slot,
                                             o_slot, err, sizeof err),
                     DFSAE_OK);
    dfsae_model *m = *m_slot;
    dfsae_optimizer *o = *o_slot;
    assert_true(dfsae_optimizer_step_count(o) == (uint64_t)1 << 53);
    const io_snapshot *before = fx_snapshot(state, m);
    assert_int_equal(take_steps(m, o, 1), DFSAE_ERR_SIZE_OVERFLOW);
    assert_non_null(strstr(dfsae_optimizer_last_error(o), "step count"));
    assert_null(strstr(dfsae_optimizer_last_error(o), "learning rate"));
    assert_true(io_snapshot_same(m, before));
    assert_true(dfsae_optimizer_step_count(o) == (uint64_t)1 << 53);
    /* Reset starts the count again. */
    dfsae_optimizer_reset(o);
    assert_int_equal(take_steps(m, o, 1), DFSAE_OK);
}

/* Whatever state the optimizer holds, a step returns OK only with finite
 * parameters, and otherwise changes nothing. A negative second moment
 * reaches the step only through a corrupted handle. */
static void step_never_writes_non_finite(void **state)
{
    for (int kind = DFSAE_ADAM; kind <= DFSAE_ADAMW; ++kind) {
        dfsae_model *m = fx_model(state, D, K, 5);
        dfsae_optimizer *o = fx_optimizer(state, kind, NP);
        assert_int_equal(take_steps(m, o, 2), DFSAE_OK);
        o->state[NP + 3] = -0.5f; /* exp_avg_sq */
        o->maxima_valid = 0;
        float p[NP], s[2 * NP];
        memcpy(p, m->params, sizeof p);
        memcpy(s, o->state, sizeof s);
        int st = take_steps(m, o, 1);
        assert_int_not_equal(st, DFSAE_OK);
        assert_memory_equal(p, m->params, sizeof p);
        assert_memory_equal(s, o->state, sizeof s);
        assert_true(dfsae_optimizer_step_count(o) == 2);
    }
}

/* A save refuses to write what no load accepts: non-finite parameters, or
 * an optimizer state outside its domain. Nothing is written. */
static void save_refuses_what_load_refuses(void **state)
{
    dfsae_model *m = fx_model(state, D, K, 5);
    dfsae_optimizer *o = fx_optimizer(state, DFSAE_ADAM, NP);
    assert_int_equal(take_steps(m, o, 2), DFSAE_OK);
    size_t len = 0;
    assert_int_equal(dfsae_model_save_buffer(m, o, NULL, 0, &len), DFSAE_OK);
    unsigned char *buf = fx_alloc(state, len);
    memset(buf, 0xab, len);

    const float keep = m->params[4];
    m->params[4] = NAN;
    assert_int_equal(dfsae_model_save_buffer(m, NULL, buf, len, &len),
                     DFSAE_ERR_NON_FINITE_INPUT);
    assert_non_null(strstr(dfsae_model_last_error(m), "parameter 4"));
    char *dir = fx_tempdir(state);
    char *path = fx_join(state, dir, "m.safetensors");
    assert_int_equal(dfsae_model_save(m, NULL, path),
                     DFSAE_ERR_NON_FINITE_INPUT);
    assert_int_equal(io_count_entries(dir), 0);
    m->params[4] = keep;

    o->state[NP + 1] = -1.0f;
    assert_int_equal(dfsae_model_save_buffer(m, o, buf, len, &len),
                     DFSAE_ERR_INVALID_ARG);
    assert_non_null(strstr(dfsae_model_last_error(m), "element 1"));
    assert_int_equal(dfsae_model_save(m, o, path), DFSAE_ERR_INVALID_ARG);
    assert_int_equal(io_count_entries(dir), 0);
    for (size_t i = 0; i < len; ++i)
        assert_int_equal(buf[i], 0xab);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(negative_second_moment_is_refused),
        FIXTURE_TEST(reachable_states_load),
        FIXTURE_TEST(state_inconsistent_with_step_is_refused),
        FIXTURE_TEST(step_count_limit),
        FIXTURE_TEST(step_never_writes_non_finite),
        FIXTURE_TEST(save_refuses_what_load_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
