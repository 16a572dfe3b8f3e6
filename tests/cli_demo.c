/* geossl demo, made small (8 images per class, 1 epoch): it prints the
 * header, one line per encoder and the report's path; its pretraining runs
 * keep their per-step log.csv, and its report says it is a demo, opens with
 * the results table, draws the runs' curves and compares with
 * results/reference.csv instead of saying no reference file was given. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_capture.h"
#include "commands.h"
#include "results_store.h"
#include "test_paths.h"

static char *read_text(const char *dir, const char *rel) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s is missing", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    char *text = calloc((size_t)size + 1, 1);
    cr_assert(text);
    cr_assert_eq(fread(text, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    return text;
}

static bool exists(const char *dir, const char *rel) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    return access(path, F_OK) == 0;
}

Test(cli_demo, the_report_is_a_results_section_with_the_runs_curves_and_the_published_numbers) {
    char dir[512], demo[600], cache[600];
    cr_assert(test_temp_dir(dir, sizeof dir)[0]);
    snprintf(demo, sizeof demo, "%s/demo", dir);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    setenv("GEOSSL_CACHE_DIR", cache, 1);
    captured c = run(gs_cmd_demo, (char *[]){"demo", "--dir", demo, "--images", "8", "--epochs", "1", "--quiet", NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    /* Header, random / simclr / byol, report path. */
    cr_expect_eq(lines(c.out), 5, "%s", c.out);
    cr_expect(strstr(c.out, "kNN top-1 (%)") && strstr(c.out, "linear top-1 (%)"), "the unit is in the header: %s",
              c.out);
    cr_expect(strstr(c.out, "\nrandom "), "%s", c.out);
    cr_expect(strstr(c.out, "\nsimclr "), "%s", c.out);
    cr_expect(strstr(c.out, "\nbyol "), "%s", c.out);
    cr_expect(strstr(c.out, "report: "), "%s", c.out);

    cr_expect(exists(demo, "simclr/log.csv"));
    cr_expect(exists(demo, "byol/log.csv"));
    cr_expect(exists(demo, "report/results_table.csv"));
    char *md = read_text(demo, "report/report.md");
    cr_expect(strstr(md, "> **Note:** A demo, not a benchmark: SimCLR and BYOL pretrained 1 epoch on a ResNet-18 of "
                         "width 16, on 80 generated EuroSAT-format images (seed 0)"),
              "%s", md);
    const char *results = strstr(md, "## Results"), *plots = strstr(md, "## Plots");
    cr_expect(results && plots && results < plots, "the report must open with the results table");
    cr_expect(strstr(md, "| random init | resnet18-w16 | none |"), "%s", md);
    cr_expect(strstr(md, "Training curves from 2 run logs: byol, simclr."), "%s", md);
    cr_expect_null(strstr(md, "No reference file was given"), "the demo compares with results/reference.csv");
    cr_expect(strstr(md, "/reference.csv is for these datasets"), "%s", md);
    free(md);
    test_remove_tree(dir);
}

/* --seed and --images name the generated data's folder, so a second demo
 * with other options generates its own images instead of reusing images
 * made for the first; the seed and width reach the runs and the results. */
Test(cli_demo, the_data_folder_is_named_by_what_made_it_and_the_seed_reaches_every_run) {
    char dir[512], demo[600], cache[600];
    cr_assert(test_temp_dir(dir, sizeof dir)[0]);
    snprintf(demo, sizeof demo, "%s/demo", dir);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    setenv("GEOSSL_CACHE_DIR", cache, 1);
    captured c = run(gs_cmd_demo, (char *[]){"demo", "--dir", demo, "--images", "8", "--epochs", "1", "--width", "8",
                                             "--quiet", NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    c = run(gs_cmd_demo, (char *[]){"demo", "--dir", demo, "--images", "9", "--epochs", "1", "--width", "8", "--seed",
                                    "2", "--quiet", NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect(exists(demo, "eurosat-8x10-seed0/Forest/Forest_8.jpg"));
    cr_expect(exists(demo, "eurosat-9x10-seed2/Forest/Forest_9.jpg"), "the second demo reused the first's images");
    char *text = read_text(demo, "byol/config.json");
    cJSON *config = cJSON_Parse(text);
    cr_assert_not_null(config, "%s", text);
    cJSON *training = cJSON_GetObjectItem(config, "training"), *backbone = cJSON_GetObjectItem(config, "backbone");
    cr_expect_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(training, "seed")), 2.0, "%s", text);
    cr_expect_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(backbone, "width")), 8.0, "%s", text);
    cJSON_Delete(config);
    free(text);
    char results_path[700];
    snprintf(results_path, sizeof results_path, "%s/results.csv", demo);
    gs_results r;
    gs_error err = {0};
    cr_assert_eq(gs_results_load(results_path, &r, &err), GS_OK, "%s", err.message);
    int headline = 0;
    for (size_t i = 0; i < r.n_rows; i++) {
        cr_expect_eq(r.rows[i].seed, 2, "%s %s %s has seed %d", r.rows[i].method, r.rows[i].protocol,
                     r.rows[i].metric, (int)r.rows[i].seed);
        headline += !strcmp(r.rows[i].metric, "top1");
    }
    cr_expect_eq(headline, 6, "random, simclr, byol x knn, linear");
    gs_results_free(&r);
    test_remove_tree(dir);
}
