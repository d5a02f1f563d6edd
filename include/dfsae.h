/*
 * dfsae 1.0 - decoder-free sparse autoencoders: A = phi(X W^T + b), trained
 * without a decoder on a log-sum-exp objective plus InfoMax regularisers
 * (docs/math.md). This header is the reference, docs/api.md the guide; of its
 * parts (banners below) 1-3 are stable, 4 experimental. ABI: releases of one
 * major version only add functions, enum values, keys and status codes (checked
 * against abi/libdfsae.abi); part 4 and dfsae_dist.h may change in a minor
 * release. Of the stable parts only dfsae_allocator's struct layout is public.
 * Errors: fallible calls return a status (DFSAE_OK == 0, errors < 0); a failure
 * changes no parameter, option or optimizer state and sets a create's or load's
 * outputs to NULL. A non-const handle keeps the message (*_last_error), a load
 * that creates handles puts it in `err`. Comments name statuses without
 * DFSAE_ERR_; besides those listed, any call may return NULL_ARG (a pointer not
 * marked optional is NULL), NO_MEMORY (if it allocates) or SIZE_OVERFLOW (a
 * size or count overflows). The library never prints, aborts or exits.
 * Threads: any number may share a model in dfsae_model_forward while nothing
 * changes it; other calls need their handles to themselves; handle-free calls
 * are thread-safe.
 */
#ifndef DFSAE_H
#define DFSAE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(DFSAE_BUILDING_SHARED)
#define DFSAE_API __declspec(dllexport)
#elif defined(_WIN32) && defined(DFSAE_SHARED)
#define DFSAE_API __declspec(dllimport)
#elif defined(__GNUC__) && __GNUC__ >= 4
#define DFSAE_API __attribute__((visibility("default")))
#else
#define DFSAE_API
#endif

#define DFSAE_VERSION_MAJOR 1
#define DFSAE_VERSION_MINOR 0
#define DFSAE_VERSION_PATCH 0
#define DFSAE_VERSION_NUMBER                                                   \
    (DFSAE_VERSION_MAJOR * 10000 + DFSAE_VERSION_MINOR * 100 +                 \
     DFSAE_VERSION_PATCH)
#define DFSAE_VERSION_STRING "1.0.0"

/* ======== 1. Simple use ================================================
 *   dfsae_model_create(D, K, seed, NULL, &m);
 *   dfsae_optimizer_create(DFSAE_ADAM, dfsae_model_num_params(m), NULL, &o);
 *   for (...) dfsae_train_step(m, o, X, n, &loss, NULL, 0);
 *   dfsae_model_forward(m, X, n, A, NULL, NULL);
 *   dfsae_model_save(m, o, "model.safetensors");
 *   dfsae_model_load("model.safetensors", NULL, &m2, NULL, err, sizeof err);
 * Matrices: row-major float32; buffers: the caller's; frees accept NULL. */
/** W (K x D), b (K), options, input transform, run state, user metadata. */
typedef struct dfsae_model dfsae_model;
/** Hyper-parameters and state (moments, step count). */
typedef struct dfsae_optimizer dfsae_optimizer;
/** Allocator hook (part 2); NULL means malloc/free. */
typedef struct dfsae_allocator dfsae_allocator;
/** A model of D = `d_in` inputs and K = `n_components` units, W and b drawn
 *  from uniform(+-1/sqrt(D)) by `seed` (alike on every platform). INVALID_ARG
 *  (zero size, half-set allocator). */
DFSAE_API int dfsae_model_create(size_t d_in, size_t n_components,
                                 uint64_t seed, const dfsae_allocator *alloc,
                                 dfsae_model **out);
DFSAE_API void dfsae_model_free(dfsae_model *model);
/** Encode n rows of X: A = phi(X' W^T + b) (n x K), X' the transformed X;
 *  Z = X' W^T + b and R = softmax(-A) by row unless NULL. Reads the model only,
 *  allocates nothing. INVALID_ARG (n == 0, aliased outputs), NON_FINITE_INPUT
 *  (nothing written), NON_FINITE_RESULT (overflow; outputs unspecified). */
DFSAE_API int dfsae_model_forward(const dfsae_model *model, const float *X,
                                  size_t n, float *A, float *Z, float *R);
/** dfsae_model_loss and the gradient with respect to W then b
 *  (num_params floats into `grad`; unspecified on error). */
