#define _POSIX_C_SOURCE 200809L /* setenv */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mpi_fixture.h"
#include "splitmix64.h"

dfsae_mpi fx_mpi;
int fx_rank, fx_size;

float *fx_data(size_t n, size_t d, uint64_t seed)
{
    float *X = malloc(n * d * sizeof *X);
    assert_non_null(X);
    uint64_t s = seed;
    for (size_t i = 0; i < n * d; ++i) {
        double u = (double)(splitmix64_next(&s) >> 11) * 0x1.0p-53;
        /* Correlated columns give L_tc something to do. */
        X[i] = (float)(2.0 * u - 1.0 +
                       0.5 * sin((double)(i / d) + 0.3 * (double)(i % d)));
    }
    return X;
}

dfsae_model *fx_model(size_t d, size_t k, uint64_t seed)
{
    dfsae_model *m = NULL;
    assert_int_equal(dfsae_model_create(d, k, seed, NULL, &m), DFSAE_OK);
    assert_int_equal(
        dfsae_model_set_option(m, DFSAE_MODEL_ACTIVATION, DFSAE_ACT_SOFTPLUS),
        DFSAE_OK);
    assert_int_equal(dfsae_model_set_option(m, DFSAE_MODEL_LAMBDA_WR, 0.5),
                     DFSAE_OK);
    return m;
}

void fx_part(size_t total, int r, int size, size_t *lo, size_t *hi)
{
    *lo = total * (size_t)r / (size_t)size;
    *hi = total * (size_t)(r + 1) / (size_t)size;
}

void fx_slice(const float *full, size_t k, size_t d, size_t k0, size_t k1,
              float *out)
{
    memcpy(out, full + k0 * d, (k1 - k0) * d * sizeof *out);
    memcpy(out + (k1 - k0) * d, full + k * d + k0, (k1 - k0) * sizeof *out);
}

dfsae_model *fx_shard(const dfsae_model *full, size_t k0, size_t k1)
{
    const size_t d = dfsae_model_input_dim(full),
                 k = dfsae_model_num_components(full);
    dfsae_model *m = fx_model(d, k1 - k0, 1);
    float *all = malloc(dfsae_model_num_params(full) * sizeof *all);
    float *part = malloc(dfsae_model_num_params(m) * sizeof *part);
    assert_non_null(all);
    assert_non_null(part);
    assert_int_equal(
        dfsae_model_get_params(full, all, dfsae_model_num_params(full)),
        DFSAE_OK);
    fx_slice(all, k, d, k0, k1, part);
    assert_int_equal(dfsae_model_set_params(m, part, dfsae_model_num_params(m)),
                     DFSAE_OK);
    free(all);
    free(part);
    return m;
}

double fx_rel(const float *a, const float *b, size_t n)
{
    double diff = 0.0, scale = 0.0;
    for (size_t i = 0; i < n; ++i) {
        diff = fmax(diff, fabs((double)a[i] - (double)b[i]));
        scale = fmax(scale, fabs((double)b[i]));
    }
    return scale > 0.0 ? diff / scale : diff;
}

double fx_max(double v)
{
    double all = v;
    MPI_Allreduce(&v, &all, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    return all;
}

int fx_main(int argc, char **argv, const struct CMUnitTest *tests, size_t count,
            const char *name)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &fx_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &fx_size);
    const char *xml = getenv("CMOCKA_XML_FILE");
    if (xml != NULL) {
        char own[4096];
        snprintf(own, sizeof own, "%s.rank%d", xml, fx_rank);
        setenv("CMOCKA_XML_FILE", own, 1);
    }
    int failed = 1;
    if (dfsae_mpi_init(&fx_mpi, MPI_COMM_WORLD) == DFSAE_OK) {
        char group[128];
        snprintf(group, sizeof group, "%s_np%d_rank%d", name, fx_size, fx_rank);
        failed = _cmocka_run_group_tests(group, tests, count, NULL, NULL);
        dfsae_mpi_finish(&fx_mpi);
    }
    MPI_Finalize();
    return failed;
}
