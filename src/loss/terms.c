/* The table of loss terms, in dfsae_term order. */
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
