/* Model files: the library's safetensors checkpoint (model + optimizer)
 * plus a small text companion "<MODEL>.run" with what only the tool needs
 * for --resume and show: the next epoch's index, the shuffle seed and the
 * input image shape. The model file alone is complete for every other use
 * (and for Python); a missing companion means epoch 0 and no shape. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static char *companion(const char *path)
{
    char *s = malloc(strlen(path) + 5);
    if (s != NULL)
        sprintf(s, "%s.run", path);
    return s;
}

static int write_run_state(const char *cmd, const char *path,
                           const cli_run_state *rs)
{
    char *comp = companion(path), *tmp = NULL;
    FILE *f = NULL;
    int ok = 0;
    if (comp != NULL)
        tmp = malloc(strlen(comp) + 5);
    if (tmp == NULL) {
        free(comp);
        return cli_error(cmd, CLI_FAIL, "%s: out of memory", path);
    }
    sprintf(tmp, "%s.tmp", comp);
    f = fopen(tmp, "w");
    if (f != NULL) {
        fprintf(f, "dfsae-run 1\nnext_epoch %llu\nseed %llu\nimage %zu %zu\n",
                (unsigned long long)rs->next_epoch,
                (unsigned long long)rs->seed, rs->image_h, rs->image_w);
        ok = fflush(f) == 0 && !ferror(f);
        ok = (fclose(f) == 0) && ok;
        ok = ok && rename(tmp, comp) == 0;
    }
    if (!ok) {
        int e = errno;
        remove(tmp);
        cli_error(cmd, CLI_FAIL, "%s: cannot write: %s", comp, strerror(e));
    }
    free(tmp);
    free(comp);
    return ok ? CLI_OK : CLI_FAIL;
}

/* Reads the companion if there is one; a malformed one is an error. */
static int read_run_state(const char *cmd, const char *path, cli_run_state *rs)
{
    char *comp = companion(path);
    unsigned long long e, s;
    size_t h, w;
    FILE *f;
    int n;
    memset(rs, 0, sizeof *rs);
    if (comp == NULL)
        return cli_error(cmd, CLI_FAIL, "%s: out of memory", path);
    f = fopen(comp, "r");
    if (f == NULL) {
        free(comp);
        return CLI_OK;
    }
    n = fscanf(f, "dfsae-run 1 next_epoch %llu seed %llu image %zu %zu", &e, &s,
               &h, &w);
    fclose(f);
    if (n != 4 || h > 1u << 20 || w > 1u << 20) {
        cli_error(cmd, CLI_FAIL,
                  "%s: malformed run-state file (delete it to start the "
                  "epoch count at 0)",
                  comp);
        free(comp);
        return CLI_FAIL;
    }
    free(comp);
    rs->next_epoch = e;
    rs->seed = s;
    rs->image_h = h;
    rs->image_w = w;
    return CLI_OK;
}

int cli_model_save(const char *cmd, const char *path, const dfsae_model *m,
                   const dfsae_optimizer *opt, const cli_run_state *rs)
{
    /* The library's save takes a non-const handle (it records errors). */
    dfsae_model *mm = (dfsae_model *)(uintptr_t)m;
    int st = dfsae_model_save(mm, opt, path);
    if (st != DFSAE_OK)
        return cli_lib_error(cmd, st, dfsae_model_last_error(mm), path);
    return rs != NULL ? write_run_state(cmd, path, rs) : CLI_OK;
}

int cli_model_load(const char *cmd, const char *path, dfsae_model **m,
                   dfsae_optimizer **opt, cli_run_state *rs)
{
    char err[DFSAE_ERROR_MESSAGE_SIZE];
    int st;
    *m = NULL;
    /* A file without optimizer state gives *opt == NULL: the caller
     * resumes with a fresh optimizer and says so. */
    st = dfsae_model_load(path, NULL, m, opt, err, sizeof err);
    if (st != DFSAE_OK)
        return cli_error(cmd, CLI_FAIL, "%s: %s (%s)", path,
                         err[0] ? err : "cannot load the model",
                         dfsae_status_string(st));
    if (rs != NULL && read_run_state(cmd, path, rs) != CLI_OK) {
        dfsae_model_free(*m);
        *m = NULL;
        if (opt != NULL) {
            dfsae_optimizer_free(*opt);
            *opt = NULL;
        }
        return CLI_FAIL;
    }
    return CLI_OK;
}
