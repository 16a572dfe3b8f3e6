/* geossl data check FORMAT:PATH: indexes a dataset, decodes every sample,
 * and prints counts per class and split, shapes, band statistics and every
 * bad file (--json: the same as one JSON object).  The `data` command
 * routes its `check` subcommand here.
 *
 * The tables put the numbers first and the class name last, so a long name
 * (BigEarthNet's "Land principally occupied by agriculture, ...") cannot push
 * the columns out of line; classes with nothing in them are summarised in
 * one line rather than listed as rows of zeros (43 BigEarthNet classes on a
 * sample of a few patches). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "dataset.h"
#include "evaluate.h"
#include "json_out.h"
#include "options.h"
#include "progress.h"
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

static const char *plural(long long n) { return n == 1 ? "" : "s"; }

/* Split columns in the order the table prints them; index 0 is "no split"
 * (GS_SPLIT_NONE + 1), so a sample's split + 1 is its column. */
static const char *const SPLIT_COLUMNS[4] = {"none", "train", "val", "test"};

/* What the pass over the samples found. */
typedef struct check_tally {
    int64_t split_count[4];
    int64_t *class_count;   /* n_classes x 4 split columns */
    int64_t *pixel_classes; /* segmentation: pixels per class, then the ignored ones */
    double *sum, *sq, *lo, *hi; /* per band */
    int64_t decoded, bad;
    cJSON *bad_files; /* --json: the messages of the bad files */
} check_tally;

static bool tally_init(check_tally *t, const gs_dataset *ds, bool json) {
    memset(t, 0, sizeof *t);
    size_t classes = (size_t)(ds->n_classes > 0 ? ds->n_classes : 1), bands = (size_t)ds->bands;
    t->class_count = calloc(classes * 4, sizeof *t->class_count);
    t->pixel_classes = calloc(classes + 1, sizeof *t->pixel_classes);
    t->sum = calloc(bands, sizeof *t->sum);
    t->sq = calloc(bands, sizeof *t->sq);
    t->lo = malloc(bands * sizeof *t->lo);
    t->hi = malloc(bands * sizeof *t->hi);
    t->bad_files = json ? cJSON_CreateArray() : NULL;
    if (!t->class_count || !t->pixel_classes || !t->sum || !t->sq || !t->lo || !t->hi || (json && !t->bad_files))
        return false;
    for (size_t b = 0; b < bands; b++) {
        t->lo[b] = INFINITY;
        t->hi[b] = -INFINITY;
    }
    return true;
}

static void tally_free(check_tally *t) {
    free(t->class_count);
    free(t->pixel_classes);
    free(t->sum);
    free(t->sq);
    free(t->lo);
    free(t->hi);
    cJSON_Delete(t->bad_files);
}

static void count_labels(const gs_dataset *ds, check_tally *t) {
    for (int64_t i = 0; i < ds->n_samples; i++) {
        const gs_sample *s = &ds->samples[i];
        int column = s->split + 1;
        t->split_count[column]++;
        if (ds->task == GS_TASK_CLASSIFICATION && s->label >= 0) t->class_count[s->label * 4 + column]++;
        if (ds->task == GS_TASK_MULTILABEL)
            for (int c = 0; c < ds->n_classes && c < 64; c++)
                if (s->labels >> c & 1) t->class_count[c * 4 + column]++;
    }
}

/* "3 classes with no samples: a, b, c" for the classes whose count is 0. */
static void print_empty_classes(FILE *out, const gs_dataset *ds, const int64_t *totals, const char *what) {
    int empty = 0;
    for (int c = 0; c < ds->n_classes; c++) empty += totals[c] == 0;
    if (!empty) return;
    fprintf(out, "%d class%s with no %s:", empty, empty == 1 ? "" : "es", what);
    for (int c = 0, listed = 0; c < ds->n_classes; c++)
        if (totals[c] == 0) fprintf(out, "%s %s", listed++ ? "," : "", ds->class_names[c]);
    fputc('\n', out);
}

