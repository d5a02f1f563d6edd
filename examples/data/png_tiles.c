/* The prototype picture: each row of W as a tile, diverging colours. */
#include <errno.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_internal.h"

void exdata_guess_image_shape(size_t d, size_t *h, size_t *w)
{
    size_t s = (size_t)floor(sqrt((double)d) + 0.5);
    if (s * s == d) {
        *h = s;
        *w = s;
    } else {
        *h = 1;
        *w = d;
    }
}

/* v in [-1, 1]: -1 red, 0 white, +1 blue. */
static void colour(float v, png_byte rgb[3])
{
    float t = fabsf(v) > 1.0f ? 1.0f : fabsf(v);
    png_byte fade = (png_byte)lrintf(255.0f * (1.0f - t));
    if (v < 0) {
        rgb[0] = 255;
        rgb[1] = fade;
        rgb[2] = fade;
    } else {
        rgb[0] = fade;
        rgb[1] = fade;
        rgb[2] = 255;
    }
}

/* Larger pictures are refused (a side of 20000 pixels is plenty). */
#define PICTURE_MAX 20000

/* Pixels along one side: n tiles of `tile` weights, each enlarged `zoom`
 * times, with a `gap`-pixel border around and between them; SIZE_MAX when
 * that does not fit a size_t. */
static size_t extent(size_t n, size_t tile, size_t zoom, size_t gap)
{
    size_t cell = exdata__sat_add(exdata__sat_mul(tile, zoom), gap);
    return exdata__sat_add(exdata__sat_mul(n, cell), gap);
}

static const char *size_text(size_t v, char *buf, size_t cap)
{
    if (v == SIZE_MAX)
        snprintf(buf, cap, "more than %zu", SIZE_MAX - 1);
    else
        snprintf(buf, cap, "%zu", v);
    return buf;
}

typedef struct png_job {
    exdata_output out;
    int opened;
    png_structp png;
    png_infop info;
    png_bytep row;
} png_job;

static void cleanup(png_job *j)
{
    if (j->png != NULL)
        png_destroy_write_struct(&j->png, &j->info);
    free(j->row);
    if (j->opened)
        exdata_output_abort(&j->out);
}

typedef struct layout {
    const float *W;
    const float *scale;
    size_t k, d, th, tw, cols, zoom, gap, width, height;
} layout;

static void render_row(png_bytep row, const layout *L, size_t y)
{
    size_t cell_h = L->th * L->zoom + L->gap;
    size_t cell_w = L->tw * L->zoom + L->gap;
    size_t gy, in_y;
    memset(row, 128, L->width * 3); /* grey borders */
    if (y < L->gap)
        return;
    gy = (y - L->gap) / cell_h;
    in_y = (y - L->gap) % cell_h;
    if (in_y >= L->th * L->zoom)
        return;
    for (size_t gx = 0; gx < L->cols; gx++) {
        size_t t = gy * L->cols + gx;
        const float *w;
        if (t >= L->k)
            break;
        w = L->W + t * L->d + (in_y / L->zoom) * L->tw;
        for (size_t x = 0; x < L->tw * L->zoom; x++) {
            png_byte *px = row + 3 * (L->gap + gx * cell_w + x);
            colour(w[x / L->zoom] * L->scale[t], px);
        }
    }
}

/* The libpng part, alone so that nothing it uses changes after setjmp. */
static int emit(png_job *j, const layout *L)
{
    if (setjmp(png_jmpbuf(j->png)))
        return -1;
    png_init_io(j->png, j->out.file);
    png_set_IHDR(j->png, j->info, (png_uint_32)L->width, (png_uint_32)L->height,
                 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(j->png, j->info);
    for (size_t y = 0; y < L->height; y++) {
        render_row(j->row, L, y);
        png_write_row(j->png, j->row);
    }
    png_write_end(j->png, NULL);
    return 0;
}

int exdata_write_tiles_png(const char *path, const float *W, size_t k, size_t d,
                           size_t tile_h, size_t tile_w, size_t cols,
                           size_t zoom, size_t gap, size_t *out_w,
                           size_t *out_h, exdata_error *err)
{
    png_job j;
    layout L;
    float *scale;
    size_t rows, width, height, cells;

    memset(&j, 0, sizeof j);
    if (W == NULL || k == 0 || d == 0 || zoom == 0 ||
        !exdata_size_mul(tile_h, tile_w, &cells) || cells != d)
        return exdata__fail(err, path,
                            "tile shape %zu x %zu does not match %zu "
                            "inputs",
                            tile_h, tile_w, d);
    if (cols == 0)
        cols = (size_t)ceil(sqrt((double)k));
    if (cols > k)
        cols = k;
    rows = (k + cols - 1) / cols;
    width = extent(cols, tile_w, zoom, gap);
    height = extent(rows, tile_h, zoom, gap);
    if (width > PICTURE_MAX || height > PICTURE_MAX) {
        char w_s[32], h_s[32];
        return exdata__fail(err, path,
                            "picture too large: %s x %s pixels (at most "
                            "%d x %d); lower --zoom or --gap, or choose "
                            "--cols",
                            size_text(width, w_s, sizeof w_s),
                            size_text(height, h_s, sizeof h_s), PICTURE_MAX,
                            PICTURE_MAX);
    }
    scale = calloc(k, sizeof *scale);
    if (scale == NULL)
        return exdata__fail(err, path, "out of memory");
    /* Each tile on its own scale: the shape matters, not the norm. */
    for (size_t t = 0; t < k; t++) {
        float m = 0;
        for (size_t i = 0; i < d; i++)
            m = fmaxf(m, fabsf(W[t * d + i]));
        scale[t] = m > 0 ? 1.0f / m : 0.0f;
    }
    j.row = malloc(width * 3);
    if (j.row == NULL) {
        free(scale);
        return exdata__fail(err, path, "out of memory");
    }
    if (exdata_output_open(&j.out, path, err) != 0) {
        free(scale);
        cleanup(&j);
        return -1;
    }
    j.opened = 1;
    j.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    if (j.png != NULL)
        j.info = png_create_info_struct(j.png);
    if (j.png == NULL || j.info == NULL) {
        free(scale);
        cleanup(&j);
        return exdata__fail(err, path, "libpng initialisation failed");
    }
    L.W = W;
    L.scale = scale;
    L.k = k;
    L.d = d;
    L.th = tile_h;
    L.tw = tile_w;
    L.cols = cols;
    L.zoom = zoom;
    L.gap = gap;
    L.width = width;
    L.height = height;
    if (emit(&j, &L) != 0) {
        int e = errno;
        int io = ferror(j.out.file);
        free(scale);
        cleanup(&j);
        if (io)
            return exdata__fail(err, path, "write error: %s", strerror(e));
        return exdata__fail(err, path, "libpng failed while writing");
    }
    free(scale);
    png_destroy_write_struct(&j.png, &j.info);
    free(j.row);
    if (exdata_output_commit(&j.out, err) != 0)
        return -1;
    if (out_w != NULL)
        *out_w = width;
    if (out_h != NULL)
        *out_h = height;
    return 0;
}
