/* One spec table per key space (model options, training keys, ...): a row
 * says what a key's metadata name, bounds, default and kind are and where
 * and how its value is stored, and set, get, bounds, defaults, saving and
 * loading read it. */
#ifndef DFSAE_KEYSPEC_H
#define DFSAE_KEYSPEC_H

#include <stddef.h>

enum {
    DFSAE__KIND_REAL,    /* a double in [lo, hi] */
    DFSAE__KIND_INTEGER, /* an int in [lo, hi] */
    DFSAE__KIND_ENUM,    /* an int in [lo, hi], named in files */
    DFSAE__KIND_BOOL     /* 0 or 1 */
};

/* The C type of the field a value is stored in: the kind says which values
 * a key takes, the field how it is held (a training key's integers reach
 * 2^53 and live in a table of doubles). */
enum { DFSAE__FIELD_DOUBLE, DFSAE__FIELD_INT };

typedef struct dfsae__key_spec {
    const char *meta_key; /* its key in a model file's metadata, or NULL */
    double lo, hi, def;
    int kind;
    /* ENUM: the name of value v (NULL outside [lo, hi]) and what a value
     * is, for messages ("activation") */
    const char *(*value_name)(int v);
    const char *value_noun;
    size_t offset; /* of the field holding its value */
    int field;     /* that field's type: DFSAE__FIELD_* */
} dfsae__key_spec;

/* The offset and field type of `member` of `type`, the last two entries
 * of a row: the compiler, not the table's writer, says which type it is. */
#define DFSAE__FIELD_OF(x)                                                     \
    _Generic((x), double : DFSAE__FIELD_DOUBLE, int : DFSAE__FIELD_INT)
#define DFSAE__KEY_AT(type, member)                                            \
    offsetof(type, member), DFSAE__FIELD_OF(((type *)0)->member)

/* 1 if value is one the key takes: in [lo, hi], whole unless REAL. */
int dfsae__key_valid(const dfsae__key_spec *s, double value);
/* The key's value in the struct at base, and storing a valid one. */
double dfsae__key_load(const dfsae__key_spec *s, const void *base);
void dfsae__key_store(const dfsae__key_spec *s, void *base, double value);
/* A *_bounds call's answer for spec s: UNKNOWN_PARAM when s is NULL (no
 * such key), else its range into lo and hi (either may be NULL). */
int dfsae__key_bounds(const dfsae__key_spec *s, double *lo, double *hi);

#endif
