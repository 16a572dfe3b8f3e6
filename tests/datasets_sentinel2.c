/* Sentinel-2 band metadata and the integer-ratio bilinear upsampling that the
 * BigEarthNet, SeCo and SSL4EO-S12 formats share: hand-computed values for a
 * 60 x 60 and a 20 x 20 band brought to 120 x 120, and the errors for sizes
 * that are no integer ratio, missing and multi-band files. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_io.h"
#include "sentinel2.h"
#include "test_paths.h"

Test(datasets_sentinel2, band_names_in_both_spellings) {
    gs_band_info b;
    cr_assert(gs_s2_band_info("B2", &b));
    cr_expect_str_eq(b.name, "B02");
    cr_expect_float_eq(b.wavelength_nm, 492.4f, 1e-3);
    cr_expect_float_eq(b.resolution_m, 10.0f, 1e-6);
    cr_assert(gs_s2_band_info("B02", &b));
    cr_expect_str_eq(b.name, "B02");
    cr_assert(gs_s2_band_info("B8a", &b));
    cr_expect_str_eq(b.name, "B8A");
    cr_expect_float_eq(b.wavelength_nm, 864.7f, 1e-3);
    cr_expect_float_eq(b.resolution_m, 20.0f, 1e-6);
    cr_assert(gs_s2_band_info("B8", &b));
    cr_expect_str_eq(b.name, "B08");
    cr_expect_float_eq(b.wavelength_nm, 832.8f, 1e-3);
    cr_assert(gs_s2_band_info("B10", &b));
    cr_expect_float_eq(b.resolution_m, 60.0f, 1e-6);
    cr_assert(gs_s2_band_info("B1", &b));
    cr_expect_float_eq(b.resolution_m, 60.0f, 1e-6);
    cr_assert(gs_s2_band_info("B12", &b));
    cr_expect_float_eq(b.wavelength_nm, 2202.4f, 1e-3);
    cr_expect_float_eq(b.resolution_m, 20.0f, 1e-6);
    cr_expect_not(gs_s2_band_info("B13", &b));
    cr_expect_not(gs_s2_band_info("B8B", &b));
    cr_expect_not(gs_s2_band_info("red", &b));
    cr_expect_not(gs_s2_band_info("B", &b));
}

/* 60 x 60 -> 120 x 120 (k = 2): an affine field 100 y + x is reproduced
 * exactly at source coordinate ((i + 0.5) / 2 - 0.5), clamped to [0, 59]. */
