/* ISPRS Potsdam: the real crops in ../shared/data (pixel counts per class and
 * pixel values from tools/reference/potsdam_reference.py, a reader that does
 * not use libtiff), the tiles fixture (patches, official splits, masks), and
 * generated tiles: exact pixels and masks at known positions, eroded labels,
 * and the errors for mismatched, missing and truncated files. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset.h"
#include "image_io.h"
#include "test_paths.h"

enum { IMPERVIOUS, BUILDING, LOW_VEGETATION, TREE, CAR, CLUTTER, N_CLASSES };
static const unsigned char PALETTE[N_CLASSES][3] = {{255, 255, 255}, {0, 0, 255},   {0, 255, 255},
                                                    {0, 255, 0},     {255, 255, 0}, {255, 0, 0}};
#define UNKNOWN_COLOUR 6 /* class pattern value written as a colour outside the palette */
#define BLACK 7          /* class pattern value written as 0,0,0 (eroded boundary) */

static gs_status open_potsdam(const char *root, int patch, int stride, bool eroded, gs_dataset *ds, gs_error *err) {
    char spec[1100];
    snprintf(spec, sizeof spec, "potsdam:%s", root);
    gs_dataset_options options = {.patch_size = patch, .stride = stride, .eroded_labels = eroded};
    memset(err, 0, sizeof *err);
    return gs_dataset_open(spec, &options, ds, err);
}

/* Reads sample i into freshly allocated buffers (caller frees). */
static void read_sample(const gs_dataset *ds, int64_t i, float **pixels, int32_t **mask) {
    *pixels = malloc((size_t)gs_dataset_sample_floats(ds) * sizeof **pixels);
    *mask = malloc((size_t)(ds->height * ds->width) * sizeof **mask);
    gs_sample_data data = {*pixels, *mask};
    gs_error err = {0};
    cr_assert_eq(ds->format->read(ds, i, &data, &err), GS_OK, "%s", err.message);
}

/* ---- the real crops ------------------------------------------------------ */

static void expect_counts(const int32_t *mask, const int64_t expected[N_CLASSES], const char *which) {
    int64_t counts[N_CLASSES] = {0}, ignored = 0, total = 0;
    for (int64_t i = 0; i < 256 * 256; i++) {
        if (mask[i] >= 0 && mask[i] < N_CLASSES) counts[mask[i]]++;
        else ignored++;
    }
    for (int c = 0; c < N_CLASSES; c++) {
        cr_expect_eq(counts[c], expected[c], "%s crop, class %d: %lld pixels, expected %lld", which, c,
                     (long long)counts[c], (long long)expected[c]);
        total += counts[c];
    }
    cr_expect_eq(ignored, 0, "%s crop: %lld pixels not in the palette", which, (long long)ignored);
    cr_expect_eq(total, 65536);
}

static void expect_pixel(const gs_dataset *ds, const float *pixels, int x, int y, const float rgbir[4]) {
    for (int b = 0; b < 4; b++)
        cr_expect_eq(pixels[((int64_t)b * ds->height + y) * ds->width + x], rgbir[b], "band %d at (%d, %d): %g, expected %g",
                     b, x, y, pixels[((int64_t)b * ds->height + y) * ds->width + x], rgbir[b]);
}

