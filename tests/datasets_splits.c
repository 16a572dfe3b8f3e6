/* Splits: published split files (the EuroSAT MS fixture's lists, generated
 * folders with .jpg files listed as .tif), stratified splits, the every-5th
 * protocol split on the real EuroSAT RGB sample, and nested 1% / 10% label
 * subsets.  Real samples are skipped visibly when ../shared/data is absent. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset.h"
#include "image_io.h"
#include "splits.h"
#include "test_paths.h"

static int split_of(const gs_dataset *ds, const char *stem) {
    int64_t i = test_find_stem(ds, stem);
    cr_assert_geq(i, 0, "%s is not indexed", stem);
    return ds->samples[i].split;
}

static int64_t count_split(const gs_dataset *ds, int split, int label) {
    int64_t n = 0;
    for (int64_t i = 0; i < ds->n_samples; i++)
        n += ds->samples[i].split == split && (label < 0 || ds->samples[i].label == label);
    return n;
}

static const char *write_text(const char *dir, const char *name, const char *text, char *path, size_t size) {
    snprintf(path, size, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert(f != NULL, "cannot create %s", path);
    fputs(text, f);
    fclose(f);
    return path;
}

/* A dataset built in memory: class c has sizes[c] samples "c<c>_<i>",
 * indexed in reverse when asked (splits must not depend on that order). */
static void memory_dataset(gs_dataset *ds, gs_task task, const int *sizes, int n_classes, bool reverse) {
    memset(ds, 0, sizeof *ds);
    ds->root = strdup("memory");
    ds->task = task;
    char *names[64];
    for (int c = 0; c < n_classes; c++) {
        names[c] = malloc(16);
        snprintf(names[c], 16, "c%d", c);
    }
    gs_error err = {0};
    cr_assert_eq(gs_dataset_set_classes(ds, (const char *const *)names, n_classes, &err), GS_OK);
    for (int c = 0; c < n_classes; c++) free(names[c]);
    int total = 0;
    for (int c = 0; c < n_classes; c++) total += sizes[c];
    for (int k = 0; k < total; k++) {
        int j = reverse ? total - 1 - k : k, c = 0;
        while (j >= sizes[c]) j -= sizes[c++];
        char path[64];
        snprintf(path, sizeof path, "memory/c%d/c%d_%d.tif", c, c, j + 1);
        gs_sample *s = gs_dataset_add_sample(ds, path, NULL, &err);
        cr_assert(s != NULL);
        s->label = task == GS_TASK_CLASSIFICATION ? c : GS_IGNORE_LABEL;
    }
}

/* ---- split files ---------------------------------------------------------------- */

Test(datasets_splits, eurosat_ms_fixture_split_files) {
    char root[1024], train[1200], val[1200], test[1200];
    REQUIRE_SHARED("format-fixtures/eurosat-ms", root);
    snprintf(train, sizeof train, "%s/eurosat-train.txt", root);
    snprintf(val, sizeof val, "%s/eurosat-val.txt", root);
    snprintf(test, sizeof test, "%s/eurosat-test.txt", root);
    gs_dataset ds;
    gs_error err;
    cr_assert_eq(test_open_dataset("eurosat-ms", root, &ds, &err), GS_OK, "%s", err.message);
    cr_assert_eq(ds.n_samples, 2);
    int64_t warnings = ds.n_warnings;
    gs_split_file_report r;
    cr_assert_eq(gs_split_apply_files_report(&ds, train, NULL, NULL, &r, &err), GS_OK, "%s", err.message);
    cr_expect_eq(r.listed[GS_SPLIT_TRAIN], 2);
    cr_expect_eq(r.assigned[GS_SPLIT_TRAIN], 2);
    cr_expect_eq(r.unmatched, 0);
    cr_expect_eq(split_of(&ds, "AnnualCrop_1"), GS_SPLIT_TRAIN);
    cr_expect_eq(split_of(&ds, "Forest_1"), GS_SPLIT_TRAIN);
    cr_expect_eq(ds.n_warnings, warnings);
    cr_assert_eq(gs_split_apply_files_report(&ds, NULL, NULL, test, &r, &err), GS_OK, "%s", err.message);
    cr_expect_eq(split_of(&ds, "Forest_1"), GS_SPLIT_TEST, "applying files again starts afresh");
    /* The fixture lists both files in all three lists: a leak, kept in train and warned. */
    cr_assert_eq(gs_split_apply_files_report(&ds, train, val, test, &r, &err), GS_OK, "%s", err.message);
    cr_expect_eq(r.conflicts, 2, "both samples are in all three lists");
    cr_expect_eq(r.assigned[GS_SPLIT_TRAIN], 2);
    cr_expect_eq(r.assigned[GS_SPLIT_VAL] + r.assigned[GS_SPLIT_TEST], 0);
    cr_expect(strstr(r.first_conflict, "AnnualCrop_1") != NULL, "%s", r.first_conflict);
    cr_expect_eq(ds.n_warnings, warnings + 1);
    gs_dataset_close(&ds);
}

