/* BigEarthNet v1.0 (Sentinel-2): the format fixture (every band 2 x 2, split
 * CSVs beside the patch folder), the real 6-patch sample (bands at
 * 120/60/20 px: exact label sets, 12 x 120 x 120 after resampling, pixel
 * values checked against PIL plus numpy in tools/reference/sentinel2_pixels.py),
 * the 19-class mapping, and generated patches with bad input. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset.h"
#include "fixture.h"
#include "image_io.h"
#include "test_paths.h"

#define FIXTURE_ROOT "format-fixtures/bigearthnet/v1/BigEarthNet-v1.0"
#define REAL_ROOT "bigearthnet-s2-example"

static uint64_t bits(const int *classes, int n) {
    uint64_t b = 0;
    for (int i = 0; i < n; i++) b |= UINT64_C(1) << classes[i];
    return b;
}

static const gs_sample *find(const gs_dataset *ds, const char *stem) {
    for (int64_t i = 0; i < ds->n_samples; i++)
        if (!strcmp(ds->samples[i].stem, stem)) return &ds->samples[i];
    return NULL;
}

static void open_ok(const char *root, bool nineteen, gs_dataset *ds) {
    char spec[1200];
    snprintf(spec, sizeof spec, "bigearthnet:%s", root);
    gs_dataset_options options = {0};
    options.bigearthnet19 = nineteen;
    gs_error err = {0};
    cr_assert_eq(gs_dataset_open(spec, &options, ds, &err), GS_OK, "%s", err.message);
}

Test(datasets_bigearthnet, format_fixture_labels_splits_and_bands) {
    char root[1024];
    REQUIRE_SHARED(FIXTURE_ROOT, root);
    gs_dataset ds;
    open_ok(root, false, &ds);
    cr_expect_eq(ds.n_samples, 4);
    cr_expect_eq(ds.task, GS_TASK_MULTILABEL);
    cr_expect_eq(ds.n_classes, 43);
    cr_expect_str_eq(ds.class_names[11], "Non-irrigated arable land");
    cr_expect_str_eq(ds.class_names[42], "Sea and ocean");
    cr_expect_eq(ds.bands, 12);
    cr_expect_eq(ds.dates, 1);
    cr_expect_eq(ds.height, 2);
    cr_expect_eq(ds.width, 2);
    const char *names[12] = {"B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12"};
    for (int b = 0; b < 12; b++) cr_expect_str_eq(ds.band_info[b].name, names[b]);
    cr_expect_float_eq(ds.band_info[8].wavelength_nm, 864.7f, 1e-3);
    cr_expect_float_eq(ds.band_info[9].resolution_m, 60.0f, 1e-6);

    /* The labels of the four JSON files, as CLC class indices. */
    struct { const char *patch; int classes[6]; int n; int split; } want[] = {
        {"S2A_MSIL2A_20170613T101031_61_39", {11, 22, 38}, 3, GS_SPLIT_TRAIN},
        {"S2A_MSIL2A_20170613T101031_61_40", {1, 11, 20, 22, 33, 38}, 6, GS_SPLIT_TRAIN},
        {"S2A_MSIL2A_20170613T101031_61_41", {1, 11, 22, 23}, 4, GS_SPLIT_VAL},
        {"S2A_MSIL2A_20170613T101031_61_42", {11, 23}, 2, GS_SPLIT_TEST},
    };
    for (int i = 0; i < 4; i++) {
        cr_expect_str_eq(ds.samples[i].stem, want[i].patch, "patches in sorted order");
        cr_expect_eq(ds.samples[i].labels, bits(want[i].classes, want[i].n), "%s labels %llx", want[i].patch,
                     (unsigned long long)ds.samples[i].labels);
        cr_expect_eq(ds.samples[i].split, want[i].split, "%s: split from the CSVs in the parent folder",
                     want[i].patch);
        cr_expect_eq(ds.samples[i].label, GS_IGNORE_LABEL);
    }

    /* Every band is 2 x 2 (ratio 1): read() returns the files' values. */
    float *pixels = malloc(sizeof(float) * (size_t)gs_dataset_sample_floats(&ds));
    gs_sample_data data = {.pixels = pixels};
    gs_error err = {0};
    cr_assert_eq(ds.format->read(&ds, 2, &data, &err), GS_OK, "%s", err.message);
    for (int b = 0; b < 12; b++) {
        char path[1400];
        snprintf(path, sizeof path, "%s/%s_%s.tif", ds.samples[2].path, ds.samples[2].stem, names[b]);
        gs_raster r;
        cr_assert_eq(gs_tiff_read(path, &r, &err), GS_OK, "%s", err.message);
        cr_expect_eq(memcmp(r.data, pixels + b * 4, 4 * sizeof(float)), 0, "band %s", names[b]);
        gs_raster_free(&r);
    }
    free(pixels);
    gs_dataset_close(&ds);
}

