/*
 * dfsae - decoder-free sparse autoencoders.
 *
 * One linear layer and an activation, A = phi(X W^T + b), trained without a
 * decoder on a log-sum-exp objective plus InfoMax regularisers (see
 * docs/math.md for the exact objective and its gradients).
 *
 * ABI policy: while the major version is 0, the SONAME carries 0.MINOR and
 * a minor release may break the ABI. From 1.0 on, releases with the same
 * major version are binary compatible: they only append functions, enum
 * values and status codes. No struct layout is public except
 * dfsae_allocator, which never changes. Values of published enums and
 * status codes never change.
 *
 * Error rules (docs/api.md): every fallible call returns a dfsae_status
 * (DFSAE_OK == 0, errors negative) and passes results through out pointers.
 * A call that fails leaves the model's parameters and options and the
 * optimizer's state bit-identical. The library never prints, aborts or
 * exits; the handle's last error message says what went wrong.
 *
 * Threading: a handle may be used by one thread at a time, except that any
 * number of threads may call dfsae_model_forward on one model at once
 * while no other call changes it. Distinct handles are independent. All
 * functions that take no handle are thread-safe. A model may run its
 * elementwise work on worker threads of its own (dfsae_model_set_threads);
 * matrix products use the BLAS's threads.
 */
#ifndef DFSAE_H
#define DFSAE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Export and deprecation macros ------------------------------------ */

#if defined(_WIN32) && defined(DFSAE_BUILDING_SHARED) && defined(DFSAE_SHARED)
#error "Define either DFSAE_BUILDING_SHARED or DFSAE_SHARED, not both"
#endif

#if defined(_WIN32)
#if defined(DFSAE_BUILDING_SHARED)
#define DFSAE_API __declspec(dllexport)
#elif defined(DFSAE_SHARED)
#define DFSAE_API __declspec(dllimport)
#else
#define DFSAE_API
#endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#define DFSAE_API __attribute__((visibility("default")))
#else
#define DFSAE_API
#endif

#if defined(__GNUC__) || defined(__clang__)
#define DFSAE_DEPRECATED(msg) __attribute__((deprecated(msg)))
#elif defined(_MSC_VER)
#define DFSAE_DEPRECATED(msg) __declspec(deprecated(msg))
#else
#define DFSAE_DEPRECATED(msg)
#endif

/* ---- Version ----------------------------------------------------------- */

#define DFSAE_VERSION_MAJOR 0
#define DFSAE_VERSION_MINOR 1
#define DFSAE_VERSION_PATCH 0
#define DFSAE_VERSION_NUMBER                                                   \
    (DFSAE_VERSION_MAJOR * 10000 + DFSAE_VERSION_MINOR * 100 +                 \
     DFSAE_VERSION_PATCH)
#define DFSAE_VERSION_STRING "0.1.0"

/** The DFSAE_VERSION_NUMBER the library was built with; compare it with the
 *  header's to detect a header/library mismatch. */
DFSAE_API unsigned dfsae_version_number(void);
/** The DFSAE_VERSION_STRING the library was built with. */
DFSAE_API const char *dfsae_version_string(void);

/* ---- Status codes ------------------------------------------------------ */

/** Status codes. Values are pinned; new codes are only appended. */
typedef enum dfsae_status {
    DFSAE_OK = 0,
    DFSAE_ERR_NULL_ARG = -1,           /**< a required pointer was NULL */
    DFSAE_ERR_INVALID_ARG = -2,        /**< an argument has an invalid value */
    DFSAE_ERR_SIZE_OVERFLOW = -3,      /**< a size or count overflows */
    DFSAE_ERR_NO_MEMORY = -4,          /**< the allocator returned NULL */
    DFSAE_ERR_BATCH_TOO_SMALL = -5,    /**< B = 1 with a variance-based term */
    DFSAE_ERR_NON_FINITE_INPUT = -6,   /**< NaN or Inf in an input buffer */
    DFSAE_ERR_NON_FINITE_RESULT = -7,  /**< a result overflowed float */
    DFSAE_ERR_UNKNOWN_PARAM = -8,      /**< no such parameter key */
    DFSAE_ERR_PARAM_OUT_OF_RANGE = -9, /**< value outside dfsae_*_bounds */
    DFSAE_ERR_SIZE_MISMATCH = -10,     /**< buffer or handle sizes disagree */
    /* Model files (docs/format.md): -11 to -20. */
    DFSAE_ERR_IO = -11,        /**< open/read/write/fsync/rename failed */
    DFSAE_ERR_TRUNCATED = -12, /**< the file ends before its data */
    DFSAE_ERR_HEADER_TOO_LARGE = -13, /**< header above the documented caps */
    DFSAE_ERR_BAD_HEADER = -14,       /**< not UTF-8 JSON, or not safetensors */
    DFSAE_ERR_DUPLICATE_KEY = -15,    /**< a JSON object repeats a key */
    DFSAE_ERR_BAD_OFFSETS = -16,      /**< offsets out of range/overlap/gap */
    DFSAE_ERR_BAD_DTYPE = -17,        /**< unknown dtype, or not F32 */
    DFSAE_ERR_BAD_SHAPE = -18,        /**< wrong rank or inconsistent shapes */
    DFSAE_ERR_BAD_METADATA = -19,     /**< bad metadata or optimizer state */
    DFSAE_ERR_UNSUPPORTED_VERSION = -20, /**< format newer than this library */
    DFSAE_ERR_CANCELLED = -21,           /**< a progress callback cancelled */
    DFSAE_ERR_THREAD = -22               /**< a worker thread could not start */
} dfsae_status;

/** A static, human-readable name for a status code (never NULL). */
DFSAE_API const char *dfsae_status_string(int status);

/* ---- Allocation -------------------------------------------------------- */

/** Optional allocator hook. `alloc` must return memory aligned for any
 *  object type, like malloc. Passing NULL where an allocator is accepted,
 *  or a struct with both functions NULL, means malloc/free; one function
 *  without the other is DFSAE_ERR_INVALID_ARG. The struct is copied;
 *  `opaque` is passed back. */
typedef struct dfsae_allocator {
    void *(*alloc)(void *opaque, size_t size);
    void (*free)(void *opaque, void *ptr);
    void *opaque;
} dfsae_allocator;

/* ---- Model ------------------------------------------------------------- */

/** An encoder A = phi(X W^T + b) with its objective and workspace. */
typedef struct dfsae_model dfsae_model;

