/* The report as a reader sees it, in headless Chromium at a 1280 px wide
 * window (tests/chromium/check_report.sh): every <img> loads and no table is
 * wider than its box, its column or the window, for a report with everything
 * in it (several datasets, protocols and fractions, published rows, run
 * logs, per-class plots, settings, kernels, long paths).  The checker is
 * shown to catch a broken image and an overflowing table.  Where Chromium is
 * not installed (CI never installs it) these say so and skip; that the skip
 * is visible is checked everywhere.  GEOSSL_CHROMIUM_SCREENSHOT=FILE keeps
 * the full report's screenshot, GEOSSL_CHROMIUM_REPORT=DIR the report. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report.h"
#include "test_paths.h"

#define CHECK_SCRIPT GEOSSL_TESTS_SOURCE_DIR "/chromium/check_report.sh"
#define SKIPPED 77 /* check_report.sh: Chromium is not installed */

static void spit(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return strdup("");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = '\0';
    return buf;
}

/* Runs the checker on a report folder; its output lands in *output. */
static int run_check(const char *report_dir, const char *screenshot, const char *log, char **output) {
    char command[4096];
    snprintf(command, sizeof command, "/bin/bash '%s' '%s' '%s' >'%s' 2>&1", CHECK_SCRIPT, report_dir, screenshot,
             log);
    int status = system(command);
    *output = slurp(log);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Where Chromium is absent, says so where ctest shows it and skips. */
static void skip_without_chromium(int code, const char *output) {
    if (code != SKIPPED) return;
    fprintf(stderr, "%s", output);
    cr_skip_test("%s", output);
}

static const char *const CLASSES[] = {"AnnualCrop", "Forest", "HerbaceousVegetation", "Highway", "Industrial",
                                      "Pasture", "PermanentCrop", "Residential", "River", "SeaLake"};

static void add_row(FILE *f, const char *method, const char *data, const char *protocol, double fraction, int seed,
                    const char *metric, double value) {
    fprintf(f,
            "%s-%s-%s-%g-seed%d-2026-12-07T16:34:15Z,%s,resnet18,%s,%s,%s,%g,%d,%s,%g,0123456789abcdef-dirty,"
            "9f8e7d6c5b4a3921,2,2026-12-07T16:34:15Z,12.5,AMD EPYC 7B13 64-Core Processor with a long model name\n",
            method, data, protocol, fraction, seed, method, strcmp(method, "random") ? "eurosat-rgb" : "none", data,
            protocol, fraction, seed, metric, value);
}

/* Four methods x (kNN, linear at 1/10/100%, fine-tuning) on EuroSAT, a
 * linear probe on BigEarthNet, per-class metrics, the probe's settings and a
 * throughput row: about what a small suite writes. */
static void write_results(const char *path) {
    static const char *const METHODS[] = {"random", "simclr", "byol", "mocov2"};
    static const double FRACTIONS[] = {0.01, 0.1, 1.0};
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("run_id,method,backbone,pretrain_data,eval_data,protocol,label_fraction,seed,metric,value,git_commit,"
          "config_hash,threads,date,wall_time_s,cpu\n",
          f);
    for (int m = 0; m < 4; m++)
        for (int seed = 0; seed < 3; seed++) {
            double base = 30.0 + 10.0 * m + seed;
            add_row(f, METHODS[m], "eurosat-rgb", "knn", 1.0, seed, "top1", base);
            for (int k = 0; k < 3; k++) {
                add_row(f, METHODS[m], "eurosat-rgb", "linear", FRACTIONS[k], seed, "top1", base + 5 * k);
                add_row(f, METHODS[m], "eurosat-rgb", "linear", FRACTIONS[k], seed, "kappa", 0.3 + 0.05 * k);
                add_row(f, METHODS[m], "eurosat-rgb", "linear", FRACTIONS[k], seed, "chosen_l2", 0.0001 * (seed + 1));
                add_row(f, METHODS[m], "eurosat-rgb", "linear", FRACTIONS[k], seed, "val_metric", 0.4 + 0.01 * m);
            }
            add_row(f, METHODS[m], "eurosat-rgb", "finetune", 1.0, seed, "top1", base + 20);
            add_row(f, METHODS[m], "bigearthnet", "linear", 1.0, seed, "map_micro", base + 15);
            add_row(f, METHODS[m], "bigearthnet", "linear", 1.0, seed, "map_macro", base + 10);
            for (int c = 0; c < 10; c++) {
                char metric[64];
                snprintf(metric, sizeof metric, "accuracy/%s", CLASSES[c]);
                add_row(f, METHODS[m], "eurosat-rgb", "linear", 1.0, seed, metric, base + 3 * c);
                snprintf(metric, sizeof metric, "f1/%s", CLASSES[c]);
                add_row(f, METHODS[m], "eurosat-rgb", "linear", 1.0, seed, metric, base + 2 * c);
            }
        }
    add_row(f, "simclr", "eurosat-rgb", "bench-train", 1.0, 0, "img_per_s", 812.5);
    fclose(f);
}

static const char REFERENCE[] =
    "method,backbone,pretrain_data,eval_data,protocol,label_fraction,metric,value,paper,table,citation,notes\n"
    "simclr,resnet18,ssl4eo-s12,eurosat-rgb,linear,1,top1,89.5,An Example Paper With A Long Short Name (Author et "
    "al. 2024),\"Table 3, linear evaluation on EuroSAT RGB with all labels, as printed in the camera-ready version\","
    "\"A. Author, B. Author, C. Author, D. Author, E. Author: A very long title about self-supervised learning for "
    "remote sensing imagery that goes on and on. Journal of Examples 12(3):1-20, 2024. "
    "https://example.org/a/very/long/url/that/does/not/break/at/spaces/0123456789\",long notes\n"
    "mocov2,resnet18,seco-1m,eurosat-rgb,finetune,1,top1,97.2,Another Paper (Other et al. 2021),Table 2,"
    "O. Other: Another paper. 2021,\n";

static const char RUN_LOG[] = "step,epoch,loss,lr,embedding_std,img_per_s\n"
                              "1,1,5.5,0.01,0.09,50\n2,1,5.2,0.02,0.08,100\n3,2,4.9,0.03,0.07,120\n";

Test(reports_chromium, the_check_skips_visibly_where_chromium_is_absent) {
    char dir[512], bin[600], report[600], link[700], command[2400];
    cr_assert(test_temp_dir(dir, sizeof dir)[0]);
    snprintf(bin, sizeof bin, "%s/bin", dir);
    snprintf(report, sizeof report, "%s/report", dir);
    cr_assert_eq(mkdir(bin, 0755), 0);
    cr_assert_eq(mkdir(report, 0755), 0);
    snprintf(link, sizeof link, "%s/index.html", report);
    spit(link, "<!DOCTYPE html><title>x</title><p>x</p>");
    /* A PATH with only what the script needs before it looks for a browser. */
    snprintf(link, sizeof link, "%s/dirname", bin);
    cr_assert_eq(symlink("/usr/bin/dirname", link), 0);
    snprintf(command, sizeof command, "PATH='%s' /bin/bash '%s' '%s' '%s/shot.png' >'%s/out.txt' 2>&1", bin,
             CHECK_SCRIPT, report, dir, dir);
    int status = system(command);
    snprintf(link, sizeof link, "%s/out.txt", dir);
    char *output = slurp(link);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == SKIPPED, "exit %d: %s", WEXITSTATUS(status), output);
    cr_expect(strstr(output, "SKIP: chromium is not installed, so the report was not checked in a browser"), "%s",
              output);
    free(output);
    test_remove_tree(dir);
}

