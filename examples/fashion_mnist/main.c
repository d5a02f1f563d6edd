/*
 * Fashion-MNIST with dfsae: the published configuration (784 -> 64, relu,
 * batch 128, Adam 1e-3, lambdas lse 1 / var 1 / tc 1 / wr 0), a linear
 * probe on the learned features against one on raw pixels, the metrics of
 * docs/training.md, and a picture of the 64 prototypes (rows of W).
 *
 *   fashion_mnist [--epochs N] [--out protos.png]     the main job
 *   fashion_mnist --ablation [--epochs N]             the four objectives
 *
 * Results go to stdout as "name: value" lines; progress to stderr.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dfsae.h"
#include "exdata.h"
#include "probe.h"
#include "study.h"

#define DEFAULT_DIR "/usr/share/datasets/fashion-mnist"

typedef struct flags {
    const char *dir, *out;
    size_t epochs, train_limit, test_limit, components, batch;
    uint64_t seed;
    double probe_c;
    int ablation, raw_probe, quiet;
    int softmax; /* the probe: 1 softmax/L-BFGS, 0 liblinear one-vs-rest */
} flags;

typedef struct split {
    exdata X;
    int *y;
} split;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: fashion_mnist [options]\n\n"
            "Trains dfsae's published configuration on Fashion-MNIST and "
            "reports a linear\nprobe's test accuracy, the metrics and a "
            "picture of the prototypes.\n\n"
            "  --data DIR          the IDX files (default " DEFAULT_DIR ")\n"
            "  --epochs N          training epochs (default 20)\n"
            "  --out FILE.png      the prototype picture (default "
            "fashion_protos.png)\n"
            "  --ablation          train the four objectives of the "
            "ablation and print\n"
            "                      dead units, redundancy, responsibility "
            "entropy, max responsibility\n"
            "  --train-limit N     use the first N training images (0: all)\n"
            "  --test-limit N      use the first N test images (0: all)\n"
            "  --no-raw-probe      skip the raw-pixel probe\n"
            "  --components K      components (default 64)\n"
            "  --batch B           batch size (default 128)\n"
            "  --seed S            initialisation and shuffling seed "
            "(default 0)\n"
            "  --probe-c C         the probe's inverse regularisation "
            "(default 1)\n"
            "  --probe KIND        softmax (default: multinomial logistic "
            "regression, L-BFGS)\n"
            "                      or liblinear (one-vs-rest, liblinear's "
            "Newton solver; slow on pixels)\n"
            "  --quiet             no per-epoch progress\n");
}

static int parse_size(const char *flag, const char *v, size_t *out)
{
    char *end;
    unsigned long long u;
    if (v == NULL || *v < '0' || *v > '9') {
        fprintf(stderr, "fashion_mnist: %s needs a non-negative integer\n",
                flag);
        return -1;
    }
    u = strtoull(v, &end, 10);
    if (*end != '\0' || u > SIZE_MAX) {
        fprintf(stderr, "fashion_mnist: %s: '%s' is not an integer\n", flag, v);
        return -1;
    }
    *out = (size_t)u;
    return 0;
}

