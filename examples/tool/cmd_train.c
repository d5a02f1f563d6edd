/* dfsae train DATA --out MODEL: epochs over a data set with progress,
 * Ctrl-C stops after the current step and still writes the model. */
#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

typedef struct train_flags {
    size_t components, epochs, batch, threads;
    const char *optimizer, *activation, *out, *resume, *wr_form;
    double lr, momentum, weight_decay, temperature, tolerance, var_cap;
    double max_row_norm;
    size_t patience;
    double lambda[DFSAE_TERM_COUNT];
    uint64_t seed;
    int quiet, no_shuffle, standardize;
    cli_data_flags data;
} train_flags;

static const char details[] =
    "Trains A = phi(X W^T + b) with L = lse*L_lse + var*L_var + tc*L_tc +\n"
    "wr*L_wr (defaults 1/1/1/0). The model is a safetensors file (PyTorch\n"
    "nn.Linear names) that also holds the optimizer's state and the run\n"
    "state: epochs completed, the step reached in an interrupted epoch and\n"
    "the shuffle seed.\n"
    "--epochs N is the model's total: a new model trains N epochs; --resume\n"
    "trains the epochs MODEL lacks to reach N, continuing an interrupted\n"
    "epoch at its next step with the same shuffling, as if never stopped\n"
    "(nothing to do if MODEL has N), with MODEL's --batch and --no-shuffle\n"
    "unless given. A file without run state resumes at epoch 1 (it says so).\n"
    "The model records how its inputs are scaled: --scale (and\n"
    "--standardize) become its input transform X' = (X - shift) * scale,\n"
    "which forward, encode and eval apply to raw data (a C host too);\n"
    "--resume keeps MODEL's (those flags only for a MODEL without one).\n"
    "A constant feature is only centred by --standardize (scale 1).\n"
    "Progress: a bar on a terminal, one line per epoch otherwise (stderr),\n"
    "both counting epochs of N. Ctrl-C stops after the current step and\n"
    "writes the model (exit 130); a second Ctrl-C kills the process.";

static const char *activation_of(const dfsae_model *m)
{
    double a = 0;
    dfsae_model_get_option(m, DFSAE_MODEL_ACTIVATION, &a);
    return dfsae_activation_name((int)a);
}

static int set_model_options(const char *cmd, dfsae_model *m,
                             const train_flags *f, const cli_cmd *c)
{
    for (int t = 0; t < DFSAE_TERM_COUNT; t++) {
        int st;
        if (!cli_find(c, cli_lambda_flags[t])->seen)
            continue;
        st = dfsae_model_set_option(m, cli_lambda_keys[t], f->lambda[t]);
        if (st != DFSAE_OK)
            return cli_error(cmd, CLI_USAGE, "--%s: %g is out of range",
                             cli_lambda_flags[t], f->lambda[t]);
    }
    if (f->activation != NULL) {
        int a = cli_activation_from_name(f->activation);
        if (a < 0)
            return cli_error(cmd, CLI_USAGE,
                             "--activation: '%s' is not one of relu, "
                             "softplus, identity, leaky_relu, tanh, softmax",
                             f->activation);
        dfsae_model_set_option(m, DFSAE_MODEL_ACTIVATION, (double)a);
    }
    if (f->wr_form != NULL) {
        int form = strcmp(f->wr_form, "normalised") == 0     ? 0
                   : strcmp(f->wr_form, "unnormalised") == 0 ? 1
                                                             : -1;
        if (form < 0)
            return cli_error(cmd, CLI_USAGE,
                             "--wr-form: '%s' is not normalised or "
                             "unnormalised",
                             f->wr_form);
        dfsae_model_set_option(m, DFSAE_MODEL_WR_FORM, form);
    }
    if (cli_find(c, "max-row-norm")->seen &&
        dfsae_model_set_option(m, DFSAE_MODEL_MAX_ROW_NORM, f->max_row_norm) !=
            DFSAE_OK)
        return cli_error(cmd, CLI_USAGE,
                         "--max-row-norm: %g is outside [0, 1e18]",
                         f->max_row_norm);
    if (cli_find(c, "var-cap")->seen &&
        dfsae_model_set_option(m, DFSAE_MODEL_VAR_CAP, f->var_cap) != DFSAE_OK)
        return cli_error(cmd, CLI_USAGE, "--var-cap: %g is outside [0, 1e12]",
                         f->var_cap);
    if (cli_find(c, "temperature")->seen &&
        dfsae_model_set_option(m, DFSAE_MODEL_SOFTMAX_TEMPERATURE,
                               f->temperature) != DFSAE_OK)
        return cli_error(cmd, CLI_USAGE,
                         "--temperature: %g is outside [1e-3, 1e3]",
                         f->temperature);
    return CLI_OK;
}

