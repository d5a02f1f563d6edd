/* Version, status strings and the names of enumerated values. */
#include "layers/layers.h"
#include "loss/loss.h"

unsigned dfsae_version_number(void)
{
    return DFSAE_VERSION_NUMBER;
}

const char *dfsae_version_string(void)
{
    return DFSAE_VERSION_STRING;
}

const char *dfsae_status_string(int status)
{
    switch (status) {
    case DFSAE_OK: return "ok";
    case DFSAE_ERR_NULL_ARG: return "a required pointer is NULL";
    case DFSAE_ERR_INVALID_ARG: return "invalid argument";
    case DFSAE_ERR_SIZE_OVERFLOW: return "size overflow";
    case DFSAE_ERR_NO_MEMORY: return "out of memory";
    case DFSAE_ERR_BATCH_TOO_SMALL:
        return "batch too small: variance terms need at least 2 rows";
    case DFSAE_ERR_NON_FINITE_INPUT: return "NaN or Inf in input";
    case DFSAE_ERR_NON_FINITE_RESULT: return "a result is not finite";
    case DFSAE_ERR_UNKNOWN_PARAM: return "unknown parameter";
    case DFSAE_ERR_PARAM_OUT_OF_RANGE: return "parameter value out of range";
    case DFSAE_ERR_SIZE_MISMATCH: return "size mismatch";
    case DFSAE_ERR_IO: return "input/output error";
    case DFSAE_ERR_TRUNCATED: return "the file is truncated";
    case DFSAE_ERR_HEADER_TOO_LARGE: return "the file header is too large";
    case DFSAE_ERR_BAD_HEADER: return "the file header is malformed";
    case DFSAE_ERR_DUPLICATE_KEY: return "duplicate key in the file header";
    case DFSAE_ERR_BAD_OFFSETS: return "bad tensor data offsets";
    case DFSAE_ERR_BAD_DTYPE: return "unsupported tensor dtype";
    case DFSAE_ERR_BAD_SHAPE: return "bad tensor shape";
    case DFSAE_ERR_BAD_METADATA: return "bad dfsae metadata";
    case DFSAE_ERR_UNSUPPORTED_VERSION:
        return "file format version not supported";
    case DFSAE_ERR_CANCELLED: return "cancelled by the progress callback";
    case DFSAE_ERR_THREAD: return "a worker thread could not be started";
    default: return "unknown status";
    }
}

const char *dfsae_activation_name(int activation)
{
    if (activation < 0 || activation >= DFSAE_ACT_COUNT)
        return NULL;
    return dfsae__activations[activation]->name;
}

const char *dfsae_term_name(int term)
{
    if (term < 0 || term >= DFSAE_TERM_COUNT)
        return NULL;
    return dfsae__loss_terms[term]->name;
}
