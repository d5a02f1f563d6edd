/* Model files: the dfsae mapping over the safetensors layer (which
 * tensors and metadata keys a model and an optimizer become).
 * docs/format.md describes the keys. */
#ifndef DFSAE_IO_H
#define DFSAE_IO_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "model.h"
#include "optim/optim.h"
#include "safetensors/safetensors.h"

/* ---- What a file says (meta.c) ----------------------------------------- */

#define DFSAE__MAX_STATE 2

/* A validated reading of a header: everything a load needs to commit. */
typedef struct dfsae__ckpt {
    size_t d, k, n_params;
    const dfsae__tensor *weight, *bias;
    double options[DFSAE_MODEL_OPTION_COUNT];
    int has_optimizer;
    int opt_kind;
    uint64_t opt_step;
    int opt_started; /* SGD: the momentum buffer holds a gradient */
    double hp[DFSAE_OPT_COUNT];
    size_t n_state;
    const dfsae__tensor *state[DFSAE__MAX_STATE];
    dfsae__run_state run; /* (0, 0, 0) when the file has none */
    /* The input transform's tensors (1 or D floats each), or both NULL */
    const dfsae__tensor *shift, *scale;
    size_t xf_n;
} dfsae__ckpt;

/* Names of the optimizer's state tensors ("optimizer.exp_avg", ...). */
const char *dfsae__state_name(int kind, size_t index);
/* Number of state vectors of an optimizer kind. */
size_t dfsae__state_count(int kind);

/* Interprets a parsed header: tensor names and shapes, metadata. */
int dfsae__ckpt_read(const dfsae__st_header *h, dfsae__ckpt *c, char *err);
/* The file's "user." pairs as a new table in *out (empty on failure). */
int dfsae__user_meta_read(const dfsae__st_header *h, const dfsae_allocator *a,
                          dfsae__user_meta *out, char *err);

/* The prefix of user metadata keys in a file. */
#define DFSAE__USER_PREFIX "user."
/* The input transform X' = (X - shift) * scale. */
#define DFSAE__TENSOR_SHIFT "input_transform.shift"
#define DFSAE__TENSOR_SCALE "input_transform.scale"

/* One metadata entry to write. */
typedef struct dfsae__meta_entry {
    const char *key;
    char value[DFSAE__NUM_LEN];
} dfsae__meta_entry;

#define DFSAE__MAX_META 32

/* Collects the metadata describing model (and opt if not NULL), sorted by
 * key. Returns the number of entries. */
size_t dfsae__meta_collect(const dfsae_model *m,
                           const dfsae__optim_snapshot *opt,
                           dfsae__meta_entry out[DFSAE__MAX_META]);

/* ---- Writing (model_writer.c) ----------------------------------------- */

/* The tensors of a model (and optimizer): weight, bias, the transform's
 * shift and scale, the state vectors. */
#define DFSAE__MAX_TENSORS (4 + DFSAE__MAX_STATE)

/* A model file ready to stream (model and opt must outlive it). */
typedef struct dfsae__writer {
    dfsae__st_out tensors[DFSAE__MAX_TENSORS];
    dfsae__st_writer st;
} dfsae__writer;

int dfsae__writer_init(dfsae__writer *w, const dfsae_model *m,
                       const dfsae_optimizer *opt, char *err);
void dfsae__writer_free(dfsae__writer *w);

/* Saves model (and opt) with the given system calls: the public save
 * functions pass dfsae__posix_file_ops. */
int dfsae__save_with(dfsae_model *model, const dfsae_optimizer *opt,
                     const char *path, const dfsae__file_ops *ops);

#endif
