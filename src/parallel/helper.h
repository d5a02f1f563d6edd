/* One background thread that runs one job at a time for its owner: the
 * training loop fetches batch s + 1 on it while batch s trains. The owner
 * posts a job, later waits for it, and posts the next only after that;
 * the mutex hand-over orders everything the job wrote before the wait's
 * return. On Linux a job runs on a CPU other than the one it was posted
 * from, when the helper's CPUs (those it started with) hold another: the
 * poster goes on computing, and the job is meant for a core the poster
 * leaves, not to take turns with it on its own (the scheduler, seeing
 * every core busy with the BLAS's spinning threads, wakes it there). */
#ifndef DFSAE_HELPER_H
#define DFSAE_HELPER_H

#include "internal.h"

typedef struct dfsae_helper dfsae_helper;
typedef void (*dfsae_job_fn)(void *arg);

/* DFSAE_OK, DFSAE_ERR_NO_MEMORY or DFSAE_ERR_THREAD (nothing running). */
int dfsae__helper_start(dfsae_helper **out, const dfsae_allocator *a);
/* Runs job(arg) on the helper; the previous job must have been waited
 * for. */
void dfsae__helper_post(dfsae_helper *h, dfsae_job_fn job, void *arg);
/* Returns once the posted job has finished (at once if none is). */
void dfsae__helper_wait(dfsae_helper *h);
/* Waits for a posted job, then joins and frees; NULL is a no-op. */
void dfsae__helper_stop(dfsae_helper *h, const dfsae_allocator *a);

#endif