DFSAE_API int dfsae_model_grad(dfsae_model *model, const float *X, size_t n,
                               float *grad, double *total, double *terms,
                               size_t n_terms);
/** An optimizer of `kind` (dfsae_optimizer_kind) for `n_params` parameters,
 *  default hyper-parameters. INVALID_ARG (unknown kind, n_params == 0). */
DFSAE_API int dfsae_optimizer_create(int kind, size_t n_params,
                                     const dfsae_allocator *alloc,
                                     dfsae_optimizer **out);
DFSAE_API void dfsae_optimizer_free(dfsae_optimizer *opt);
/** Update the parameters with `grad` (num_params floats): NON_FINITE_INPUT
 *  (gradient), SIZE_MISMATCH, SIZE_OVERFLOW (2^53 steps), INVALID_ARG (Nesterov
 *  without momentum or with dampening), NON_FINITE_RESULT (update overflow). */
DFSAE_API int dfsae_optimizer_step(dfsae_optimizer *opt, dfsae_model *model,
                                   const float *grad);
/** dfsae_model_grad then dfsae_optimizer_step bit for bit (the model holds the
 *  gradient and any message); `loss`, `terms` (optional) before the step. */
DFSAE_API int dfsae_train_step(dfsae_model *model, dfsae_optimizer *opt,
                               const float *X, size_t n, double *loss,
                               double *terms, size_t n_terms);
/** Save the model and, unless `opt` is NULL, the optimizer's state to `path`
 *  atomically: a failed save leaves the target as it was. Replaces only a
 *  regular file or a symlink (not followed); never writes what a load refuses.
 *  INVALID_ARG, SIZE_MISMATCH, NON_FINITE_INPUT, IO. */
DFSAE_API int dfsae_model_save(dfsae_model *model, const dfsae_optimizer *opt,
                               const char *path);
/** A model from the file at `path` and, unless `opt` is NULL, an optimizer from
 *  its state (*opt NULL if none), the file validated first; resumed training
 *  equals uninterrupted training bit for bit. `err` (optional) says why it
 *  failed: INVALID_ARG, IO, NON_FINITE_INPUT or a file status (-12 .. -20). */
DFSAE_API int dfsae_model_load(const char *path, const dfsae_allocator *alloc,
                               dfsae_model **model, dfsae_optimizer **opt,
                               char *err, size_t err_size);

/* ======== 2. The stable core (enum values pinned; added before *_COUNT) */
/** The version the library was built with. */
DFSAE_API unsigned dfsae_version_number(void);
DFSAE_API const char *dfsae_version_string(void);
typedef enum dfsae_status {
    DFSAE_OK = 0,
    DFSAE_ERR_NULL_ARG = -1,           /**< a required pointer was NULL */
    DFSAE_ERR_INVALID_ARG = -2,        /**< an argument has an invalid value */
    DFSAE_ERR_SIZE_OVERFLOW = -3,      /**< a size or count overflows */
    DFSAE_ERR_NO_MEMORY = -4,          /**< the allocator returned NULL */
    DFSAE_ERR_BATCH_TOO_SMALL = -5,    /**< B = 1 with a variance-based term */
    DFSAE_ERR_NON_FINITE_INPUT = -6,   /**< NaN or Inf in an input */
    DFSAE_ERR_NON_FINITE_RESULT = -7,  /**< a result overflowed float */
    DFSAE_ERR_UNKNOWN_PARAM = -8,      /**< no such option key */
    DFSAE_ERR_PARAM_OUT_OF_RANGE = -9, /**< value outside the key's bounds */
    DFSAE_ERR_SIZE_MISMATCH = -10,     /**< buffer or handle sizes disagree */
    DFSAE_ERR_IO = -11,                /**< a file operation failed */
    DFSAE_ERR_TRUNCATED = -12,         /**< the file ends before its data */
    DFSAE_ERR_HEADER_TOO_LARGE = -13,  /**< header above the caps */
    DFSAE_ERR_BAD_HEADER = -14,        /**< not a safetensors model file */
    DFSAE_ERR_DUPLICATE_KEY = -15,     /**< a JSON object repeats a key */
    DFSAE_ERR_BAD_OFFSETS = -16,       /**< tensor offsets out of range */
    DFSAE_ERR_BAD_DTYPE = -17,         /**< a tensor dfsae reads is not F32 */
    DFSAE_ERR_BAD_SHAPE = -18,         /**< inconsistent tensor shapes */
    DFSAE_ERR_BAD_METADATA = -19,      /**< bad metadata or optimizer state */
    DFSAE_ERR_UNSUPPORTED_VERSION = -20, /**< format newer than this library */
    DFSAE_ERR_CANCELLED = -21,           /**< a progress callback cancelled */
    DFSAE_ERR_THREAD = -22               /**< a worker thread could not start */
} dfsae_status;
/** A static description of a status (never NULL). */
DFSAE_API const char *dfsae_status_string(int status);
/** Both or neither (malloc); `alloc` returns malloc-aligned memory or NULL.
 *  Copied; `opaque` must outlive the handle; all its allocations use it. */
