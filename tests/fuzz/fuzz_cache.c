/* libFuzzer target: the dataset cache (datasets/cache.c, cache_h5.c), opened
 * as a dataset (`geossl data cache` files, `eval` and `pretrain` on a
 * cached dataset) and every sample read through it.
 *
 * Each input is a whole file, digest header included.  Linked with
 * -Wl,--wrap=H5Fopen (h5_guard.h): libhdf5 must never be handed a file
 * whose digest does not verify.
 *
 * Invariants: a file whose digest does not verify is a format error naming
 * the file; one that verifies (a seed: geotiff, bigearthnet and potsdam
 * caches) opens, and every sample reads, with labels within the class count,
 * masks within it or ignored, and finite pixels; no HDF5 handle stays open
 * after the dataset is closed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "common.h"
#include "h5_guard.h"
#include "io/file_digest.h"

#define TARGET "fuzz_cache"

static void read_samples(const gs_dataset *ds) {
    int64_t floats = gs_dataset_sample_floats(ds), plane = ds->height * ds->width;
    if (floats <= 0 || plane <= 0) fuzz_fail(TARGET, "a verified cache has %lld floats per sample", (long long)floats);
    float *pixels = malloc((size_t)floats * sizeof *pixels);
    int32_t *mask = ds->task == GS_TASK_SEGMENTATION ? malloc((size_t)plane * sizeof *mask) : NULL;
    if (!pixels || (ds->task == GS_TASK_SEGMENTATION && !mask)) fuzz_fail(TARGET, "out of memory");
    for (int64_t i = 0; i < ds->n_samples; i++) {
        const gs_sample *s = &ds->samples[i];
        if (ds->task == GS_TASK_CLASSIFICATION && (s->label < 0 || s->label >= ds->n_classes))
            fuzz_fail(TARGET, "sample %lld has label %d of %d classes", (long long)i, s->label, ds->n_classes);
        if (ds->task == GS_TASK_MULTILABEL && ds->n_classes < 64 && (s->labels >> ds->n_classes))
            fuzz_fail(TARGET, "sample %lld has label bits beyond %d classes", (long long)i, ds->n_classes);
        gs_error err = {0};
        gs_sample_data out = {.pixels = pixels, .mask = mask};
        if (ds->format->read(ds, i, &out, &err) != GS_OK)
            fuzz_fail(TARGET, "sample %lld of a verified cache does not read: %s", (long long)i, err.message);
        for (int64_t j = 0; j < floats; j++)
            if (!isfinite(pixels[j])) fuzz_fail(TARGET, "sample %lld holds %g", (long long)i, (double)pixels[j]);
        for (int64_t j = 0; mask && j < plane; j++)
            if (mask[j] != GS_IGNORE_LABEL && (mask[j] < 0 || mask[j] >= ds->n_classes))
                fuzz_fail(TARGET, "sample %lld's mask holds class %d", (long long)i, mask[j]);
    }
    free(pixels);
    free(mask);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[FUZZ_PATH_MAX];
    fuzz_write_file(NULL, ".h5", data, size, path);
    bool verified = gs_file_digest_verify(path).state == GS_DIGEST_VALID;
    gs_dataset ds;
    gs_error err = {0};
    gs_status s = gs_cache_open(path, &ds, &err);
    if (!verified) {
        if (s == GS_OK) fuzz_fail(TARGET, "opened a cache whose digest does not verify");
        if (s != GS_ERR_FORMAT || !strstr(err.message, path))
            fuzz_fail(TARGET, "status %d, not a format error naming the file: %s", (int)s, err.message);
    } else if (s != GS_OK) {
        fuzz_fail(TARGET, "a verified cache does not open: %s", err.message);
    }
    if (s == GS_OK) {
        read_samples(&ds);
        gs_band_stats stats;
        if (gs_cache_stats(&ds, &stats))
            for (int b = 0; b < stats.bands; b++)
                if (!isfinite(stats.mean[b]) || !isfinite(stats.std[b]) || stats.std[b] < 0)
                    fuzz_fail(TARGET, "stored band %d: mean %g std %g", b, stats.mean[b], stats.std[b]);
        gs_dataset_close(&ds);
    }
    fuzz_h5_expect_closed(TARGET);
    fuzz_remove(path);
    return 0;
}
