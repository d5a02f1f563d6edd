/* dfsae train DATA --out MODEL: epochs over a data set with progress,
 * Ctrl-C stops after the current step and still writes the model. */
#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

typedef struct train_flags {
    size_t components, epochs, batch, threads;
    const char *optimizer, *activation, *out, *resume, *wr_form;
    double lr, momentum, weight_decay, temperature;
    double lambda[DFSAE_TERM_COUNT];
    uint64_t seed;
    int quiet, no_shuffle;
    cli_data_flags data;
} train_flags;

static const char details[] =
    "Trains A = phi(X W^T + b) with L = lse*L_lse + var*L_var + tc*L_tc +\n"
    "wr*L_wr (defaults 1/1/1/0). The model is a safetensors file (PyTorch\n"
    "nn.Linear names); with an optimizer state in it, --resume continues\n"
    "training where it stopped. MODEL.run records the next epoch index and\n"
    "the seed so that a resumed run continues the same shuffling sequence\n"
    "(an interrupted epoch is not repeated: the next one starts).\n"
    "Progress: a bar on a terminal, one line per epoch otherwise (stderr).\n"
    "Ctrl-C stops after the current step and writes the model (exit 130);\n"
    "a second Ctrl-C kills the process.";

static const char *activation_of(const dfsae_model *m)
{
    double a = 0;
    dfsae_model_get_option(m, DFSAE_MODEL_ACTIVATION, &a);
    return dfsae_activation_name((int)a);
}