struct dfsae_allocator {
    void *(*alloc)(void *opaque, size_t size);
    void (*free)(void *opaque, void *ptr);
    void *opaque;
};

/* ---- Model ---- */
/** D, K and K * D + K (0 for a NULL model). */
DFSAE_API size_t dfsae_model_input_dim(const dfsae_model *model);
DFSAE_API size_t dfsae_model_num_components(const dfsae_model *model);
DFSAE_API size_t dfsae_model_num_params(const dfsae_model *model);
/** The last failure's message ("" if none; never NULL) until the next call. */
DFSAE_API const char *dfsae_model_last_error(const dfsae_model *model);
/** Activations phi. */
typedef enum dfsae_activation {
    DFSAE_ACT_RELU = 0,
    DFSAE_ACT_SOFTPLUS = 1,
    DFSAE_ACT_IDENTITY = 2,
    DFSAE_ACT_LEAKY_RELU = 3, /**< slope DFSAE_MODEL_LEAKY_SLOPE for z < 0 */
    DFSAE_ACT_TANH = 4,
    DFSAE_ACT_SOFTMAX = 5, /**< by row: exp(z_ij / T) / sum_l exp(z_il / T) */
    DFSAE_ACT_COUNT
} dfsae_activation;
/** How L_lse reduces over rows. */
typedef enum dfsae_reduction {
    DFSAE_REDUCE_SUM = 0, /**< default, as in the published study */
    DFSAE_REDUCE_MEAN = 1
} dfsae_reduction;
/** The form of L_wr. */
typedef enum dfsae_wr_form {
    DFSAE_WR_NORMALISED = 0,  /**< ||Wn Wn^T - I||^2, rows normalised */
    DFSAE_WR_UNNORMALISED = 1 /**< ||W^T W - I||^2; minimum D - K if K < D */
} dfsae_wr_form;
/** Model options and defaults; values are doubles (an enum: its value). */
typedef enum dfsae_model_option {
    DFSAE_MODEL_ACTIVATION = 0,    /**< dfsae_activation; relu */
    DFSAE_MODEL_LAMBDA_LSE = 1,    /**< weight of L_lse; 1 */
    DFSAE_MODEL_LAMBDA_VAR = 2,    /**< weight of L_var; 1 */
    DFSAE_MODEL_LAMBDA_TC = 3,     /**< weight of L_tc; 1 */
    DFSAE_MODEL_LAMBDA_WR = 4,     /**< weight of L_wr; 0 */
    DFSAE_MODEL_EPS_VAR = 5,       /**< eps in log(v + eps); 1e-6 */
    DFSAE_MODEL_LSE_REDUCTION = 6, /**< dfsae_reduction; sum */
    DFSAE_MODEL_LEAKY_SLOPE = 7,   /**< leaky_relu's slope; 0.01 */
    /* 8: DFSAE_MODEL_GRAM_SIDE, experimental (part 4) */
    DFSAE_MODEL_SOFTMAX_TEMPERATURE = 9, /**< softmax's T; 1 */
    DFSAE_MODEL_WR_FORM = 10,            /**< dfsae_wr_form; normalised */
    DFSAE_MODEL_VAR_CAP = 11,      /**< L_var rewards c v / (v + c); 0: off */
    DFSAE_MODEL_MAX_ROW_NORM = 12, /**< steps end with ||w_k|| <= it; 0: off */
    DFSAE_MODEL_OPTION_COUNT
} dfsae_model_option;
/** Set / get option `key`: UNKNOWN_PARAM, PARAM_OUT_OF_RANGE (outside the
 *  bounds, or not an integer where one is needed). */
