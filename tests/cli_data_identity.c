/* Which data a result measured: the format's name alone cannot tell two
 * folders apart, so every row's settings carry data=N:HASH (the samples'
 * names, labels, splits and the source files' size).  Two generations of
 * synthetic EuroSAT (same file names, other pixels) get different hashes;
 * a copy of one folder elsewhere gets the same; and measurements on two
 * folders share a results file without one replacing or blocking the
 * other. */
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

Test(cli_data_identity, results_on_two_folders_of_one_format_stay_apart) {
    two_folders w;
    generate(&w);
    captured c = knn(&w, w.a);
    cr_assert_eq(c.rc, 0, "%s", c.err);
    c = knn(&w, w.b);
    cr_assert_eq(c.rc, 0, "the second folder's measurement was refused as the first's: %s", c.err);
    c = knn(&w, w.copy);
    cr_expect_neq(c.rc, 0, "the same data at another path is the same measurement");
    cr_expect(strstr(c.err, "already holds") != NULL, "%s", c.err);
    gs_results r;
    gs_error err = {0};
    cr_assert_eq(gs_results_load(w.results, &r, &err), GS_OK, "%s", err.message);
    const char *first = NULL, *second = NULL;
    for (size_t i = 0; i < r.n_rows; i++) {
        if (strcmp(r.rows[i].metric, "top1")) continue;
        const char *data = strstr(r.rows[i].settings, "data=50:");
        cr_assert_not_null(data, "no data= in %s", r.rows[i].settings);
        if (!first)
            first = data;
        else
            second = data;
    }
    cr_assert(first && second, "two top-1 rows");
    cr_expect(strcmp(first, second), "both folders recorded as %s", first);
    gs_results_free(&r);
    test_remove_tree(w.dir);
}
