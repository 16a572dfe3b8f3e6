/* Seasonal Sentinel-2 (seco, ssl4eo-s12): the format fixtures (SeCo 5 dates
 * of uint8 JPEG-in-TIFF bands at 264/132/44 px; SSL4EO-S12 4 dates under
 * s12/{s1,s2a,s2c}), the real SSL4EO-S12 sample (2 locations x 1 date, 13
 * bands), pixel values against PIL plus numpy
 * (tools/reference/sentinel2_pixels.py), date ordering, options.dates, and bad
 * input on generated folders. */
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

static void open_ok(const char *format, const char *root, int dates, gs_dataset *ds) {
    char spec[1200];
    snprintf(spec, sizeof spec, "%s:%s", format, root);
    gs_dataset_options options = {0};
    options.dates = dates;
    gs_error err = {0};
    cr_assert_eq(gs_dataset_open(spec, &options, ds, &err), GS_OK, "%s", err.message);
}

/* Compares read() of sample `index` with the reference values of `name`. */
static void expect_reference_pixels(const gs_dataset *ds, int64_t index, const char *name) {
    char path[1024], key[128];
    fixture *fx = fixture_load(test_fixture_path("sentinel2_pixels.gsfx", path, sizeof path));
    cr_assert_not_null(fx, "regenerate with tools/reference/sentinel2_pixels.py");
    /* "seco/000000" -> "seco/positions" */
    snprintf(key, sizeof key, "%.*s/positions", (int)strcspn(name, "/"), name);
    const fixture_tensor *pos = fixture_get(fx, key);
    const fixture_tensor *values = fixture_get(fx, name);
    cr_assert_not_null(pos, "%s", name);
    cr_assert_not_null(values, "%s", name);
    float *pixels = malloc(sizeof(float) * (size_t)gs_dataset_sample_floats(ds));
    gs_sample_data data = {.pixels = pixels};
    gs_error err = {0};
    cr_assert_eq(ds->format->read(ds, index, &data, &err), GS_OK, "%s", err.message);
    for (int64_t k = 0; k < values->numel; k++) {
        int64_t d = (int64_t)pos->data[k * 4], b = (int64_t)pos->data[k * 4 + 1];
        int64_t y = (int64_t)pos->data[k * 4 + 2], x = (int64_t)pos->data[k * 4 + 3];
        float got = pixels[((d * ds->bands + b) * ds->height + y) * ds->width + x];
        cr_expect_float_eq(got, values->data[k], 0.01f, "%s date %lld band %lld (%lld, %lld): %g, reference %g", name,
                           (long long)d, (long long)b, (long long)y, (long long)x, got, values->data[k]);
    }
    free(pixels);
    fixture_free(fx);
}

static const char *SECO_BANDS[12] = {"B01", "B02", "B03", "B04", "B05", "B06",
                                     "B07", "B08", "B8A", "B09", "B11", "B12"};

Test(datasets_seasonal, seco_fixture_five_dates_twelve_bands) {
    char root[1024];
    REQUIRE_SHARED("format-fixtures/seco/seasonal_contrast_100k", root);
    gs_dataset ds;
    open_ok("seco", root, 0, &ds);
    cr_expect_eq(ds.n_samples, 2);
    cr_expect_eq(ds.task, GS_TASK_UNLABELED);
    cr_expect_eq(ds.dates, 5);
    cr_expect_eq(ds.bands, 12);
    cr_expect_eq(ds.height, 264);
    cr_expect_eq(ds.width, 264);
    cr_expect_eq(gs_dataset_sample_floats(&ds), 5 * 12 * 264 * 264);
    for (int b = 0; b < 12; b++) cr_expect_str_eq(ds.band_info[b].name, SECO_BANDS[b]);
    cr_expect_str_eq(ds.samples[0].stem, "000000");
    cr_expect_str_eq(ds.samples[1].stem, "000001");
    cr_expect_eq(ds.samples[0].group, 0);
    cr_expect_eq(ds.samples[1].group, 1);
    cr_expect_eq(ds.n_warnings, 0, "the stray .tif files beside the date folders are not dates");
    /* The reference sorted the date folders by name, read B1 (44 px), B5
     * (132 px) and B2 (264 px) with PIL and upsampled them with numpy. */
    expect_reference_pixels(&ds, 0, "seco/000000");
    gs_dataset_close(&ds);

    REQUIRE_SHARED("format-fixtures/seco/seasonal_contrast_1m", root);
    open_ok("seco", root, 0, &ds);
    cr_expect_eq(ds.n_samples, 2);
    cr_expect_eq(ds.dates, 5);
    gs_dataset_close(&ds);
}

