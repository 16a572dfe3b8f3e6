/* The scene-classification formats (eurosat-rgb, eurosat-ms, resisc45): the
 * real samples in ../shared/data (skipped visibly when absent) with exact
 * counts, class lists, order and pixel values from independent readers
 * (tests/fixtures/eurosat_pixels.txt, tools/reference/eurosat_pixels.py), and
 * generated folders for file-name order, warnings and bad input. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset.h"
#include "image_io.h"
#include "test_paths.h"

static int64_t class_count(const gs_dataset *ds, int label) {
    int64_t n = 0;
    for (int64_t i = 0; i < ds->n_samples; i++) n += ds->samples[i].label == label;
    return n;
}

/* Reads sample i into a fresh buffer (caller frees). */
static float *read_sample(const gs_dataset *ds, int64_t i, gs_status *status, gs_error *err) {
    float *pixels = calloc((size_t)gs_dataset_sample_floats(ds), sizeof *pixels);
    gs_sample_data data = {.pixels = pixels, .mask = NULL};
    memset(err, 0, sizeof *err);
    *status = ds->format->read(ds, i, &data, err);
    return pixels;
}

/* ---- generated folders --------------------------------------------------- */

static void make_dir(const char *root, const char *rel) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    mkdir(path, 0755);
}

/* Smooth for JPEG (lossy), anything for TIFF (lossless, checked exactly). */
static float pattern(int b, int64_t y, int64_t x, gs_pixel_type type) {
    if (type == GS_PIXEL_U8) return (float)(20 + b * 40 + y + x);
    return (float)(((b * 31 + y * 7 + x * 3) % 251) * 10);
}

/* Writes root/rel as JPEG (.jpg) or GeoTIFF (.tif) filled with pattern(). */
static void write_image(const char *root, const char *rel, int bands, int64_t h, int64_t w, gs_pixel_type type) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    gs_error err = {0};
    gs_raster r;
    cr_assert_eq(gs_raster_alloc(&r, bands, h, w, &err), GS_OK, "%s", err.message);
    for (int b = 0; b < bands; b++)
        for (int64_t y = 0; y < h; y++)
            for (int64_t x = 0; x < w; x++)
                r.data[(b * h + y) * w + x] = pattern(b, y, x, type);
    gs_status st = strstr(rel, ".jpg") ? gs_jpeg_write(path, &r, 95, &err) : gs_tiff_write(path, &r, type, 1, &err);
    cr_assert_eq(st, GS_OK, "%s", err.message);
    gs_raster_free(&r);
}

static void write_text(const char *root, const char *rel, const char *text) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *f = fopen(path, "w");
    cr_assert(f != NULL, "cannot create %s", path);
    fputs(text, f);
    fclose(f);
}

/* ---- real samples ---------------------------------------------------------- */

static const char *const EUROSAT[10] = {"AnnualCrop", "Forest",        "HerbaceousVegetation", "Highway", "Industrial",
                                        "Pasture",    "PermanentCrop", "Residential",          "River",   "SeaLake"};

Test(datasets_classification, eurosat_rgb_sample_counts_classes_and_order) {
    char path[1024];
    REQUIRE_SHARED("eurosat-rgb", path);
    gs_dataset ds;
    gs_error err;
    cr_assert_eq(test_open_dataset("eurosat-rgb", path, &ds, &err), GS_OK, "%s", err.message);
    cr_expect_eq(ds.n_samples, 2000);
    cr_assert_eq(ds.n_classes, 10);
    for (int c = 0; c < 10; c++) {
        cr_expect_str_eq(ds.class_names[c], EUROSAT[c]);
        cr_expect_eq(class_count(&ds, c), 200, "class %s has %lld", EUROSAT[c], (long long)class_count(&ds, c));
    }
    cr_expect_eq(ds.task, GS_TASK_CLASSIFICATION);
    cr_expect_eq(ds.bands, 3);
    cr_expect_eq(ds.height, 64);
    cr_expect_eq(ds.width, 64);
    cr_expect_eq(ds.n_warnings, 0);
    cr_expect_str_eq(ds.band_info[0].name, "red");
    cr_expect_float_eq(ds.band_info[0].wavelength_nm, 664.6f, 1e-3);
    cr_expect_float_eq(ds.band_info[2].wavelength_nm, 492.4f, 1e-3);
    /* Class, then the file number: AnnualCrop_1, _2, ..., _10, ..., _200, Forest_1. */
    cr_expect_str_eq(ds.samples[0].stem, "AnnualCrop_1");
    cr_expect_str_eq(ds.samples[1].stem, "AnnualCrop_2");
    cr_expect_str_eq(ds.samples[9].stem, "AnnualCrop_10");
    cr_expect_str_eq(ds.samples[199].stem, "AnnualCrop_200");
    cr_expect_str_eq(ds.samples[200].stem, "Forest_1");
    cr_expect_eq(ds.samples[200].label, 1);
    for (int64_t i = 1; i < ds.n_samples; i++) cr_assert_geq(ds.samples[i].label, ds.samples[i - 1].label);
    gs_dataset_close(&ds);
}

