/* Helpers shared by the subcommands: data loading, names, errors. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_parse_scale(const char *cmd, const char *s, double *divide)
{
    char *end;
    double d;
    *divide = EXDATA_SCALE_AUTO;
    if (s == NULL || strcmp(s, "auto") == 0)
        return CLI_OK;
    if (strcmp(s, "none") == 0) {
        *divide = 1.0;
        return CLI_OK;
    }
    d = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || !isfinite(d) || d <= 0)
        return cli_error(cmd, CLI_USAGE,
                         "--scale: '%s' is not auto, none or a positive "
                         "number",
                         s);
    *divide = d;
    return CLI_OK;
}

int cli_parse_dtype(const char *cmd, const cli_data_flags *flags, int *bf16)
{
    *bf16 = 0;
    if (flags->dtype == NULL || strcmp(flags->dtype, "auto") == 0)
        return CLI_OK;
    if (strcmp(flags->dtype, "bf16") == 0) {
        *bf16 = 1;
        return CLI_OK;
    }
    return cli_error(cmd, CLI_USAGE, "--dtype: '%s' is not auto or bf16",
                     flags->dtype);
}

int cli_is_safetensors(const char *path)
{
    size_t n = strlen(path), k = strlen(".safetensors");
    return n >= k && strcmp(path + n - k, ".safetensors") == 0;
}

static int element_of(int dtype)
{
    return dtype == DFSAE_DTYPE_F16    ? DFSAE_ELEM_F16
           : dtype == DFSAE_DTYPE_BF16 ? DFSAE_ELEM_BF16
                                       : DFSAE_ELEM_F32;
}

int cli_load_data(const char *cmd, const char *path,
                  const cli_data_flags *flags, exdata *out)
{
    exdata_options opt;
    exdata_error err;
    exdata_options_init(&opt);
    if (flags->format != NULL && strcmp(flags->format, "auto") != 0) {
        if (strcmp(flags->format, "idx") == 0)
            opt.format = EXDATA_IDX;
        else if (strcmp(flags->format, "npy") == 0)
            opt.format = EXDATA_NPY;
        else if (strcmp(flags->format, "csv") == 0)
            opt.format = EXDATA_CSV;
        else
            return cli_error(cmd, CLI_USAGE,
                             "--format: '%s' is not one of auto, idx, npy, "
                             "csv",
                             flags->format);
    }
    if (cli_parse_scale(cmd, flags->scale, &opt.divide) != CLI_OK ||
        cli_parse_dtype(cmd, flags, &opt.bf16) != CLI_OK)
        return CLI_USAGE;
    if (flags->tensor != NULL || cli_is_safetensors(path))
        return cli_error(cmd, CLI_USAGE,
                         "safetensors data are read in place only: add "
                         "--mmap");
    opt.max_memory = flags->max_memory;
    if (exdata_load(path, &opt, out, &err) != 0)
        return cli_error(cmd, CLI_FAIL, "%s%s", err.msg,
                         err.kind == EXDATA_ERR_MEMORY_LIMIT
                             ? " (--max-memory SIZE raises it)"
                             : "");
    if (flags->limit != 0)
        exdata_truncate(out, flags->limit);
    return CLI_OK;
}

int cli_open_input(const char *cmd, const char *path,
                   const cli_data_flags *flags, int sequential, cli_input *in)
{
    exdata_error err;
    int st;
    memset(in, 0, sizeof *in);
    if (!flags->mmap) {
        int rc = cli_load_data(cmd, path, flags, &in->data);
        if (rc != CLI_OK)
            return rc;
        in->rows = in->data.rows;
        in->cols = in->data.cols;
        st = dfsae_source_from_array(in->data.values, DFSAE_ELEM_F32, in->rows,
                                     in->cols, NULL, &in->src);
    } else {
        exdata_map_options mo;
        exdata_map_options_init(&mo);
        mo.sequential = sequential;
        mo.tensor = flags->tensor;
        if (flags->format != NULL && strcmp(flags->format, "auto") != 0 &&
            strcmp(flags->format, "npy") != 0)
            return cli_error(cmd, CLI_USAGE,
                             "--mmap reads .npy and safetensors files only");
        if (cli_parse_dtype(cmd, flags, &mo.bf16) != CLI_OK)
            return CLI_USAGE;
        if (exdata_map_open(path, &mo, &in->map, &err) != 0)
            return cli_error(cmd, CLI_FAIL, "%s", err.msg);
        in->rows = exdata_map_rows(in->map);
        in->cols = exdata_map_cols(in->map);
        /* What --scale auto looks at (mapped data are never uint8). */
        in->data.dtype = exdata_map_dtype(in->map);
        if (flags->limit != 0 && flags->limit < in->rows)
            in->rows = flags->limit;
        st = dfsae_source_from_callback(exdata_map_read, in->map,
                                        element_of(in->data.dtype), in->rows,
                                        in->cols, 0, NULL, &in->src);
        /* exdata_map_read only preads: two threads may share a batch. */
        if (st == DFSAE_OK)
            st = dfsae_source_set_parallel_reads(in->src, 1);
    }
    if (st != DFSAE_OK) {
        cli_input_free(in);
        return cli_lib_error(cmd, st, NULL, path);
    }
    return CLI_OK;
}

