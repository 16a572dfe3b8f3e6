/* GeoTIFF and JPEG reading on the real samples (skipped visibly without
 * ../shared/data), round trips of what the synthetic generator writes, and
 * errors for missing and corrupt files. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_io.h"
#include "test_paths.h"

static void expect_raster(const char *rel, int bands, int64_t h, int64_t w, gs_pixel_type type) {
    char path[1024];
    REQUIRE_SHARED(rel, path);
    gs_raster r;
    gs_error err = {0};
    bool jpeg = strstr(rel, ".jpg") != NULL;
    gs_status st = jpeg ? gs_jpeg_read(path, &r, &err) : gs_tiff_read(path, &r, &err);
    cr_assert_eq(st, GS_OK, "%s", err.message);
    cr_expect_eq(r.bands, bands);
    cr_expect_eq(r.height, h);
    cr_expect_eq(r.width, w);
    cr_expect_eq(r.type, type);
    double sum = 0, max = 0;
    for (int64_t i = 0; i < r.bands * r.height * r.width; i++) {
        sum += r.data[i];
        if (r.data[i] > max) max = r.data[i];
    }
    cr_expect_gt(sum, 0.0, "%s decoded to zeros", path);
    if (type == GS_PIXEL_U8) cr_expect_leq(max, 255.0);
    gs_raster_free(&r);
}

Test(datasets_image_io, eurosat_jpeg) { expect_raster("eurosat-rgb/Forest/Forest_1.jpg", 3, 64, 64, GS_PIXEL_U8); }
Test(datasets_image_io, bigearthnet_60m_band) {
    expect_raster("bigearthnet-s2-example/S2A_MSIL2A_20170613T101031_87_48/S2A_MSIL2A_20170613T101031_87_48_B01.tif", 1,
                  20, 20, GS_PIXEL_U16);
}
Test(datasets_image_io, ssl4eo_lzw_band) {
    expect_raster("ssl4eo-s12-example/000000/20180710T125311_20180710T125627_T24KVE/B2.tif", 1, 264, 264,
                  GS_PIXEL_U16);
}
Test(datasets_image_io, potsdam_rgbir_four_bands) {
    expect_raster("potsdam-crops/train_RGBIR/top_potsdam_2_10_RGBIR__36.tif", 4, 256, 256, GS_PIXEL_U8);
}
Test(datasets_image_io, eurosat_ms_13_bands) {
    expect_raster("format-fixtures/eurosat-ms/ds/images/remote_sensing/otherDatasets/sentinel_2/tif/Forest/Forest_1.tif",
                  13, 64, 64, GS_PIXEL_U16);
}

Test(datasets_image_io, tiff_round_trip_u16_lzw_and_u8_rgbir) {
    char dir[256], path[300];
    test_temp_dir(dir, sizeof dir);
    gs_error err = {0};
    gs_raster r;
    cr_assert_eq(gs_raster_alloc(&r, 13, 5, 7, &err), GS_OK);
    for (int64_t i = 0; i < 13 * 5 * 7; i++) r.data[i] = (float)(i * 37 % 4000);
    snprintf(path, sizeof path, "%s/ms.tif", dir);
    cr_assert_eq(gs_tiff_write(path, &r, GS_PIXEL_U16, 1, &err), GS_OK, "%s", err.message);
    gs_raster back;
    cr_assert_eq(gs_tiff_read(path, &back, &err), GS_OK, "%s", err.message);
    cr_expect_eq(back.bands, 13);
    cr_expect_eq(memcmp(back.data, r.data, sizeof(float) * 13 * 5 * 7), 0, "u16 values must survive exactly");
    gs_raster_free(&back);
    remove(path);
    gs_raster_free(&r);
    cr_assert_eq(gs_raster_alloc(&r, 4, 3, 3, &err), GS_OK);
    for (int i = 0; i < 36; i++) r.data[i] = (float)(i * 7);
    snprintf(path, sizeof path, "%s/rgbir.tif", dir);
    cr_assert_eq(gs_tiff_write(path, &r, GS_PIXEL_U8, 0, &err), GS_OK, "%s", err.message);
    cr_assert_eq(gs_tiff_read(path, &back, &err), GS_OK, "%s", err.message);
    cr_expect_eq(back.bands, 4, "the alpha-tagged 4th band is read as a band");
    cr_expect_eq(memcmp(back.data, r.data, sizeof(float) * 36), 0);
    gs_raster_free(&back);
    gs_raster_free(&r);
    remove(path);
    remove(dir);
}

Test(datasets_image_io, jpeg_round_trip_is_close) {
    char dir[256], path[300];
    test_temp_dir(dir, sizeof dir);
    gs_error err = {0};
    gs_raster r, back;
    cr_assert_eq(gs_raster_alloc(&r, 3, 16, 16, &err), GS_OK);
    for (int64_t i = 0; i < 3 * 256; i++) r.data[i] = (float)(100 + (i % 16) * 4);
    snprintf(path, sizeof path, "%s/a.jpg", dir);
    cr_assert_eq(gs_jpeg_write(path, &r, 95, &err), GS_OK, "%s", err.message);
    cr_assert_eq(gs_jpeg_read(path, &back, &err), GS_OK, "%s", err.message);
    double worst = 0;
    for (int64_t i = 0; i < 3 * 256; i++) {
        double d = back.data[i] - r.data[i];
        if (d < 0) d = -d;
        if (d > worst) worst = d;
    }
    cr_expect_leq(worst, 8.0, "JPEG at quality 95 changed a pixel by %g", worst);
    gs_raster_free(&r);
    gs_raster_free(&back);
    remove(path);
    remove(dir);
}

Test(datasets_image_io, missing_and_corrupt_files_are_named) {
    char dir[256], path[300];
    test_temp_dir(dir, sizeof dir);
    gs_raster r;
    gs_error err = {0};
    snprintf(path, sizeof path, "%s/none.tif", dir);
    cr_expect_eq(gs_tiff_read(path, &r, &err), GS_ERR_IO);
    cr_expect(strstr(err.message, path) != NULL, "%s", err.message);
    snprintf(path, sizeof path, "%s/bad.tif", dir);
    FILE *f = fopen(path, "wb");
    fputs("II*\0garbage that is not a tiff", f);
    fclose(f);
    memset(&err, 0, sizeof err);
    cr_expect_eq(gs_tiff_read(path, &r, &err), GS_ERR_FORMAT);
    cr_expect(strstr(err.message, path) != NULL, "%s", err.message);
    remove(path);
    snprintf(path, sizeof path, "%s/bad.jpg", dir);
    f = fopen(path, "wb");
    fputs("\xff\xd8\xff not really", f);
    fclose(f);
    memset(&err, 0, sizeof err);
    cr_expect_eq(gs_jpeg_read(path, &r, &err), GS_ERR_FORMAT);
    remove(path);
    remove(dir);
}

/* libjpeg returns success on a truncated file with a warning: still bad. */
Test(datasets_image_io, truncated_jpeg_is_bad) {
    char dir[256], path[300];
    test_temp_dir(dir, sizeof dir);
    gs_error err = {0};
    gs_raster r;
    cr_assert_eq(gs_raster_alloc(&r, 3, 64, 64, &err), GS_OK);
    for (int64_t i = 0; i < 3 * 64 * 64; i++) r.data[i] = (float)((i * 31) % 255);
    snprintf(path, sizeof path, "%s/t.jpg", dir);
    cr_assert_eq(gs_jpeg_write(path, &r, 90, &err), GS_OK, "%s", err.message);
    gs_raster_free(&r);
    struct stat st;
    stat(path, &st);
    cr_assert_eq(truncate(path, st.st_size / 2), 0);
    cr_expect_eq(gs_jpeg_read(path, &r, &err), GS_ERR_FORMAT, "a truncated JPEG was accepted");
    cr_expect(strstr(err.message, "truncated") != NULL, "%s", err.message);
    remove(path);
    remove(dir);
}
