/* A strict JSON parser for safetensors headers (RFC 8259 and nothing
 * more: no comments, trailing commas, leading zeros, lone surrogates or
 * unknown escapes). The pre-scan has already checked the UTF-8 and
 * counted the values and string bytes, so the tree takes exactly two
 * blocks from the allocator: the nodes and the decoded strings. Duplicate
 * keys are found after decoding, in n log n per object. */
#include <stdlib.h>
#include <string.h>

#include "safetensors/safetensors.h"

typedef struct parser {
    const unsigned char *s;
    size_t n, at;
    dfsae__json *nodes;
    size_t used, cap;
    char *pool;
    size_t pool_used, pool_cap;
    size_t max_members; /* largest object, for the duplicate check */
    char *err;
} parser;

static int bad(parser *p, const char *what)
{
    return dfsae__fail(p->err, DFSAE_ERR_BAD_HEADER,
                       "the header is not valid JSON: %s at byte %zu", what,
                       p->at);
}

static void skip_space(parser *p)
{
    while (p->at < p->n && (p->s[p->at] == ' ' || p->s[p->at] == '\t' ||
                            p->s[p->at] == '\n' || p->s[p->at] == '\r'))
        ++p->at;
}

static int hex4(const unsigned char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
        unsigned char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return 0;
        v = v * 16 + d;
    }
    *out = v;
    return 1;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The \u escape at p->at (pointing at the backslash): one code unit, or a
 * surrogate pair. */
static int unicode_escape(parser *p, unsigned *cp)
{
    unsigned hi, lo;
    if (p->n - p->at < 6 || !hex4(p->s + p->at + 2, &hi))
        return bad(p, "a \\u escape needs four hex digits");
    if (hi == 0)
        return bad(p, "the escape \\u0000 is not allowed");
    if (hi >= 0xDC00 && hi <= 0xDFFF)
        return bad(p, "a low surrogate escape without a high one");
    if (hi < 0xD800 || hi > 0xDBFF) {
        p->at += 6;
        *cp = hi;
        return DFSAE_OK;
    }
    if (p->n - p->at < 12 || p->s[p->at + 6] != '\\' ||
        p->s[p->at + 7] != 'u' || !hex4(p->s + p->at + 8, &lo) || lo < 0xDC00 ||
        lo > 0xDFFF)
        return bad(p, "a high surrogate escape without a low one");
    p->at += 12;
    *cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
    return DFSAE_OK;
}