static void print_class_table(FILE *out, const gs_dataset *ds, const check_tally *t) {
    int64_t *totals = calloc((size_t)(ds->n_classes > 0 ? ds->n_classes : 1), sizeof *totals);
    if (!totals) return;
    fprintf(out, "%8s %8s %8s %8s  %s\n", "train", "val", "test", "none", "class");
    for (int c = 0; c < ds->n_classes; c++) {
        const int64_t *n = &t->class_count[c * 4];
        totals[c] = n[0] + n[1] + n[2] + n[3];
        if (totals[c])
            fprintf(out, "%8lld %8lld %8lld %8lld  %s\n", (long long)n[1], (long long)n[2], (long long)n[3],
                    (long long)n[0], ds->class_names[c]);
    }
    print_empty_classes(out, ds, totals, "samples");
    free(totals);
}

/* Decodes the first n samples into the tally; a bad one is listed on
 * stderr (and in --json's bad_files) and counted. */
static bool decode_samples(const gs_dataset *ds, int64_t n, bool quiet, check_tally *t) {
    int64_t plane = ds->height * ds->width;
    gs_sample_data data = {.pixels = malloc((size_t)gs_dataset_read_floats(ds) * sizeof(float)),
                           .mask = ds->task == GS_TASK_SEGMENTATION ? malloc((size_t)plane * sizeof(int32_t)) : NULL};
    if (!data.pixels || (ds->task == GS_TASK_SEGMENTATION && !data.mask)) {
        free(data.pixels);
        free(data.mask);
        return false;
    }
    gs_progress progress;
    gs_progress_init(&progress, stderr, quiet);
    for (int64_t i = 0; i < n; i++) {
        gs_error e = {0};
        if (gs_dataset_read(ds, i, &data, &e) != GS_OK || gs_sample_check_finite(ds, i, data.pixels, &e) != GS_OK) {
            gs_progress_end(&progress);
            fprintf(stderr, "bad: %s\n", e.message);
            if (t->bad_files) cJSON_AddItemToArray(t->bad_files, cJSON_CreateString(e.message));
            t->bad++;
            continue;
        }
        t->decoded++;
        for (int64_t d = 0; d < ds->dates; d++)
            for (int b = 0; b < ds->bands; b++) {
                const float *p = data.pixels + (d * ds->bands + b) * plane;
                for (int64_t k = 0; k < plane; k++) {
                    t->sum[b] += p[k];
                    t->sq[b] += (double)p[k] * p[k];
                    if (p[k] < t->lo[b]) t->lo[b] = p[k];
                    if (p[k] > t->hi[b]) t->hi[b] = p[k];
                }
            }
        if (data.mask)
            for (int64_t k = 0; k < plane; k++)
                t->pixel_classes[data.mask[k] >= 0 && data.mask[k] < ds->n_classes ? data.mask[k] : ds->n_classes]++;
        /* Small datasets decode in a blink: no progress for them. */
        if (n >= 500 && ((i + 1) % 500 == 0 || i + 1 == n))
            gs_progress_update(&progress, i + 1 == n, "decoded %lld/%lld", (long long)(i + 1), (long long)n);
    }
    gs_progress_end(&progress);
    free(data.pixels);
    free(data.mask);
    return true;
}

static void band_moments(const gs_dataset *ds, const check_tally *t, int b, double *mean, double *std) {
    double count = (double)t->decoded * (double)ds->dates * (double)(ds->height * ds->width);
    *mean = t->sum[b] / count;
    double var = t->sq[b] / count - *mean * *mean;
    *std = var > 0 ? sqrt(var) : 0.0;
}

static void print_band_table(FILE *out, const gs_dataset *ds, const check_tally *t) {
    fprintf(out, "%-8s %10s %12s %12s %12s %12s\n", "band", "wavelength", "mean", "std", "min", "max");
    for (int b = 0; b < ds->bands; b++) {
        double mean, std;
        band_moments(ds, t, b, &mean, &std);
        /* RGB formats do not say which wavelengths their red, green and blue are. */
        char wavelength[32] = "-";
        if (ds->band_info[b].wavelength_nm > 0)
            snprintf(wavelength, sizeof wavelength, "%.0fnm", (double)ds->band_info[b].wavelength_nm);
        fprintf(out, "%-8s %10s %12.3f %12.3f %12.1f %12.1f\n", ds->band_info[b].name, wavelength, mean, std,
                t->lo[b], t->hi[b]);
    }
}

