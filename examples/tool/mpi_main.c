/* dfsae-mpi: `mpirun -np N dfsae-mpi train DATA --out MODEL --distributed
 * data|dictionary`, exact training over N ranks (docs/distributed.md).
 * Data-parallel: rank r reads rows [n r / N, n (r + 1) / N) of DATA and
 * rank 0 writes MODEL. Dictionary-parallel: every rank reads DATA and
 * holds K / N components; MODEL is a prefix for the shard files and their
 * index (MODEL.index.json, which `dfsae info|encode|eval` load on one
 * process). Rank 0 reports progress. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "dfsae_mpi.h"

typedef struct mpi_flags {
    const char *out, *distributed, *optimizer, *activation;
    size_t components, epochs, batch, threads;
    double lr, lambda[DFSAE_TERM_COUNT];
    uint64_t seed;
    int quiet;
    cli_data_flags data;
} mpi_flags;

static int rank, size;

/* ---- Input: this rank's rows ------------------------------------------ */

/* An uncompressed, C-order float32 2-D .npy file: shape and where its data
 * starts; 0 if the file is anything else. */
static int npy_f32_layout(int fd, size_t *rows, size_t *cols, off_t *data)
{
    unsigned char pre[12];
    if (pread(fd, pre, sizeof pre, 0) != (ssize_t)sizeof pre ||
        memcmp(pre, "\x93NUMPY", 6) != 0 || pre[6] < 1 || pre[6] > 3)
        return 0;
    size_t len = pre[6] == 1
                     ? (size_t)pre[8] | (size_t)pre[9] << 8
                     : (size_t)pre[8] | (size_t)pre[9] << 8 |
                           (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    size_t start = pre[6] == 1 ? 10 : 12;
    if (len == 0 || len > 65536)
        return 0;
    char *h = malloc(len + 1);
    if (h == NULL || pread(fd, h, len, (off_t)start) != (ssize_t)len) {
        free(h);
        return 0;
    }
    h[len] = '\0';
    unsigned long long n = 0, d = 0;
    const char *shape = strstr(h, "'shape':");
    int ok = strstr(h, "'descr': '<f4'") != NULL &&
             strstr(h, "'fortran_order': False") != NULL && shape != NULL &&
             sscanf(shape, "'shape': (%llu, %llu)", &n, &d) == 2 && n > 0 &&
             d > 0;
    free(h);
    /* The shape must fit in a size_t and match the file's size exactly,
     * or the readers (and their messages) take over. */
    size_t bytes;
    struct stat st;
    if (!ok || n > SIZE_MAX || d > SIZE_MAX ||
        !exdata_size_mul((size_t)n, (size_t)d, &bytes) ||
        !exdata_size_mul(bytes, sizeof(float), &bytes) || fstat(fd, &st) != 0 ||
        !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size != (uint64_t)(start + len) + bytes)
        return 0;
    *rows = (size_t)n;
    *cols = (size_t)d;
    *data = (off_t)(start + len);
    return 1;
}

/* Rows [r0, r1) of DATA into out: read by offset from a float32 .npy,
 * else from the whole file parsed by the tool's readers. Sets *total. */
static int load_rows(const char *path, const mpi_flags *f, int by_rank,
                     exdata *out, size_t *total, int *whole)
{
    size_t n, d;
    off_t at;
    int fd = open(path, O_RDONLY);
    int direct = fd >= 0 && npy_f32_layout(fd, &n, &d, &at) &&
                 f->data.limit == 0 &&
                 (f->data.scale == NULL || strcmp(f->data.scale, "auto") == 0 ||
                  strcmp(f->data.scale, "none") == 0);
    *whole = !direct;
    if (!direct) {
        if (fd >= 0)
            close(fd);
        int rc = cli_load_data("train", path, &f->data, out);
        if (rc != CLI_OK)
            return rc;
        n = out->rows;
    }
    size_t r0 = by_rank ? n * (size_t)rank / (size_t)size : 0;
    size_t r1 = by_rank ? n * ((size_t)rank + 1) / (size_t)size : n;
    *total = n;
    if (!direct) { /* keep this rank's rows */
        memmove(out->values, out->values + r0 * out->cols,
                (r1 - r0) * out->cols * sizeof(float));
        out->rows = r1 - r0;
        return CLI_OK;
    }
    /* n d floats fit (the file holds them), so this rank's share does. */
    size_t want = (r1 - r0) * d * sizeof(float), got = 0;
    if (want > cli_memory_limit(&f->data)) {
        char what[96];
        close(fd);
        snprintf(what, sizeof what, "rows %zu-%zu of %s", r0, r1, path);
        return cli_over_limit("train", what, want, &f->data, NULL);
    }
    out->rows = r1 - r0;
    out->cols = d;
    out->values = malloc(want + 1);
    while (out->values != NULL && got < want) {
        ssize_t k = pread(fd, (char *)out->values + got, want - got,
                          at + (off_t)(r0 * d * sizeof(float) + got));
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    if (out->values == NULL || got != want)
        return cli_error("train", CLI_FAIL, "%s: cannot read rows %zu-%zu",
                         path, r0, r1);
    return CLI_OK;
}

/* ---- The model on this rank ------------------------------------------- */

static int make_model(const mpi_flags *f, size_t d, int dictionary,
                      dfsae_model **m)
{
    size_t k0 = dictionary ? f->components * (size_t)rank / (size_t)size : 0;
    size_t k1 = dictionary ? f->components * ((size_t)rank + 1) / (size_t)size
                           : f->components;
    /* Replicas start alike; shards from (seed, rank), since a shard cannot
     * draw its part of one K-row initialisation without the whole. */
    uint64_t init = dictionary ? f->seed * 1000003u + (uint64_t)rank : f->seed;
    int st = dfsae_model_create(d, k1 - k0, init, NULL, m);
    if (st == DFSAE_OK)
        st = dfsae_model_set_run_state(*m, 0, 0, f->seed);
    for (int t = 0; t < DFSAE_TERM_COUNT && st == DFSAE_OK; ++t)
        if (f->lambda[t] >= 0)
            st = dfsae_model_set_option(*m, cli_lambda_keys[t], f->lambda[t]);
    if (st == DFSAE_OK && f->activation != NULL) {
        int a = cli_activation_from_name(f->activation);
        st = a < 0 ? DFSAE_ERR_INVALID_ARG
                   : dfsae_model_set_option(*m, DFSAE_MODEL_ACTIVATION, a);
    }
    if (st == DFSAE_OK)
        st = dfsae_model_set_threads(*m, (int)f->threads);
    if (st != DFSAE_OK)
        return cli_lib_error("train", st, NULL, "the model's options");
    return CLI_OK;
}

/* ---- train ------------------------------------------------------------ */

/* Every rank's verdict: CLI_OK only if all ranks are. */
static int all_ok(int rc)
{
    int worst = rc;
    MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return worst;
}

static int train(mpi_flags *f, const char *path, dfsae_mpi *ctx)
{
    int dictionary = strcmp(f->distributed, "dictionary") == 0;
    if (!dictionary && strcmp(f->distributed, "data") != 0)
        return cli_error("train", CLI_USAGE,
                         "--distributed: '%s' is not data or dictionary",
                         f->distributed);
    if (f->out == NULL)
        return cli_error("train", CLI_USAGE, "--out MODEL is required");
    if (dictionary && f->components < (size_t)size)
        return cli_error("train", CLI_USAGE,
                         "--components %zu: fewer than the %d ranks",
                         f->components, size);
    exdata data = {0};
    dfsae_model *m = NULL;
    dfsae_optimizer *o = NULL;
    dfsae_train_config *cfg = NULL;
    size_t total = 0;
    int whole = 0, st = DFSAE_OK;
    int rc = load_rows(path, f, !dictionary, &data, &total, &whole);
    if (rc == CLI_OK)
        rc = make_model(f, data.cols, dictionary, &m);
    int kind = cli_optimizer_from_name(f->optimizer);
    if (rc == CLI_OK && kind < 0)
        rc = cli_error("train", CLI_USAGE, "--optimizer: '%s' is unknown",
                       f->optimizer);
    if (rc == CLI_OK &&
        (dfsae_optimizer_create(kind, dfsae_model_num_params(m), NULL, &o) ||
         (f->lr > 0 && dfsae_optimizer_set_option(o, DFSAE_OPT_LR, f->lr)) ||
         dfsae_train_config_create(NULL, &cfg) ||
         dfsae_train_config_set(cfg, DFSAE_TRAIN_EPOCHS, (double)f->epochs) ||
         dfsae_train_config_set(cfg, DFSAE_TRAIN_BATCH_SIZE, (double)f->batch)))
        rc = cli_error("train", CLI_USAGE, "--lr, --epochs or --batch");
    rc = all_ok(rc);
    if (rc == CLI_OK) {
        st = dfsae_model_set_comm(m, &ctx->comm,
                                  dictionary ? DFSAE_DIST_DICTIONARY
                                             : DFSAE_DIST_DATA);
        if (st != DFSAE_OK)
            rc = cli_lib_error("train", st, dfsae_model_last_error(m),
                               "set_comm");
    }
    if (rc == CLI_OK) {
        cli_progress pr;
        memset(&pr, 0, sizeof pr);
        pr.tty = rank == 0 && isatty(fileno(stderr));
        pr.quiet = f->quiet;
        pr.epochs = f->epochs;
        pr.last_event = -1;
        cli_install_sigint();
        if (rank == 0 && !f->quiet)
            fprintf(stderr,
                    "dfsae-mpi train: %d ranks, %s-parallel: %zu rows x %zu "
                    "inputs -> %zu components, batch %zu (global), %zu "
                    "epochs; each rank %s\n",
                    size, dictionary ? "dictionary" : "data", total, data.cols,
                    f->components, f->batch, f->epochs,
                    whole ? "parsed the whole file (only float32 .npy is "
                            "read by row range)"
                    : dictionary ? "read all rows"
                                 : "read its own rows");
        double t0 = cli_now();
        st = dfsae_model_train(m, o, data.values, data.rows, cfg,
                               rank == 0 ? cli_progress_cb : NULL, &pr);
        double t = cli_now() - t0;
        if (st != DFSAE_OK && st != DFSAE_ERR_CANCELLED)
            cli_lib_error("train", st, dfsae_model_last_error(m), "training");
        int saved = DFSAE_OK;
        if (dictionary)
            saved = dfsae_model_save_shards(m, o, f->out);
        else if (rank == 0)
            saved = dfsae_model_save(m, o, f->out);
        if (saved != DFSAE_OK)
            rc = cli_lib_error("train", saved, dfsae_model_last_error(m),
                               f->out);
        else if (st != DFSAE_OK)
            rc = st == DFSAE_ERR_CANCELLED ? CLI_INTERRUPTED : CLI_FAIL;
        uint64_t steps = dfsae_optimizer_step_count(o);
        if (rank == 0 && rc == CLI_OK && !f->quiet)
            fprintf(stderr,
                    "dfsae-mpi train: %llu steps in %.2f s (%.2f ms/step); "
                    "model written to %s%s\n",
                    (unsigned long long)steps, t,
                    steps ? 1e3 * t / (double)steps : 0.0, f->out,
                    dictionary ? ".index.json and its shards" : "");
    }
    dfsae_train_config_free(cfg);
    dfsae_optimizer_free(o);
    dfsae_model_free(m);
    exdata_free(&data);
    return all_ok(rc);
}

static int cmd_train(int argc, char **argv, dfsae_mpi *ctx)
{
    mpi_flags f;
    memset(&f, 0, sizeof f);
    f.distributed = "data";
    f.optimizer = "adam";
    f.components = 64;
    f.epochs = 10;
    f.batch = 128;
    f.threads = 1;
    for (int t = 0; t < DFSAE_TERM_COUNT; ++t)
        f.lambda[t] = -1; /* the library's default */
    cli_opt opts[] = {
        {"out", CLI_STR, &f.out, "MODEL",
         "model file (data) or prefix of the shard files (dictionary)", 0},
        {"distributed", CLI_STR, &f.distributed, "MODE",
         "data (default: rows split) or dictionary (components split)", 0},
        {"components", CLI_SIZE, &f.components, "K", "components (64)", 0},
        {"epochs", CLI_SIZE, &f.epochs, "N", "epochs (10)", 0},
        {"batch", CLI_SIZE, &f.batch, "B", "global batch size (128)", 0},
        {"optimizer", CLI_STR, &f.optimizer, "NAME", "adam, sgd or adamw", 0},
        {"lr", CLI_DOUBLE, &f.lr, "X", "learning rate", 0},
        CLI_LAMBDA_OPTS(f.lambda){"activation", CLI_STR, &f.activation, "NAME",
                                  "phi (relu)", 0},
        {"seed", CLI_U64, &f.seed, "S", "initialisation and shuffle seed", 0},
        {"threads", CLI_SIZE, &f.threads, "N", "threads per rank (1)", 0},
        {"quiet", CLI_FLAG, &f.quiet, "", "print nothing but errors", 0},
        CLI_DATA_OPTS(f.data),
    };
    cli_cmd c = {"train",
                 "DATA --out MODEL --distributed data|dictionary [options]",
                 "Train over the ranks of MPI_COMM_WORLD, exactly as one "
                 "process would on each global batch.",
                 NULL,
                 opts,
                 sizeof opts / sizeof opts[0],
                 1,
                 1};
    const char *pos[1];
    size_t n_pos;
    /* Only rank 0 prints the help and usage errors. */
    if (rank != 0 && freopen("/dev/null", "w", stdout) == NULL)
        return CLI_FAIL;
    int r = cli_parse(&c, argc, argv, pos, &n_pos);
    if (r != 0)
        return r > 0 ? CLI_OK : CLI_USAGE;
    return train(&f, pos[0], ctx);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    dfsae_mpi ctx;
    int rc = CLI_FAIL;
    if (argc < 2 || strcmp(argv[1], "train") != 0) {
        if (rank == 0)
            fprintf(stderr, "usage: mpirun -np N dfsae-mpi train DATA --out "
                            "MODEL --distributed data|dictionary [options]\n"
                            "       (dfsae-mpi train --help)\n");
        rc = CLI_USAGE;
    } else if (dfsae_mpi_init(&ctx, MPI_COMM_WORLD) == DFSAE_OK) {
        rc = cmd_train(argc - 2, argv + 2, &ctx);
        dfsae_mpi_finish(&ctx);
    }
    MPI_Finalize();
    return rc;
}
