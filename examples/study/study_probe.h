/* Linear probes on learned features: standardisation with the training
 * split's statistics, and multinomial logistic regression by L-BFGS
 * (shared by the `dfsae` tool and the Fashion-MNIST example). */
#ifndef DFSAE_STUDY_PROBE_H
#define DFSAE_STUDY_PROBE_H

#include <stddef.h>

typedef struct probe_data {
    const float *X; /* n x d row-major */
    const int *y;   /* n labels */
    size_t n, d;
} probe_data;

/* The L-BFGS iteration cap (pixels, nearly separable, reach it). */
#define PROBE_MAX_ITER 500

/* Multinomial logistic regression (softmax, L2 on the weights with
 * inverse strength C, intercept unpenalised) fitted by L-BFGS on
 * standardised features; *iters receives the iterations taken. Labels
 * are 0..63. Returns 0, or -1 with a message in msg. */
int probe_softmax_accuracy(const probe_data *trn, const probe_data *tst,
                           double C, double *acc, int *iters, char *msg,
                           size_t msg_size);

/* The training set's per-feature mean and 1/std (0 for a constant
 * feature), in double. */
void probe_standardise(const probe_data *trn, double *mean, double *inv_std);

#endif