/** Activation functions phi. Values are pinned; new ones are appended. */
typedef enum dfsae_activation {
    DFSAE_ACT_RELU = 0,
    DFSAE_ACT_SOFTPLUS = 1,
    DFSAE_ACT_IDENTITY = 2,
    DFSAE_ACT_LEAKY_RELU = 3, /**< slope DFSAE_MODEL_LEAKY_SLOPE for z < 0 */
    DFSAE_ACT_TANH = 4,
    /** Row-wise: a_ij = exp(z_ij / T) / sum_l exp(z_il / T), T =
     *  DFSAE_MODEL_SOFTMAX_TEMPERATURE; the units of a row compete. */
    DFSAE_ACT_SOFTMAX = 5,
    DFSAE_ACT_COUNT
} dfsae_activation;

/** Static name of an activation ("relu", ...), or NULL if unknown. */
DFSAE_API const char *dfsae_activation_name(int activation);

/** How L_lse reduces over the rows of a batch. */
typedef enum dfsae_reduction {
    DFSAE_REDUCE_SUM = 0, /**< default, as in the published study */
    DFSAE_REDUCE_MEAN = 1
} dfsae_reduction;

/** Which side of a Gram matrix L_tc and L_wr are computed on. */
typedef enum dfsae_gram_side {
    DFSAE_GRAM_AUTO = 0,    /**< the cheaper side (default) */
    DFSAE_GRAM_FEATURE = 1, /**< K x K (components x components) */
    DFSAE_GRAM_SAMPLE = 2   /**< B x B for L_tc, D x D for L_wr */
} dfsae_gram_side;

/** The form of L_wr (DFSAE_MODEL_WR_FORM). */
typedef enum dfsae_wr_form {
    /** ||Wn Wn^T - I_K||_F^2, rows of W normalised (default, as the
     *  method's authors implemented it) */
    DFSAE_WR_NORMALISED = 0,
    /** ||W^T W - I_D||_F^2 on W as it is (the derivation's form); its
     *  minimum is D - K, not 0, when K < D */
    DFSAE_WR_UNNORMALISED = 1
} dfsae_wr_form;

/** Model options, set one at a time by key. All values travel as double;
 *  enumerated options take the enum value. Keys are pinned. */
typedef enum dfsae_model_option {
    DFSAE_MODEL_ACTIVATION = 0,          /**< dfsae_activation, default relu */
    DFSAE_MODEL_LAMBDA_LSE = 1,          /**< weight of L_lse, default 1 */
    DFSAE_MODEL_LAMBDA_VAR = 2,          /**< weight of L_var, default 1 */
    DFSAE_MODEL_LAMBDA_TC = 3,           /**< weight of L_tc, default 1 */
    DFSAE_MODEL_LAMBDA_WR = 4,           /**< weight of L_wr, default 0 */
    DFSAE_MODEL_EPS_VAR = 5,             /**< eps inside log(v + eps), 1e-6 */
    DFSAE_MODEL_LSE_REDUCTION = 6,       /**< dfsae_reduction, default sum */
    DFSAE_MODEL_LEAKY_SLOPE = 7,         /**< leaky_relu slope, default 0.01 */
    DFSAE_MODEL_GRAM_SIDE = 8,           /**< dfsae_gram_side, default auto */
    DFSAE_MODEL_SOFTMAX_TEMPERATURE = 9, /**< softmax's T, [1e-3, 1e3]; 1 */
    DFSAE_MODEL_WR_FORM = 10, /**< dfsae_wr_form, default normalised */
    DFSAE_MODEL_OPTION_COUNT
} dfsae_model_option;

/** The loss terms, in the order dfsae_model_loss reports them. */
typedef enum dfsae_term {
    DFSAE_TERM_LSE = 0,
    DFSAE_TERM_VAR = 1,
    DFSAE_TERM_TC = 2,
    DFSAE_TERM_WR = 3,
    DFSAE_TERM_COUNT
} dfsae_term;

/** Static name of a loss term ("lse", "var", "tc", "wr"), or NULL. */
DFSAE_API const char *dfsae_term_name(int term);

/**
 * Create a model with input dimension `d_in` (D) and `n_components` (K).
 * W and b are drawn from uniform(-1/sqrt(D), 1/sqrt(D)) with a generator
 * seeded by `seed` (PyTorch nn.Linear's default initialisation; the same
 * seed gives the same parameters on every platform). Options take their
 * defaults. `allocator` may be NULL (malloc). On success *out owns the
 * model; on failure *out is set to NULL.
 * @return DFSAE_OK, DFSAE_ERR_NULL_ARG, DFSAE_ERR_INVALID_ARG (a zero
 *         size), DFSAE_ERR_SIZE_OVERFLOW or DFSAE_ERR_NO_MEMORY.
 */
DFSAE_API int dfsae_model_create(size_t d_in, size_t n_components,
                                 uint64_t seed,
                                 const dfsae_allocator *allocator,
                                 dfsae_model **out);

/** Free a model and its workspace. NULL is a no-op. */
DFSAE_API void dfsae_model_free(dfsae_model *model);

/** Input dimension D (0 if `model` is NULL). */
DFSAE_API size_t dfsae_model_input_dim(const dfsae_model *model);
/** Number of components K (0 if `model` is NULL). */
DFSAE_API size_t dfsae_model_num_components(const dfsae_model *model);
/** Number of parameters, K * D + K (0 if `model` is NULL). */
DFSAE_API size_t dfsae_model_num_params(const dfsae_model *model);

/** The detail message of the last failed call on `model`: never NULL, ""
 *  if no call has failed. Valid until the next call on the model. */
DFSAE_API const char *dfsae_model_last_error(const dfsae_model *model);

/** Set option `param` to `value`. Enumerated options must hold an exact
 *  integer. @return DFSAE_OK, DFSAE_ERR_NULL_ARG, DFSAE_ERR_UNKNOWN_PARAM
 *  or DFSAE_ERR_PARAM_OUT_OF_RANGE (the option keeps its value). */
DFSAE_API int dfsae_model_set_option(dfsae_model *model, int param,
                                     double value);
/** Read option `param` into *value. */
DFSAE_API int dfsae_model_get_option(const dfsae_model *model, int param,
                                     double *value);
/** Valid range [*lo, *hi] of option `param` (either pointer may be NULL). */
DFSAE_API int dfsae_model_option_bounds(int param, double *lo, double *hi);

/** Copy the parameters, W (K x D row-major) then b (K), into `params`,
 *  which holds `n` floats; `n` must equal dfsae_model_num_params. */
DFSAE_API int dfsae_model_get_params(const dfsae_model *model, float *params,
                                     size_t n);
/** Replace the parameters with `params` (`n` floats, layout as in
 *  get_params). Rejects NaN/Inf (DFSAE_ERR_NON_FINITE_INPUT) without
 *  changing the model. */
