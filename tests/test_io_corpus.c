/* Replays the fuzzer's committed inputs through every load entry point:
 * tests/io/corpus (seeds, which must load) and tests/io/regress (inputs
 * that once crashed or misbehaved, each with the status it must give,
 * encoded in its name as "<status>-<what>", e.g. "m14-bad-json"). */
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

#include "dfsae.h"
#include "fixture.h"
#include "io_util.h"

/* Returns the model-only load's status; the load with the optimizer must
 * agree (a file without optimizer state gives no optimizer). */
static int load_all_ways(void **state, const unsigned char *data, size_t len)
{
    char err[DFSAE_ERROR_MESSAGE_SIZE];
    dfsae_model **m = fx_model_slot(state);
    dfsae_optimizer **o = fx_optimizer_slot(state);
    int st = dfsae_model_load_buffer(data, len, NULL, m, NULL, err, sizeof err);
    fx_drop(state, *m);
    m = fx_model_slot(state);
    int st2 = dfsae_model_load_buffer(data, len, NULL, m, o, err, sizeof err);
    assert_int_equal(st2, st);
    fx_drop(state, *o);
    fx_drop(state, *m);
    return st;
}

static void close_dir(void *d)
{
    closedir(d);
}

static void replay(void **state, const char *dir, int seeds)
{
    DIR *d = fx_keep_with(state, opendir(dir), close_dir);
    if (d == NULL) {
        assert_false(seeds); /* the seed directory must exist */
        return;
    }
    struct dirent *e;
    int count = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strstr(e->d_name, ".md") != NULL)
            continue;
        char *path = fx_join(state, dir, e->d_name);
        size_t len = 0;
        unsigned char *data = fx_keep(state, io_read_file(path, &len));
        assert_non_null(data);
        int st = load_all_ways(state, data, len);
        if (seeds && st != DFSAE_OK)
            fail_msg("seed %s does not load: %d", e->d_name, st);
        if (!seeds && e->d_name[0] == 'm') {
            int want = -atoi(e->d_name + 1);
            if (st != want)
                fail_msg("%s: status %d, expected %d", e->d_name, st, want);
        }
        fx_drop(state, data);
        fx_drop(state, path);
        ++count;
    }
    fx_drop(state, d);
    if (seeds)
        assert_true(count >= 4);
}

static void test_corpus(void **state)
{
    char dirs[] = IO_CORPUS_DIRS;
    char *sep = strchr(dirs, ':');
    *sep = '\0';
    replay(state, dirs, 1);
    replay(state, sep + 1, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {FIXTURE_TEST(test_corpus)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
