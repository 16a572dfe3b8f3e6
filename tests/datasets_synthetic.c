/* The synthetic generator writes each format's real on-disk layout: exact
 * folder and file names and counts, band sizes and types read back with
 * image_io, JSON that parses and names only valid labels, split lists that
 * cover every sample once, Potsdam colours from the palette only; the same
 * seed gives byte-identical files; bad requests are errors naming what is
 * wrong.  (Class separability is tests/datasets_synthetic_learnability.c.) */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_io.h"
#include "formats/formats.h"
#include "splits.h"
#include "synthetic.h"
#include "test_paths.h"

/* ---- helpers ---------------------------------------------------------------- */

static int compare_names(const void *a, const void *b) { return strcmp(a, b); }

/* Sorted entry names of a folder (without . and ..); returns the count. */
static int list_dir(const char *path, char names[][256], int max) {
    DIR *d = opendir(path);
    cr_assert(d, "cannot open %s", path);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            cr_assert_lt(n, max, "%s has more than %d entries", path, max);
            snprintf(names[n++], 256, "%.255s", e->d_name);
        }
    closedir(d);
    qsort(names, (size_t)n, 256, compare_names);
    return n;
}

static bool exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    cr_assert_eq(fread(text, 1, (size_t)n, f), (size_t)n);
    text[n] = '\0';
    fclose(f);
    return text;
}

static void generate(const char *format, const char *dir, gs_synth_options opt) {
    gs_error err = {0};
    cr_assert_eq(gs_synth_write(format, dir, &opt, &err), GS_OK, "%s", err.message);
}

static void new_dir(char *dir, size_t size) {
    test_temp_dir(dir, size);
    cr_assert(dir[0], "no temporary folder");
}

static void expect_tiff(const char *path, int bands, int64_t side, gs_pixel_type type, gs_raster *keep) {
    gs_raster r;
    gs_error err = {0};
    cr_assert_eq(gs_tiff_read(path, &r, &err), GS_OK, "%s", err.message);
    cr_expect_eq(r.bands, bands, "%s: %d bands", path, r.bands);
    cr_expect(r.height == side && r.width == side, "%s: %lld x %lld, expected %lld", path, (long long)r.height,
              (long long)r.width, (long long)side);
    cr_expect_eq(r.type, type, "%s: sample type %d", path, r.type);
    if (keep)
        *keep = r;
    else
        gs_raster_free(&r);
}

static double band_mean(const gs_raster *r, int b) {
    int64_t n = r->height * r->width;
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += r->data[b * n + i];
    return s / n;
}

/* Reads a split list into lines; returns the count. */
static int read_lines(const char *path, char lines[][256], int max) {
    char *text = read_text(path);
    int n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        cr_assert_lt(n, max);
        snprintf(lines[n++], 256, "%s", line);
    }
    free(text);
    return n;
}

static const char *const EUROSAT_CLASSES[10] = {"AnnualCrop", "Forest",  "HerbaceousVegetation", "Highway",
                                                "Industrial", "Pasture", "PermanentCrop",        "Residential",
                                                "River",      "SeaLake"};

/* ---- EuroSAT ------------------------------------------------------------------ */

Test(datasets_synthetic, eurosat_rgb_folders_files_and_shapes) {
    char dir[256], path[1024], names[64][256];
    new_dir(dir, sizeof dir);
    generate("eurosat-rgb", dir, (gs_synth_options){.seed = 1, .count = 3});
    cr_assert_eq(list_dir(dir, names, 64), 13, "10 class folders and 3 split lists");
    for (int k = 0; k < 10; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, EUROSAT_CLASSES[k]);
        cr_assert_eq(list_dir(path, names, 64), 3, "%s", path);
        for (int n = 1; n <= 3; n++) {
            snprintf(path, sizeof path, "%s/%s/%s_%d.jpg", dir, EUROSAT_CLASSES[k], EUROSAT_CLASSES[k], n);
            gs_raster r;
            gs_error err = {0};
            cr_assert_eq(gs_jpeg_read(path, &r, &err), GS_OK, "%s", err.message);
            cr_expect(r.bands == 3 && r.height == 64 && r.width == 64, "%s: %d x %lld x %lld", path, r.bands,
                      (long long)r.height, (long long)r.width);
            double lo = 255, hi = 0;
            for (int i = 0; i < 3 * 64 * 64; i++)
                lo = r.data[i] < lo ? r.data[i] : lo, hi = r.data[i] > hi ? r.data[i] : hi;
            cr_expect_gt(hi - lo, 20, "%s is nearly flat", path);
            gs_raster_free(&r);
        }
    }
    test_remove_tree(dir);
}

