/* The progress report's one keyed getter. */
#include <math.h>

#include "train/train.h"

double dfsae_progress_get(const dfsae_progress *report, int key)
{
    if (report == NULL)
        return NAN;
    if (key >= DFSAE_PROGRESS_TERM_LSE &&
        key < DFSAE_PROGRESS_TERM_LSE + DFSAE_TERM_COUNT)
        return report->terms[key - DFSAE_PROGRESS_TERM_LSE];
    switch (key) {
    case DFSAE_PROGRESS_EVENT: return report->event;
    case DFSAE_PROGRESS_EPOCH: return (double)report->epoch;
    case DFSAE_PROGRESS_STEP: return (double)report->step;
    case DFSAE_PROGRESS_STEPS_PER_EPOCH: return (double)report->steps_per_epoch;
    case DFSAE_PROGRESS_STEPS_DONE: return (double)report->steps_done;
    case DFSAE_PROGRESS_STEPS_TOTAL: return (double)report->steps_total;
    case DFSAE_PROGRESS_LOSS: return report->loss;
    case DFSAE_PROGRESS_BATCH_ROWS: return (double)report->rows;
    case DFSAE_PROGRESS_SAMPLES_PER_SEC: return report->samples_per_sec;
    case DFSAE_PROGRESS_ELAPSED: return report->elapsed;
    case DFSAE_PROGRESS_CONVERGED: return report->converged;
    case DFSAE_PROGRESS_FETCHED_AHEAD: return (double)report->fetched_ahead;
    default: return NAN;
    }
}

const size_t *dfsae_progress_batch_indices(const dfsae_progress *report)
{
    return report != NULL ? report->indices : NULL;
}
