/* geossl data synth FORMAT DIR: writes a synthetic dataset in FORMAT's real
 * on-disk layout, so that FORMAT:DIR opens it.  The `data` command routes
 * its `synth` subcommand here. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "options.h"
#include "synthetic.h"

static const char *SUMMARY =
    "Writes FORMAT into DIR (created; must be new or empty) with procedural imagery whose classes differ in\n"
    "texture and layout, in the format's real folder layout, file names, bands, JSON and split lists.\n"
    "The same --seed writes byte-identical files.";

int gs_cmd_data_synth(int argc, char **argv) {
    long long seed = 0;
    /* Unset: the format's default (gs_synth_options reads 0 as that). */
    long long count = GS_UNSET_INT, size = GS_UNSET_INT, classes = GS_UNSET_INT, dates = GS_UNSET_INT;
    const gs_option options[] = {
        {"seed", GS_OPT_INT, &seed, "N", "random seed [0]", GS_SEED_RANGE},
        {"count", GS_OPT_INT, &count, "N",
         "images per class (eurosat-*, resisc45), patches (bigearthnet), training tiles (potsdam), locations "
         "(seco, ssl4eo-s12), scenes (geotiff) [100, 20, 100, 4, 20, 3]",
         GS_RANGE(1, 1000000)},
        {"size", GS_OPT_INT, &size, "PX", "side of the finest grid [64, 256, 120, 512, 264, 512]", GS_RANGE(16, 20000)},
        {"classes", GS_OPT_INT, &classes, "N", "resisc45: the first N classes [45]", GS_RANGE(1, 45)},
        {"dates", GS_OPT_INT, &dates, "N", "seco, ssl4eo-s12: dates per location [5, 4]", GS_RANGE(1, 100)},
    };
    const gs_command_line line = {.command = "data synth", .operands = "FORMAT DIR", .min_operands = 2,
                                  .max_operands = 2, .summary = SUMMARY, .options = options,
                                  .n_options = (int)(sizeof options / sizeof *options)};
    gs_parsed_args args;
    int parsed = gs_command_line_parse(&line, argc, argv, &args);
    if (parsed == 1) {
        printf("\nformats:\n");
        gs_synth_print_formats(stdout);
    }
    if (parsed) return parsed == 1 ? 0 : 2;
    const char *format = args.operands[0], *dir = args.operands[1];
    gs_synth_options opt = {.seed = (uint64_t)seed, .count = (int)gs_option_int_or(count, 0),
                             .size = (int)gs_option_int_or(size, 0), .n_classes = (int)gs_option_int_or(classes, 0),
                             .dates = (int)gs_option_int_or(dates, 0)};
    gs_error err = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (gs_synth_write(format, dir, &opt, &err) != GS_OK) {
        fprintf(stderr, "geossl data synth: %s\n", err.message);
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("wrote synthetic %s to %s in %.2f s; open it as %s:%s\n", format, dir, seconds, format, dir);
    return 0;
}