static int set_optimizer_options(const char *cmd, dfsae_optimizer *o,
                                 const train_flags *f, const cli_cmd *c)
{
    static const struct {
        const char *flag;
        int key;
        size_t off;
    } map[] = {
        {"lr", DFSAE_OPT_LR, offsetof(train_flags, lr)},
        {"momentum", DFSAE_OPT_MOMENTUM, offsetof(train_flags, momentum)},
        {"weight-decay", DFSAE_OPT_WEIGHT_DECAY,
         offsetof(train_flags, weight_decay)},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        double v;
        int st;
        if (!cli_find(c, map[i].flag)->seen)
            continue;
        memcpy(&v, (const char *)f + map[i].off, sizeof v);
        st = dfsae_optimizer_set_option(o, map[i].key, v);
        if (st == DFSAE_ERR_UNKNOWN_PARAM)
            return cli_error(
                cmd, CLI_USAGE, "--%s does not apply to the %s optimizer",
                map[i].flag,
                dfsae_optimizer_kind_name(dfsae_optimizer_get_kind(o)));
        if (st != DFSAE_OK)
            return cli_error(cmd, CLI_USAGE, "--%s: %g is out of range",
                             map[i].flag, v);
    }
    return CLI_OK;
}

/* The batch size and the shuffling of a run, kept in the model's user
 * metadata so that --resume continues with them unless told otherwise. */
#define META_BATCH   "batch_size"
#define META_SHUFFLE "shuffle"

static int recall_schedule(const char *cmd, train_flags *f, const cli_cmd *c,
                           const dfsae_model *m)
{
    const char *b = dfsae_model_get_meta(m, META_BATCH);
    const char *s = dfsae_model_get_meta(m, META_SHUFFLE);
    if (b != NULL && !cli_find(c, "batch")->seen) {
        char *end;
        unsigned long long v = strtoull(b, &end, 10);
        if (*b < '1' || *b > '9' || *end != '\0' || v > SIZE_MAX)
            return cli_error(cmd, CLI_FAIL,
                             "%s: metadata %s '%.32s' is not a batch size "
                             "(give --batch)",
                             f->resume, META_BATCH, b);
        f->batch = (size_t)v;
    }
    if (s != NULL && !cli_find(c, "no-shuffle")->seen)
        f->no_shuffle = strcmp(s, "0") == 0;
    return CLI_OK;
}

static int record_schedule(dfsae_model *m, const train_flags *f)
{
    char b[32];
    snprintf(b, sizeof b, "%zu", f->batch);
    int st = dfsae_model_set_meta(m, META_BATCH, b);
    if (st == DFSAE_OK)
        st = dfsae_model_set_meta(m, META_SHUFFLE, f->no_shuffle ? "0" : "1");
    return st;
}

