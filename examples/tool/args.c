/* Flag parsing: "--name value", "--name=value", "--" ends the flags.
 * Every problem is one line naming the subcommand and the flag. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_error(const char *cmd, int code, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "dfsae%s%s: ", cmd != NULL ? " " : "",
            cmd != NULL ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

cli_opt *cli_find(const cli_cmd *cmd, const char *name)
{
    for (size_t i = 0; i < cmd->n_opts; i++)
        if (strcmp(cmd->opts[i].name, name) == 0)
            return &cmd->opts[i];
    return NULL;
}

void cli_print_help(const cli_cmd *cmd)
{
    printf("usage: dfsae %s %s\n\n%s\n\noptions:\n", cmd->name, cmd->usage,
           cmd->summary);
    for (size_t i = 0; i < cmd->n_opts; i++) {
        const cli_opt *o = &cmd->opts[i];
        char left[64];
        if (o->type == CLI_FLAG)
            snprintf(left, sizeof left, "--%s", o->name);
        else
            snprintf(left, sizeof left, "--%s %s", o->name, o->arg);
        printf("  %-24s %s\n", left, o->help);
        if (o->type == CLI_MEMORY) {
            char here[32];
            printf("  %-24s (the default here: %s)\n", "",
                   exdata_size_text(exdata_default_max_memory(), here,
                                    sizeof here));
        }
    }
    printf("  %-24s %s\n", "--help", "show this help and exit");
    if (cmd->details != NULL)
        printf("\n%s\n", cmd->details);
}

/* "1024", "512K", "1.5G", "2GiB": bytes, K/M/G/T being powers of 1024.
 * Returns 0, or -1 if it is not such a size, is 0 or does not fit. */
static int parse_memory(const char *v, size_t *out)
{
    char *end;
    double x, scale = 1.0;
    if (*v < '0' || *v > '9')
        return -1;
    errno = 0;
    x = strtod(v, &end);
    if (errno != 0)
        return -1;
    if (*end != '\0') {
        switch (*end) {
        case 'T':
        case 't': scale *= 1024.0; /* fall through */
        case 'G':
        case 'g': scale *= 1024.0; /* fall through */
        case 'M':
        case 'm': scale *= 1024.0; /* fall through */
        case 'K':
        case 'k': scale *= 1024.0; break;
        default: return -1;
        }
        end++;
        if (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0)
            end += strlen(end);
        if (*end != '\0')
            return -1;
    }
    x = floor(x * scale);
    if (!(x >= 1.0) || x >= (double)SIZE_MAX)
        return -1;
    *out = (size_t)x;
    return 0;
}

static int set_value(const cli_cmd *cmd, cli_opt *o, const char *v)
{
    char *end;
    switch (o->type) {
    case CLI_STR: *(const char **)o->dst = v; return 0;
    case CLI_SIZE:
    case CLI_COUNT:
    case CLI_U64: {
        unsigned long long u;
        if (*v == '-' || *v == '+' || *v == '\0' || *v == ' ')
            goto bad_int;
        errno = 0;
        u = strtoull(v, &end, 10);
        if (errno != 0 || *end != '\0')
            goto bad_int;
        if (o->type == CLI_SIZE && u == 0)
            return cli_error(cmd->name, -1, "--%s: must be at least 1",
                             o->name);
        if (o->type == CLI_U64) {
            *(uint64_t *)o->dst = (uint64_t)u;
        } else {
            if (u > SIZE_MAX)
                goto bad_int;
            *(size_t *)o->dst = (size_t)u;
        }
        return 0;
    bad_int:
        return cli_error(cmd->name, -1, "--%s: '%s' is not a %s integer",
                         o->name, v,
                         o->type == CLI_SIZE ? "positive" : "non-negative");
    }
    case CLI_DOUBLE: {
        double d;
        errno = 0;
        d = strtod(v, &end);
        if (*v == '\0' || *end != '\0' || errno == ERANGE || !isfinite(d))
            return cli_error(cmd->name, -1, "--%s: '%s' is not a number",
                             o->name, v);
        *(double *)o->dst = d;
        return 0;
    }
    case CLI_FLAG: *(int *)o->dst = 1; return 0;
    case CLI_MEMORY:
        if (parse_memory(v, (size_t *)o->dst) != 0)
            return cli_error(cmd->name, -1,
                             "--%s: '%s' is not a size (bytes, or with K, M, "
                             "G or T: 512M, 1.5G)",
                             o->name, v);
        return 0;
    }
    return -1;
}

int cli_parse(const cli_cmd *cmd, int argc, char **argv, const char **pos,
              size_t *n_pos)
{
    int flags_done = 0;
    *n_pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!flags_done && strcmp(a, "--") == 0) {
            flags_done = 1;
            continue;
        }
        if (!flags_done && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            cli_print_help(cmd);
            return 1;
        }
        if (!flags_done && a[0] == '-' && a[1] != '\0') {
            char name[64];
            const char *eq, *v;
            cli_opt *o;
            size_t len;
            if (a[1] != '-')
                return cli_error(cmd->name, -1,
                                 "unknown option '%s' (options are spelled "
                                 "--name; see dfsae %s --help)",
                                 a, cmd->name);
            eq = strchr(a + 2, '=');
            len = eq != NULL ? (size_t)(eq - (a + 2)) : strlen(a + 2);
            if (len >= sizeof name)
                len = sizeof name - 1;
            memcpy(name, a + 2, len);
            name[len] = '\0';
            o = cli_find(cmd, name);
            if (o == NULL)
                return cli_error(cmd->name, -1,
                                 "unknown option '--%s' (see dfsae %s --help)",
                                 name, cmd->name);
            if (o->seen)
                return cli_error(cmd->name, -1, "--%s given twice", name);
            o->seen = 1;
            if (o->type == CLI_FLAG) {
                if (eq != NULL)
                    return cli_error(cmd->name, -1, "--%s takes no value",
                                     name);
                v = "";
            } else if (eq != NULL) {
                v = eq + 1;
            } else {
                if (i + 1 >= argc)
                    return cli_error(cmd->name, -1, "--%s needs a value (%s)",
                                     name, o->arg);
                v = argv[++i];
            }
            if (set_value(cmd, o, v) != 0)
                return -1;
            continue;
        }
        if (*n_pos >= cmd->max_pos)
            return cli_error(cmd->name, -1,
                             "unexpected argument '%s' (usage: dfsae %s %s)", a,
                             cmd->name, cmd->usage);
        pos[(*n_pos)++] = a;
    }
    if (*n_pos < cmd->min_pos)
        return cli_error(cmd->name, -1, "missing argument (usage: dfsae %s %s)",
                         cmd->name, cmd->usage);
    return 0;
}
