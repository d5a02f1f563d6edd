/* Test allocators for the API tests: every block goes through cmocka's
 * test_malloc/test_free (per-test leak and overrun checks), with counters
 * and fault injection on top. */
#ifndef API_ALLOC_H
#define API_ALLOC_H

#include <stddef.h>

#include "dfsae.h"

typedef struct api_alloc_ctl {
    size_t allocs;     /* requests that returned memory */
    size_t frees;      /* blocks given back */
    size_t refused;    /* requests answered with NULL */
    size_t fail_after; /* successful allocations allowed; SIZE_MAX = all */
    size_t max_bytes;  /* larger requests are refused (keeps absurd sizes
                          away from test_malloc, which fails on NULL) */
    size_t live_bytes; /* bytes handed out and not yet given back */
    size_t peak_bytes; /* the most live_bytes has been */
    size_t watch_size; /* bytes of the blocks counted in watch_live; 0 off */
    size_t watch_live; /* live blocks of exactly watch_size bytes */
} api_alloc_ctl;

/* Counters at zero, no failure injected, requests above 1 GiB refused. */
void api_alloc_ctl_init(api_alloc_ctl *ctl);

/* An allocator reporting to `ctl` (which must outlive every handle). */
dfsae_allocator api_allocator(api_alloc_ctl *ctl);

/* Allocations and frees so far, for "nothing happened since" checks. */
size_t api_alloc_events(const api_alloc_ctl *ctl);

#endif
