/* dfsae show MODEL --out protos.png: every row of W as a tile. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int parse_shape(const char *s, size_t *h, size_t *w)
{
    char *end;
    unsigned long a, b;
    if (*s < '1' || *s > '9')
        return -1;
    a = strtoul(s, &end, 10);
    if (*end != 'x')
        return -1;
    s = end + 1;
    if (*s < '1' || *s > '9')
        return -1;
    b = strtoul(s, &end, 10);
    if (*end != '\0' || a > 100000 || b > 100000)
        return -1;
    *h = a;
    *w = b;
    return 0;
}

int cli_show(int argc, char **argv)
{
    const char *out = NULL, *shape = NULL, *pos[1];
    size_t n_pos, cols = 0, zoom = 2, gap = 2, k, d, h = 0, w = 0, pw, ph, hw;
    dfsae_model *m = NULL;
    exdata_error derr;
    float *p = NULL;
    int rc;
    cli_opt opts[] = {
        {"out", CLI_STR, &out, "FILE.png", "the picture to write (required)",
         0},
        {"shape", CLI_STR, &shape, "HxW",
         "tile shape (default: the training data's image shape, else a "
         "square, else one row)",
         0},
        {"cols", CLI_COUNT, &cols, "N", "tiles per row (default: square)", 0},
        {"zoom", CLI_SIZE, &zoom, "Z", "pixels per weight (default 2)", 0},
        {"gap", CLI_COUNT, &gap, "G", "border between tiles (default 2)", 0},
    };
    cli_cmd c = {"show",
                 "MODEL --out protos.png [options]",
                 "Render every row of W (a prototype) as a tile: negative "
                 "red, zero white, positive blue.",
                 "Each tile is scaled by its own largest |w|.",
                 opts,
                 sizeof opts / sizeof opts[0],
                 1,
                 1};
    rc = cli_parse(&c, argc, argv, pos, &n_pos);
    if (rc != 0)
        return rc > 0 ? CLI_OK : CLI_USAGE;
    if (out == NULL)
        return cli_error("show", CLI_USAGE, "--out FILE.png is required");
    if (shape != NULL && parse_shape(shape, &h, &w) != 0)
        return cli_error("show", CLI_USAGE,
                         "--shape: '%s' is not HxW (e.g. 28x28)", shape);
    rc = cli_model_load("show", pos[0], &m, NULL);
    if (rc != CLI_OK)
        return rc;
    d = dfsae_model_input_dim(m);
    k = dfsae_model_num_components(m);
    if (shape == NULL) {
        /* The training data's shape, as train recorded it. */
        const char *seen = dfsae_model_get_meta(m, CLI_META_IMAGE_SHAPE);
        if (seen == NULL || parse_shape(seen, &h, &w) != 0 ||
            !exdata_size_mul(h, w, &hw) || hw != d)
            exdata_guess_image_shape(d, &h, &w);
    }
    if (!exdata_size_mul(h, w, &hw) || hw != d) {
        rc = cli_error("show", CLI_USAGE,
                       "--shape %zux%zu does not cover the model's %zu "
                       "inputs",
                       h, w, d);
        goto done;
    }
    p = calloc(dfsae_model_num_params(m), sizeof *p);
    if (p == NULL ||
        dfsae_model_get_params(m, p, dfsae_model_num_params(m)) != DFSAE_OK) {
        rc = cli_error("show", CLI_FAIL, "out of memory");
        goto done;
    }
    if (exdata_write_tiles_png(out, p, k, d, h, w, cols, zoom, gap, &pw, &ph,
                               &derr) != 0) {
        rc = cli_error("show", CLI_FAIL, "%s", derr.msg);
        goto done;
    }
    printf("wrote %s: %zu x %zu pixels, %zu tiles of %zux%zu\n", out, pw, ph, k,
           h, w);
    rc = CLI_OK;
done:
    free(p);
    dfsae_model_free(m);
    return rc;
}
