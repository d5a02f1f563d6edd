/* The run state a model keeps for dfsae_model_train (and files keep). */
#include "model.h"

int dfsae_model_get_run_state(const dfsae_model *model, uint64_t *epochs,
                              uint64_t *rows, uint64_t *seed)
{
    if (model == NULL)
        return DFSAE_ERR_NULL_ARG;
    if (epochs != NULL)
        *epochs = model->run.epochs;
    if (rows != NULL)
        *rows = model->run.rows;
    if (seed != NULL)
        *seed = model->run.seed;
    return DFSAE_OK;
}

int dfsae_model_set_run_state(dfsae_model *model, uint64_t epochs,
                              uint64_t rows, uint64_t seed)
{
    if (model == NULL)
        return DFSAE_ERR_NULL_ARG;
    model->run.epochs = epochs;
    model->run.rows = rows;
    model->run.seed = seed;
    return DFSAE_OK;
}
