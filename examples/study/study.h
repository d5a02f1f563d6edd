/* Studies of the method's configurations, shared by the `dfsae` tool
 * (dfsae ablate) and the Fashion-MNIST example (--ablation): train one
 * configuration, measure it on held-out rows (the metrics, a linear
 * probe), and the ablation over combinations of loss terms. */
#ifndef DFSAE_STUDY_H
#define DFSAE_STUDY_H

#include <stdint.h>
#include <stdio.h>

#include "dfsae.h"

/* n x d row-major rows and, optionally, their labels (y may be NULL). */
typedef struct study_split {
    const float *X;
    const int *y;
    size_t n, d;
} study_split;

/* One training configuration. */
typedef struct study_config {
    size_t components, epochs, batch;
    uint64_t seed; /* initialisation and shuffling */
    int activation;
    double temperature; /* softmax's T */
    int wr_form;        /* dfsae_wr_form */
    double lambda[DFSAE_TERM_COUNT];
    int optimizer;       /* dfsae_optimizer_kind */
    double lr;           /* <= 0: the optimizer's default */
    double weight_decay; /* < 0: the optimizer's default */
    double tolerance;    /* convergence (0: off) ... */
    size_t patience;     /* ... for this many epochs */
    double var_cap;      /* DFSAE_MODEL_VAR_CAP (0: off) */
    double max_row_norm; /* DFSAE_MODEL_MAX_ROW_NORM (0: off) */
    /* |b_k| <= this after every step (0: off): trains with a loop of the
     * study's own (study_projected.h), without the convergence rule. */
    double max_bias;
    double probe_c; /* the probe's inverse regularisation */
    int quiet;      /* no per-epoch lines on stderr */
} study_config;

/* The published configuration: 64 components, relu, 20 epochs of batches
 * of 128, Adam 1e-3, lambdas 1/1/1/0, seed 0, probe C = 1. */
void study_config_defaults(study_config *c);

/* What one run gave. */
typedef struct study_result {
    double metrics[DFSAE_METRIC_COUNT];   /* on the evaluation rows */
    double probe_accuracy;                /* NaN without labels */
    double final_loss;                    /* the last epoch's mean loss */
    uint64_t epochs_run, converged_epoch; /* 1-based; 0: did not converge */
    double seconds;                       /* training time */
} study_result;

/* Trains a model with configuration c on tr (stderr shows one line per
 * epoch, prefixed with `tag`, unless c->quiet). On success *out owns the
 * model (out may be NULL: the model is freed) and r holds the training
 * fields. Returns 0, or -1 with a message in err. */
int study_train(const study_config *c, const study_split *tr, const char *tag,
                dfsae_model **out, study_result *r, char *err, size_t err_size);

/* The metrics of m on ev and, when tr and ev both have labels, the
 * accuracy on ev of a probe fitted on tr's features. */
int study_measure(dfsae_model *m, const study_config *c, const study_split *tr,
                  const study_split *ev, study_result *r, char *err,
                  size_t err_size);

/* m's features of the n x d rows X (n x K floats, malloc'd), or NULL. */
float *study_features(const dfsae_model *m, const float *X, size_t n);

/* ---- Ablation ----------------------------------------------------------- */

/* Sets of loss terms are bit masks: bit t is dfsae_term t. */
#define STUDY_TERM(t) (1u << (t))

typedef struct study_ablation {
    unsigned terms; /* every subset of these ... */
    unsigned fixed; /* ... together with these (always on) */
    /* Or an explicit list of term sets (then terms and fixed are unused). */
    const unsigned *masks;
    size_t n_masks;
    size_t seeds; /* seeds c->seed, c->seed + 1, ...: mean and spread */
    int markdown; /* print a Markdown table */
    int per_seed; /* also one line per seed */
} study_ablation;

/* Parses "lse,var,tc" into a mask; "" is 0. Returns 0, or -1 for an
 * unknown name. */
int study_parse_terms(const char *list, unsigned *mask);

/* "lse+var+tc" ("none" for 0) into buf. */
void study_terms_name(unsigned mask, char *buf, size_t size);

/* Trains every term set of a (the same seed, the same data order for
 * each) with the other settings of c, measures each on ev (and the probe,
 * with labels) and prints one table to out. A term set that fails to train
 * (e.g. a NaN) is reported in its row and does not stop the others.
 * Returns 0, or -1 with a message in err (nothing trainable, no memory). */
int study_ablate(const study_config *c, const study_ablation *a,
                 const study_split *tr, const study_split *ev, FILE *out,
                 char *err, size_t err_size);

#endif
