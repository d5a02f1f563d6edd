/* Model files: the library's safetensors file holds everything the tool
 * needs, the model, the optimizer's state and the run state for --resume,
 * and the training data's image shape as the user metadata pair
 * "image_shape" = "HxW" (for show). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "dfsae_dist.h"

int cli_model_save(const char *cmd, const char *path, dfsae_model *m,
                   const dfsae_optimizer *opt)
{
    int st = dfsae_model_save(m, opt, path);
    if (st != DFSAE_OK)
        return cli_lib_error(cmd, st, dfsae_model_last_error(m), path);
    return CLI_OK;
}

int cli_model_load(const char *cmd, const char *path, dfsae_model **m,
                   dfsae_optimizer **opt)
{
    char err[DFSAE_ERROR_MESSAGE_SIZE];
    /* A file without optimizer state gives *opt == NULL: the caller
     * resumes with a fresh optimizer and says so. */
    /* A sharded model's index (dfsae-mpi, docs/distributed.md): the whole
     * model assembled on this process. */
    const char *suffix = ".index.json";
    size_t len = strlen(path), sl = strlen(suffix);
    int st =
        len > sl && strcmp(path + len - sl, suffix) == 0
            ? dfsae_model_load_shards(path, 0, 1, NULL, m, opt, err, sizeof err)
            : dfsae_model_load(path, NULL, m, opt, err, sizeof err);
    if (st != DFSAE_OK)
        return cli_error(cmd, CLI_FAIL, "%s: %s (%s)", path,
                         err[0] ? err : "cannot load the model",
                         dfsae_status_string(st));
    return CLI_OK;
}

int cli_set_image_shape(dfsae_model *m, size_t h, size_t w)
{
    char s[64];
    snprintf(s, sizeof s, "%zux%zu", h, w);
    return dfsae_model_set_meta(m, CLI_META_IMAGE_SHAPE, s);
}
