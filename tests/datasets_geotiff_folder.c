/* The geotiff format: a folder of scenes (recursively) tiled into unlabeled
 * patches.  Tiling counts and offsets, crops against the scene's values,
 * stride, band-count agreement, truncated files, and the real SSL4EO-S12
 * sample read as plain GeoTIFFs. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset.h"
#include "image_io.h"
#include "test_paths.h"

/* A bands x h x w scene with value b * 100000 + y * 1000 + x, written as
 * float32 so that every value survives. */
static float scene_value(int b, int64_t y, int64_t x) { return (float)(b * 100000 + y * 1000 + x); }

static void write_scene(const char *path, int bands, int64_t h, int64_t w) {
    gs_raster r;
    gs_error err = {0};
    cr_assert_eq(gs_raster_alloc(&r, bands, h, w, &err), GS_OK);
    for (int b = 0; b < bands; b++)
        for (int64_t y = 0; y < h; y++)
            for (int64_t x = 0; x < w; x++) r.data[(b * h + y) * w + x] = scene_value(b, y, x);
    cr_assert_eq(gs_tiff_write(path, &r, GS_PIXEL_F32, 1, &err), GS_OK, "%s", err.message);
    gs_raster_free(&r);
}

static void open_ok(const char *root, int patch, int stride, gs_dataset *ds) {
    char spec[1200];
    snprintf(spec, sizeof spec, "geotiff:%s", root);
    gs_dataset_options options = {0};
    options.patch_size = patch;
    options.stride = stride;
    gs_error err = {0};
    cr_assert_eq(gs_dataset_open(spec, &options, ds, &err), GS_OK, "%s", err.message);
}

Test(datasets_geotiff_folder, scene_150_by_130_gives_2_by_2_patches_of_64) {
    char dir[256], path[400];
    test_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/scene.tif", dir);
    write_scene(path, 3, 150, 130);
    gs_dataset ds;
    open_ok(dir, 0, 0, &ds); /* defaults: 64, stride 64 */
    cr_assert_eq(ds.n_samples, 4);
    cr_expect_eq(ds.task, GS_TASK_UNLABELED);
    cr_expect_eq(ds.bands, 3);
    cr_expect_eq(ds.height, 64);
    cr_expect_eq(ds.width, 64);
    cr_expect_str_eq(ds.band_info[2].name, "band3");
    int64_t want[4][2] = {{0, 0}, {0, 64}, {64, 0}, {64, 64}}; /* (y, x), row-major */
    for (int i = 0; i < 4; i++) {
        cr_expect_eq(ds.samples[i].y, want[i][0]);
        cr_expect_eq(ds.samples[i].x, want[i][1]);
        cr_expect_eq(ds.samples[i].group, 0);
        cr_expect_str_eq(ds.samples[i].stem, "scene");
        cr_expect_str_eq(ds.samples[i].path, path);
    }
    float *pixels = malloc(sizeof(float) * 3 * 64 * 64);
    gs_sample_data data = {.pixels = pixels};
    gs_error err = {0};
    cr_assert_eq(ds.format->read(&ds, 3, &data, &err), GS_OK, "%s", err.message);
    /* Patch (64, 64), band 2, pixel (10, 63) is scene (74, 127). */
    cr_expect_float_eq(pixels[(2 * 64 + 10) * 64 + 63], scene_value(2, 74, 127), 1e-3);
    cr_expect_float_eq(pixels[0], scene_value(0, 64, 64), 1e-3);
    cr_assert_eq(ds.format->read(&ds, 1, &data, &err), GS_OK, "%s", err.message);
    cr_expect_float_eq(pixels[(1 * 64 + 63) * 64 + 0], scene_value(1, 63, 64), 1e-3);
    free(pixels);
    gs_dataset_close(&ds);

    open_ok(dir, 64, 32, &ds);
    cr_expect_eq(ds.n_samples, 9, "stride 32: y in {0, 32, 64} x in {0, 32, 64}");
    cr_expect_eq(ds.samples[8].y, 64);
    cr_expect_eq(ds.samples[8].x, 64);
    gs_dataset_close(&ds);

    open_ok(dir, 130, 0, &ds);
    cr_expect_eq(ds.n_samples, 1, "a 130 px patch fits once");
    gs_dataset_close(&ds);

    /* 131 px fits nowhere: no samples is an error naming the folder. */
    char spec[400];
    snprintf(spec, sizeof spec, "geotiff:%s", dir);
    gs_dataset_options options = {.patch_size = 131};
    cr_expect_eq(gs_dataset_open(spec, &options, &ds, &err), GS_ERR_FORMAT);
    cr_expect(strstr(err.message, dir) != NULL, "%s", err.message);
    test_remove_tree(dir);
}

Test(datasets_geotiff_folder, recursive_sorted_with_groups_and_small_scenes_skipped) {
    char dir[256], path[400];
    test_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/b_scene.TIFF", dir);
    write_scene(path, 2, 64, 128); /* 2 patches */
    snprintf(path, sizeof path, "%s/sub", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/sub/deeper", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/sub/deeper/a.tif", dir);
    write_scene(path, 2, 70, 70); /* 1 patch */
    snprintf(path, sizeof path, "%s/sub/tiny.tif", dir);
    write_scene(path, 2, 30, 200); /* smaller than a patch: warned, none */
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    FILE *f = fopen(path, "w");
    fputs("not an image", f);
    fclose(f);
    gs_dataset ds;
    open_ok(dir, 64, 0, &ds);
    cr_assert_eq(ds.n_samples, 3);
    cr_expect_eq(ds.n_warnings, 1);
    /* Sorted paths: <dir>/b_scene.TIFF < <dir>/sub/deeper/a.tif < <dir>/sub/tiny.tif */
    cr_expect_str_eq(ds.samples[0].stem, "b_scene");
    cr_expect_eq(ds.samples[1].x, 64);
    cr_expect_eq(ds.samples[0].group, 0);
    cr_expect_str_eq(ds.samples[2].stem, "a");
    cr_expect_eq(ds.samples[2].group, 1);
    gs_dataset_close(&ds);
    test_remove_tree(dir);
}