Test(datasets_seasonal, ssl4eo_fixture_extra_level_and_l2a) {
    char root[1024];
    REQUIRE_SHARED("format-fixtures/ssl4eo/s12", root);
    gs_dataset ds;
    open_ok("ssl4eo-s12", root, 0, &ds); /* s12/ holds s1/, s2a/, s2c/: s2c is taken */
    cr_expect_eq(ds.n_samples, 2);
    cr_expect_eq(ds.dates, 4);
    cr_expect_eq(ds.bands, 13);
    cr_expect_str_eq(ds.band_info[10].name, "B10");
    cr_expect_eq(ds.height, 36);
    cr_expect(strstr(ds.samples[0].path, "/s2c/0000000") != NULL, "%s", ds.samples[0].path);
    float *pixels = malloc(sizeof(float) * (size_t)gs_dataset_sample_floats(&ds));
    gs_sample_data data = {.pixels = pixels};
    gs_error err = {0};
    cr_assert_eq(ds.format->read(&ds, 1, &data, &err), GS_OK, "%s", err.message);
    /* Date 0 of location 0000001 is 20201104T135121...; its B2 is band 1. */
    char path[1400];
    snprintf(path, sizeof path, "%s/20201104T135121_20201104T135117_T21KXT/B2.tif", ds.samples[1].path);
    gs_raster r;
    cr_assert_eq(gs_tiff_read(path, &r, &err), GS_OK, "%s", err.message);
    cr_expect_eq(memcmp(pixels + 36 * 36, r.data, sizeof(float) * 36 * 36), 0, "B2 of the earliest date");
    gs_raster_free(&r);
    snprintf(path, sizeof path, "%s/20210811T135121_20210811T135115_T21KXT/B4.tif", ds.samples[1].path);
    cr_assert_eq(gs_tiff_read(path, &r, &err), GS_OK, "%s", err.message);
    cr_expect_eq(memcmp(pixels + (3 * 13 + 3) * 36 * 36, r.data, sizeof(float) * 36 * 36), 0,
                 "B4 of the latest date");
    gs_raster_free(&r);
    free(pixels);
    gs_dataset_close(&ds);

    REQUIRE_SHARED("format-fixtures/ssl4eo/s12/s2c", root);
    open_ok("ssl4eo-s12", root, 0, &ds);
    cr_expect_eq(ds.n_samples, 2);
    cr_expect_eq(ds.bands, 13);
    gs_dataset_close(&ds);

    REQUIRE_SHARED("format-fixtures/ssl4eo/s12/s2a", root);
    open_ok("ssl4eo-s12", root, 2, &ds);
    cr_expect_eq(ds.bands, 12, "Level-2A has no B10");
    cr_expect_eq(ds.dates, 2);
    cr_expect_str_eq(ds.band_info[10].name, "B11");
    gs_dataset_close(&ds);
}

