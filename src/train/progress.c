/* Getters of the progress report handed to the callback. */
#include <math.h>

#include "train/train.h"

int dfsae_progress_event_kind(const dfsae_progress *report)
{
    return report != NULL ? report->event : -1;
}

uint64_t dfsae_progress_epoch(const dfsae_progress *report)
{
    return report != NULL ? report->epoch : 0;
}

uint64_t dfsae_progress_step(const dfsae_progress *report)
{
    return report != NULL ? report->step : 0;
}

uint64_t dfsae_progress_steps_per_epoch(const dfsae_progress *report)
{
    return report != NULL ? report->steps_per_epoch : 0;
}

uint64_t dfsae_progress_steps_done(const dfsae_progress *report)
{
    return report != NULL ? report->steps_done : 0;
}

uint64_t dfsae_progress_steps_total(const dfsae_progress *report)
{
    return report != NULL ? report->steps_total : 0;
}

double dfsae_progress_loss(const dfsae_progress *report)
{
    return report != NULL ? report->loss : NAN;
}

double dfsae_progress_term(const dfsae_progress *report, int term)
{
    if (report == NULL || term < 0 || term >= DFSAE_TERM_COUNT)
        return NAN;
    return report->terms[term];
}

size_t dfsae_progress_batch_rows(const dfsae_progress *report)
{
    return report != NULL ? report->rows : 0;
}

const size_t *dfsae_progress_batch_indices(const dfsae_progress *report)
{
    return report != NULL ? report->indices : NULL;
}

double dfsae_progress_samples_per_sec(const dfsae_progress *report)
{
    return report != NULL ? report->samples_per_sec : 0.0;
}

double dfsae_progress_elapsed(const dfsae_progress *report)
{
    return report != NULL ? report->elapsed : 0.0;
}

int dfsae_progress_converged(const dfsae_progress *report)
{
    return report != NULL ? report->converged : 0;
}