/* EuroSAT's lists name .tif files; the RGB release has .jpg files. */
Test(datasets_splits, names_match_by_stem_and_unmatched_are_counted) {
    char dir[256], file[1200], train[1200], val[1200], test[1200];
    test_temp_dir(dir, sizeof dir);
    gs_error err = {0};
    gs_raster r;
    cr_assert_eq(gs_raster_alloc(&r, 3, 64, 64, &err), GS_OK);
    static const char *const files[10] = {"Forest/Forest_1", "Forest/Forest_2", "Forest/Forest_3", "Forest/Forest_4",
                                          "Forest/Forest_5", "Forest/Forest_6", "River/River_1",   "River/River_2",
                                          "River/River_3",   "River/River_4"};
    snprintf(file, sizeof file, "%s/Forest", dir);
    mkdir(file, 0755);
    snprintf(file, sizeof file, "%s/River", dir);
    mkdir(file, 0755);
    for (int i = 0; i < 10; i++) {
        snprintf(file, sizeof file, "%s/%s.jpg", dir, files[i]);
        cr_assert_eq(gs_jpeg_write(file, &r, 90, &err), GS_OK, "%s", err.message);
    }
    gs_raster_free(&r);
    write_text(dir, "train.txt", "Forest_1.tif\nForest_2.tif\n\n# comment\nRiver_1.tif\nRiver_99.tif\nSeaLake_5.tif\n",
               train, sizeof train);
    write_text(dir, "val.txt", "Forest_3.tif\r\n", val, sizeof val);
    write_text(dir, "test.csv", "some/dir/Forest_4.tif,extra column\n  River_2  \n", test, sizeof test);
    gs_dataset ds;
    cr_assert_eq(test_open_dataset("eurosat-rgb", dir, &ds, &err), GS_OK, "%s", err.message);
    int64_t warnings = ds.n_warnings;
    gs_split_file_report rep;
    cr_assert_eq(gs_split_apply_files_report(&ds, train, val, test, &rep, &err), GS_OK, "%s", err.message);
    cr_expect_eq(rep.listed[0], 5);
    cr_expect_eq(rep.listed[1], 1);
    cr_expect_eq(rep.listed[2], 2);
    cr_expect_eq(rep.assigned[0], 3);
    cr_expect_eq(rep.assigned[1], 1);
    cr_expect_eq(rep.assigned[2], 2);
    cr_expect_eq(rep.unmatched, 2);
    char expected[1300];
    snprintf(expected, sizeof expected, "%s:6: River_99.tif", train);
    cr_expect_str_eq(rep.first_unmatched, expected);
    cr_expect_eq(rep.conflicts, 0);
    cr_expect_eq(ds.n_warnings, warnings + 1, "one warning for the unmatched names");
    cr_expect_eq(split_of(&ds, "Forest_1"), GS_SPLIT_TRAIN);
    cr_expect_eq(split_of(&ds, "River_1"), GS_SPLIT_TRAIN);
    cr_expect_eq(split_of(&ds, "Forest_3"), GS_SPLIT_VAL);
    cr_expect_eq(split_of(&ds, "Forest_4"), GS_SPLIT_TEST);
    cr_expect_eq(split_of(&ds, "River_2"), GS_SPLIT_TEST);
    cr_expect_eq(count_split(&ds, GS_SPLIT_NONE, -1), 4, "Forest_5, Forest_6, River_3, River_4 are not listed");

    /* Bad split files are errors naming them. */
    char missing[1200], empty[1200], foreign[1200];
    snprintf(missing, sizeof missing, "%s/none.txt", dir);
    memset(&err, 0, sizeof err);
    cr_expect_eq(gs_split_apply_files(&ds, missing, NULL, NULL, &err), GS_ERR_IO);
    cr_expect(strstr(err.message, missing) != NULL, "%s", err.message);
    write_text(dir, "empty.txt", "\n# nothing\n", empty, sizeof empty);
    memset(&err, 0, sizeof err);
    cr_expect_eq(gs_split_apply_files(&ds, empty, NULL, NULL, &err), GS_ERR_FORMAT);
    cr_expect(strstr(err.message, empty) != NULL, "%s", err.message);
    write_text(dir, "foreign.txt", "airport_001.jpg\nairport_002.jpg\n", foreign, sizeof foreign);
    memset(&err, 0, sizeof err);
    cr_expect_eq(gs_split_apply_files(&ds, foreign, NULL, NULL, &err), GS_ERR_FORMAT);
    cr_expect(strstr(err.message, "airport_001.jpg") != NULL, "%s", err.message);
    memset(&err, 0, sizeof err);
    cr_expect_eq(gs_split_apply_files(&ds, NULL, NULL, NULL, &err), GS_ERR_ARGUMENT);
    gs_dataset_close(&ds);
    test_remove_tree(dir);
}