Test(datasets_synthetic, eurosat_ms_bands_in_file_order_and_split_lists) {
    char dir[256], path[1024], names[64][256];
    new_dir(dir, sizeof dir);
    generate("eurosat-ms", dir, (gs_synth_options){.seed = 2, .count = 5});
    cr_assert_eq(list_dir(dir, names, 64), 13);
    cr_expect_str_eq(names[10], "eurosat-test.txt");
    cr_expect_str_eq(names[11], "eurosat-train.txt");
    cr_expect_str_eq(names[12], "eurosat-val.txt");
    for (int k = 0; k < 10; k++)
        for (int n = 1; n <= 5; n++) {
            snprintf(path, sizeof path, "%s/%s/%s_%d.tif", dir, EUROSAT_CLASSES[k], EUROSAT_CLASSES[k], n);
            gs_raster r;
            expect_tiff(path, 13, 64, GS_PIXEL_U16, &r);
            /* File order B01..B08, B8A, B09, B10, B11, B12: the cirrus band
             * (index 10) is near zero, and B8A (index 8) tracks B08 (index 7). */
            cr_expect_lt(band_mean(&r, 10), 100, "%s: band 10 is not B10", path);
            double ratio = band_mean(&r, 8) / band_mean(&r, 7);
            cr_expect(ratio > 0.85 && ratio < 1.2, "%s: band 8 is not B8A (B8A/B08 = %.2f)", path, ratio);
            cr_expect_gt(band_mean(&r, 7), 200, "%s: B08 implausibly dark", path);
            gs_raster_free(&r);
        }
    /* Every image in exactly one list, 3/1/1 of each class. */
    static char lines[3][64][256];
    int seen[10][6] = {{0}};
    const char *splits[3] = {"train", "val", "test"};
    const int per_class[3] = {3, 1, 1};
    for (int s = 0; s < 3; s++) {
        snprintf(path, sizeof path, "%s/eurosat-%s.txt", dir, splits[s]);
        int n = read_lines(path, lines[s], 64);
        cr_expect_eq(n, 10 * per_class[s], "%s: %d lines", path, n);
        int counts[10] = {0};
        for (int i = 0; i < n; i++) {
            char name[128];
            int index = 0, k = -1;
            cr_assert_eq(sscanf(lines[s][i], "%127[A-Za-z]_%d.tif", name, &index), 2, "bad line '%s'", lines[s][i]);
            for (int c = 0; c < 10; c++)
                if (!strcmp(name, EUROSAT_CLASSES[c])) k = c;
            cr_assert(k >= 0 && index >= 1 && index <= 5, "'%s' names no generated image", lines[s][i]);
            seen[k][index]++;
            counts[k]++;
            snprintf(path, sizeof path, "%.300s/%.127s/%.255s", dir, name, lines[s][i]);
            cr_expect(exists(path), "%s listed but missing", path);
        }
        for (int c = 0; c < 10; c++) cr_expect_eq(counts[c], per_class[s], "%s: class %d", splits[s], c);
    }
    for (int k = 0; k < 10; k++)
        for (int n = 1; n <= 5; n++)
            cr_expect_eq(seen[k][n], 1, "%s_%d listed %d times", EUROSAT_CLASSES[k], n, seen[k][n]);
    test_remove_tree(dir);
}

