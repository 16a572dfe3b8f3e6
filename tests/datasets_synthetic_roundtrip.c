/* Every synthetic format read back by its reader: the generator writes the
 * real layouts and the readers index and decode them (counts, shapes, labels,
 * every sample decoding cleanly). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "dataset.h"
#include "synthetic.h"
#include "test_paths.h"

typedef struct expectation {
    const char *format;
    int count, size;
    int64_t samples; /* expected samples */
    int classes, bands;
    int64_t height;
    gs_task task;
} expectation;

static void round_trip(expectation e) {
    char dir[256], root[300], spec[320];
    test_temp_dir(dir, sizeof dir);
    snprintf(root, sizeof root, "%s/data", dir);
    gs_error err = {0};
    gs_synth_options opt = {.seed = 3, .count = e.count, .size = e.size};
    cr_assert_eq(gs_synth_write(e.format, root, &opt, &err), GS_OK, "%s", err.message);
    snprintf(spec, sizeof spec, "%s:%s", e.format, root);
    gs_dataset ds;
    cr_assert_eq(gs_dataset_open(spec, NULL, &ds, &err), GS_OK, "%s", err.message);
    cr_expect_eq(ds.n_samples, e.samples, "%s: %lld samples, expected %lld", e.format, (long long)ds.n_samples,
                 (long long)e.samples);
    cr_expect_eq(ds.n_classes, e.classes, "%s: %d classes", e.format, ds.n_classes);
    cr_expect_eq(ds.bands, e.bands, "%s: %d bands", e.format, ds.bands);
    cr_expect_eq(ds.height, e.height, "%s: height %lld", e.format, (long long)ds.height);
    cr_expect_eq(ds.task, e.task);
    cr_expect_eq(ds.n_warnings, 0, "%s: the generator's layout made the reader warn", e.format);
    gs_sample_data data = {.pixels = malloc((size_t)gs_dataset_sample_floats(&ds) * sizeof(float)),
                           .mask = malloc((size_t)(ds.height * ds.width) * sizeof(int32_t))};
    for (int64_t i = 0; i < ds.n_samples; i++) {
        gs_error e2 = {0};
        cr_expect_eq(ds.format->read(&ds, i, &data, &e2), GS_OK, "%s sample %lld: %s", e.format, (long long)i,
                     e2.message);
    }
    free(data.pixels);
    free(data.mask);
    gs_dataset_close(&ds);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

Test(datasets_synthetic_roundtrip, eurosat_rgb) {
    round_trip((expectation){"eurosat-rgb", 3, 0, 30, 10, 3, 64, GS_TASK_CLASSIFICATION});
}
Test(datasets_synthetic_roundtrip, eurosat_ms) {
    round_trip((expectation){"eurosat-ms", 2, 0, 20, 10, 13, 64, GS_TASK_CLASSIFICATION});
}
Test(datasets_synthetic_roundtrip, resisc45) {
    round_trip((expectation){"resisc45", 1, 0, 45, 45, 3, 256, GS_TASK_CLASSIFICATION});
}
Test(datasets_synthetic_roundtrip, bigearthnet) {
    round_trip((expectation){"bigearthnet", 5, 0, 5, 43, 12, 120, GS_TASK_MULTILABEL});
}
Test(datasets_synthetic_roundtrip, potsdam) {
    /* 2 train + 1 test tiles of 512 px cut into 256 px patches. */
    round_trip((expectation){"potsdam", 2, 512, 12, 6, 4, 256, GS_TASK_SEGMENTATION});
}
Test(datasets_synthetic_roundtrip, seco) {
    round_trip((expectation){"seco", 2, 66, 2, 0, 12, 66, GS_TASK_UNLABELED});
}
Test(datasets_synthetic_roundtrip, ssl4eo_s12) {
    round_trip((expectation){"ssl4eo-s12", 2, 66, 2, 0, 13, 66, GS_TASK_UNLABELED});
}
Test(datasets_synthetic_roundtrip, geotiff) {
    /* 2 scenes of 128 px in 64 px patches. */
    round_trip((expectation){"geotiff", 2, 128, 8, 0, 4, 64, GS_TASK_UNLABELED});
}
