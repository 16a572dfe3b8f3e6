/* geossl list methods: what --method accepts, one canonical name per line
 * (the name results, checkpoints and results/reference.csv carry), and with
 * --verbose the summary and the keys --method-options takes. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "method.h"
#include "options.h"

int gs_cmd_list(int argc, char **argv) {
    bool verbose = false;
    const gs_option options[] = {
        {"verbose", GS_OPT_FLAG, &verbose, "", "each method's summary and its --method-options keys", GS_NO_VALUE},
    };
    const gs_command_line line = {.command = "list", .operands = "[methods]", .min_operands = 0, .max_operands = 1,
                                  .summary = "Lists the methods.", .options = options,
                                  .n_options = (int)(sizeof options / sizeof *options)};
    gs_parsed_args args;
    int parsed = gs_command_line_parse(&line, argc, argv, &args);
    if (parsed) return parsed == 1 ? 0 : 2;
    if (args.n_operands == 1 && strcmp(args.operands[0], "methods")) {
        fprintf(stderr, "geossl list: unknown list '%s' (methods)\n", args.operands[0]);
        return 2;
    }
    for (int i = 0; gs_method_at(i); i++) {
        const gs_method_ops *ops = gs_method_at(i);
        if (!verbose) {
            printf("%s\n", ops->name);
            continue;
        }
        printf("%s: %s\n", ops->name, ops->summary);
        for (const gs_method_option_info *o = ops->options; o && o->key; o++) printf("  %s  %s\n", o->key, o->help);
    }
    return 0;
}
