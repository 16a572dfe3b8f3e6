/* A small table-driven parser for "--name value" and "--flag" options,
 * shared by the subcommands; it also prints their --help. */
#ifndef GS_CLI_OPTIONS_H
#define GS_CLI_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

typedef enum gs_option_type { GS_OPT_STRING, GS_OPT_INT, GS_OPT_FLOAT, GS_OPT_FLAG } gs_option_type;

typedef struct gs_option {
    const char *name;  /* without the leading dashes */
    gs_option_type type;
    void *value;       /* const char **, long long *, double * or bool * */
    const char *metavar;
    const char *help;  /* ends with the default in brackets where there is one */
} gs_option;

/* Parses argv[1..argc).  Returns 0 on success, 1 when --help was printed,
 * 2 on an error (printed to stderr, naming the option and the fix). */
int gs_options_parse(const char *command, const char *summary, const gs_option *options, int n_options, int argc,
                     char **argv);
void gs_options_usage(FILE *out, const char *command, const char *summary, const gs_option *options,
                      int n_options);

/* Creates `dir` and its missing parents; false (after a message naming it)
 * when it can be neither created nor written. */
bool gs_cli_make_folder(const char *command, const char *dir);

#endif