void cli_input_free(cli_input *in)
{
    dfsae_source_free(in->src);
    exdata_map_close(in->map);
    exdata_free(&in->data);
    memset(in, 0, sizeof *in);
}

size_t cli_memory_limit(const cli_data_flags *flags)
{
    return flags->max_memory != 0 ? flags->max_memory
                                  : exdata_default_max_memory();
}

int cli_over_limit(const char *cmd, const char *what, size_t need,
                   const cli_data_flags *flags, const char *hint)
{
    char need_s[32], limit_s[32];
    return cli_error(
        cmd, CLI_FAIL,
        "%s needs %s, above the memory limit of %s (--max-memory SIZE "
        "raises it%s%s)",
        what, exdata_size_text(need, need_s, sizeof need_s),
        exdata_size_text(cli_memory_limit(flags), limit_s, sizeof limit_s),
        hint != NULL ? "; " : "", hint != NULL ? hint : "");
}

#define LAMBDA_KEY(arg, term, key, name, dflt)  [term] = key,
#define LAMBDA_FLAG(arg, term, key, name, dflt) [term] = "lambda-" name,
#define ONE_ROW(arg, term, key, name, dflt)     +1
const int cli_lambda_keys[DFSAE_TERM_COUNT] = {CLI_TERMS(LAMBDA_KEY, 0)};
const char *const cli_lambda_flags[DFSAE_TERM_COUNT] = {
    CLI_TERMS(LAMBDA_FLAG, 0)};
_Static_assert(0 CLI_TERMS(ONE_ROW, 0) == DFSAE_TERM_COUNT,
               "CLI_TERMS (cli.h) needs one row per dfsae_term");

int cli_activation_from_name(const char *s)
{
    for (int a = 0; a < DFSAE_ACT_COUNT; a++) {
        const char *n = dfsae_activation_name(a);
        if (n != NULL && strcmp(n, s) == 0)
            return a;
    }
    return -1;
}

int cli_optimizer_from_name(const char *s)
{
    for (int k = 0; k < DFSAE_OPTIMIZER_KIND_COUNT; k++) {
        const char *n = dfsae_optimizer_kind_name(k);
        if (n != NULL && strcmp(n, s) == 0)
            return k;
    }
    return -1;
}

int cli_lib_error(const char *cmd, int status, const char *detail,
                  const char *what)
{
    if (detail != NULL && detail[0] != '\0')
        return cli_error(cmd, CLI_FAIL, "%s: %s (%s)", what, detail,
                         dfsae_status_string(status));
    return cli_error(cmd, CLI_FAIL, "%s: %s", what,
                     dfsae_status_string(status));
}
