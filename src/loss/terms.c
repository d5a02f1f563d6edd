/* The table of loss terms, in dfsae_term order, and what the terms share. */
#include <stdint.h>
#include <stdio.h>

#include "loss/loss.h"

extern const dfsae_loss_ops dfsae__loss_lse, dfsae__loss_var, dfsae__loss_tc,
    dfsae__loss_wr;

const dfsae_loss_ops *const dfsae__loss_terms[DFSAE_TERM_COUNT] = {
    &dfsae__loss_lse, &dfsae__loss_var, &dfsae__loss_tc, &dfsae__loss_wr};

int dfsae__loss_needs_stats(const double lambda[DFSAE_TERM_COUNT])
{
    int need = 0;
    for (int t = 0; t < DFSAE_TERM_COUNT; ++t)
        need |= lambda[t] != 0.0 && dfsae__loss_terms[t]->needs_stats;
    return need;
}

void dfsae__loss_stats_names(char buf[DFSAE_STATS_NAMES_LEN])
{
    int count = 0, total = 0;
    for (int t = 0; t < DFSAE_TERM_COUNT; ++t)
        total += dfsae__loss_terms[t]->needs_stats;
    size_t used = 0;
    buf[0] = '\0';
    for (int t = 0; t < DFSAE_TERM_COUNT; ++t) {
        if (!dfsae__loss_terms[t]->needs_stats)
            continue;
        const char *sep = count == 0 ? "" : count + 1 < total ? ", " : " and ";
        int w = snprintf(buf + used, DFSAE_STATS_NAMES_LEN - used, "%sL_%s",
                         sep, dfsae__loss_terms[t]->name);
        if (w < 0 || (size_t)w >= DFSAE_STATS_NAMES_LEN - used)
            return; /* truncated: the names that fit */
        used += (size_t)w;
        ++count;
    }
}

int dfsae__scratch_add(size_t *total, size_t count, size_t elem)
{
    const size_t step = DFSAE_SCRATCH_ALIGN / elem;
    if (count > SIZE_MAX - step)
        return 0;
    size_t rounded = (count + step - 1) / step * step;
    if (rounded > SIZE_MAX - *total)
        return 0;
    *total += rounded;
    return 1;
}

void dfsae__dA_parts_begin(dfsae_dA_parts *p, size_t k, float *f32, double *f64)
{
    p->r_scale = 0.0;
    p->r_min = NULL;
    p->r_sum = NULL;
    p->P = NULL;
    p->p_scale = f32;
    p->centred_f32 = f32 + k;
    p->constant_f32 = f32 + 2 * k;
    p->centred = f64;
    p->constant = f64 + k;
    for (size_t j = 0; j < k; ++j)
        p->centred[j] = p->constant[j] = 0.0;
}