/* Every value in the fixture, read through the format's read(). */
Test(datasets_classification, eurosat_pixels_match_independent_readers) {
    char rgb_root[1024], ms_root[1024], fixture[1024];
    REQUIRE_SHARED("eurosat-rgb", rgb_root);
    REQUIRE_SHARED("format-fixtures/eurosat-ms", ms_root);
    FILE *f = fopen(test_fixture_path("eurosat_pixels.txt", fixture, sizeof fixture), "r");
    cr_assert(f != NULL, "fixture %s is missing", fixture);
    gs_dataset rgb, ms;
    gs_error err;
    cr_assert_eq(test_open_dataset("eurosat-rgb", rgb_root, &rgb, &err), GS_OK, "%s", err.message);
    cr_assert_eq(test_open_dataset("eurosat-ms", ms_root, &ms, &err), GS_OK, "%s", err.message);
    char line[1024], rel[900], last_rel[900] = "";
    float *pixels = NULL;
    const gs_dataset *ds = NULL;
    int checked = 0;
    while (fgets(line, sizeof line, f)) {
        int band, y, x, value;
        if (line[0] == '#' || sscanf(line, "%899s %d %d %d %d", rel, &band, &y, &x, &value) != 5) continue;
        if (strcmp(rel, last_rel)) {
            free(pixels);
            ds = strncmp(rel, "eurosat-rgb/", 12) ? &ms : &rgb;
            char *stem = gs_path_stem(rel);
            int64_t i = test_find_stem(ds, stem);
            cr_assert_geq(i, 0, "%s is not indexed", stem);
            free(stem);
            cr_assert(strstr(ds->samples[i].path, rel) != NULL, "%s vs %s", ds->samples[i].path, rel);
            gs_status st;
            pixels = read_sample(ds, i, &st, &err);
            cr_assert_eq(st, GS_OK, "%s", err.message);
            strcpy(last_rel, rel);
        }
        float got = pixels[((int64_t)band * ds->height + y) * ds->width + x];
        cr_expect_eq(got, (float)value, "%s band %d (y %d, x %d): %g, the independent reader says %d", rel, band, y, x,
                     got, value);
        checked++;
    }
    fclose(f);
    free(pixels);
    cr_expect_eq(checked, 5 * 4 * 3 + 4 * 6, "the fixture has 84 values, read %d", checked);
    gs_dataset_close(&rgb);
    gs_dataset_close(&ms);
}

Test(datasets_classification, resisc45_subset_classes_counts_and_renamed_folders) {
    char path[1024];
    REQUIRE_SHARED("resisc45-subset", path);
    gs_dataset ds;
    gs_error err;
    cr_assert_eq(test_open_dataset("resisc45", path, &ds, &err), GS_OK, "%s", err.message);
    static const char *const expected[12] = {"beach",    "commercial_area", "desert", "farmland",
                                             "forest",   "industrial_area", "island", "lake",
                                             "mountain", "residential",     "river",  "wetland"};
    cr_expect_eq(ds.n_samples, 360);
    cr_assert_eq(ds.n_classes, 12);
    for (int c = 0; c < 12; c++) {
        cr_expect_str_eq(ds.class_names[c], expected[c]);
        cr_expect_eq(class_count(&ds, c), 30);
    }
    cr_expect_eq(ds.n_warnings, 2, "farmland and residential are not official names: %lld warnings",
                 (long long)ds.n_warnings);
    cr_expect_eq(ds.bands, 3);
    cr_expect_eq(ds.height, 256);
    cr_expect_eq(ds.width, 256);
    int64_t i = test_find_stem(&ds, "farmland_030");
    cr_assert_geq(i, 0);
    cr_expect_eq(ds.samples[i].label, 3);
    gs_status st;
    float *pixels = read_sample(&ds, i, &st, &err);
    cr_assert_eq(st, GS_OK, "%s", err.message);
    double sum = 0;
    for (int64_t k = 0; k < 3 * 256 * 256; k++) sum += pixels[k];
    cr_expect_gt(sum, 0.0);
    free(pixels);
    gs_dataset_close(&ds);
}