/* ---- stratified ------------------------------------------------------------------- */

Test(datasets_splits, stratified_counts_per_class_and_reproducible) {
    const int sizes[4] = {23, 10, 5, 1};
    const double fractions[3] = {0.6, 0.2, 0.2};
    gs_dataset a, b;
    gs_error err = {0};
    memory_dataset(&a, GS_TASK_CLASSIFICATION, sizes, 4, false);
    memory_dataset(&b, GS_TASK_CLASSIFICATION, sizes, 4, true);
    cr_assert_eq(gs_split_stratified(&a, fractions, 7, &err), GS_OK, "%s", err.message);
    cr_assert_eq(gs_split_stratified(&b, fractions, 7, &err), GS_OK, "%s", err.message);
    /* Largest remainder per class: 23 -> 14/5/4, 10 -> 6/2/2, 5 -> 3/1/1, 1 -> 1/0/0. */
    const int64_t expected[4][3] = {{14, 5, 4}, {6, 2, 2}, {3, 1, 1}, {1, 0, 0}};
    for (int c = 0; c < 4; c++)
        for (int s = 0; s < 3; s++)
            cr_expect_eq(count_split(&a, s, c), expected[c][s], "class %d split %s: %lld", c, gs_split_name(s),
                         (long long)count_split(&a, s, c));
    cr_expect_eq(count_split(&a, GS_SPLIT_NONE, -1), 0);
    for (int64_t i = 0; i < a.n_samples; i++)
        cr_expect_eq(split_of(&b, a.samples[i].stem), a.samples[i].split, "%s: indexing order changed the split",
                     a.samples[i].stem);
    /* Another seed gives another split of the same sizes. */
    int64_t moved = 0;
    int before[39];
    for (int64_t i = 0; i < a.n_samples; i++) before[i] = a.samples[i].split;
    cr_assert_eq(gs_split_stratified(&a, fractions, 8, &err), GS_OK);
    for (int64_t i = 0; i < a.n_samples; i++) moved += a.samples[i].split != before[i];
    cr_expect_gt(moved, 0);
    cr_expect_eq(count_split(&a, GS_SPLIT_TRAIN, 0), 14);
    /* Fractions below 1 leave the rest out. */
    const double partial[3] = {0.5, 0.1, 0.0};
    cr_assert_eq(gs_split_stratified(&a, partial, 7, &err), GS_OK);
    cr_expect_eq(count_split(&a, GS_SPLIT_TRAIN, 1), 5);
    cr_expect_eq(count_split(&a, GS_SPLIT_VAL, 1), 1);
    cr_expect_eq(count_split(&a, GS_SPLIT_TEST, 1), 0);
    cr_expect_eq(count_split(&a, GS_SPLIT_NONE, 1), 4);
    const double bad[3] = {0.7, 0.4, 0.0};
    cr_expect_eq(gs_split_stratified(&a, bad, 7, &err), GS_ERR_ARGUMENT);
    gs_dataset_close(&a);
    gs_dataset_close(&b);
}

