/* The data sources behind dfsae_model_train_source and
 * dfsae_model_evaluate_source: an array in memory (or mapped by the
 * caller) or a read callback, of float32, float16 or bfloat16 rows that are
 * handed out as float32 batches. */
#ifndef DFSAE_DATA_SOURCE_H
#define DFSAE_DATA_SOURCE_H

#include <stddef.h>

#include "data/half.h"
#include "internal.h"

/* Rows a callback is asked for at once (its staging buffer's size). */
#define DFSAE__SOURCE_PIECE 256

struct dfsae_source {
    dfsae_allocator alloc;
    int element;         /* dfsae_element */
    dfsae__widen_fn f16; /* the float16 loop for this CPU */
    size_t n, d;
    const void *array;  /* array sources; NULL for callbacks */
    dfsae_read_fn read; /* callback sources */
    void *user;
    int sequential; /* the callback reads contiguous runs only */
    int parallel;   /* the callback may run on two threads at once
                       (dfsae_source_set_parallel_reads) */
    void *staging;  /* PIECE x d elements for a half-precision callback */
    int owned;      /* allocated by a constructor (a stack view is not) */
};

/* An array (possibly empty, with array NULL), not a callback. */
static inline int dfsae__source_is_array(const dfsae_source *s)
{
    return s->read == NULL;
}

/* Whether two threads may gather rows of it at once: an array's are only
 * read, a callback's when its host said it may be called so. */
static inline int dfsae__source_reads_in_parallel(const dfsae_source *s)
{
    return s->read == NULL || s->parallel;
}

/* A float32 array: batches in order are used in place. */
static inline int dfsae__source_in_place(const dfsae_source *s)
{
    return s->read == NULL && s->element == DFSAE_ELEM_F32;
}

/* A float32 array source over caller memory, without allocating (the
 * float-array entry points build one on the stack). */
void dfsae__source_view(dfsae_source *s, const float *X, size_t n, size_t d);

/* Rows rows[0..count) of the source into out (count x d floats). The
 * caller checked the indices. On failure err says why. When `view` is
 * non-NULL and the rows are consecutive rows of a float32 array, *view
 * points into the array and nothing is copied; otherwise *view = out.
 * When `check` is non-NULL, a callback's rows are checked as they are
 * converted (an array's were checked whole): an Inf or NaN gives
 * NON_FINITE_INPUT, err naming the source's row after the prefix `check`,
 * as dfsae__rows_check_read does, once all the rows are read. */
int dfsae__source_gather(dfsae_source *s, const size_t *rows, size_t count,
                         float *out, const float **view, const char *check,
                         char *err);

/* Rows [first, first + count), as dfsae__source_gather. */
int dfsae__source_range(dfsae_source *s, size_t first, size_t count, float *out,
                        const float **view, const char *check, char *err);

/* Index of the first non-finite element of an array source (element
 * index, row-major), or n * d if all are finite; n * d for callbacks,
 * whose rows are checked as they are read. */
size_t dfsae__source_first_non_finite(const dfsae_source *s);

/* What a set of rows must be before a model of d inputs reads it. */
typedef struct dfsae__rows_rule {
    const char *fn;     /* the call, prefixing messages ("train") */
    const char *what;   /* the rows, in messages: "batch", "data set" */
    size_t d;           /* values per row the model takes */
    size_t k;           /* outputs per row the call addresses (0: none) */
    int may_be_empty;   /* a data-parallel rank may hold no rows */
    int needs_variance; /* at least 2 rows */
    int one_product;    /* BLAS takes all rows at once: n fits an int */
} dfsae__rows_rule;

/* In this order: not empty (INVALID_ARG), rows of d values
 * (SIZE_MISMATCH), 2 rows for a variance (BATCH_TOO_SMALL), n x d and
 * n x k floats addressable and n within int for one product
 * (SIZE_OVERFLOW), an array's values finite (NON_FINITE_INPUT; a
 * callback's rows are checked as they are read). DFSAE_OK, or the status
 * with err (DFSAE_ERR_LEN bytes) saying why. */
int dfsae__rows_check(const dfsae_source *src, const dfsae__rows_rule *r,
                      char *err);
/* The same finiteness rule for a callback's rows once in a batch (an
 * array's were checked whole; rows read with a `check` were checked as
 * they arrived): Xb holds `rows` rows of the source,
 * source_rows[i] being the source's index of row i (NULL: first + i).
 * DFSAE_OK, or NON_FINITE_INPUT with err naming the source's row after
 * `prefix`. */
int dfsae__rows_check_read(const dfsae_source *src, const float *Xb,
                           size_t rows, const size_t *source_rows, size_t first,
                           const char *prefix, char *err);
/* NON_FINITE_INPUT, err saying that `row` of the source is not finite at
 * column `col` (after `prefix`). */
int dfsae__fail_non_finite_row(char *err, const char *prefix, size_t row,
                               size_t col);

#endif
