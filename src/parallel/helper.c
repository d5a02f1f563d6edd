/* The background helper (helper.h): a job slot under one mutex. */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* sched_getcpu, pthread_{get,set}affinity_np */
#endif
#include <pthread.h>
#if defined(__linux__)
#include <sched.h>
#define PLACES 1
#else
#define PLACES 0
#endif

#include "parallel/helper.h"

struct dfsae_helper {
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    dfsae_job_fn job; /* posted and not yet finished; NULL: idle */
    void *arg;
    int quit;
    int poster_cpu; /* where the job was posted from; -1: unknown */
    pthread_t thread;
#if PLACES
    cpu_set_t allowed; /* the helper's CPUs as it started */
    int have_allowed;
    int away_from; /* the CPU its affinity leaves out now; -1: none */
#endif
};

/* Moves the helper off the poster's CPU, keeping to the CPUs it started
 * with, when it may use another. Best effort: a refused affinity leaves
 * the helper where the scheduler puts it. */
static void place(dfsae_helper *h, int poster_cpu)
{
#if PLACES
    if (!h->have_allowed || poster_cpu < 0 || poster_cpu >= CPU_SETSIZE ||
        poster_cpu == h->away_from)
        return;
    cpu_set_t away = h->allowed;
    const size_t cpu = (size_t)poster_cpu;
    CPU_CLR(cpu, &away);
    if (CPU_COUNT(&away) == 0)
        return;
    if (pthread_setaffinity_np(pthread_self(), sizeof away, &away) == 0)
        h->away_from = poster_cpu;
#else
    (void)h;
    (void)poster_cpu;
#endif
}

static int current_cpu(void)
{
#if PLACES
    return sched_getcpu();
#else
    return -1;
#endif
}

static void *helper_main(void *p)
{
    dfsae_helper *h = p;
#if PLACES
    h->have_allowed = pthread_getaffinity_np(pthread_self(), sizeof h->allowed,
                                             &h->allowed) == 0;
    h->away_from = -1;
#endif
    pthread_mutex_lock(&h->lock);
    for (;;) {
        while (h->job == NULL && !h->quit)
            pthread_cond_wait(&h->wake, &h->lock);
        if (h->job == NULL)
            break;
        dfsae_job_fn job = h->job;
        void *arg = h->arg;
        const int poster_cpu = h->poster_cpu;
        pthread_mutex_unlock(&h->lock);
        place(h, poster_cpu);
        job(arg);
        pthread_mutex_lock(&h->lock);
        h->job = NULL;
        pthread_cond_signal(&h->done);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

int dfsae__helper_start(dfsae_helper **out, const dfsae_allocator *a)
{
    *out = NULL;
    dfsae_helper *h = dfsae__alloc(a, sizeof *h);
    if (h == NULL)
        return DFSAE_ERR_NO_MEMORY;
    h->job = NULL;
    h->arg = NULL;
    h->quit = 0;
    h->poster_cpu = -1;
    int made = 0;
    if (pthread_mutex_init(&h->lock, NULL) == 0)
        made = 1;
    if (made == 1 && pthread_cond_init(&h->wake, NULL) == 0)
        made = 2;
    if (made == 2 && pthread_cond_init(&h->done, NULL) == 0)
        made = 3;
    if (made == 3 && pthread_create(&h->thread, NULL, helper_main, h) == 0) {
        *out = h;
        return DFSAE_OK;
    }
    if (made >= 3)
        pthread_cond_destroy(&h->done);
    if (made >= 2)
        pthread_cond_destroy(&h->wake);
    if (made >= 1)
        pthread_mutex_destroy(&h->lock);
    dfsae__free(a, h);
    return DFSAE_ERR_THREAD;
}

void dfsae__helper_post(dfsae_helper *h, dfsae_job_fn job, void *arg)
{
    const int cpu = current_cpu();
    pthread_mutex_lock(&h->lock);
    h->poster_cpu = cpu;
    h->job = job;
    h->arg = arg;
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->lock);
}

void dfsae__helper_wait(dfsae_helper *h)
{
    pthread_mutex_lock(&h->lock);
    while (h->job != NULL)
        pthread_cond_wait(&h->done, &h->lock);
    pthread_mutex_unlock(&h->lock);
}

void dfsae__helper_stop(dfsae_helper *h, const dfsae_allocator *a)
{
    if (h == NULL)
        return;
    dfsae__helper_wait(h);
    pthread_mutex_lock(&h->lock);
    h->quit = 1;
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->lock);
    pthread_join(h->thread, NULL);
    pthread_cond_destroy(&h->done);
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->lock);
    dfsae__free(a, h);
}