Test(datasets_sentinel2, upsample_60_to_120_bilinear) {
    static float src[60 * 60], dst[120 * 120];
    for (int y = 0; y < 60; y++)
        for (int x = 0; x < 60; x++) src[y * 60 + x] = (float)(100 * y + x);
    gs_error err = {0};
    cr_assert_eq(gs_s2_upsample(src, 60, 60, dst, 120, 120, "b.tif", "ref.tif", &err), GS_OK, "%s", err.message);
    /* (y, x) -> expected, worked out by hand. */
    struct { int y, x; float v; } cases[] = {
        {0, 0, 0.0f},         /* both clamped to source (0, 0) */
        {1, 1, 25.25f},       /* source (0.25, 0.25) */
        {2, 3, 76.25f},       /* source (0.75, 1.25) */
        {1, 0, 25.0f},        /* source (0.25, 0) */
        {0, 118, 58.75f},     /* source (0, 58.75) */
        {119, 119, 5959.0f},  /* source (59.25 -> 59, 59.25 -> 59) */
        {118, 0, 5875.0f},    /* source (58.75, 0) */
        {60, 61, 3005.25f},   /* source (29.75, 30.25): 2975 + 30.25 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        cr_expect_float_eq(dst[cases[i].y * 120 + cases[i].x], cases[i].v, 1e-3, "dst(%d, %d) = %g, expected %g",
                           cases[i].y, cases[i].x, dst[cases[i].y * 120 + cases[i].x], cases[i].v);
}

/* 20 x 20 -> 120 x 120 (k = 6): one bright source pixel (3, 4) = 600.  Output
 * (i, j) samples the source at s = (i + 0.5) / 6 - 0.5 and weighs pixel p by
 * max(0, 1 - |s - p|); nearest-neighbour would give 600 or 0 instead. */
Test(datasets_sentinel2, upsample_20_to_120_bilinear) {
    static float src[20 * 20], dst[120 * 120];
    memset(src, 0, sizeof src);
    src[3 * 20 + 4] = 600.0f;
    gs_error err = {0};
    cr_assert_eq(gs_s2_upsample(src, 20, 20, dst, 120, 120, "b.tif", "ref.tif", &err), GS_OK, "%s", err.message);
    struct { int y, x; double v; } cases[] = {
        {21, 27, 600.0 * 11 / 12 * 11 / 12}, /* s = (3.0833, 4.0833): weights 11/12, 11/12 */
        {18, 24, 600.0 * 7 / 12 * 7 / 12},   /* s = (2.5833, 3.5833): 7/12, 7/12 */
        {17, 27, 600.0 * 5 / 12 * 11 / 12},  /* s = (2.4167, 4.0833): 5/12, 11/12 */
        {15, 27, 600.0 * 1 / 12 * 11 / 12},  /* s = (2.0833, ...): 1/12 */
        {14, 27, 0.0},                       /* s = 1.9167: pixel 3 out of reach */
        {20, 26, 600.0 * 11 / 12 * 11 / 12}, /* s = (2.9167, 3.9167): 11/12, 11/12 from the other side */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        cr_expect_float_eq(dst[cases[i].y * 120 + cases[i].x], (float)cases[i].v, 1e-3,
                           "dst(%d, %d) = %g, expected %g", cases[i].y, cases[i].x, dst[cases[i].y * 120 + cases[i].x],
                           cases[i].v);
    /* The first three output pixels of an edge clamp to source pixel 0. */
    for (int i = 0; i < 20 * 20; i++) src[i] = (float)(i % 20); /* x ramp */
    cr_assert_eq(gs_s2_upsample(src, 20, 20, dst, 120, 120, "b.tif", "ref.tif", &err), GS_OK);
    cr_expect_float_eq(dst[0], 0.0f, 1e-6);
    cr_expect_float_eq(dst[2], 0.0f, 1e-6);
    cr_expect_float_eq(dst[3], 1.0f / 12, 1e-5);         /* s = 0.0833 */
    cr_expect_float_eq(dst[116], 19.0f - 1.0f / 12, 1e-4); /* s = 18.9167 */
    cr_expect_float_eq(dst[117], 19.0f, 1e-6);             /* s = 19.0833, clamped to 19 */
    cr_expect_float_eq(dst[119], 19.0f, 1e-6);
}

Test(datasets_sentinel2, ratio_one_copies) {
    float src[6] = {1, 2, 3, 4, 5, 6}, dst[6];
    gs_error err = {0};
    cr_assert_eq(gs_s2_upsample(src, 2, 3, dst, 2, 3, "b.tif", "ref.tif", &err), GS_OK);
    cr_expect_eq(memcmp(src, dst, sizeof src), 0);
}

Test(datasets_sentinel2, non_integer_ratio_names_both_files_and_sizes) {
    static float src[50 * 50], dst[120 * 120];
    gs_error err = {0};
    cr_expect_eq(gs_s2_upsample(src, 50, 50, dst, 120, 120, "/x/p_B05.tif", "/x/p_B02.tif", &err), GS_ERR_FORMAT);
    cr_expect(strstr(err.message, "/x/p_B05.tif") && strstr(err.message, "/x/p_B02.tif"), "%s", err.message);
    cr_expect(strstr(err.message, "50 x 50") && strstr(err.message, "120 x 120"), "%s", err.message);
    gs_error err2 = {0};
    cr_expect_eq(gs_s2_upsample(src, 60, 40, dst, 120, 120, "a.tif", "r.tif", &err2), GS_ERR_FORMAT,
                 "different ratios on the two axes");
    gs_error err3 = {0};
    cr_expect_eq(gs_s2_upsample(dst, 120, 120, src, 60, 60, "a.tif", "r.tif", &err3), GS_ERR_FORMAT,
                 "a band finer than the reference");
}

static void write_band(const char *path, int64_t size, float base) {
    gs_raster r;
    gs_error err = {0};
    cr_assert_eq(gs_raster_alloc(&r, 1, size, size, &err), GS_OK);
    for (int64_t i = 0; i < size * size; i++) r.data[i] = base + (float)i;
    cr_assert_eq(gs_tiff_write(path, &r, GS_PIXEL_U16, 1, &err), GS_OK, "%s", err.message);
    gs_raster_free(&r);
}

Test(datasets_sentinel2, read_bands_from_files) {
    char dir[256], a[300], b[300], c[300];
    test_temp_dir(dir, sizeof dir);
    snprintf(a, sizeof a, "%s/B01.tif", dir);
    snprintf(b, sizeof b, "%s/B02.tif", dir);
    snprintf(c, sizeof c, "%s/B05.tif", dir);
    write_band(a, 2, 1000); /* 60 m: 2 x 2 */
    write_band(b, 12, 0);   /* 10 m: 12 x 12 */
    write_band(c, 6, 500);  /* 20 m: 6 x 6 */
    const char *paths[3] = {a, b, c};
    float out[3 * 144];
    gs_error err = {0};
    cr_assert_eq(gs_s2_read_bands(paths, 3, 1, 12, 12, out, &err), GS_OK, "%s", err.message);
    cr_expect_float_eq(out[144 + 5 * 12 + 7], 67.0f, 1e-6, "the reference is copied");
    cr_expect_float_eq(out[0], 1000.0f, 1e-6);
    /* B01 (k = 6) at (11, 11): clamped to source (1, 1) = 1003. */
    cr_expect_float_eq(out[143], 1003.0f, 1e-4);
    /* B01 at (6, 6): s = 6.5 / 6 - 0.5 = 0.5833 on both axes:
     * 1000 + 0.5833 * 2 (row step) + 0.5833 * 1 (column step) = 1001.75. */
    cr_expect_float_eq(out[6 * 12 + 6], 1001.75f, 1e-3);
    /* B05 (k = 2) at (1, 2): s = (0.25, 0.75): 500 + 0.25 * 6 + 0.75 = 502.25. */
    cr_expect_float_eq(out[2 * 144 + 1 * 12 + 2], 502.25f, 1e-3);

    gs_error wrong = {0};
    cr_expect_eq(gs_s2_read_bands(paths, 3, 1, 24, 24, out, &wrong), GS_ERR_FORMAT, "the reference has another size");
    cr_expect(strstr(wrong.message, b) != NULL, "%s", wrong.message);

    remove(c);
    gs_error missing = {0};
    cr_expect_eq(gs_s2_read_bands(paths, 3, 1, 12, 12, out, &missing), GS_ERR_IO);
    cr_expect(strstr(missing.message, c) != NULL, "the missing band is named: %s", missing.message);

    /* A three-band file where one band belongs. */
    gs_raster r;
    cr_assert_eq(gs_raster_alloc(&r, 3, 6, 6, &err), GS_OK);
    cr_assert_eq(gs_tiff_write(c, &r, GS_PIXEL_U16, 0, &err), GS_OK);
    gs_raster_free(&r);
    gs_error multi = {0};
    cr_expect_eq(gs_s2_read_bands(paths, 3, 1, 12, 12, out, &multi), GS_ERR_FORMAT);
    cr_expect(strstr(multi.message, c) && strstr(multi.message, "3 bands"), "%s", multi.message);
    remove(a);
    remove(b);
    remove(c);
    remove(dir);
}

Test(datasets_sentinel2, subfolders_sorted_files_left_out) {
    char dir[256], path[300];
    test_temp_dir(dir, sizeof dir);
    const char *names[] = {"b", "a10", "a2", "C"};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        cr_assert_eq(mkdir(path, 0755), 0);
    }
    snprintf(path, sizeof path, "%s/file.tif", dir);
    FILE *f = fopen(path, "w");
    fclose(f);
    char **list;
    int64_t n;
    gs_error err = {0};
    cr_assert_eq(gs_list_subfolders(dir, &list, &n, &err), GS_OK, "%s", err.message);
    cr_assert_eq(n, 4);
    cr_expect_str_eq(list[0], "C");
    cr_expect_str_eq(list[1], "a10");
    cr_expect_str_eq(list[2], "a2");
    cr_expect_str_eq(list[3], "b");
    cr_expect_null(list[4]);
    gs_free_names(list);
    remove(path);
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        rmdir(path);
    }
    rmdir(dir);
    gs_error gone = {0};
    cr_expect_eq(gs_list_subfolders(dir, &list, &n, &gone), GS_ERR_IO);
    cr_expect(strstr(gone.message, dir) != NULL, "%s", gone.message);
}
