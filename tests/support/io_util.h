/* Helpers for the model-file tests: hand-built safetensors files, model
 * snapshots for "unchanged" checks, temporary directories. */
#ifndef IO_UTIL_H
#define IO_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "dfsae.h"

/* The model (and opt, may be NULL) saved to a malloc'ed buffer of *size
 * bytes; NULL if a save fails. */
unsigned char *io_save(dfsae_model *m, const dfsae_optimizer *opt,
                       size_t *size);
/* The JSON header of a saved file as a malloc'ed string. */
char *io_header_json(const unsigned char *file);

/* A safetensors file from a header text and data bytes (malloc'ed). */
unsigned char *io_build_file(const char *json, const void *data,
                             size_t data_len, size_t *out_len);

/* Everything a load may change, to compare before/after bit for bit. */
typedef struct io_snapshot {
    size_t n;
    float *params;
    double options[DFSAE_MODEL_OPTION_COUNT];
    uint64_t run[3]; /* epochs, rows, seed */
    size_t xf_n;     /* the input transform: shift then scale */
    float *xf;
    char *meta; /* every user pair: key NUL value NUL ... */
    size_t meta_len;
} io_snapshot;

void io_snapshot_take(const dfsae_model *m, io_snapshot *s);
/* 1 if the model matches the snapshot bit for bit. */
int io_snapshot_same(const dfsae_model *m, const io_snapshot *s);
void io_snapshot_free(io_snapshot *s);

/* 1 if both models have identical shapes, parameters, options, run state,
 * input transform and user metadata. */
int io_models_identical(const dfsae_model *a, const dfsae_model *b);

/* A fresh directory under $TMPDIR or /tmp (malloc'ed path). */
char *io_tempdir(void);
/* Removes the directory's files and the directory. */
void io_rmdir(const char *dir);
/* Number of entries in dir other than . and .. */
int io_count_entries(const char *dir);
/* Whole file contents (malloc'ed), NULL if unreadable. */
unsigned char *io_read_file(const char *path, size_t *len);
int io_write_file(const char *path, const void *data, size_t len);
/* dir + "/" + name (malloc'ed). */
char *io_join(const char *dir, const char *name);

/* Little deterministic generator for test data. */
float io_uniform(uint64_t *state);

#endif
