/* Training with the bias clipped after every optimizer step (the remedy
 * of docs/method.md section 7 that is not a model option). */
#ifndef DFSAE_STUDY_PROJECTED_H
#define DFSAE_STUDY_PROJECTED_H

#include "study.h"

/* Called after each epoch with its 1-based index, the mean of its steps'
 * losses and of their terms (DFSAE_TERM_COUNT values). */
typedef void (*study_epoch_fn)(void *user, uint64_t epoch, double loss,
                               const double *terms);

/* c->epochs epochs of batches of c->batch rows over tr (a last partial
 * batch kept, a final batch of one row merged into the one before), in an
 * order shuffled every epoch by the study's own generator from (c->seed,
 * epoch), not dfsae_model_train's. After each dfsae_train_step b is
 * clipped to [-c->max_bias, c->max_bias]. Returns a dfsae status,
 * with the model's or optimizer's message on failure. */
int study_train_projected(dfsae_model *m, dfsae_optimizer *o,
                          const study_config *c, const study_split *tr,
                          study_epoch_fn on_epoch, void *user);

#endif
