/* The projected training loop: dfsae_train_step on batches of our own,
 * then the bias clipped. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "study_projected.h"

/* SplitMix64: the shuffle's generator. */
static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void shuffle(size_t *idx, size_t n, uint64_t seed, uint64_t epoch)
{
    uint64_t s = seed * 0x2545f4914f6cdd1dull + epoch;
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)(next(&s) % (i + 1));
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

/* b into [-max_bias, max_bias]. */
static void clip_bias(float *b, size_t k, double max_bias)
{
    const float bmax = (float)max_bias;
    for (size_t j = 0; j < k; j++)
        b[j] = fmaxf(-bmax, fminf(bmax, b[j]));
}

int study_train_projected(dfsae_model *m, dfsae_optimizer *o,
                          const study_config *c, const study_split *tr,
                          study_epoch_fn on_epoch, void *user)
{
    const size_t n = tr->n, d = tr->d, k = dfsae_model_num_components(m);
    const size_t np = dfsae_model_num_params(m);
    const size_t batch = c->batch < n ? c->batch : n;
    size_t *idx = malloc(n * sizeof *idx);
    float *X = malloc((batch + 1) * d * sizeof *X);
    float *p = malloc(np * sizeof *p);
    int st =
        idx != NULL && X != NULL && p != NULL ? DFSAE_OK : DFSAE_ERR_NO_MEMORY;
    for (uint64_t e = 0; st == DFSAE_OK && e < c->epochs; e++) {
        double sum = 0.0, terms[DFSAE_TERM_COUNT] = {0};
        size_t steps = 0;
        shuffle(idx, n, c->seed, e);
        for (size_t first = 0; st == DFSAE_OK && first < n;) {
            size_t rows = n - first < batch ? n - first : batch;
            if (n - first - rows == 1) /* the batch-of-1 rule */
                rows++;
            for (size_t i = 0; i < rows; i++)
                memcpy(X + i * d, tr->X + idx[first + i] * d, d * sizeof *X);
            double loss, t[DFSAE_TERM_COUNT];
            st = dfsae_train_step(m, o, X, rows, &loss, t, DFSAE_TERM_COUNT);
            if (st == DFSAE_OK)
                st = dfsae_model_get_params(m, p, np);
            if (st == DFSAE_OK) {
                clip_bias(p + k * d, k, c->max_bias);
                st = dfsae_model_set_params(m, p, np);
            }
            sum += loss;
            for (int q = 0; q < DFSAE_TERM_COUNT; q++)
                terms[q] += t[q];
            steps++;
            first += rows;
        }
        if (st != DFSAE_OK)
            break;
        for (int q = 0; q < DFSAE_TERM_COUNT; q++)
            terms[q] /= (double)steps;
        on_epoch(user, e + 1, sum / (double)steps, terms);
    }
    free(idx);
    free(X);
    free(p);
    return st;
}
