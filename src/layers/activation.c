/* Activations: forward in place over Z + b (apply) or from a biased Z
 * (map, the forward epilogue's), derivative through the output. Each
 * phi's formula is written once, as PHI, and both loops take it. */
#include <math.h>
#include <string.h>

#include "dfsae.h"
#include "fastmath.h"
#include "layers/layers.h"

#define FOR_EACH_BIASED(body)                                                  \
    for (size_t i = 0; i < n; ++i) {                                           \
        float *row = za + i * k;                                               \
        for (size_t j = 0; j < k; ++j) {                                       \
            float z = row[j] + b[j];                                           \
            body;                                                              \
        }                                                                      \
    }

/* a[j] = phi(z[j]), body written in terms of z and storing into a[j]. */
#define FOR_EACH_MAPPED(body)                                                  \
    for (size_t j = 0; j < len; ++j) {                                         \
        float z = zin[j];                                                      \
        body;                                                                  \
    }

#define RELU(z) ((z) > 0.0f ? (z) : 0.0f)

DFSAE_MULTIVERSION
static void relu_apply(float *za, const float *b, size_t n, size_t k,
                       double param)
{
    (void)param;
    FOR_EACH_BIASED(row[j] = RELU(z))
}

DFSAE_MULTIVERSION
static void relu_map(float *a, const float *zin, size_t len, double param)
{
    (void)param;
    FOR_EACH_MAPPED(a[j] = RELU(z))
}

DFSAE_MULTIVERSION
static void relu_backprop(const float *a, float *g, size_t len, double param)
{
    (void)param;
    for (size_t i = 0; i < len; ++i)
        g[i] = a[i] > 0.0f ? g[i] : 0.0f;
}

/* softplus(z) = max(z, 0) + log1p(exp(-|z|)), stable for any z. libm's
 * functions, not a vector approximation: exact to its rounding. */
#define SOFTPLUS(z) (fmaxf(z, 0.0f) + log1pf(expf(-fabsf(z))))

static void softplus_apply(float *za, const float *b, size_t n, size_t k,
                           double param)
{
    (void)param;
    FOR_EACH_BIASED(row[j] = SOFTPLUS(z))
}

static void softplus_map(float *a, const float *zin, size_t len, double param)
{
    (void)param;
    FOR_EACH_MAPPED(a[j] = SOFTPLUS(z))
}

/* sigmoid(z) = 1 - exp(-softplus(z)); expm1 keeps small a accurate. */
static void softplus_backprop(const float *a, float *g, size_t len,
                              double param)
{
    (void)param;
    for (size_t i = 0; i < len; ++i)
        g[i] *= -expm1f(-a[i]);
}

DFSAE_MULTIVERSION
static void identity_apply(float *za, const float *b, size_t n, size_t k,
                           double param)
{
    (void)param;
    FOR_EACH_BIASED(row[j] = z)
}

static void identity_map(float *a, const float *zin, size_t len, double param)
{
    (void)param;
    if (a != zin)
        memcpy(a, zin, len * sizeof *a);
}

static void identity_backprop(const float *a, float *g, size_t len,
                              double param)
{
    (void)a;
    (void)g;
    (void)len;
    (void)param;
}

#define LEAKY(z, slope) ((z) > 0.0f ? (z) : (slope) * (z))

DFSAE_MULTIVERSION
static void leaky_apply(float *za, const float *b, size_t n, size_t k,
                        double param)
{
    const float slope = (float)param;
    FOR_EACH_BIASED(row[j] = LEAKY(z, slope))
}

DFSAE_MULTIVERSION
static void leaky_map(float *a, const float *zin, size_t len, double param)
{
    const float slope = (float)param;
    FOR_EACH_MAPPED(a[j] = LEAKY(z, slope))
}

/* With slope >= 0 the sign of a is the sign of z. At z = 0 the derivative
 * is taken as slope, like relu's 0 there. */
DFSAE_MULTIVERSION
static void leaky_backprop(const float *a, float *g, size_t len, double param)
{
    const float slope = (float)param;
    for (size_t i = 0; i < len; ++i)
        g[i] = a[i] > 0.0f ? g[i] : slope * g[i];
}

static void tanh_apply(float *za, const float *b, size_t n, size_t k,
                       double param)
{
    (void)param;
    FOR_EACH_BIASED(row[j] = tanhf(z))
}

static void tanh_map(float *a, const float *zin, size_t len, double param)
{
    (void)param;
    FOR_EACH_MAPPED(a[j] = tanhf(z))
}

static void tanh_backprop(const float *a, float *g, size_t len, double param)
{
    (void)param;
    for (size_t i = 0; i < len; ++i)
        g[i] *= 1.0f - a[i] * a[i];
}

static const dfsae_activation_ops relu = {"relu",        relu_apply, relu_map,
                                          relu_backprop, NULL,       -1};
static const dfsae_activation_ops softplus = {
    "softplus", softplus_apply, softplus_map, softplus_backprop, NULL, -1};
static const dfsae_activation_ops identity = {
    "identity", identity_apply, identity_map, identity_backprop, NULL, -1};
static const dfsae_activation_ops leaky = {
    "leaky_relu",   leaky_apply, leaky_map,
    leaky_backprop, NULL,        DFSAE_MODEL_LEAKY_SLOPE};
static const dfsae_activation_ops tanh_ops = {
    "tanh", tanh_apply, tanh_map, tanh_backprop, NULL, -1};

extern const dfsae_activation_ops dfsae__softmax;

const dfsae_activation_ops *const dfsae__activations[DFSAE_ACT_COUNT] = {
    &relu, &softplus, &identity, &leaky, &tanh_ops, &dfsae__softmax};