/* The smallest sets still open and split: 3 images per class give 1/1/1
 * (rounding 60/20/20 gave 2/1/0, an empty test list the reader refuses);
 * 1 image per class writes the training list alone. */
Test(datasets_synthetic, tiny_eurosat_sets_have_a_test_image_and_no_empty_list) {
    const int counts[2] = {3, 1};
    const int expect[2][3] = {{1, 1, 1}, {1, 0, 0}};
    for (int c = 0; c < 2; c++) {
        char dir[256], spec[320];
        new_dir(dir, sizeof dir);
        generate("eurosat-rgb", dir, (gs_synth_options){.seed = 2, .count = counts[c]});
        const char *splits[3] = {"train", "val", "test"};
        for (int s = 0; s < 3; s++) {
            char path[400];
            snprintf(path, sizeof path, "%s/eurosat-%s.txt", dir, splits[s]);
            cr_expect_eq(exists(path), expect[c][s] > 0, "count %d: %s %s", counts[c], path,
                         expect[c][s] ? "missing" : "written with no names");
        }
        snprintf(spec, sizeof spec, "eurosat-rgb:%s", dir);
        gs_dataset ds;
        gs_error err = {0};
        cr_assert_eq(gs_dataset_open(spec, NULL, &ds, &err), GS_OK, "count %d: %s", counts[c], err.message);
        bool found = false;
        cr_assert_eq(gs_split_apply_standard(&ds, NULL, &found, &err), GS_OK, "count %d: %s", counts[c], err.message);
        cr_expect(found, "count %d: no split list found", counts[c]);
        int64_t in_split[3] = {0};
        for (int64_t i = 0; i < ds.n_samples; i++)
            if (ds.samples[i].split >= 0 && ds.samples[i].split < 3) in_split[ds.samples[i].split]++;
        for (int s = 0; s < 3; s++)
            cr_expect_eq(in_split[s], 10 * expect[c][s], "count %d: %lld %s samples", counts[c],
                         (long long)in_split[s], splits[s]);
        gs_dataset_close(&ds);
        test_remove_tree(dir);
    }
}

/* ---- RESISC45 ----------------------------------------------------------------- */

Test(datasets_synthetic, resisc45_class_subset_and_three_digit_names) {
    char dir[256], path[1024], names[64][256];
    new_dir(dir, sizeof dir);
    generate("resisc45", dir, (gs_synth_options){.seed = 3, .count = 2, .size = 64, .n_classes = 4});
    const char *expected[4] = {"airplane", "airport", "baseball_diamond", "basketball_court"};
    cr_assert_eq(list_dir(dir, names, 64), 4);
    for (int k = 0; k < 4; k++) {
        cr_expect_str_eq(names[k], expected[k]);
        char files[8][256];
        snprintf(path, sizeof path, "%s/%s", dir, expected[k]);
        cr_assert_eq(list_dir(path, files, 8), 2);
        char want[256];
        snprintf(want, sizeof want, "%s_001.jpg", expected[k]);
        cr_expect_str_eq(files[0], want);
        snprintf(want, sizeof want, "%s_002.jpg", expected[k]);
        cr_expect_str_eq(files[1], want);
    }
    test_remove_tree(dir);
    /* Default size 256, all 45 classes. */
    new_dir(dir, sizeof dir);
    generate("resisc45", dir, (gs_synth_options){.seed = 3, .count = 1});
    cr_assert_eq(list_dir(dir, names, 64), 45);
    cr_expect_str_eq(names[44], "wetland");
    snprintf(path, sizeof path, "%s/sea_ice/sea_ice_001.jpg", dir);
    gs_raster r;
    gs_error err = {0};
    cr_assert_eq(gs_jpeg_read(path, &r, &err), GS_OK, "%s", err.message);
    cr_expect(r.bands == 3 && r.height == 256 && r.width == 256);
    gs_raster_free(&r);
    test_remove_tree(dir);
}

