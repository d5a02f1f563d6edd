/* Small problems for the PyTorch cross-check (bench_check.h). Two shapes
 * so that both Gram sides of both L_tc and L_wr are exercised: K < B and
 * K < D (K x K sides), then K > B and K > D (B x B and D x D sides). */
#include "bench_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "dfsae.h"

typedef struct problem {
    const char *name;
    size_t b, d, k;
} problem;

static const problem k_problems[] = {{"feature", 64, 20, 16},
                                     {"sample", 16, 20, 48}};

static int fail(const char *what, int st, const dfsae_model *m)
{
    fprintf(stderr, "dfsae_bench --check: %s: %s %s\n", what,
            dfsae_status_string(st), m ? dfsae_model_last_error(m) : "");
    return 1;
}

static int save(const char *dir, const char *prob, const char *what,
                const float *v, size_t rows, size_t cols, int rank)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s_%s.npy", dir, prob, what);
    if (bench_write_npy(path, v, rows, cols, rank) != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

/* Loss terms (lambda_wr = 1 so all four are evaluated), both totals, both
 * gradients and the parameters after one Adam step with the defaults. */
static int run_problem(const char *dir, const problem *p,
                       unsigned long long seed, FILE *json, int first)
{
    dfsae_model *m = NULL;
    dfsae_optimizer *opt = NULL;
    int rc = 1, st = dfsae_model_create(p->d, p->k, seed, NULL, &m);
    size_t np = p->k * p->d + p->k;
    float *X = malloc(p->b * p->d * sizeof *X);
    float *params = malloc(np * sizeof *params), *g = malloc(np * sizeof *g);
    double terms[DFSAE_TERM_COUNT], total = 0.0, total_wr = 0.0;
    if (st != DFSAE_OK)
        return fail("create", st, NULL);
    if (X == NULL || params == NULL || g == NULL)
        goto out;
    bench_rng rng;
    bench_rng_seed(&rng, seed + 1000);
    bench_fill_normal(&rng, X, p->b * p->d);
    if ((st = dfsae_model_get_params(m, params, np)) != DFSAE_OK) {
        rc = fail("get_params", st, m);
        goto out;
    }
    if (save(dir, p->name, "X", X, p->b, p->d, 2) ||
        save(dir, p->name, "W", params, p->k, p->d, 2) ||
        save(dir, p->name, "b", params + p->k * p->d, 1, p->k, 1))
        goto out;
    if ((st = dfsae_model_set_option(m, DFSAE_MODEL_LAMBDA_WR, 1.0)) ||
        (st = dfsae_model_grad(m, X, p->b, g, &total_wr, terms,
                               DFSAE_TERM_COUNT))) {
        rc = fail("grad with lambda_wr = 1", st, m);
        goto out;
    }
    if (save(dir, p->name, "grad_wr", g, 1, np, 1))
        goto out;
    if ((st = dfsae_model_set_option(m, DFSAE_MODEL_LAMBDA_WR, 0.0)) ||
        (st = dfsae_model_grad(m, X, p->b, g, &total, NULL, 0))) {
        rc = fail("grad", st, m);
        goto out;
    }
    if (save(dir, p->name, "grad", g, 1, np, 1))
        goto out;
    if ((st = dfsae_optimizer_create(DFSAE_ADAM, np, NULL, &opt)) ||
        (st = dfsae_optimizer_step(opt, m, g)) ||
        (st = dfsae_model_get_params(m, params, np))) {
        rc = fail("Adam step", st, m);
        goto out;
    }
    if (save(dir, p->name, "step", params, 1, np, 1))
        goto out;
    fprintf(json,
            "%s    {\"name\": \"%s\", \"B\": %zu, \"D\": %zu, \"K\": %zu, "
            "\"terms\": [%.17g, %.17g, %.17g, %.17g], \"total\": %.17g, "
            "\"total_wr\": %.17g}",
            first ? "" : ",\n", p->name, p->b, p->d, p->k, terms[0], terms[1],
            terms[2], terms[3], total, total_wr);
    rc = 0;
out:
    dfsae_optimizer_free(opt);
    dfsae_model_free(m);
    free(X);
    free(params);
    free(g);
    return rc;
}

int bench_check_write(const char *dir, unsigned long long seed)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/check.json", dir);
    FILE *json = fopen(path, "w");
    if (json == NULL) {
        perror(path);
        return 1;
    }
    fprintf(json, "{\"lr\": 0.001, \"problems\": [\n");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof k_problems / sizeof *k_problems;
         ++i)
        rc = run_problem(dir, &k_problems[i], seed, json, i == 0);
    fprintf(json, "\n]}\n");
    if (fclose(json) != 0 && rc == 0) {
        perror(path);
        rc = 1;
    }
    if (rc == 0)
        printf("wrote %s and the problems' .npy files\n", path);
    return rc;
}