Test(datasets_bigearthnet, nineteen_class_mapping) {
    char root[1024];
    REQUIRE_SHARED(FIXTURE_ROOT, root);
    gs_dataset ds;
    open_ok(root, true, &ds);
    cr_expect_eq(ds.n_classes, 19);
    cr_expect_str_eq(ds.class_names[0], "Urban fabric");
    cr_expect_str_eq(ds.class_names[15], "Inland wetlands");
    cr_expect_str_eq(ds.class_names[18], "Marine waters");
    /* arable 11 -> 2, broad-leaved 22 -> 8, water courses 38 -> inland waters 17, discontinuous urban 1 ->
     * urban fabric 0, agriculture with natural vegetation 20 -> 6, inland marshes 33 -> inland wetlands 15,
     * coniferous 23 -> 9. */
    struct { const char *patch; int classes[6]; int n; } want[] = {
        {"S2A_MSIL2A_20170613T101031_61_39", {2, 8, 17}, 3},
        {"S2A_MSIL2A_20170613T101031_61_40", {0, 2, 6, 8, 15, 17}, 6},
        {"S2A_MSIL2A_20170613T101031_61_41", {0, 2, 8, 9}, 4},
        {"S2A_MSIL2A_20170613T101031_61_42", {2, 9}, 2},
    };
    for (int i = 0; i < 4; i++) {
        const gs_sample *s = find(&ds, want[i].patch);
        cr_assert_not_null(s, "%s", want[i].patch);
        cr_expect_eq(s->labels, bits(want[i].classes, want[i].n), "%s: %llx", want[i].patch,
                     (unsigned long long)s->labels);
    }
    gs_dataset_close(&ds);
}

Test(datasets_bigearthnet, real_sample_labels_shape_and_pixels) {
    char root[1024], fixture_path[1024];
    REQUIRE_SHARED(REAL_ROOT, root);
    gs_dataset ds;
    open_ok(root, false, &ds);
    cr_assert_eq(ds.n_samples, 6);
    cr_expect_eq(ds.height, 120);
    cr_expect_eq(ds.width, 120);
    cr_expect_eq(ds.bands, 12);
    cr_expect_eq(gs_dataset_sample_floats(&ds), 12 * 120 * 120);
    struct { const char *patch; int classes[5]; int n; } want[] = {
        {"S2A_MSIL2A_20170613T101031_87_48", {11, 20}, 2},
        {"S2A_MSIL2A_20170617T113321_36_85", {11, 17}, 2},
        {"S2A_MSIL2A_20170617T113321_4_55", {17}, 1},
        {"S2A_MSIL2A_20171221T112501_56_35", {19, 20, 22, 28}, 4},
        {"S2B_MSIL2A_20170924T93020_69_24", {23, 24, 28, 34, 39}, 5},
        {"S2B_MSIL2A_20180204T94161_57_38", {11, 23, 24}, 3},
    };
    fixture *fx = fixture_load(test_fixture_path("sentinel2_pixels.gsfx", fixture_path, sizeof fixture_path));
    cr_assert_not_null(fx, "regenerate with tools/reference/sentinel2_pixels.py");
    const fixture_tensor *pos = fixture_get(fx, "bigearthnet/positions");
    cr_assert_not_null(pos);
    float *pixels = malloc(sizeof(float) * 12 * 120 * 120);
    for (int i = 0; i < 6; i++) {
        const gs_sample *s = find(&ds, want[i].patch);
        cr_assert_not_null(s, "%s", want[i].patch);
        cr_expect_eq(s->labels, bits(want[i].classes, want[i].n), "%s: %llx", want[i].patch,
                     (unsigned long long)s->labels);
        cr_expect_eq(s->split, GS_SPLIT_NONE, "no split CSVs beside the sample");
        gs_sample_data data = {.pixels = pixels};
        gs_error err = {0};
        cr_assert_eq(ds.format->read(&ds, s - ds.samples, &data, &err), GS_OK, "%s", err.message);
        char name[128];
        snprintf(name, sizeof name, "bigearthnet/%s", want[i].patch);
        const fixture_tensor *values = fixture_get(fx, name);
        cr_assert_not_null(values, "%s", name);
        cr_assert_eq(values->numel, pos->shape[0]);
        for (int64_t k = 0; k < values->numel; k++) {
            int b = (int)pos->data[k * 4 + 1], y = (int)pos->data[k * 4 + 2], x = (int)pos->data[k * 4 + 3];
            float got = pixels[(b * 120 + y) * 120 + x];
            cr_expect_float_eq(got, values->data[k], 0.01f, "%s band %d (%d, %d): %g, reference %g", want[i].patch, b,
                               y, x, got, values->data[k]);
        }
    }
    free(pixels);
    fixture_free(fx);
    gs_dataset_close(&ds);
}