/* The peer-library fixture keeps the classes in NWPU-RESISC45/ one level down. */
Test(datasets_classification, resisc45_root_above_class_folders) {
    char path[1024];
    REQUIRE_SHARED("format-fixtures/resisc45", path);
    gs_dataset ds;
    gs_error err;
    cr_assert_eq(test_open_dataset("resisc45", path, &ds, &err), GS_OK, "%s", err.message);
    cr_expect_eq(ds.n_samples, 9);
    cr_assert_eq(ds.n_classes, 3);
    cr_expect_str_eq(ds.class_names[0], "airplane");
    cr_expect_str_eq(ds.class_names[1], "airport");
    cr_expect_str_eq(ds.class_names[2], "baseball_diamond");
    cr_expect_eq(ds.n_warnings, 0);
    gs_dataset_close(&ds);
}

Test(datasets_classification, eurosat_ms_fixture_bands_and_counts) {
    char path[1024];
    REQUIRE_SHARED("format-fixtures/eurosat-ms", path);
    static const char *const roots[2] = {"", "/ds/images/remote_sensing/otherDatasets/sentinel_2/tif"};
    for (int r = 0; r < 2; r++) {
        char root[1200];
        snprintf(root, sizeof root, "%s%s", path, roots[r]);
        gs_dataset ds;
        gs_error err;
        cr_assert_eq(test_open_dataset("eurosat-ms", root, &ds, &err), GS_OK, "%s: %s", root, err.message);
        cr_expect_eq(ds.n_samples, 2);
        cr_assert_eq(ds.n_classes, 10);
        cr_expect_eq(class_count(&ds, 0), 1, "AnnualCrop");
        cr_expect_eq(class_count(&ds, 1), 1, "Forest");
        for (int c = 2; c < 10; c++) cr_expect_eq(class_count(&ds, c), 0, "%s", EUROSAT[c]);
        cr_expect_eq(ds.n_warnings, 1, "one warning for the 8 absent class folders");
        cr_assert_eq(ds.bands, 13);
        static const char *const names[13] = {"B01", "B02", "B03", "B04", "B05", "B06", "B07",
                                              "B08", "B8A", "B09", "B10", "B11", "B12"};
        static const float resolution[13] = {60, 10, 10, 10, 20, 20, 20, 10, 20, 60, 60, 20, 20};
        for (int b = 0; b < 13; b++) {
            cr_expect_str_eq(ds.band_info[b].name, names[b]);
            cr_expect_eq(ds.band_info[b].resolution_m, resolution[b], "%s", names[b]);
            if (b > 0 && b != 8) cr_expect_gt(ds.band_info[b].wavelength_nm, ds.band_info[b - 1].wavelength_nm);
        }
        cr_expect_float_eq(ds.band_info[8].wavelength_nm, 864.7f, 1e-3);
        cr_expect_float_eq(ds.band_info[10].wavelength_nm, 1373.5f, 1e-3);
        cr_expect_str_eq(ds.samples[1].stem, "Forest_1");
        gs_status st;
        float *pixels = read_sample(&ds, 1, &st, &err);
        cr_expect_eq(st, GS_OK, "%s", err.message);
        free(pixels);
        gs_dataset_close(&ds);
    }
}

/* read() is called from loader threads: concurrent reads give the serial values. */
typedef struct reader_job {
    const gs_dataset *ds;
    int thread, threads;
    double *sums;
    int failures;
} reader_job;

