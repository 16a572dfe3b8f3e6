/* The s2-timeseries format (<root>/<location>/<YYYY-MM-DD>.tif): the real
 * SEN2DWATER sample (skipped visibly without ../shared/data), with pixel
 * values checked against an independent reader (tifffile 2026.3.3 with
 * imagecodecs, values quoted in the comments), and small exports written
 * here: uint16, float32 and float64 files, band names in GDAL_METADATA or by
 * band count, dates of slightly different sizes, locations with different
 * date counts, a malformed date name and a truncated file.  Also the float64
 * samples and GDAL band names that image_io gained for this format. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset.h"
#include "image_io.h"
#include "loader.h"
#include "synthetic.h"
#include "test_paths.h"

/* ---- small exports written by the tests ----------------------------------- */

/* The value of band b at (y, x) of date `date` in a written file: distinct
 * for every band, pixel and date, exact in uint16, float32 and float64; the
 * .5 survives in the float types only. */
static double export_value(int date, int b, int64_t y, int64_t x, gs_pixel_type type) {
    double v = date * 2000 + b * 100 + (double)((y * 7 + x * 3) % 97);
    return type == GS_PIXEL_U16 ? v : v + 0.5;
}

static void make_dir(const char *path) { cr_assert(mkdir(path, 0755) == 0 || access(path, F_OK) == 0, "%s", path); }

/* Writes <root>/<location>/<file> as an h x w export of `bands` bands. */
static void write_export(const char *root, const char *location, const char *file, int date, int bands, int64_t h,
                         int64_t w, gs_pixel_type type, const char *const *names) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, location);
    make_dir(root);
    make_dir(path);
    snprintf(path, sizeof path, "%s/%s/%s", root, location, file);
    gs_raster r;
    gs_error err = {0};
    cr_assert_eq(gs_raster_alloc(&r, bands, h, w, &err), GS_OK);
    for (int b = 0; b < bands; b++)
        for (int64_t y = 0; y < h; y++)
            for (int64_t x = 0; x < w; x++) r.data[(b * h + y) * w + x] = (float)export_value(date, b, y, x, type);
    cr_assert_eq(gs_tiff_write_named(path, &r, type, 1, names, &err), GS_OK, "%s", err.message);
    gs_raster_free(&r);
}

static gs_status open_series(const char *root, int patch, int dates, gs_dataset *ds, gs_error *err) {
    char spec[1200];
    snprintf(spec, sizeof spec, "s2-timeseries:%s", root);
    gs_dataset_options options = {0};
    options.patch_size = patch;
    options.dates = dates;
    memset(err, 0, sizeof *err);
    return gs_dataset_open(spec, &options, ds, err);
}

static float *read_sample(const gs_dataset *ds, int64_t index) {
    float *pixels = malloc(sizeof(float) * (size_t)gs_dataset_sample_floats(ds));
    gs_sample_data data = {.pixels = pixels};
    gs_error err = {0};
    cr_assert_eq(ds->format->read(ds, index, &data, &err), GS_OK, "%s", err.message);
    return pixels;
}

static float at(const gs_dataset *ds, const float *pixels, int date, int band, int64_t y, int64_t x) {
    return pixels[(((int64_t)date * ds->bands + band) * ds->height + y) * ds->width + x];
}

/* ---- image_io: float64 samples and GDAL band names ------------------------ */

