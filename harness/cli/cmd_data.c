/* geossl data: formats and cache here; synth (cmd_data_synth.c) and check
 * (cmd_data_check.c) are routed to their own files. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "dataset.h"
#include "options.h"
#include "cache.h"
#include "cache_dir.h"

static int data_formats(void) {
    printf("dataset formats (name a dataset as FORMAT:PATH):\n");
    gs_dataset_print_formats(stdout);
    return 0;
}

/* Packs a dataset into one HDF5 file (rebuilt only when the source changed). */
static int data_cache(int argc, char **argv) {
    const char *out = NULL;
    long long workers = 2;
    bool skip_bad = false, rebuild = false;
    const gs_option options[] = {
        {"out", GS_OPT_STRING, &out, "FILE", "cache file [<cache dir>/<format>-<key>.h5; see GEOSSL_CACHE_DIR]",
         GS_ANY_TEXT},
        {"workers", GS_OPT_INT, &workers, "N", "decoding threads [2]", GS_WORKERS_RANGE},
        {"skip-bad", GS_OPT_FLAG, &skip_bad, "", "leave unreadable samples out (counted) instead of failing",
         GS_NO_VALUE},
        {"rebuild", GS_OPT_FLAG, &rebuild, "", "rebuild even when the cache is up to date", GS_NO_VALUE},
    };
    const gs_command_line line = {
        .command = "data cache", .operands = "FORMAT:PATH", .min_operands = 1, .max_operands = 1,
        .summary = "Packs a dataset (pixels, labels, splits, band statistics) into one chunked HDF5 file so\n"
                   "epochs after the first read no small files; reuses it while the source is unchanged.",
        .options = options, .n_options = (int)(sizeof options / sizeof *options)};
    gs_parsed_args args;
    int parsed = gs_command_line_parse(&line, argc, argv, &args);
    if (parsed) return parsed == 1 ? 0 : 2;
    const char *spec = args.operands[0];
    gs_dataset src, cached;
    gs_error err = {0};
    if (gs_dataset_open(spec, NULL, &src, &err) != GS_OK) {
        fprintf(stderr, "geossl data cache: %s\n", err.message);
        return 1;
    }
    char path[4096];
    if (out) {
        snprintf(path, sizeof path, "%s", out);
    } else {
        char dir[4000];
        gs_cache_default_dir(dir, sizeof dir);
        if (gs_cache_make_dir(dir, &err) != GS_OK) {
            fprintf(stderr, "geossl data cache: %s\n", err.message);
            gs_dataset_close(&src);
            return 1;
        }
        gs_cache_path(&src, dir, path, sizeof path);
    }
    gs_cache_options o = {.workers = (int)workers, .skip_bad = skip_bad, .progress = args.quiet ? NULL : stderr};
    gs_cache_report report = {0};
    gs_status st = rebuild ? gs_cache_build(&src, path, &o, &report, &err)
                           : gs_cache_use(&src, path, &o, &cached, &report, &err);
    if (st == GS_OK && !rebuild) gs_dataset_close(&cached);
    gs_dataset_close(&src);
    if (st != GS_OK) {
        fprintf(stderr, "geossl data cache: %s\n", err.message);
        return 1;
    }
    printf("%s %s: %lld samples (%lld skipped), %s pixels, %.1f s\n", report.built || rebuild ? "built" : "up to date",
           path, (long long)report.samples, (long long)report.skipped, gs_cache_dtype_name(report.dtype),
           report.seconds);
    return 0;
}

/* The subcommands, so help and the unknown-subcommand message list the same ones. */
typedef struct data_subcommand {
    const char *name, *summary;
    int (*run)(int argc, char **argv);
} data_subcommand;

static int data_formats_command(int argc, char **argv) {
    int parsed = gs_options_parse("data formats", "Lists the dataset formats.", NULL, 0, argc, argv);
    if (parsed) return parsed == 1 ? 0 : 2;
    return data_formats();
}

static const data_subcommand DATA_SUBCOMMANDS[] = {
    {"formats", "list the dataset formats", data_formats_command},
    {"synth", "write synthetic data in a format's real layout", gs_cmd_data_synth},
    {"check", "index a dataset, decode every file, print counts and statistics", gs_cmd_data_check},
    {"cache", "pack a dataset into one HDF5 file", data_cache},
};
#define N_DATA_SUBCOMMANDS (int)(sizeof DATA_SUBCOMMANDS / sizeof *DATA_SUBCOMMANDS)

int gs_cmd_data(int argc, char **argv) {
    bool help = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
    if (argc < 2 || help) {
        FILE *out = help ? stdout : stderr; /* without a subcommand it is a usage error */
        fprintf(out, "usage: geossl data <command> [options]\n\n");
        for (int i = 0; i < N_DATA_SUBCOMMANDS; i++)
            fprintf(out, "  %-9s %s\n", DATA_SUBCOMMANDS[i].name, DATA_SUBCOMMANDS[i].summary);
        return help ? 0 : 2;
    }
    for (int i = 0; i < N_DATA_SUBCOMMANDS; i++)
        if (!strcmp(argv[1], DATA_SUBCOMMANDS[i].name)) return DATA_SUBCOMMANDS[i].run(argc - 1, argv + 1);
    char names[256] = "";
    for (int i = 0; i < N_DATA_SUBCOMMANDS; i++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "", DATA_SUBCOMMANDS[i].name);
    fprintf(stderr, "geossl data: unknown command '%s' (%s; see 'geossl data --help')\n", argv[1], names);
    return 2;
}