/* Loads the model to resume (--resume) or creates one. */
static int open_model(const char *cmd, train_flags *f, const cli_cmd *c,
                      size_t cols, dfsae_model **m, dfsae_optimizer **o)
{
    uint64_t done, rows, seed;
    int st;
    if (f->resume == NULL) {
        /* --seed seeds the initialisation and the shuffling. */
        st = dfsae_model_create(cols, f->components, f->seed, NULL, m);
        if (st == DFSAE_OK)
            st = dfsae_model_set_run_state(*m, 0, 0, f->seed);
        if (st != DFSAE_OK)
            return cli_lib_error(cmd, st, NULL, "cannot create the model");
        return CLI_OK;
    }
    int rc = cli_model_load(cmd, f->resume, m, o);
    if (rc == CLI_OK)
        rc = recall_schedule(cmd, f, c, *m);
    if (rc != CLI_OK)
        return rc;
    if (cli_find(c, "components")->seen &&
        f->components != dfsae_model_num_components(*m))
        return cli_error(
            cmd, CLI_USAGE, "--components %zu, but %s has %zu components",
            f->components, f->resume, dfsae_model_num_components(*m));
    dfsae_model_get_run_state(*m, &done, &rows, &seed);
    if (cli_find(c, "seed")->seen) {
        if (done != 0 || rows != 0)
            return cli_error(cmd, CLI_USAGE,
                             "--seed: %s continues its run with shuffle seed "
                             "%llu",
                             f->resume, (unsigned long long)seed);
        dfsae_model_set_run_state(*m, 0, 0, f->seed);
    }
    return CLI_OK;
}

/* Where a resumed run starts, once everything is checked. */
static void say_resume(const train_flags *f, const dfsae_model *m,
                       int fresh_optimizer)
{
    uint64_t done, rows, seed;
    if (f->resume == NULL || f->quiet)
        return;
    dfsae_model_get_run_state(m, &done, &rows, &seed);
    if (done == 0 && rows == 0)
        fprintf(stderr,
                "dfsae train: %s records no completed training (no run "
                "state): starting at epoch 1/%zu, shuffle seed %llu\n",
                f->resume, f->epochs, (unsigned long long)seed);
    else if (rows == 0)
        fprintf(stderr,
                "dfsae train: %s has completed %llu epochs: resuming at "
                "epoch %llu/%zu, shuffle seed %llu\n",
                f->resume, (unsigned long long)done,
                (unsigned long long)(done + 1), f->epochs,
                (unsigned long long)seed);
    else
        fprintf(stderr,
                "dfsae train: %s stopped in epoch %llu after %llu of its "
                "rows: resuming there (epoch %llu/%zu), shuffle seed %llu\n",
                f->resume, (unsigned long long)(done + 1),
                (unsigned long long)rows, (unsigned long long)(done + 1),
                f->epochs, (unsigned long long)seed);
    if (fresh_optimizer)
        fprintf(stderr,
                "dfsae train: %s has no optimizer state; resuming with a "
                "fresh %s optimizer\n",
                f->resume, f->optimizer);
}

/* The optimizer: the resumed one, or a new one of --optimizer. */
static int open_optimizer(const char *cmd, const train_flags *f,
                          const cli_cmd *c, const dfsae_model *m,
                          dfsae_optimizer **o)
{
    int kind = cli_optimizer_from_name(f->optimizer);
    if (*o != NULL && cli_find(c, "optimizer")->seen &&
        kind != dfsae_optimizer_get_kind(*o))
        return cli_error(
            cmd, CLI_USAGE, "--optimizer %s, but %s holds %s state",
            f->optimizer, f->resume,
            dfsae_optimizer_kind_name(dfsae_optimizer_get_kind(*o)));
    if (*o == NULL) {
        int st;
        if (kind < 0)
            return cli_error(cmd, CLI_USAGE,
                             "--optimizer: '%s' is not one of adam, sgd, "
                             "adamw",
                             f->optimizer);
        st = dfsae_optimizer_create(kind, dfsae_model_num_params(m), NULL, o);
        if (st != DFSAE_OK)
            return cli_lib_error(cmd, st, NULL, "cannot create the optimizer");
    }
    return set_optimizer_options(cmd, *o, f, c);
}

