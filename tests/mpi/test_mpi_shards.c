/* Sharded model files: N dictionary shards trained 10 steps save one file
 * each and an index; the index loads on 1 process (the whole model, with
 * the shards' parameters bit for bit and the encoding of one process) and
 * on 2 (re-sharded), and the whole model resumed on 1 process for 10 more
 * steps matches 20 steps of one process, optimizer moments included. Run
 * under mpiexec with N = 1 to 4 (tests/mpi.cmake). */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mpi_fixture.h"

enum { N = 40, D = 12, K = 13, BATCH = 8 };

/* `epochs` epochs (5 steps each) of m with opt on X. */
static void train(dfsae_model *m, dfsae_optimizer *opt, const float *X,
                  int epochs)
{
    dfsae_train_config *cfg = NULL;
    assert_int_equal(dfsae_train_config_create(NULL, &cfg), DFSAE_OK);
    assert_int_equal(dfsae_train_config_set(cfg, DFSAE_TRAIN_BATCH_SIZE, BATCH),
                     DFSAE_OK);
    assert_int_equal(dfsae_train_config_set(cfg, DFSAE_TRAIN_EPOCHS, epochs),
                     DFSAE_OK);
    assert_int_equal(dfsae_model_train(m, opt, X, N, cfg, NULL, NULL),
                     DFSAE_OK);
    dfsae_train_config_free(cfg);
}

static dfsae_optimizer *adam(const dfsae_model *m)
{
    dfsae_optimizer *opt = NULL;
    assert_int_equal(dfsae_optimizer_create(
                         DFSAE_ADAM, dfsae_model_num_params(m), NULL, &opt),
                     DFSAE_OK);
    assert_int_equal(dfsae_optimizer_set_option(opt, DFSAE_OPT_LR, 1e-2),
                     DFSAE_OK);
    return opt;
}

static float *params_of(const dfsae_model *m)
{
    size_t np = dfsae_model_num_params(m);
    float *p = malloc(np * sizeof *p);
    assert_non_null(p);
    assert_int_equal(dfsae_model_get_params(m, p, np), DFSAE_OK);
    return p;
}

/* max |A_whole - A_shard| over the shard's columns, on X. */
static double encode_diff(const dfsae_model *whole, const dfsae_model *shard,
                          size_t k0, const float *X)
{
    const size_t k = dfsae_model_num_components(whole);
    const size_t ks = dfsae_model_num_components(shard);
    float *A = malloc(N * k * sizeof *A), *B = malloc(N * ks * sizeof *B);
    assert_non_null(A);
    assert_non_null(B);
    assert_int_equal(dfsae_model_forward(whole, X, N, A, NULL, NULL), DFSAE_OK);
    assert_int_equal(dfsae_model_forward(shard, X, N, B, NULL, NULL), DFSAE_OK);
    double diff = 0.0;
    for (size_t i = 0; i < N; ++i)
        for (size_t j = 0; j < ks; ++j)
            diff = fmax(diff, fabs((double)A[i * k + k0 + j] - B[i * ks + j]));
    free(A);
    free(B);
    return diff;
}