DFSAE_API int dfsae_model_set_option(dfsae_model *model, int key, double value);
DFSAE_API int dfsae_model_get_option(const dfsae_model *model, int key,
                                     double *value);
/** The valid range of option `key` (either pointer may be NULL). */
DFSAE_API int dfsae_model_option_bounds(int key, double *lo, double *hi);
/** Copy the parameters, W (K x D) then b (K), to / from `params` of `n` ==
 *  num_params floats; set refuses NaN/Inf (NON_FINITE_INPUT). */
DFSAE_API int dfsae_model_get_params(const dfsae_model *model, float *params,
                                     size_t n);
DFSAE_API int dfsae_model_set_params(dfsae_model *model, const float *params,
                                     size_t n);
/** Input transform X' = (X - shift) * scale for forward, loss, grad, training:
 *  per feature (n = D), global (n = 1) or none (NULL, NULL, 0; default).
 *  NON_FINITE_INPUT, INVALID_ARG (a zero scale), SIZE_MISMATCH (other n). */
DFSAE_API int dfsae_model_set_transform(dfsae_model *model, const float *shift,
                                        const float *scale, size_t n);
/** *n receives the transform's length (0, 1 or D); `shift` and `scale`,
 *  unless NULL, its values (`cap` >= *n floats, else SIZE_MISMATCH). */
DFSAE_API int dfsae_model_get_transform(const dfsae_model *model, float *shift,
                                        float *scale, size_t cap, size_t *n);
/** Loss terms, in the order loss and grad report them. */
typedef enum dfsae_term {
    DFSAE_TERM_LSE = 0,
    DFSAE_TERM_VAR = 1,
    DFSAE_TERM_TC = 2,
    DFSAE_TERM_WR = 3,
    DFSAE_TERM_COUNT
} dfsae_term;
/** The objective on n rows: `total` weighted, `terms` unweighted by dfsae_term
 *  (first min(n_terms, DFSAE_TERM_COUNT); weight 0: not computed, 0), both
 *  optional. INVALID_ARG (n == 0), BATCH_TOO_SMALL (n < 2 with L_var or L_tc),
 *  NON_FINITE_INPUT, NON_FINITE_RESULT. */
DFSAE_API int dfsae_model_loss(dfsae_model *model, const float *X, size_t n,
                               double *total, double *terms, size_t n_terms);

/* ---- Optimizers ---- */
typedef enum dfsae_optimizer_kind {
    DFSAE_SGD = 0,   /**< momentum, Nesterov, weight decay optional */
    DFSAE_ADAM = 1,  /**< bias-corrected, L2 weight decay */
    DFSAE_ADAMW = 2, /**< decoupled weight decay */
    DFSAE_OPTIMIZER_KIND_COUNT
} dfsae_optimizer_kind;
/** Hyper-parameters by kind (others: UNKNOWN_PARAM); PyTorch's defaults. */
typedef enum dfsae_optimizer_option {
    DFSAE_OPT_LR = 0,           /**< all; 1e-2 SGD, 1e-3 Adam(W) */
    DFSAE_OPT_WEIGHT_DECAY = 1, /**< all; 0 (AdamW: 1e-2) */
    DFSAE_OPT_MOMENTUM = 2,     /**< SGD; 0 */
    DFSAE_OPT_DAMPENING = 3,    /**< SGD; 0 */
    DFSAE_OPT_NESTEROV = 4,     /**< SGD; 0 or 1; 0 */
    DFSAE_OPT_BETA1 = 5,        /**< Adam(W); 0.9 */
    DFSAE_OPT_BETA2 = 6,        /**< Adam(W); 0.999 */
    DFSAE_OPT_EPS = 7,          /**< Adam(W); 1e-8 */
    DFSAE_OPT_COUNT
} dfsae_optimizer_option;
/** The kind (-1 for NULL), the steps since creation or reset (0 for NULL)
 *  and the message of the last failed call (never NULL). */
DFSAE_API int dfsae_optimizer_get_kind(const dfsae_optimizer *opt);
DFSAE_API uint64_t dfsae_optimizer_step_count(const dfsae_optimizer *opt);
DFSAE_API const char *dfsae_optimizer_last_error(const dfsae_optimizer *opt);
/** Set / get / bounds of a hyper-parameter, as for model options. */
DFSAE_API int dfsae_optimizer_set_option(dfsae_optimizer *opt, int key,
                                         double value);
