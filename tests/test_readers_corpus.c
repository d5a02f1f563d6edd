/* Every file of the readers' fuzz seed corpus (tests/cli/corpus/<fmt>/)
 * parses with its format forced, as the fuzz targets parse it. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exdata.h"

static void replay(const char *fmt_dir, int format)
{
    char dir[1024], path[2048];
    DIR *d;
    struct dirent *e;
    int files = 0;
    snprintf(dir, sizeof dir, "%s/%s", READERS_CORPUS_DIR, fmt_dir);
    d = opendir(dir);
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        exdata data;
        exdata_error err;
        exdata_options opt;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        exdata_options_init(&opt);
        opt.format = format;
        if (exdata_load(path, &opt, &data, &err) != 0)
            fail_msg("%s", err.msg);
        assert_true(data.rows > 0 && data.cols > 0);
        exdata_free(&data);
        files++;
    }
    closedir(d);
    assert_true(files >= 3);
}

static void idx_corpus(void **state)
{
    (void)state;
    replay("idx", EXDATA_IDX);
}

static void npy_corpus(void **state)
{
    (void)state;
    replay("npy", EXDATA_NPY);
}

static void csv_corpus(void **state)
{
    (void)state;
    replay("csv", EXDATA_CSV);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(idx_corpus),
        cmocka_unit_test(npy_corpus),
        cmocka_unit_test(csv_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
