/* The header's JSON parser (white-box): RFC 8259 and nothing more, what it
 * builds from valid text, duplicate keys at any depth, the nesting cap,
 * and allocation failure at every point. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api_alloc.h"
#include "io/io.h"

static int parse(const char *text, dfsae__json_doc *doc, char *err)
{
    dfsae_allocator a;
    dfsae__allocator_init(&a, NULL);
    return dfsae__json_parse(text, strlen(text), &a, doc, err);
}

static void free_doc(dfsae__json_doc *doc)
{
    dfsae_allocator a;
    dfsae__allocator_init(&a, NULL);
    dfsae__json_free(doc, &a);
}

/* Each text is refused with `status`, a message holding `needle`, and
 * nothing left allocated. */
static void expect_all(const char *const *texts, size_t n, int status,
                       const char *needle)
{
    for (size_t i = 0; i < n; ++i) {
        dfsae__json_doc doc;
        char err[DFSAE_ERR_LEN] = "";
        int st = parse(texts[i], &doc, err);
        if (st != status || strstr(err, needle) == NULL)
            fail_msg("'%s': status %d, expected %d (%s)", texts[i], st, status,
                     err);
        assert_null(doc.nodes);
    }
}

static void test_rejects_what_rfc8259_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"a\":01}",
        "{\"a\":+1}",
        "{\"a\":.5}",
        "{\"a\":1.}",
        "{\"a\":1e}",
        "{\"a\":1e+}",
        "{\"a\":-}",
        "{\"a\":--1}",
        "{\"a\":NaN}",
        "{\"a\":Infinity}",
        "{\"a\":-Infinity}",
        "{\"a\":True}",
        "{\"a\":nul}",
        "{\"a\":0x10}",
        "{\"a\":1,}",
        "{\"a\":[1,]}",
        "{,}",
        "{\"a\" 1}",
        "{\"a\":1 \"b\":2}",
        "{'a':1}",
        "{a:1}",
        "{\"a\":\"\\x\"}",
        "{\"a\":\"\\u12\"}",
        "{\"a\":\"\\u12g4\"}",
        "{\"a\":\"\\ud800\"}",
        "{\"a\":\"\\udc00\"}",
        "{\"a\":\"\\ud800\\u0041\"}",
        "{\"a\":\"\\U0041\"}",
        "{\"a\":\"tab\there\"}",
        "{\"a\":\"nl\nhere\"}",
        "{\"a\":1}x",
        "{\"a\":1}{}",
        "{\"a\":1} /*c*/",
        "{\"a\":1",
        "{\"a\":\"open}",
        "{\"a\":[1,2}",
        "{\"a\":}",
        "",
        "{\"a\":\"\\u0000\"}",
    };
    expect_all(bad, sizeof bad / sizeof bad[0], DFSAE_ERR_BAD_HEADER, "header");
}

static void test_builds_the_tree(void **state)
{
    (void)state;
    const char *text = " {\"a\" : [16, -2.5e+3, 0, true, false, null, \"x\","
                       " 9007199254740992, 9007199254740993, 16.0, -0],"
                       "\"\\u00e9\\ud83d\\ude00\\n\\\"\\\\\\/\": {\"b\": {}}} ";
    dfsae__json_doc doc;
    char err[DFSAE_ERR_LEN] = "";
    assert_int_equal(parse(text, &doc, err), DFSAE_OK);
    const dfsae__json *root = &doc.nodes[0];
    assert_int_equal(root->type, DFSAE__JSON_OBJECT);
    assert_int_equal(root->count, 2);
    const dfsae__json *a = dfsae__json_get(root, "a");
    assert_non_null(a);
    assert_int_equal(a->type, DFSAE__JSON_ARRAY);
    assert_int_equal(a->count, 11);
    static const int types[] = {
        DFSAE__JSON_NUMBER, DFSAE__JSON_NUMBER, DFSAE__JSON_NUMBER,
        DFSAE__JSON_TRUE,   DFSAE__JSON_FALSE,  DFSAE__JSON_NULL,
        DFSAE__JSON_STRING, DFSAE__JSON_NUMBER, DFSAE__JSON_NUMBER,
        DFSAE__JSON_NUMBER, DFSAE__JSON_NUMBER};
    /* Only integers written as such, up to 2^53, are whole numbers. */
    static const int index[] = {1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0};
    const dfsae__json *v = dfsae__json_first(a);
    for (size_t i = 0; i < 11; ++i, v = v->next) {
        assert_non_null(v);
        assert_int_equal(v->type, types[i]);
        assert_null(v->key);
        if (v->type == DFSAE__JSON_NUMBER)
            assert_int_equal(v->is_index, index[i]);
    }
    assert_null(v);
    v = dfsae__json_first(a);
    assert_true(v->u.index == 16);
    assert_true(v->next->next->u.index == 0);
    assert_string_equal(v->next->next->next->next->next->next->u.str, "x");
    assert_true(v->next->next->next->next->next->next->next->u.index ==
                (uint64_t)1 << 53);
    /* the escapes, decoded: U+00E9, U+1F600 (a surrogate pair), \n " \ / */
    const dfsae__json *e =
        dfsae__json_get(root, "\xc3\xa9\xf0\x9f\x98\x80\n\"\\/");
    assert_non_null(e);
    assert_int_equal(e->type, DFSAE__JSON_OBJECT);
    const dfsae__json *b = dfsae__json_get(e, "b");
    assert_non_null(b);
    assert_int_equal(b->type, DFSAE__JSON_OBJECT);
    assert_int_equal(b->count, 0);
    assert_null(dfsae__json_first(b));
    assert_null(dfsae__json_get(root, "b"));
    free_doc(&doc);
}

