/* The background helper (helper.h): a job slot under one mutex. */
#include <pthread.h>

#include "parallel/helper.h"

struct dfsae_helper {
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    dfsae_job_fn job; /* posted and not yet finished; NULL: idle */
    void *arg;
    int quit;
    pthread_t thread;
};

static void *helper_main(void *p)
{
    dfsae_helper *h = p;
    pthread_mutex_lock(&h->lock);
    for (;;) {
        while (h->job == NULL && !h->quit)
            pthread_cond_wait(&h->wake, &h->lock);
        if (h->job == NULL)
            break;
        dfsae_job_fn job = h->job;
        void *arg = h->arg;
        pthread_mutex_unlock(&h->lock);
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
    pthread_mutex_lock(&h->lock);
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
