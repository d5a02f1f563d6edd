/*
 * dfsae_data - data-set readers for the dfsae tool and examples.
 *
 * Not part of libdfsae or its ABI: a small static library that turns the
 * files users already have into the float32 `rows x cols` matrices the
 * library trains on. Formats: IDX (MNIST's format, plain or gzip), NumPy
 * .npy (float32, float64, uint8; C order; header versions 1, 2 and 3) and
 * CSV of numbers. Any of them may be gzip-compressed.
 *
 * Every reader validates the whole input before it returns data and
 * reports a problem as one line "<file>: <what is wrong>" in a
 * dfsae_data_error. Functions return 0 on success and -1 on error.
 */
#ifndef DFSAE_DATA_H
#define DFSAE_DATA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/** File formats. AUTO looks at the magic bytes, then the file name. */
typedef enum dfsae_data_format {
    DFSAE_DATA_AUTO = 0,
    DFSAE_DATA_IDX = 1,
    DFSAE_DATA_NPY = 2,
    DFSAE_DATA_CSV = 3
} dfsae_data_format;

/** Element type stored in the file (informational). */
typedef enum dfsae_data_dtype {
    DFSAE_DTYPE_U8 = 0,
    DFSAE_DTYPE_I8,
    DFSAE_DTYPE_I16,
    DFSAE_DTYPE_I32,
    DFSAE_DTYPE_F32,
    DFSAE_DTYPE_F64,
    DFSAE_DTYPE_TEXT, /**< CSV */
    DFSAE_DTYPE_F16   /**< IEEE binary16 */
} dfsae_data_dtype;

/** A loaded data set: `rows` samples of `cols` float32 values, row-major.
 *  `image_h x image_w` is the per-sample image shape when the file says
 *  so (a 3-D array n x h x w), else both are 0. */
typedef struct dfsae_data {
    float *values;
    size_t rows, cols;
    size_t image_h, image_w;
    int dtype; /**< dfsae_data_dtype of the file's elements */
} dfsae_data;

#define DFSAE_DATA_ERR_LEN 512

/** What went wrong, beyond the message. */
typedef enum dfsae_data_error_kind {
    DFSAE_DATA_ERR_INPUT = 0,       /**< the file, its format or the system */
    DFSAE_DATA_ERR_MEMORY_LIMIT = 1 /**< reading it needs more memory than
                                         dfsae_data_options.max_memory */
} dfsae_data_error_kind;

typedef struct dfsae_data_error {
    char msg[DFSAE_DATA_ERR_LEN];
    int kind; /**< dfsae_data_error_kind */
} dfsae_data_error;

/** How values are scaled after reading. */
#define DFSAE_DATA_SCALE_AUTO 0.0 /**< uint8 / 255 into [0, 1], others kept */

typedef struct dfsae_data_options {
    int format;        /**< dfsae_data_format */
    double divide;     /**< values are divided by this; DFSAE_DATA_SCALE_AUTO
                            (0) means 255 for uint8 files and 1 otherwise */
    int csv_header;    /**< -1 auto (skip a first line that is not numeric),
                            0 no header, 1 the first line is a header */
    size_t max_memory; /**< most bytes a read holds at once: the input,
                            its decompressed bytes and the float32 values;
                            0: dfsae_data_default_max_memory(). A file
                            whose header announces more is refused before
                            anything is allocated for it, decompression
                            stops at the limit. */
} dfsae_data_options;

/** Fills the defaults: AUTO format, AUTO scaling, auto CSV header, the
 *  default memory limit. */
void dfsae_data_options_init(dfsae_data_options *opt);

/** The default memory limit: half of the physical memory, and at most half
 *  of the address-space limit (RLIMIT_AS) when one is set; 4 GiB if the
 *  system tells neither. */
size_t dfsae_data_default_max_memory(void);

/** Read `path` into *out (zeroed on failure). `opt` may be NULL. The
 *  path must name a regular file or a pipe (a device such as /dev/zero is
 *  refused). */
int dfsae_data_load(const char *path, const dfsae_data_options *opt,
                    dfsae_data *out, dfsae_data_error *err);

/** Parse a file's bytes already in memory. `name` is used in messages.
 *  Gzip input is decompressed first. The `len` input bytes count towards
 *  opt->max_memory, as they do in the per-format parsers below. */
int dfsae_data_parse(const void *bytes, size_t len, const char *name,
                     const dfsae_data_options *opt, dfsae_data *out,
                     dfsae_data_error *err);

/* The per-format parsers behind dfsae_data_parse (no gzip handling). */
int dfsae_data_parse_idx(const uint8_t *p, size_t len, const char *name,
                         const dfsae_data_options *opt, dfsae_data *out,
                         dfsae_data_error *err);
int dfsae_data_parse_npy(const uint8_t *p, size_t len, const char *name,
                         const dfsae_data_options *opt, dfsae_data *out,
                         dfsae_data_error *err);
int dfsae_data_parse_csv(const uint8_t *p, size_t len, const char *name,
                         const dfsae_data_options *opt, dfsae_data *out,
                         dfsae_data_error *err);

/** Decompress a gzip stream (several members allowed) into a malloc'ed
 *  buffer of at most `max_bytes` (more is a DFSAE_DATA_ERR_MEMORY_LIMIT
 *  error). */
int dfsae_data_gunzip(const uint8_t *p, size_t len, const char *name,
                      size_t max_bytes, uint8_t **out, size_t *out_len,
                      dfsae_data_error *err);

