/* libFuzzer target for one data reader, chosen at build time
 * (FUZZ_FORMAT = EXDATA_IDX / _NPY / _CSV, FUZZ_NAME its file name;
 * tests/cli.cmake builds one target per reader). The reader is called via
 * exdata_parse with the format forced, so gzip input is decompressed
 * first (bounded) and every byte string reaches the parser. Any crash,
 * leak, sanitizer report or error without a message is a finding. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "exdata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    exdata d;
    exdata_error err;
    exdata_options opt;
    exdata_options_init(&opt);
    opt.format = FUZZ_FORMAT;
    opt.max_memory = (size_t)1 << 22; /* keep decompression bombs cheap */
    err.msg[0] = '\0';
    if (exdata_parse(data, size, FUZZ_NAME, &opt, &d, &err) == 0) {
        /* Touch every value: the reader promised rows x cols floats. */
        volatile float sum = 0;
        for (size_t i = 0; i < d.rows * d.cols; i++)
            sum += d.values[i];
        (void)sum;
        if (d.rows == 0 || d.cols == 0)
            abort();
        exdata_free(&d);
    } else if (err.msg[0] == '\0' || d.values != NULL) {
        abort(); /* an error must say why and leave nothing allocated */
    }
    return 0;
}