DFSAE_API int dfsae_optimizer_get_option(const dfsae_optimizer *opt, int key,
                                         double *value);
DFSAE_API int dfsae_optimizer_option_bounds(int kind, int key, double *lo,
                                            double *hi);
/** Zero the moments and the step count; hyper-parameters stay. */
DFSAE_API void dfsae_optimizer_reset(dfsae_optimizer *opt);

/* ---- Model files (safetensors, docs/format.md) ---- */
#define DFSAE_FORMAT_VERSION     2   /**< written; older ones are read */
#define DFSAE_ERROR_MESSAGE_SIZE 256 /**< an `err` size holding any message */
#define DFSAE_MAX_HEADER_BYTES   100000000u /**< largest JSON header loaded */
/** As dfsae_model_save, into `buf` (`cap` bytes, else SIZE_MISMATCH; NULL: size
 *  only); *written receives the size. */
DFSAE_API int dfsae_model_save_buffer(dfsae_model *model,
                                      const dfsae_optimizer *opt, void *buf,
                                      size_t cap, size_t *written);
/** As dfsae_model_load, from the `size` bytes at `data` (not kept). */
DFSAE_API int dfsae_model_load_buffer(const void *data, size_t size,
                                      const dfsae_allocator *alloc,
                                      dfsae_model **model,
                                      dfsae_optimizer **opt, char *err,
                                      size_t err_size);
/** Load into an existing model (and `opt`): all they hold becomes the file's
 *  (defaults for what it lacks). SIZE_MISMATCH (D, K), INVALID_ARG (optimizer
 *  kind), BAD_HEADER (`opt` given, no optimizer state), as dfsae_model_load. */
DFSAE_API int dfsae_model_load_into(dfsae_model *model, dfsae_optimizer *opt,
                                    const char *path);
DFSAE_API int dfsae_model_load_buffer_into(dfsae_model *model,
                                           dfsae_optimizer *opt,
                                           const void *data, size_t size);
/** User metadata, saved as "user.KEY": set copies `value` (NULL deletes);
 *  keys 1-64 printable ASCII, values UTF-8 <= 16384 bytes, <= 256 pairs. */
DFSAE_API int dfsae_model_set_meta(dfsae_model *model, const char *key,
                                   const char *value);
/** The value or NULL, valid until the key changes or the model is loaded
 *  into or freed; the index-th key in byte order, NULL past the last. */
DFSAE_API const char *dfsae_model_get_meta(const dfsae_model *model,
                                           const char *key);
DFSAE_API const char *dfsae_model_meta_key(const dfsae_model *model,
                                           size_t index);

/* ======== 3. The convenience layer, built on the core (docs/training.md) */
/** Static names ("relu", "lse", "adam", "l0", ...), NULL if unknown. */
DFSAE_API const char *dfsae_activation_name(int activation);
DFSAE_API const char *dfsae_term_name(int term);
DFSAE_API const char *dfsae_optimizer_kind_name(int kind);
DFSAE_API const char *dfsae_metric_name(int metric);
/** Options of dfsae_model_train, _evaluate and their _source forms by key
 *  (NULL: the defaults); create, free, set / get / bounds as model options. */
typedef struct dfsae_train_config dfsae_train_config;
/** Training keys and their defaults; all integers but the tolerance. */
typedef enum dfsae_train_option {
    DFSAE_TRAIN_EPOCHS = 0,       /**< epochs this call runs; 1 */
    DFSAE_TRAIN_BATCH_SIZE = 1,   /**< rows per batch; 128 */
    DFSAE_TRAIN_SHUFFLE = 2,      /**< 0 no, 1 rows (or chunked), 2 chunked */
    DFSAE_TRAIN_REPORT_EVERY = 3, /**< steps per STEP report (0: none); 1 */
    DFSAE_TRAIN_EVAL_REDUNDANCY = 4,    /**< 0 or 1: evaluate's redundancy; 1 */
    DFSAE_TRAIN_CONVERGE_TOLERANCE = 5, /**< stop at |mean loss change| < it */
    DFSAE_TRAIN_CONVERGE_PATIENCE = 6,  /**< for this many epochs; 5 */
    DFSAE_TRAIN_SHUFFLE_CHUNK = 7,      /**< rows per chunk; 256 */
    DFSAE_TRAIN_SHUFFLE_WINDOW = 8,     /**< chunks per shuffle window; 16 */
    DFSAE_TRAIN_OPTION_COUNT
} dfsae_train_option;
DFSAE_API int dfsae_train_config_create(const dfsae_allocator *alloc,
                                        dfsae_train_config **out);
