/* dfsae: train, encode, evaluate, describe and draw decoder-free sparse
 * autoencoders from the command line. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *summary;
} commands[] = {
    {"train", cli_train, "train a model on a data set"},
    {"encode", cli_encode, "write a data set's features as .npy"},
    {"eval", cli_eval, "metrics of a model on a data set"},
    {"info", cli_info, "describe a model file"},
    {"show", cli_show, "draw the prototypes (rows of W) as a PNG"},
    {"ablate", cli_ablate, "train every combination of loss terms, one table"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: dfsae COMMAND [options]   (dfsae COMMAND --help)\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nData: IDX (MNIST's format), .npy (float32, float64, "
               "uint8) or CSV, optionally gzipped.\n"
               "Models: safetensors files (PyTorch nn.Linear names).\n");
}

int main(int argc, char **argv)
{
    /* Past `ulimit -f` a write then fails with EFBIG, which is reported,
     * instead of killing the tool. */
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("dfsae %s (library %s)\n", DFSAE_VERSION_STRING,
               dfsae_version_string());
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 2, argv + 2);
    return cli_error(NULL, CLI_USAGE,
                     "unknown command '%s' (try: dfsae --help)", argv[1]);
}
