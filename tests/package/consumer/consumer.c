/*
 * A consumer of the installed library: real calls, checked against values
 * computed by hand. Exit status 0 only if every check holds. Valid C and
 * C++ (consumer_cxx.cpp compiles this file as C++).
 */
#include <dfsae.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

static int failures = 0;

static void expect(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "consumer: FAILED: %s\n", what);
        failures++;
    }
}

static int close_to(double a, double b, double tol)
{
    return fabs(a - b) <= tol * (1.0 + fabs(b));
}

int main(void)
{
    /* W (2 x 3) then b (2); X is two rows of three. */
    const float params[8] = {1.0f, -2.0f, 0.5f, 0.0f, 1.0f, 1.0f, 0.1f, -0.2f};
    const float X[6] = {1.0f, 0.5f, 2.0f, -1.0f, 1.0f, 0.0f};
    double Z_hand[4], A_hand[4], lse_hand = 0.0;
    float A[4], Z[4], R[4], grad[8], after[8];
    double total = 0.0;
    dfsae_model *m = NULL;
    dfsae_optimizer *opt = NULL;
    int i, j, k;

    expect(dfsae_version_number() == DFSAE_VERSION_NUMBER,
           "runtime version number equals the header's");
    expect(strcmp(dfsae_version_string(), DFSAE_VERSION_STRING) == 0,
           "runtime version string equals the header's");
    expect(dfsae_model_forward(NULL, X, 2, A, NULL, NULL) == DFSAE_ERR_NULL_ARG,
           "forward on NULL is DFSAE_ERR_NULL_ARG");
    expect(strlen(dfsae_status_string(DFSAE_ERR_NULL_ARG)) > 0,
           "status strings are not empty");

    if (dfsae_model_create(3, 2, 7, NULL, &m) != DFSAE_OK) {
        fprintf(stderr, "consumer: dfsae_model_create failed\n");
        return 1;
    }
    expect(dfsae_model_num_params(m) == 8, "num_params is K*D + K");
    expect(dfsae_model_set_params(m, params, 8) == DFSAE_OK, "set_params");
    expect(dfsae_model_set_option(m, DFSAE_MODEL_LAMBDA_VAR, 0.0) == DFSAE_OK &&
               dfsae_model_set_option(m, DFSAE_MODEL_LAMBDA_TC, 0.0) ==
                   DFSAE_OK,
           "switch off the variance and decorrelation terms");

    /* By hand: Z = X W^T + b, A = relu(Z), L_lse = -sum_i log sum_j
     * exp(-A_ij). */
    for (i = 0; i < 2; i++) {
        double row = 0.0;
        for (k = 0; k < 2; k++) {
            double z = params[6 + k];
            for (j = 0; j < 3; j++)
                z += (double)X[i * 3 + j] * params[k * 3 + j];
            Z_hand[i * 2 + k] = z;
            A_hand[i * 2 + k] = z > 0.0 ? z : 0.0;
            row += exp(-A_hand[i * 2 + k]);
        }
        lse_hand -= log(row);
    }

    expect(dfsae_model_forward(m, X, 2, A, Z, R) == DFSAE_OK, "forward");
    for (i = 0; i < 4; i++) {
        double r =
            exp(-A_hand[i]) / (exp(-A_hand[i & ~1]) + exp(-A_hand[i | 1]));
        expect(close_to(Z[i], Z_hand[i], 1e-6), "Z matches X W^T + b");
        expect(close_to(A[i], A_hand[i], 1e-6), "A matches relu(Z)");
        expect(close_to(R[i], r, 1e-6), "R matches softmax(-A)");
    }
    expect(dfsae_model_loss(m, X, 2, &total, NULL, 0) == DFSAE_OK, "loss");
    expect(close_to(total, lse_hand, 1e-6), "loss matches L_lse by hand");

    /* One Adam step moves every parameter with a non-zero gradient by
     * about lr, against the gradient's sign. */
    expect(dfsae_optimizer_create(DFSAE_ADAM, 8, NULL, &opt) == DFSAE_OK,
           "optimizer_create");
    expect(dfsae_model_grad(m, X, 2, grad, &total, NULL, 0) == DFSAE_OK,
           "grad");
    expect(dfsae_optimizer_step(opt, m, grad) == DFSAE_OK, "step");
    expect(dfsae_model_get_params(m, after, 8) == DFSAE_OK, "get_params");
    for (i = 0; i < 8; i++) {
        double moved = (double)after[i] - params[i];
        if (fabs(grad[i]) > 1e-4)
            expect(fabs(moved - (grad[i] > 0 ? -1e-3 : 1e-3)) < 2e-6,
                   "first Adam step moves by lr");
        else if (grad[i] == 0.0f)
            expect(moved == 0.0, "zero gradient leaves the parameter");
    }
    expect(dfsae_optimizer_step_count(opt) == 1, "step count is 1");

    dfsae_optimizer_free(opt);
    dfsae_model_free(m);
    if (failures == 0)
        printf("consumer: dfsae %s, all checks passed\n",
               dfsae_version_string());
    return failures == 0 ? 0 : 1;
}