static int parse_flags(int argc, char **argv, flags *f)
{
    memset(f, 0, sizeof *f);
    f->dir = DEFAULT_DIR;
    f->out = "fashion_protos.png";
    f->epochs = 20;
    f->components = 64;
    f->batch = 128;
    f->probe_c = 1.0;
    f->raw_probe = 1;
    f->softmax = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        size_t s;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(a, "--ablation") == 0) {
            f->ablation = 1;
        } else if (strcmp(a, "--no-raw-probe") == 0) {
            f->raw_probe = 0;
        } else if (strcmp(a, "--quiet") == 0) {
            f->quiet = 1;
        } else if (strcmp(a, "--data") == 0 && v != NULL) {
            f->dir = argv[++i];
        } else if (strcmp(a, "--out") == 0 && v != NULL) {
            f->out = argv[++i];
        } else if (strcmp(a, "--probe") == 0 && v != NULL) {
            i++;
            if (strcmp(v, "softmax") == 0) {
                f->softmax = 1;
            } else if (strcmp(v, "liblinear") == 0) {
                f->softmax = 0;
            } else {
                fprintf(stderr,
                        "fashion_mnist: --probe: '%s' is not "
                        "softmax or liblinear\n",
                        v);
                return -1;
            }
        } else if (strcmp(a, "--probe-c") == 0 && v != NULL) {
            char *end;
            f->probe_c = strtod(argv[++i], &end);
            if (*end != '\0' || !(f->probe_c > 0) || !isfinite(f->probe_c)) {
                fprintf(stderr,
                        "fashion_mnist: --probe-c: '%s' is not a "
                        "positive number\n",
                        v);
                return -1;
            }
        } else if (strcmp(a, "--epochs") == 0 ||
                   strcmp(a, "--train-limit") == 0 ||
                   strcmp(a, "--test-limit") == 0 ||
                   strcmp(a, "--components") == 0 ||
                   strcmp(a, "--batch") == 0 || strcmp(a, "--seed") == 0) {
            if (parse_size(a, v, &s) != 0)
                return -1;
            i++;
            if (strcmp(a, "--epochs") == 0)
                f->epochs = s;
            else if (strcmp(a, "--train-limit") == 0)
                f->train_limit = s;
            else if (strcmp(a, "--test-limit") == 0)
                f->test_limit = s;
            else if (strcmp(a, "--components") == 0)
                f->components = s;
            else if (strcmp(a, "--batch") == 0)
                f->batch = s;
            else
                f->seed = s;
        } else {
            fprintf(stderr,
                    "fashion_mnist: unknown or incomplete option '%s' (see "
                    "--help)\n",
                    a);
            return -1;
        }
    }
    if (f->epochs == 0 || f->components == 0 || f->batch < 2) {
        fprintf(stderr, "fashion_mnist: --epochs and --components must be "
                        ">= 1 and --batch >= 2\n");
        return -1;
    }
    return 0;
}

/* Images scaled to [0, 1]; labels kept as 0..9. */
static int load_split(const char *dir, const char *prefix, size_t limit,
                      split *s)
{
    char path[1024];
    exdata labels;
    exdata_options opt;
    exdata_error err;
    memset(s, 0, sizeof *s);
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
    if (exdata_load(path, NULL, &s->X, &err) != 0) {
        fprintf(stderr, "fashion_mnist: %s\n", err.msg);
        if (strcmp(dir, DEFAULT_DIR) == 0)
            fprintf(stderr, "fashion_mnist: install the data with: apt-get "
                            "install dataset-fashion-mnist\n");
        return -1;
    }
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
    exdata_options_init(&opt);
    opt.divide = 1.0;
    if (exdata_load(path, &opt, &labels, &err) != 0) {
        fprintf(stderr, "fashion_mnist: %s\n", err.msg);
        exdata_free(&s->X);
        return -1;
    }
    if (labels.rows != s->X.rows || labels.cols != 1) {
        fprintf(stderr, "fashion_mnist: %s: %zu labels for %zu images\n", path,
                labels.rows, s->X.rows);
        exdata_free(&labels);
        exdata_free(&s->X);
        return -1;
    }
    if (limit != 0)
        exdata_truncate(&s->X, limit);
    s->y = malloc(s->X.rows * sizeof *s->y);
    if (s->y == NULL) {
        fprintf(stderr, "fashion_mnist: out of memory\n");
        exdata_free(&labels);
        exdata_free(&s->X);
        return -1;
    }
    for (size_t i = 0; i < s->X.rows; i++)
        s->y[i] = (int)labels.values[i];
    exdata_free(&labels);
    return 0;
}

static void free_split(split *s)
{
    exdata_free(&s->X);
    free(s->y);
}

static int check(int st, const dfsae_model *m, const char *what)
{
    if (st == DFSAE_OK)
        return 0;
    fprintf(stderr, "fashion_mnist: %s: %s (%s)\n", what,
            m != NULL ? dfsae_model_last_error(m) : "",
            dfsae_status_string(st));
    return -1;
}

/* The study library's configuration for these flags and loss weights. */
static void study_of(const flags *f, const double lam[4], study_config *c)
{
    study_config_defaults(c);
    c->components = f->components;
    c->epochs = f->epochs;
    c->batch = f->batch;
    c->seed = f->seed;
    c->probe_c = f->probe_c;
    c->quiet = f->quiet;
    for (int t = 0; t < 4; t++)
        c->lambda[t] = lam[t];
}