Test(datasets_seasonal, ssl4eo_real_sample) {
    char root[1024];
    REQUIRE_SHARED("ssl4eo-s12-example", root);
    gs_dataset ds;
    open_ok("ssl4eo-s12", root, 0, &ds);
    cr_expect_eq(ds.n_samples, 2);
    cr_expect_eq(ds.dates, 1);
    cr_expect_eq(ds.bands, 13);
    cr_expect_eq(ds.height, 264);
    cr_expect_eq(ds.width, 264);
    cr_expect_str_eq(ds.samples[1].stem, "000001");
    cr_expect_float_eq(ds.band_info[10].wavelength_nm, 1373.5f, 1e-3);
    expect_reference_pixels(&ds, 0, "ssl4eo/000000");
    expect_reference_pixels(&ds, 1, "ssl4eo/000001");
    gs_dataset_close(&ds);
}

/* ---- generated locations ------------------------------------------------- */

static const char *FILES[12] = {"B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B11", "B12"};
static const int SIZES[12] = {2, 12, 12, 12, 6, 6, 6, 12, 6, 2, 6, 6};

/* A date folder whose every band holds `value`. */
static void make_date(const char *root, const char *location, const char *date, float value) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, location);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", root, location, date);
    mkdir(path, 0755);
    for (int b = 0; b < 12; b++) {
        gs_raster r;
        gs_error err = {0};
        cr_assert_eq(gs_raster_alloc(&r, 1, SIZES[b], SIZES[b], &err), GS_OK);
        for (int64_t i = 0; i < r.height * r.width; i++) r.data[i] = value;
        snprintf(path, sizeof path, "%s/%s/%s/%s.tif", root, location, date, FILES[b]);
        cr_assert_eq(gs_tiff_write(path, &r, GS_PIXEL_U8, 0, &err), GS_OK, "%s", err.message);
        gs_raster_free(&r);
    }
}

Test(datasets_seasonal, dates_in_acquisition_order_whatever_the_creation_order) {
    char dir[256];
    test_temp_dir(dir, sizeof dir);
    /* Created out of order; the value is the month. */
    make_date(dir, "loc", "20201104T100000_20201104T100500_T31UDQ", 11);
    make_date(dir, "loc", "20200215T100000_20200215T100500_T31UDQ", 2);
    make_date(dir, "loc", "20200807T100000_20200807T100500_T31UDQ", 8);
    make_date(dir, "loc", "20200503T100000_20200503T100500_T31UDQ", 5);
    gs_dataset ds;
    open_ok("seco", dir, 0, &ds);
    cr_assert_eq(ds.dates, 4);
    cr_assert_eq(ds.bands, 12);
    float *pixels = malloc(sizeof(float) * (size_t)gs_dataset_sample_floats(&ds));
    gs_sample_data data = {.pixels = pixels};
    gs_error err = {0};
    cr_assert_eq(ds.format->read(&ds, 0, &data, &err), GS_OK, "%s", err.message);
    const float months[4] = {2, 5, 8, 11};
    for (int d = 0; d < 4; d++)
        for (int b = 0; b < 12; b++) {
            float v = pixels[((int64_t)d * 12 + b) * 144 + 77];
            cr_expect_float_eq(v, months[d], 1e-6, "date %d band %d: %g", d, b, v);
        }
    gs_dataset_close(&ds);

    open_ok("seco", dir, 2, &ds);
    cr_expect_eq(ds.dates, 2, "options.dates = 2 takes the two earliest");
    cr_expect_eq(gs_dataset_sample_floats(&ds), 2 * 12 * 144);
    cr_assert_eq(ds.format->read(&ds, 0, &data, &err), GS_OK, "%s", err.message);
    cr_expect_float_eq(pixels[0], 2.0f, 1e-6);
    cr_expect_float_eq(pixels[12 * 144], 5.0f, 1e-6);
    gs_dataset_close(&ds);
    free(pixels);
    test_remove_tree(dir);
}

