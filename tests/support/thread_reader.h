/* A read callback over a float32 array that counts its calls, and those
 * made on a thread other than the one that set it up: which thread
 * training reads a source on. */
#ifndef DFSAE_TEST_THREAD_READER_H
#define DFSAE_TEST_THREAD_READER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

typedef struct thread_reader {
    const float *X; /* rows of d floats */
    size_t d;
    pthread_t caller;
    atomic_size_t calls, off_caller;
} thread_reader;

/* Reads X's rows; the caller is the thread calling this. */
void thread_reader_init(thread_reader *rd, const float *X, size_t d);
/* A dfsae_read_fn; user is a thread_reader. */
int thread_reader_read(void *user, const size_t *rows, size_t count, void *out);

#endif