/* Create and train one model with the given loss weights. */
static int train_model(const flags *f, const split *tr, const double lam[4],
                       dfsae_model **out, double *seconds)
{
    study_config c;
    study_result r;
    study_split s = {tr->X.values, tr->y, tr->X.rows, tr->X.cols};
    char err[256];
    study_of(f, lam, &c);
    if (study_train(&c, &s, "", out, &r, err, sizeof err) != 0) {
        fprintf(stderr, "fashion_mnist: %s\n", err);
        return -1;
    }
    *seconds = r.seconds;
    return 0;
}

static int evaluate(dfsae_model *m, const split *s, double *metrics)
{
    return check(dfsae_model_evaluate(m, s->X.values, s->X.rows, NULL, metrics,
                                      DFSAE_METRIC_COUNT),
                 m, "evaluate");
}

static float *encode(dfsae_model *m, const split *s)
{
    size_t k = dfsae_model_num_components(m);
    float *A = malloc(s->X.rows * k * sizeof *A);
    if (A == NULL) {
        fprintf(stderr, "fashion_mnist: out of memory\n");
        return NULL;
    }
    int st = dfsae_model_forward(m, s->X.values, s->X.rows, A, NULL, NULL);
    if (st != DFSAE_OK) {
        fprintf(stderr, "fashion_mnist: forward: %s\n",
                dfsae_status_string(st));
        free(A);
        return NULL;
    }
    return A;
}

static int probe(const flags *f, const float *Atr, const split *tr,
                 const float *Ate, const split *te, size_t d, double *acc)
{
    probe_data ptr = {Atr, tr->y, tr->X.rows, d};
    probe_data pte = {Ate, te->y, te->X.rows, d};
    char msg[256];
    int iters = 0, rc;
    if (f->softmax)
        rc = probe_softmax_accuracy(&ptr, &pte, f->probe_c, acc, &iters, msg,
                                    sizeof msg);
    else
        rc = probe_accuracy(&ptr, &pte, f->probe_c, acc, msg, sizeof msg);
    if (rc != 0) {
        fprintf(stderr, "fashion_mnist: probe: %s\n", msg);
        return -1;
    }
    if (f->softmax)
        printf("probe_lbfgs_iterations: %d%s\n", iters,
               iters >= PROBE_MAX_ITER ? " (the cap: not fully converged)"
                                       : "");
    return 0;
}

static int write_picture(dfsae_model *m, const char *path, size_t th, size_t tw)
{
    size_t n = dfsae_model_num_params(m), w, h;
    float *p = malloc(n * sizeof *p);
    exdata_error err;
    int rc = -1;
    if (p != NULL && dfsae_model_get_params(m, p, n) == DFSAE_OK) {
        if (exdata_write_tiles_png(path, p, dfsae_model_num_components(m),
                                   dfsae_model_input_dim(m), th, tw, 0, 2, 2,
                                   &w, &h, &err) == 0) {
            printf("prototypes_png: %s\nprototypes_png_size: %zux%zu\n", path,
                   w, h);
            rc = 0;
        } else {
            fprintf(stderr, "fashion_mnist: %s\n", err.msg);
        }
    }
    free(p);
    return rc;
}

