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
    if (argc >= 2 && argv[1][0] != '-') {
        if (strcmp(argv[1], "methods")) {
            fprintf(stderr, "geossl list: unknown list '%s' (methods)\n", argv[1]);
            return 2;
        }
        argc--, argv++;
    }
    int parsed = gs_options_parse("list", "usage: geossl list methods [--verbose]\n\nLists the methods.", options,
                                  (int)(sizeof options / sizeof *options), argc, argv);
    if (parsed) return parsed == 1 ? 0 : 2;
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