Test(datasets_s2_timeseries, float64_tiff_round_trip) {
    char dir[256], path[400];
    test_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/f64.tif", dir);
    gs_raster r;
    gs_error err = {0};
    cr_assert_eq(gs_raster_alloc(&r, 3, 4, 5, &err), GS_OK);
    for (int64_t i = 0; i < 3 * 4 * 5; i++) r.data[i] = (float)(i * 1234.25 - 7000.0);
    cr_assert_eq(gs_tiff_write(path, &r, GS_PIXEL_F64, 1, &err), GS_OK, "%s", err.message);
    int64_t w, h;
    int bands;
    gs_pixel_type type;
    cr_assert_eq(gs_tiff_probe(path, &w, &h, &bands, &type, &err), GS_OK, "%s", err.message);
    cr_expect_eq(type, GS_PIXEL_F64);
    cr_expect_eq(bands, 3);
    int epsg = -1;
    cr_assert_eq(gs_tiff_epsg(path, &epsg, &err), GS_OK, "%s", err.message);
    cr_expect_eq(epsg, 0, "no GeoKeys, no coordinate system");
    gs_raster back;
    cr_assert_eq(gs_tiff_read(path, &back, &err), GS_OK, "%s", err.message);
    cr_expect_eq(back.type, GS_PIXEL_F64);
    int wrong = 0;
    for (int64_t i = 0; i < 3 * 4 * 5; i++) wrong += back.data[i] != r.data[i];
    cr_expect_eq(wrong, 0, "every float64 sample reads back exactly (the values are exact in float32)");
    /* A window of a float64 file: band 2, rows 1..2, columns 3..4. */
    gs_raster window;
    cr_assert_eq(gs_tiff_read_window(path, 3, 1, 2, 2, &window, &err), GS_OK, "%s", err.message);
    cr_expect_eq(window.data[(2 * 2 + 1) * 2 + 1], r.data[(2 * 4 + 2) * 5 + 4]);
    gs_raster_free(&window);
    gs_raster_free(&back);
    gs_raster_free(&r);
}

Test(datasets_s2_timeseries, gdal_band_names_round_trip) {
    char dir[256], path[400];
    test_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/named.tif", dir);
    gs_raster r;
    gs_error err = {0};
    cr_assert_eq(gs_raster_alloc(&r, 4, 2, 2, &err), GS_OK);
    const char *names[4] = {"B4", NULL, "QA60", "R&D <x>"};
    cr_assert_eq(gs_tiff_write_named(path, &r, GS_PIXEL_U16, 0, names, &err), GS_OK, "%s", err.message);
    char got[4][16];
    int named = -1;
    cr_assert_eq(gs_tiff_band_names(path, 4, got, &named, &err), GS_OK, "%s", err.message);
    cr_expect_eq(named, 3);
    cr_expect_str_eq(got[0], "B4");
    cr_expect_str_eq(got[1], "", "a band the tag does not name");
    cr_expect_str_eq(got[2], "QA60");
    cr_expect_str_eq(got[3], "R&D <x>", "XML entities decoded");
    /* Without the tag: no names, no error. */
    cr_assert_eq(gs_tiff_write(path, &r, GS_PIXEL_U16, 0, &err), GS_OK, "%s", err.message);
    cr_assert_eq(gs_tiff_band_names(path, 4, got, &named, &err), GS_OK, "%s", err.message);
    cr_expect_eq(named, 0);
    cr_expect_str_eq(got[0], "");
    gs_raster_free(&r);
}

/* ---- the real SEN2DWATER sample ------------------------------------------- */