static int main_job(const flags *f, const split *tr, const split *te)
{
    static const double full[4] = {1, 1, 1, 0};
    dfsae_model *m = NULL;
    double secs = 0, mtr[DFSAE_METRIC_COUNT], mte[DFSAE_METRIC_COUNT];
    double acc = 0, acc_raw = 0, t0;
    float *Atr = NULL, *Ate = NULL;
    size_t k = f->components, th, tw;
    int rc = 1;

    printf("model: %zu -> %zu relu, batch %zu, Adam lr 1e-3, lambdas lse 1 "
           "var 1 tc 1 wr 0, %zu epochs, seed %llu\n",
           tr->X.cols, k, f->batch, f->epochs, (unsigned long long)f->seed);
    fflush(stdout);
    if (train_model(f, tr, full, &m, &secs) != 0)
        return 1;
    printf("training_time_s: %.2f\nseconds_per_epoch: %.3f\n", secs,
           secs / (double)f->epochs);
    if (evaluate(m, tr, mtr) != 0 || evaluate(m, te, mte) != 0)
        goto done;
    printf("dead_units_train: %.0f\ndead_units_test: %.0f\n",
           mtr[DFSAE_METRIC_DEAD_UNITS], mte[DFSAE_METRIC_DEAD_UNITS]);
    printf("l0_train: %.2f\nl0_test: %.2f\n", mtr[DFSAE_METRIC_L0],
           mte[DFSAE_METRIC_L0]);
    printf("redundancy_train: %.4g\nredundancy_test: %.4g\n",
           mtr[DFSAE_METRIC_REDUNDANCY], mte[DFSAE_METRIC_REDUNDANCY]);
    printf("resp_entropy_test: %.4g\nmax_resp_test: %.4g\n"
           "mean_activation_test: %.4g\n",
           mte[DFSAE_METRIC_RESP_ENTROPY], mte[DFSAE_METRIC_MAX_RESP],
           mte[DFSAE_METRIC_MEAN_ACTIVATION]);
    fflush(stdout);
    Atr = encode(m, tr);
    Ate = encode(m, te);
    if (Atr == NULL || Ate == NULL)
        goto done;
    t0 = now();
    printf("probe: %s, C = %g, standardised features, %zu train / %zu "
           "test images\n",
           f->softmax ? "multinomial logistic regression (L-BFGS)"
                      : "one-vs-rest logistic regression (liblinear)",
           f->probe_c, tr->X.rows, te->X.rows);
    if (probe(f, Atr, tr, Ate, te, k, &acc) != 0)
        goto done;
    printf("probe_accuracy_dfsae: %.4f\nprobe_time_dfsae_s: %.1f\n", acc,
           now() - t0);
    fflush(stdout);
    if (f->raw_probe) {
        t0 = now();
        if (probe(f, tr->X.values, tr, te->X.values, te, tr->X.cols,
                  &acc_raw) != 0)
            goto done;
        printf("probe_accuracy_raw_pixels: %.4f\nprobe_time_raw_s: %.1f\n",
               acc_raw, now() - t0);
    }
    if (tr->X.image_h == 0)
        exdata_guess_image_shape(tr->X.cols, &th, &tw);
    else {
        th = tr->X.image_h;
        tw = tr->X.image_w;
    }
    if (write_picture(m, f->out, th, tw) != 0)
        goto done;
    rc = 0;
done:
    free(Atr);
    free(Ate);
    dfsae_model_free(m);
    return rc;
}

/* The method's four objectives, by the study library's ablation: metrics
 * on the test images. */
static int ablation(const flags *f, const split *tr, const split *te)
{
    static const double full[4] = {1, 1, 1, 0};
    static const unsigned masks[4] = {
        STUDY_TERM(DFSAE_TERM_LSE),
        STUDY_TERM(DFSAE_TERM_LSE) | STUDY_TERM(DFSAE_TERM_VAR),
        STUDY_TERM(DFSAE_TERM_LSE) | STUDY_TERM(DFSAE_TERM_VAR) |
            STUDY_TERM(DFSAE_TERM_TC),
        STUDY_TERM(DFSAE_TERM_VAR) | STUDY_TERM(DFSAE_TERM_TC)};
    study_config c;
    study_ablation a;
    study_split s_tr = {tr->X.values, tr->y, tr->X.rows, tr->X.cols};
    study_split s_te = {te->X.values, te->y, te->X.rows, te->X.cols};
    char err[256];
    study_of(f, full, &c);
    memset(&a, 0, sizeof a);
    a.masks = masks;
    a.n_masks = 4;
    a.seeds = 1;
    if (study_ablate(&c, &a, &s_tr, &s_te, stdout, err, sizeof err) != 0) {
        fprintf(stderr, "fashion_mnist: %s\n", err);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    flags f;
    split tr, te;
    int rc;
    if (parse_flags(argc, argv, &f) != 0)
        return 2;
    if (load_split(f.dir, "train", f.train_limit, &tr) != 0)
        return 1;
    if (load_split(f.dir, "t10k", f.test_limit, &te) != 0) {
        free_split(&tr);
        return 1;
    }
    printf("data: %zu train, %zu test images of %zux%zu from %s\n", tr.X.rows,
           te.X.rows, tr.X.image_h, tr.X.image_w, f.dir);
    rc = f.ablation ? ablation(&f, &tr, &te) : main_job(&f, &tr, &te);
    free_split(&tr);
    free_split(&te);
    return rc;
}