/* The last line: where training stopped, as the bar and the file say. */
static int report_end(const char *cmd, const train_flags *f,
                      const dfsae_model *m, const cli_progress *pr, int st,
                      uint64_t done_before, double seconds, const char *out)
{
    uint64_t done, rows;
    dfsae_model_get_run_state(m, &done, &rows, NULL);
    const uint64_t epochs_run = done - done_before;
    if (st == DFSAE_ERR_CANCELLED) {
        if (rows != 0)
            fprintf(stderr,
                    "dfsae train: interrupted in epoch %llu/%zu after step "
                    "%llu/%llu; model written to %s\n",
                    (unsigned long long)(done + 1), f->epochs,
                    (unsigned long long)(pr->last_step + 1),
                    (unsigned long long)pr->steps_per_epoch, out);
        else
            fprintf(stderr,
                    "dfsae train: interrupted after epoch %llu/%zu; model "
                    "written to %s\n",
                    (unsigned long long)done, f->epochs, out);
        return CLI_INTERRUPTED;
    }
    /* Printed even with --quiet: it is the run's result. */
    if (st == DFSAE_OK && pr->converged)
        fprintf(stderr, "dfsae train: converged at epoch %llu\n",
                (unsigned long long)done);
    if (st == DFSAE_OK && !f->quiet)
        fprintf(stderr,
                "dfsae train: %llu epochs in %.1f s (%.2f s/epoch), %llu/%zu "
                "done; model written to %s\n",
                (unsigned long long)epochs_run, seconds,
                seconds / (double)epochs_run, (unsigned long long)done,
                f->epochs, out);
    (void)cmd;
    return st == DFSAE_OK ? CLI_OK : CLI_FAIL;
}

