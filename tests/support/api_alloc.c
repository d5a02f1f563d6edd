#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "api_alloc.h"

static void *ctl_alloc(void *opaque, size_t size)
{
    api_alloc_ctl *ctl = opaque;
    if (ctl->allocs >= ctl->fail_after || size > ctl->max_bytes) {
        ctl->refused++;
        return NULL;
    }
    ctl->allocs++;
    return test_malloc(size);
}

static void ctl_free(void *opaque, void *ptr)
{
    api_alloc_ctl *ctl = opaque;
    ctl->frees++;
    test_free(ptr);
}

void api_alloc_ctl_init(api_alloc_ctl *ctl)
{
    ctl->allocs = ctl->frees = ctl->refused = 0;
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