/* Decodes the string at p->at (its opening quote) into the pool. */
static int string(parser *p, const char **out)
{
    ++p->at;
    char *o = p->pool + p->pool_used;
    size_t len = 0;
    for (;;) {
        if (p->at >= p->n)
            return bad(p, "a string is not terminated");
        unsigned char c = p->s[p->at];
        if (c == '"')
            break;
        if (c < 0x20)
            return bad(p, "a control character in a string");
        char bytes[4];
        size_t k = 1;
        if (c != '\\') {
            bytes[0] = (char)c;
            ++p->at;
        } else if (p->at + 1 >= p->n) {
            return bad(p, "a string is not terminated");
        } else if (p->s[p->at + 1] == 'u') {
            unsigned cp = 0;
            int st = unicode_escape(p, &cp);
            if (st != DFSAE_OK)
                return st;
            k = put_utf8(bytes, cp);
        } else {
            static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
            const char *e = memchr(from, p->s[p->at + 1], sizeof from - 1);
            if (e == NULL)
                return bad(p, "an unknown escape in a string");
            bytes[0] = to[e - from];
            p->at += 2;
        }
        /* The pre-scan sized the pool (a decoded string is never longer
         * than its text); this guards that bound. */
        if (p->pool_used + len + k + 1 > p->pool_cap)
            return bad(p, "more string bytes than the pre-scan counted");
        memcpy(o + len, bytes, k);
        len += k;
    }
    ++p->at;
    o[len] = '\0';
    p->pool_used += len + 1;
    *out = o;
    return DFSAE_OK;
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? ; a plain integer up to
 * 2^53 is kept exactly, every other number only validated. */
static int number(parser *p, dfsae__json *v)
{
    int plain = 1;
    uint64_t value = 0;
    if (p->s[p->at] == '-') {
        plain = 0;
        ++p->at;
    }
    if (p->at >= p->n || !is_digit(p->s[p->at]))
        return bad(p, "a malformed number");
    if (p->s[p->at] == '0') {
        ++p->at;
        if (p->at < p->n && is_digit(p->s[p->at]))
            return bad(p, "a number with a leading zero");
    } else {
        for (; p->at < p->n && is_digit(p->s[p->at]); ++p->at) {
            uint64_t d = (uint64_t)(p->s[p->at] - '0');
            if (value > (DFSAE__MAX_JSON_INT - d) / 10)
                plain = 0;
            else
                value = value * 10 + d;
        }
    }
    if (p->at < p->n && p->s[p->at] == '.') {
        plain = 0;
        ++p->at;
        if (p->at >= p->n || !is_digit(p->s[p->at]))
            return bad(p, "a malformed number");
        while (p->at < p->n && is_digit(p->s[p->at]))
            ++p->at;
    }
    if (p->at < p->n && (p->s[p->at] == 'e' || p->s[p->at] == 'E')) {
        plain = 0;
        ++p->at;
        if (p->at < p->n && (p->s[p->at] == '+' || p->s[p->at] == '-'))
            ++p->at;
        if (p->at >= p->n || !is_digit(p->s[p->at]))
            return bad(p, "a malformed number");
        while (p->at < p->n && is_digit(p->s[p->at]))
            ++p->at;
    }
    v->type = DFSAE__JSON_NUMBER;
    v->is_index = (unsigned char)plain;
    v->u.index = plain ? value : 0;
    return DFSAE_OK;
}

static int literal(parser *p, dfsae__json *v)
{
    static const struct {
        const char *word;
        unsigned char type;
    } words[] = {{"true", DFSAE__JSON_TRUE},
                 {"false", DFSAE__JSON_FALSE},
                 {"null", DFSAE__JSON_NULL}};
    for (size_t i = 0; i < 3; ++i) {
        size_t len = strlen(words[i].word);
        if (p->n - p->at >= len &&
            memcmp(p->s + p->at, words[i].word, len) == 0) {
            p->at += len;
            v->type = words[i].type;
            return DFSAE_OK;
        }
    }
    return bad(p, "an unexpected character");
}

static int value(parser *p, const char *key, unsigned depth);

/* An object or array at p->at; its members follow it in the node array,
 * each linked to the next. */
static int container(parser *p, dfsae__json *v, unsigned depth)
{
    int object = p->s[p->at] == '{';
    char close = object ? '}' : ']';
    v->type = object ? DFSAE__JSON_OBJECT : DFSAE__JSON_ARRAY;
    if (depth >= DFSAE__MAX_JSON_DEPTH)
        return dfsae__fail(p->err, DFSAE_ERR_BAD_HEADER,
                           "the header's JSON nests deeper than %d levels "
                           "(byte %zu)",
                           DFSAE__MAX_JSON_DEPTH, p->at);
    ++p->at;
    skip_space(p);
    if (p->at < p->n && p->s[p->at] == close) {
        ++p->at;
        return DFSAE_OK;
    }
    dfsae__json *prev = NULL;
    for (;;) {
        const char *key = NULL;
        if (object) {
            if (p->at >= p->n || p->s[p->at] != '"')
                return bad(p, "expected a member name");
            int st = string(p, &key);
            if (st != DFSAE_OK)
                return st;
            skip_space(p);
            if (p->at >= p->n || p->s[p->at] != ':')
                return bad(p, "expected ':'");
            ++p->at;
            skip_space(p);
        }
        dfsae__json *member = p->nodes + p->used;
        int st = value(p, key, depth + 1);
        if (st != DFSAE_OK)
            return st;
        if (prev != NULL)
            prev->next = member;
        prev = member;
        ++v->count;
        skip_space(p);
        if (p->at < p->n && p->s[p->at] == ',') {
            ++p->at;
            skip_space(p);
            continue;
        }
        if (p->at < p->n && p->s[p->at] == close) {
            ++p->at;
            break;
        }
        return bad(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
    if (object && v->count > p->max_members)
        p->max_members = v->count;
    return DFSAE_OK;
}

static int value(parser *p, const char *key, unsigned depth)
{
    if (p->at >= p->n)
        return bad(p, "the header ends where a value should be");
    /* The pre-scan's count bounds the values; this guards that bound. */
    if (p->used == p->cap)
        return bad(p, "more values than the pre-scan counted");
    dfsae__json *v = &p->nodes[p->used++];
    memset(v, 0, sizeof *v);
    v->key = key;
    unsigned char c = p->s[p->at];
    if (c == '{' || c == '[')
        return container(p, v, depth);
    if (c == '"') {
        v->type = DFSAE__JSON_STRING;
        return string(p, &v->u.str);
    }
    if (c == '-' || is_digit(c))
        return number(p, v);
    return literal(p, v);
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A key twice in any object is refused (after escapes are decoded: "a"
 * and "\u0061" are the same key). */
static int check_duplicates(const dfsae__json_doc *doc, size_t max_members,
                            const dfsae_allocator *a, char *err)
{
    if (max_members < 2)
        return DFSAE_OK;
    const char **keys = dfsae__alloc_array(a, max_members, sizeof *keys);
    if (keys == NULL)
        return dfsae__fail(err, DFSAE_ERR_NO_MEMORY,
                           "out of memory checking the header's JSON for "
                           "duplicate keys (%zu)",
                           max_members);
    int st = DFSAE_OK;
    for (size_t i = 0; i < doc->n_nodes && st == DFSAE_OK; ++i) {
        const dfsae__json *obj = &doc->nodes[i];
        if (obj->type != DFSAE__JSON_OBJECT || obj->count < 2)
            continue;
        size_t k = 0;
        for (const dfsae__json *c = dfsae__json_first(obj); c != NULL;
             c = c->next)
            keys[k++] = c->key;
        qsort(keys, k, sizeof *keys, cmp_key);
        for (size_t j = 1; j < k; ++j) {
            if (strcmp(keys[j - 1], keys[j]) != 0)
                continue;
            if (i == 0)
                st = dfsae__fail(err, DFSAE_ERR_DUPLICATE_KEY,
                                 "the key \"%.64s\" appears twice in the "
                                 "header",
                                 keys[j]);
            else
                st = dfsae__fail(err, DFSAE_ERR_DUPLICATE_KEY,
                                 "the key \"%.64s\" appears twice in "
                                 "\"%.64s\"",
                                 keys[j], obj->key ? obj->key : "[...]");
            break;
        }
    }
    dfsae__free(a, keys);
    return st;
}

int dfsae__json_parse(const char *text, size_t n, const dfsae_allocator *a,
                      dfsae__json_doc *doc, char *err)
{
    memset(doc, 0, sizeof *doc);
    dfsae__json_size size;
    int st = dfsae__json_prescan(text, n, &size, err);
    if (st != DFSAE_OK)
        return st;
    parser p = {
        (const unsigned char *)text, n, 0,  NULL, 0, size.values, NULL, 0,
        size.string_bytes,           0, err};
    p.nodes = dfsae__alloc_array(a, size.values, sizeof *p.nodes);
    p.pool = dfsae__alloc(a, size.string_bytes);
    doc->nodes = p.nodes;
    doc->strings = p.pool;
    if (p.nodes == NULL || p.pool == NULL) {
        dfsae__json_free(doc, a);
        return dfsae__fail(err, DFSAE_ERR_NO_MEMORY,
                           "out of memory for the header's JSON (%zu "
                           "values, %zu bytes of strings)",
                           size.values, size.string_bytes);
    }
    skip_space(&p);
    st = value(&p, NULL, 0);
    if (st == DFSAE_OK) {
        skip_space(&p);
        if (p.at < n)
            st = dfsae__fail(err, DFSAE_ERR_BAD_HEADER,
                             "the header has data after its JSON value "
                             "(byte %zu)",
                             p.at);
    }
    doc->n_nodes = p.used;
    if (st == DFSAE_OK)
        st = check_duplicates(doc, p.max_members, a, err);
    if (st != DFSAE_OK)
        dfsae__json_free(doc, a);
    return st;
}

void dfsae__json_free(dfsae__json_doc *doc, const dfsae_allocator *a)
{
    dfsae__free(a, doc->nodes);
    dfsae__free(a, doc->strings);
    memset(doc, 0, sizeof *doc);
}

const dfsae__json *dfsae__json_first(const dfsae__json *v)
{
    return v->count > 0 ? v + 1 : NULL;
}

const dfsae__json *dfsae__json_get(const dfsae__json *obj, const char *key)
{
    for (const dfsae__json *c = dfsae__json_first(obj); c != NULL; c = c->next)
        if (strcmp(c->key, key) == 0)
            return c;
    return NULL;
}
