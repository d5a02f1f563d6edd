/* dfsae ablate DATA: train every combination of the chosen loss terms
 * with the same seeds and data order, one table of metrics on held-out
 * rows (and a linear probe's accuracy with --labels). The table is the
 * study library's, which the Fashion-MNIST example's --ablation prints. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "study.h"

typedef struct ablate_flags {
    const char *terms, *fixed, *activation, *optimizer, *wr_form;
    const char *labels, *test, *test_labels;
    size_t components, epochs, batch, seeds, holdout, patience;
    uint64_t seed;
    double lr, weight_decay, temperature, tolerance, probe_c;
    double var_cap, max_row_norm, max_bias;
    int markdown, per_seed, quiet;
    cli_data_flags data;
} ablate_flags;

static const char details[] =
    "Each term set is the chosen terms' subset plus the --fixed terms, with\n"
    "weight 1 when on and 0 when off (the empty set is left out). Every set\n"
    "is trained from the same initialisation and shuffling (--seed; with\n"
    "--seeds N, seeds S..S+N-1, reported as mean +- sd). Metrics are taken\n"
    "on held-out rows: --test FILE, else the last --holdout rows of DATA\n"
    "(default one sixth), which are then not trained on. With --labels\n"
    "(and --test-labels for --test), a multinomial logistic regression\n"
    "fitted on the training rows' features is scored on the held-out rows.\n"
    "Columns: dead units (variance < 0.01), L0 (|a| > 0.01 per row),\n"
    "redundancy (L_tc), weight redundancy (L_wr), responsibility entropy,\n"
    "max responsibility, max |activation|, max unit variance, probe\n"
    "accuracy, convergence epoch (with"
    " --tolerance), final epoch's mean loss,\n"
    "training seconds. --max-bias trains with a loop of the study's own\n"
    "(its own shuffling) that clips the bias after every step.\n"
    "Example (Fashion-MNIST, the seed's table for relu):\n"
    "  dfsae ablate train-images-idx3-ubyte.gz --labels train-labels-idx1-"
    "ubyte.gz\n"
    "    --test t10k-images-idx3-ubyte.gz --test-labels t10k-labels-idx1-"
    "ubyte.gz\n"
    "    --fixed lse,var --terms tc,wr --seeds 3";

/* Labels as integers 0..63, one per row of `rows`. */
static int load_labels(const char *cmd, const char *path, size_t rows,
                       const cli_data_flags *data, int **out)
{
    /* Labels are stored as they are, whatever DATA's format or scale. */
    cli_data_flags raw = {
        .format = "auto", .scale = "none", .max_memory = data->max_memory};
    exdata lab = {0};
    int rc = cli_load_data(cmd, path, &raw, &lab);
    if (rc != CLI_OK)
        return rc;
    if (lab.rows < rows || lab.cols != 1) {
        rc = cli_error(cmd, CLI_FAIL,
                       "%s: %zu x %zu labels for %zu rows (one column, one "
                       "per row)",
                       path, lab.rows, lab.cols, rows);
        exdata_free(&lab);
        return rc;
    }
    int *y = malloc(rows * sizeof *y);
    if (y == NULL) {
        exdata_free(&lab);
        return cli_error(cmd, CLI_FAIL, "out of memory");
    }
    for (size_t i = 0; i < rows; i++) {
        float v = lab.values[i];
        if (!(v >= 0.0f && v <= 63.0f) || v != floorf(v)) {
            free(y);
            exdata_free(&lab);
            return cli_error(cmd, CLI_FAIL,
                             "%s: label %zu is %g, not an integer in 0..63",
                             path, i, (double)v);
        }
        y[i] = (int)v;
    }
    exdata_free(&lab);
    *out = y;
    return CLI_OK;
}

