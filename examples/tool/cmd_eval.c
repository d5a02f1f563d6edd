/* dfsae eval MODEL DATA: the metrics of docs/training.md over a data set. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* acc + a * b, or SIZE_MAX if that does not fit. */
static size_t add_product(size_t acc, size_t a, size_t b)
{
    size_t p;
    if (acc == SIZE_MAX || !exdata_size_mul(a, b, &p) || p > SIZE_MAX - acc)
        return SIZE_MAX;
    return acc + p;
}

/* The redundancy's accumulators: K x K float cross-products per batch and
 * their K x K double sums. (4 K, 8 K and 12 K fit: the model holds K D
 * floats and more.) */
static size_t redundancy_bytes(size_t k)
{
    return add_product(0, 12 * k, k);
}

/* What evaluate holds beside the data: a batch of activations, O(K), the
 * weight redundancy's workspace (2 K D floats and the smaller Gram) and,
 * unless skipped, the redundancy's accumulators. */
static size_t evaluate_bytes(size_t batch, size_t k, size_t d, int redundancy)
{
    size_t side = k < d ? k : d;
    size_t n = add_product(0, 4 * k, batch);
    n = add_product(n, 8 * k, d);
    n = add_product(n, 4 * side, side);
    n = add_product(n, 64, k);
    return redundancy ? add_product(n, 1, redundancy_bytes(k)) : n;
}

/* Out of memory, or it would be: say what needs it and how to skip it. */
static int redundancy_hint(char *buf, size_t cap, size_t k)
{
    char r_s[32];
    return snprintf(
        buf, cap,
        "the redundancy's K x K accumulators alone need about 12 K^2 = "
        "%s for K = %zu; --no-redundancy skips them",
        exdata_size_text(redundancy_bytes(k), r_s, sizeof r_s), k);
}

int cli_eval(int argc, char **argv)
{
    const char *pos[2];
    size_t batch = 1024, n_pos;
    /* Raw inputs by default: the model's input transform scales them. */
    cli_data_flags df = {.scale = "none"};
    dfsae_model *m = NULL;
    dfsae_train_config *cfg = NULL;
    cli_input in;
    double metrics[DFSAE_METRIC_COUNT];
    char hint[256];
    size_t k, need, held;
    int rc, st, no_redundancy = 0;
    cli_opt opts[] = {
        {"batch", CLI_SIZE, &batch, "B", "rows per batch (default 1024)", 0},
        {"no-redundancy", CLI_FLAG, &no_redundancy, "",
         "skip the redundancy metric and its 12 K^2 bytes of accumulators", 0},
        CLI_DATA_OPTS(df),
    };
    cli_cmd c = {"eval",
                 "MODEL DATA [options]",
                 "Evaluate MODEL on DATA: dead units, L0, redundancy, "
                 "responsibility entropy, weight redundancy, ...",
                 "Definitions: dead units have unbiased variance "
                 "< 0.01 over the set;\nL0 is the mean count per row of "
                 "|A_ij| > 0.01; redundancy is L_tc over the set;\n"
                 "responsibility entropy is the mean of -sum_j R_ij log(R_ij "
                 "+ 1e-8), R = softmax(-A);\nweight redundancy is L_wr.",
                 opts,
                 sizeof opts / sizeof opts[0],
                 2,
                 2};
    rc = cli_parse(&c, argc, argv, pos, &n_pos);
    if (rc != 0)
        return rc > 0 ? CLI_OK : CLI_USAGE;
    rc = cli_model_load("eval", pos[0], &m, NULL);
    if (rc != CLI_OK)
        return rc;
    memset(&in, 0, sizeof in);
    rc = cli_open_input("eval", pos[1], &df, 1, &in);
    if (rc != CLI_OK)
        goto done;
    if (in.cols != dfsae_model_input_dim(m)) {
        rc = cli_error("eval", CLI_FAIL,
                       "%s has %zu columns but the model takes %zu inputs",
                       pos[1], in.cols, dfsae_model_input_dim(m));
        goto done;
    }
    if (dfsae_train_config_create(NULL, &cfg) != DFSAE_OK ||
        dfsae_train_config_set(cfg, DFSAE_TRAIN_BATCH_SIZE, (double)batch) !=
            DFSAE_OK ||
        dfsae_train_config_set(cfg, DFSAE_TRAIN_EVAL_REDUNDANCY,
                               no_redundancy ? 0.0 : 1.0) != DFSAE_OK) {
        rc = cli_error("eval", CLI_USAGE, "--batch %zu is out of range", batch);
        goto done;
    }
    k = dfsae_model_num_components(m);
    redundancy_hint(hint, sizeof hint, k);
    /* The data in memory (its size fits) count too; mapped, they do not. */
    held = in.map != NULL ? 0 : in.rows * in.cols * sizeof(float);
    need = add_product(evaluate_bytes(batch < in.rows ? batch : in.rows, k,
                                      in.cols, !no_redundancy),
                       1, held);
    if (need > cli_memory_limit(&df)) {
        char what[64];
        snprintf(what, sizeof what, "evaluating %zu components", k);
        rc = cli_over_limit("eval", what, need, &df,
                            no_redundancy ? NULL : hint);
        goto done;
    }
    st = dfsae_model_evaluate_source(m, in.src, cfg, metrics,
                                     DFSAE_METRIC_COUNT);
    if (st == DFSAE_ERR_NO_MEMORY && !no_redundancy) {
        rc = cli_error("eval", CLI_FAIL, "%s: out of memory: %s", pos[1], hint);
        goto done;
    }
    if (st != DFSAE_OK) {
        rc = cli_lib_error("eval", st, dfsae_model_last_error(m), pos[1]);
        goto done;
    }
    printf("rows: %zu\ncomponents: %zu\n", in.rows, k);
    for (int i = 0; i < DFSAE_METRIC_COUNT; i++) {
        if (i == DFSAE_METRIC_DEAD_UNITS)
            printf("%s: %.0f\n", dfsae_metric_name(i), metrics[i]);
        else if (i == DFSAE_METRIC_REDUNDANCY && no_redundancy)
            printf("%s: skipped (--no-redundancy)\n", dfsae_metric_name(i));
        else
            printf("%s: %.6g\n", dfsae_metric_name(i), metrics[i]);
    }
    rc = CLI_OK;
done:
    dfsae_train_config_free(cfg);
    cli_input_free(&in);
    dfsae_model_free(m);
    return rc;
}
