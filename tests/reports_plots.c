/* The report's plots: the pretraining runs' log.csv beside a results file
 * (where `geossl demo` and `geossl run` keep them) are found without being
 * named, and give the training-loss and embedding-std curves and the
 * pretraining throughput; the headline metric is drawn as grouped bars per
 * method, against the label fraction where there are several; every axis is
 * labelled with its unit; headline plots come first and the per-class ones
 * are folded away. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gnuplot.h"
#include "loss_log.h"
#include "report.h"
#include "test_paths.h"

#define HEADER                                                                                              \
    "run_id,method,backbone,pretrain_data,eval_data,protocol,label_fraction,seed,metric,value,git_commit," \
    "config_hash,threads,date,wall_time_s,cpu\n"
#define ROW(method, pretrain, protocol, fraction, seed, metric, value)                                          \
    "r-" method "," method ",resnet18," pretrain ",eurosat-rgb," protocol "," fraction "," seed "," metric "," value \
    ",abc123,00ff,2,2024-01-01T00:00:00Z,10,Test CPU\n"

static const char RESULTS[] =
    HEADER
    ROW("simclr", "eurosat-rgb", "knn", "1", "0", "top1", "41")
    ROW("simclr", "eurosat-rgb", "knn", "1", "1", "top1", "43")
    ROW("random", "none", "knn", "1", "0", "top1", "30")
    ROW("simclr", "eurosat-rgb", "linear", "0.1", "0", "top1", "35")
    ROW("random", "none", "linear", "0.1", "0", "top1", "25")
    ROW("simclr", "eurosat-rgb", "linear", "1", "0", "top1", "45")
    ROW("random", "none", "linear", "1", "0", "top1", "33")
    ROW("simclr", "eurosat-rgb", "linear", "1", "0", "accuracy/Forest", "60")
    ROW("simclr", "eurosat-rgb", "linear", "1", "0", "accuracy/River", "20")
    ROW("random", "none", "linear", "1", "0", "accuracy/Forest", "40")
    ROW("simclr", "eurosat-rgb", "linear", "1", "0", "f1/Forest", "55")
    ROW("simclr", "eurosat-rgb", "linear", "1", "0", "f1/River", "25")
    ROW("simclr", "eurosat-rgb", "bench-infer", "1", "0", "img_per_s", "300");

/* A pretraining run's log: 4 steps; img/s 50 (warm-up), 100, 120, 110: median of the last three 110. */
static const char RUN_LOG[] = "step,epoch,loss,lr,embedding_std,img_per_s\n"
                              "1,1,5.5,0.01,0.09,50\n2,1,5.2,0.02,0.08,100\n3,2,4.9,0.03,0.07,120\n4,2,4.7,0.04,0.065,110\n";

static void spit(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s was not written", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = '\0';
    return buf;
}

static long position(const char *haystack, const char *needle) {
    const char *p = strstr(haystack, needle);
    cr_assert_not_null(p, "'%s' is not in:\n%s", needle, haystack);
    return p - haystack;
}

static void make_folder(const char *dir, const char *rel) {
    char path[800];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    cr_assert_eq(mkdir(path, 0755), 0, "%s", path);
}

static void write_in(const char *dir, const char *rel, const char *text) {
    char path[800];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    spit(path, text);
}

/* A run folder as `geossl demo` and `geossl run` leave it: results.csv,
 * DIR/simclr/log.csv (demo) and DIR/pretrain/byol/log.csv (run), plus a
 * log.csv of something else and a run log cut mid-row. */
static void make_run_folder(char *dir, size_t size) {
    cr_assert(test_temp_dir(dir, size)[0]);
    write_in(dir, "results.csv", RESULTS);
    make_folder(dir, "simclr");
    write_in(dir, "simclr/log.csv", RUN_LOG);
    make_folder(dir, "pretrain");
    make_folder(dir, "pretrain/byol");
    write_in(dir, "pretrain/byol/log.csv", "step,epoch,loss,lr,embedding_std,img_per_s\n1,1,3.9,0.01,0.05,80\n"
                                           "2,1,3.1,0.02,0.01,90\n");
    make_folder(dir, "notes");
    write_in(dir, "notes/log.csv", "when,what\nmonday,started\n");
    make_folder(dir, "killed");
    write_in(dir, "killed/log.csv", "step,epoch,loss,lr,embedding_std,img_per_s\n1,1,5.5,0.01,0.09,50\n2,1,5.");
}