static void print_pixel_table(FILE *out, const gs_dataset *ds, const check_tally *t) {
    fprintf(out, "pixels per class:\n");
    for (int c = 0; c < ds->n_classes; c++)
        if (t->pixel_classes[c]) fprintf(out, "%14lld  %s\n", (long long)t->pixel_classes[c], ds->class_names[c]);
    fprintf(out, "%14lld  %s\n", (long long)t->pixel_classes[ds->n_classes], "(ignored)");
    print_empty_classes(out, ds, t->pixel_classes, "pixels");
}

/* The whole check as one object: what the tables print, every class
 * included (zeros too: a program wants the full list, not a summary). */
static cJSON *check_json(const char *spec, const gs_dataset *ds, check_tally *t) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "data", spec);
    cJSON_AddStringToObject(o, "format", ds->format->name);
    cJSON_AddStringToObject(o, "task", task_name(ds->task));
    cJSON_AddNumberToObject(o, "samples", (double)ds->n_samples);
    cJSON_AddNumberToObject(o, "classes", ds->n_classes);
    cJSON_AddNumberToObject(o, "bands", ds->bands);
    cJSON_AddNumberToObject(o, "height", (double)ds->height);
    cJSON_AddNumberToObject(o, "width", (double)ds->width);
    cJSON_AddNumberToObject(o, "dates", ds->dates);
    cJSON_AddNumberToObject(o, "warnings", (double)ds->n_warnings);
    cJSON *splits = cJSON_AddObjectToObject(o, "splits");
    if (splits) {
        cJSON_AddStringToObject(splits, "source", ds->split_source);
        for (int s = 1; s < 4; s++) cJSON_AddNumberToObject(splits, SPLIT_COLUMNS[s], (double)t->split_count[s]);
        cJSON_AddNumberToObject(splits, "unassigned", (double)t->split_count[0]);
    }
    if (ds->task == GS_TASK_CLASSIFICATION || ds->task == GS_TASK_MULTILABEL) {
        cJSON *classes = cJSON_AddArrayToObject(o, "class_counts");
        for (int c = 0; classes && c < ds->n_classes; c++) {
            cJSON *row = cJSON_CreateObject();
            if (!row) break;
            cJSON_AddStringToObject(row, "class", ds->class_names[c]);
            for (int s = 1; s < 4; s++)
                cJSON_AddNumberToObject(row, SPLIT_COLUMNS[s], (double)t->class_count[c * 4 + s]);
            cJSON_AddNumberToObject(row, "none", (double)t->class_count[c * 4]);
            cJSON_AddItemToArray(classes, row);
        }
    }
    cJSON_AddNumberToObject(o, "decoded", (double)t->decoded);
    cJSON_AddNumberToObject(o, "bad", (double)t->bad);
    cJSON_AddItemToObject(o, "bad_files", t->bad_files);
    t->bad_files = NULL; /* o owns it now */
    cJSON *bands = cJSON_AddArrayToObject(o, "band_stats");
    for (int b = 0; bands && t->decoded && b < ds->bands; b++) {
        cJSON *row = cJSON_CreateObject();
        if (!row) break;
        double mean, std;
        band_moments(ds, t, b, &mean, &std);
        cJSON_AddStringToObject(row, "band", ds->band_info[b].name);
        if (ds->band_info[b].wavelength_nm > 0)
            cJSON_AddNumberToObject(row, "wavelength_nm", ds->band_info[b].wavelength_nm);
        else
            cJSON_AddNullToObject(row, "wavelength_nm");
        gs_cli_json_add_number(row, "mean", mean);
        gs_cli_json_add_number(row, "std", std);
        gs_cli_json_add_number(row, "min", t->lo[b]);
        gs_cli_json_add_number(row, "max", t->hi[b]);
        cJSON_AddItemToArray(bands, row);
    }
    if (ds->task == GS_TASK_SEGMENTATION) {
        cJSON *pixels = cJSON_AddObjectToObject(o, "pixels_per_class");
        for (int c = 0; pixels && c < ds->n_classes; c++)
            cJSON_AddNumberToObject(pixels, ds->class_names[c], (double)t->pixel_classes[c]);
        cJSON_AddNumberToObject(o, "ignored_pixels", (double)t->pixel_classes[ds->n_classes]);
    }
    return o;
}