static void shards_save_load_resume(void **state)
{
    (void)state;
    char dir[64] = "/tmp/dfsae-shards-XXXXXX";
    if (fx_rank == 0)
        assert_non_null(mkdtemp(dir));
    MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, MPI_COMM_WORLD);
    char prefix[128], index[160];
    snprintf(prefix, sizeof prefix, "%s/model", dir);
    snprintf(index, sizeof index, "%s.index.json", prefix);

    float *X = fx_data(N, D, 61);
    /* One process: 10 steps, then 10 more. */
    dfsae_model *ref = fx_model(D, K, 62);
    /* The shuffle seed every rank shares, and one process too. */
    assert_int_equal(dfsae_model_set_run_state(ref, 0, 0, 62), DFSAE_OK);
    dfsae_optimizer *ref_opt = adam(ref);
    train(ref, ref_opt, X, 2);
    float *ref10 = params_of(ref);
    train(ref, ref_opt, X, 2);
    float *ref20 = params_of(ref);

    /* N shards: 10 steps, saved. */
    dfsae_model *full0 = fx_model(D, K, 62);
    size_t k0, k1;
    fx_part(K, fx_rank, fx_size, &k0, &k1);
    dfsae_model *shard = fx_shard(full0, k0, k1);
    assert_int_equal(dfsae_model_set_run_state(shard, 0, 0, 62), DFSAE_OK);
    assert_int_equal(
        dfsae_model_set_comm(shard, &fx_mpi.comm, DFSAE_DIST_DICTIONARY),
        DFSAE_OK);
    dfsae_optimizer *shard_opt = adam(shard);
    train(shard, shard_opt, X, 2);
    assert_int_equal(dfsae_model_save_shards(shard, shard_opt, prefix),
                     DFSAE_OK);

    /* On 1 process: the whole model, its shards' parameters bit for bit. */
    char err[DFSAE_ERROR_MESSAGE_SIZE];
    dfsae_model *whole = NULL;
    dfsae_optimizer *whole_opt = NULL;
    int st = dfsae_model_load_shards(index, 0, 1, NULL, &whole, &whole_opt, err,
                                     sizeof err);
    if (st != DFSAE_OK)
        fail_msg("load_shards: %s", err);
    assert_int_equal(dfsae_model_num_components(whole), K);
    assert_int_equal(dfsae_optimizer_step_count(whole_opt), 10);
    float *got = params_of(whole), *mine = params_of(shard);
    float *slice = malloc(dfsae_model_num_params(shard) * sizeof *slice);
    assert_non_null(slice);
    fx_slice(got, K, D, k0, k1, slice);
    double differ =
        fx_max(memcmp(slice, mine, dfsae_model_num_params(shard) * 4) != 0);
    double rel10 = fx_max(fx_rel(got, ref10, dfsae_model_num_params(ref)));
    double enc = fx_max(encode_diff(whole, shard, k0, X));

    /* On 2: each half equals the same rows of the whole, bit for bit. */
    double halves = 0.0;
    for (int q = 0; q < 2; ++q) {
        dfsae_model *half = NULL;
        dfsae_optimizer *half_opt = NULL;
        assert_int_equal(dfsae_model_load_shards(index, q, 2, NULL, &half,
                                                 &half_opt, err, sizeof err),
                         DFSAE_OK);
        size_t h0, h1;
        fx_part(K, q, 2, &h0, &h1);
        float *hp = params_of(half);
        float *want = malloc(dfsae_model_num_params(half) * sizeof *want);
        assert_non_null(want);
        fx_slice(got, K, D, h0, h1, want);
        halves = fmax(halves,
                      memcmp(hp, want, dfsae_model_num_params(half) * 4) != 0);
        free(want);
        free(hp);
        dfsae_optimizer_free(half_opt);
        dfsae_model_free(half);
    }
    halves = fx_max(halves);

    /* Resumed on 1 process: 10 more steps match one process's 20. */
    train(whole, whole_opt, X, 2);
    float *resumed = params_of(whole);
    double rel20 = fx_max(fx_rel(resumed, ref20, dfsae_model_num_params(ref)));

    if (fx_rank == 0)
        printf("mpi N=%d shards: saved %d files + %s; on 1 process vs one "
               "process after 10 steps: params max rel diff %.3g; shards "
               "bit-identical in the whole: %s, in 2 halves: %s; encoding "
               "max abs diff whole vs shards %.3g; resumed 10 steps vs 20 of "
               "one process: %.3g\n",
               fx_size, fx_size, "model.index.json", rel10,
               differ == 0.0 ? "yes" : "NO", halves == 0.0 ? "yes" : "NO", enc,
               rel20);
    assert_true(differ == 0.0);
    assert_true(halves == 0.0);
    assert_true(rel10 <= 1e-4);
    assert_true(enc <= 1e-5);
    assert_true(rel20 <= 1e-4);

    MPI_Barrier(MPI_COMM_WORLD);
    if (fx_rank == 0) {
        char path[256];
        for (int r = 0; r < fx_size; ++r) {
            snprintf(path, sizeof path, "%s-%05d-of-%05d.safetensors", prefix,
                     r + 1, fx_size);
            remove(path);
        }
        remove(index);
        rmdir(dir);
    }
    free(resumed);
    free(slice);
    free(mine);
    free(got);
    dfsae_optimizer_free(whole_opt);
    dfsae_model_free(whole);
    dfsae_optimizer_free(shard_opt);
    dfsae_model_free(shard);
    dfsae_model_free(full0);
    free(ref20);
    free(ref10);
    dfsae_optimizer_free(ref_opt);
    dfsae_model_free(ref);
    free(X);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shards_save_load_resume),
    };
    return fx_main(argc, argv, tests, sizeof tests / sizeof tests[0],
                   "mpi_shards");
}