/* ---- BigEarthNet ------------------------------------------------------------ */


static void check_bigearthnet(int count, int side) {
    char dir[256], path[1024], names[64][256], files[32][256];
    new_dir(dir, sizeof dir);
    generate("bigearthnet", dir, (gs_synth_options){.seed = 4, .count = count, .size = side});
    int n = list_dir(dir, names, 64);
    cr_assert_eq(n, count + 3, "%d patch folders and 3 split CSVs, found %d entries", count, n);
    /* Patch folders (S2...) sort before the CSVs (b...). */
    cr_expect_str_eq(names[n - 3], "bigearthnet-test.csv");
    cr_expect_str_eq(names[n - 2], "bigearthnet-train.csv");
    cr_expect_str_eq(names[n - 1], "bigearthnet-val.csv");
    const char *bands[12] = {"B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B09", "B11", "B12", "B8A"};
    const int divisor[12] = {6, 1, 1, 1, 2, 2, 2, 1, 6, 2, 2, 2};
    int label_uses = 0;
    for (int p = 0; p < count; p++) {
        const char *patch = names[p];
        char sat, rest[64];
        int date, time, row, col;
        cr_expect_eq(sscanf(patch, "S2%c_MSIL2A_%8dT%6d_%d_%d%63s", &sat, &date, &time, &row, &col, rest), 5,
                     "patch folder name %s", patch);
        snprintf(path, sizeof path, "%.300s/%.127s", dir, patch);
        cr_assert_eq(list_dir(path, files, 32), 13, "%s: 12 bands and the labels JSON", path);
        for (int b = 0; b < 12; b++) {
            snprintf(path, sizeof path, "%.300s/%.127s/%.127s_%s.tif", dir, patch, patch, bands[b]);
            expect_tiff(path, 1, side / divisor[b], GS_PIXEL_U16, NULL);
        }
        snprintf(path, sizeof path, "%.300s/%.127s/%.127s_labels_metadata.json", dir, patch, patch);
        char *text = read_text(path);
        cJSON *json = cJSON_Parse(text);
        cr_assert(json, "%s does not parse", path);
        cJSON *labels = cJSON_GetObjectItemCaseSensitive(json, "labels");
        cr_assert(cJSON_IsArray(labels), "%s: no labels array", path);
        int k = cJSON_GetArraySize(labels), last = -1;
        cr_expect(k >= 1 && k <= 4, "%s: %d labels", path, k);
        for (int i = 0; i < k; i++) {
            const char *name = cJSON_GetStringValue(cJSON_GetArrayItem(labels, i));
            int index = -1;
            for (int j = 0; name && j < 43; j++)
                if (!strcmp(name, gs_bigearthnet_labels_43[j])) index = j;
            cr_expect_geq(index, 0, "%s: '%s' is not a BigEarthNet label", path, name ? name : "(not a string)");
            cr_expect_gt(index, last, "%s: labels repeated or out of nomenclature order", path);
            last = index;
            label_uses++;
        }
        cJSON *coords = cJSON_GetObjectItemCaseSensitive(json, "coordinates");
        double ulx = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(coords, "ulx"));
        double lrx = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(coords, "lrx"));
        cr_expect_eq(lrx - ulx, side * 10.0, "%s: a patch spans %d px at 10 m", path, side);
        cr_expect(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(json, "acquisition_date")));
        cJSON_Delete(json);
        free(text);
    }
    cr_expect_geq(label_uses, count);
    /* The three CSVs list every patch once. */
    static char lines[64][256];
    int listed = 0;
    for (int s = 0; s < 3; s++) {
        snprintf(path, sizeof path, "%.500s/%.255s", dir, names[count + s]);
        int m = read_lines(path, lines, 64);
        for (int i = 0; i < m; i++) {
            int found = 0;
            for (int p = 0; p < count; p++) found += !strcmp(lines[i], names[p]);
            cr_expect_eq(found, 1, "%s lists '%s'", names[count + s], lines[i]);
        }
        listed += m;
    }
    cr_expect_eq(listed, count);
    test_remove_tree(dir);
}

