/* One libdfsae per link namespace (see bench_lib.h). */
#define _GNU_SOURCE /* dlmopen, LM_ID_NEWLM */
#include "bench_lib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* dlsym's object pointer into a function pointer without the cast ISO C
 * leaves undefined (POSIX guarantees the representation). */
static int lookup(const bench_lib *lib, const char *name, void *fp, size_t size,
                  char *err, size_t cap)
{
    void *sym = dlsym(lib->handle, name);
    if (sym == NULL) {
        snprintf(err, cap, "%s has no symbol %s (not a libdfsae %d.x?)",
                 lib->path, name, DFSAE_VERSION_MAJOR);
        return -1;
    }
    memcpy(fp, &sym, size);
    return 0;
}

#define LOOKUP(lib, name, field)                                               \
    lookup(lib, name, &(lib)->field, sizeof(lib)->field, err, cap)

/* A directory names the build's libdfsae.so.MAJOR. A name without a slash
 * gets "./" so that dlmopen loads that file, not one on the search path. */
static int resolve(bench_lib *lib, const char *path, char *err, size_t cap)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, cap, "no such library or directory: %s", path);
        return -1;
    }
    const char *dot = strchr(path, '/') ? "" : "./";
    int len = S_ISDIR(st.st_mode)
                  ? snprintf(lib->path, sizeof lib->path, "%s%s/libdfsae.so.%d",
                             dot, path, DFSAE_VERSION_MAJOR)
                  : snprintf(lib->path, sizeof lib->path, "%s%s", dot, path);
    if (len < 0 || (size_t)len >= sizeof lib->path) {
        snprintf(err, cap, "library path too long: %s", path);
        return -1;
    }
    return 0;
}

int bench_lib_open(bench_lib *lib, const char *path, char *err, size_t cap)
{
    memset(lib, 0, sizeof *lib);
    if (resolve(lib, path, err, cap) != 0)
        return -1;
    lib->handle = dlmopen(LM_ID_NEWLM, lib->path, RTLD_NOW | RTLD_LOCAL);
    if (lib->handle == NULL) {
        snprintf(err, cap, "cannot load %s: %s", lib->path, dlerror());
        return -1;
    }
    unsigned (*version_number)(void);
    const char *(*version_string)(void);
    /* The version first: the other calls' signatures are its major's. */
    if (lookup(lib, "dfsae_version_number", &version_number,
               sizeof version_number, err, cap) != 0 ||
        lookup(lib, "dfsae_version_string", &version_string,
               sizeof version_string, err, cap) != 0)
        goto fail;
    lib->version = version_number();
    lib->version_string = version_string();
    if (lib->version / 10000 != DFSAE_VERSION_MAJOR) {
        snprintf(err, cap,
                 "%s is libdfsae %s; this program was built for %d.x "
                 "(header %s)",
                 lib->path, lib->version_string, DFSAE_VERSION_MAJOR,
                 DFSAE_VERSION_STRING);
        goto fail;
    }
    if (LOOKUP(lib, "dfsae_status_string", status_string) != 0 ||
        LOOKUP(lib, "dfsae_model_create", create) != 0 ||
        LOOKUP(lib, "dfsae_model_free", free_model) != 0 ||
        LOOKUP(lib, "dfsae_model_forward", forward) != 0 ||
        LOOKUP(lib, "dfsae_model_set_option", set_option) != 0 ||
        LOOKUP(lib, "dfsae_model_num_params", num_params) != 0 ||
        LOOKUP(lib, "dfsae_model_get_params", get_params) != 0 ||
        LOOKUP(lib, "dfsae_model_set_params", set_params) != 0)
        goto fail;
    return 0;
fail:
    bench_lib_close(lib);
    return -1;
}

void bench_lib_close(bench_lib *lib)
{
    if (lib->handle != NULL)
        dlclose(lib->handle);
    lib->handle = NULL;
}
