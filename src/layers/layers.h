/* The encoder's layers: the linear map and the activations. */
#ifndef DFSAE_LAYERS_H
#define DFSAE_LAYERS_H

#include <stddef.h>
#include <stdint.h>

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
 * dfsae__linear_forward_cols: whether it takes a batch of `rows` rows
 * against k x cols of W (one always; where the machine has the kernel, up
 * to DFSAE__SMALL_MAX_ROWS, and for a narrow W more, which the caller
 * passes in blocks of at most DFSAE__SMALL_MAX_ROWS), and the product
 * itself, with the forward epilogue fused when ep is not NULL (its outputs
 * are Z's). Only forward uses it: loss and gradient keep sgemm, so that
 * training rounds as it did (their finite-difference checks are tuned to it).
 */
int dfsae__small_product_takes(size_t rows, size_t cols, size_t k);
#define DFSAE__SMALL_MAX_ROWS ((size_t)64)
struct dfsae__epilogue;
void dfsae__small_product(const float *X, size_t rows, size_t cols,
                          const float *W, size_t ldw, size_t k, float beta,
                          float *Z, struct dfsae__epilogue *ep);

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
    /* The forward epilogue (dfsae__epilogue) over rows of len entries
     * that lie ld apart, in one sweep: p holds the product; a == p (Z not
     * wanted): a = phi(p + b), p and a checked; else p = p + b, a =
     * phi(p), p checked before and after the bias and a too. Nonzero if
     * a check failed. An elementwise phi takes any span of a row, a
     * row-wise one whole rows (len = ld). Rounds as apply does. */
    uint32_t (*epilogue)(float *p, float *a, const float *b, size_t rows,
                         size_t len, size_t ld, double param);
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

/* Bit 31 set iff x is NaN or Inf (all exponent bits set): OR the marks of
 * many values and test that bit. No compare, so that a loop with a select
 * in it (relu's) still vectorises, which it did not with a 0/1 flag. */
static inline uint32_t dfsae__nonfinite_mark(float x)
{
    union {
        float f;
        uint32_t u;
    } v = {x};
    return (v.u & 0x7f800000u) + 0x00800000u;
}
#define DFSAE__NONFINITE_MARKED(marks) (((marks) >> 31) != 0u)

/* The forward pass's epilogue over the product P (Z when Z is wanted,
 * else A; n rows of k), the table's epilogue op: the product's
 * finiteness (before an activation such as relu could hide a NaN), the
 * bias, Z's finiteness when Z is wanted, phi and A's finiteness, in one
 * sweep. An activation that maps the -Inf of an overflowing bias to
 * an exact value leaves A right, so without Z only the product and A are
 * checked. */
typedef struct dfsae__epilogue {
    const float *b;
    const dfsae_activation_ops *act;
    double param;
    float *A, *Z; /* Z NULL: not wanted */
    size_t k;
    int bad; /* set by a failed check */
} dfsae__epilogue;

/* Rows [i0, i1) over columns [c0, c1) of the outputs; c0 = 0 and c1 = k
 * for a row-wise phi. */
static inline void dfsae__epilogue_run(dfsae__epilogue *ep, size_t i0,
                                       size_t i1, size_t c0, size_t c1)
{
    const size_t at = i0 * ep->k + c0;
    float *P = ep->Z != NULL ? ep->Z : ep->A;
    if (ep->act->epilogue(P + at, ep->A + at, ep->b + c0, i1 - i0, c1 - c0,
                          ep->k, ep->param))
        ep->bad = 1;
}

#endif