Test(datasets_synthetic, bigearthnet_patches_bands_labels_and_splits) { check_bigearthnet(10, 120); }
Test(datasets_synthetic, bigearthnet_smaller_grid_keeps_the_band_ratios) { check_bigearthnet(3, 60); }

/* ---- Potsdam ------------------------------------------------------------------- */

static const unsigned char POTSDAM_PALETTE[6][3] = {{255, 255, 255}, {0, 0, 255},   {0, 255, 255},
                                                    {0, 255, 0},     {255, 255, 0}, {255, 0, 0}};

static int palette_index(const gs_raster *r, int64_t i) {
    int64_t n = r->height * r->width;
    for (int c = 0; c < 6; c++)
        if (r->data[i] == POTSDAM_PALETTE[c][0] && r->data[n + i] == POTSDAM_PALETTE[c][1] &&
            r->data[2 * n + i] == POTSDAM_PALETTE[c][2])
            return c;
    return r->data[i] == 0 && r->data[n + i] == 0 && r->data[2 * n + i] == 0 ? 6 : -1;
}

Test(datasets_synthetic, potsdam_official_tiles_palette_and_eroded_labels) {
    char dir[256], path[1024], names[32][256];
    new_dir(dir, sizeof dir);
    generate("potsdam", dir, (gs_synth_options){.seed = 5, .count = 2, .size = 128});
    /* Training tiles 2_10 and 2_11, one test tile 2_13. */
    const char *tiles[3] = {"2_10", "2_11", "2_13"};
    cr_assert_eq(list_dir(dir, names, 32), 7, "4_Ortho_RGBIR and two label files per tile");
    snprintf(path, sizeof path, "%s/4_Ortho_RGBIR", dir);
    cr_assert_eq(list_dir(path, names, 32), 3);
    for (int t = 0; t < 3; t++) {
        gs_raster image, labels, eroded;
        snprintf(path, sizeof path, "%s/4_Ortho_RGBIR/top_potsdam_%s_RGBIR.tif", dir, tiles[t]);
        expect_tiff(path, 4, 128, GS_PIXEL_U8, &image);
        snprintf(path, sizeof path, "%s/top_potsdam_%s_label.tif", dir, tiles[t]);
        expect_tiff(path, 3, 128, GS_PIXEL_U8, &labels);
        snprintf(path, sizeof path, "%s/top_potsdam_%s_label_noBoundary.tif", dir, tiles[t]);
        expect_tiff(path, 3, 128, GS_PIXEL_U8, &eroded);
        int64_t n = 128 * 128, count[7] = {0}, ignored = 0;
        double ir[6] = {0};
        for (int64_t i = 0; i < n; i++) {
            int c = palette_index(&labels, i), e = palette_index(&eroded, i);
            cr_assert(c >= 0 && c < 6, "%s: pixel %lld has a colour outside the palette", tiles[t], (long long)i);
            cr_assert(e == c || e == 6, "%s: eroded label %d where the label is %d", tiles[t], e, c);
            ignored += e == 6;
            count[c]++;
            ir[c] += image.data[3 * n + i];
        }
        for (int c = 0; c < 4; c++) cr_expect_gt(count[c], 0, "%s: no pixels of class %d", tiles[t], c);
        cr_expect(ignored > 0 && ignored < n * 3 / 4, "%s: %lld boundary pixels", tiles[t], (long long)ignored);
        /* The image is painted from the labels: grass is brighter in the infrared than pavement. */
        cr_expect_gt(ir[2] / count[2], ir[0] / count[0] + 30, "%s: infrared does not follow the labels", tiles[t]);
        gs_raster_free(&image);
        gs_raster_free(&labels);
        gs_raster_free(&eroded);
    }
    test_remove_tree(dir);
}

/* ---- seasonal Sentinel-2 and GeoTIFF scenes ---------------------------------- */