Test(datasets_potsdam, real_crops_class_counts_and_pixels) {
    char root[1024];
    REQUIRE_SHARED("potsdam-crops", root);
    gs_dataset ds;
    gs_error err;
    cr_assert_eq(open_potsdam(root, 0, 0, false, &ds, &err), GS_OK, "%s", err.message);
    cr_expect_eq(ds.task, GS_TASK_SEGMENTATION);
    cr_assert_eq(ds.n_samples, 2);
    cr_expect_eq(ds.bands, 4, "all four RGBIR bands, the alpha-tagged IR included");
    cr_expect_eq(ds.height, 256);
    cr_expect_eq(ds.width, 256);
    cr_expect_eq(ds.n_warnings, 0);
    static const char *const names[] = {"impervious_surfaces", "building", "low_vegetation", "tree", "car", "clutter"};
    cr_assert_eq(ds.n_classes, N_CLASSES);
    for (int c = 0; c < N_CLASSES; c++) cr_expect_str_eq(ds.class_names[c], names[c]);
    static const char *const bands[] = {"R", "G", "B", "IR"};
    for (int b = 0; b < 4; b++) cr_expect_str_eq(ds.band_info[b].name, bands[b]);
    cr_expect_gt(ds.band_info[3].wavelength_nm, 700.0f, "the 4th band is near infrared");
    cr_expect_lt(ds.band_info[2].wavelength_nm, ds.band_info[1].wavelength_nm);
    cr_expect_lt(ds.band_info[1].wavelength_nm, ds.band_info[0].wavelength_nm);
    cr_expect_float_eq(ds.band_info[0].resolution_m, 0.05f, 1e-6);

    cr_expect_eq(ds.samples[0].split, GS_SPLIT_TRAIN);
    cr_expect_str_eq(ds.samples[0].stem, "top_potsdam_2_10_RGBIR__36");
    cr_expect_eq(ds.samples[1].split, GS_SPLIT_VAL);
    cr_expect_str_eq(ds.samples[1].stem, "top_potsdam_2_13_RGBIR__26");
    float *pixels;
    int32_t *mask;

    read_sample(&ds, 0, &pixels, &mask);
    static const int64_t train_counts[N_CLASSES] = {26613, 0, 34083, 4840, 0, 0};
    expect_counts(mask, train_counts, "train");
    expect_pixel(&ds, pixels, 0, 0, (const float[]){106, 119, 116, 103});
    expect_pixel(&ds, pixels, 100, 50, (const float[]){63, 79, 78, 55});
    expect_pixel(&ds, pixels, 255, 255, (const float[]){75, 85, 75, 107});
    expect_pixel(&ds, pixels, 17, 200, (const float[]){58, 62, 56, 76});
    cr_expect_eq(mask[0], IMPERVIOUS);
    cr_expect_eq(mask[50 * 256 + 100], IMPERVIOUS);
    cr_expect_eq(mask[255 * 256 + 255], LOW_VEGETATION);
    cr_expect_eq(mask[200 * 256 + 17], LOW_VEGETATION);
    free(pixels);
    free(mask);

    read_sample(&ds, 1, &pixels, &mask);
    static const int64_t val_counts[N_CLASSES] = {17614, 0, 26600, 20843, 0, 479};
    expect_counts(mask, val_counts, "val");
    expect_pixel(&ds, pixels, 0, 0, (const float[]){51, 63, 55, 86});
    expect_pixel(&ds, pixels, 100, 50, (const float[]){57, 67, 50, 104});
    expect_pixel(&ds, pixels, 255, 255, (const float[]){91, 91, 79, 115});
    expect_pixel(&ds, pixels, 17, 200, (const float[]){49, 52, 41, 77});
    cr_expect_eq(mask[0], LOW_VEGETATION);
    cr_expect_eq(mask[200 * 256 + 17], TREE);
    free(pixels);
    free(mask);
    gs_dataset_close(&ds);
}

