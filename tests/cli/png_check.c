/* png_check FILE WIDTH HEIGHT: exit 0 if FILE is a complete, decodable
 * PNG of that size; otherwise one line saying what is wrong, exit 1. */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    png_image img = {0};
    unsigned long w, h;
    void *px;
    if (argc != 4) {
        fprintf(stderr, "usage: png_check FILE WIDTH HEIGHT\n");
        return 2;
    }
    w = strtoul(argv[2], NULL, 10);
    h = strtoul(argv[3], NULL, 10);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, argv[1])) {
        fprintf(stderr, "png_check: %s: %s\n", argv[1], img.message);
        return 1;
    }
    img.format = PNG_FORMAT_RGB;
    px = malloc(PNG_IMAGE_SIZE(img));
    if (px == NULL || !png_image_finish_read(&img, NULL, px, 0, NULL)) {
        fprintf(stderr, "png_check: %s: cannot decode: %s\n", argv[1],
                img.message);
        free(px);
        return 1;
    }
    free(px);
    if (img.width != w || img.height != h) {
        fprintf(stderr, "png_check: %s is %ux%u, expected %lux%lu\n", argv[1],
                img.width, img.height, w, h);
        return 1;
    }
    printf("png_check: %s: valid %ux%u PNG\n", argv[1], img.width, img.height);
    return 0;
}