DFSAE_API int dfsae_model_set_params(dfsae_model *model, const float *params,
                                     size_t n);

/**
 * Set the input transform that forward, loss, gradient and training apply
 * to X before the linear layer: X' = (X - shift) * scale, per feature
 * (n = D values in each array) or global (n = 1); NULL, NULL, 0 restores
 * the identity, the default. Gradients are with respect to W and b, X'
 * fixed. Forward then transforms blocks of rows on the caller's stack
 * (32 KiB); loss and gradient into the workspace (B x D floats more).
 * @return DFSAE_OK, DFSAE_ERR_NULL_ARG, DFSAE_ERR_SIZE_MISMATCH (n not 0,
 *         1 or D), DFSAE_ERR_NON_FINITE_INPUT, DFSAE_ERR_INVALID_ARG (a
 *         scale of 0, or arrays with n = 0) or DFSAE_ERR_NO_MEMORY; the
 *         model keeps its transform on failure.
 */
DFSAE_API int dfsae_model_set_transform(dfsae_model *model, const float *shift,
                                        const float *scale, size_t n);
/** The input transform: *n receives its length (0: identity, 1 or D);
 *  `shift` and `scale`, when not NULL, receive its values and must hold
 *  `cap` >= *n floats (DFSAE_ERR_SIZE_MISMATCH, nothing copied). */
DFSAE_API int dfsae_model_get_transform(const dfsae_model *model, float *shift,
                                        float *scale, size_t cap, size_t *n);

/**
 * Run the model's elementwise work (the sweeps over a batch in loss,
 * gradient and training, and an optimizer step on this model) on
 * `n_threads` threads: the caller and n_threads - 1 workers the model
 * starts here and joins in dfsae_model_free. 1, the default, starts
 * none. Matrix products run on the BLAS's own threads (OpenBLAS:
 * OPENBLAS_NUM_THREADS or openblas_set_num_threads). Forward and evaluate
 * run on the caller. Workers sleep while idle, so they leave the
 * cores to the BLAS during the products, but a BLAS whose idle threads
 * spin takes the cores from them (OpenBLAS: set OPENBLAS_THREAD_TIMEOUT=4;
 * docs/api.md, section 8). Work too small to gain (under 64k items, e.g.
 * 128 x 64 activations) stays on the caller. Results are bit-identical for
 * every n_threads. Models loaded from files start with 1. A model with
 * workers must not be used in the child of a fork().
 * @return DFSAE_OK, DFSAE_ERR_NULL_ARG, DFSAE_ERR_PARAM_OUT_OF_RANGE
 *         (n_threads outside [1, 64]), DFSAE_ERR_NO_MEMORY or
 *         DFSAE_ERR_THREAD (the model keeps its previous threads).
 */
DFSAE_API int dfsae_model_set_threads(dfsae_model *model, int n_threads);
/** The model's thread count (dfsae_model_set_threads); 0 if `model` is
 *  NULL. */
DFSAE_API int dfsae_model_threads(const dfsae_model *model);

/**
 * Size the workspace for batches of up to `max_batch` rows under the
 * current options, so that no later loss, gradient or training step on
 * such batches allocates (forward never does). Enabling L_tc or L_wr, or
 * forcing a Gram side, later may need more memory: call it again after changing
 * options. Optional: the workspace otherwise grows on first use.
 */
DFSAE_API int dfsae_model_reserve(dfsae_model *model, size_t max_batch);

/**
 * Encode n rows: A = phi(X W^T + b). Reads the model only and allocates
 * nothing, so any number of threads may call it on one model at once
 * while no other call changes that model. Runs on the calling thread (and
 * the BLAS's); any n >= 1 is valid. Errors are reported by status alone;
 * on error no output is written.
 * @param X  n x D row-major inputs (caller-owned, read only, finite).
 * @param A  n x K output activations.
 * @param Z  optional n x K output pre-activations X W^T + b, or NULL.
 * @param R  optional n x K output responsibilities softmax(-A) row-wise,
 *           or NULL.
 * @return DFSAE_OK, DFSAE_ERR_NULL_ARG, DFSAE_ERR_INVALID_ARG (n == 0, or
 *         two outputs are the same buffer), DFSAE_ERR_SIZE_OVERFLOW,
 *         DFSAE_ERR_NON_FINITE_INPUT or DFSAE_ERR_NON_FINITE_RESULT (the
 *         product X W^T, a requested Z or A overflows float; the outputs
 *         are then unspecified).
 */
DFSAE_API int dfsae_model_forward(const dfsae_model *model, const float *X,
                                  size_t n, float *A, float *Z, float *R);

/**
 * Evaluate the objective on a batch of n rows.
 * @param total  optional out: the weighted sum of the enabled terms.
 * @param terms  optional out: the unweighted value of each term, indexed by
 *               dfsae_term; terms whose weight is 0 are reported as 0 and
 *               cost nothing. Only the first min(n_terms, DFSAE_TERM_COUNT)
 *               entries are written.
 * Returns DFSAE_ERR_BATCH_TOO_SMALL if n < 2 and lambda_var or lambda_tc is
 * non-zero.
 */
DFSAE_API int dfsae_model_loss(dfsae_model *model, const float *X, size_t n,
                               double *total, double *terms, size_t n_terms);

/**
 * Evaluate the objective and its gradient with respect to the parameters
 * (layout as in dfsae_model_get_params).
 * @param grad  num_params floats to receive dL/dparams (required). On
 *              error its contents are unspecified.
 * Other arguments as in dfsae_model_loss.
 */
DFSAE_API int dfsae_model_grad(dfsae_model *model, const float *X, size_t n,
                               float *grad, double *total, double *terms,
                               size_t n_terms);

/* ---- Optimizers -------------------------------------------------------- */

/** An optimizer's state (moments, step count) and hyper-parameters. */
typedef struct dfsae_optimizer dfsae_optimizer;

/** Optimizer kinds. Values are pinned; new kinds are appended. */
typedef enum dfsae_optimizer_kind {
    DFSAE_SGD = 0,   /**< SGD, optional momentum/Nesterov/weight decay */
    DFSAE_ADAM = 1,  /**< Adam, bias-corrected, L2 weight decay */
    DFSAE_ADAMW = 2, /**< Adam with decoupled weight decay */
    DFSAE_OPTIMIZER_KIND_COUNT
} dfsae_optimizer_kind;

/** Static name of an optimizer kind ("sgd", "adam", "adamw"), or NULL. */
DFSAE_API const char *dfsae_optimizer_kind_name(int kind);

/** Optimizer hyper-parameters (PyTorch's names and defaults). A key that
 *  does not apply to the optimizer's kind is DFSAE_ERR_UNKNOWN_PARAM. */
