/* libFuzzer target for the model-file loader: every load entry point on
 * arbitrary bytes. Built with clang -fsanitize=fuzzer,address,undefined
 * when DFSAE_FUZZ=ON (tests/io.cmake); run by .ci/steps/30-io-fuzz.sh. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dfsae.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[DFSAE_ERROR_MESSAGE_SIZE];
    dfsae_model *m = NULL;
    dfsae_optimizer *o = NULL;
    /* Create-style, with and without the optimizer. */
    if (dfsae_model_load_buffer(data, size, NULL, &m, &o, err, sizeof err) ==
        DFSAE_OK) {
        dfsae_optimizer_free(o);
        dfsae_model_free(m);
    }
    if (dfsae_model_load_buffer(data, size, NULL, &m, NULL, err, sizeof err) ==
        DFSAE_OK)
        dfsae_model_free(m);
    /* Into existing handles of the seed corpus's shape (D = 3, K = 2). */
    if (dfsae_model_create(3, 2, 1, NULL, &m) == DFSAE_OK) {
        if (dfsae_optimizer_create(DFSAE_ADAM, 8, NULL, &o) == DFSAE_OK) {
            (void)dfsae_model_load_buffer_into(m, o, data, size);
            dfsae_optimizer_free(o);
        }
        (void)dfsae_model_load_buffer_into(m, NULL, data, size);
        (void)strlen(dfsae_model_last_error(m));
        dfsae_model_free(m);
    }
    return 0;
}
