/* Published split lists are honoured: a EuroSAT folder's eurosat-*.txt by
 * default, --splits DIR elsewhere; `data check` and `eval` count the same
 * split, and the settings column says which one was used. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_capture.h"
#include "commands.h"
#include "results_store.h"
#include "synthetic.h"
#include "test_paths.h"

typedef struct split_dir {
    char dir[256], data[320], spec[400], lists[320], results[320];
} split_dir;

/* 5 images per class; the generator's lists put 3 / 1 / 1 of each class in
 * train / val / test.  The lists are then moved out of the data folder. */
static void make_data(split_dir *w, bool move_lists) {
    cr_assert(test_temp_dir(w->dir, sizeof w->dir)[0]);
    snprintf(w->data, sizeof w->data, "%s/eurosat", w->dir);
    snprintf(w->spec, sizeof w->spec, "eurosat-rgb:%s", w->data);
    snprintf(w->lists, sizeof w->lists, "%s/lists", w->dir);
    snprintf(w->results, sizeof w->results, "%s/results.csv", w->dir);
    char cache[300];
    snprintf(cache, sizeof cache, "%s/cache", w->dir);
    setenv("GEOSSL_CACHE_DIR", cache, 1);
    gs_synth_options so = {.seed = 1, .count = 5};
    gs_error err = {0};
    cr_assert_eq(gs_synth_write("eurosat-rgb", w->data, &so, &err), GS_OK, "%s", err.message);
    if (!move_lists) return;
    cr_assert_eq(mkdir(w->lists, 0755), 0);
    const char *names[] = {"train", "val", "test"};
    for (int i = 0; i < 3; i++) {
        char from[400], to[400];
        snprintf(from, sizeof from, "%s/eurosat-%s.txt", w->data, names[i]);
        snprintf(to, sizeof to, "%s/eurosat-%s.txt", w->lists, names[i]);
        cr_assert_eq(rename(from, to), 0, "%s", from);
    }
}

static const char *settings_of_first_row(const char *results, char *buf, size_t size) {
    gs_results r;
    gs_error err = {0};
    cr_assert_eq(gs_results_load(results, &r, &err), GS_OK, "%s", err.message);
    cr_assert_gt(r.n_rows, 0);
    snprintf(buf, size, "%s", r.rows[0].settings);
    gs_results_free(&r);
    return buf;
}

Test(cli_splits, the_data_folders_lists_are_the_default) {
    split_dir w;
    make_data(&w, false);
    captured c = run(gs_cmd_data, (char *[]){"data", "check", w.spec, NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.out, "splits (official): train 30, val 10, test 10, unassigned 0"), "%s", c.out);
    c = run(gs_cmd_eval, (char *[]){"eval", "--random-init", "--width", "8", "--threads", "1", "--data", w.spec,
                                    "--results", w.results, NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.out, "30 training and 10 test samples"), "%s", c.out);
    char settings[400];
    cr_expect(strstr(settings_of_first_row(w.results, settings, sizeof settings), "splits=official"), "%s", settings);
    test_remove_tree(w.dir);
}

Test(cli_splits, lists_elsewhere_come_with_splits_dir) {
    split_dir w;
    make_data(&w, true);
    /* Without the lists: every 5th image of a class is test, in both commands. */
    captured c = run(gs_cmd_data, (char *[]){"data", "check", w.spec, NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.out, "splits (every-5th): train 40, val 0, test 10"), "%s", c.out);
    c = run(gs_cmd_data, (char *[]){"data", "check", w.spec, "--splits", w.lists, NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.out, "train 30, val 10, test 10, unassigned 0"), "%s", c.out);
    c = run(gs_cmd_eval, (char *[]){"eval", "--random-init", "--width", "8", "--threads", "1", "--data", w.spec,
                                    "--splits", w.lists, "--results", w.results, NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.out, "30 training and 10 test samples"), "%s", c.out);
    char settings[400], want[400];
    snprintf(want, sizeof want, "splits=file:%s", w.lists);
    cr_expect(strstr(settings_of_first_row(w.results, settings, sizeof settings), want), "%s", settings);
    /* A folder without lists is refused before any work. */
    c = run(gs_cmd_eval, (char *[]){"eval", "--random-init", "--data", w.spec, "--splits", w.data, NULL});
    REFUSED(c, "--splits", "eurosat-train.txt");
    test_remove_tree(w.dir);
}

/* 10% of 3 training images per class rounds to none: each class still gets
 * one, and both stderr and the row's settings say so. */
Test(cli_splits, a_subset_raised_to_one_per_class_says_so) {
    split_dir w;
    make_data(&w, false);
    captured c = run(gs_cmd_eval, (char *[]){"eval", "--random-init", "--width", "8", "--threads", "1", "--data", w.spec,
                                             "--labels", "10%", "--results", w.results, NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.err, "each gets one"), "%s", c.err);
    char settings[400];
    settings_of_first_row(w.results, settings, sizeof settings);
    cr_expect(strstr(settings, "labelled=10;raised=one-per-class"), "%s", settings);
    test_remove_tree(w.dir);
}