Test(datasets_potsdam, real_crops_cut_into_smaller_patches) {
    char root[1024];
    REQUIRE_SHARED("potsdam-crops", root);
    gs_dataset ds;
    gs_error err;
    cr_assert_eq(open_potsdam(root, 128, 0, false, &ds, &err), GS_OK, "%s", err.message);
    cr_assert_eq(ds.n_samples, 8);
    cr_expect_eq(ds.height, 128);
    static const int64_t xs[] = {0, 128, 0, 128}, ys[] = {0, 0, 128, 128};
    for (int i = 0; i < 8; i++) {
        cr_expect_eq(ds.samples[i].x, xs[i % 4], "sample %d", i);
        cr_expect_eq(ds.samples[i].y, ys[i % 4], "sample %d", i);
        cr_expect_eq(ds.samples[i].group, i / 4);
        cr_expect_eq(ds.samples[i].split, i < 4 ? GS_SPLIT_TRAIN : GS_SPLIT_VAL);
    }
    float *pixels;
    int32_t *mask;
    read_sample(&ds, 3, &pixels, &mask); /* train crop, window at (128, 128) */
    expect_pixel(&ds, pixels, 255 - 128, 255 - 128, (const float[]){75, 85, 75, 107});
    cr_expect_eq(mask[127 * 128 + 127], LOW_VEGETATION);
    free(pixels);
    free(mask);
    gs_dataset_close(&ds);
}

/* ---- the tiles fixture (2x2 tiles 2_10, 2_11, 5_15, 6_15) ----------------- */

Test(datasets_potsdam, fixture_tiles_patches_splits_and_masks) {
    char root[1024];
    REQUIRE_SHARED("format-fixtures/potsdam", root);
    gs_dataset ds;
    gs_error err;
    cr_assert_eq(open_potsdam(root, 1, 1, false, &ds, &err), GS_OK, "%s", err.message);
    cr_assert_eq(ds.n_samples, 16, "4 tiles x 4 one-pixel patches");
    cr_expect_eq(ds.bands, 4);
    cr_expect_eq(ds.n_warnings, 0);
    static const int splits[] = {GS_SPLIT_TRAIN, GS_SPLIT_TRAIN, GS_SPLIT_TEST, GS_SPLIT_TEST};
    static const char *const stems[] = {"top_potsdam_2_10_RGBIR", "top_potsdam_2_11_RGBIR", "top_potsdam_5_15_RGBIR",
                                        "top_potsdam_6_15_RGBIR"};
    /* label tiles are clutter, impervious / building, low vegetation; every
     * band of the image holds 0, 1 / 2, 3 (potsdam_reference.py) */
    static const int32_t classes[] = {CLUTTER, IMPERVIOUS, BUILDING, LOW_VEGETATION};
    for (int64_t i = 0; i < ds.n_samples; i++) {
        const gs_sample *s = &ds.samples[i];
        cr_expect_eq(s->group, i / 4);
        cr_expect_eq(s->split, splits[i / 4], "sample %lld", (long long)i);
        cr_expect_str_eq(s->stem, stems[i / 4]);
        cr_expect_eq(s->x, i % 2);
        cr_expect_eq(s->y, i % 4 / 2);
        float *pixels;
        int32_t *mask;
        read_sample(&ds, i, &pixels, &mask);
        for (int b = 0; b < 4; b++) cr_expect_eq(pixels[b], (float)(i % 4), "sample %lld band %d", (long long)i, b);
        cr_expect_eq(mask[0], classes[i % 4], "sample %lld", (long long)i);
        free(pixels);
        free(mask);
    }
    gs_dataset_close(&ds);

    cr_assert_eq(open_potsdam(root, 2, 0, false, &ds, &err), GS_OK, "%s", err.message);
    cr_expect_eq(ds.n_samples, 4, "one 2x2 patch per tile");
    float *pixels;
    int32_t *mask;
    read_sample(&ds, 2, &pixels, &mask);
    for (int p = 0; p < 4; p++) {
        cr_expect_eq(mask[p], classes[p]);
        cr_expect_eq(pixels[3 * 4 + p], (float)p, "IR band");
    }
    free(pixels);
    free(mask);
    gs_dataset_close(&ds);

    cr_expect_eq(open_potsdam(root, 0, 0, false, &ds, &err), GS_ERR_ARGUMENT, "2x2 tiles and 256 patches");
    cr_expect(strstr(err.message, "smaller than the patch size 256") != NULL, "%s", err.message);
}

/* ---- generated tiles ----------------------------------------------------- */

#define TILE_W 10
#define TILE_H 7

