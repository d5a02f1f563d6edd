/* The `dfsae` command-line tool: shared declarations. */
#ifndef DFSAE_CLI_H
#define DFSAE_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "dfsae.h"
#include "exdata.h"

#if defined(__GNUC__) || defined(__clang__)
#define CLI_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define CLI_PRINTF(fmt, args)
#endif

/* Exit codes: 0 success, 1 runtime failure (bad file, library error),
 * 2 usage error (bad flag), 130 interrupted by Ctrl-C (model written). */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_INTERRUPTED = 130 };

/* ---- Flags (args.c) ---------------------------------------------------- */

typedef enum cli_type {
    CLI_STR,    /* const char * */
    CLI_SIZE,   /* size_t, a positive integer */
    CLI_COUNT,  /* size_t, a non-negative integer */
    CLI_U64,    /* uint64_t */
    CLI_DOUBLE, /* double, finite */
    CLI_FLAG,   /* int, set to 1, takes no value */
    CLI_MEMORY  /* size_t, bytes: "512M", "1.5G", ... (K, M, G, T are
                   powers of 1024); 0 until given */
} cli_type;

typedef struct cli_opt {
    const char *name; /* without the leading "--" */
    cli_type type;
    void *dst;
    const char *arg; /* value placeholder in the help, e.g. "N" */
    const char *help;
    int seen;
} cli_opt;

typedef struct cli_cmd {
    const char *name;    /* "train" */
    const char *usage;   /* "DATA --out MODEL [options]" */
    const char *summary; /* one line */
    const char *details; /* paragraph after the options, or NULL */
    cli_opt *opts;
    size_t n_opts;
    size_t min_pos, max_pos; /* positional arguments */
} cli_cmd;

/* Parses argv (after the subcommand name). Returns 0 to run, 1 when
 * --help was printed (exit 0), -1 after printing one error line. */
int cli_parse(const cli_cmd *cmd, int argc, char **argv, const char **pos,
              size_t *n_pos);
void cli_print_help(const cli_cmd *cmd);
/* The flag by name (for `seen`), or NULL. */
cli_opt *cli_find(const cli_cmd *cmd, const char *name);

/* One line "dfsae <cmd>: <message>" on stderr. Returns `code`. */
int cli_error(const char *cmd, int code, const char *fmt, ...) CLI_PRINTF(3, 4);

/* ---- Data and models (common.c) --------------------------------------- */

/* Data-set flags shared by train, encode and eval. */
typedef struct cli_data_flags {
    const char *format; /* auto, idx, npy, csv */
    const char *scale;  /* auto, none, or a divisor (NULL: auto) */
    size_t limit;       /* keep the first N rows; 0 = all */
    size_t max_memory;  /* --max-memory; 0 = the readers' default */
    int mmap;           /* --mmap: read .npy or safetensors files in place */
    const char *dtype;  /* --dtype: auto or bf16 (NULL: auto) */
    const char *tensor; /* --tensor: the safetensors tensor to read */
} cli_data_flags;