Test(datasets_s2_timeseries, real_sen2dwater_sample) {
    char root[1024];
    REQUIRE_SHARED("s2-timeseries-sen2dwater", root);
    gs_dataset ds;
    gs_error err;
    cr_assert_eq(open_series(root, 0, 0, &ds, &err), GS_OK, "%s", err.message);
    cr_expect_eq(ds.task, GS_TASK_UNLABELED);
    cr_expect_eq(ds.dates, 12);
    cr_expect_eq(ds.bands, 16);
    cr_expect_eq(ds.height, 64);
    cr_expect_eq(ds.width, 64);
    cr_expect_eq(ds.n_warnings, 2, "both locations mix UTM zones 32N and 33N (EPSG:32632, 32633)");
    /* Names from GDAL_METADATA, canonical for the S2 bands. */
    const char *want[16] = {"B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08",
                            "B8A", "B09", "B10", "B11", "B12", "QA10", "QA20", "QA60"};
    for (int b = 0; b < 16; b++) cr_expect_str_eq(ds.band_info[b].name, want[b]);
    cr_expect_float_eq(ds.band_info[3].wavelength_nm, 664.6f, 5.0f, "B04 is red");
    /* Bracciano: dates 318 x 317 and 316 x 315 (width x height) -> common
     * 316 x 315; Tevere: 318 x 317 and 317 x 315 -> 317 x 315.  Both cut into
     * 4 x 4 tiles of 64. */
    cr_assert_eq(ds.n_samples, 32);
    cr_expect_str_eq(ds.samples[0].stem, "Bracciano_Lat_42.08059_Lon_12.2343");
    cr_expect_str_eq(ds.samples[16].stem, "Tevere_Lat_41.75675_Lon_12.27669");
    cr_expect_eq(ds.samples[7].group, 0);
    cr_expect_eq(ds.samples[7].y, 64);
    cr_expect_eq(ds.samples[7].x, 192);
    cr_expect_eq(ds.samples[28].group, 1);
    cr_expect_eq(ds.samples[28].y, 192);
    cr_expect_eq(ds.samples[28].x, 0);

    /* Sample 7 is Bracciano's tile at (64, 192) of the common extent.  Its
     * pixel (6, 38) is common (70, 230): in 2017-01-04.tif (318 x 317, centred
     * crop offset (1, 1)) file row 71, column 231, where tifffile reads
     * B4 = 291.0 (and no neighbour has that value). */
    float *pixels = read_sample(&ds, 7);
    cr_expect_eq(at(&ds, pixels, 0, 3, 6, 38), 291.0f);
    /* Date 1 is 2017-04-04.tif (316 x 315, offset 0): row 70, column 230,
     * tifffile: B4 = 371.0, B8A = 288.0. */
    cr_expect_eq(at(&ds, pixels, 1, 3, 6, 38), 371.0f);
    cr_expect_eq(at(&ds, pixels, 1, 8, 6, 38), 288.0f);
    /* The QA bands are empty (all zero) but kept. */
    double qa = 0, reflectance = 0;
    for (int d = 0; d < ds.dates; d++)
        for (int64_t k = 0; k < 64 * 64; k++) {
            for (int b = 13; b < 16; b++) qa += fabs(at(&ds, pixels, d, b, k / 64, k % 64));
            reflectance += at(&ds, pixels, d, 1, k / 64, k % 64);
        }
    cr_expect_eq(qa, 0.0);
    cr_expect_gt(reflectance / (12 * 64 * 64), 100.0, "B02 holds digital numbers, not zeros");
    free(pixels);

    /* Sample 28: Tevere's tile at (192, 0).  Its pixel (8, 10) is common
     * (200, 10): 2017-01-01.tif (317 x 315, offset 0) row 200, column 10,
     * tifffile B2 = 1380.0; date 2, 2017-05-31.tif (318 x 317, offset (0, 1)
     * in x, y) row 201, column 10, B2 = 1247.0. */
    /* The dates of a sample, for SatMAE's temporal encoding. */
    int32_t ymd[3 * 12];
    cr_assert(gs_dataset_sample_dates(&ds, 28, ymd));
    cr_expect_eq(ymd[0], 2017);
    cr_expect_eq(ymd[1], 1);
    cr_expect_eq(ymd[2], 1);
    cr_expect_eq(ymd[3 * 11], 2018, "Tevere's last date, 2018-12-27");
    cr_expect_eq(ymd[3 * 11 + 1], 12);
    cr_expect_eq(ymd[3 * 11 + 2], 27);
    cr_assert(gs_dataset_sample_dates(&ds, 7, ymd));
    cr_expect_eq(ymd[3 * 1 + 1], 4, "Bracciano's second date, 2017-04-04");
    cr_expect_eq(ymd[3 * 1 + 2], 4);
    pixels = read_sample(&ds, 28);
    cr_expect_eq(at(&ds, pixels, 0, 1, 8, 10), 1380.0f);
    cr_expect_eq(at(&ds, pixels, 2, 1, 8, 10), 1247.0f);
    free(pixels);

    /* What data check prints: every date of each location and the bands. */
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    gs_dataset_describe(&ds, out);
    fclose(out);
    cr_expect(strstr(text, "Bracciano_Lat_42.08059_Lon_12.2343: 12 dates, 316 x 315 px") != NULL, "%s", text);
    cr_expect(strstr(text, "2018-12-27") != NULL, "Tevere's last date: %s", text);
    cr_expect(strstr(text, "GDAL_METADATA") != NULL, "%s", text);
    cr_expect(strstr(text, "not co-registered: dates in EPSG:32632, 2017-04-04 in EPSG:32633, 2018-04-21 in "
                           "EPSG:32633\n") != NULL,
              "Bracciano's two 33N dates (tiffinfo: tag 34737 'WGS 84 / UTM zone 33N'): %s", text);
    cr_expect(strstr(text, " B8A B09 B10 B11 B12 QA10 QA20 QA60") != NULL, "%s", text);
    free(text);
    gs_dataset_close(&ds);
}

