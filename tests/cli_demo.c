/* geossl demo, made small (8 images per class, 1 epoch): it prints the
 * header, one line per encoder and the report's path; its pretraining runs
 * keep their per-step log.csv, and its report says it is a demo, opens with
 * the results table, draws the runs' curves and compares with
 * results/reference.csv instead of saying no reference file was given. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_capture.h"
#include "commands.h"
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
    cr_expect(strstr(md, "> **Note:** A demo, not a benchmark: SimCLR and BYOL pretrained 1 epoch on 80 generated"),
              "%s", md);
    const char *results = strstr(md, "## Results"), *plots = strstr(md, "## Plots");
    cr_expect(results && plots && results < plots, "the report must open with the results table");
    cr_expect(strstr(md, "| random init | resnet18 | none |"), "%s", md);
    cr_expect(strstr(md, "Training curves from 2 run logs: byol, simclr."), "%s", md);
    cr_expect_null(strstr(md, "No reference file was given"), "the demo compares with results/reference.csv");
    cr_expect(strstr(md, "/reference.csv is for these datasets"), "%s", md);
    free(md);
    test_remove_tree(dir);
}
