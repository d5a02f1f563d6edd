#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "api_alloc.h"

/* Each block is preceded by its size, in a header that keeps the block
 * aligned for any type. */
typedef union block_header {
    max_align_t align;
    size_t size;
} block_header;

static void *ctl_alloc(void *opaque, size_t size)
{
    api_alloc_ctl *ctl = opaque;
    if (ctl->allocs >= ctl->fail_after || size > ctl->max_bytes) {
        ctl->refused++;
        return NULL;
    }
    block_header *h = test_malloc(sizeof *h + size);
    ctl->allocs++;
    h->size = size;
    ctl->live_bytes += size;
    ctl->watch_live += ctl->watch_size != 0 && size == ctl->watch_size;
    if (ctl->live_bytes > ctl->peak_bytes)
        ctl->peak_bytes = ctl->live_bytes;
    return h + 1;
}

static void ctl_free(void *opaque, void *ptr)
{
    api_alloc_ctl *ctl = opaque;
    block_header *h = (block_header *)ptr - 1;
    ctl->frees++;
    ctl->live_bytes -= h->size;
    ctl->watch_live -= ctl->watch_size != 0 && h->size == ctl->watch_size;
    test_free(h);
}

void api_alloc_ctl_init(api_alloc_ctl *ctl)
{
    ctl->allocs = ctl->frees = ctl->refused = 0;
    ctl->live_bytes = ctl->peak_bytes = 0;
    ctl->watch_size = ctl->watch_live = 0;
    ctl->fail_after = SIZE_MAX;
    ctl->max_bytes = (size_t)1 << 30;
}

dfsae_allocator api_allocator(api_alloc_ctl *ctl)
{
    dfsae_allocator a = {ctl_alloc, ctl_free, ctl};
    return a;
}

size_t api_alloc_events(const api_alloc_ctl *ctl)
{
    return ctl->allocs + ctl->frees;
}