static int run(const char *cmd, train_flags *f, const cli_cmd *c,
               const char *data_path)
{
    cli_input in;
    const exdata *data = &in.data;
    dfsae_model *m = NULL;
    dfsae_optimizer *o = NULL;
    dfsae_train_config *cfg = NULL;
    cli_progress pr;
    const char *out = f->out != NULL ? f->out : f->resume;
    /* The data stay as stored: the model's input transform scales them. */
    cli_data_flags raw = f->data;
    char xf[64];
    uint64_t done, todo;
    double t0;
    int rc, st, fresh_optimizer;

    if (out == NULL)
        return cli_error(cmd, CLI_USAGE,
                         "--out MODEL is required (see dfsae train --help)");
    raw.scale = "none";
    if (f->data.mmap && f->standardize)
        return cli_error(cmd, CLI_USAGE,
                         "--standardize needs the data in memory (not "
                         "--mmap)");
    rc = cli_open_input(cmd, data_path, &raw, 0, &in);
    if (rc != CLI_OK)
        return rc;
    rc = open_model(cmd, f, c, in.cols, &m, &o);
    if (rc != CLI_OK)
        goto done;
    if (dfsae_model_input_dim(m) != in.cols) {
        rc = cli_error(cmd, CLI_FAIL,
                       "%s has %zu columns but the model takes %zu inputs",
                       data_path, in.cols, dfsae_model_input_dim(m));
        goto done;
    }
    st = record_schedule(m, f);
    if (st == DFSAE_OK && data->image_h != 0)
        st = cli_set_image_shape(m, data->image_h, data->image_w);
    if (st != DFSAE_OK) {
        rc = cli_lib_error(cmd, st, dfsae_model_last_error(m), "metadata");
        goto done;
    }
    rc = set_model_options(cmd, m, f, c);
    if (rc == CLI_OK)
        rc = cli_set_input_transform(
            cmd, f->data.scale, f->standardize, f->resume,
            cli_find(c, "scale")->seen || f->standardize, data, m);
    if (rc != CLI_OK)
        goto done;
    st = dfsae_model_set_threads(m, f->threads > 64 ? 0 : (int)f->threads);
    if (st != DFSAE_OK) {
        rc = st == DFSAE_ERR_PARAM_OUT_OF_RANGE
                 ? cli_error(cmd, CLI_USAGE,
                             "--threads %zu is out of range "
                             "(1 to 64)",
                             f->threads)
                 : cli_lib_error(cmd, st, dfsae_model_last_error(m),
                                 "cannot start the threads");
        goto done;
    }
    fresh_optimizer = o == NULL;
    rc = open_optimizer(cmd, f, c, m, &o);
    if (rc != CLI_OK)
        goto done;

    /* --epochs is the model's total; an interrupted epoch is one of those
     * still to run. */
    dfsae_model_get_run_state(m, &done, NULL, NULL);
    if (done >= f->epochs) {
        if (!f->quiet)
            fprintf(stderr,
                    "dfsae train: %s has completed %llu epochs, --epochs is "
                    "%zu: nothing to do, nothing written\n",
                    f->resume, (unsigned long long)done, f->epochs);
        rc = CLI_OK;
        goto done;
    }
    todo = f->epochs - done;
    if (dfsae_train_config_create(NULL, &cfg) != DFSAE_OK) {
        rc = cli_error(cmd, CLI_FAIL, "out of memory");
        goto done;
    }
    if (dfsae_train_config_set(cfg, DFSAE_TRAIN_EPOCHS, (double)todo) ||
        dfsae_train_config_set(cfg, DFSAE_TRAIN_BATCH_SIZE, (double)f->batch) ||
        dfsae_train_config_set(cfg, DFSAE_TRAIN_SHUFFLE,
                               f->no_shuffle ? 0.0 : 1.0)) {
        rc = cli_error(cmd, CLI_USAGE, "--epochs or --batch is out of range");
        goto done;
    }
    if (dfsae_train_config_set(cfg, DFSAE_TRAIN_CONVERGE_TOLERANCE,
                               f->tolerance) ||
        dfsae_train_config_set(cfg, DFSAE_TRAIN_CONVERGE_PATIENCE,
                               (double)f->patience)) {
        rc = cli_error(cmd, CLI_USAGE,
                       "--tolerance must be >= 0 and --patience >= 1");
        goto done;
    }

    memset(&pr, 0, sizeof pr);
    pr.tty = isatty(fileno(stderr));
    pr.quiet = f->quiet;
    pr.epochs = f->epochs;
    pr.last_event = -1; /* no report yet */
    say_resume(f, m, fresh_optimizer);
    cli_install_sigint();
    cli_describe_transform(m, xf, sizeof xf);
    if (!f->quiet)
        fprintf(stderr,
                "dfsae train: %zu rows x %zu inputs -> %zu components, %s, "
                "%s, batch %zu, epochs %llu-%zu, input transform %s\n",
                in.rows, in.cols, dfsae_model_num_components(m),
                activation_of(m),
                dfsae_optimizer_kind_name(dfsae_optimizer_get_kind(o)),
                f->batch, (unsigned long long)(done + 1), f->epochs, xf);
    t0 = cli_now();
    st = dfsae_model_train_source(m, o, in.src, cfg, cli_progress_cb, &pr);
    if (pr.tty && !f->quiet && st != DFSAE_OK)
        fputc('\n', stderr);
    if (st != DFSAE_OK && st != DFSAE_ERR_CANCELLED)
        cli_lib_error(cmd, st, dfsae_model_last_error(m), "training");
    /* Even a failed run keeps what was learned up to the failing step:
     * the run state says which. */
    rc = cli_model_save(cmd, out, m, o);
    if (rc == CLI_OK)
        rc = report_end(cmd, f, m, &pr, st, done, cli_now() - t0, out);
done:
    dfsae_train_config_free(cfg);
    dfsae_optimizer_free(o);
    dfsae_model_free(m);
    cli_input_free(&in);
    return rc;
}

