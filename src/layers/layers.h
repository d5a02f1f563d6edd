/* The encoder's layers: the linear map and the activations. */
#ifndef DFSAE_LAYERS_H
#define DFSAE_LAYERS_H

#include <stddef.h>

/* Z (n x k) = X (n x d) W^T, without the bias (added by the activation
 * sweep so Z is written once). Dimensions fit in int. */
void dfsae__linear_forward(const float *X, size_t n, size_t d, const float *W,
                           size_t k, float *Z);

/* Z (n x k) = X W^T + beta Z over `cols` columns: X is n x cols
 * (contiguous), W holds rows of ldw floats of which the first cols are
 * used (a column slice of the weights). */
void dfsae__linear_forward_cols(const float *X, size_t n, size_t cols,
                                const float *W, size_t ldw, size_t k,
                                float beta, float *Z);

/* The small-batch product (layers/forward_small.c), same arguments as
 * dfsae__linear_forward_cols: whether it takes `rows` rows (one always;
 * a few where the machine has the kernel), and the product itself. Only
 * forward uses it: loss and gradient keep sgemm, so that training rounds
 * as it did (their finite-difference checks are tuned to it). */
int dfsae__small_product_takes(size_t rows);
void dfsae__small_product(const float *X, size_t rows, size_t cols,
                          const float *W, size_t ldw, size_t k, float beta,
                          float *Z);

/* dW (k x d) = dZ^T X (overwritten). The bias gradient, the column sums
 * of dZ, is fused into the backward sweep (loss/backward.c). */
void dfsae__linear_backward(const float *X, size_t n, size_t d, const float *dZ,
                            size_t k, float *dW);

/* An activation phi. Derivatives are expressed through the output a =
 * phi(z), which every built-in activation allows, so a training step needs
 * to keep only A. `param` is the value of model option `param_key` (-1:
 * none; dfsae__activation_param). */
typedef struct dfsae_activation_ops {
    const char *name;
    /* za[i*k + j] <- phi(za[i*k + j] + b[j]) in place, n rows of k. */
    void (*apply)(float *za, const float *b, size_t n, size_t k, double param);
    /* Elementwise phi: g[i] <- g[i] * phi'(z[i]) given a[i] = phi(z[i]),
     * for len entries. NULL for a row-wise phi. */
    void (*backprop)(const float *a, float *g, size_t len, double param);
    /* Row-wise phi (each a_ij depends on the whole row z_i): g <- J^T g
     * for one row of k, J the row's Jacobian, given a = phi(z). NULL for
     * an elementwise phi. */
    void (*backprop_row)(const float *a, float *g, size_t k, double param);
    int param_key;
} dfsae_activation_ops;

/* Indexed by dfsae_activation. */
extern const dfsae_activation_ops *const dfsae__activations[];

/* Adds the bias only (to expose Z in the forward pass). */
void dfsae__add_bias(float *z, const float *b, size_t n, size_t k);

#endif
