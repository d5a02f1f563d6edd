/* Seeded data and models for the gradient tests (area "grad"). */
#ifndef GRAD_FIXTURES_H
#define GRAD_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

#include "dfsae.h"
#include "grad_reference.h"
#include "gradcheck.h"

/* SplitMix64 (splitmix64.h): our own stream, identical on every
 * platform. */
typedef struct grad_rng {
    uint64_t state;
} grad_rng;

void grad_rng_seed(grad_rng *r, uint64_t seed);
uint64_t grad_rng_next(grad_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double grad_rng_uniform(grad_rng *r);
/* Standard normal (Box-Muller). */
double grad_rng_normal(grad_rng *r);
/* Uniform integer in [0, n), n > 0. */
size_t grad_rng_below(grad_rng *r, size_t n);

/* Fills x[0..n) with standard normal values times `scale`. */
void grad_fill_normal(grad_rng *r, float *x, size_t n, double scale);

/* The loss weights, one per term. Initialise by name ({.var = 1.0}): a
 * term added later is then 0 (off) in every existing test. */
typedef struct grad_lambdas {
    double lse, var, tc, wr;
} grad_lambdas;

/* A model with the given shape, activation and weights; asserts success
 * (cmocka). Gram side and other options keep their defaults. */
dfsae_model *grad_model_new(size_t d, size_t k, uint64_t seed, int activation,
                            grad_lambdas lambdas);
/* Sets option `param` and asserts success. */
void grad_set(dfsae_model *m, int param, double value);

/* n x D inputs, standard normal, in a buffer the caller frees. When the
 * model's activation has a kink at 0 (relu, leaky_relu), rows whose
 * pre-activations come within `margin` of 0 are redrawn (up to a bounded
 * number of tries) so that finite differences see a smooth function; rows
 * that still fail stay, and the checker skips their coordinates. */
float *grad_inputs_new(dfsae_model *m, size_t n, uint64_t seed, double margin);

/* 1 if the activation has a kink at 0 (relu, leaky_relu). */
int grad_activation_has_kink(int activation);

/* Margin used to keep fixture rows away from kinks: larger than the
 * checker's skip threshold at its default step (2 * 2h * |x|). */
#define GRAD_KINK_MARGIN 0.15

/* One gradient-check problem. */
typedef struct grad_case {
    const char *what; /* label prefix, e.g. the term */
    size_t d, k, n;   /* input dim, components, batch rows */
    int activation;
    grad_lambdas lambdas;
    int gram_side; /* dfsae_gram_side */
    uint64_t seed;
} grad_case;

/* The shapes every term is checked on: B < K and B > K (and D on both
 * sides of K, for L_wr's two Gram sides). */
#define GRAD_SHAPE_WIDE 5, 10, 6 /* D, K, B with B < K */
#define GRAD_SHAPE_TALL 7, 6, 24 /* D, K, B with B > K */

/* Softmax feeding L_lse alone: the loss hardly moves with the parameters
 * (the rows of A sum to 1 and sit near 1/K, so L_lse depends on them only
 * through their spread), while one float evaluation of it carries
 * rounding noise of about u * lambda_lse * sum_ij A_ij R_ij (u = 2^-24,
 * R = softmax(-A) = dL/dA; divided by B for the mean reduction): each A_ij
 * is a float, good to an ulp, and moves L by R_ij times its error. This
 * returns that noise for the model on X. */
double grad_lse_rounding_noise(dfsae_model *m, const float *X, size_t n);
/* Sets step h and an absolute tolerance for that noise: the 4-point
 * difference turns an evaluation error e into at most 1.5 e / h; measured
 * |analytic - numeric| * h / noise was at most 1.9 over the softmax L_lse
 * fixtures and steps 2^-10 .. 2^-5 (where truncation does not show), so
 * atol = 4 noise / h keeps a factor 2. */
void grad_lse_softmax_opts(dfsae_model *m, const float *X, size_t n, double h,
                           gradcheck_opts *o);
/* Sets step h and atol = 4 noise / h (the factor as above), for a loss
 * whose float evaluation carries rounding noise `noise`. */
void grad_noise_opts(double noise, double h, gradcheck_opts *o);
/* The rounding noise of one evaluation of the loss at m's parameters,
 * measured: L along a random sign vector v at p + k tau v (k = -8..8,
 * tau = 2^-18) is a parabola far below float rounding (unless a kink lies
 * within 8 tau), so the RMS residual of a quadratic fit is the noise that
 * a difference quotient sees. Parameters up to 8 in size (larger ones
 * would not move by tau; L_var at A ~ 3000 has its own estimate below).
 * The parameters are restored. */
double grad_measured_noise(dfsae_model *m, const float *X, size_t n);
/* The same estimate for L_var (no cap) on X: u * lambda_var *
 * sum_ij |dL_var/dA_ij| |A_ij|, each A_ij good to an ulp of itself. It
 * matters when the activations are large against their spread: an ulp of
 * A ~ 3000 is 2.4e-4, and dL_var/dA grows as 1 / spread. */
double grad_var_rounding_noise(dfsae_model *m, const float *X, size_t n);
/* 1 if the model is softmax with L_lse its only term. */
int grad_is_softmax_lse_alone(dfsae_model *m);

/* Builds the case's model and inputs and runs the gradient checker; the
 * label is "<what> <activation> D=.. K=.. B=.. side=..". Returns 1 if it
 * passed; failures are printed, not asserted, so that a loop over cases
 * reports every failing case. */
int grad_check_case(const grad_case *c, const gradcheck_opts *o,
                    gradcheck_result *res);

/* The library's loss terms on X (dfsae_model_loss, asserted to succeed)
 * into got, and the reference's (options ro) evaluated on the library's
 * own activations and parameters into want, so that a comparison isolates
 * the reductions from the float forward pass. */
void grad_terms_vs_reference(dfsae_model *m, const float *X, size_t n,
                             const grad_ref_opts *ro,
                             double got[DFSAE_TERM_COUNT],
                             double want[DFSAE_TERM_COUNT]);

/* Runs grad_check_case for the case under every activation; fails the
 * test at the end if any did not pass. */
void grad_check_all_activations(grad_case c, const gradcheck_opts *o);

/* A sweep over the values of one model option (with another option fixed,
 * fixed_key -1 for none): every activation, both shapes (GRAD_SHAPE_WIDE
 * and GRAD_SHAPE_TALL, model seeds seed and seed + 1), the checker's
 * defaults. Fails the test at the end if any case did not pass; prints
 * the worst relative error (and each case with DFSAE_GRADCHECK_VERBOSE). */
typedef struct grad_sweep {
    const char *what;
    grad_lambdas lambdas;
    uint64_t seed;
    int fixed_key;
    double fixed_value;
    int key;
    const double *values;
    size_t n_values;
} grad_sweep;

void grad_check_sweep(const grad_sweep *s);

#endif