typedef enum dfsae_optimizer_option {
    DFSAE_OPT_LR = 0,           /**< all kinds; 1e-2 SGD, 1e-3 Adam(W) */
    DFSAE_OPT_WEIGHT_DECAY = 1, /**< all; 0 (AdamW: 1e-2) */
    DFSAE_OPT_MOMENTUM = 2,     /**< SGD; 0 */
    DFSAE_OPT_DAMPENING = 3,    /**< SGD; 0 */
    DFSAE_OPT_NESTEROV = 4,     /**< SGD; 0 or 1, default 0 */
    DFSAE_OPT_BETA1 = 5,        /**< Adam(W); 0.9 */
    DFSAE_OPT_BETA2 = 6,        /**< Adam(W); 0.999 */
    DFSAE_OPT_EPS = 7,          /**< Adam(W); 1e-8 */
    DFSAE_OPT_COUNT
} dfsae_optimizer_option;

/**
 * Create an optimizer of `kind` for `n_params` parameters (use
 * dfsae_model_num_params) with default hyper-parameters.
 * @return DFSAE_OK, DFSAE_ERR_NULL_ARG, DFSAE_ERR_INVALID_ARG (unknown kind
 *         or n_params == 0), DFSAE_ERR_SIZE_OVERFLOW or DFSAE_ERR_NO_MEMORY.
 */
DFSAE_API int dfsae_optimizer_create(int kind, size_t n_params,
                                     const dfsae_allocator *allocator,
                                     dfsae_optimizer **out);
/** Free an optimizer. NULL is a no-op. */
DFSAE_API void dfsae_optimizer_free(dfsae_optimizer *opt);

/** The optimizer's kind, or -1 if `opt` is NULL. */
DFSAE_API int dfsae_optimizer_get_kind(const dfsae_optimizer *opt);
/** Steps taken since creation or the last reset (0 if `opt` is NULL). */
DFSAE_API uint64_t dfsae_optimizer_step_count(const dfsae_optimizer *opt);
/** Detail message of the last failed call on `opt` (never NULL). */
DFSAE_API const char *dfsae_optimizer_last_error(const dfsae_optimizer *opt);

/** Set / get a hyper-parameter; bounds as dfsae_optimizer_option_bounds. */
DFSAE_API int dfsae_optimizer_set_option(dfsae_optimizer *opt, int param,
                                         double value);
DFSAE_API int dfsae_optimizer_get_option(const dfsae_optimizer *opt, int param,
                                         double *value);
/** Valid range of hyper-parameter `param` for optimizer `kind`. */
DFSAE_API int dfsae_optimizer_option_bounds(int kind, int param, double *lo,
                                            double *hi);

/** Zero the moments and the step count; hyper-parameters are kept. */
DFSAE_API void dfsae_optimizer_reset(dfsae_optimizer *opt);

/**
 * Apply one update to `model`'s parameters with gradient `grad`
 * (num_params floats, required; DFSAE_ERR_NULL_ARG otherwise).
 * Nothing changes when the call fails: a non-finite gradient
 * (DFSAE_ERR_NON_FINITE_INPUT), a size mismatch (DFSAE_ERR_SIZE_MISMATCH),
 * a step count at its limit of 2^53 (DFSAE_ERR_SIZE_OVERFLOW; reset),
 * Nesterov without momentum or with dampening (DFSAE_ERR_INVALID_ARG), an
 * update that would overflow float (DFSAE_ERR_NON_FINITE_RESULT).
 */
DFSAE_API int dfsae_optimizer_step(dfsae_optimizer *opt, dfsae_model *model,
                                   const float *grad);

/**
 * One training step on the n rows of X: the gradient (into the model's
 * workspace) and `opt`'s update of the model's parameters with it, as
 * dfsae_model_grad then dfsae_optimizer_step would, bit for bit, but
 * scanning the gradient once. *loss and terms (optional, as in
 * dfsae_model_loss) receive the objective at the parameters before the
 * step. A step that fails changes neither the model's parameters and
 * options nor the optimizer's state; the detail message goes to the model.
 * The first step allocates the gradient and workspace unless
 * dfsae_model_reserve did; later ones allocate nothing.
 * @return DFSAE_OK, a status of dfsae_model_grad or of
 *         dfsae_optimizer_step (DFSAE_ERR_NULL_ARG for a NULL `opt`).
 */
DFSAE_API int dfsae_train_step(dfsae_model *model, dfsae_optimizer *opt,
                               const float *X, size_t n, double *loss,
                               double *terms, size_t n_terms);

/* ---- Training and evaluation ------------------------------------------ */

/*
 * A convenience layer over the four verbs (docs/training.md): epochs over an
 * in-memory data set with shuffling, evaluation metrics over a whole data
 * set, in batches. Host code that wants its own loop calls
 * dfsae_train_step (or dfsae_model_grad and dfsae_optimizer_step)
 * directly.
 */

/** Options of dfsae_model_train and dfsae_model_evaluate (batch size,
 *  epochs, shuffling), set by key. */
typedef struct dfsae_train_config dfsae_train_config;

/** Keys of dfsae_train_config. All values travel as double and all but
 *  DFSAE_TRAIN_CONVERGE_TOLERANCE are integers. Keys are pinned; new keys
 *  are appended. */
typedef enum dfsae_train_option {
    DFSAE_TRAIN_EPOCHS = 0,             /**< epochs this call runs, >= 1; 1 */
    DFSAE_TRAIN_BATCH_SIZE = 1,         /**< rows per batch, >= 1; 128 */
    DFSAE_TRAIN_SHUFFLE = 2,            /**< 0: in order; 1: rows permuted (a
                                             sequential source: chunked); 2:
                                             chunked shuffle; 1 */
    DFSAE_TRAIN_REPORT_EVERY = 3,       /**< a STEP report every this many steps
                                             (0: epoch reports only); 1 */
    DFSAE_TRAIN_EVAL_REDUNDANCY = 4,    /**< 0 or 1: dfsae_model_evaluate
                                             computes the redundancy (and
                                             allocates its K x K accumulator);
                                             when 0 it is reported as NaN; 1 */
    DFSAE_TRAIN_CONVERGE_TOLERANCE = 5, /**< >= 0; 0 (default): off. Stop
                                          after an epoch once the epoch's mean
                                          loss has changed by less than this
                                          from the epoch before for PATIENCE
                                          epochs in a row (counted within the
                                          call; DFSAE_PROGRESS_CONVERGED) */
    DFSAE_TRAIN_CONVERGE_PATIENCE = 6,  /**< epochs in a row, >= 1; 5 */
    DFSAE_TRAIN_SHUFFLE_CHUNK = 7,      /**< rows per chunk of the chunked
                                             shuffle, >= 1; 256 */
    DFSAE_TRAIN_SHUFFLE_WINDOW = 8,     /**< chunks per window of the chunked
                                             shuffle, >= 1; 16 */
    DFSAE_TRAIN_OPTION_COUNT
} dfsae_train_option;