/* ---- generated patches --------------------------------------------------- */

static const char *BAND_SUFFIX[12] = {"B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12"};
static const int BAND_SIZE[12] = {20, 120, 120, 120, 60, 60, 60, 120, 60, 20, 60, 60};

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

/* <root>/<patch>/ with the 12 bands at their real sizes and a labels file. */
static void make_patch(const char *root, const char *patch, const char *labels_json) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, patch);
    mkdir(path, 0755);
    for (int b = 0; b < 12; b++) {
        gs_raster r;
        gs_error err = {0};
        cr_assert_eq(gs_raster_alloc(&r, 1, BAND_SIZE[b], BAND_SIZE[b], &err), GS_OK);
        for (int64_t i = 0; i < r.height * r.width; i++) r.data[i] = (float)(100 * b + i % 97);
        snprintf(path, sizeof path, "%s/%s/%s_%s.tif", root, patch, patch, BAND_SUFFIX[b]);
        cr_assert_eq(gs_tiff_write(path, &r, GS_PIXEL_U16, 0, &err), GS_OK, "%s", err.message);
        gs_raster_free(&r);
    }
    snprintf(path, sizeof path, "%s/%s/%s_labels_metadata.json", root, patch, patch);
    write_file(path, labels_json);
}

static const char *GOOD_JSON = "{\"labels\": [\"Pastures\", \"Sea and ocean\"], \"acquisition_date\": \"2017-06-13\"}";

Test(datasets_bigearthnet, generated_patch_reads_with_split_csv_in_root) {
    char dir[256], path[600];
    test_temp_dir(dir, sizeof dir);
    make_patch(dir, "P_b", GOOD_JSON);
    make_patch(dir, "P_a", "{\"labels\": []}");
    snprintf(path, sizeof path, "%s/bigearthnet-val.csv", dir);
    write_file(path, "P_b,S1_twin\r\nnot_here,S1_x\r\n");
    gs_dataset ds;
    open_ok(dir, false, &ds);
    cr_assert_eq(ds.n_samples, 2);
    cr_expect_str_eq(ds.samples[0].stem, "P_a");
    cr_expect_eq(ds.samples[0].labels, 0, "an empty label list is no label");
    cr_expect_eq(ds.samples[0].split, GS_SPLIT_NONE);
    cr_expect_eq(ds.samples[1].labels, (UINT64_C(1) << 17) | (UINT64_C(1) << 42));
    cr_expect_eq(ds.samples[1].split, GS_SPLIT_VAL);
    cr_expect_eq(ds.n_warnings, 1, "one warning for the listed patch that is absent");
    cr_expect_eq(ds.height, 120);
    float *pixels = malloc(sizeof(float) * 12 * 120 * 120);
    gs_sample_data data = {.pixels = pixels};
    gs_error err = {0};
    cr_assert_eq(ds.format->read(&ds, 1, &data, &err), GS_OK, "%s", err.message);
    /* B02 (index 1) as written; B01 (20 px, k = 6) at (0, 0) is its pixel (0, 0). */
    cr_expect_float_eq(pixels[1 * 14400 + 5 * 120 + 7], (float)(100 + (5 * 120 + 7) % 97), 1e-6);
    cr_expect_float_eq(pixels[0], 0.0f, 1e-6);
    free(pixels);
    gs_dataset_close(&ds);

    gs_dataset ds19;
    open_ok(dir, true, &ds19);
    cr_expect_eq(ds19.samples[1].labels, (UINT64_C(1) << 4) | (UINT64_C(1) << 18), "pastures 4, marine waters 18");
    gs_dataset_close(&ds19);
    test_remove_tree(dir);
}