#define CLI_DATA_OPTS(f)                                                       \
    {"format",                                                                 \
     CLI_STR,                                                                  \
     &(f).format,                                                              \
     "FMT",                                                                    \
     "input format: auto (default), idx, npy or csv",                          \
     0},                                                                       \
        {"scale",                                                              \
         CLI_STR,                                                              \
         &(f).scale,                                                           \
         "S",                                                                  \
         "divide the inputs by S: auto (uint8 by 255), none or a number; "     \
         "train records it in the model, so encode and eval need it only "     \
         "for models without it (default: train auto, others none)",           \
         0},                                                                   \
        {"limit",                                                              \
         CLI_COUNT,                                                            \
         &(f).limit,                                                           \
         "N",                                                                  \
         "use only the first N rows (0: all)",                                 \
         0},                                                                   \
        {"max-memory",                                                         \
         CLI_MEMORY,                                                           \
         &(f).max_memory,                                                      \
         "SIZE",                                                               \
         "most memory reading DATA may take, e.g. 2G (the file, its "          \
         "decompressed bytes, its values; default: half the physical "         \
         "memory)",                                                            \
         0},                                                                   \
        {"mmap",                                                               \
         CLI_FLAG,                                                             \
         &(f).mmap,                                                            \
         "",                                                                   \
         "read DATA in place from memory maps: a float32, float16 or "         \
         "bfloat16 .npy or safetensors file, a directory of such shards or a " \
         "comma-separated list of them, as one data set; memory stays "        \
         "bounded by the batch, not the file",                                 \
         0},                                                                   \
        {"dtype",                                                              \
         CLI_STR,                                                              \
         &(f).dtype,                                                           \
         "T",                                                                  \
         "auto (default) or bf16: the .npy holds bfloat16 values as 2-byte "   \
         "elements ('<u2', '<V2' or '|V2', as ml_dtypes saves them); NumPy "   \
         "has no bfloat16 type, so such files are read only when told",        \
         0},                                                                   \
    {                                                                          \
        "tensor", CLI_STR, &(f).tensor, "NAME",                                \
            "with --mmap: the safetensors tensor to read (default: the "       \
            "file's "                                                          \
            "only 2-D tensor)",                                                \
            0                                                                  \
    }

int cli_load_data(const char *cmd, const char *path,
                  const cli_data_flags *flags, exdata *out);
/* --dtype as exdata_options.bf16; prints the error (CLI_USAGE). */
int cli_parse_dtype(const char *cmd, const cli_data_flags *flags, int *bf16);
/* 1 if the path names a .safetensors file. */
int cli_is_safetensors(const char *path);

/* A data set as a dfsae_source: in memory (data) or, with --mmap, mapped
 * (map; data is then empty). `sequential`: mapped rows are read in order. */
typedef struct cli_input {
    exdata data;
    exdata_map *map;
    dfsae_source *src;
    size_t rows, cols;
} cli_input;
int cli_open_input(const char *cmd, const char *path,
                   const cli_data_flags *flags, int sequential, cli_input *in);
void cli_input_free(cli_input *in);
/* The memory limit in force: --max-memory, else the readers' default. */
size_t cli_memory_limit(const cli_data_flags *flags);
/* One error line for `what` needing `need` bytes above the limit, with the
 * hint `hint` (may be NULL) after the --max-memory one. */
int cli_over_limit(const char *cmd, const char *what, size_t need,
                   const cli_data_flags *flags, const char *hint);
/* --scale S as a divisor: EXDATA_SCALE_AUTO for auto (or NULL), 1 for
 * none. Prints the error (CLI_USAGE) for anything else. */
int cli_parse_scale(const char *cmd, const char *s, double *divide);

/* The loss terms' weights, one row per dfsae_term:
 * X(arg, term, its weight's model option, its name, its default). A new
 * term adds its row here; train's and dfsae-mpi's --lambda-NAME flags, the
 * options they set and info's lines follow (a missing row fails to
 * compile, common.c). */
#define CLI_TERMS(X, arg)                                                      \
    X(arg, DFSAE_TERM_LSE, DFSAE_MODEL_LAMBDA_LSE, "lse", "1")                 \
    X(arg, DFSAE_TERM_VAR, DFSAE_MODEL_LAMBDA_VAR, "var", "1")                 \
    X(arg, DFSAE_TERM_TC, DFSAE_MODEL_LAMBDA_TC, "tc", "1")                    \
    X(arg, DFSAE_TERM_WR, DFSAE_MODEL_LAMBDA_WR, "wr", "0")

/* The --lambda-NAME rows of a cli_opt table, writing lambda[term]. */
#define CLI_LAMBDA_OPT(lambda, term, key, name, dflt)                          \
    {"lambda-" name,                                                           \
     CLI_DOUBLE,                                                               \
     &(lambda)[term],                                                          \
     "X",                                                                      \
     "weight of L_" name " (default " dflt ")",                                \
     0},