static void test_duplicates_at_any_depth(void **state)
{
    (void)state;
    static const char *const dup[] = {
        "{\"a\":1,\"a\":2}",
        "{\"x\":{\"y\":{\"b\":1,\"c\":2,\"b\":3}}}",
        "{\"x\":[{\"k\":1},{\"k\":1,\"k\":1}]}",
        "{\"x\":{\"\\u006b\":1,\"k\":2}}",
    };
    expect_all(dup, sizeof dup / sizeof dup[0], DFSAE_ERR_DUPLICATE_KEY,
               "appears twice");
    dfsae__json_doc doc;
    char err[DFSAE_ERR_LEN];
    /* the same key in different objects is fine */
    assert_int_equal(
        parse("{\"k\":{\"k\":{\"k\":1}},\"j\":[{\"k\":1},{\"k\":2}]}", &doc,
              err),
        DFSAE_OK);
    free_doc(&doc);
}

static void test_nesting_cap(void **state)
{
    (void)state;
    char text[2 * DFSAE__MAX_JSON_DEPTH + 16];
    for (size_t depth = DFSAE__MAX_JSON_DEPTH - 1;
         depth <= DFSAE__MAX_JSON_DEPTH + 1; ++depth) {
        /* "{" then depth arrays: depth + 1 levels */
        size_t at = 0;
        text[at++] = '{';
        text[at++] = '"';
        text[at++] = 'x';
        text[at++] = '"';
        text[at++] = ':';
        memset(text + at, '[', depth);
        memset(text + at + depth, ']', depth);
        at += 2 * depth;
        text[at++] = '}';
        text[at] = '\0';
        dfsae__json_doc doc;
        char err[DFSAE_ERR_LEN] = "";
        int st = parse(text, &doc, err);
        if (depth + 1 <= DFSAE__MAX_JSON_DEPTH) {
            assert_int_equal(st, DFSAE_OK);
            free_doc(&doc);
        } else {
            assert_int_equal(st, DFSAE_ERR_BAD_HEADER);
            assert_non_null(strstr(err, "deeper"));
        }
    }
}

static void test_oom_at_every_allocation(void **state)
{
    (void)state;
    const char *text = "{\"b\":{\"k\":\"v\",\"j\":[1,2,{\"z\":null}]},"
                       "\"a\":\"\\u00e9\"}";
    size_t i = 0;
    for (;; ++i) {
        api_alloc_ctl ctl;
        api_alloc_ctl_init(&ctl);
        ctl.fail_after = i;
        dfsae_allocator a = api_allocator(&ctl);
        dfsae__json_doc doc;
        char err[DFSAE_ERR_LEN] = "";
        int st = dfsae__json_parse(text, strlen(text), &a, &doc, err);
        if (st == DFSAE_OK) {
            assert_string_equal(dfsae__json_get(&doc.nodes[0], "a")->u.str,
                                "\xc3\xa9");
            dfsae__json_free(&doc, &a);
            assert_int_equal(ctl.allocs, ctl.frees);
            break;
        }
        assert_int_equal(st, DFSAE_ERR_NO_MEMORY);
        assert_non_null(strstr(err, "JSON"));
        assert_null(doc.nodes);
        assert_int_equal(ctl.allocs, ctl.frees);
    }
    assert_true(i >= 3); /* nodes, strings, the duplicate check */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rejects_what_rfc8259_rejects),
        cmocka_unit_test(test_builds_the_tree),
        cmocka_unit_test(test_duplicates_at_any_depth),
        cmocka_unit_test(test_nesting_cap),
        cmocka_unit_test(test_oom_at_every_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
