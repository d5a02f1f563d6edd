/* A linear probe: one-vs-rest L2-regularised logistic regression
 * (liblinear) on standardised features, scored by test accuracy. The
 * softmax probe and the standardisation are the study library's. */
#ifndef FASHION_PROBE_H
#define FASHION_PROBE_H

#include <stddef.h>

#include "study_probe.h"

/* Standardises with the training set's mean and std, trains L2-regularised
 * logistic regression (cost C) and returns the test accuracy in *acc.
 * Returns 0, or -1 with a message in msg. */
int probe_accuracy(const probe_data *trn, const probe_data *tst, double C,
                   double *acc, char *msg, size_t msg_size);

#endif