/* ---- exports written here ------------------------------------------------- */

Test(datasets_s2_timeseries, sample_types_and_names_by_band_count) {
    char dir[256];
    test_temp_dir(dir, sizeof dir);
    /* Three locations, one sample type each, 13 unnamed bands. */
    const gs_pixel_type types[3] = {GS_PIXEL_U16, GS_PIXEL_F32, GS_PIXEL_F64};
    const char *locations[3] = {"a_uint16", "b_float32", "c_float64"};
    for (int l = 0; l < 3; l++) {
        write_export(dir, locations[l], "2020-03-01.tif", 0, 13, 64, 64, types[l], NULL);
        write_export(dir, locations[l], "2019-12-31.tif", 1, 13, 64, 64, types[l], NULL);
    }
    gs_dataset ds;
    gs_error err;
    cr_assert_eq(open_series(dir, 0, 0, &ds, &err), GS_OK, "%s", err.message);
    cr_assert_eq(ds.n_samples, 3);
    cr_expect_eq(ds.dates, 2);
    cr_expect_eq(ds.bands, 13);
    cr_expect_str_eq(ds.band_info[8].name, "B8A", "13 bands: the Sentinel-2 order");
    cr_expect_str_eq(ds.band_info[12].name, "B12");
    for (int l = 0; l < 3; l++) {
        float *pixels = read_sample(&ds, l);
        int wrong = 0;
        /* Date 0 is the earlier file, 2019-12-31, written as date 1. */
        for (int d = 0; d < 2; d++)
            for (int b = 0; b < 13; b++)
                for (int64_t y = 0; y < 64; y++)
                    for (int64_t x = 0; x < 64; x++)
                        wrong += at(&ds, pixels, d, b, y, x) != (float)export_value(1 - d, b, y, x, types[l]);
        cr_expect_eq(wrong, 0, "%s: every value as written, dates in calendar order", locations[l]);
        free(pixels);
    }
    gs_dataset_close(&ds);
    /* The same files as plain scenes: that format knows no dates. */
    cr_assert_eq(test_open_dataset("geotiff", dir, &ds, &err), GS_OK, "%s", err.message);
    int32_t ymd[3] = {-1, -1, -1};
    cr_expect(!gs_dataset_sample_dates(&ds, 0, ymd));
    cr_expect_eq(ymd[0], -1);
    gs_dataset_close(&ds);
}

Test(datasets_s2_timeseries, gdal_names_and_sizes_cropped_to_the_common_extent) {
    char dir[256];
    test_temp_dir(dir, sizeof dir);
    const char *names[4] = {"B2", "B3", "B4", "B8"};
    /* 70 x 66 and 72 x 69 (width x height): common 70 x 66; the larger date
     * is read from (1, 1), centred. */
    write_export(dir, "loc", "2021-06-01.tif", 0, 4, 66, 70, GS_PIXEL_F32, names);
    write_export(dir, "loc", "2021-07-01.tif", 1, 4, 69, 72, GS_PIXEL_F32, names);
    gs_dataset ds;
    gs_error err;
    cr_assert_eq(open_series(dir, 32, 0, &ds, &err), GS_OK, "%s", err.message);
    cr_expect_eq(ds.n_warnings, 0, "4 bands named by the tag need no warning");
    cr_expect_str_eq(ds.band_info[0].name, "B02");
    cr_expect_str_eq(ds.band_info[3].name, "B08");
    cr_assert_eq(ds.n_samples, 4, "70 x 66 holds 2 x 2 tiles of 32");
    cr_expect_eq(ds.samples[3].y, 32);
    cr_expect_eq(ds.samples[3].x, 32);
    float *pixels = read_sample(&ds, 3);
    cr_expect_eq(at(&ds, pixels, 0, 2, 0, 0), (float)export_value(0, 2, 32, 32, GS_PIXEL_F32));
    cr_expect_eq(at(&ds, pixels, 1, 2, 0, 0), (float)export_value(1, 2, 33, 33, GS_PIXEL_F32));
    cr_expect_eq(at(&ds, pixels, 1, 3, 31, 31), (float)export_value(1, 3, 64, 64, GS_PIXEL_F32));
    free(pixels);
    gs_dataset_close(&ds);

    /* A date whose tag orders the bands differently is refused, naming it. */
    const char *swapped[4] = {"B3", "B2", "B4", "B8"};
    write_export(dir, "loc", "2021-08-01.tif", 2, 4, 66, 70, GS_PIXEL_F32, swapped);
    cr_assert_neq(open_series(dir, 32, 0, &ds, &err), GS_OK);
    cr_expect(strstr(err.message, "2021-08-01.tif") != NULL, "%s", err.message);
}