static void *read_every_nth(void *arg) {
    reader_job *job = arg;
    float *pixels = malloc(sizeof(float) * (size_t)gs_dataset_sample_floats(job->ds));
    for (int64_t i = job->thread; i < job->ds->n_samples; i += job->threads) {
        gs_sample_data data = {.pixels = pixels, .mask = NULL};
        gs_error err = {0};
        if (job->ds->format->read(job->ds, i, &data, &err) != GS_OK) {
            job->failures++;
            continue;
        }
        double sum = 0;
        for (int64_t k = 0; k < gs_dataset_sample_floats(job->ds); k++) sum += pixels[k] * (double)(k % 7 + 1);
        job->sums[i] = sum;
    }
    free(pixels);
    return NULL;
}

Test(datasets_classification, concurrent_reads_match_serial_reads) {
    char path[1024];
    REQUIRE_SHARED("eurosat-rgb", path);
    gs_dataset ds;
    gs_error err;
    cr_assert_eq(test_open_dataset("eurosat-rgb", path, &ds, &err), GS_OK, "%s", err.message);
    double *serial = calloc((size_t)ds.n_samples, sizeof *serial);
    double *parallel = calloc((size_t)ds.n_samples, sizeof *parallel);
    reader_job one = {.ds = &ds, .thread = 0, .threads = 1, .sums = serial};
    read_every_nth(&one);
    cr_assert_eq(one.failures, 0);
    pthread_t threads[4];
    reader_job jobs[4];
    for (int t = 0; t < 4; t++) {
        jobs[t] = (reader_job){.ds = &ds, .thread = t, .threads = 4, .sums = parallel};
        cr_assert_eq(pthread_create(&threads[t], NULL, read_every_nth, &jobs[t]), 0);
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(threads[t], NULL);
        cr_expect_eq(jobs[t].failures, 0);
    }
    cr_expect_eq(memcmp(serial, parallel, sizeof *serial * (size_t)ds.n_samples), 0);
    free(serial);
    free(parallel);
    gs_dataset_close(&ds);
}

/* ---- generated folders ------------------------------------------------------ */

Test(datasets_classification, file_number_order_and_harmless_surprises_warn) {
    char dir[256];
    test_temp_dir(dir, sizeof dir);
    make_dir(dir, "Forest");
    make_dir(dir, "River");
    make_dir(dir, "Clouds");
    write_image(dir, "Forest/Forest_10.jpg", 3, 64, 64, GS_PIXEL_U8);
    write_image(dir, "Forest/Forest_2.jpg", 3, 64, 64, GS_PIXEL_U8);
    write_image(dir, "Forest/Forest_1.jpg", 3, 64, 64, GS_PIXEL_U8);
    write_image(dir, "River/River_3.jpg", 3, 64, 64, GS_PIXEL_U8);
    write_image(dir, "Clouds/Clouds_1.jpg", 3, 64, 64, GS_PIXEL_U8);
    write_text(dir, "Forest/notes.txt", "not an image\n");
    gs_dataset ds;
    gs_error err;
    cr_assert_eq(test_open_dataset("eurosat-rgb", dir, &ds, &err), GS_OK, "%s", err.message);
    cr_expect_eq(ds.n_samples, 4, "the unexpected Clouds folder is skipped");
    cr_expect_eq(ds.n_classes, 10, "EuroSAT keeps its 10 classes even when folders are absent");
    cr_expect_eq(ds.n_warnings, 3, "unexpected folder, absent classes, ignored file: %lld", (long long)ds.n_warnings);
    static const char *const order[4] = {"Forest_1", "Forest_2", "Forest_10", "River_3"};
    for (int i = 0; i < 4 && i < ds.n_samples; i++) cr_expect_str_eq(ds.samples[i].stem, order[i]);
    cr_expect_eq(ds.samples[0].label, 1);
    cr_expect_eq(ds.samples[3].label, 8);
    gs_status st;
    float *pixels = read_sample(&ds, 0, &st, &err);
    cr_assert_eq(st, GS_OK, "%s", err.message);
    float worst = 0;
    for (int b = 0; b < 3; b++)
        for (int y = 0; y < 64; y++)
            for (int x = 0; x < 64; x++) {
                float d = pixels[(b * 64 + y) * 64 + x] - pattern(b, y, x, GS_PIXEL_U8);
                if (d < 0) d = -d;
                if (d > worst) worst = d;
            }
    cr_expect_leq(worst, 4.0f, "decoded pixels are far from what was written (%g)", worst);
    free(pixels);
    pixels = read_sample(&ds, 4, &st, &err);
    cr_expect_eq(st, GS_ERR_ARGUMENT, "index 4 of 4 samples must be refused");
    free(pixels);
    gs_dataset_close(&ds);
    test_remove_tree(dir);
}