static float image_value(int b, int64_t y, int64_t x) { return (float)(b * 60 + y * TILE_W + x); }
/* The class pattern of generated label tiles: a palette class, or
 * UNKNOWN_COLOUR / BLACK. */
static int pattern(int64_t y, int64_t x) { return (int)((x + 3 * y) % 8); }

static void write_image(const char *dir, const char *sub, const char *name, int bands, int64_t w, int64_t h) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    gs_raster r;
    gs_error err = {0};
    cr_assert_eq(gs_raster_alloc(&r, bands, h, w, &err), GS_OK);
    for (int b = 0; b < bands; b++)
        for (int64_t y = 0; y < h; y++)
            for (int64_t x = 0; x < w; x++) r.data[(b * h + y) * w + x] = image_value(b, y, x);
    cr_assert_eq(gs_tiff_write(path, &r, GS_PIXEL_U8, 0, &err), GS_OK, "%s", err.message);
    gs_raster_free(&r);
}

/* Writes the label pattern.  A full label file has UNKNOWN_COLOUR pixels in
 * a colour outside the palette and BLACK ones as impervious; an eroded file,
 * like the ISPRS *_noBoundary ones, has black (eroded) pixels for both. */
static void write_label(const char *dir, const char *sub, const char *name, int64_t w, int64_t h, bool eroded) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    gs_raster r;
    gs_error err = {0};
    cr_assert_eq(gs_raster_alloc(&r, 3, h, w, &err), GS_OK);
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++) {
            int c = pattern(y, x);
            static const unsigned char unknown[3] = {10, 20, 30}, zero[3] = {0, 0, 0};
            const unsigned char *rgb = c == UNKNOWN_COLOUR ? (eroded ? zero : unknown)
                                       : c == BLACK        ? (eroded ? zero : PALETTE[0])
                                                           : PALETTE[c];
            for (int b = 0; b < 3; b++) r.data[(b * h + y) * w + x] = rgb[b];
        }
    cr_assert_eq(gs_tiff_write(path, &r, GS_PIXEL_U8, 1, &err), GS_OK, "%s", err.message);
    gs_raster_free(&r);
}

static int64_t count_pattern(int value) {
    int64_t n = 0;
    for (int64_t y = 0; y < TILE_H; y++)
        for (int64_t x = 0; x < TILE_W; x++) n += pattern(y, x) == value;
    return n;
}

static void expect_patch(const gs_dataset *ds, int64_t i, bool black_ignored) {
    const gs_sample *s = &ds->samples[i];
    float *pixels;
    int32_t *mask;
    read_sample(ds, i, &pixels, &mask);
    int64_t p = ds->height;
    for (int64_t y = 0; y < p; y++)
        for (int64_t x = 0; x < p; x++) {
            for (int b = 0; b < ds->bands; b++)
                cr_assert_eq(pixels[(b * p + y) * p + x], image_value(b, s->y + y, s->x + x),
                             "sample %lld band %d at (%lld, %lld)", (long long)i, b, (long long)x, (long long)y);
            int c = pattern(s->y + y, s->x + x);
            int32_t want = c == UNKNOWN_COLOUR ? GS_IGNORE_LABEL
                           : c == BLACK       ? (black_ignored ? GS_IGNORE_LABEL : IMPERVIOUS)
                                              : c;
            cr_assert_eq(mask[y * p + x], want, "sample %lld mask at (%lld, %lld)", (long long)i, (long long)x,
                         (long long)y);
        }
    free(pixels);
    free(mask);
}

