/* dfsae eval MODEL DATA: the metrics of docs/training.md over a data set. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cli_eval(int argc, char **argv)
{
    const char *pos[2];
    size_t batch = 1024, n_pos;
    /* Raw inputs by default: the model's input transform scales them. */
    cli_data_flags df = {.scale = "none"};
    dfsae_model *m = NULL;
    dfsae_train_config *cfg = NULL;
    dfsae_data data = {0};
    double metrics[DFSAE_METRIC_COUNT];
    int rc, st;
    cli_opt opts[] = {
        {"batch", CLI_SIZE, &batch, "B", "rows per batch (default 1024)", 0},
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
    rc = cli_load_data("eval", pos[1], &df, &data);
    if (rc != CLI_OK)
        goto done;
    if (data.cols != dfsae_model_input_dim(m)) {
        rc = cli_error("eval", CLI_FAIL,
                       "%s has %zu columns but the model takes %zu inputs",
                       pos[1], data.cols, dfsae_model_input_dim(m));
        goto done;
    }
    if (dfsae_train_config_create(NULL, &cfg) != DFSAE_OK ||
        dfsae_train_config_set(cfg, DFSAE_TRAIN_BATCH_SIZE, (double)batch) !=
            DFSAE_OK) {
        rc = cli_error("eval", CLI_USAGE, "--batch %zu is out of range", batch);
        goto done;
    }
    st = dfsae_model_evaluate(m, data.values, data.rows, cfg, metrics,
                              DFSAE_METRIC_COUNT);
    if (st != DFSAE_OK) {
        rc = cli_lib_error("eval", st, dfsae_model_last_error(m), pos[1]);
        goto done;
    }
    printf("rows: %zu\ncomponents: %zu\n", data.rows,
           dfsae_model_num_components(m));
    for (int i = 0; i < DFSAE_METRIC_COUNT; i++) {
        if (i == DFSAE_METRIC_DEAD_UNITS)
            printf("%s: %.0f\n", dfsae_metric_name(i), metrics[i]);
        else
            printf("%s: %.6g\n", dfsae_metric_name(i), metrics[i]);
    }
    rc = CLI_OK;
done:
    dfsae_train_config_free(cfg);
    dfsae_data_free(&data);
    dfsae_model_free(m);
    return rc;
}