Test(reports_plots, the_run_folders_logs_beside_the_results_are_found) {
    char dir[512], results[600], explicit_log[700];
    make_run_folder(dir, sizeof dir);
    snprintf(results, sizeof results, "%s/results.csv", dir);
    gs_loss_logs logs = {0};
    gs_error err = {0};
    /* Named by hand first: found again beside the results, it is not read twice. */
    snprintf(explicit_log, sizeof explicit_log, "%s/simclr/../simclr/log.csv", dir);
    cr_assert_eq(gs_loss_logs_add(&logs, explicit_log, &err), GS_OK, "%s", err.message);
    cr_assert_eq(gs_loss_logs_discover(&logs, results, &err), GS_OK, "%s", err.message);
    cr_assert_eq(logs.n, 2, "simclr (demo layout) and byol (run layout); the notes are not a run log");
    cr_expect_str_eq(logs.logs[0].folder_run_id, "simclr");
    cr_expect_str_eq(logs.logs[1].folder_run_id, "byol");
    cr_expect_eq(logs.n_unreadable, 1, "the killed run's log is counted, not an error");
    cr_expect(strstr(logs.unreadable, "killed/log.csv"), "%s", logs.unreadable);
    cr_assert_eq(logs.logs[0].n, 4);
    cr_expect_float_eq(logs.logs[0].points[3].embedding_std, 0.065, 1e-12);
    cr_expect_float_eq(logs.logs[0].points[2].img_per_s, 120.0, 1e-12);
    gs_loss_logs_free(&logs);
    test_remove_tree(dir);
}

typedef struct report_files {
    char dir[512], out[600];
    char *md, *html;
} report_files;

static void write_report(report_files *r) {
    char gnuplot[4096];
    if (!gs_gnuplot_find(gnuplot, sizeof gnuplot)) cr_skip_test("gnuplot is not on PATH");
    make_run_folder(r->dir, sizeof r->dir);
    char results[700], path[800];
    snprintf(results, sizeof results, "%s/results.csv", r->dir);
    snprintf(r->out, sizeof r->out, "%s/report", r->dir);
    gs_report_options o = {.results_path = results, .out_dir = r->out, .regression_threshold = 0.1};
    gs_report_summary summary;
    gs_error err = {0};
    cr_assert_eq(gs_report_write(&o, &summary, &err), GS_OK, "%s", err.message);
    cr_expect_eq(summary.n_plots_failed, 0, "see %s/plots/gnuplot.log", r->out);
    cr_expect_eq(summary.n_run_logs, 2);
    snprintf(path, sizeof path, "%s/report.md", r->out);
    r->md = slurp(path);
    snprintf(path, sizeof path, "%s/index.html", r->out);
    r->html = slurp(path);
}

static void report_files_free(report_files *r) {
    free(r->md);
    free(r->html);
    test_remove_tree(r->dir);
}

static char *plot_script(const report_files *r, const char *stem) {
    char path[1200];
    snprintf(path, sizeof path, "%s/plots/%s.gp", r->out, stem);
    return slurp(path);
}

Test(reports_plots, training_curves_and_pretraining_throughput_come_from_the_run_logs) {
    report_files r;
    write_report(&r);
    position(r.md, "Training curves from 2 run logs: byol, simclr."); /* in path order: pretrain/byol < simclr */
    position(r.md, "1 run log could not be read and is left out");
    char *loss = plot_script(&r, "loss_curves"), *std = plot_script(&r, "embedding_std");
    char *throughput = plot_script(&r, "throughput");
    position(loss, "title 'simclr'");
    position(loss, "title 'byol'");
    position(loss, "4 4.7\n"); /* the last step of simclr's log */
    position(std, "4 0.065\n");
    position(std, "2 0.01\n");
    /* The bench row and each run's median speed without its first step. */
    position(throughput, "'simclr pretraining (median of its steps)'");
    position(throughput, "\n1 90 0\n");
    position(throughput, "\n2 110 0\n");
    position(throughput, "'simclr resnet18 (bench-infer, eurosat-rgb)'");
    free(loss);
    free(std);
    free(throughput);
    report_files_free(&r);
}