Test(datasets_potsdam, generated_tiles_exact_patches_and_masks) {
    char dir[256];
    test_temp_dir(dir, sizeof dir);
    /* 2_10 is a training tile, 7_13 a test tile, 1_1 in neither list */
    static const char *const ids[] = {"2_10", "7_13", "1_1"};
    for (int t = 0; t < 3; t++) {
        char name[64];
        snprintf(name, sizeof name, "top_potsdam_%s_RGBIR.tif", ids[t]);
        write_image(dir, "4_Ortho_RGBIR", name, 4, TILE_W, TILE_H);
        snprintf(name, sizeof name, "top_potsdam_%s_label.tif", ids[t]);
        write_label(dir, "5_Labels_all", name, TILE_W, TILE_H, false);
    }
    gs_dataset ds;
    gs_error err;
    cr_assert_eq(open_potsdam(dir, 4, 3, false, &ds, &err), GS_OK, "%s", err.message);
    /* width 10: x = 0, 3, 6 (6 + 4 = 10); height 7: y = 0, 3 */
    cr_assert_eq(ds.n_samples, 3 * 6);
    cr_expect_eq(ds.n_warnings, 3 + 1, "one unknown-colour warning per label tile, one tile outside the split");
    static const int64_t xs[] = {0, 3, 6}, ys[] = {0, 3};
    /* sorted by tile id: 1_1, 2_10, 7_13 */
    static const int splits[] = {GS_SPLIT_NONE, GS_SPLIT_TRAIN, GS_SPLIT_TEST};
    for (int64_t i = 0; i < ds.n_samples; i++) {
        cr_expect_eq(ds.samples[i].x, xs[i % 3]);
        cr_expect_eq(ds.samples[i].y, ys[i % 6 / 3]);
        cr_expect_eq(ds.samples[i].group, i / 6);
        cr_expect_eq(ds.samples[i].split, splits[i / 6], "sample %lld", (long long)i);
        expect_patch(&ds, i, false);
    }
    gs_dataset_close(&ds);

    /* stride 4 leaves a remainder: x = 0, 4 and 6 flush with the edge; y = 0, 3 */
    cr_assert_eq(open_potsdam(dir, 4, 4, false, &ds, &err), GS_OK, "%s", err.message);
    cr_assert_eq(ds.n_samples, 3 * 6);
    static const int64_t xs4[] = {0, 4, 6};
    for (int64_t i = 0; i < 6; i++) {
        cr_expect_eq(ds.samples[i].x, xs4[i % 3]);
        cr_expect_eq(ds.samples[i].y, ys[i / 3]);
        expect_patch(&ds, i, false);
    }
    gs_dataset_close(&ds);

    /* a whole-tile mask: every class count of the pattern */
    cr_assert_eq(open_potsdam(dir, TILE_H, 100, false, &ds, &err), GS_OK, "%s", err.message);
    cr_assert_eq(ds.n_samples, 3 * 2, "x = 0 and 3, flush with the edge");
    float *pixels;
    int32_t *mask;
    read_sample(&ds, 0, &pixels, &mask);
    int64_t counts[N_CLASSES + 1] = {0};
    for (int64_t p = 0; p < TILE_H * TILE_H; p++) counts[mask[p] < 0 ? N_CLASSES : mask[p]]++;
    int64_t want[N_CLASSES + 1] = {0};
    for (int64_t y = 0; y < TILE_H; y++)
        for (int64_t x = 0; x < TILE_H; x++) {
            int c = pattern(y, x);
            want[c == UNKNOWN_COLOUR ? N_CLASSES : c == BLACK ? IMPERVIOUS : c]++;
        }
    for (int c = 0; c <= N_CLASSES; c++) cr_expect_eq(counts[c], want[c], "class %d", c);
    free(pixels);
    free(mask);
    gs_dataset_close(&ds);
    test_remove_tree(dir);
}