#define CLI_LAMBDA_OPTS(lambda) CLI_TERMS(CLI_LAMBDA_OPT, lambda)

/* By dfsae_term: the model option of its weight and its flag's name. */
extern const int cli_lambda_keys[DFSAE_TERM_COUNT];
extern const char *const cli_lambda_flags[DFSAE_TERM_COUNT];

/* Names of enumerations <-> values; -1 if unknown. */
int cli_activation_from_name(const char *s);
int cli_optimizer_from_name(const char *s);

/* A library status as text, with the handle's detail message. */
int cli_lib_error(const char *cmd, int status, const char *detail,
                  const char *what);

/* ---- Model files (modelfile.c) ---------------------------------------- */

/* The user metadata key of the training data's image shape, "HxW". */
#define CLI_META_IMAGE_SHAPE "image_shape"

/* Save a model with its optimizer (may be NULL) and run state. */
int cli_model_save(const char *cmd, const char *path, dfsae_model *m,
                   const dfsae_optimizer *opt);
/* Load a model; if `opt` is non-NULL also the optimizer state (NULL in
 * *opt if the file has none). */
int cli_model_load(const char *cmd, const char *path, dfsae_model **m,
                   dfsae_optimizer **opt);
/* Records the image shape in the model's metadata (a library status). */
int cli_set_image_shape(dfsae_model *m, size_t h, size_t w);

/* ---- Input transform (input_transform.c) ------------------------------ */

/* Records --scale (and --standardize, fitted on `data`, the raw inputs) in
 * the model's input transform. With --resume (resume != NULL) the file's
 * transform stays unless flags_seen, which is a usage error for a model
 * that has one. */
int cli_set_input_transform(const char *cmd, const char *scale_flag,
                            int standardize, const char *resume, int flags_seen,
                            const exdata *data, dfsae_model *m);
/* "none", "(x - 0) * 0.00392157" or "per feature (784 ...)". */
void cli_describe_transform(const dfsae_model *m, char *buf, size_t cap);

/* ---- Progress (progress.c) --------------------------------------------- */

typedef struct cli_progress {
    int tty; /* draw a bar (stderr is a terminal) */
    int quiet;
    uint64_t epochs;  /* the model's total epochs (for "epoch e/N") */
    double last_draw; /* wall time of the last bar redraw */
    /* where training stands, for the message after an interrupt */
    int last_event;
    uint64_t last_epoch, last_step, steps_per_epoch;
    int interrupted;
    int converged; /* the run stopped at last_epoch: it converged */
} cli_progress;

/* What the bar shows (bar.c). */
typedef struct cli_bar_fields {
    uint64_t epoch, epochs; /* "epoch 3/20" */
    uint64_t step, steps;   /* within the epoch, and the bar's fill */
    double loss, samples_per_sec;
    const char *terms; /* "lse 1.2 var -3 tc 0.1", may be empty */
    const char *eta;   /* "1:05" */
} cli_bar_fields;

/* The bar's line for a terminal of `width` columns: at most width - 1
 * characters (a line reaching the last column would wrap). */
void cli_bar_line(const cli_bar_fields *f, size_t width, char *out, size_t cap);
/* Columns of the terminal on fd (TIOCGWINSZ), else $COLUMNS, else 80. */
size_t cli_terminal_width(int fd);

/* A dfsae_progress_fn: draws the bar / logs epochs; cancels on Ctrl-C. */
int cli_progress_cb(const dfsae_progress *p, void *user);
/* Installs the Ctrl-C handler (first Ctrl-C: stop after the current step;
 * a second one kills the process as usual). */
void cli_install_sigint(void);
int cli_sigint_seen(void);
double cli_now(void);

/* ---- Subcommands ------------------------------------------------------- */

int cli_train(int argc, char **argv);
int cli_encode(int argc, char **argv);
int cli_eval(int argc, char **argv);
int cli_info(int argc, char **argv);
int cli_show(int argc, char **argv);
int cli_ablate(int argc, char **argv);

#endif