static void check_seasonal(const char *format, int digits, int n_bands, int dates, gs_pixel_type type, int side) {
    char dir[256], path[1024], locations[8][256], date_dirs[8][256], files[16][256];
    new_dir(dir, sizeof dir);
    generate(format, dir, (gs_synth_options){.seed = 6, .count = 3, .size = side});
    bool ssl4eo = n_bands == 13;
    const char *bands[13] = {"B1", "B11", "B12", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B10"};
    const int divisor[13] = {6, 2, 2, 1, 1, 1, 2, 2, 2, 1, 2, 6, 6};
    cr_assert_eq(list_dir(dir, locations, 8), 3);
    double ndvi_range = 0;
    for (int l = 0; l < 3; l++) {
        char want[16];
        snprintf(want, sizeof want, "%0*d", digits, l);
        cr_expect_str_eq(locations[l], want);
        snprintf(path, sizeof path, "%.300s/%.63s", dir, locations[l]);
        cr_assert_eq(list_dir(path, date_dirs, 8), dates, "%s: %d dates", path, dates);
        char first_tile[16] = "";
        double ndvi_lo = 1, ndvi_hi = -1;
        for (int d = 0; d < dates; d++) {
            int d1, t1, d2, t2;
            char tile[16];
            cr_assert_eq(sscanf(date_dirs[d], "%8dT%6d_%8dT%6d_T%5s", &d1, &t1, &d2, &t2, tile), 5, "date folder %s",
                         date_dirs[d]);
            cr_expect_eq(d1, d2, "%s: both timestamps on one day", date_dirs[d]);
            if (!d) snprintf(first_tile, sizeof first_tile, "%s", tile);
            cr_expect_str_eq(tile, first_tile, "a location stays on one tile");
            snprintf(path, sizeof path, "%.300s/%.63s/%.127s", dir, locations[l], date_dirs[d]);
            cr_assert_eq(list_dir(path, files, 16), n_bands + (ssl4eo ? 1 : 0), "%s", path);
            gs_raster red, nir;
            for (int b = 0; b < n_bands; b++) {
                snprintf(path, sizeof path, "%.300s/%.63s/%.127s/%s.tif", dir, locations[l], date_dirs[d], bands[b]);
                expect_tiff(path, 1, side / divisor[b], type,
                            !strcmp(bands[b], "B4")   ? &red
                            : !strcmp(bands[b], "B8") ? &nir
                                                      : NULL);
            }
            double sr = band_mean(&red, 0), sn = band_mean(&nir, 0), ndvi = (sn - sr) / (sn + sr);
            ndvi_lo = ndvi < ndvi_lo ? ndvi : ndvi_lo;
            ndvi_hi = ndvi > ndvi_hi ? ndvi : ndvi_hi;
            gs_raster_free(&red);
            gs_raster_free(&nir);
            if (ssl4eo) {
                snprintf(path, sizeof path, "%.300s/%.63s/%.127s/metadata.json", dir, locations[l], date_dirs[d]);
                char *text = read_text(path);
                cJSON *json = cJSON_Parse(text);
                cr_assert(json, "%s does not parse", path);
                cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(json, "bands")), 13);
                cJSON *props = cJSON_GetObjectItemCaseSensitive(json, "properties");
                const char *index = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(props, "system:index"));
                cr_expect(index && !strcmp(index, date_dirs[d]), "%s: system:index names another date", path);
                cJSON_Delete(json);
                free(text);
            }
        }
        if (ndvi_hi - ndvi_lo > ndvi_range) ndvi_range = ndvi_hi - ndvi_lo;
    }
    /* Vegetation follows the seasons: a band ratio that no atmospheric gain changes moves between dates. */
    cr_expect_gt(ndvi_range, 0.05, "no seasonal change in (B8 - B4) / (B8 + B4): range %.3f", ndvi_range);
    test_remove_tree(dir);
}