Test(datasets_potsdam, eroded_labels_ignore_the_black_boundary) {
    char dir[256];
    test_temp_dir(dir, sizeof dir);
    write_image(dir, "4_Ortho_RGBIR", "top_potsdam_2_10_RGBIR.tif", 4, TILE_W, TILE_H);
    write_label(dir, "5_Labels_all", "top_potsdam_2_10_label.tif", TILE_W, TILE_H, false);
    write_label(dir, "5_Labels_all_noBoundary", "top_potsdam_2_10_label_noBoundary.tif", TILE_W, TILE_H, true);
    gs_dataset ds;
    gs_error err;
    cr_assert_eq(open_potsdam(dir, 4, 3, true, &ds, &err), GS_OK, "%s", err.message);
    cr_assert_eq(ds.n_samples, 6);
    cr_expect_eq(ds.n_warnings, 0, "eroded black is not an unknown colour");
    cr_assert_gt(count_pattern(BLACK), 0);
    for (int64_t i = 0; i < ds.n_samples; i++) expect_patch(&ds, i, true);
    gs_dataset_close(&ds);

    /* without the option the full labels are read: no black there */
    cr_assert_eq(open_potsdam(dir, 4, 3, false, &ds, &err), GS_OK, "%s", err.message);
    cr_expect_eq(ds.n_warnings, 1, "the unknown colour of the full labels");
    for (int64_t i = 0; i < ds.n_samples; i++) expect_patch(&ds, i, false);
    gs_dataset_close(&ds);
    test_remove_tree(dir);
}

Test(datasets_potsdam, rgb_and_irrg_tiles_have_three_bands) {
    char dir[256];
    test_temp_dir(dir, sizeof dir);
    write_image(dir, "3_Ortho_IRRG", "top_potsdam_3_11_IRRG.tif", 3, TILE_W, TILE_H);
    write_label(dir, ".", "top_potsdam_3_11_label.tif", TILE_W, TILE_H, false);
    gs_dataset ds;
    gs_error err;
    cr_assert_eq(open_potsdam(dir, 5, 0, false, &ds, &err), GS_OK, "%s", err.message);
    cr_expect_eq(ds.bands, 3);
    cr_expect_str_eq(ds.band_info[0].name, "IR");
    cr_expect_str_eq(ds.band_info[1].name, "R");
    cr_expect_str_eq(ds.band_info[2].name, "G");
    cr_expect_eq(ds.n_samples, 2 * 2);
    expect_patch(&ds, 3, false);
    gs_dataset_close(&ds);

    /* RGB beside IRRG: RGB is read, the IRRG tile warns */
    write_image(dir, "2_Ortho_RGB", "top_potsdam_3_11_RGB.tif", 3, TILE_W, TILE_H);
    cr_assert_eq(open_potsdam(dir, 5, 0, false, &ds, &err), GS_OK, "%s", err.message);
    cr_expect_str_eq(ds.band_info[0].name, "R");
    cr_expect_str_eq(ds.band_info[2].name, "B");
    cr_expect(strstr(ds.samples[0].path, "_RGB.tif") != NULL, "%s", ds.samples[0].path);
    cr_expect_eq(ds.n_warnings, 1 + 1, "unknown colours + the unused IRRG tile");
    gs_dataset_close(&ds);
    test_remove_tree(dir);
}

static void expect_open_error(const char *dir, gs_status status, const char *name1, const char *name2) {
    gs_dataset ds;
    gs_error err;
    cr_expect_eq(open_potsdam(dir, 4, 0, false, &ds, &err), status, "%s", err.message);
    cr_expect(strstr(err.message, name1) != NULL, "'%s' does not name %s", err.message, name1);
    if (name2) cr_expect(strstr(err.message, name2) != NULL, "'%s' does not name %s", err.message, name2);
}

Test(datasets_potsdam, label_of_another_size_names_both_files) {
    char dir[256];
    test_temp_dir(dir, sizeof dir);
    write_image(dir, "4_Ortho_RGBIR", "top_potsdam_2_10_RGBIR.tif", 4, TILE_W, TILE_H);
    write_label(dir, "5_Labels_all", "top_potsdam_2_10_label.tif", TILE_W, TILE_H - 1, false);
    expect_open_error(dir, GS_ERR_FORMAT, "5_Labels_all/top_potsdam_2_10_label.tif",
                      "4_Ortho_RGBIR/top_potsdam_2_10_RGBIR.tif");
    test_remove_tree(dir);
}