static int set_model_options(const char *cmd, dfsae_model *m,
                             const train_flags *f, const cli_cmd *c)
{
    static const char *const names[DFSAE_TERM_COUNT] = {
        "lambda-lse", "lambda-var", "lambda-tc", "lambda-wr"};
    static const int keys[DFSAE_TERM_COUNT] = {
        DFSAE_MODEL_LAMBDA_LSE, DFSAE_MODEL_LAMBDA_VAR, DFSAE_MODEL_LAMBDA_TC,
        DFSAE_MODEL_LAMBDA_WR};
    for (int t = 0; t < DFSAE_TERM_COUNT; t++) {
        int st;
        if (!cli_find(c, names[t])->seen)
            continue;
        st = dfsae_model_set_option(m, keys[t], f->lambda[t]);
        if (st != DFSAE_OK)
            return cli_error(cmd, CLI_USAGE, "--%s: %g is out of range",
                             names[t], f->lambda[t]);
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

static int run(const char *cmd, train_flags *f, const cli_cmd *c,
               const char *data_path)
{
    dfsae_data data = {0};
    dfsae_model *m = NULL;
    dfsae_optimizer *o = NULL;
    dfsae_train_config *cfg = NULL;
    cli_run_state rs;
    cli_progress pr;
    const char *out = f->out != NULL ? f->out : f->resume;
    double t0;
    int rc, st;

    memset(&rs, 0, sizeof rs);
    if (out == NULL)
        return cli_error(cmd, CLI_USAGE,
                         "--out MODEL is required (see dfsae train --help)");
    rc = cli_load_data(cmd, data_path, &f->data, &data);
    if (rc != CLI_OK)
        return rc;
    if (f->resume != NULL) {
        rc = cli_model_load(cmd, f->resume, &m, &o, &rs);
        if (rc != CLI_OK)
            goto done;
        if (cli_find(c, "components")->seen &&
            f->components != dfsae_model_num_components(m)) {
            rc = cli_error(
                cmd, CLI_USAGE, "--components %zu, but %s has %zu components",
                f->components, f->resume, dfsae_model_num_components(m));
            goto done;
        }
        if (cli_find(c, "seed")->seen)
            rs.seed = f->seed;
        if (o == NULL && !f->quiet)
            fprintf(stderr,
                    "dfsae train: %s has no optimizer state; resuming with a "
                    "fresh %s optimizer\n",
                    f->resume, f->optimizer);
    } else {
        st = dfsae_model_create(data.cols, f->components, f->seed, NULL, &m);
        if (st != DFSAE_OK) {
            rc = cli_lib_error(cmd, st, NULL, "cannot create the model");
            goto done;
        }
        rs.seed = f->seed;
    }
    if (dfsae_model_input_dim(m) != data.cols) {
        rc = cli_error(cmd, CLI_FAIL,
                       "%s has %zu columns but the model takes %zu inputs",
                       data_path, data.cols, dfsae_model_input_dim(m));
        goto done;
    }
    if (data.image_h != 0) {
        rs.image_h = data.image_h;
        rs.image_w = data.image_w;
    }
    rc = set_model_options(cmd, m, f, c);
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
    if (o != NULL && cli_find(c, "optimizer")->seen &&
        cli_optimizer_from_name(f->optimizer) != dfsae_optimizer_get_kind(o)) {
        rc = cli_error(cmd, CLI_USAGE, "--optimizer %s, but %s holds %s state",
                       f->optimizer, f->resume,
                       dfsae_optimizer_kind_name(dfsae_optimizer_get_kind(o)));
        goto done;
    }
    if (o == NULL) {
        int kind = cli_optimizer_from_name(f->optimizer);
        if (kind < 0) {
            rc = cli_error(cmd, CLI_USAGE,
                           "--optimizer: '%s' is not one of adam, sgd, adamw",
                           f->optimizer);
            goto done;
        }
        st = dfsae_optimizer_create(kind, dfsae_model_num_params(m), NULL, &o);
        if (st != DFSAE_OK) {
            rc = cli_lib_error(cmd, st, NULL, "cannot create the optimizer");
            goto done;
        }
    }
    rc = set_optimizer_options(cmd, o, f, c);
    if (rc != CLI_OK)
        goto done;

    if (dfsae_train_config_create(NULL, &cfg) != DFSAE_OK) {
        rc = cli_error(cmd, CLI_FAIL, "out of memory");
        goto done;
    }
    if (dfsae_train_config_set(cfg, DFSAE_TRAIN_EPOCHS, (double)f->epochs) ||
        dfsae_train_config_set(cfg, DFSAE_TRAIN_BATCH_SIZE, (double)f->batch) ||
        dfsae_train_config_set(cfg, DFSAE_TRAIN_SHUFFLE,
                               f->no_shuffle ? 0.0 : 1.0) ||
        dfsae_train_config_set(cfg, DFSAE_TRAIN_SEED,
                               (double)(rs.seed & ((1ull << 53) - 1))) ||
        dfsae_train_config_set(cfg, DFSAE_TRAIN_FIRST_EPOCH,
                               (double)rs.next_epoch)) {
        rc = cli_error(cmd, CLI_USAGE,
                       "--epochs, --batch or the epoch count is out of "
                       "range");
        goto done;
    }

    memset(&pr, 0, sizeof pr);
    pr.tty = isatty(fileno(stderr));
    pr.quiet = f->quiet;
    pr.epochs = f->epochs;
    pr.first_epoch = rs.next_epoch;
    pr.last_event = -1; /* no report yet */
    cli_install_sigint();
    if (!f->quiet)
        fprintf(stderr,
                "dfsae train: %zu rows x %zu inputs -> %zu components, %s, "
                "%s, batch %zu, %zu epochs\n",
                data.rows, data.cols, dfsae_model_num_components(m),
                activation_of(m),
                dfsae_optimizer_kind_name(dfsae_optimizer_get_kind(o)),
                f->batch, f->epochs);
    t0 = cli_now();
    st = dfsae_model_train(m, o, data.values, data.rows, cfg, cli_progress_cb,
                           &pr);
    if (st != DFSAE_OK && st != DFSAE_ERR_CANCELLED) {
        if (pr.tty)
            fputc('\n', stderr);
        rc = cli_lib_error(cmd, st, dfsae_model_last_error(m), "training");
        /* Still keep what was learned up to the failing step. */
    }
    /* Completed epochs: an interrupt at an epoch report counts that epoch;
     * mid-epoch, the next run starts with the next epoch. */
    if (st == DFSAE_OK)
        rs.next_epoch += f->epochs;
    else if (pr.last_event >= 0)
        rs.next_epoch = pr.last_epoch + 1;
    if (pr.tty && st == DFSAE_ERR_CANCELLED)
        fputc('\n', stderr);
    {
        int src = cli_model_save(cmd, out, m, o, &rs);
        double el = cli_now() - t0;
        if (src != CLI_OK) {
            rc = src;
            goto done;
        }
        if (st == DFSAE_ERR_CANCELLED) {
            fprintf(stderr,
                    "dfsae train: interrupted in epoch %llu (step %llu); "
                    "model written to %s\n",
                    (unsigned long long)(pr.last_epoch + 1),
                    (unsigned long long)(pr.last_step + 1), out);
            rc = CLI_INTERRUPTED;
        } else if (st == DFSAE_OK) {
            if (!f->quiet)
                fprintf(stderr,
                        "dfsae train: %zu epochs in %.1f s (%.2f s/epoch); "
                        "model written to %s\n",
                        f->epochs, el, el / (double)f->epochs, out);
            rc = CLI_OK;
        }
    }
done:
    dfsae_train_config_free(cfg);
    dfsae_optimizer_free(o);
    dfsae_model_free(m);
    dfsae_data_free(&data);
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
    cli_opt opts[] = {
        {"out", CLI_STR, &f.out, "MODEL",
         "where to write the model (default with --resume: that file)", 0},
        {"components", CLI_SIZE, &f.components, "K",
         "number of components (default 64)", 0},
        {"epochs", CLI_SIZE, &f.epochs, "N", "epochs to train (default 10)", 0},
        {"batch", CLI_SIZE, &f.batch, "B", "batch size (default 128)", 0},
        {"optimizer", CLI_STR, &f.optimizer, "NAME",
         "adam (default), sgd or adamw", 0},
        {"lr", CLI_DOUBLE, &f.lr, "X",
         "learning rate (default: adam 1e-3, sgd 1e-2)", 0},
        {"momentum", CLI_DOUBLE, &f.momentum, "X", "SGD momentum (default 0)",
         0},
        {"weight-decay", CLI_DOUBLE, &f.weight_decay, "X",
         "weight decay (default 0; adamw 1e-2)", 0},
        {"lambda-lse", CLI_DOUBLE, &f.lambda[DFSAE_TERM_LSE], "X",
         "weight of L_lse (default 1)", 0},
        {"lambda-var", CLI_DOUBLE, &f.lambda[DFSAE_TERM_VAR], "X",
         "weight of L_var (default 1)", 0},
        {"lambda-tc", CLI_DOUBLE, &f.lambda[DFSAE_TERM_TC], "X",
         "weight of L_tc (default 1)", 0},
        {"lambda-wr", CLI_DOUBLE, &f.lambda[DFSAE_TERM_WR], "X",
         "weight of L_wr (default 0)", 0},
        {"activation", CLI_STR, &f.activation, "NAME",
         "relu (default), softplus, identity, leaky_relu, tanh or softmax", 0},
        {"temperature", CLI_DOUBLE, &f.temperature, "T",
         "softmax temperature, a = softmax(z / T) (default 1)", 0},
        {"wr-form", CLI_STR, &f.wr_form, "FORM",
         "L_wr as normalised (default, ||Wn Wn^T - I||^2) or unnormalised "
         "(||W^T W - I||^2)",
         0},
        {"seed", CLI_U64, &f.seed, "S",
         "seed of the initialisation and the shuffling (default 0)", 0},
        {"no-shuffle", CLI_FLAG, &f.no_shuffle, "",
         "keep the data's order in every epoch", 0},
        {"resume", CLI_STR, &f.resume, "MODEL",
         "continue training the model (and optimizer) in MODEL", 0},
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