/* Multi-label: stratified by the rarest label, so a label on 5 of 100
 * samples still reaches every split. */
Test(datasets_splits, stratified_multilabel_spreads_rare_labels) {
    const int sizes[1] = {100};
    gs_dataset ds;
    gs_error err = {0};
    memory_dataset(&ds, GS_TASK_MULTILABEL, sizes, 1, false);
    for (int64_t i = 0; i < 100; i++) ds.samples[i].labels = 1u | (i % 10 == 3 ? 2u : 0u) | (i % 20 == 7 ? 4u : 0u);
    const double fractions[3] = {0.6, 0.2, 0.2};
    for (uint64_t seed = 0; seed < 5; seed++) {
        cr_assert_eq(gs_split_stratified(&ds, fractions, seed, &err), GS_OK, "%s", err.message);
        for (int s = 0; s < 3; s++) {
            int rare = 0, rarer = 0;
            for (int64_t i = 0; i < 100; i++)
                if (ds.samples[i].split == s) {
                    rare += (ds.samples[i].labels & 2u) != 0;
                    rarer += (ds.samples[i].labels & 4u) != 0;
                }
            cr_expect_geq(rare, 1, "label 1 missing from %s (seed %llu)", gs_split_name(s), (unsigned long long)seed);
            cr_expect_geq(rarer, 1, "label 2 missing from %s (seed %llu)", gs_split_name(s), (unsigned long long)seed);
        }
        cr_expect_eq(count_split(&ds, GS_SPLIT_TRAIN, -1), 60);
    }
    gs_dataset_close(&ds);
}

/* ---- the protocol split --------------------------------------------------------- */

Test(datasets_splits, every_fifth_by_file_number_on_eurosat_rgb) {
    char root[1024];
    REQUIRE_SHARED("eurosat-rgb", root);
    gs_dataset ds;
    gs_error err;
    cr_assert_eq(test_open_dataset("eurosat-rgb", root, &ds, &err), GS_OK, "%s", err.message);
    cr_assert_eq(gs_split_every_nth(&ds, 5, &err), GS_OK, "%s", err.message);
    cr_expect_eq(count_split(&ds, GS_SPLIT_TEST, -1), 400);
    cr_expect_eq(count_split(&ds, GS_SPLIT_TRAIN, -1), 1600);
    for (int c = 0; c < 10; c++) cr_expect_eq(count_split(&ds, GS_SPLIT_TEST, c), 40);
    /* Sorted by the number in the file name: Forest_5, _10, ..., _200 are test. */
    cr_expect_eq(split_of(&ds, "Forest_5"), GS_SPLIT_TEST);
    cr_expect_eq(split_of(&ds, "Forest_10"), GS_SPLIT_TEST);
    cr_expect_eq(split_of(&ds, "Forest_100"), GS_SPLIT_TEST);
    cr_expect_eq(split_of(&ds, "Forest_200"), GS_SPLIT_TEST);
    cr_expect_eq(split_of(&ds, "Forest_4"), GS_SPLIT_TRAIN);
    cr_expect_eq(split_of(&ds, "Forest_101"), GS_SPLIT_TRAIN);
    cr_expect_eq(split_of(&ds, "SeaLake_195"), GS_SPLIT_TEST);
    for (int64_t i = 0; i < ds.n_samples; i++) {
        const char *number = strrchr(ds.samples[i].stem, '_') + 1;
        int test = atoi(number) % 5 == 0;
        cr_assert_eq(ds.samples[i].split, test ? GS_SPLIT_TEST : GS_SPLIT_TRAIN, "%s", ds.samples[i].stem);
    }
    cr_expect_eq(gs_split_every_nth(&ds, 1, &err), GS_ERR_ARGUMENT);
    gs_dataset_close(&ds);
}

