/* The counting read callback (thread_reader.h). */
#include "thread_reader.h"

#include <string.h>

void thread_reader_init(thread_reader *rd, const float *X, size_t d)
{
    rd->X = X;
    rd->d = d;
    rd->caller = pthread_self();
    atomic_init(&rd->calls, 0);
    atomic_init(&rd->off_caller, 0);
}

int thread_reader_read(void *user, const size_t *rows, size_t count, void *out)
{
    thread_reader *rd = user;
    atomic_fetch_add(&rd->calls, 1);
    if (!pthread_equal(pthread_self(), rd->caller))
        atomic_fetch_add(&rd->off_caller, 1);
    for (size_t i = 0; i < count; ++i)
        memcpy((float *)out + i * rd->d, rd->X + rows[i] * rd->d,
               rd->d * sizeof(float));
    return 0;
}