/** Create a config with default values; `allocator` may be NULL. */
DFSAE_API int dfsae_train_config_create(const dfsae_allocator *allocator,
                                        dfsae_train_config **out);
/** Free a config. NULL is a no-op. */
DFSAE_API void dfsae_train_config_free(dfsae_train_config *config);
/** Set / get a key. @return DFSAE_OK, DFSAE_ERR_NULL_ARG,
 *  DFSAE_ERR_UNKNOWN_PARAM or DFSAE_ERR_PARAM_OUT_OF_RANGE (the value is
 *  outside dfsae_train_option_bounds or not an integer; nothing changes). */
DFSAE_API int dfsae_train_config_set(dfsae_train_config *config, int param,
                                     double value);
DFSAE_API int dfsae_train_config_get(const dfsae_train_config *config,
                                     int param, double *value);
/** Valid range [*lo, *hi] of key `param` (either pointer may be NULL). */
DFSAE_API int dfsae_train_option_bounds(int param, double *lo, double *hi);

/** A progress report, valid only during the callback it is passed to. */
typedef struct dfsae_progress dfsae_progress;

/** What a progress report is about. Values are pinned. */
typedef enum dfsae_progress_event {
    DFSAE_EVENT_STEP = 0, /**< one optimizer step was taken */
    DFSAE_EVENT_EPOCH = 1 /**< an epoch was completed */
} dfsae_progress_event;

/**
 * Progress callback. Called after a step (every DFSAE_TRAIN_REPORT_EVERY
 * steps) and after every epoch. Returning non-zero cancels: training stops
 * there and dfsae_model_train returns DFSAE_ERR_CANCELLED with the model
 * holding the parameters after the last completed step. The callback may
 * read the model (get_params, forward, loss) but must not change its
 * parameters or options, step the optimizer, or free either.
 */
typedef int (*dfsae_progress_fn)(const dfsae_progress *report, void *user);

/** What dfsae_progress_get reads. Values are pinned; keys are appended.
 *  Counts are exact integers (below 2^53). */
typedef enum dfsae_progress_key {
    DFSAE_PROGRESS_EVENT = 0, /**< DFSAE_EVENT_STEP or DFSAE_EVENT_EPOCH */
    DFSAE_PROGRESS_EPOCH = 1, /**< 0-based epoch in the model's whole
                                   training (run state, see
                                   dfsae_model_get_run_state) */
    DFSAE_PROGRESS_STEP = 2,  /**< 0-based step within its epoch, also in an
                                   epoch continued from the run state
                                   (EPOCH: the epoch's step count) */
    DFSAE_PROGRESS_STEPS_PER_EPOCH = 3, /**< depends on n, the batch size
                                             and the batch-of-1 rule */
    DFSAE_PROGRESS_STEPS_DONE = 4,      /**< steps completed in this call */
    DFSAE_PROGRESS_STEPS_TOTAL = 5,     /**< steps this call takes if not
                                             cancelled (for an ETA) */
    DFSAE_PROGRESS_LOSS = 6,            /**< STEP: the batch's loss at the
                                             parameters before the step (as
                                             dfsae_model_loss); EPOCH: the mean
                                             of the epoch's step losses */
    DFSAE_PROGRESS_BATCH_ROWS = 7,      /**< STEP: rows in the batch; EPOCH:
                                             rows seen in the epoch */
    DFSAE_PROGRESS_SAMPLES_PER_SEC = 8, /**< rows per second of wall time
                                             since the epoch started */
    DFSAE_PROGRESS_ELAPSED = 9,         /**< wall-clock seconds since the call
                                             started */
    DFSAE_PROGRESS_CONVERGED = 10,      /**< 1 on the EPOCH report of the epoch
                                             at which training converged
                                             (DFSAE_TRAIN_CONVERGE_TOLERANCE;
                                             the call then returns DFSAE_OK),
                                             else 0 */
    /* The unweighted loss terms, as LOSS: DFSAE_PROGRESS_TERM_LSE + t for
     * dfsae_term t. */
    DFSAE_PROGRESS_TERM_LSE = 11,
    DFSAE_PROGRESS_TERM_VAR = 12,
    DFSAE_PROGRESS_TERM_TC = 13,
    DFSAE_PROGRESS_TERM_WR = 14,
    DFSAE_PROGRESS_KEY_COUNT
} dfsae_progress_key;

/** The value of `key` in `report`; NaN for a NULL report or an unknown
 *  key. */
DFSAE_API double dfsae_progress_get(const dfsae_progress *report, int key);
/** STEP: the batch's row indices into X (BATCH_ROWS of them, in the order
 *  they were used); NULL for EPOCH reports and a NULL report. */
DFSAE_API const size_t *
dfsae_progress_batch_indices(const dfsae_progress *report);

/** The run state dfsae_model_train keeps in the model and model files
 *  carry: `epochs` completed, `rows` of the next epoch already trained (0
 *  unless training stopped mid-epoch), and the shuffle `seed`. A new model,
 *  and one loaded from a file without run state, starts at (0, 0, 0). The
 *  step count is the optimizer's
 *  (dfsae_optimizer_step_count). Any pointer may be NULL. */
DFSAE_API int dfsae_model_get_run_state(const dfsae_model *model,
                                        uint64_t *epochs, uint64_t *rows,
                                        uint64_t *seed);
/** Set the run state, e.g. (0, 0, seed) to train again from the first
 *  epoch's order with another seed. */
DFSAE_API int dfsae_model_set_run_state(dfsae_model *model, uint64_t epochs,
                                        uint64_t rows, uint64_t seed);

/* ---- Data sources -------------------------------------------------------
 * Training and evaluation can pull their batches from a source instead of
 * one float32 array: rows of float32, float16 or bfloat16 (host byte order)
 * in memory or in a file the caller mapped, or rows that a callback reads
 * from the host's own storage. Rows are widened to float32 batch by batch,
 * so memory is bounded by the batch, not the data (docs/training.md). */

/** A data set of n rows of D values. */
typedef struct dfsae_source dfsae_source;