Test(datasets_splits, every_nth_ignores_indexing_order) {
    const int sizes[2] = {12, 7};
    gs_dataset a, b;
    gs_error err = {0};
    memory_dataset(&a, GS_TASK_CLASSIFICATION, sizes, 2, false);
    memory_dataset(&b, GS_TASK_CLASSIFICATION, sizes, 2, true);
    cr_assert_eq(gs_split_every_nth(&a, 5, &err), GS_OK);
    cr_assert_eq(gs_split_every_nth(&b, 5, &err), GS_OK);
    cr_expect_eq(split_of(&b, "c0_5"), GS_SPLIT_TEST);
    cr_expect_eq(split_of(&b, "c0_10"), GS_SPLIT_TEST);
    cr_expect_eq(split_of(&b, "c0_11"), GS_SPLIT_TRAIN);
    cr_expect_eq(split_of(&b, "c1_5"), GS_SPLIT_TEST);
    cr_expect_eq(count_split(&b, GS_SPLIT_TEST, -1), 3);
    for (int64_t i = 0; i < a.n_samples; i++) cr_expect_eq(split_of(&b, a.samples[i].stem), a.samples[i].split);
    gs_dataset_close(&a);
    gs_dataset_close(&b);
}

Test(datasets_splits, name_order_counts_digit_runs_as_numbers) {
    cr_expect_lt(gs_split_name_compare("Forest_2", "Forest_10"), 0);
    cr_expect_gt(gs_split_name_compare("Forest_100", "Forest_99"), 0);
    cr_expect_lt(gs_split_name_compare("AnnualCrop_5", "Forest_1"), 0);
    cr_expect_eq(gs_split_name_compare("River_7", "River_7"), 0);
    cr_expect_neq(gs_split_name_compare("x_007", "x_7"), 0, "the order stays total");
    cr_expect_eq(gs_split_name_compare("x_007", "x_7"), -gs_split_name_compare("x_7", "x_007"));
    cr_expect_lt(gs_split_name_compare("a_1_2", "a_1_10"), 0);
}

/* ---- label-fraction subsets --------------------------------------------------------- */

static bool contains(const int64_t *sorted, int64_t n, int64_t v) {
    for (int64_t i = 0; i < n; i++)
        if (sorted[i] == v) return true;
    return false;
}

Test(datasets_splits, label_subsets_on_eurosat_rgb_are_stratified_and_nested) {
    char root[1024];
    REQUIRE_SHARED("eurosat-rgb", root);
    gs_dataset ds;
    gs_error err;
    cr_assert_eq(test_open_dataset("eurosat-rgb", root, &ds, &err), GS_OK, "%s", err.message);
    cr_assert_eq(gs_split_every_nth(&ds, 5, &err), GS_OK);
    int64_t *one = NULL, *ten = NULL, *again = NULL, *other = NULL, n1, n10, n_again, n_other;
    cr_assert_eq(gs_split_label_subset(&ds, GS_SPLIT_TRAIN, 0.01, 3, &one, &n1, &err), GS_OK, "%s", err.message);
    cr_assert_eq(gs_split_label_subset(&ds, GS_SPLIT_TRAIN, 0.10, 3, &ten, &n10, &err), GS_OK, "%s", err.message);
    /* 160 training images per class: 1% -> round(1.6) = 2, 10% -> 16. */
    cr_expect_eq(n1, 20);
    cr_expect_eq(n10, 160);
    int per_class1[10] = {0}, per_class10[10] = {0};
    for (int64_t i = 0; i < n1; i++) {
        cr_expect_eq(ds.samples[one[i]].split, GS_SPLIT_TRAIN);
        per_class1[ds.samples[one[i]].label]++;
        cr_expect(contains(ten, n10, one[i]), "%s is in the 1%% subset but not in the 10%% one",
                  ds.samples[one[i]].stem);
        if (i > 0) cr_expect_gt(one[i], one[i - 1], "indices ascend");
    }
    for (int64_t i = 0; i < n10; i++) per_class10[ds.samples[ten[i]].label]++;
    for (int c = 0; c < 10; c++) {
        cr_expect_eq(per_class1[c], 2);
        cr_expect_eq(per_class10[c], 16);
    }
    cr_assert_eq(gs_split_label_subset(&ds, GS_SPLIT_TRAIN, 0.01, 3, &again, &n_again, &err), GS_OK);
    cr_assert_eq(n_again, n1);
    cr_expect_eq(memcmp(again, one, sizeof *one * (size_t)n1), 0, "same seed, same subset");
    cr_assert_eq(gs_split_label_subset(&ds, GS_SPLIT_TRAIN, 0.01, 4, &other, &n_other, &err), GS_OK);
    cr_expect_neq(memcmp(other, one, sizeof *one * (size_t)n1), 0, "another seed, another subset");
    free(one);
    free(ten);
    free(again);
    free(other);
    gs_dataset_close(&ds);
}

