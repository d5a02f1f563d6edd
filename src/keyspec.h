/* One spec table per key space (model options, ...): a row says what a
 * key's metadata name, bounds, default and kind are and where its value
 * is stored, and set, get, bounds, defaults, saving and loading read it. */
#ifndef DFSAE_KEYSPEC_H
#define DFSAE_KEYSPEC_H

#include <stddef.h>

enum {
    DFSAE__KIND_REAL,    /* a double in [lo, hi] */
    DFSAE__KIND_INTEGER, /* an int in [lo, hi] */
    DFSAE__KIND_ENUM,    /* an int in [lo, hi], named in files */
    DFSAE__KIND_BOOL     /* an int, 0 or 1 */
};

typedef struct dfsae__key_spec {
    const char *meta_key; /* its key in a model file's metadata */
    double lo, hi, def;
    int kind;
    /* ENUM: the name of value v (NULL outside [lo, hi]) and what a value
     * is, for messages ("activation") */
    const char *(*value_name)(int v);
    const char *value_noun;
    size_t offset; /* of its field: a double for REAL, else an int */
} dfsae__key_spec;

/* 1 if value is one the key takes: in [lo, hi], whole unless REAL. */
int dfsae__key_valid(const dfsae__key_spec *s, double value);
/* The key's value in the struct at base, and storing a valid one. */
double dfsae__key_load(const dfsae__key_spec *s, const void *base);
void dfsae__key_store(const dfsae__key_spec *s, void *base, double value);

#endif