Test(datasets_synthetic, seco_locations_dates_and_uint8_bands_at_three_resolutions) {
    check_seasonal("seco", 6, 12, 5, GS_PIXEL_U8, 66);
}
Test(datasets_synthetic, ssl4eo_locations_dates_uint16_bands_and_metadata) {
    check_seasonal("ssl4eo-s12", 7, 13, 4, GS_PIXEL_U16, 36);
}

Test(datasets_synthetic, geotiff_scenes_of_ragged_sizes) {
    char dir[256], path[1024], names[8][256];
    new_dir(dir, sizeof dir);
    generate("geotiff", dir, (gs_synth_options){.seed = 7, .count = 3, .size = 64});
    cr_assert_eq(list_dir(dir, names, 8), 3);
    bool ragged = false;
    for (int i = 0; i < 3; i++) {
        char want[32];
        snprintf(want, sizeof want, "scene_%d.tif", i + 1);
        cr_expect_str_eq(names[i], want);
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        gs_raster r;
        gs_error err = {0};
        cr_assert_eq(gs_tiff_read(path, &r, &err), GS_OK, "%s", err.message);
        cr_expect(r.bands == 4 && r.type == GS_PIXEL_U16 && r.width >= 64 && r.height >= 64);
        ragged |= r.width % 32 != 0 || r.height % 32 != 0;
        gs_raster_free(&r);
    }
    cr_expect(ragged, "every scene divides into 32 px patches");
    test_remove_tree(dir);
}

/* ---- determinism -------------------------------------------------------------- */

/* Compares two trees file by file; returns the number of differing files. */
static int diff_trees(const char *a, const char *b) {
    static char names_a[64][256], names_b[64][256];
    struct stat st;
    cr_assert_eq(stat(a, &st), 0, "%s missing", a);
    if (!S_ISDIR(st.st_mode)) {
        FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
        cr_assert(fa && fb, "%s or %s missing", a, b);
        int differ = 0, ca, cb;
        do {
            ca = fgetc(fa);
            cb = fgetc(fb);
            differ |= ca != cb;
        } while (ca != EOF && cb != EOF && !differ);
        fclose(fa);
        fclose(fb);
        return differ;
    }
    int n = list_dir(a, names_a, 64), m = list_dir(b, names_b, 64);
    if (n != m) return n > m ? n : m;
    char children[64][2][1024];
    for (int i = 0; i < n; i++) {
        if (strcmp(names_a[i], names_b[i])) return n; /* other names: every file differs */
        snprintf(children[i][0], 1024, "%.500s/%.255s", a, names_a[i]);
        snprintf(children[i][1], 1024, "%.500s/%.255s", b, names_b[i]);
    }
    int differ = 0;
    for (int i = 0; i < n; i++) differ += diff_trees(children[i][0], children[i][1]);
    return differ;
}

static void check_determinism(const char *format, gs_synth_options opt) {
    char a[256], b[256], c[256];
    new_dir(a, sizeof a);
    new_dir(b, sizeof b);
    new_dir(c, sizeof c);
    generate(format, a, opt);
    generate(format, b, opt);
    opt.seed++;
    generate(format, c, opt);
    cr_expect_eq(diff_trees(a, b), 0, "%s: the same seed gave different files", format);
    cr_expect_gt(diff_trees(a, c), 0, "%s: another seed gave the same files", format);
    test_remove_tree(a);
    test_remove_tree(b);
    test_remove_tree(c);
}

Test(datasets_synthetic, same_seed_same_bytes_other_seed_other_bytes) {
    check_determinism("eurosat-rgb", (gs_synth_options){.seed = 10, .count = 2});
    check_determinism("eurosat-ms", (gs_synth_options){.seed = 10, .count = 1});
    check_determinism("bigearthnet", (gs_synth_options){.seed = 10, .count = 2});
    check_determinism("potsdam", (gs_synth_options){.seed = 10, .count = 1, .size = 64});
    check_determinism("ssl4eo-s12", (gs_synth_options){.seed = 10, .count = 1, .size = 36, .dates = 2});
}