/* The study configuration from the flags; CLI_OK or a usage error. */
static int configure(const char *cmd, const ablate_flags *f, const cli_cmd *c,
                     study_config *s, study_ablation *a)
{
    study_config_defaults(s);
    s->components = f->components;
    s->epochs = f->epochs;
    s->batch = f->batch;
    s->seed = f->seed;
    s->quiet = f->quiet;
    s->probe_c = f->probe_c;
    s->tolerance = f->tolerance;
    s->patience = f->patience;
    s->temperature = f->temperature;
    s->var_cap = f->var_cap;
    s->max_row_norm = f->max_row_norm;
    s->max_bias = f->max_bias;
    s->activation = cli_activation_from_name(f->activation);
    if (s->activation < 0)
        return cli_error(cmd, CLI_USAGE, "--activation: '%s' is unknown",
                         f->activation);
    s->optimizer = cli_optimizer_from_name(f->optimizer);
    if (s->optimizer < 0)
        return cli_error(cmd, CLI_USAGE,
                         "--optimizer: '%s' is not one of adam, sgd, adamw",
                         f->optimizer);
    /* The optimizer's own default learning rate unless --lr is given. */
    s->lr = cli_find(c, "lr")->seen ? f->lr : -1.0;
    s->weight_decay = cli_find(c, "weight-decay")->seen ? f->weight_decay : -1;
    if (strcmp(f->wr_form, "normalised") == 0)
        s->wr_form = DFSAE_WR_NORMALISED;
    else if (strcmp(f->wr_form, "unnormalised") == 0)
        s->wr_form = DFSAE_WR_UNNORMALISED;
    else
        return cli_error(cmd, CLI_USAGE,
                         "--wr-form: '%s' is not normalised or unnormalised",
                         f->wr_form);
    for (int t = 0; t < DFSAE_TERM_COUNT; t++)
        s->lambda[t] = 1.0;
    memset(a, 0, sizeof *a);
    if (study_parse_terms(f->terms, &a->terms) != 0 ||
        study_parse_terms(f->fixed, &a->fixed) != 0)
        return cli_error(cmd, CLI_USAGE,
                         "--terms and --fixed take names from lse, var, tc, "
                         "wr, separated by commas");
    if ((a->terms | a->fixed) == 0)
        return cli_error(cmd, CLI_USAGE,
                         "no term to train (--terms and "
                         "--fixed are both empty)");
    a->seeds = f->seeds;
    a->markdown = f->markdown;
    a->per_seed = f->per_seed;
    if (f->var_cap < 0 || f->max_row_norm < 0 || f->max_bias < 0)
        return cli_error(cmd, CLI_USAGE,
                         "--var-cap, --max-row-norm and --max-bias must be "
                         ">= 0");
    if (f->tolerance > 0 && f->max_bias > 0)
        return cli_error(cmd, CLI_USAGE,
                         "--tolerance does not apply with --max-bias");
    if (f->tolerance < 0 || f->patience < 1 || f->probe_c <= 0)
        return cli_error(cmd, CLI_USAGE,
                         "--tolerance must be >= 0, --patience >= 1 and "
                         "--probe-c > 0");
    return CLI_OK;
}

static int run(const char *cmd, ablate_flags *f, const cli_cmd *c,
               const char *path)
{
    exdata data = {0}, test = {0};
    int *y = NULL, *y_test = NULL;
    study_config s;
    study_ablation a;
    char err[256];
    int rc = configure(cmd, f, c, &s, &a);
    if (rc != CLI_OK)
        return rc;
    if (f->test_labels != NULL && f->test == NULL)
        return cli_error(cmd, CLI_USAGE, "--test-labels needs --test");
    if (f->test != NULL && (f->labels != NULL) != (f->test_labels != NULL))
        return cli_error(cmd, CLI_USAGE,
                         "with --test, give both --labels and --test-labels "
                         "or neither");
    rc = cli_load_data(cmd, path, &f->data, &data);
    if (rc == CLI_OK && f->test != NULL)
        rc = cli_load_data(cmd, f->test, &f->data, &test);
    if (rc != CLI_OK)
        goto done;
    if (f->test != NULL && test.cols != data.cols) {
        rc = cli_error(cmd, CLI_FAIL, "%s has %zu columns, %s has %zu", f->test,
                       test.cols, path, data.cols);
        goto done;
    }
    if (f->labels != NULL)
        rc = load_labels(cmd, f->labels, data.rows, &f->data, &y);
    if (rc == CLI_OK && f->test_labels != NULL)
        rc = load_labels(cmd, f->test_labels, test.rows, &f->data, &y_test);
    if (rc != CLI_OK)
        goto done;

    study_split tr = {data.values, y, data.rows, data.cols}, ev;
    if (f->test != NULL) {
        ev = (study_split){test.values, y_test, test.rows, test.cols};
    } else {
        size_t hold = cli_find(c, "holdout")->seen ? f->holdout : data.rows / 6;
        if (hold < 2 || hold + 2 > data.rows) {
            rc = cli_error(cmd, CLI_USAGE,
                           "--holdout %zu: need at least 2 held-out and 2 "
                           "training rows of %zu",
                           hold, data.rows);
            goto done;
        }
        tr.n = data.rows - hold;
        ev = (study_split){data.values + tr.n * data.cols,
                           y != NULL ? y + tr.n : NULL, hold, data.cols};
    }
    if (study_ablate(&s, &a, &tr, &ev, stdout, err, sizeof err) != 0)
        rc = cli_error(cmd, CLI_FAIL, "%s", err);
done:
    free(y);
    free(y_test);
    exdata_free(&data);
    exdata_free(&test);
    return rc;
}