/** `bytes` for people: "512 bytes", "1.5 MiB", ...; returns buf. */
const char *dfsae_data_size_text(size_t bytes, char *buf, size_t cap);

/** a * b into *out and 1, or 0 (and *out unchanged) if it overflows. */
int dfsae_data_size_mul(size_t a, size_t b, size_t *out);

/** 1 if the bytes start with the gzip magic. */
int dfsae_data_is_gzip(const uint8_t *p, size_t len);

/** Free the values; *d is zeroed. NULL is a no-op. */
void dfsae_data_free(dfsae_data *d);

/** Keep only the first `rows` rows (no-op if rows >= d->rows). */
void dfsae_data_truncate(dfsae_data *d, size_t rows);

/* ---- Output files ------------------------------------------------------ */

/** An output file being written: written whole or not at all. */
typedef struct dfsae_data_output {
    FILE *file;       /**< write the contents here */
    const char *path; /**< the target (the caller's string) */
    char *tmp;        /**< the temporary beside it */
} dfsae_data_output;

/** Start writing `path`: a temporary file in its directory, with the
 *  umask's permissions (or those of the regular file it will replace).
 *  Refuses a target that is not a regular file or a symbolic link (a
 *  device, a FIFO, a directory). */
int dfsae_data_output_open(dfsae_data_output *o, const char *path,
                           dfsae_data_error *err);
/** Flush and fsync the temporary, rename it over the target, fsync the
 *  directory. On failure the target is as it was and the temporary gone
 *  (unless only the directory's fsync failed: then the file is written). */
int dfsae_data_output_commit(dfsae_data_output *o, dfsae_data_error *err);
/** Give up: the temporary is removed, the target untouched. */
void dfsae_data_output_abort(dfsae_data_output *o);

/** A float32 `rows x cols` .npy written in pieces: begin writes the
 *  header, append adds `count` values (rows after rows), commit
 *  (dfsae_data_output_commit) makes it appear whole. */
int dfsae_data_npy_begin(dfsae_data_output *o, const char *path, size_t rows,
                         size_t cols, dfsae_data_error *err);
void dfsae_data_npy_append(dfsae_data_output *o, const float *values,
                           size_t count);

/* ---- Memory-mapped .npy data sets -------------------------------------- */

/** Rows of one or more .npy files (shards with the same columns and
 *  dtype, concatenated by rows) read in place: float32 or float16,
 *  little-endian, C order. Each file is mapped and validated whole (magic,
 *  header, dtype, shape against the file size); rows are then copied out
 *  of the page cache with pread, so the process's resident memory holds
 *  none of the file whatever its size (through the map, Linux maps whole
 *  large folios around each fault: docs/performance.md). The maps' pages
 *  are released (madvise MADV_DONTNEED) after about `drop_bytes` read. */
typedef struct dfsae_data_map dfsae_data_map;

/** Open `path`: a .npy file, a directory (its *.npy files in name order)
 *  or a comma-separated list of files. `sequential`: the rows will be
 *  read in order (read-ahead advice), else at random. drop_bytes 0 means
 *  64 MiB. Every file is validated (magic, header, dtype, shape against the
 *  file size) before it is used. */
int dfsae_data_map_open(const char *path, int sequential, size_t drop_bytes,
                        dfsae_data_map **out, dfsae_data_error *err);
void dfsae_data_map_close(dfsae_data_map *m);
size_t dfsae_data_map_rows(const dfsae_data_map *m);
size_t dfsae_data_map_cols(const dfsae_data_map *m);
/** DFSAE_DTYPE_F32 or DFSAE_DTYPE_F16. */
int dfsae_data_map_dtype(const dfsae_data_map *m);
/** Copies rows rows[0..count) (each < rows) as stored, row after row, into
 *  out: a dfsae_read_fn for dfsae_source_from_callback (user = the map).
 *  Returns 0, or -1 if a file shrank or could not be read. */
int dfsae_data_map_read(void *map, const size_t *rows, size_t count, void *out);

/** Write a float32 `rows x cols` matrix as a version-1 .npy file (through
 *  dfsae_data_output). */
int dfsae_data_write_npy(const char *path, const float *values, size_t rows,
                         size_t cols, dfsae_data_error *err);

/** Read the whole file (a regular file or a pipe) into a malloc'ed
 *  buffer of at most max_bytes (0: the default memory limit). */
int dfsae_data_read_file(const char *path, size_t max_bytes, uint8_t **out,
                         size_t *out_len, dfsae_data_error *err);

/* ---- Prototype pictures ------------------------------------------------ */

/**
 * Render the rows of W (`k x d`) as a grid of `tile_h x tile_w` tiles
 * (tile_h * tile_w == d), each tile scaled by its own max |w| with a
 * diverging colour map: negative red, zero white, positive blue. Tiles
 * are separated by a `gap`-pixel grey border and enlarged `zoom` times.
 * `cols` tiles per row (0 = about square). Writes an 8-bit RGB PNG
 * (through dfsae_data_output).
 * If out_w/out_h are non-NULL they receive the image size.
 */
int dfsae_data_write_tiles_png(const char *path, const float *W, size_t k,
                               size_t d, size_t tile_h, size_t tile_w,
                               size_t cols, size_t zoom, size_t gap,
                               size_t *out_w, size_t *out_h,
                               dfsae_data_error *err);

/** The image shape for `d` inputs: (28, 28) for 784, a square if `d` is
 *  one, else (1, d). */
void dfsae_data_guess_image_shape(size_t d, size_t *h, size_t *w);

#ifdef __cplusplus
}
#endif

#endif /* DFSAE_DATA_H */
