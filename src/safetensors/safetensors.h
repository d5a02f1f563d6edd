/* Safetensors files, with nothing of dfsae's handles: strict JSON, the
 * header's layout parsed and validated, writing from a list of named F32
 * tensors and metadata pairs, byte sources over a file or a buffer, atomic
 * replacement of a file, little-endian and locale-independent numbers.
 * docs/format.md describes the format. */
#ifndef DFSAE_SAFETENSORS_H
#define DFSAE_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* ---- Limits ------------------------------------------------------------ */

/* Values, commas and colons outside strings in a header: bounds the parsed
 * tree (32 bytes a value) however the 100 MB header is spent. */
#define DFSAE__MAX_JSON_TOKENS ((size_t)1 << 20)
/* Offsets and dimensions: integers up to 2^53 (exact in any JSON reader
 * that uses doubles, such as Python's json for floats). */
#define DFSAE__MAX_JSON_INT ((uint64_t)1 << 53)
/* Objects and arrays inside one another; a safetensors header needs 3. */
#define DFSAE__MAX_JSON_DEPTH 64
/* Longest formatted number (%.17g of a double, or a uint64). */
#define DFSAE__NUM_LEN 40

/* ---- Little-endian float32 (endian.c) ---------------------------------- */

void dfsae__f32_from_le(float *dst, const unsigned char *src, size_t n);
void dfsae__f32_to_le(unsigned char *dst, const float *src, size_t n);
uint64_t dfsae__u64_from_le(const unsigned char src[8]);
void dfsae__u64_to_le(unsigned char dst[8], uint64_t v);

/* ---- Locale-independent numbers (numtext.c) ---------------------------- */

/* "%.17g" with '.' as the decimal point whatever the C locale says. */
void dfsae__format_double(char out[DFSAE__NUM_LEN], double v);
/* Parses a whole string of the form -?digits(.digits)?([eE][+-]?digits)?
 * into a finite double; returns 0 if the string is anything else. */
int dfsae__parse_double(const char *s, double *out);
/* Parses a whole string of decimal digits without overflow. */
int dfsae__parse_u64(const char *s, uint64_t *out);

/* ---- Header scan (json_scan.c) ----------------------------------------- */

/* What parsing a header will allocate. */
typedef struct dfsae__json_size {
    size_t values;       /* an upper bound on the JSON values */
    size_t string_bytes; /* an upper bound on the decoded strings + NULs */
} dfsae__json_size;

/* Checks valid UTF-8, no control bytes other than JSON whitespace, no
 * "\u0000" escape (it would cut a key short), and at most
 * DFSAE__MAX_JSON_TOKENS structural tokens; measures *size. */
int dfsae__json_prescan(const char *s, size_t n, dfsae__json_size *size,
                        char *err);

/* ---- Strict JSON (json.c) ---------------------------------------------- */

enum {
    DFSAE__JSON_NULL,
    DFSAE__JSON_FALSE,
    DFSAE__JSON_TRUE,
    DFSAE__JSON_NUMBER,
    DFSAE__JSON_STRING,
    DFSAE__JSON_ARRAY,
    DFSAE__JSON_OBJECT
};

/* One value. The nodes are in document order: an array's or object's
 * first member is the node after it, the others follow `next`. */
typedef struct dfsae__json {
    const char *key; /* member name in an object, else NULL */
    union {
        const char *str; /* STRING: decoded UTF-8, NUL-terminated */
        uint64_t index;  /* NUMBER with is_index */
    } u;
    const struct dfsae__json *next; /* next member of the parent, or NULL */
    uint32_t count;                 /* ARRAY, OBJECT: number of members */
    unsigned char type;
    unsigned char is_index; /* NUMBER written as an integer in [0, 2^53] */
} dfsae__json;

typedef struct dfsae__json_doc {
    dfsae__json *nodes; /* nodes[0] is the top-level value */
    size_t n_nodes;
    char *strings;
} dfsae__json_doc;

/* Parses n bytes (not NUL-terminated) as one JSON value with optional
 * whitespace around it, and refuses any object with a repeated key. Every
 * allocation goes through `a`; on success dfsae__json_free releases it. */
int dfsae__json_parse(const char *text, size_t n, const dfsae_allocator *a,
                      dfsae__json_doc *doc, char *err);
void dfsae__json_free(dfsae__json_doc *doc, const dfsae_allocator *a);
/* First member of an array or object, or NULL. */
const dfsae__json *dfsae__json_first(const dfsae__json *v);
/* Member `key` of an object, or NULL. */
const dfsae__json *dfsae__json_get(const dfsae__json *obj, const char *key);

/* ---- Safetensors layout (parse.c) ----------------------------------- */

typedef struct dfsae__source dfsae__source; /* source.c, below */

typedef struct dfsae__tensor {
    const char *name;  /* points into the parsed header */
    const char *dtype; /* ditto */
    size_t elem_size;  /* bytes per element */
    size_t rank;
    uint64_t dims[2];    /* the first two dimensions (enough for dfsae) */
    uint64_t count;      /* product of all dimensions */
    uint64_t begin, end; /* data_offsets, relative to the data section */
} dfsae__tensor;