int cli_train(int argc, char **argv)
{
    train_flags f;
    const char *pos[1];
    size_t n_pos;
    int r;
    memset(&f, 0, sizeof f);
    f.components = 64;
    f.epochs = 10;
    f.batch = 128;
    f.threads = 1;
    f.optimizer = "adam";
    f.patience = 5;
    cli_opt opts[] = {
        {"out", CLI_STR, &f.out, "MODEL",
         "where to write the model (default with --resume: that file)", 0},
        {"components", CLI_SIZE, &f.components, "K",
         "number of components (default 64)", 0},
        {"epochs", CLI_SIZE, &f.epochs, "N",
         "total epochs of the model (default 10): --resume runs only those "
         "MODEL lacks",
         0},
        {"batch", CLI_SIZE, &f.batch, "B",
         "batch size (default 128; with --resume: MODEL's)", 0},
        {"optimizer", CLI_STR, &f.optimizer, "NAME",
         "adam (default), sgd or adamw", 0},
        {"lr", CLI_DOUBLE, &f.lr, "X",
         "learning rate (default: adam 1e-3, sgd 1e-2)", 0},
        {"momentum", CLI_DOUBLE, &f.momentum, "X", "SGD momentum (default 0)",
         0},
        {"weight-decay", CLI_DOUBLE, &f.weight_decay, "X",
         "weight decay (default 0; adamw 1e-2)", 0},
        CLI_LAMBDA_OPTS(f.lambda){
            "activation", CLI_STR, &f.activation, "NAME",
            "relu (default), softplus, identity, leaky_relu, tanh or softmax",
            0},
        {"temperature", CLI_DOUBLE, &f.temperature, "T",
         "softmax temperature, a = softmax(z / T) (default 1)", 0},
        {"max-row-norm", CLI_DOUBLE, &f.max_row_norm, "X",
         "scale W's rows back to norm X after every step (default 0: off)", 0},
        {"var-cap", CLI_DOUBLE, &f.var_cap, "C",
         "saturate L_var's reward above variance C (default 0: off)", 0},
        {"wr-form", CLI_STR, &f.wr_form, "FORM",
         "L_wr as normalised (default, ||Wn Wn^T - I||^2) or unnormalised "
         "(||W^T W - I||^2)",
         0},
        {"tolerance", CLI_DOUBLE, &f.tolerance, "X",
         "stop once the epoch's mean loss changes by less than X for "
         "--patience epochs in a row (default 0: off)",
         0},
        {"patience", CLI_SIZE, &f.patience, "N",
         "epochs in a row for --tolerance (default 5)", 0},
        {"seed", CLI_U64, &f.seed, "S",
         "seed of the initialisation and the shuffling (default 0; with "
         "--resume only for a file without run state)",
         0},
        {"standardize", CLI_FLAG, &f.standardize, "",
         "fit a per-feature mean and standard deviation on DATA (after "
         "--scale) and record them in the model's input transform",
         0},
        {"no-shuffle", CLI_FLAG, &f.no_shuffle, "",
         "keep the data's order in every epoch (with --resume: as MODEL "
         "did)",
         0},
        {"resume", CLI_STR, &f.resume, "MODEL",
         "continue training the model, optimizer and run state in MODEL", 0},
        {"threads", CLI_SIZE, &f.threads, "N",
         "threads for the elementwise work (default 1; the matrix products "
         "use the BLAS's, OPENBLAS_NUM_THREADS)",
         0},
        {"quiet", CLI_FLAG, &f.quiet, "", "print nothing but errors", 0},
        CLI_DATA_OPTS(f.data),
    };
    cli_cmd c = {"train",
                 "DATA --out MODEL [options]",
                 "Train a decoder-free sparse autoencoder on DATA (IDX, .npy "
                 "or CSV; gzip allowed).",
                 details,
                 opts,
                 sizeof opts / sizeof opts[0],
                 1,
                 1};
    r = cli_parse(&c, argc, argv, pos, &n_pos);
    if (r != 0)
        return r > 0 ? CLI_OK : CLI_USAGE;
    return run("train", &f, &c, pos[0]);
}