Test(datasets_s2_timeseries, locations_with_different_date_counts) {
    char dir[256];
    test_temp_dir(dir, sizeof dir);
    write_export(dir, "long", "2020-01-01.tif", 0, 12, 64, 64, GS_PIXEL_U16, NULL);
    write_export(dir, "long", "2020-02-01.tif", 1, 12, 64, 64, GS_PIXEL_U16, NULL);
    write_export(dir, "long", "2020-03-01.tif", 2, 12, 64, 64, GS_PIXEL_U16, NULL);
    write_export(dir, "short", "2020-01-05.tif", 0, 12, 64, 64, GS_PIXEL_U16, NULL);
    write_export(dir, "short", "2020-02-05.tif", 1, 12, 64, 64, GS_PIXEL_U16, NULL);
    gs_dataset ds;
    gs_error err;
    cr_assert_eq(open_series(dir, 0, 0, &ds, &err), GS_OK, "%s", err.message);
    cr_expect_eq(ds.dates, 2, "the smallest count");
    cr_expect_eq(ds.n_warnings, 1, "one warning for the location that loses a date");
    int32_t ymd[3 * 2];
    cr_assert(gs_dataset_sample_dates(&ds, 1, ymd)); /* "short" */
    cr_expect_eq(ymd[3 + 1], 2);
    cr_expect_eq(ymd[3 + 2], 5, "2020-02-05");
    cr_expect_str_eq(ds.band_info[10].name, "B11", "12 bands: no B10");
    float *pixels = read_sample(&ds, 0); /* "long": its two earliest dates */
    cr_expect_eq(at(&ds, pixels, 1, 0, 5, 5), (float)export_value(1, 0, 5, 5, GS_PIXEL_U16));
    free(pixels);
    gs_dataset_close(&ds);

    cr_assert_neq(open_series(dir, 0, 3, &ds, &err), GS_OK, "3 dates asked, 'short' has 2");
    cr_expect(strstr(err.message, "short") != NULL, "%s", err.message);
    cr_assert_eq(open_series(dir, 0, 1, &ds, &err), GS_OK, "%s", err.message);
    cr_expect_eq(ds.dates, 1);
    cr_expect_eq(ds.n_warnings, 0, "dates asked for: nobody is cut unexpectedly");
    gs_dataset_close(&ds);
}