/* The label of `set <axis>label '...'` in a script, or NULL. */
static char *axis_label(const char *script, const char *axis) {
    char key[32];
    snprintf(key, sizeof key, "set %slabel '", axis);
    const char *p = strstr(script, key);
    if (!p) return NULL;
    p += strlen(key);
    return strndup(p, strcspn(p, "\n") - 1);
}

Test(reports_plots, every_axis_is_labelled_with_its_unit) {
    report_files r;
    write_report(&r);
    char plots[700];
    snprintf(plots, sizeof plots, "%s/plots", r.out);
    DIR *d = opendir(plots);
    cr_assert_not_null(d);
    size_t n_scripts = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".gp")) continue;
        n_scripts++;
        char stem[300];
        snprintf(stem, sizeof stem, "%.*s", (int)(len - 3), e->d_name);
        char *script = plot_script(&r, stem);
        char *x = axis_label(script, "x"), *y = axis_label(script, "y");
        cr_expect_not_null(x, "%s has no x label", e->d_name);
        cr_expect_not_null(y, "%s has no y label", e->d_name);
        /* A unit is written in parentheses: "(%)", "(img/s)", "(no unit)", "(optimizer updates)". */
        if (y) cr_expect(strchr(y, '(') && strchr(y, ')'), "%s: y label '%s' has no unit", e->d_name, y);
        if (x && strcmp(x, "class") && strcmp(x, "run"))
            cr_expect(strchr(x, '(') && strchr(x, ')'), "%s: x label '%s' has no unit", e->d_name, x);
        free(x);
        free(y);
        free(script);
    }
    closedir(d);
    /* headline bars, top-1 against the fraction (linear at 10% and 100%), loss, embedding std,
     * throughput, and two per-class charts (accuracy, f1). */
    cr_expect_eq(n_scripts, 7);
    char *fraction = plot_script(&r, "fraction_eurosat-rgb_linear_top1");
    position(fraction, "set ylabel 'top-1 (%)'");
    free(fraction);
    report_files_free(&r);
}

Test(reports_plots, headline_plots_come_first_and_per_class_plots_are_folded) {
    report_files r;
    write_report(&r);
    long headline = position(r.md, "(plots/headline_eurosat-rgb.png)");
    long fraction = position(r.md, "(plots/fraction_eurosat-rgb_linear_top1.png)");
    long loss = position(r.md, "(plots/loss_curves.png)");
    long std = position(r.md, "(plots/embedding_std.png)");
    long throughput = position(r.md, "(plots/throughput.png)");
    long per_class = position(r.md, "(plots/class_eurosat-rgb_linear_100__accuracy.png)");
    cr_expect_lt(position(r.md, "## Results"), headline);
    cr_expect_lt(headline, fraction);
    cr_expect_lt(fraction, loss);
    cr_expect_lt(loss, std);
    cr_expect_lt(std, throughput);
    cr_expect_lt(throughput, per_class);
    cr_expect_lt(per_class, position(r.md, "## Paper reproduction"));
    /* In HTML the two per-class charts sit in one fold, the headline ones outside any. */
    long fold = position(r.html, "<details><summary>2 per-class plots</summary>");
    long fold_end = fold + position(r.html + fold, "</details>");
    long accuracy = position(r.html, "alt=\"eurosat-rgb · linear probe · 100% labels: accuracy per class (%)\"");
    long f1 = position(r.html, "alt=\"eurosat-rgb · linear probe · 100% labels: f1 per class (%)\"");
    long bars = position(r.html, "alt=\"eurosat-rgb: top-1 per method");
    cr_expect(fold < accuracy && accuracy < fold_end);
    cr_expect(fold < f1 && f1 < fold_end);
    cr_expect_lt(bars, fold);
    /* The bars: random init and simclr, the kNN and both linear columns as groups. */
    char *script = plot_script(&r, "headline_eurosat-rgb");
    position(script, "set xtics ('kNN 100%%' 0, 'linear probe 10%%' 1, 'linear probe 100%%' 2)");
    position(script, "title 'random init resnet18'");
    position(script, "title 'simclr resnet18 (eurosat-rgb)'");
    position(script, "with yerrorbars"); /* simclr's kNN has two seeds */
    free(script);
    report_files_free(&r);
}