Test(datasets_potsdam, missing_label_tile_is_named) {
    char dir[256];
    test_temp_dir(dir, sizeof dir);
    write_image(dir, "4_Ortho_RGBIR", "top_potsdam_2_10_RGBIR.tif", 4, TILE_W, TILE_H);
    write_image(dir, "4_Ortho_RGBIR", "top_potsdam_2_11_RGBIR.tif", 4, TILE_W, TILE_H);
    write_label(dir, "5_Labels_all", "top_potsdam_2_10_label.tif", TILE_W, TILE_H, false);
    expect_open_error(dir, GS_ERR_FORMAT, "top_potsdam_2_11_label.tif", "top_potsdam_2_11_RGBIR.tif");
    test_remove_tree(dir);
}

Test(datasets_potsdam, rgbir_tile_with_three_bands_is_an_error) {
    char dir[256];
    test_temp_dir(dir, sizeof dir);
    write_image(dir, "4_Ortho_RGBIR", "top_potsdam_2_10_RGBIR.tif", 3, TILE_W, TILE_H);
    write_label(dir, "5_Labels_all", "top_potsdam_2_10_label.tif", TILE_W, TILE_H, false);
    expect_open_error(dir, GS_ERR_FORMAT, "top_potsdam_2_10_RGBIR.tif has 3 bands", NULL);
    test_remove_tree(dir);
}

static void truncate_half(const char *path) {
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "%s", path);
    cr_assert_eq(truncate(path, st.st_size / 2), 0);
}

Test(datasets_potsdam, truncated_tiffs_are_named) {
    char dir[256], path[1200];
    test_temp_dir(dir, sizeof dir);
    write_image(dir, "4_Ortho_RGBIR", "top_potsdam_2_10_RGBIR.tif", 4, TILE_W, TILE_H);
    write_label(dir, "5_Labels_all", "top_potsdam_2_10_label.tif", TILE_W, TILE_H, false);
    snprintf(path, sizeof path, "%s/5_Labels_all/top_potsdam_2_10_label.tif", dir);
    truncate_half(path);
    expect_open_error(dir, GS_ERR_FORMAT, path, NULL);

    write_label(dir, "5_Labels_all", "top_potsdam_2_10_label.tif", TILE_W, TILE_H, false);
    snprintf(path, sizeof path, "%s/4_Ortho_RGBIR/top_potsdam_2_10_RGBIR.tif", dir);
    truncate_half(path);
    /* libtiff writes the directory last, so a cut file fails at open() */
    expect_open_error(dir, GS_ERR_FORMAT, path, NULL);
    test_remove_tree(dir);
}

/* A tile cut after open(): read() fails and names the file. */
Test(datasets_potsdam, tile_truncated_after_open_fails_in_read) {
    char dir[256], path[1200];
    test_temp_dir(dir, sizeof dir);
    write_image(dir, "4_Ortho_RGBIR", "top_potsdam_2_10_RGBIR.tif", 4, TILE_W, TILE_H);
    write_label(dir, "5_Labels_all", "top_potsdam_2_10_label.tif", TILE_W, TILE_H, false);
    gs_dataset ds;
    gs_error err;
    cr_assert_eq(open_potsdam(dir, 4, 0, false, &ds, &err), GS_OK, "%s", err.message);
    snprintf(path, sizeof path, "%s/4_Ortho_RGBIR/top_potsdam_2_10_RGBIR.tif", dir);
    truncate_half(path);
    float *pixels = malloc((size_t)gs_dataset_sample_floats(&ds) * sizeof *pixels);
    gs_sample_data data = {pixels, NULL};
    memset(&err, 0, sizeof err);
    cr_expect_neq(ds.format->read(&ds, 0, &data, &err), GS_OK);
    cr_expect(strstr(err.message, path) != NULL, "%s", err.message);
    free(pixels);
    gs_dataset_close(&ds);
    test_remove_tree(dir);
}