Test(datasets_synthetic, an_image_does_not_depend_on_how_many_are_written) {
    char a[256], b[256], pa[1024], pb[1024];
    new_dir(a, sizeof a);
    new_dir(b, sizeof b);
    generate("eurosat-rgb", a, (gs_synth_options){.seed = 12, .count = 2});
    generate("eurosat-rgb", b, (gs_synth_options){.seed = 12, .count = 4});
    for (int n = 1; n <= 2; n++) {
        snprintf(pa, sizeof pa, "%s/River/River_%d.jpg", a, n);
        snprintf(pb, sizeof pb, "%s/River/River_%d.jpg", b, n);
        cr_expect_eq(diff_trees(pa, pb), 0, "River_%d changed with the count", n);
    }
    test_remove_tree(a);
    test_remove_tree(b);
}

/* ---- errors ------------------------------------------------------------------- */

Test(datasets_synthetic, unwritable_or_non_empty_output_is_an_error_naming_it) {
    char dir[256], file[300], target[400];
    new_dir(dir, sizeof dir);
    gs_error err = {0};
    /* A folder under a plain file cannot be created, even by root. */
    snprintf(file, sizeof file, "%s/plain", dir);
    FILE *f = fopen(file, "w");
    cr_assert(f);
    fclose(f);
    snprintf(target, sizeof target, "%s/sub/eurosat", file);
    cr_expect_eq(gs_synth_write("eurosat-rgb", target, NULL, &err), GS_ERR_IO);
    cr_expect(strstr(err.message, target) != NULL, "message does not name %s: %s", target, err.message);
    if (geteuid() != 0) {
        char locked[300];
        snprintf(locked, sizeof locked, "%s/locked", dir);
        cr_assert_eq(mkdir(locked, 0555), 0);
        snprintf(target, sizeof target, "%s/out", locked);
        gs_error e2 = {0};
        cr_expect_eq(gs_synth_write("eurosat-rgb", target, NULL, &e2), GS_ERR_IO);
        cr_expect(strstr(e2.message, target) != NULL, "%s", e2.message);
        rmdir(locked);
    }
    /* A folder that already holds something is refused, not mixed into. */
    gs_error e3 = {0};
    cr_expect_eq(gs_synth_write("eurosat-rgb", dir, NULL, &e3), GS_ERR_ARGUMENT);
    cr_expect(strstr(e3.message, dir) && strstr(e3.message, "not empty"), "%s", e3.message);
    cr_expect(!exists(target) || geteuid() == 0);
    test_remove_tree(dir);
}

Test(datasets_synthetic, bad_requests_are_refused_before_writing) {
    char dir[256], out[300];
    new_dir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/out", dir);
    gs_error err = {0};
    cr_expect_eq(gs_synth_write("eurosat", out, NULL, &err), GS_ERR_ARGUMENT);
    cr_expect(strstr(err.message, "'eurosat'") && strstr(err.message, "eurosat-rgb"), "%s", err.message);
    gs_error e2 = {0};
    cr_expect_eq(gs_synth_write("bigearthnet", out, &(gs_synth_options){.size = 100}, &e2), GS_ERR_ARGUMENT);
    cr_expect(strstr(e2.message, "multiple of 6"), "%s", e2.message);
    gs_error e3 = {0};
    cr_expect_eq(gs_synth_write("potsdam", out, &(gs_synth_options){.count = 25}, &e3), GS_ERR_ARGUMENT);
    gs_error e4 = {0};
    cr_expect_eq(gs_synth_write("resisc45", out, &(gs_synth_options){.n_classes = 46}, &e4), GS_ERR_ARGUMENT);
    gs_error e5 = {0};
    cr_expect_eq(gs_synth_write("eurosat-ms", out, &(gs_synth_options){.count = -1}, &e5), GS_ERR_ARGUMENT);
    cr_expect(!exists(out), "a refused request created %s", out);
    test_remove_tree(dir);
}
