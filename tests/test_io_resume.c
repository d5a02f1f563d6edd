/* Resumable training: N steps, a checkpoint, a FRESH PROCESS (this test
 * re-executes itself) that loads it and trains M more steps, gives
 * parameters bit-identical to N + M uninterrupted steps in this process.
 * Covers Adam (moments, bias correction by step count), SGD with momentum
 * (buffer started at step 1) and AdamW. */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "dfsae.h"
#include "fixture.h"
#include "io_util.h"

#define D       6
#define K       4
#define ROWS    64
#define BATCH   16
#define N_STEPS 7
#define M_STEPS 9

static const char *self_path;

static void make_data(float *X)
{
    uint64_t s = 12345;
    for (int i = 0; i < ROWS * D; ++i)
        X[i] = io_uniform(&s) * 2.0f - 1.0f;
}

/* Steps [from, to) on batches picked by step index, so the data each step
 * sees does not depend on where training was interrupted. */
static int train(dfsae_model *m, dfsae_optimizer *o, const float *X, int from,
                 int to)
{
    for (int t = from; t < to; ++t) {
        const float *batch = X + (size_t)((t * BATCH) % ROWS) * D;
        int st = dfsae_train_step(m, o, batch, BATCH, NULL, NULL, 0);
        if (st != DFSAE_OK)
            return st;
    }
    return DFSAE_OK;
}

/* The child: load the checkpoint, train M steps, save the model. */
static int child(const char *ckpt, const char *out)
{
    dfsae_model *m = NULL;
    dfsae_optimizer *o = NULL;
    char err[DFSAE_ERROR_MESSAGE_SIZE];
    if (dfsae_model_load(ckpt, NULL, &m, &o, err, sizeof err) != DFSAE_OK) {
        fprintf(stderr, "child: %s\n", err);
        return 2;
    }
    float X[ROWS * D];
    make_data(X);
    int start = (int)dfsae_optimizer_step_count(o);
    int st = train(m, o, X, start, start + M_STEPS);
    if (st == DFSAE_OK)
        st = dfsae_model_save(m, o, out);
    dfsae_optimizer_free(o);
    dfsae_model_free(m);
    return st == DFSAE_OK ? 0 : 3;
}

static int run_child(const char *ckpt, const char *out)
{
    pid_t pid = fork();
    if (pid == 0) {
        execl(self_path, self_path, "--resume-child", ckpt, out, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void resume_kind(void **state, int kind)
{
    char *dir = fx_tempdir(state);
    char *ckpt = fx_join(state, dir, "ckpt.safetensors");
    char *out = fx_join(state, dir, "resumed.safetensors");
    float X[ROWS * D];
    make_data(X);

    dfsae_model *m = fx_model(state, D, K, 2024);
    dfsae_model_set_option(m, DFSAE_MODEL_LAMBDA_WR, 0.5);
    dfsae_model_set_option(m, DFSAE_MODEL_ACTIVATION, DFSAE_ACT_SOFTPLUS);
    dfsae_optimizer *o = fx_optimizer(state, kind, dfsae_model_num_params(m));
    dfsae_optimizer_set_option(o, DFSAE_OPT_LR, 0.01);
    if (kind == DFSAE_SGD) {
        dfsae_optimizer_set_option(o, DFSAE_OPT_MOMENTUM, 0.9);
        dfsae_optimizer_set_option(o, DFSAE_OPT_DAMPENING, 0.1);
        dfsae_optimizer_set_option(o, DFSAE_OPT_WEIGHT_DECAY, 1e-3);
    }
    assert_int_equal(train(m, o, X, 0, N_STEPS), DFSAE_OK);
    assert_int_equal(dfsae_model_save(m, o, ckpt), DFSAE_OK);
    assert_int_equal(train(m, o, X, N_STEPS, N_STEPS + M_STEPS), DFSAE_OK);

    assert_int_equal(run_child(ckpt, out), 0);
    dfsae_model **r = fx_model_slot(state);
    dfsae_optimizer **ro = fx_optimizer_slot(state);
    assert_int_equal(dfsae_model_load(out, NULL, r, ro, NULL, 0), DFSAE_OK);
    assert_true(io_models_identical(m, *r));
    assert_int_equal(dfsae_optimizer_step_count(*ro), N_STEPS + M_STEPS);

    /* The saved resumed state equals this process's state byte for byte,
     * moments included. */
    size_t a_len, b_len;
    dfsae_model_save_buffer(m, o, NULL, 0, &a_len);
    unsigned char *a = fx_alloc(state, a_len);
    dfsae_model_save_buffer(m, o, a, a_len, &a_len);
    unsigned char *b = fx_keep(state, io_read_file(out, &b_len));
    assert_int_equal(a_len, b_len);
    assert_memory_equal(a, b, a_len);

    /* The control: training moves the parameters, so equality is not
     * vacuous. */
    dfsae_model **start = fx_model_slot(state);
    dfsae_model_load(ckpt, NULL, start, NULL, NULL, 0);
    assert_false(io_models_identical(*start, m));
}

static void test_resume_adam(void **state)
{
    resume_kind(state, DFSAE_ADAM);
}

static void test_resume_sgd_momentum(void **state)
{
    resume_kind(state, DFSAE_SGD);
}

static void test_resume_adamw(void **state)
{
    resume_kind(state, DFSAE_ADAMW);
}

/* In one process, load_into existing handles resumes the same way. */
static void test_resume_into(void **state)
{
    float X[ROWS * D];
    make_data(X);
    dfsae_model *m = fx_model(state, D, K, 7), *m2 = fx_model(state, D, K, 8);
    const size_t np = dfsae_model_num_params(m);
    dfsae_optimizer *o = fx_optimizer(state, DFSAE_ADAM, np);
    dfsae_optimizer *o2 = fx_optimizer(state, DFSAE_ADAM, np);
    train(m, o, X, 0, N_STEPS);
    size_t len;
    dfsae_model_save_buffer(m, o, NULL, 0, &len);
    unsigned char *buf = fx_alloc(state, len);
    dfsae_model_save_buffer(m, o, buf, len, &len);
    assert_int_equal(dfsae_model_load_buffer_into(m2, o2, buf, len), DFSAE_OK);
    train(m, o, X, N_STEPS, N_STEPS + M_STEPS);
    train(m2, o2, X, N_STEPS, N_STEPS + M_STEPS);
    assert_true(io_models_identical(m, m2));
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--resume-child") == 0)
        return child(argv[2], argv[3]);
    self_path = argv[0];
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(test_resume_adam),
        FIXTURE_TEST(test_resume_sgd_momentum),
        FIXTURE_TEST(test_resume_adamw),
        FIXTURE_TEST(test_resume_into),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
