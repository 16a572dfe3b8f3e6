/* Which data a result measured: the format's name alone cannot tell two
 * folders apart, so every row's settings carry data=N:HASH (the samples'
 * names, labels, splits and the source files' size).  Two generations of
 * synthetic EuroSAT (same file names, other pixels) get different hashes;
 * a copy of one folder elsewhere gets the same; and a results file never
 * holds two folders' (or two settings') measurements of one entry, which
 * reports would average as seeds. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_capture.h"
#include "commands.h"
#include "results_store.h"
#include "stats.h"
#include "synthetic.h"
#include "test_paths.h"

typedef struct two_folders {
    char dir[256], a[300], b[300], copy[300], results[300];
} two_folders;

static void generate(two_folders *w) {
    cr_assert(test_temp_dir(w->dir, sizeof w->dir)[0]);
    snprintf(w->a, sizeof w->a, "%s/a", w->dir);
    snprintf(w->b, sizeof w->b, "%s/b", w->dir);
    snprintf(w->copy, sizeof w->copy, "%s/copy", w->dir);
    snprintf(w->results, sizeof w->results, "%s/results.csv", w->dir);
    char cache[300];
    snprintf(cache, sizeof cache, "%s/cache", w->dir);
    setenv("GEOSSL_CACHE_DIR", cache, 1);
    gs_error err = {0};
    cr_assert_eq(gs_synth_write("eurosat-rgb", w->a, &(gs_synth_options){.seed = 1, .count = 5}, &err), GS_OK, "%s",
                 err.message);
    cr_assert_eq(gs_synth_write("eurosat-rgb", w->b, &(gs_synth_options){.seed = 2, .count = 5}, &err), GS_OK, "%s",
                 err.message);
    char command[1000];
    snprintf(command, sizeof command, "cp -r '%s' '%s'", w->a, w->copy);
    cr_assert_eq(system(command), 0);
}

static uint64_t content_key(const char *root) {
    char spec[400];
    snprintf(spec, sizeof spec, "eurosat-rgb:%s", root);
    gs_dataset ds;
    gs_error err = {0};
    cr_assert_eq(gs_dataset_open(spec, NULL, &ds, &err), GS_OK, "%s", err.message);
    uint64_t key = gs_dataset_content_key(&ds);
    gs_dataset_close(&ds);
    return key;
}

Test(cli_data_identity, two_generations_differ_and_a_copy_elsewhere_does_not) {
    two_folders w;
    generate(&w);
    uint64_t a = content_key(w.a), b = content_key(w.b), copy = content_key(w.copy);
    cr_expect_neq(a, b, "two generations with the same file names and labels have one content key");
    cr_expect_eq(a, copy, "the same images at another path have another content key");
    test_remove_tree(w.dir);
}

static captured knn(const two_folders *w, const char *root) {
    char spec[400];
    snprintf(spec, sizeof spec, "eurosat-rgb:%s", root);
    return run(gs_cmd_eval, (char *[]){"eval", "--random-init", "--width", "8", "--data", spec, "--protocol", "knn",
                                       "--threads", "1", "--results", (char *)w->results, "--quiet", NULL});
}

Test(cli_data_identity, results_on_two_folders_of_one_format_never_pass_for_one) {
    two_folders w;
    generate(&w);
    captured c = knn(&w, w.a);
    cr_assert_eq(c.rc, 0, "%s", c.err);
    /* Reports would average the two folders' numbers as seeds of one
     * eurosat-rgb result (and --force replaced one with the other): the
     * second is refused, naming both data hashes. */
    c = knn(&w, w.b);
    cr_expect_neq(c.rc, 0, "a second folder's measurement joined the first's results");
    cr_expect(strstr(c.err, "data=50:") && strstr(c.err, "another --results file"), "%s", c.err);
    /* The same images at another path are the same measurement. */
    c = knn(&w, w.copy);
    cr_expect_neq(c.rc, 0, "the same data at another path was measured again");
    cr_expect(strstr(c.err, "already holds") != NULL, "%s", c.err);
    /* In its own results file, the second folder's row says which data it is. */
    snprintf(w.results, sizeof w.results, "%s/b.csv", w.dir);
    c = knn(&w, w.b);
    cr_assert_eq(c.rc, 0, "%s", c.err);
    gs_results r;
    gs_error err = {0};
    cr_assert_eq(gs_results_load(w.results, &r, &err), GS_OK, "%s", err.message);
    cr_assert_gt(r.n_rows, 0);
    cr_expect(strstr(r.rows[0].settings, ";data=50:") != NULL, "%s", r.rows[0].settings);
    gs_results_free(&r);
    test_remove_tree(w.dir);
}

/* Another k on the same data, encoder and seed's entry would be averaged
 * with the first as a second seed in every report: refused up front, naming
 * the setting and both values; another results file takes it. */
Test(cli_data_identity, another_setting_of_the_same_entry_is_refused_naming_it) {
    two_folders w;
    generate(&w);
    captured c = knn(&w, w.a);
    cr_assert_eq(c.rc, 0, "%s", c.err);
    char spec[400], other[400];
    snprintf(spec, sizeof spec, "eurosat-rgb:%s", w.a);
    c = run(gs_cmd_eval, (char *[]){"eval", "--random-init", "--width", "8", "--data", spec, "--protocol", "knn",
                                    "--k", "3", "--seed", "1", "--threads", "1", "--results", w.results, "--quiet",
                                    NULL});
    cr_expect_neq(c.rc, 0);
    cr_expect(strstr(c.err, "k=20") && strstr(c.err, "k=3") && strstr(c.err, "another --results file"), "%s",
              c.err);
    snprintf(other, sizeof other, "%s/other.csv", w.dir);
    c = run(gs_cmd_eval, (char *[]){"eval", "--random-init", "--width", "8", "--data", spec, "--protocol", "knn",
                                    "--k", "3", "--seed", "1", "--threads", "1", "--results", other, "--quiet", NULL});
    cr_expect_eq(c.rc, 0, "%s", c.err);
    /* The same settings at another seed are what reports average: taken. */
    c = run(gs_cmd_eval, (char *[]){"eval", "--random-init", "--width", "8", "--data", spec, "--protocol", "knn",
                                    "--seed", "1", "--threads", "1", "--results", w.results, "--quiet", NULL});
    cr_expect_eq(c.rc, 0, "%s", c.err);
    test_remove_tree(w.dir);
}
