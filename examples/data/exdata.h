/*
 * exdata - data-set readers for the dfsae tool and examples.
 *
 * Not part of libdfsae or its ABI: a small static library that turns the
 * files users already have into the float32 `rows x cols` matrices the
 * library trains on. Formats: IDX (MNIST's format, plain or gzip), NumPy
 * .npy (float32, float64, float16, uint8, and bfloat16 when the caller says
 * so; C order; header versions 1, 2 and 3) and CSV of numbers, each plain
 * or gzip-compressed; safetensors through the memory-mapped reader below.
 *
 * Every reader validates the whole input before it returns data and
 * reports a problem as one line "<file>: <what is wrong>" in an
 * exdata_error. Functions return 0 on success and -1 on error.
 */
#ifndef EXDATA_H
#define EXDATA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/** File formats. AUTO looks at the magic bytes, then the file name. */
typedef enum exdata_format {
    EXDATA_AUTO = 0,
    EXDATA_IDX = 1,
    EXDATA_NPY = 2,
    EXDATA_CSV = 3
} exdata_format;

/** Element type stored in the file (informational). */
typedef enum exdata_dtype {
    DFSAE_DTYPE_U8 = 0,
    DFSAE_DTYPE_I8,
    DFSAE_DTYPE_I16,
    DFSAE_DTYPE_I32,
    DFSAE_DTYPE_F32,
    DFSAE_DTYPE_F64,
    DFSAE_DTYPE_TEXT, /**< CSV */
    DFSAE_DTYPE_F16,  /**< IEEE binary16 */
    DFSAE_DTYPE_BF16  /**< bfloat16 (the top half of a float32) */
} exdata_dtype;

/** A loaded data set: `rows` samples of `cols` float32 values, row-major.
 *  `image_h x image_w` is the per-sample image shape when the file says
 *  so (a 3-D array n x h x w), else both are 0. */
typedef struct exdata {
    float *values;
    size_t rows, cols;
    size_t image_h, image_w;
    int dtype; /**< exdata_dtype of the file's elements */
} exdata;

#define EXDATA_ERR_LEN 512

/** What went wrong, beyond the message. */
typedef enum exdata_error_kind {
    EXDATA_ERR_INPUT = 0,       /**< the file, its format or the system */
    EXDATA_ERR_MEMORY_LIMIT = 1 /**< reading it needs more memory than
                                         exdata_options.max_memory */
} exdata_error_kind;

typedef struct exdata_error {
    char msg[EXDATA_ERR_LEN];
    int kind; /**< exdata_error_kind */
} exdata_error;

/** How values are scaled after reading. */
#define EXDATA_SCALE_AUTO 0.0 /**< uint8 / 255 into [0, 1], others kept */

typedef struct exdata_options {
    int format;        /**< exdata_format */
    double divide;     /**< values are divided by this; EXDATA_SCALE_AUTO
                            (0) means 255 for uint8 files and 1 otherwise */
    int csv_header;    /**< -1 auto (skip a first line that is not numeric),
                            0 no header, 1 the first line is a header */
    size_t max_memory; /**< most bytes a read holds at once: the input,
                            its decompressed bytes and the float32 values;
                            0: exdata_default_max_memory(). A file
                            whose header announces more is refused before
                            anything is allocated for it, decompression
                            stops at the limit. */
    int bf16;          /**< 1: the data are bfloat16. NumPy has no such
                            type: a .npy of 2-byte elements described as
                            '<u2', '<V2' or '|V2' (ml_dtypes saves its
                            bfloat16 arrays as '<V2') is read as bfloat16
                            only when this says so, and any other .npy is
                            then refused. 0: such files are refused. */
} exdata_options;

/** Fills the defaults: AUTO format, AUTO scaling, auto CSV header, the
 *  default memory limit, no bfloat16. */
void exdata_options_init(exdata_options *opt);

/** The default memory limit: half of the physical memory, and at most half
 *  of the address-space limit (RLIMIT_AS) when one is set; 4 GiB if the
 *  system tells neither. */
size_t exdata_default_max_memory(void);

/** Read `path` into *out (zeroed on failure). `opt` may be NULL. The
 *  path must name a regular file or a pipe (a device such as /dev/zero is
 *  refused). */
int exdata_load(const char *path, const exdata_options *opt, exdata *out,
                exdata_error *err);

/** Parse a file's bytes already in memory. `name` is used in messages.
 *  Gzip input is decompressed first. The `len` input bytes count towards
 *  opt->max_memory, as they do in the per-format parsers below. */
int exdata_parse(const void *bytes, size_t len, const char *name,
                 const exdata_options *opt, exdata *out, exdata_error *err);

/* The per-format parsers behind exdata_parse (no gzip handling). */
int exdata_parse_idx(const uint8_t *p, size_t len, const char *name,
                     const exdata_options *opt, exdata *out, exdata_error *err);
int exdata_parse_npy(const uint8_t *p, size_t len, const char *name,
                     const exdata_options *opt, exdata *out, exdata_error *err);
int exdata_parse_csv(const uint8_t *p, size_t len, const char *name,
                     const exdata_options *opt, exdata *out, exdata_error *err);

/** Decompress a gzip stream (several members allowed) into a malloc'ed
 *  buffer of at most `max_bytes` (more is a EXDATA_ERR_MEMORY_LIMIT
 *  error). */
int exdata_gunzip(const uint8_t *p, size_t len, const char *name,
                  size_t max_bytes, uint8_t **out, size_t *out_len,
                  exdata_error *err);

/** `bytes` for people: "512 bytes", "1.5 MiB", ...; returns buf. */
const char *exdata_size_text(size_t bytes, char *buf, size_t cap);