Test(datasets_potsdam, generated_crops_layout) {
    char dir[256];
    test_temp_dir(dir, sizeof dir);
    write_image(dir, "train_RGBIR", "a.tif", 4, TILE_W, TILE_W);
    write_label(dir, "train_lbl", "a.tif", TILE_W, TILE_W, false);
    write_image(dir, "val_RGBIR", "b.tif", 4, TILE_W, TILE_W);
    write_label(dir, "val_lbl", "b.tif", TILE_W, TILE_W, false);
    gs_dataset ds;
    gs_error err;
    cr_assert_eq(open_potsdam(dir, 0, 0, false, &ds, &err), GS_OK, "%s", err.message);
    cr_assert_eq(ds.n_samples, 2, "one patch per crop by default");
    cr_expect_eq(ds.height, TILE_W);
    cr_expect_eq(ds.samples[0].split, GS_SPLIT_TRAIN);
    cr_expect_eq(ds.samples[1].split, GS_SPLIT_VAL);
    cr_expect_eq(ds.n_warnings, 2, "unknown colours in each label");
    gs_dataset_close(&ds);

    cr_expect_eq(open_potsdam(dir, 0, 0, true, &ds, &err), GS_ERR_ARGUMENT, "crops have no eroded labels");

    write_image(dir, "val_RGBIR", "c.tif", 4, TILE_W, TILE_W);
    char label[1200];
    snprintf(label, sizeof label, "%s/val_lbl/c.tif", dir);
    expect_open_error(dir, GS_ERR_FORMAT, label, "val_RGBIR/c.tif");
    test_remove_tree(dir);
}

Test(datasets_potsdam, empty_folder_explains_both_layouts) {
    char dir[256];
    test_temp_dir(dir, sizeof dir);
    expect_open_error(dir, GS_ERR_FORMAT, "top_potsdam_<a>_<b>_RGBIR.tif", "train_RGBIR");
    test_remove_tree(dir);
}

static void copy_file(const char *from, const char *to) {
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    cr_assert(in && out, "copy %s to %s", from, to);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) cr_assert_eq(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
}

/* The real crops keep their TIFF directory at the start of the file, as the
 * ISPRS tiles do: cut short, they open but their pixels cannot be decoded. */
Test(datasets_potsdam, real_crop_cut_short_is_named) {
    char src[1024], dir[256], image[1200], label[1200];
    REQUIRE_SHARED("potsdam-crops", src);
    test_temp_dir(dir, sizeof dir);
    static const char *const name = "top_potsdam_2_10_RGBIR__36.tif";
    for (int k = 0; k < 2; k++) {
        const char *sub = k ? "train_lbl" : "train_RGBIR";
        char from[1200], folder[1200];
        snprintf(folder, sizeof folder, "%s/%s", dir, sub);
        mkdir(folder, 0755);
        snprintf(from, sizeof from, "%s/%s/%s", src, sub, name);
        snprintf(k ? label : image, 1200, "%s/%s/%s", dir, sub, name);
        copy_file(from, k ? label : image);
    }
    truncate_half(image);
    gs_dataset ds;
    gs_error err;
    cr_assert_eq(open_potsdam(dir, 0, 0, false, &ds, &err), GS_OK, "%s", err.message);
    float *pixels = malloc((size_t)gs_dataset_sample_floats(&ds) * sizeof *pixels);
    gs_sample_data data = {pixels, NULL};
    memset(&err, 0, sizeof err);
    cr_expect_eq(ds.format->read(&ds, 0, &data, &err), GS_ERR_FORMAT);
    cr_expect(strstr(err.message, image) != NULL && strstr(err.message, "truncated") != NULL, "%s", err.message);
    free(pixels);
    gs_dataset_close(&ds);

    truncate_half(label); /* the label is decoded once by open() */
    expect_open_error(dir, GS_ERR_FORMAT, label, NULL);
    test_remove_tree(dir);
}