Test(datasets_geotiff_folder, scenes_must_share_the_band_count) {
    char dir[256], path[400];
    test_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/a.tif", dir);
    write_scene(path, 4, 64, 64);
    snprintf(path, sizeof path, "%s/b.tif", dir);
    write_scene(path, 3, 64, 64);
    snprintf(path, sizeof path, "%s/c.tif", dir);
    write_scene(path, 3, 64, 64);
    gs_dataset ds;
    gs_error err = {0};
    char spec[400];
    snprintf(spec, sizeof spec, "geotiff:%s", dir);
    cr_expect_eq(gs_dataset_open(spec, NULL, &ds, &err), GS_ERR_FORMAT);
    cr_expect(strstr(err.message, path) == NULL, "names the first odd file, not c.tif: %s", err.message);
    snprintf(path, sizeof path, "%s/b.tif", dir);
    cr_expect(strstr(err.message, path) != NULL, "%s", err.message);
    test_remove_tree(dir);
}

Test(datasets_geotiff_folder, truncated_scene_names_the_file) {
    char dir[256], path[400], spec[400];
    test_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/a.tif", dir);
    write_scene(path, 1, 64, 64);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(truncate(path, st.st_size / 2), 0);
    snprintf(spec, sizeof spec, "geotiff:%s", dir);
    gs_dataset ds;
    gs_error err = {0};
    /* libtiff writes the directory after the pixels: the cut file cannot even be probed. */
    cr_expect_eq(gs_dataset_open(spec, NULL, &ds, &err), GS_ERR_FORMAT);
    cr_expect(strstr(err.message, path) != NULL, "%s", err.message);
    test_remove_tree(dir);
}

/* A real file whose directory precedes the pixels: cut, it still probes, and
 * read() must fail naming it. */
Test(datasets_geotiff_folder, truncated_pixels_fail_at_read) {
    char src[1024], dir[256], path[400], spec[400];
    snprintf(src, sizeof src, "%s/ssl4eo-s12-example/000000/20180710T125311_20180710T125627_T24KVE/B2.tif",
             test_shared_data_dir());
    struct stat st;
    if (stat(src, &st) != 0) cr_skip_test("real sample %s is absent", src);
    test_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/cut.tif", dir);
    FILE *in = fopen(src, "rb"), *out = fopen(path, "wb");
    cr_assert(in && out);
    char *buf = malloc((size_t)st.st_size);
    cr_assert_eq(fread(buf, 1, (size_t)st.st_size, in), (size_t)st.st_size);
    fwrite(buf, 1, (size_t)st.st_size / 2, out);
    fclose(in);
    fclose(out);
    free(buf);
    snprintf(spec, sizeof spec, "geotiff:%s", dir);
    gs_dataset ds;
    gs_error err = {0};
    cr_assert_eq(gs_dataset_open(spec, NULL, &ds, &err), GS_OK, "the header is intact: %s", err.message);
    cr_assert_eq(ds.n_samples, 16, "264 x 264 in patches of 64");
    float *pixels = malloc(sizeof(float) * (size_t)gs_dataset_sample_floats(&ds));
    gs_sample_data data = {.pixels = pixels};
    int failed = 0;
    for (int64_t i = 0; i < ds.n_samples; i++) {
        gs_error e = {0};
        if (ds.format->read(&ds, i, &data, &e) != GS_OK) {
            failed++;
            cr_expect(strstr(e.message, path) != NULL, "%s", e.message);
        }
    }
    cr_expect_eq(failed, ds.n_samples, "every patch of a truncated scene is bad");
    free(pixels);
    gs_dataset_close(&ds);
    test_remove_tree(dir);
}

/* The SSL4EO-S12 sample as plain GeoTIFFs: per location 4 bands at 264 px
 * (16 patches each), 6 at 132 px (4 each) and 3 at 44 px (too small). */
Test(datasets_geotiff_folder, real_ssl4eo_files_as_scenes) {
    char root[1024];
    snprintf(root, sizeof root, "%s/ssl4eo-s12-example", test_shared_data_dir());
    struct stat st;
    if (stat(root, &st) != 0) cr_skip_test("real sample %s is absent", root);
    gs_dataset ds;
    open_ok(root, 64, 0, &ds);
    cr_expect_eq(ds.bands, 1);
    cr_expect_eq(ds.n_samples, 2 * (4 * 16 + 6 * 4));
    cr_expect_eq(ds.n_warnings, 2 * 3);
    float *pixels = malloc(sizeof(float) * 64 * 64);
    gs_sample_data data = {.pixels = pixels};
    gs_error err = {0};
    cr_assert_eq(ds.format->read(&ds, ds.n_samples - 1, &data, &err), GS_OK, "%s", err.message);
    free(pixels);
    gs_dataset_close(&ds);
}
