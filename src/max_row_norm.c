/* DFSAE_MODEL_MAX_ROW_NORM: after every step, rows of W longer than the
 * cap are scaled back onto it (a max-norm constraint; docs/method.md,
 * section 7). Rows within the cap and the bias are left as they are. */
#include <math.h>

#include "model.h"

void dfsae__max_row_norm_project(dfsae_model *model)
{
    const double cap = model->opt.max_row_norm;
    if (cap <= 0.0)
        return;
    const size_t k = model->k, d = model->d;
    for (size_t r = 0; r < k; ++r) {
        float *w = model->params + r * d;
        double ss = 0.0;
        for (size_t c = 0; c < d; ++c)
            ss += (double)w[c] * w[c];
        if (!(ss > cap * cap))
            continue;
        const double f = cap / sqrt(ss);
        for (size_t c = 0; c < d; ++c)
            w[c] = (float)(w[c] * f);
    }
}