Test(datasets_classification, eurosat_ms_uint16_values_exact) {
    char dir[256];
    test_temp_dir(dir, sizeof dir);
    make_dir(dir, "EuroSAT_MS");
    make_dir(dir, "EuroSAT_MS/SeaLake");
    write_image(dir, "EuroSAT_MS/SeaLake/SeaLake_7.tif", 13, 64, 64, GS_PIXEL_U16);
    gs_dataset ds;
    gs_error err;
    cr_assert_eq(test_open_dataset("eurosat-ms", dir, &ds, &err), GS_OK, "%s", err.message);
    cr_assert_eq(ds.n_samples, 1);
    cr_expect_eq(ds.samples[0].label, 9);
    gs_status st;
    float *pixels = read_sample(&ds, 0, &st, &err);
    cr_assert_eq(st, GS_OK, "%s", err.message);
    int wrong = 0;
    for (int b = 0; b < 13; b++)
        for (int y = 0; y < 64; y++)
            for (int x = 0; x < 64; x++) wrong += pixels[(b * 64 + y) * 64 + x] != pattern(b, y, x, GS_PIXEL_U16);
    cr_expect_eq(wrong, 0, "%d uint16 values changed", wrong);
    cr_expect_eq(pixels[(12 * 64 + 63) * 64 + 63], (float)(((12 * 31 + 63 * 7 + 63 * 3) % 251) * 10));
    free(pixels);
    gs_dataset_close(&ds);
    test_remove_tree(dir);
}

/* ---- bad input ------------------------------------------------------------------ */

Test(datasets_classification, truncated_jpeg_is_an_error_naming_it) {
    char dir[256], file[1200];
    test_temp_dir(dir, sizeof dir);
    make_dir(dir, "Forest");
    write_image(dir, "Forest/Forest_1.jpg", 3, 64, 64, GS_PIXEL_U8);
    write_image(dir, "Forest/Forest_2.jpg", 3, 64, 64, GS_PIXEL_U8);
    snprintf(file, sizeof file, "%s/Forest/Forest_2.jpg", dir);
    struct stat st_file;
    cr_assert_eq(stat(file, &st_file), 0);
    cr_assert_eq(truncate(file, st_file.st_size / 2), 0);
    gs_dataset ds;
    gs_error err;
    cr_assert_eq(test_open_dataset("eurosat-rgb", dir, &ds, &err), GS_OK, "%s", err.message);
    gs_status st;
    float *pixels = read_sample(&ds, 0, &st, &err);
    cr_expect_eq(st, GS_OK, "%s", err.message);
    free(pixels);
    pixels = read_sample(&ds, 1, &st, &err);
    cr_expect_eq(st, GS_ERR_FORMAT, "a truncated JPEG was accepted");
    cr_expect(strstr(err.message, file) != NULL, "the message must name %s: %s", file, err.message);
    free(pixels);
    gs_dataset_close(&ds);
    test_remove_tree(dir);
}

Test(datasets_classification, empty_class_folder_is_an_error_naming_it) {
    char dir[256], folder[1200];
    test_temp_dir(dir, sizeof dir);
    make_dir(dir, "Forest");
    make_dir(dir, "River");
    write_image(dir, "Forest/Forest_1.jpg", 3, 64, 64, GS_PIXEL_U8);
    gs_dataset ds;
    gs_error err;
    cr_expect_eq(test_open_dataset("eurosat-rgb", dir, &ds, &err), GS_ERR_FORMAT);
    snprintf(folder, sizeof folder, "%s/River", dir);
    cr_expect(strstr(err.message, folder) != NULL, "the message must name %s: %s", folder, err.message);
    cr_expect(strstr(err.message, "empty") != NULL, "%s", err.message);
    /* The same for a class folder holding only files of another format. */
    write_image(dir, "River/River_1.tif", 13, 64, 64, GS_PIXEL_U16);
    cr_expect_eq(test_open_dataset("eurosat-rgb", dir, &ds, &err), GS_ERR_FORMAT);
    cr_expect(strstr(err.message, "River_1.tif") != NULL, "%s", err.message);
    test_remove_tree(dir);
}

