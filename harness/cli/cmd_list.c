/* geossl list methods|backbones|formats|protocols: what --method,
 * --backbone, FORMAT:PATH and --protocol accept, one name per line (for
 * methods the canonical name results, checkpoints and results/reference.csv
 * carry); with --verbose methods add their summary and the keys
 * --method-options takes, formats their summary. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "dataset.h"
#include "evaluate.h"
#include "method.h"
#include "nn/backbone.h"
#include "options.h"

static const char *const LISTS[] = {"methods", "backbones", "formats", "protocols", NULL};

static int list_methods(bool verbose) {
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

static int list_names(const char *const *names) {
    for (int i = 0; names[i]; i++) printf("%s\n", names[i]);
    return 0;
}

static int list_formats(bool verbose) {
    for (int i = 0; gs_dataset_format_at(i); i++) {
        const gs_dataset_format *f = gs_dataset_format_at(i);
        if (verbose) printf("%s: %s\n", f->name, f->summary);
        else printf("%s\n", f->name);
    }
    return 0;
}

int gs_cmd_list(int argc, char **argv) {
    bool verbose = false;
    const gs_option options[] = {
        {"verbose", GS_OPT_FLAG, &verbose, "", "methods: summary and --method-options keys; formats: summary",
         GS_NO_VALUE},
    };
    const gs_command_line line = {.command = "list", .operands = "[methods|backbones|formats|protocols]",
                                  .min_operands = 0, .max_operands = 1,
                                  .summary = "Lists what exists, one name per line (methods when no list is named).",
                                  .options = options, .n_options = (int)(sizeof options / sizeof *options)};
    gs_parsed_args args;
    int parsed = gs_command_line_parse(&line, argc, argv, &args);
    if (parsed) return parsed == 1 ? 0 : 2;
    const char *which = args.n_operands == 1 ? args.operands[0] : "methods";
    switch (gs_option_choice(LISTS, which)) {
    case 0: return list_methods(verbose);
    case 1: return list_names(GS_BACKBONE_NAMES);
    case 2: return list_formats(verbose);
    case 3: return list_names(GS_PROTOCOL_NAMES);
    default:
        fprintf(stderr, "geossl list: unknown list '%s' (methods, backbones, formats or protocols)\n", which);
        return 2;
    }
}
