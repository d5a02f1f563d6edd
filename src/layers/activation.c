/* Activations: forward in place over Z + b (apply) or the forward
 * epilogue's one pass (checks, bias, phi), derivative through the
 * output. Each phi's formula is written once, and both loops take it. */
#include <math.h>

#include "dfsae.h"
#include "fastmath.h"
#include "layers/layers.h"

/* p[j] += b[j] over len: the marks (layers.h) of the product and, with Z
 * wanted, of the biased value. */
static inline uint32_t bias_marked(float *p, const float *b, size_t len,
                                   int z_wanted)
{
    uint32_t bad = 0;
    for (size_t j = 0; j < len; ++j) {
        const float z = p[j] + b[j];
        bad |= dfsae__nonfinite_mark(p[j]) |
               (z_wanted ? dfsae__nonfinite_mark(z) : 0u);
        p[j] = z;
    }
    return bad;
}

static inline uint32_t marks(const float *a, size_t len)
{
    uint32_t bad = 0;
    for (size_t j = 0; j < len; ++j)
        bad |= dfsae__nonfinite_mark(a[j]);
    return bad;
}

/* How an elementwise epilogue goes: one pass per entry where PHI
 * vectorises; where it calls libm (a loop with a call does not
 * vectorise), the checks and the bias, PHI and A's check in three loops
 * over a chunk of a row that stays in L1, so that the checks vectorise
 * (in the one loop they cost tanh 3-4 % at 784 -> 64, n = 128). */
#define ONE_PASS   1
#define IN_CHUNKS  0
#define LIBM_CHUNK ((size_t)256)

/* An elementwise phi's apply and forward epilogue (layers.h), both from
 * one formula PHI, an expression in the biased value z (and in what setup
 * declares from param). The checks are marks OR-ed into one word. */
#define ELEMENTWISE(name, attr, how, setup, PHI)                               \
    attr static void name##_apply(float *za, const float *b, size_t n,         \
                                  size_t k, double param)                      \
    {                                                                          \
        setup;                                                                 \
        for (size_t i = 0; i < n; ++i) {                                       \
            float *row = za + i * k;                                           \
            for (size_t j = 0; j < k; ++j) {                                   \
                const float z = row[j] + b[j];                                 \
                row[j] = PHI;                                                  \
            }                                                                  \
        }                                                                      \
    }                                                                          \
    attr static uint32_t name##_epilogue(float *p, float *a, const float *b,   \
                                         size_t rows, size_t len, size_t ld,   \
                                         double param)                         \
    {                                                                          \
        setup;                                                                 \
        uint32_t bad = 0;                                                      \
        for (size_t i = 0; i < rows; ++i) {                                    \
            float *pr = p + i * ld, *ar = a + i * ld;                          \
            if (how == IN_CHUNKS)                                              \
                for (size_t c = 0; c < len; c += LIBM_CHUNK) {                 \
                    const size_t m =                                           \
                        len - c < LIBM_CHUNK ? len - c : LIBM_CHUNK;           \
                    bad |= bias_marked(pr + c, b + c, m, a != p);              \
                    for (size_t j = c; j < c + m; ++j) {                       \
                        const float z = pr[j];                                 \
                        ar[j] = PHI;                                           \
                    }                                                          \
                    bad |= marks(ar + c, m);                                   \
                }                                                              \
            else if (a == p)                                                   \
                for (size_t j = 0; j < len; ++j) {                             \
                    const float z = pr[j] + b[j], v = PHI;                     \
                    bad |= dfsae__nonfinite_mark(pr[j]) |                      \
                           dfsae__nonfinite_mark(v);                           \
                    pr[j] = v;                                                 \
                }                                                              \
            else                                                               \
                for (size_t j = 0; j < len; ++j) {                             \
                    const float z = pr[j] + b[j], v = PHI;                     \
                    bad |= dfsae__nonfinite_mark(pr[j]) |                      \
                           dfsae__nonfinite_mark(z) |                          \
                           dfsae__nonfinite_mark(v);                           \
                    pr[j] = z;                                                 \
                    ar[j] = v;                                                 \
                }                                                              \
        }                                                                      \
        return DFSAE__NONFINITE_MARKED(bad);                                   \
    }

ELEMENTWISE(relu, DFSAE_MULTIVERSION, ONE_PASS, (void)param,
            z > 0.0f ? z : 0.0f)

DFSAE_MULTIVERSION
static void relu_backprop(const float *a, float *g, size_t len, double param)
{
    (void)param;
    for (size_t i = 0; i < len; ++i)
        g[i] = a[i] > 0.0f ? g[i] : 0.0f;
}

/* softplus(z) = max(z, 0) + log1p(exp(-|z|)), stable for any z. libm's
 * functions, not a vector approximation: exact to its rounding. */
ELEMENTWISE(softplus, , IN_CHUNKS, (void)param,
            fmaxf(z, 0.0f) + log1pf(expf(-fabsf(z))))

/* sigmoid(z) = 1 - exp(-softplus(z)); expm1 keeps small a accurate. */
static void softplus_backprop(const float *a, float *g, size_t len,
                              double param)
{
    (void)param;
    for (size_t i = 0; i < len; ++i)
        g[i] *= -expm1f(-a[i]);
}

ELEMENTWISE(identity, DFSAE_MULTIVERSION, ONE_PASS, (void)param, z)

static void identity_backprop(const float *a, float *g, size_t len,
                              double param)
{
    (void)a;
    (void)g;
    (void)len;
    (void)param;
}

ELEMENTWISE(leaky, DFSAE_MULTIVERSION, ONE_PASS,
            const float slope = (float)param, z > 0.0f ? z : slope * z)

/* With slope >= 0 the sign of a is the sign of z. At z = 0 the derivative
 * is taken as slope, like relu's 0 there. */
DFSAE_MULTIVERSION
static void leaky_backprop(const float *a, float *g, size_t len, double param)
{
    const float slope = (float)param;
    for (size_t i = 0; i < len; ++i)
        g[i] = a[i] > 0.0f ? g[i] : slope * g[i];
}

ELEMENTWISE(tanh, , IN_CHUNKS, (void)param, tanhf(z))

static void tanh_backprop(const float *a, float *g, size_t len, double param)
{
    (void)param;
    for (size_t i = 0; i < len; ++i)
        g[i] *= 1.0f - a[i] * a[i];
}

static const dfsae_activation_ops relu = {
    "relu", relu_apply, relu_epilogue, relu_backprop, NULL, -1};
static const dfsae_activation_ops softplus = {
    "softplus", softplus_apply, softplus_epilogue, softplus_backprop, NULL, -1};
static const dfsae_activation_ops identity = {
    "identity", identity_apply, identity_epilogue, identity_backprop, NULL, -1};
static const dfsae_activation_ops leaky = {
    "leaky_relu",   leaky_apply, leaky_epilogue,
    leaky_backprop, NULL,        DFSAE_MODEL_LEAKY_SLOPE};
static const dfsae_activation_ops tanh_ops = {
    "tanh", tanh_apply, tanh_epilogue, tanh_backprop, NULL, -1};

extern const dfsae_activation_ops dfsae__softmax;

const dfsae_activation_ops *const dfsae__activations[DFSAE_ACT_COUNT] = {
    &relu, &softplus, &identity, &leaky, &tanh_ops, &dfsae__softmax};
