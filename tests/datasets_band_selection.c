/* Band selection by name (gs_dataset_options.bands): the chosen bands in
 * the order asked for, under either Sentinel-2 spelling and the RGB names,
 * read as the same pixels as those bands of the whole sample; a band the
 * data lacks or one named twice is an error naming it; the selection gets
 * its own statistics and cache key. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "stats.h"
#include "synthetic.h"
#include "test_paths.h"

typedef struct data_dirs {
    char dir[256], ms[400], rgb[400];
} data_dirs;

static void make_data(data_dirs *d) {
    test_temp_dir(d->dir, sizeof d->dir);
    char path[320];
    gs_error err = {0};
    gs_synth_options so = {.seed = 4, .count = 2};
    snprintf(path, sizeof path, "%s/ms", d->dir);
    cr_assert_eq(gs_synth_write("eurosat-ms", path, &so, &err), GS_OK, "%s", err.message);
    snprintf(d->ms, sizeof d->ms, "eurosat-ms:%s", path);
    snprintf(path, sizeof path, "%s/rgb", d->dir);
    cr_assert_eq(gs_synth_write("eurosat-rgb", path, &so, &err), GS_OK, "%s", err.message);
    snprintf(d->rgb, sizeof d->rgb, "eurosat-rgb:%s", path);
}

static void open_with(const char *spec, const char *bands, gs_dataset *ds) {
    gs_dataset_options o = {0};
    snprintf(o.bands, sizeof o.bands, "%s", bands);
    gs_error err = {0};
    cr_assert_eq(gs_dataset_open(spec, &o, ds, &err), GS_OK, "%s with bands %s: %s", spec, bands, err.message);
}

static float *read_sample(const gs_dataset *ds, int64_t index) {
    float *pixels = malloc((size_t)gs_dataset_read_floats(ds) * sizeof *pixels);
    gs_sample_data data = {.pixels = pixels};
    gs_error err = {0};
    cr_assert_eq(gs_dataset_read(ds, index, &data, &err), GS_OK, "%s", err.message);
    return pixels;
}

Test(datasets_band_selection, chosen_bands_are_those_planes_of_the_whole_sample_in_the_order_asked) {
    data_dirs d;
    make_data(&d);
    gs_dataset whole, chosen;
    open_with(d.ms, "", &whole);
    open_with(d.ms, "B8A,B4,b03,B2", &chosen); /* both spellings, any case */
    cr_assert_eq(chosen.bands, 4);
    const char *names[] = {"B8A", "B04", "B03", "B02"};
    const int source[] = {8, 3, 2, 1}; /* EuroSAT MS order: B01..B08, B8A, B09..B12 */
    for (int b = 0; b < 4; b++) cr_expect_str_eq(chosen.band_info[b].name, names[b]);
    char list[128];
    cr_expect_str_eq(gs_dataset_band_names(&chosen, list, sizeof list), "B8A,B04,B03,B02");
    int64_t plane = whole.height * whole.width;
    for (int64_t i = 0; i < 3; i++) {
        float *all = read_sample(&whole, i), *some = read_sample(&chosen, i);
        for (int b = 0; b < 4; b++)
            cr_expect_eq(memcmp(some + b * plane, all + source[b] * plane, (size_t)plane * sizeof(float)), 0,
                         "sample %lld band %s", (long long)i, names[b]);
        free(all);
        free(some);
    }
    cr_expect_neq(gs_dataset_key(&chosen), gs_dataset_key(&whole), "the selection shares the whole data's stats");
    gs_dataset_close(&whole);
    gs_dataset_close(&chosen);
    test_remove_tree(d.dir);
}

Test(datasets_band_selection, rgb_means_each_formats_red_green_blue) {
    data_dirs d;
    make_data(&d);
    gs_dataset ms, rgb, alias;
    open_with(d.ms, "rgb", &ms);
    char list[128];
    cr_expect_str_eq(gs_dataset_band_names(&ms, list, sizeof list), "B04,B03,B02");
    open_with(d.rgb, "rgb", &rgb);
    cr_expect_str_eq(gs_dataset_band_names(&rgb, list, sizeof list), "red,green,blue");
    cr_expect(gs_dataset_bands_are(&rgb, "red,green,blue"));
    /* EuroSAT's red is B04: either name finds the other. */
    cr_expect(gs_dataset_bands_are(&rgb, "B4,B3,B2"));
    cr_expect(gs_dataset_bands_are(&ms, "red,green,blue"));
    cr_expect_not(gs_dataset_bands_are(&ms, "B04,B03"));
    cr_expect_not(gs_dataset_bands_are(&ms, "B03,B04,B02"));
    open_with(d.rgb, "B2", &alias);
    cr_expect_eq(alias.bands, 1);
    cr_expect_str_eq(alias.band_info[0].name, "blue");
    gs_dataset_close(&ms);
    gs_dataset_close(&rgb);
    gs_dataset_close(&alias);
    test_remove_tree(d.dir);
}

Test(datasets_band_selection, missing_and_repeated_bands_are_refused_naming_them) {
    data_dirs d;
    make_data(&d);
    gs_dataset ds;
    gs_dataset_options o = {.bands = "B4,B8A"};
    gs_error err = {0};
    cr_expect_eq(gs_dataset_open(d.rgb, &o, &ds, &err), GS_ERR_ARGUMENT);
    cr_expect(strstr(err.message, "'B8A' is not in") && strstr(err.message, "red,green,blue"), "%s", err.message);
    snprintf(o.bands, sizeof o.bands, "B4,B04");
    memset(&err, 0, sizeof err);
    cr_expect_eq(gs_dataset_open(d.ms, &o, &ds, &err), GS_ERR_ARGUMENT);
    cr_expect(strstr(err.message, "named twice"), "%s", err.message);
    snprintf(o.bands, sizeof o.bands, ",");
    memset(&err, 0, sizeof err);
    cr_expect_eq(gs_dataset_open(d.ms, &o, &ds, &err), GS_ERR_ARGUMENT);
    cr_expect(strstr(err.message, "names no band"), "%s", err.message);
    /* "all" is every band, no selection. */
    snprintf(o.bands, sizeof o.bands, "all");
    cr_assert_eq(gs_dataset_open(d.ms, &o, &ds, &err), GS_OK, "%s", err.message);
    cr_expect_eq(ds.bands, 13);
    cr_expect_eq(ds.source_bands, 0);
    gs_dataset_close(&ds);
    test_remove_tree(d.dir);
}