Test(datasets_bigearthnet, dropped_classes_leave_no_label_in_19) {
    char dir[256];
    test_temp_dir(dir, sizeof dir);
    make_patch(dir, "P", "{\"labels\": [\"Airports\", \"Burnt areas\", \"Intertidal flats\", \"Bare rock\"]}");
    gs_dataset ds;
    open_ok(dir, true, &ds);
    cr_expect_eq(ds.samples[0].labels, 0, "the 19-class nomenclature drops all four");
    gs_dataset_close(&ds);
    open_ok(dir, false, &ds);
    cr_expect_eq(ds.samples[0].labels, bits((int[]){5, 32, 37, 30}, 4));
    gs_dataset_close(&ds);
    test_remove_tree(dir);
}

static void expect_open_error(const char *root, const char *needle1, const char *needle2) {
    char spec[600];
    snprintf(spec, sizeof spec, "bigearthnet:%s", root);
    gs_dataset ds;
    gs_error err = {0};
    cr_expect_neq(gs_dataset_open(spec, NULL, &ds, &err), GS_OK, "opened a bad dataset");
    cr_expect(strstr(err.message, needle1) != NULL, "'%s' not in: %s", needle1, err.message);
    if (needle2) cr_expect(strstr(err.message, needle2) != NULL, "'%s' not in: %s", needle2, err.message);
}

static void expect_read_error(const char *root, const char *needle1, const char *needle2) {
    gs_dataset ds;
    open_ok(root, false, &ds);
    float *pixels = malloc(sizeof(float) * (size_t)gs_dataset_sample_floats(&ds));
    gs_sample_data data = {.pixels = pixels};
    gs_error err = {0};
    cr_expect_neq(ds.format->read(&ds, 0, &data, &err), GS_OK, "read a bad patch");
    cr_expect(strstr(err.message, needle1) != NULL, "'%s' not in: %s", needle1, err.message);
    if (needle2) cr_expect(strstr(err.message, needle2) != NULL, "'%s' not in: %s", needle2, err.message);
    free(pixels);
    gs_dataset_close(&ds);
}

Test(datasets_bigearthnet, malformed_json_and_unknown_label_name_the_file) {
    char dir[256], path[600];
    test_temp_dir(dir, sizeof dir);
    make_patch(dir, "P", "{\"labels\": [\"Pastures\", }");
    snprintf(path, sizeof path, "%s/P/P_labels_metadata.json", dir);
    expect_open_error(dir, path, "not valid JSON");
    write_file(path, "{\"labels\": [\"Pastures\", \"Lunar regolith\"]}");
    expect_open_error(dir, path, "Lunar regolith");
    write_file(path, "{\"labels\": \"Pastures\"}");
    expect_open_error(dir, path, "\"labels\"");
    remove(path);
    expect_open_error(dir, path, "missing");
    test_remove_tree(dir);
}

Test(datasets_bigearthnet, missing_band_non_integer_ratio_and_truncated_tiff_name_the_file) {
    char dir[256], path[600], ref[600];
    test_temp_dir(dir, sizeof dir);
    make_patch(dir, "P", GOOD_JSON);
    snprintf(ref, sizeof ref, "%s/P/P_B02.tif", dir);

    snprintf(path, sizeof path, "%s/P/P_B09.tif", dir);
    remove(path);
    expect_read_error(dir, path, NULL);

    make_patch(dir, "P", GOOD_JSON);
    snprintf(path, sizeof path, "%s/P/P_B05.tif", dir);
    gs_raster r;
    gs_error err = {0};
    cr_assert_eq(gs_raster_alloc(&r, 1, 50, 50, &err), GS_OK);
    cr_assert_eq(gs_tiff_write(path, &r, GS_PIXEL_U16, 0, &err), GS_OK);
    gs_raster_free(&r);
    expect_read_error(dir, path, "50 x 50");
    expect_read_error(dir, ref, "120 x 120");

    make_patch(dir, "P", GOOD_JSON);
    snprintf(path, sizeof path, "%s/P/P_B11.tif", dir);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(truncate(path, st.st_size / 2), 0);
    expect_read_error(dir, path, NULL);
    test_remove_tree(dir);
}