int gs_cmd_data_check(int argc, char **argv) {
    bool skip_bad = false, bigearthnet19 = false, eroded = false, json = false;
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
        GS_JSON_OPTION(json),
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
                            .bigearthnet19 = bigearthnet19, .eroded_labels = eroded};
    if (bands) snprintf(o.bands, sizeof o.bands, "%s", bands);
    gs_dataset ds;
    gs_error err = {0};
    if (gs_dataset_open(spec, &o, &ds, &err) != GS_OK) {
        fprintf(stderr, "geossl data check: %s\n", err.message);
        return bands && err.status == GS_ERR_ARGUMENT ? 2 : 1;
    }
    FILE *text = gs_cli_text_stream(json);
    fprintf(text, "%s: %s, %lld sample%s, %d class%s, %d band%s x %lld x %lld%s\n", spec, task_name(ds.task),
            (long long)ds.n_samples, plural(ds.n_samples), ds.n_classes, ds.n_classes == 1 ? "" : "es", ds.bands,
            plural(ds.bands), (long long)ds.height, (long long)ds.width, ds.dates > 1 ? " per date" : "");
    if (ds.dates > 1) fprintf(text, "dates per sample: %d\n", ds.dates);
    gs_dataset_describe(&ds, text);
    /* The split eval and pretrain will use, made the same way. */
    bool listed = false;
    if ((splits && gs_split_apply_standard(&ds, splits, &listed, &err) != GS_OK) ||
        gs_evaluate_default_split(&ds, 0, &err) != GS_OK) {
        fprintf(stderr, "geossl data check: %s\n", err.message);
        gs_dataset_close(&ds);
        return splits ? 2 : 1;
    }
    /* On stderr, where the warnings themselves are: "see above" must be true
     * whether the two streams go to one terminal or to two files. */
    if (ds.n_warnings)
        fprintf(stderr, "%lld warning%s while indexing (above)\n", (long long)ds.n_warnings, plural(ds.n_warnings));

    check_tally t;
    int64_t n = limit != GS_UNSET_INT && limit < ds.n_samples ? limit : ds.n_samples;
    bool ready = tally_init(&t, &ds, json);
    if (ready) {
        /* The counts come from the index: printed before the long decoding. */
        count_labels(&ds, &t);
        fprintf(text, "splits (%s): train %lld, val %lld, test %lld, unassigned %lld\n", ds.split_source,
                (long long)t.split_count[1], (long long)t.split_count[2], (long long)t.split_count[3],
                (long long)t.split_count[0]);
        if (ds.task == GS_TASK_CLASSIFICATION || ds.task == GS_TASK_MULTILABEL) print_class_table(text, &ds, &t);
        fflush(text);
    }
    if (!ready || !decode_samples(&ds, n, args.quiet, &t)) {
        fprintf(stderr, "geossl data check: out of memory for %s\n", spec);
        tally_free(&t);
        gs_dataset_close(&ds);
        return 1;
    }
    fprintf(text, "decoded %lld sample%s, %lld bad file%s\n", (long long)t.decoded, plural(t.decoded),
            (long long)t.bad, plural(t.bad));
    if (t.decoded) print_band_table(text, &ds, &t);
    if (ds.task == GS_TASK_SEGMENTATION) print_pixel_table(text, &ds, &t);
    int code = 0;
    if (json && !gs_cli_json_emit("data check", check_json(spec, &ds, &t))) code = 1;
    int64_t bad = t.bad;
    tally_free(&t);
    gs_dataset_close(&ds);
    if (bad && !skip_bad) {
        fprintf(stderr, "geossl data check: %lld bad file%s (listed above); fix or remove %s, or pass --skip-bad\n",
                (long long)bad, plural(bad), bad == 1 ? "it" : "them");
        return 1;
    }
    return code;
}
