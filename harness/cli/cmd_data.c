/* geossl data: formats, check (and, as they land, synth and cache). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "dataset.h"
#include "evaluate.h"
#include "options.h"
#include "progress.h"
#include "band_stats.h"
#include "cache.h"
#include "cache_dir.h"
#include "splits.h"

static const char *task_name(gs_task t) {
    switch (t) {
    case GS_TASK_CLASSIFICATION: return "classification";
    case GS_TASK_MULTILABEL: return "multi-label classification";
    case GS_TASK_SEGMENTATION: return "segmentation";
    case GS_TASK_UNLABELED: return "unlabeled";
    }
    return "?";
}

static int data_formats(void) {
    printf("dataset formats (name a dataset as FORMAT:PATH):\n");
    gs_dataset_print_formats(stdout);
    return 0;
}

/* Decodes every sample: a file that does not decode cleanly is listed (and,
 * without --skip-bad, makes the exit status non-zero). */
static int data_check(int argc, char **argv) {
    bool skip_bad = false, bigearthnet19 = false, eroded = false;
    /* Unset: the format's patch, a stride of one patch, every sample. */
    long long patch = GS_UNSET_INT, stride = GS_UNSET_INT, limit = GS_UNSET_INT;
    const char *splits = NULL, *bands = NULL;
    const gs_option options[] = {
        {"skip-bad", GS_OPT_FLAG, &skip_bad, "", "count bad files and exit 0 instead of failing", GS_NO_VALUE},
        {"tile", GS_OPT_INT, &patch, "PX",
         "tiled formats (potsdam, geotiff, s2-timeseries): tile size, as pretrain and eval --tile [format default]",
         GS_RANGE(1, 65536)},
        {"patch", GS_OPT_INT, &patch, "PX", "the old name of --tile", GS_RANGE(1, 65536)},
        {"stride", GS_OPT_INT, &stride, "PX", "tile stride [tile size]", GS_RANGE(1, 65536)},
        {"bands", GS_OPT_STRING, &bands, "NAMES", "bands by name, as pretrain and eval --bands (B4,B3,B2, rgb) [all]",
         GS_ANY_TEXT},
        {"bigearthnet19", GS_OPT_FLAG, &bigearthnet19, "", "BigEarthNet: the 19-class nomenclature", GS_NO_VALUE},
        {"eroded", GS_OPT_FLAG, &eroded, "", "Potsdam: eroded-boundary labels", GS_NO_VALUE},
        {"limit", GS_OPT_INT, &limit, "N", "decode only the first N samples [all]", GS_RANGE(1, LLONG_MAX)},
        {"splits", GS_OPT_STRING, &splits, "DIR", "published split lists from DIR, as eval --splits [as eval]",
         GS_ANY_TEXT},
    };
    const gs_command_line line = {
        .command = "data check", .operands = "FORMAT:PATH", .min_operands = 1, .max_operands = 1,
        .summary = "Indexes a dataset (FORMAT:PATH; see 'geossl data formats'), decodes every pixel of every "
                   "sample,\nand prints counts per class and split, shapes, band statistics and every bad file.",
        .options = options, .n_options = (int)(sizeof options / sizeof *options)};
    gs_parsed_args args;
    int parsed = gs_command_line_parse(&line, argc, argv, &args);
    if (parsed) return parsed == 1 ? 0 : 2;
    const char *spec = args.operands[0];
    gs_dataset_options o = {.patch_size = (int)gs_option_int_or(patch, 0), .stride = (int)gs_option_int_or(stride, 0),
                            .bigearthnet19 = bigearthnet19,
                            .eroded_labels = eroded};
    if (bands) snprintf(o.bands, sizeof o.bands, "%s", bands);
    gs_dataset ds;
    gs_error err = {0};
    if (gs_dataset_open(spec, &o, &ds, &err) != GS_OK) {
        fprintf(stderr, "geossl data check: %s\n", err.message);
        return bands && err.status == GS_ERR_ARGUMENT ? 2 : 1;
    }
    printf("%s: %s, %lld samples, %d classes, %d bands x %lld x %lld%s\n", spec, task_name(ds.task),
           (long long)ds.n_samples, ds.n_classes, ds.bands, (long long)ds.height, (long long)ds.width,
           ds.dates > 1 ? " per date" : "");
    if (ds.dates > 1) printf("dates per sample: %d\n", ds.dates);
    gs_dataset_describe(&ds, stdout);
    /* The split eval and pretrain will use, made the same way. */
    bool listed = false;
    if ((splits && gs_split_apply_standard(&ds, splits, &listed, &err) != GS_OK) ||
        gs_evaluate_default_split(&ds, 0, &err) != GS_OK) {
        fprintf(stderr, "geossl data check: %s\n", err.message);
        gs_dataset_close(&ds);
        return splits ? 2 : 1;
    }
    if (ds.n_warnings) printf("warnings while indexing: %lld (see above)\n", (long long)ds.n_warnings);

    int64_t split_count[4] = {0};
    int64_t *class_count = calloc((size_t)(ds.n_classes > 0 ? ds.n_classes : 1) * 4, sizeof *class_count);
    for (int64_t i = 0; i < ds.n_samples; i++) {
        const gs_sample *s = &ds.samples[i];
        int sp = s->split + 1; /* NONE -> 0 */
        split_count[sp]++;
        if (ds.task == GS_TASK_CLASSIFICATION && s->label >= 0) class_count[s->label * 4 + sp]++;
        if (ds.task == GS_TASK_MULTILABEL)
            for (int c = 0; c < ds.n_classes && c < 64; c++)
                if (s->labels >> c & 1) class_count[c * 4 + sp]++;
    }
    printf("splits (%s): train %lld, val %lld, test %lld, unassigned %lld\n", ds.split_source, (long long)split_count[1],
           (long long)split_count[2], (long long)split_count[3], (long long)split_count[0]);
    if (ds.task == GS_TASK_CLASSIFICATION || ds.task == GS_TASK_MULTILABEL) {
        printf("%-32s %8s %8s %8s %8s\n", "class", "train", "val", "test", "none");
        for (int c = 0; c < ds.n_classes; c++)
            printf("%-32s %8lld %8lld %8lld %8lld\n", ds.class_names[c], (long long)class_count[c * 4 + 1],
                   (long long)class_count[c * 4 + 2], (long long)class_count[c * 4 + 3],
                   (long long)class_count[c * 4 + 0]);
    }

    int64_t plane = ds.height * ds.width;
    gs_sample_data data = {.pixels = malloc((size_t)gs_dataset_read_floats(&ds) * sizeof(float)),
                           .mask = ds.task == GS_TASK_SEGMENTATION ? malloc((size_t)plane * sizeof(int32_t)) : NULL};
    double *sum = calloc((size_t)ds.bands, sizeof *sum), *sq = calloc((size_t)ds.bands, sizeof *sq);
    double *lo = malloc((size_t)ds.bands * sizeof *lo), *hi = malloc((size_t)ds.bands * sizeof *hi);
    int64_t *pixel_classes = calloc((size_t)(ds.n_classes + 1), sizeof *pixel_classes);
    for (int b = 0; b < ds.bands; b++) {
        lo[b] = INFINITY;
        hi[b] = -INFINITY;
    }
    gs_progress progress;
    gs_progress_init(&progress, stderr, args.quiet);
    int64_t bad = 0, decoded = 0, n = limit != GS_UNSET_INT && limit < ds.n_samples ? limit : ds.n_samples;
    for (int64_t i = 0; i < n; i++) {
        gs_error e = {0};
        if (gs_dataset_read(&ds, i, &data, &e) != GS_OK || gs_sample_check_finite(&ds, i, data.pixels, &e) != GS_OK) {
            gs_progress_end(&progress);
            fprintf(stderr, "bad: %s\n", e.message);
            bad++;
            continue;
        }
        decoded++;
        for (int64_t t = 0; t < ds.dates; t++)
            for (int b = 0; b < ds.bands; b++) {
                const float *p = data.pixels + (t * ds.bands + b) * plane;
                for (int64_t k = 0; k < plane; k++) {
                    sum[b] += p[k];
                    sq[b] += (double)p[k] * p[k];
                    if (p[k] < lo[b]) lo[b] = p[k];
                    if (p[k] > hi[b]) hi[b] = p[k];
                }
            }
        if (data.mask)
            for (int64_t k = 0; k < plane; k++)
                pixel_classes[data.mask[k] >= 0 && data.mask[k] < ds.n_classes ? data.mask[k] : ds.n_classes]++;
        /* Small datasets decode in a blink: no progress for them. */
        if (n >= 500 && ((i + 1) % 500 == 0 || i + 1 == n))
            gs_progress_update(&progress, i + 1 == n, "decoded %lld/%lld", (long long)(i + 1), (long long)n);
    }
    gs_progress_end(&progress);
    printf("decoded %lld samples, %lld bad\n", (long long)decoded, (long long)bad);
    if (decoded) {
        double count = (double)decoded * (double)ds.dates * (double)plane;
        printf("%-8s %10s %12s %12s %12s %12s\n", "band", "wavelength", "mean", "std", "min", "max");
        for (int b = 0; b < ds.bands; b++) {
            double mean = sum[b] / count, var = sq[b] / count - mean * mean;
            printf("%-8s %8.0fnm %12.3f %12.3f %12.1f %12.1f\n", ds.band_info[b].name,
                   (double)ds.band_info[b].wavelength_nm, mean, var > 0 ? sqrt(var) : 0.0, lo[b], hi[b]);
        }
    }
    if (ds.task == GS_TASK_SEGMENTATION) {
        printf("pixels per class:\n");
        for (int c = 0; c < ds.n_classes; c++) printf("  %-28s %lld\n", ds.class_names[c], (long long)pixel_classes[c]);
        printf("  %-28s %lld\n", "(ignored)", (long long)pixel_classes[ds.n_classes]);
    }
    free(data.pixels);
    free(data.mask);
    free(sum);
    free(sq);
    free(lo);
    free(hi);
    free(pixel_classes);
    free(class_count);
    gs_dataset_close(&ds);
    if (bad && !skip_bad) {
        fprintf(stderr, "geossl data check: %lld bad files (listed above); fix or remove them, or pass --skip-bad\n",
                (long long)bad);
        return 1;
    }
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
    {"check", "index a dataset, decode every file, print counts and statistics", data_check},
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
