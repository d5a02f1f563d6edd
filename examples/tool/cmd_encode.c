/* dfsae encode MODEL DATA --out FEATURES.npy */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Rows to encode at once when streaming. */
#define STREAM_ROWS 1024

/* --mmap: batch by batch from the maps into the .npy being written, so
 * memory holds one batch of inputs and features, whatever the set's
 * size. */
static int encode_streamed(const dfsae_model *m, const char *path,
                           const cli_data_flags *df, const char *out)
{
    cli_input in;
    exdata_output o;
    exdata_error derr;
    float *X = NULL, *A = NULL;
    int rc = cli_open_input("encode", path, df, 1, &in);
    if (rc != CLI_OK)
        return rc;
    const size_t d = in.cols, k = dfsae_model_num_components(m);
    if (d != dfsae_model_input_dim(m)) {
        rc = cli_error("encode", CLI_FAIL,
                       "%s has %zu columns but the model takes %zu inputs",
                       path, d, dfsae_model_input_dim(m));
        goto done;
    }
    X = malloc(STREAM_ROWS * d * sizeof *X);
    A = malloc(STREAM_ROWS * k * sizeof *A);
    if (X == NULL || A == NULL) {
        rc = cli_error("encode", CLI_FAIL, "out of memory for a batch");
        goto done;
    }
    if (exdata_npy_begin(&o, out, in.rows, k, &derr) != 0) {
        rc = cli_error("encode", CLI_FAIL, "%s", derr.msg);
        goto done;
    }
    for (size_t first = 0; first < in.rows; first += STREAM_ROWS) {
        size_t rows =
            in.rows - first < STREAM_ROWS ? in.rows - first : STREAM_ROWS;
        int st = dfsae_source_read(in.src, first, rows, X);
        if (st == DFSAE_OK)
            st = dfsae_model_forward(m, X, rows, A, NULL, NULL);
        if (st != DFSAE_OK) {
            exdata_output_abort(&o);
            char where[64];
            snprintf(where, sizeof where, "%s, rows %zu to %zu", path, first,
                     first + rows - 1);
            rc = cli_lib_error("encode", st, NULL, where);
            goto done;
        }
        exdata_npy_append(&o, A, rows * k);
    }
    if (exdata_output_commit(&o, &derr) != 0) {
        rc = cli_error("encode", CLI_FAIL, "%s", derr.msg);
        goto done;
    }
    printf("wrote %s: %zu x %zu float32\n", out, in.rows, k);
done:
    free(X);
    free(A);
    cli_input_free(&in);
    return rc;
}

int cli_encode(int argc, char **argv)
{
    const char *out = NULL, *pos[2];
    size_t n_pos, k, count, need, held;
    /* Raw inputs by default: the model's input transform scales them. */
    cli_data_flags df = {.scale = "none"};
    dfsae_model *m = NULL;
    exdata data = {0};
    exdata_error derr;
    float *A = NULL;
    int rc, st;
    cli_opt opts[] = {
        {"out", CLI_STR, &out, "FEATURES.npy",
         "where to write the n x K float32 features (required)", 0},
        CLI_DATA_OPTS(df),
    };
    cli_cmd c = {"encode",
                 "MODEL DATA --out FEATURES.npy [options]",
                 "Encode DATA with MODEL: A = phi(X' W^T + b), X' the "
                 "model's input transform of X, written as a NumPy .npy "
                 "file.",
                 NULL,
                 opts,
                 sizeof opts / sizeof opts[0],
                 2,
                 2};
    rc = cli_parse(&c, argc, argv, pos, &n_pos);
    if (rc != 0)
        return rc > 0 ? CLI_OK : CLI_USAGE;
    if (out == NULL)
        return cli_error("encode", CLI_USAGE, "--out FEATURES.npy is required");
    rc = cli_model_load("encode", pos[0], &m, NULL);
    if (rc != CLI_OK)
        return rc;
    if (df.mmap) {
        rc = encode_streamed(m, pos[1], &df, out);
        goto done;
    }
    rc = cli_load_data("encode", pos[1], &df, &data);
    if (rc != CLI_OK)
        goto done;
    if (data.cols != dfsae_model_input_dim(m)) {
        rc = cli_error("encode", CLI_FAIL,
                       "%s has %zu columns but the model takes %zu inputs",
                       pos[1], data.cols, dfsae_model_input_dim(m));
        goto done;
    }
    k = dfsae_model_num_components(m);
    /* The features are held beside the data (whose size fits: it is in
     * memory), so both count. */
    held = data.rows * data.cols * sizeof(float);
    need = SIZE_MAX;
    if (exdata_size_mul(data.rows, k, &count) &&
        exdata_size_mul(count, sizeof *A, &need))
        need = need <= SIZE_MAX - held ? need + held : SIZE_MAX;
    if (need > cli_memory_limit(&df)) {
        char what[96];
        snprintf(what, sizeof what, "encoding %zu rows into %zu features",
                 data.rows, k);
        rc = cli_over_limit("encode", what, need, &df, NULL);
        goto done;
    }
    if ((A = malloc(count * sizeof *A)) == NULL) {
        rc = cli_error("encode", CLI_FAIL,
                       "out of memory for %zu x %zu "
                       "features",
                       data.rows, k);
        goto done;
    }
    st = dfsae_model_forward(m, data.values, data.rows, A, NULL, NULL);
    if (st != DFSAE_OK) {
        rc = cli_lib_error("encode", st, NULL, pos[1]);
        goto done;
    }
    if (exdata_write_npy(out, A, data.rows, k, &derr) != 0) {
        rc = cli_error("encode", CLI_FAIL, "%s", derr.msg);
        goto done;
    }
    printf("wrote %s: %zu x %zu float32\n", out, data.rows, k);
    rc = CLI_OK;
done:
    free(A);
    exdata_free(&data);
    dfsae_model_free(m);
    return rc;
}
