/* One build of libdfsae loaded into a link namespace of its own
 * (glibc's dlmopen), so that two builds can run side by side in one
 * process: each has its own copy of libdfsae and of what it links (BLAS,
 * libc). Only the calls the A/B benchmark needs are looked up. */
#ifndef DFSAE_BENCH_LIB_H
#define DFSAE_BENCH_LIB_H

#include <stddef.h>
#include <stdint.h>

#include "dfsae.h"

typedef struct bench_lib {
    void *handle;
    char path[4096];
    unsigned version;
    const char *version_string;
    const char *(*status_string)(int);
    int (*create)(size_t, size_t, uint64_t, const dfsae_allocator *,
                  dfsae_model **);
    void (*free_model)(dfsae_model *);
    int (*forward)(const dfsae_model *, const float *, size_t, float *, float *,
                   float *);
    int (*set_option)(dfsae_model *, int, double);
    size_t (*num_params)(const dfsae_model *);
    int (*get_params)(const dfsae_model *, float *, size_t);
    int (*set_params)(dfsae_model *, const float *, size_t);
} bench_lib;

/* Loads the library at `path` (a file, or a build directory holding
 * libdfsae.so.MAJOR) and checks that its major version is the one this
 * program was compiled against. Returns 0, or -1 with the reason in err
 * (nothing left loaded). */
int bench_lib_open(bench_lib *lib, const char *path, char *err, size_t cap);
void bench_lib_close(bench_lib *lib);

#endif