DFSAE_API void dfsae_train_config_free(dfsae_train_config *config);
DFSAE_API int dfsae_train_config_set(dfsae_train_config *config, int key,
                                     double value);
DFSAE_API int dfsae_train_config_get(const dfsae_train_config *config, int key,
                                     double *value);
DFSAE_API int dfsae_train_option_bounds(int key, double *lo, double *hi);
/** A progress report, valid during its callback only. */
typedef struct dfsae_progress dfsae_progress;
/** What a report is about: a step was taken, an epoch ended. */
typedef enum dfsae_progress_event {
    DFSAE_EVENT_STEP = 0,
    DFSAE_EVENT_EPOCH = 1
} dfsae_progress_event;
/** What dfsae_progress_get reads; counts are exact below 2^53. */
typedef enum dfsae_progress_key {
    DFSAE_PROGRESS_EVENT = 0, /**< dfsae_progress_event */
    DFSAE_PROGRESS_EPOCH = 1, /**< 0-based, over the whole run */
    DFSAE_PROGRESS_STEP = 2,  /**< in its epoch (EPOCH: its steps) */
    DFSAE_PROGRESS_STEPS_PER_EPOCH = 3,
    DFSAE_PROGRESS_STEPS_DONE = 4,      /**< in this call */
    DFSAE_PROGRESS_STEPS_TOTAL = 5,     /**< this call's, if not cancelled */
    DFSAE_PROGRESS_LOSS = 6,            /**< STEP: before it; EPOCH: mean */
    DFSAE_PROGRESS_BATCH_ROWS = 7,      /**< STEP: the batch's; EPOCH: all */
    DFSAE_PROGRESS_SAMPLES_PER_SEC = 8, /**< since the epoch started */
    DFSAE_PROGRESS_ELAPSED = 9,         /**< seconds since the call began */
    DFSAE_PROGRESS_CONVERGED = 10,      /**< 1 on the epoch it converged */
    DFSAE_PROGRESS_TERM_LSE = 11,       /**< unweighted terms, as LOSS: */
    DFSAE_PROGRESS_TERM_VAR = 12,       /**< TERM_LSE + t for dfsae_term t */
    DFSAE_PROGRESS_TERM_TC = 13,
    DFSAE_PROGRESS_TERM_WR = 14,
    DFSAE_PROGRESS_KEY_COUNT
} dfsae_progress_key;
/** The value of `key` (NaN for an unknown key or a NULL report). */
DFSAE_API double dfsae_progress_get(const dfsae_progress *report, int key);
/** STEP: the batch's row indices into X, in order; NULL for EPOCH. */
DFSAE_API const size_t *
dfsae_progress_batch_indices(const dfsae_progress *report);
/** Optional; called every DFSAE_TRAIN_REPORT_EVERY steps and epoch; may only
 *  read the model and optimizer; non-zero cancels (CANCELLED; steps kept). */
typedef int (*dfsae_progress_fn)(const dfsae_progress *report, void *user);
/** Run state, which files keep: epochs done, rows of the next epoch trained,
 *  shuffle seed (outputs optional); new: (0, 0, 0); steps: the optimizer's. */
DFSAE_API int dfsae_model_get_run_state(const dfsae_model *model,
                                        uint64_t *epochs, uint64_t *rows,
                                        uint64_t *seed);
DFSAE_API int dfsae_model_set_run_state(dfsae_model *model, uint64_t epochs,
                                        uint64_t rows, uint64_t seed);
/** n rows of D values read batch by batch: an array (in memory or mapped)
 *  or a callback reading the host's storage (docs/training.md). */
typedef struct dfsae_source dfsae_source;
/** Element types of a source: IEEE binary32, binary16, bfloat16. */
typedef enum dfsae_element {
    DFSAE_ELEM_F32 = 0,
    DFSAE_ELEM_F16 = 1,
    DFSAE_ELEM_BF16 = 2,
    DFSAE_ELEM_COUNT
} dfsae_element;
/** Read rows[0..count) (count <= 256; runs only if sequential) into `out`;
 *  non-zero fails the call reading (IO). Training may call it from a thread of
 *  its own, a batch ahead; one call at a time (see dfsae_experimental.h). */
