/* libFuzzer target: BigEarthNet's <patch>_labels_metadata.json
 * (datasets/formats/bigearthnet.c), read as `bigearthnet:DIR` indexes a
 * patch folder: the input is the one patch's JSON, beside a 6 x 6 B02.tif
 * (the band that sets the sample size), opened with the 43-class and the
 * 19-class nomenclature.
 *
 * Invariants: a bad JSON is a format error naming the file; an accepted one
 * gives one multi-label sample whose label bits lie within the class count. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "dataset.h"
#include "common.h"
#include "image_io.h"

#define TARGET "fuzz_bigearthnet_labels"
#define PATCH "S2A_MSIL2A_20170613T101031_0_45"

static void write_b02(const char *patch) {
    char path[FUZZ_PATH_MAX + 128];
    snprintf(path, sizeof path, "%s/" PATCH "_B02.tif", patch);
    gs_raster r = {0};
    gs_error err = {0};
    if (gs_raster_alloc(&r, 1, 6, 6, &err) != GS_OK || gs_tiff_write(path, &r, GS_PIXEL_U16, 0, &err) != GS_OK)
        fuzz_fail(TARGET, "cannot write %s: %s", path, err.message);
    gs_raster_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char dir[FUZZ_PATH_MAX], patch[FUZZ_PATH_MAX + 64], json[FUZZ_PATH_MAX], spec[FUZZ_PATH_MAX + 16];
    fuzz_make_dir(dir);
    snprintf(patch, sizeof patch, "%s/" PATCH, dir);
    if (mkdir(patch, 0700) != 0) fuzz_fail(TARGET, "cannot make %s", patch);
    fuzz_write_file(patch, PATCH "_labels_metadata.json", data, size, json);
    write_b02(patch);
    snprintf(spec, sizeof spec, "bigearthnet:%s", dir);
    for (int nineteen = 0; nineteen < 2; nineteen++) {
        gs_dataset ds;
        gs_error err = {0};
        gs_dataset_options options = {.bigearthnet19 = nineteen};
        gs_status s = gs_dataset_open(spec, &options, &ds, &err);
        if (s == GS_OK) {
            int classes = nineteen ? 19 : 43;
            if (ds.n_samples != 1 || ds.n_classes != classes || ds.task != GS_TASK_MULTILABEL)
                fuzz_fail(TARGET, "%lld samples, %d classes", (long long)ds.n_samples, ds.n_classes);
            if (ds.samples[0].labels >> classes)
                fuzz_fail(TARGET, "label bits %#llx beyond %d classes", (unsigned long long)ds.samples[0].labels,
                          classes);
            gs_dataset_close(&ds);
        } else if (s != GS_ERR_FORMAT) {
            fuzz_fail(TARGET, "a bad labels file is status %d: %s", (int)s, err.message);
        } else if (!strstr(err.message, "labels_metadata.json")) {
            fuzz_fail(TARGET, "the error does not name the labels file: %s", err.message);
        }
    }
    fuzz_remove(dir);
    return 0;
}