/** Element types of a source. Values are pinned. */
typedef enum dfsae_element {
    DFSAE_ELEM_F32 = 0,  /**< IEEE binary32 */
    DFSAE_ELEM_F16 = 1,  /**< IEEE binary16 */
    DFSAE_ELEM_BF16 = 2, /**< bfloat16: the top 16 bits of a binary32 */
    DFSAE_ELEM_COUNT
} dfsae_element;

/** Reads rows rows[0..count) (count <= 256, each < n) into `out`, count x D
 *  elements of the source's type, row after row. A sequential source is
 *  only asked for runs of consecutive rows. Returns 0, or non-zero to fail
 *  the call that reads (which then returns DFSAE_ERR_IO). */
typedef int (*dfsae_read_fn)(void *user, const size_t *rows, size_t count,
                             void *out);

/** A source over the n x D row-major array X of `element`s (caller-owned,
 *  read only, not copied: it must outlive the source). NaN/Inf in X are
 *  found before training starts. @return DFSAE_OK, DFSAE_ERR_NULL_ARG,
 *  DFSAE_ERR_INVALID_ARG (a zero size, an unknown element),
 *  DFSAE_ERR_SIZE_OVERFLOW or DFSAE_ERR_NO_MEMORY. */
DFSAE_API int dfsae_source_from_array(const void *X, int element, size_t n,
                                      size_t d,
                                      const dfsae_allocator *allocator,
                                      dfsae_source **out);
/** A source whose rows `read` delivers. `sequential` (0 or 1) says the
 *  storage reads runs of rows only: shuffling is then chunked. Rows are
 *  checked for NaN/Inf as they are read. Statuses as from_array. */
DFSAE_API int dfsae_source_from_callback(dfsae_read_fn read, void *user,
                                         int element, size_t n, size_t d,
                                         int sequential,
                                         const dfsae_allocator *allocator,
                                         dfsae_source **out);
/** Free a source (not the data it reads). NULL is a no-op. */
DFSAE_API void dfsae_source_free(dfsae_source *source);
/** Rows [first, first + count) as float32 into `out` (count x D), e.g. to
 *  encode a source batch by batch; values are not checked.
 *  @return DFSAE_OK, DFSAE_ERR_NULL_ARG, DFSAE_ERR_INVALID_ARG (rows out of
 *  range) or DFSAE_ERR_IO (the callback failed). */
DFSAE_API int dfsae_source_read(dfsae_source *source, size_t first,
                                size_t count, float *out);

/**
 * Train `model` with `opt` on the n x D row-major data X (caller-owned,
 * read only, D = dfsae_model_input_dim) for DFSAE_TRAIN_EPOCHS more epochs
 * of batches of DFSAE_TRAIN_BATCH_SIZE rows, continuing from the model's
 * run state: an epoch stopped mid-way continues at its next row (and
 * counts as the first of the DFSAE_TRAIN_EPOCHS), and every completed step
 * advances the run state. Epoch e is shuffled when DFSAE_TRAIN_SHUFFLE is
 * on, by a Fisher-Yates permutation drawn from (run-state seed, e) alone:
 * a run stopped anywhere and continued from a saved file gives
 * bit-identical parameters to one uninterrupted run (same build, same BLAS
 * threads, same batch size, whatever dfsae_model_set_threads).
 * The last partial batch is kept. Batch-of-1 rule: when L_var or L_tc is
 * enabled and an epoch would end with a batch of 1 row, that row is merged
 * into the previous batch (which then has batch_size + 1 rows), so every
 * row is used in every epoch.
 * `config` may be NULL (defaults); `progress` may be NULL.
 * Memory: the index array and a batch buffer are allocated once per call
 * and the model's workspace is reserved before the first step; no step
 * allocates.
 * @return DFSAE_OK; DFSAE_ERR_NULL_ARG; DFSAE_ERR_INVALID_ARG (n == 0,
 *         or the run state's rows are not fewer than n);
 *         DFSAE_ERR_SIZE_MISMATCH (the optimizer is for another parameter
 *         count); DFSAE_ERR_NON_FINITE_INPUT (NaN/Inf in X);
 *         DFSAE_ERR_BATCH_TOO_SMALL (a variance term is on and n < 2,
 *         batch_size < 2 or one row of the run state's epoch is left) --
 *         these leave model and optimizer untouched;
 *         DFSAE_ERR_CANCELLED, or a status of a failed step (e.g.
 *         DFSAE_ERR_NON_FINITE_RESULT), with the model and optimizer as
 *         after the last completed step. Details: dfsae_model_last_error.
 */
DFSAE_API int dfsae_model_train(dfsae_model *model, dfsae_optimizer *opt,
                                const float *X, size_t n,
                                const dfsae_train_config *config,
                                dfsae_progress_fn progress, void *user);
/** As dfsae_model_train, on the rows of `source` (its D must be the
 *  model's). Only the rows of the current batch are held, converted to
 *  float32; the epoch's order costs 8 bytes per row, and a sequential
 *  source a window of CHUNK x WINDOW rows. A callback's non-finite row or
 *  failed read stops the run there (DFSAE_ERR_NON_FINITE_INPUT or
 *  DFSAE_ERR_IO) with model and optimizer as after the last step. */
DFSAE_API int dfsae_model_train_source(dfsae_model *model, dfsae_optimizer *opt,
                                       dfsae_source *source,
                                       const dfsae_train_config *config,
                                       dfsae_progress_fn progress, void *user);

/** Metrics of dfsae_model_evaluate (defined in docs/training.md), in the order
 * it reports them. Values are pinned; new metrics are appended. */
typedef enum dfsae_metric {
    DFSAE_METRIC_DEAD_UNITS = 0,   /**< columns with unbiased variance < 0.01 */
    DFSAE_METRIC_L0 = 1,           /**< mean count per row of |A_ij| > 0.01 */
    DFSAE_METRIC_REDUNDANCY = 2,   /**< L_tc over the whole set */
    DFSAE_METRIC_RESP_ENTROPY = 3, /**< mean -sum_j R_ij log(R_ij + 1e-8) */
    DFSAE_METRIC_WEIGHT_REDUNDANCY = 4, /**< L_wr of the current W */
    DFSAE_METRIC_MAX_RESP = 5,          /**< mean over rows of max_j R_ij */
    DFSAE_METRIC_MEAN_ACTIVATION = 6,   /**< mean of all A_ij */
    DFSAE_METRIC_COUNT
} dfsae_metric;

/** Static name of a metric ("dead_units", "l0", ...), or NULL. */
DFSAE_API const char *dfsae_metric_name(int metric);