typedef int (*dfsae_read_fn)(void *user, const size_t *rows, size_t count,
                             void *out);
/** A source over the n x D array X (kept, not copied; checked for NaN), or
 *  of rows `read` delivers (`sequential`: shuffling is chunked). */
DFSAE_API int dfsae_source_from_array(const void *X, int element, size_t n,
                                      size_t d, const dfsae_allocator *alloc,
                                      dfsae_source **out);
DFSAE_API int dfsae_source_from_callback(dfsae_read_fn read, void *user,
                                         int element, size_t n, size_t d,
                                         int sequential,
                                         const dfsae_allocator *alloc,
                                         dfsae_source **out);
/** Free a source (not its data). */
DFSAE_API void dfsae_source_free(dfsae_source *source);
/** Rows [first, first + count) as float32 into `out` (unchecked). */
DFSAE_API int dfsae_source_read(dfsae_source *source, size_t first,
                                size_t count, float *out);
/** Train DFSAE_TRAIN_EPOCHS more epochs on X's n rows, advancing the run state;
 *  epoch e's order depends on (seed, e) alone: resumed runs equal uninterrupted
 *  ones. With L_var or L_tc a last 1-row batch joins the previous. No step
 *  allocates. Before any step (no change): INVALID_ARG, SIZE_MISMATCH,
 *  NON_FINITE_INPUT, BATCH_TOO_SMALL; after: CANCELLED, a step's. */
DFSAE_API int dfsae_model_train(dfsae_model *model, dfsae_optimizer *opt,
                                const float *X, size_t n,
                                const dfsae_train_config *config,
                                dfsae_progress_fn progress, void *user);
/** As dfsae_model_train on `source`, holding one batch; a NaN row or a
 *  failed read stops the run (NON_FINITE_INPUT, IO). */
DFSAE_API int dfsae_model_train_source(dfsae_model *model, dfsae_optimizer *opt,
                                       dfsae_source *source,
                                       const dfsae_train_config *config,
                                       dfsae_progress_fn progress, void *user);
/** Metrics of dfsae_model_evaluate (docs/training.md). */
typedef enum dfsae_metric {
    DFSAE_METRIC_DEAD_UNITS = 0,        /**< unbiased variance < 0.01 */
    DFSAE_METRIC_L0 = 1,                /**< mean count of |A_ij| > 0.01 */
    DFSAE_METRIC_REDUNDANCY = 2,        /**< L_tc over the whole set */
    DFSAE_METRIC_RESP_ENTROPY = 3,      /**< mean -sum R log(R + 1e-8) */
    DFSAE_METRIC_WEIGHT_REDUNDANCY = 4, /**< L_wr of W */
    DFSAE_METRIC_MAX_RESP = 5,          /**< mean of max_j R_ij */
    DFSAE_METRIC_MEAN_ACTIVATION = 6,   /**< mean of A */
    DFSAE_METRIC_MAX_ACTIVATION = 7,    /**< max of |A_ij| */
    DFSAE_METRIC_MAX_VARIANCE = 8,      /**< largest unit variance */
    DFSAE_METRIC_COUNT
} dfsae_metric;
/** The first min(n_metrics, DFSAE_METRIC_COUNT) metrics over n >= 2 rows in
 *  batches: 12 K^2 bytes if redundancy is on, 8 K D, a batch (training.md). */
DFSAE_API int dfsae_model_evaluate(dfsae_model *model, const float *X, size_t n,
                                   const dfsae_train_config *config,
                                   double *metrics, size_t n_metrics);
/** As dfsae_model_evaluate, over the rows of `source`, in order. */
DFSAE_API int dfsae_model_evaluate_source(dfsae_model *model,
                                          dfsae_source *source,
                                          const dfsae_train_config *config,
                                          double *metrics, size_t n_metrics);

#ifdef __cplusplus
}
#endif

/* ======== 4. Experimental: model threads, reserve, the Gram side, in
 * dfsae_experimental.h, included only if DFSAE_STATIC_LINKING_ONLY is
 * defined before this header; the distributed seam is in dfsae_dist.h. */
#ifdef DFSAE_STATIC_LINKING_ONLY
#include "dfsae_experimental.h"
#endif /* DFSAE_STATIC_LINKING_ONLY */

#endif /* DFSAE_H */