Test(datasets_classification, wrong_band_count_is_an_error_naming_file_and_shape) {
    char dir[256], file[1200];
    test_temp_dir(dir, sizeof dir);
    make_dir(dir, "Forest");
    write_image(dir, "Forest/Forest_1.tif", 12, 64, 64, GS_PIXEL_U16);
    write_image(dir, "Forest/Forest_2.tif", 13, 32, 32, GS_PIXEL_U16);
    gs_dataset ds;
    gs_error err;
    cr_assert_eq(test_open_dataset("eurosat-ms", dir, &ds, &err), GS_OK, "%s", err.message);
    for (int i = 0; i < 2; i++) {
        gs_status st;
        float *pixels = read_sample(&ds, i, &st, &err);
        snprintf(file, sizeof file, "%s/Forest/Forest_%d.tif", dir, i + 1);
        cr_expect_eq(st, GS_ERR_FORMAT);
        cr_expect(strstr(err.message, file) != NULL, "the message must name %s: %s", file, err.message);
        cr_expect(strstr(err.message, "13 x 64 x 64 uint16") != NULL, "the expected shape: %s", err.message);
        free(pixels);
    }
    gs_dataset_close(&ds);
    test_remove_tree(dir);
}

Test(datasets_classification, resisc45_other_size_is_an_error_not_resized) {
    char dir[256], file[1200];
    test_temp_dir(dir, sizeof dir);
    make_dir(dir, "airport");
    write_image(dir, "airport/airport_001.jpg", 3, 128, 128, GS_PIXEL_U8);
    gs_dataset ds;
    gs_error err;
    cr_assert_eq(test_open_dataset("resisc45", dir, &ds, &err), GS_OK, "%s", err.message);
    cr_expect_eq(ds.n_warnings, 0);
    gs_status st;
    float *pixels = read_sample(&ds, 0, &st, &err);
    snprintf(file, sizeof file, "%s/airport/airport_001.jpg", dir);
    cr_expect_eq(st, GS_ERR_FORMAT);
    cr_expect(strstr(err.message, file) != NULL, "%s", err.message);
    cr_expect(strstr(err.message, "3 x 256 x 256") != NULL, "%s", err.message);
    free(pixels);
    gs_dataset_close(&ds);
    test_remove_tree(dir);
}

Test(datasets_classification, a_class_folder_as_root_and_foreign_trees_are_explained) {
    char dir[256], root[1200];
    test_temp_dir(dir, sizeof dir);
    make_dir(dir, "Forest");
    write_image(dir, "Forest/Forest_1.jpg", 3, 64, 64, GS_PIXEL_U8);
    snprintf(root, sizeof root, "%s/Forest", dir);
    gs_dataset ds;
    gs_error err;
    cr_expect_eq(test_open_dataset("eurosat-rgb", root, &ds, &err), GS_ERR_FORMAT);
    cr_expect(strstr(err.message, "images itself") != NULL, "%s", err.message);
    cr_expect_eq(test_open_dataset("eurosat-ms", dir, &ds, &err), GS_ERR_FORMAT, "no .tif class folders here");
    cr_expect(strstr(err.message, ".tif") != NULL && strstr(err.message, dir) != NULL, "%s", err.message);
    /* Two candidate class roots at the same depth are ambiguous. */
    make_dir(dir, "a");
    make_dir(dir, "b");
    make_dir(dir, "a/Forest");
    make_dir(dir, "b/River");
    write_image(dir, "a/Forest/Forest_1.tif", 13, 64, 64, GS_PIXEL_U16);
    write_image(dir, "b/River/River_1.tif", 13, 64, 64, GS_PIXEL_U16);
    cr_expect_eq(test_open_dataset("eurosat-ms", dir, &ds, &err), GS_ERR_ARGUMENT);
    cr_expect(strstr(err.message, "both") != NULL, "%s", err.message);
    test_remove_tree(dir);
}