Test(datasets_splits, label_subsets_keep_every_class_and_nest) {
    const int sizes[3] = {120, 30, 3};
    gs_dataset ds;
    gs_error err = {0};
    memory_dataset(&ds, GS_TASK_CLASSIFICATION, sizes, 3, false);
    for (int64_t i = 0; i < ds.n_samples; i++) ds.samples[i].split = GS_SPLIT_TRAIN;
    int64_t *one, *ten, n1, n10;
    for (uint64_t seed = 0; seed < 20; seed++) {
        cr_assert_eq(gs_split_label_subset(&ds, GS_SPLIT_TRAIN, 0.01, seed, &one, &n1, &err), GS_OK);
        cr_assert_eq(gs_split_label_subset(&ds, GS_SPLIT_TRAIN, 0.10, seed, &ten, &n10, &err), GS_OK);
        /* 1%: 1 + (0 -> 1) + (0 -> 1); 10%: 12 + 3 + (0 -> 1). */
        cr_expect_eq(n1, 3);
        cr_expect_eq(n10, 16);
        bool seen[3] = {false, false, false};
        for (int64_t i = 0; i < n1; i++) {
            seen[ds.samples[one[i]].label] = true;
            cr_expect(contains(ten, n10, one[i]), "not nested (seed %llu)", (unsigned long long)seed);
        }
        cr_expect(seen[0] && seen[1] && seen[2], "a class has no labelled sample");
        free(one);
        free(ten);
    }
    /* Only the asked split is drawn from. */
    ds.samples[0].split = GS_SPLIT_TEST;
    cr_assert_eq(gs_split_label_subset(&ds, GS_SPLIT_TEST, 0.5, 1, &one, &n1, &err), GS_OK);
    cr_expect_eq(n1, 1);
    cr_expect_eq(one[0], 0);
    free(one);
    cr_expect_eq(gs_split_label_subset(&ds, GS_SPLIT_VAL, 0.1, 1, &one, &n1, &err), GS_ERR_ARGUMENT,
                 "an empty split is an error");
    cr_expect_eq(gs_split_label_subset(&ds, GS_SPLIT_TRAIN, 0.0, 1, &one, &n1, &err), GS_ERR_ARGUMENT);
    gs_dataset_close(&ds);
}

/* Multi-label: a label carried by one sample is still in the 1% subset. */
Test(datasets_splits, multilabel_subsets_include_every_label) {
    const int sizes[1] = {300};
    gs_dataset ds;
    gs_error err = {0};
    memory_dataset(&ds, GS_TASK_MULTILABEL, sizes, 1, false);
    for (int64_t i = 0; i < 300; i++) {
        ds.samples[i].split = GS_SPLIT_TRAIN;
        ds.samples[i].labels = (i % 2 ? 1u : 2u) | (i == 137 ? 8u : 0u) | (i % 50 == 1 ? 16u : 0u);
    }
    int64_t *one, *ten, n1, n10;
    cr_assert_eq(gs_split_label_subset(&ds, GS_SPLIT_TRAIN, 0.01, 5, &one, &n1, &err), GS_OK);
    cr_assert_eq(gs_split_label_subset(&ds, GS_SPLIT_TRAIN, 0.10, 5, &ten, &n10, &err), GS_OK);
    uint64_t present = 0;
    for (int64_t i = 0; i < n1; i++) {
        present |= ds.samples[one[i]].labels;
        cr_expect(contains(ten, n10, one[i]), "not nested");
    }
    cr_expect_eq(present, 1u | 2u | 8u | 16u, "labels present in the 1%% subset: %llx", (unsigned long long)present);
    cr_expect(contains(one, n1, 137), "the only sample with label 3 must be labelled");
    cr_expect_leq(n1, 3 + 4 + 2, "about 1%% plus one per label: %lld", (long long)n1);
    free(one);
    free(ten);
    gs_dataset_close(&ds);
}