int cli_ablate(int argc, char **argv)
{
    ablate_flags f;
    const char *pos[1];
    size_t n_pos;
    memset(&f, 0, sizeof f);
    f.terms = "lse,var,tc,wr";
    f.fixed = "";
    f.activation = "relu";
    f.optimizer = "adam";
    f.wr_form = "normalised";
    f.components = 64;
    f.epochs = 20;
    f.batch = 128;
    f.seeds = 1;
    f.patience = 5;
    f.temperature = 1.0;
    f.probe_c = 1.0;
    cli_opt opts[] = {
        {"terms", CLI_STR, &f.terms, "LIST",
         "terms to combine (default lse,var,tc,wr)", 0},
        {"fixed", CLI_STR, &f.fixed, "LIST",
         "terms on in every combination (default none)", 0},
        {"activation", CLI_STR, &f.activation, "NAME",
         "relu (default), softplus, identity, leaky_relu, tanh or softmax", 0},
        {"temperature", CLI_DOUBLE, &f.temperature, "T",
         "softmax temperature (default 1)", 0},
        {"wr-form", CLI_STR, &f.wr_form, "FORM",
         "L_wr as normalised (default) or unnormalised", 0},
        {"var-cap", CLI_DOUBLE, &f.var_cap, "C",
         "saturate L_var's reward above variance C (default 0: off)", 0},
        {"max-row-norm", CLI_DOUBLE, &f.max_row_norm, "X",
         "scale W's rows back to norm X after every step (default 0: off)", 0},
        {"max-bias", CLI_DOUBLE, &f.max_bias, "X",
         "clip the bias to [-X, X] after every step (default 0: off)", 0},
        {"labels", CLI_STR, &f.labels, "FILE",
         "labels of DATA's rows: adds the probe accuracy", 0},
        {"test", CLI_STR, &f.test, "FILE",
         "held-out rows (default: the last --holdout rows of DATA)", 0},
        {"test-labels", CLI_STR, &f.test_labels, "FILE",
         "labels of the --test rows", 0},
        {"holdout", CLI_COUNT, &f.holdout, "N",
         "held-out rows at the end of DATA without --test (default n/6)", 0},
        {"components", CLI_SIZE, &f.components, "K",
         "number of components (default 64)", 0},
        {"epochs", CLI_SIZE, &f.epochs, "N",
         "epochs per model (default 20; the most with --tolerance)", 0},
        {"batch", CLI_SIZE, &f.batch, "B", "batch size (default 128)", 0},
        {"optimizer", CLI_STR, &f.optimizer, "NAME",
         "adam (default), sgd or adamw", 0},
        {"lr", CLI_DOUBLE, &f.lr, "X",
         "learning rate (default: adam 1e-3, sgd 1e-2)", 0},
        {"weight-decay", CLI_DOUBLE, &f.weight_decay, "X",
         "weight decay (default 0; adamw 1e-2)", 0},
        {"tolerance", CLI_DOUBLE, &f.tolerance, "X",
         "stop a model once its epoch loss changes by less than X for "
         "--patience epochs (default 0: off)",
         0},
        {"patience", CLI_SIZE, &f.patience, "N",
         "epochs in a row for --tolerance (default 5)", 0},
        {"seed", CLI_U64, &f.seed, "S", "first seed (default 0)", 0},
        {"seeds", CLI_SIZE, &f.seeds, "N",
         "seeds per term set, mean +- sd (default 1)", 0},
        {"per-seed", CLI_FLAG, &f.per_seed, "", "also a line per seed", 0},
        {"probe-c", CLI_DOUBLE, &f.probe_c, "C",
         "the probe's inverse regularisation (default 1)", 0},
        {"markdown", CLI_FLAG, &f.markdown, "", "print a Markdown table", 0},
        {"quiet", CLI_FLAG, &f.quiet, "", "no progress on stderr", 0},
        CLI_DATA_OPTS(f.data),
    };
    cli_cmd c = {"ablate",
                 "DATA [options]",
                 "Train every combination of loss terms on DATA and print "
                 "one table of metrics on held-out rows.",
                 details,
                 opts,
                 sizeof opts / sizeof opts[0],
                 1,
                 1};
    int r = cli_parse(&c, argc, argv, pos, &n_pos);
    if (r != 0)
        return r > 0 ? CLI_OK : CLI_USAGE;
    return run("ablate", &f, &c, pos[0]);
}