/**
 * Evaluate the metrics over the n x D data set X in batches of
 * DFSAE_TRAIN_BATCH_SIZE rows (`config` may be
 * NULL; DFSAE_TRAIN_EVAL_REDUNDANCY is read too, other keys are ignored).
 * Memory is bounded by the batch and K, not n; but the redundancy
 * accumulates column sums and the K x K cross-product matrix in double, so
 * it needs about 12 K^2 bytes (K = 4096: 192 MiB) unless switched off.
 * @param metrics  out: indexed by dfsae_metric; only the first
 *                 min(n_metrics, DFSAE_METRIC_COUNT) entries are written.
 *                 The dead-unit count is reported as a double.
 * The model's parameters and options are not changed.
 * @return DFSAE_OK, DFSAE_ERR_NULL_ARG, DFSAE_ERR_INVALID_ARG (n == 0 or
 *         n_metrics == 0), DFSAE_ERR_BATCH_TOO_SMALL (n < 2: a variance
 *         needs two rows), DFSAE_ERR_NON_FINITE_INPUT, DFSAE_ERR_NO_MEMORY,
 *         DFSAE_ERR_NON_FINITE_RESULT (activations overflow float, as in
 *         dfsae_model_forward). Metrics of finite activations are finite
 *         however large the activations are.
 */
DFSAE_API int dfsae_model_evaluate(dfsae_model *model, const float *X, size_t n,
                                   const dfsae_train_config *config,
                                   double *metrics, size_t n_metrics);
/** As dfsae_model_evaluate, over the rows of `source`, in order. */
DFSAE_API int dfsae_model_evaluate_source(dfsae_model *model,
                                          dfsae_source *source,
                                          const dfsae_train_config *config,
                                          double *metrics, size_t n_metrics);

/* ---- Model files --------------------------------------------------------
 * A model (and optionally its optimizer's state, for resuming training) is
 * saved in the safetensors format: an 8-byte little-endian header length,
 * a JSON header, then raw little-endian float32 data. The tensors are named
 * as PyTorch's nn.Linear state dict ("weight" K x D, "bias" K); the options
 * travel as strings in "__metadata__". docs/format.md has the layout, the
 * metadata keys and the versioning rules.
 *
 * Saving to a path is atomic: the data goes to a temporary file in the
 * target's directory, which is flushed, fsync'ed and renamed over the
 * target, and the directory is fsync'ed. A save that fails leaves an
 * existing target byte-identical and removes its temporary file. A save
 * never writes what a load refuses (NaN/Inf parameters:
 * DFSAE_ERR_NON_FINITE_INPUT; an optimizer state no steps reach:
 * DFSAE_ERR_INVALID_ARG). Only a regular file or a symbolic link (replaced,
 * not followed) is replaced; a directory, FIFO or device is DFSAE_ERR_IO.
 *
 * Loading validates the whole file (layout, dtypes, shapes, offsets,
 * metadata, NaN/Inf in the data, an optimizer state no steps reach:
 * DFSAE_ERR_BAD_METADATA) before anything is changed: a load that
 * fails leaves the handles it was given bit-identical. Every allocation of
 * a load, the JSON parser's included, goes through `allocator`.
 * Loads into a handle put the detail message in the handle's last error;
 * loads that create handles write it to `errbuf` (`errbuf_size` bytes,
 * always NUL-terminated; "" on success; errbuf may be NULL).
 */

/** The format version this library writes ("dfsae.format_version"). It
 *  reads files of this version and older; newer ones are refused with
 *  DFSAE_ERR_UNSUPPORTED_VERSION. */
#define DFSAE_FORMAT_VERSION 2
/** A size for `errbuf` that holds every detail message whole. */
#define DFSAE_ERROR_MESSAGE_SIZE 256
/** The largest JSON header a loader accepts, in bytes. */
#define DFSAE_MAX_HEADER_BYTES 100000000u

/**
 * Save the model (W, b, the options) and, if `opt` is not NULL, the
 * optimizer's kind, hyper-parameters, step count and moments to `path`,
 * atomically: model and optimizer stay consistent under one rename. `opt`
 * must be for the model's parameter count (DFSAE_ERR_SIZE_MISMATCH).
 * Errors are reported on `model`.
 * @return DFSAE_OK, DFSAE_ERR_NULL_ARG, DFSAE_ERR_INVALID_ARG (an empty
 *         path or one that ends in '/'), DFSAE_ERR_SIZE_MISMATCH,
 *         DFSAE_ERR_IO, DFSAE_ERR_NO_MEMORY or DFSAE_ERR_SIZE_OVERFLOW.
 */
DFSAE_API int dfsae_model_save(dfsae_model *model, const dfsae_optimizer *opt,
                               const char *path);

/** As dfsae_model_save, into `buf` (`cap` bytes): the same bytes.
 *  *written receives the file's size; with buf == NULL only the size is
 *  computed. A `cap` below the size returns DFSAE_ERR_SIZE_MISMATCH and
 *  writes nothing to `buf`. */
DFSAE_API int dfsae_model_save_buffer(dfsae_model *model,
                                      const dfsae_optimizer *opt, void *buf,
                                      size_t cap, size_t *written);

/**
 * Create a model from the file at `path` (shape from the tensors; options,
 * run state and user metadata from the metadata, or defaults for a file
 * without dfsae metadata)
 * and, if `opt_out` is not NULL, an optimizer from the file's optimizer
 * state: *opt_out is NULL if the file holds none. Optimizer state is
 * validated even when `opt_out` is NULL. On failure *model_out (and
 * *opt_out) are NULL and errbuf says why. Training resumed from the result
 * is bit-identical to uninterrupted training (same build, same BLAS
 * thread count).
 * @return DFSAE_OK, DFSAE_ERR_NULL_ARG, DFSAE_ERR_INVALID_ARG (an allocator
 *         with one function), DFSAE_ERR_IO, DFSAE_ERR_NO_MEMORY,
 *         DFSAE_ERR_SIZE_OVERFLOW, DFSAE_ERR_NON_FINITE_INPUT (NaN/Inf in
 *         a tensor) or one of the file statuses DFSAE_ERR_TRUNCATED ...
 *         DFSAE_ERR_UNSUPPORTED_VERSION.
 */
DFSAE_API int dfsae_model_load(const char *path,
                               const dfsae_allocator *allocator,
                               dfsae_model **model_out,
                               dfsae_optimizer **opt_out, char *errbuf,
                               size_t errbuf_size);

/** As dfsae_model_load, from the `size` bytes at `data` (not kept). */
DFSAE_API int dfsae_model_load_buffer(const void *data, size_t size,
                                      const dfsae_allocator *allocator,
                                      dfsae_model **model_out,
                                      dfsae_optimizer **opt_out, char *errbuf,
                                      size_t errbuf_size);