Test(datasets_s2_timeseries, malformed_date_names_are_errors_naming_the_file) {
    const char *bad[] = {"2017-13-01.tif", "2019-02-29.tif", "20170104.tif", "2017-01-04_B4.tif", "scene.tif"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char dir[256], root[400];
        test_temp_dir(dir, sizeof dir);
        snprintf(root, sizeof root, "%s/case%zu", dir, i);
        write_export(root, "loc", "2017-01-04.tif", 0, 13, 64, 64, GS_PIXEL_U16, NULL);
        write_export(root, "loc", bad[i], 1, 13, 64, 64, GS_PIXEL_U16, NULL);
        gs_dataset ds;
        gs_error err;
        cr_expect_neq(open_series(root, 0, 0, &ds, &err), GS_OK, "%s accepted", bad[i]);
        cr_expect(strstr(err.message, bad[i]) != NULL, "%s", err.message);
        cr_expect(strstr(err.message, "YYYY-MM-DD") != NULL, "says what the name should be: %s", err.message);
    }
    /* A leap day is a date; files that are not TIFFs only warn. */
    char dir[256];
    test_temp_dir(dir, sizeof dir);
    write_export(dir, "loc", "2020-02-29.tif", 0, 13, 64, 64, GS_PIXEL_U16, NULL);
    char path[512];
    snprintf(path, sizeof path, "%s/loc/2020-02-29.tif.aux.xml", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("<PAMDataset/>\n", f);
    fclose(f);
    gs_dataset ds;
    gs_error err;
    cr_assert_eq(open_series(dir, 0, 0, &ds, &err), GS_OK, "%s", err.message);
    cr_expect_eq(ds.n_warnings, 1);
    gs_dataset_close(&ds);
}

Test(datasets_s2_timeseries, truncated_file_names_the_file) {
    char dir[256], path[512];
    test_temp_dir(dir, sizeof dir);
    write_export(dir, "loc", "2020-01-01.tif", 0, 13, 64, 64, GS_PIXEL_F64, NULL);
    write_export(dir, "loc", "2020-02-01.tif", 1, 13, 64, 64, GS_PIXEL_F64, NULL);
    snprintf(path, sizeof path, "%s/loc/2020-02-01.tif", dir);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(truncate(path, st.st_size / 2), 0);
    gs_dataset ds;
    gs_error err;
    if (open_series(dir, 0, 0, &ds, &err) != GS_OK) { /* the header went with the cut */
        cr_expect(strstr(err.message, path) != NULL, "%s", err.message);
        return;
    }
    float *pixels = malloc(sizeof(float) * (size_t)gs_dataset_sample_floats(&ds));
    gs_sample_data data = {.pixels = pixels};
    cr_expect_neq(ds.format->read(&ds, 0, &data, &err), GS_OK, "a truncated date must not read");
    cr_expect(strstr(err.message, path) != NULL, "%s", err.message);
    free(pixels);
    gs_dataset_close(&ds);
}

/* ---- the generator's layout ------------------------------------------------ */

Test(datasets_s2_timeseries, generator_writes_what_the_format_reads) {
    char dir[256], root[400];
    test_temp_dir(dir, sizeof dir);
    snprintf(root, sizeof root, "%s/synth", dir);
    /* Seed 4 writes dates of 64 to 66 px, e.g. 66 x 66, 65 x 66 and 64 x 64
     * for the first location, so some dates are read from (1, 1). */
    gs_synth_options opt = {.seed = 4, .count = 2, .size = 64, .dates = 3};
    gs_error err = {0};
    cr_assert_eq(gs_synth_write("s2-timeseries", root, &opt, &err), GS_OK, "%s", err.message);
    gs_dataset ds;
    cr_assert_eq(open_series(root, 0, 0, &ds, &err), GS_OK, "%s", err.message);
    cr_expect_eq(ds.n_warnings, 0);
    cr_assert_eq(ds.n_samples, 2, "one 64 px tile per location");
    cr_expect_eq(ds.dates, 3);
    cr_expect_eq(ds.bands, 16);
    cr_expect_str_eq(ds.band_info[8].name, "B8A");
    cr_expect_str_eq(ds.band_info[15].name, "QA60");
    /* Every date read by hand: the sample is its centred 64 x 64. */
    int shifted = 0;
    for (int l = 0; l < 2; l++) {
        char location[600], file[1400];
        snprintf(location, sizeof location, "%s/%s", root, ds.samples[l].stem);
        struct dirent **entries;
        int n = scandir(location, &entries, NULL, alphasort); /* chronological for YYYY-MM-DD */
        cr_assert_eq(n, 2 + 3, "., .. and 3 dates");
        gs_raster r[3];
        int64_t common_w = 0, common_h = 0;
        for (int d = 0; d < 3; d++) {
            snprintf(file, sizeof file, "%s/%s", location, entries[d + 2]->d_name);
            cr_assert_eq(gs_tiff_read(file, &r[d], &err), GS_OK, "%s", err.message);
            cr_expect_eq(r[d].type, GS_PIXEL_F64);
            if (d == 0 || r[d].width < common_w) common_w = r[d].width;
            if (d == 0 || r[d].height < common_h) common_h = r[d].height;
        }
        float *pixels = read_sample(&ds, l);
        for (int d = 0; d < 3; d++) {
            int64_t x0 = (r[d].width - common_w) / 2, y0 = (r[d].height - common_h) / 2;
            shifted += x0 > 0 || y0 > 0;
            int wrong = 0;
            for (int b = 0; b < 16; b++)
                for (int64_t y = 0; y < 64; y++)
                    for (int64_t x = 0; x < 64; x++)
                        wrong += at(&ds, pixels, d, b, y, x) != r[d].data[(b * r[d].height + y0 + y) * r[d].width + x0 + x];
            cr_expect_eq(wrong, 0, "%s/%s read from (%lld, %lld)", location, entries[d + 2]->d_name, (long long)y0,
                         (long long)x0);
            gs_raster_free(&r[d]);
        }
        for (int i = 0; i < n; i++) free(entries[i]);
        free(entries);
        free(pixels);
    }
    cr_expect_gt(shifted, 0, "some date is larger than the common extent by 2 px");
    gs_dataset_close(&ds);
}

Test(datasets_s2_timeseries, a_location_folder_given_as_root_says_so) {
    char dir[256], location[400];
    test_temp_dir(dir, sizeof dir);
    write_export(dir, "loc", "2020-01-01.tif", 0, 13, 64, 64, GS_PIXEL_U16, NULL);
    snprintf(location, sizeof location, "%s/loc", dir);
    gs_dataset ds;
    gs_error err;
    cr_assert_neq(open_series(location, 0, 0, &ds, &err), GS_OK);
    cr_expect(strstr(err.message, "no location folders") != NULL, "%s", err.message);
    cr_expect(strstr(err.message, "2020-01-01.tif") != NULL, "%s", err.message);
}

/* Batches of a format that knows its dates carry them (gs_batch.acquired),
 * sample by sample as gs_dataset_sample_dates gives them, also shuffled and
 * over several batches; a format without dates passes none. */
Test(datasets_s2_timeseries, batches_carry_the_acquisition_dates) {
    char dir[256], root[400];
    test_temp_dir(dir, sizeof dir);
    snprintf(root, sizeof root, "%s/synth", dir);
    gs_synth_options opt = {.seed = 4, .count = 5, .size = 64, .dates = 3};
    gs_error err = {0};
    cr_assert_eq(gs_synth_write("s2-timeseries", root, &opt, &err), GS_OK, "%s", err.message);
    gs_dataset ds;
    cr_assert_eq(open_series(root, 0, 0, &ds, &err), GS_OK, "%s", err.message);
    gs_loader_config lc = {.dataset = &ds, .batch_size = 2, .workers = 2, .shuffle = true, .seed = 3, .epochs = 1};
    lc.views[0] = gs_augment_identity();
    lc.n_views = 1;
    gs_loader *l;
    cr_assert_eq(gs_loader_create(&lc, &l, &err), GS_OK, "%s", err.message);
    const gs_batch *b;
    int seen = 0, distinct_months = 0;
    while (gs_loader_next(l, &b, &err) == GS_OK && b) {
        cr_assert_not_null(b->acquired, "an s2-timeseries batch without dates");
        for (int i = 0; i < b->n; i++) {
            int32_t want[9];
            cr_assert(gs_dataset_sample_dates(&ds, b->indices[i], want));
            cr_expect(!memcmp(b->acquired + i * 9, want, sizeof want), "sample %lld: dates differ",
                      (long long)b->indices[i]);
            distinct_months += want[1] != want[4];
            seen++;
        }
    }
    cr_expect_eq(err.status, GS_OK, "%s", err.message);
    cr_expect_eq(seen, ds.n_samples, "every location once");
    cr_expect_gt(distinct_months, 0, "the dates are months apart");
    gs_loader_destroy(l);
    gs_dataset_close(&ds);

    char eurosat[400], spec[450];
    snprintf(eurosat, sizeof eurosat, "%s/eurosat", dir);
    gs_synth_options eo = {.seed = 1, .count = 2};
    cr_assert_eq(gs_synth_write("eurosat-rgb", eurosat, &eo, &err), GS_OK, "%s", err.message);
    snprintf(spec, sizeof spec, "eurosat-rgb:%s", eurosat);
    cr_assert_eq(gs_dataset_open(spec, NULL, &ds, &err), GS_OK, "%s", err.message);
    lc.dataset = &ds;
    cr_assert_eq(gs_loader_create(&lc, &l, &err), GS_OK, "%s", err.message);
    cr_assert_eq(gs_loader_next(l, &b, &err), GS_OK, "%s", err.message);
    cr_assert_not_null(b);
    cr_expect_null(b->acquired, "EuroSAT knows no dates");
    gs_loader_destroy(l);
    gs_dataset_close(&ds);
    test_remove_tree(dir);
}