static void expect_open_error(const char *format, const char *root, int dates, const char *needle) {
    char spec[600];
    snprintf(spec, sizeof spec, "%s:%s", format, root);
    gs_dataset_options options = {0};
    options.dates = dates;
    gs_dataset ds;
    gs_error err = {0};
    cr_expect_neq(gs_dataset_open(spec, &options, &ds, &err), GS_OK, "opened a bad dataset");
    cr_expect(strstr(err.message, needle) != NULL, "'%s' not in: %s", needle, err.message);
}

Test(datasets_seasonal, locations_must_agree_on_dates) {
    char dir[256], loc[400];
    test_temp_dir(dir, sizeof dir);
    make_date(dir, "a", "20200101T000000_x_T1", 1);
    make_date(dir, "a", "20200401T000000_x_T1", 4);
    make_date(dir, "b", "20200101T000000_x_T1", 1);
    snprintf(loc, sizeof loc, "%s/b", dir);
    expect_open_error("seco", dir, 0, loc);
    expect_open_error("seco", dir, 2, loc);
    gs_dataset ds;
    open_ok("seco", dir, 1, &ds);
    cr_expect_eq(ds.n_samples, 2);
    cr_expect_eq(ds.dates, 1);
    gs_dataset_close(&ds);
    /* A folder that is not a date warns and is skipped. */
    snprintf(loc, sizeof loc, "%s/b/thumbnails", dir);
    mkdir(loc, 0755);
    open_ok("seco", dir, 1, &ds);
    cr_expect_eq(ds.n_warnings, 1);
    gs_dataset_close(&ds);
    /* A location without any date folder is an error naming it. */
    snprintf(loc, sizeof loc, "%s/c", dir);
    mkdir(loc, 0755);
    expect_open_error("seco", dir, 1, loc);
    test_remove_tree(dir);
}

Test(datasets_seasonal, missing_band_and_non_integer_ratio_name_the_file) {
    char dir[256], path[600];
    test_temp_dir(dir, sizeof dir);
    make_date(dir, "loc", "20200101T000000_x_T1", 1);
    make_date(dir, "loc", "20200401T000000_x_T1", 4);
    gs_dataset ds;
    open_ok("seco", dir, 0, &ds);
    float *pixels = malloc(sizeof(float) * (size_t)gs_dataset_sample_floats(&ds));
    gs_sample_data data = {.pixels = pixels};

    snprintf(path, sizeof path, "%s/loc/20200401T000000_x_T1/B8A.tif", dir);
    remove(path);
    gs_error err = {0};
    cr_expect_neq(ds.format->read(&ds, 0, &data, &err), GS_OK);
    cr_expect(strstr(err.message, path) != NULL, "%s", err.message);

    gs_raster r;
    cr_assert_eq(gs_raster_alloc(&r, 1, 5, 5, &err), GS_OK);
    cr_assert_eq(gs_tiff_write(path, &r, GS_PIXEL_U8, 0, &err), GS_OK);
    gs_raster_free(&r);
    gs_error ratio = {0};
    cr_expect_neq(ds.format->read(&ds, 0, &data, &ratio), GS_OK);
    cr_expect(strstr(ratio.message, path) && strstr(ratio.message, "5 x 5") && strstr(ratio.message, "12 x 12"), "%s",
              ratio.message);

    /* ssl4eo-s12 wants B10 once the first date has it. */
    snprintf(path, sizeof path, "%s/loc/20200101T000000_x_T1/B10.tif", dir);
    cr_assert_eq(gs_raster_alloc(&r, 1, 2, 2, &err), GS_OK);
    cr_assert_eq(gs_tiff_write(path, &r, GS_PIXEL_U16, 0, &err), GS_OK);
    gs_raster_free(&r);
    gs_dataset ssl;
    open_ok("ssl4eo-s12", dir, 0, &ssl);
    cr_expect_eq(ssl.bands, 13);
    gs_dataset_close(&ssl);
    free(pixels);
    gs_dataset_close(&ds);
    test_remove_tree(dir);
}