/**
 * Load the file at `path` into an existing model, and into `opt` unless it
 * is NULL, all or nothing: the model's parameters, every option, its run
 * state and user metadata are replaced by the file's (what the file lacks
 * takes its default), and the optimizer's hyper-parameters, step count and
 * moments by the file's. The file's D and K must equal the model's and the
 * optimizer's parameter count the model's (DFSAE_ERR_SIZE_MISMATCH); the
 * optimizer's kind must be the file's (DFSAE_ERR_INVALID_ARG); with `opt`,
 * a file without optimizer state is DFSAE_ERR_BAD_HEADER. Nothing changes
 * unless the whole file is valid. The detail message goes to the model
 * (and to the optimizer). Statuses as dfsae_model_load.
 */
DFSAE_API int dfsae_model_load_into(dfsae_model *model, dfsae_optimizer *opt,
                                    const char *path);

/** As dfsae_model_load_into, from the `size` bytes at `data`. */
DFSAE_API int dfsae_model_load_buffer_into(dfsae_model *model,
                                           dfsae_optimizer *opt,
                                           const void *data, size_t size);

/**
 * User metadata: string pairs kept in the model, saved and loaded with it
 * (as "user.KEY" in the file's metadata; loads replace the model's pairs
 * with the file's). Set `key` to a copy of `value`, or delete it when
 * `value` is NULL (deleting a missing key is DFSAE_OK). A key has 1 to 64
 * printable ASCII characters; a value is UTF-8 of at most 16384 bytes; a
 * model keeps at most 256 pairs.
 * @return DFSAE_OK, DFSAE_ERR_NULL_ARG, DFSAE_ERR_INVALID_ARG (a key or
 *         value outside these rules, or a 257th key) or
 *         DFSAE_ERR_NO_MEMORY; on failure nothing changes.
 */
DFSAE_API int dfsae_model_set_meta(dfsae_model *model, const char *key,
                                   const char *value);
/** The value of `key`, or NULL if the model has none. Valid until the key
 *  is set again or the model is loaded into or freed. */
DFSAE_API const char *dfsae_model_get_meta(const dfsae_model *model,
                                           const char *key);
/** The `index`-th key in byte order (0-based), or NULL past the last one:
 *  for (i = 0; (k = dfsae_model_meta_key(m, i)) != NULL; ++i) ... */
DFSAE_API const char *dfsae_model_meta_key(const dfsae_model *model,
                                           size_t index);

/* ---- Distributed training (experimental) ------------------------------
 * Exact training over several processes (docs/distributed.md): N ranks
 * compute the loss and gradient of one global batch, equal to one process
 * on that batch up to the rounding of the reductions. The library never
 * talks to a network itself: the host passes a dfsae_comm whose callbacks
 * do the collectives (libdfsae_mpi, dfsae_mpi.h, implements it over MPI).
 * Every callback is collective: all ranks call it in the same order with
 * the same count; it returns DFSAE_OK or an error status.
 */

/** Collectives over `size` ranks, this one being `rank`. */
typedef struct dfsae_comm {
    int rank, size;
    void *user; /**< passed back to every callback */
    /** In-place element-wise sum over the ranks of `count` values; every
     *  rank must receive the same bits. */
    int (*sum_f64)(void *user, double *buf, size_t count);
    int (*sum_f32)(void *user, float *buf, size_t count);
    /** In-place element-wise minimum over the ranks. */
    int (*min_f32)(void *user, float *buf, size_t count);
    /** The agreement: returns the smallest `status` of all ranks (DFSAE_OK
     *  only if every rank passed DFSAE_OK). */
    int (*agree)(void *user, int status);
} dfsae_comm;

/** How the ranks share the work. Values are pinned. */
typedef enum dfsae_dist_mode {
    DFSAE_DIST_NONE = 0,      /**< one process (detaches a comm) */
    DFSAE_DIST_DATA = 1,      /**< rows of each batch split, replicas of W, b */
    DFSAE_DIST_DICTIONARY = 2 /**< rows of W and b (components) split */
} dfsae_dist_mode;

/**
 * Attach `comm` (copied) to `model` in `mode`; collective, every rank calls
 * it. From then on loss, grad and train on this model are collectives:
 * every rank calls them in the same order, DATA with its own rows of the
 * global batch (any count, 0 included), DICTIONARY with the whole batch
 * and its shard of the components (the model is the shard: K rows of W
 * and b of its own, in rank order). Each reduction is preceded by an
 * agreement on the status, so a call that fails on one rank (bad input,
 * no memory) returns an error on every rank instead of hanging. Forward
 * and encode stay local (DICTIONARY: R is the shard's own softmax).
 * mode DFSAE_DIST_NONE or comm NULL detaches (local, not collective).
 * @return DFSAE_OK, DFSAE_ERR_NULL_ARG, DFSAE_ERR_INVALID_ARG (a callback
 *         missing, rank outside [0, size), unknown mode) or
 *         DFSAE_ERR_NO_MEMORY; the agreed status of all ranks.
 */
DFSAE_API int dfsae_model_set_comm(dfsae_model *model, const dfsae_comm *comm,
                                   int mode);

/**
 * Save a dictionary-sharded model: collective in DFSAE_DIST_DICTIONARY
 * mode, each rank writes its shard (and `opt`'s state if not NULL) as an
 * ordinary model file PREFIX-0000r-of-0000N.safetensors (r from 1), then
 * rank 0 writes PREFIX.index.json naming the files and their component
 * ranges (docs/distributed.md). Without a comm: one shard, 1 of 1. Data-
 * parallel replicas are refused (DFSAE_ERR_INVALID_ARG: save one with
 * dfsae_model_save). Statuses as dfsae_model_save, agreed by all ranks.
 */
DFSAE_API int dfsae_model_save_shards(dfsae_model *model,
                                      const dfsae_optimizer *opt,
                                      const char *prefix);

/**
 * Load part `rank` of `size` of a sharded model: components [K rank /
 * size, K (rank + 1) / size) assembled from the files the index at
 * `index_path` names (beside it), with their optimizer state if `opt_out`
 * is not NULL; any `size` from 1 (the whole model) to K, whatever the
 * number of shards it was saved with. Options, run state and metadata come
 * from the first file used. Not collective. Statuses as dfsae_model_load,
 * and DFSAE_ERR_BAD_HEADER for an invalid index.
 */
DFSAE_API int dfsae_model_load_shards(const char *index_path, int rank,
                                      int size,
                                      const dfsae_allocator *allocator,
                                      dfsae_model **model_out,
                                      dfsae_optimizer **opt_out, char *errbuf,
                                      size_t errbuf_size);

#ifdef __cplusplus
}
#endif

#endif /* DFSAE_H */