typedef struct dfsae__st_header {
    dfsae__json_doc json;
    /* "__metadata__": n_meta consecutive string values, each with its
     * key (NULL, 0 when absent) */
    const dfsae__json *meta;
    size_t n_meta;
    dfsae__tensor *tensors; /* sorted by begin */
    size_t n_tensors;
    uint64_t data_len; /* end of the last tensor */
} dfsae__st_header;

/* Reads the 8-byte header length of src into *n and checks that the
 * header fits the file and the limit; names files of other formats. */
int dfsae__st_header_length(const dfsae__source *src, uint64_t *n, char *err);
/* Parses and validates a header of n bytes (not NUL-terminated) whose data
 * section holds `data_avail` bytes. On success *h owns memory that
 * dfsae__st_header_free releases. */
int dfsae__st_parse(const char *text, size_t n, uint64_t data_avail,
                    const dfsae_allocator *a, dfsae__st_header *h, char *err);
void dfsae__st_header_free(dfsae__st_header *h, const dfsae_allocator *a);
const dfsae__tensor *dfsae__st_find(const dfsae__st_header *h,
                                    const char *name);
/* Value of a metadata key, or NULL. */
const char *dfsae__st_meta(const dfsae__st_header *h, const char *key);
/* Calls fn on every metadata pair in file order, up to the first status
 * other than DFSAE_OK, which it returns. */
int dfsae__st_meta_each(const dfsae__st_header *h,
                        int (*fn)(void *ctx, const char *key,
                                  const char *value),
                        void *ctx);

/* ---- Writing (write.c) ------------------------------------------------- */

typedef struct dfsae__sink {
    /* Writes n bytes; returns DFSAE_OK or a status with err filled in. */
    int (*write)(void *ctx, const void *p, size_t n, char *err);
    void *ctx;
} dfsae__sink;

/* One F32 tensor to write, of dims[0] (rank 1) or dims[0] x dims[1]
 * (rank 2) floats at data. */
typedef struct dfsae__st_out {
    const char *name;
    size_t rank;
    size_t dims[2];
    const float *data;
} dfsae__st_out;

/* One metadata pair to write, under the key prefix + key. */
typedef struct dfsae__st_pair {
    const char *prefix;
    const char *key;
    const char *value;
} dfsae__st_pair;

/* A serialised file, ready to stream: the header is built up front, the
 * tensors (borrowed: they must outlive the writer) stream in list order. */
typedef struct dfsae__st_writer {
    const dfsae__st_out *tensors;
    size_t n_tensors;
    const dfsae_allocator *alloc;
    char *header; /* 8-byte length + JSON + padding */
    size_t header_len;
    uint64_t total; /* whole file size */
} dfsae__st_writer;

/* Builds the header of a file holding the n tensors and the n_meta pairs
 * (written in the order given). */
int dfsae__st_writer_init(dfsae__st_writer *w, const dfsae__st_out *tensors,
                          size_t n, const dfsae__st_pair *meta, size_t n_meta,
                          const dfsae_allocator *a, char *err);
int dfsae__st_writer_emit(const dfsae__st_writer *w, const dfsae__sink *sink,
                          char *err);
void dfsae__st_writer_free(dfsae__st_writer *w);

/* ---- Atomic files (atomic_file.c) -------------------------------------- */

/* The system calls a save uses; tests substitute failing ones. */
typedef struct dfsae__file_ops {
    long (*write)(int fd, const void *p, size_t n); /* as write(2) */
    int (*fsync)(int fd);
    /* renameat(2) of two names in one directory */
    int (*rename)(int dirfd, const char *from, const char *to);
} dfsae__file_ops;

extern const dfsae__file_ops dfsae__posix_file_ops;

/* Streams `w` into a temporary file next to `path` and renames it over
 * `path`, which must be a regular file, a symbolic link (replaced, not
 * followed) or absent. On failure the target is untouched and the
 * temporary removed; temporaries of dead writers are removed too. */
int dfsae__atomic_save(const char *path, const dfsae__st_writer *w,
                       const dfsae__file_ops *ops, const dfsae_allocator *a,
                       char *err);

/* ---- Reading (source.c) ------------------------------------------------ */

struct dfsae__source {
    /* Reads n bytes at offset off into dst; DFSAE_OK or a status. */
    int (*read)(void *ctx, uint64_t off, void *dst, size_t n, char *err);
    void *ctx;
    uint64_t size;
};

typedef struct dfsae__mem_source {
    const unsigned char *data;
} dfsae__mem_source;

typedef struct dfsae__file_source {
    int fd;
} dfsae__file_source;

void dfsae__source_mem(dfsae__source *s, dfsae__mem_source *ctx,
                       const void *data, size_t size);
int dfsae__source_open(dfsae__source *s, dfsae__file_source *ctx,
                       const char *path, char *err);
void dfsae__source_close(dfsae__file_source *ctx);
/* What a file of this st_mode is ("a FIFO", ...), for messages. */
const char *dfsae__file_kind(unsigned mode);

#endif