/** a * b into *out and 1, or 0 (and *out unchanged) if it overflows. */
int exdata_size_mul(size_t a, size_t b, size_t *out);

/** 1 if the bytes start with the gzip magic. */
int exdata_is_gzip(const uint8_t *p, size_t len);

/** Free the values; *d is zeroed. NULL is a no-op. */
void exdata_free(exdata *d);

/** Keep only the first `rows` rows (no-op if rows >= d->rows). */
void exdata_truncate(exdata *d, size_t rows);

/* ---- Output files ------------------------------------------------------ */

/** An output file being written: written whole or not at all. */
typedef struct exdata_output {
    FILE *file;       /**< write the contents here */
    const char *path; /**< the target (the caller's string) */
    char *tmp;        /**< the temporary beside it */
} exdata_output;

/** Start writing `path`: a temporary file in its directory, with the
 *  umask's permissions (or those of the regular file it will replace).
 *  Refuses a target that is not a regular file or a symbolic link (a
 *  device, a FIFO, a directory). */
int exdata_output_open(exdata_output *o, const char *path, exdata_error *err);
/** Flush and fsync the temporary, rename it over the target, fsync the
 *  directory. On failure the target is as it was and the temporary gone
 *  (unless only the directory's fsync failed: then the file is written). */
int exdata_output_commit(exdata_output *o, exdata_error *err);
/** Give up: the temporary is removed, the target untouched. */
void exdata_output_abort(exdata_output *o);

/** A float32 `rows x cols` .npy written in pieces: begin writes the
 *  header, append adds `count` values (rows after rows), commit
 *  (exdata_output_commit) makes it appear whole. */
int exdata_npy_begin(exdata_output *o, const char *path, size_t rows,
                     size_t cols, exdata_error *err);
void exdata_npy_append(exdata_output *o, const float *values, size_t count);

/* ---- Memory-mapped data sets (.npy, safetensors) ---------------------- */

/** Rows of one or more files (shards with the same columns and dtype,
 *  concatenated by rows) read in place: .npy (float32, float16, or
 *  bfloat16 when exdata_map_options.bf16 says so; little-endian, C
 *  order) or safetensors (one 2-D F32, F16 or BF16 tensor per file). Each
 *  file is mapped and validated whole (magic, header, dtype, shape against
 *  the file size or the tensor's byte range); rows are then copied out of
 *  the page cache with pread, so the process's resident memory holds none
 *  of the file whatever its size (through the map, Linux maps whole large
 *  folios around each fault: docs/performance.md); a file's map is
 *  released once its header is validated. */
typedef struct exdata_map exdata_map;

typedef struct exdata_map_options {
    int sequential;     /**< the rows will be read in order (read-ahead
                             advice), else at random */
    int bf16;           /**< .npy: as exdata_options.bf16 */
    const char *tensor; /**< safetensors: the tensor to read in every
                             file; NULL: the only 2-D tensor of each */
} exdata_map_options;

/** All zero: random order, 64 MiB, no bfloat16 .npy, the only tensor. */
void exdata_map_options_init(exdata_map_options *opt);

/** Open `path`: a .npy or safetensors file (told apart by the .npy magic),
 *  a directory (its *.npy and *.safetensors files in name order) or a
 *  comma-separated list of files. `opt` may be NULL (the defaults). Every
 *  file is validated before it is used. */
int exdata_map_open(const char *path, const exdata_map_options *opt,
                    exdata_map **out, exdata_error *err);
void exdata_map_close(exdata_map *m);
size_t exdata_map_rows(const exdata_map *m);
size_t exdata_map_cols(const exdata_map *m);
/** DFSAE_DTYPE_F32, DFSAE_DTYPE_F16 or DFSAE_DTYPE_BF16. */
int exdata_map_dtype(const exdata_map *m);
/** Copies rows rows[0..count) (each < rows) as stored, row after row, into
 *  out: a dfsae_read_fn for dfsae_source_from_callback (user = the map).
 *  Returns 0, or -1 if a file shrank or could not be read. */
int exdata_map_read(void *map, const size_t *rows, size_t count, void *out);

/** Write a float32 `rows x cols` matrix as a version-1 .npy file (through
 *  exdata_output). */
int exdata_write_npy(const char *path, const float *values, size_t rows,
                     size_t cols, exdata_error *err);

/** Read the whole file (a regular file or a pipe) into a malloc'ed
 *  buffer of at most max_bytes (0: the default memory limit). */
int exdata_read_file(const char *path, size_t max_bytes, uint8_t **out,
                     size_t *out_len, exdata_error *err);

/* ---- Prototype pictures ------------------------------------------------ */

/**
 * Render the rows of W (`k x d`) as a grid of `tile_h x tile_w` tiles
 * (tile_h * tile_w == d), each tile scaled by its own max |w| with a
 * diverging colour map: negative red, zero white, positive blue. Tiles
 * are separated by a `gap`-pixel grey border and enlarged `zoom` times.
 * `cols` tiles per row (0 = about square). Writes an 8-bit RGB PNG
 * (through exdata_output).
 * If out_w/out_h are non-NULL they receive the image size.
 */
int exdata_write_tiles_png(const char *path, const float *W, size_t k, size_t d,
                           size_t tile_h, size_t tile_w, size_t cols,
                           size_t zoom, size_t gap, size_t *out_w,
                           size_t *out_h, exdata_error *err);

/** The image shape for `d` inputs: (28, 28) for 784, a square if `d` is
 *  one, else (1, d). */
void exdata_guess_image_shape(size_t d, size_t *h, size_t *w);

#ifdef __cplusplus
}
#endif

#endif /* EXDATA_H */