Test(reports_chromium, every_image_loads_and_every_table_fits_at_1280_px) {
    char dir[512], results[600], reference[600], path[700], out[600], screenshot[700], log[700];
    cr_assert(test_temp_dir(dir, sizeof dir)[0]);
    snprintf(results, sizeof results, "%s/results.csv", dir);
    snprintf(reference, sizeof reference, "%s/reference.csv", dir);
    const char *keep_report = getenv("GEOSSL_CHROMIUM_REPORT");
    snprintf(out, sizeof out, "%s", keep_report && keep_report[0] ? keep_report : "");
    if (!out[0]) snprintf(out, sizeof out, "%s/report", dir);
    write_results(results);
    spit(reference, REFERENCE);
    static const char *const RUNS[] = {"simclr", "byol", "mocov2"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, RUNS[i]);
        cr_assert_eq(mkdir(path, 0755), 0);
        snprintf(path, sizeof path, "%s/%s/log.csv", dir, RUNS[i]);
        spit(path, RUN_LOG);
    }
    gs_report_options o = {.results_path = results, .reference_path = reference, .out_dir = out,
                           .regression_threshold = 0.1, .title = "geossl report in Chromium",
                           .preface = "A report with every section filled, rendered as a reader would see it."};
    gs_report_summary summary;
    gs_error err = {0};
    cr_assert_eq(gs_report_write(&o, &summary, &err), GS_OK, "%s", err.message);
    cr_expect_eq(summary.n_comparisons, 2);

    const char *keep = getenv("GEOSSL_CHROMIUM_SCREENSHOT");
    snprintf(screenshot, sizeof screenshot, "%s", keep && keep[0] ? keep : "");
    if (!screenshot[0]) snprintf(screenshot, sizeof screenshot, "%s/screenshot.png", dir);
    snprintf(log, sizeof log, "%s/check.txt", dir);
    char *output;
    int code = run_check(out, screenshot, log, &output);
    skip_without_chromium(code, output);
    cr_expect_eq(code, 0, "the Chromium check failed:\n%s", output);
    cr_expect(strstr(output, "every image loads and every table fits"), "%s", output);
    struct stat st;
    cr_expect(stat(screenshot, &st) == 0 && st.st_size > 10000, "no screenshot at %s", screenshot);
    free(output);
    test_remove_tree(dir);
}

Test(reports_chromium, the_check_catches_a_broken_image_and_a_table_too_wide) {
    char dir[512], page[600], screenshot[700], log[700];
    cr_assert(test_temp_dir(dir, sizeof dir)[0]);
    snprintf(page, sizeof page, "%s/index.html", dir);
    spit(page, "<!DOCTYPE html><html><body><main style=\"max-width:800px\">"
               "<img alt=\"broken plot\" src=\"data:image/png;base64,AAAA\">"
               "<table><tr><td style=\"white-space:nowrap\">a cell far too long to fit: "
               "0123456789 0123456789 0123456789 0123456789 0123456789 0123456789 0123456789 0123456789 "
               "0123456789 0123456789 0123456789 0123456789 0123456789 0123456789 0123456789 0123456789"
               "</td></tr></table></main></body></html>");
    snprintf(screenshot, sizeof screenshot, "%s/screenshot.png", dir);
    snprintf(log, sizeof log, "%s/check.txt", dir);
    char *output;
    int code = run_check(dir, screenshot, log, &output);
    skip_without_chromium(code, output);
    cr_expect_eq(code, 1, "%s", output);
    cr_expect(strstr(output, "problem: image 1 (\"broken plot\") did not load"), "%s", output);
    cr_expect(strstr(output, "problem: table 1"), "%s", output);
    cr_expect(strstr(output, "past its main's content edge"), "%s", output);
    free(output);
    test_remove_tree(dir);
}
