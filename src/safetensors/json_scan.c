/* A pass over the header before the parser (json.c) sees it: invalid
 * UTF-8, raw control bytes, "\u0000" escapes (a NUL would cut a key short,
 * so "weight\u0000x" would read as "weight"), and a value count that could
 * exhaust memory. It also measures what the parser will allocate. */
#include "safetensors/safetensors.h"

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. Rejects
 * overlong forms, surrogates and code points above U+10FFFF. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; ++i)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

static int hex_zero4(const unsigned char *s, size_t left)
{
    return left >= 4 && s[0] == '0' && s[1] == '0' && s[2] == '0' &&
           s[3] == '0';
}

int dfsae__json_prescan(const char *text, size_t n, dfsae__json_size *size,
                        char *err)
{
    const unsigned char *s = (const unsigned char *)text;
    int in_string = 0;
    size_t tokens = 1, string_bytes = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            return dfsae__fail(err, DFSAE_ERR_BAD_HEADER,
                               "header byte %zu is the control character "
                               "0x%02x",
                               i, c);
        if (c >= 0x80) {
            size_t len = utf8_len(s + i, n - i);
            if (len == 0)
                return dfsae__fail(err, DFSAE_ERR_BAD_HEADER,
                                   "header byte %zu starts an invalid "
                                   "UTF-8 sequence",
                                   i);
            i += len;
            string_bytes += len;
            continue;
        }
        if (in_string) {
            ++string_bytes;
            if (c == '\\') {
                if (i + 1 < n && s[i + 1] == 'u' &&
                    hex_zero4(s + i + 2, n - (i + 2)))
                    return dfsae__fail(err, DFSAE_ERR_BAD_HEADER,
                                       "header byte %zu: the escape "
                                       "\\u0000 is not allowed",
                                       i);
                /* the escaped character is plain ASCII or 'u' */
                string_bytes += i + 1 < n ? 1 : 0;
                i += 2;
                continue;
            }
            if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
            ++string_bytes; /* room for the decoded string's NUL */
        } else if (c == '{' || c == '[' || c == ',' || c == ':') {
            if (++tokens > DFSAE__MAX_JSON_TOKENS)
                return dfsae__fail(err, DFSAE_ERR_HEADER_TOO_LARGE,
                                   "the header has more than %zu JSON "
                                   "values",
                                   DFSAE__MAX_JSON_TOKENS);
        }
        ++i;
    }
    /* Every value but the first follows a ':', '[' or ',': the tokens
     * bound the values. */
    size->values = tokens;
    size->string_bytes = string_bytes;
    return DFSAE_OK;
}
