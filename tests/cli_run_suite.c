/* geossl run SUITE: the suite file's parser and its errors, a whole run of
 * suites/tiny.conf on generated data (rows, report, a second run adding
 * nothing), the report opening with the results table and drawing the
 * pretraining's loss log, failing cells, and a run killed in the middle of
 * pretraining that resumes and ends with every cell, and every logged step,
 * exactly once. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli_capture.h"
#include "commands.h"
#include "results_store.h"
#include "suite_config.h"
#include "synthetic.h"
#include "test_paths.h"

/* ---- the suite file ---- */

static const char GOOD[] = "# a comment line\n"
                           "name = my suite\n"
                           "backbone = vit-tiny   # trailing comment\n"
                           "patch = 16\n"
                           "methods = random , simclr,byol\n"
                           "pretrain_data = eurosat-rgb:data/eurosat\n"
                           "eval_data = eurosat-rgb:data/eurosat, resisc45:data/resisc\n"
                           "\n"
                           "protocols = knn, linear, finetune\n"
                           "label_fractions = 1%, 10%, 1.0\n"
                           "seeds = 3, 4\n";

Test(cli_run_suite, parses_a_suite_with_defaults) {
    gs_suite_config c;
    gs_error err = {0};
    cr_assert_eq(gs_suite_config_parse(GOOD, "suites/good.conf", &c, &err), GS_OK, "%s", err.message);
    cr_expect_str_eq(c.name, "my suite");
    cr_expect_str_eq(c.out, "runs/good", "out defaults to runs/<file stem>");
    cr_expect_str_eq(c.backbone, "vit-tiny");
    cr_expect_eq(c.patch, 16);
    cr_expect_eq(c.n_methods, 3);
    cr_expect_str_eq(c.methods[1], "simclr");
    cr_expect_eq(c.n_eval_data, 2);
    cr_expect_str_eq(c.eval_data[1], "resisc45:data/resisc");
    cr_expect_eq(c.n_protocols, 3);
    cr_expect_eq(c.protocols[2], GS_PROTOCOL_FINETUNE);
    cr_expect_eq(c.n_label_fractions, 3);
    cr_expect(gs_label_fraction_equal(c.label_fractions[0], 0.01));
    cr_expect(gs_label_fraction_equal(c.label_fractions[1], 0.1));
    cr_expect(gs_label_fraction_equal(c.label_fractions[2], 1.0));
    cr_expect_eq(c.n_seeds, 2);
    cr_expect_eq(c.seeds[1], 4);
    cr_expect_eq(c.epochs, 20, "default epochs");
    cr_expect_eq(c.batch, 64, "default batch");
    cr_expect_eq(c.workers, 2);
}

/* GOOD with line `line` replaced by `text` (or `text` appended when line is 0). */
static void with_line(char *out, size_t size, int line, const char *text) {
    size_t used = 0;
    const char *p = GOOD;
    for (int n = 1; *p; n++) {
        int len = (int)strcspn(p, "\n");
        used += (size_t)snprintf(out + used, size - used, "%.*s\n", n == line ? (int)strlen(text) : len,
                                 n == line ? text : p);
        p += len + (p[len] == '\n');
    }
    snprintf(out + used, size - used, "%s", line == 0 ? text : "");
}

static void expect_error(const char *text, const char *message) {
    gs_suite_config c;
    gs_error err = {0};
    cr_expect_eq(gs_suite_config_parse(text, "bad.conf", &c, &err), GS_ERR_ARGUMENT, "accepted: %s", text);
    cr_expect(strstr(err.message, message), "expected '%s' in '%s'", message, err.message);
}

Test(cli_run_suite, rejects_bad_files_with_the_line) {
    char text[2048];
    with_line(text, sizeof text, 4, "epoch = 3");
    expect_error(text, "bad.conf:4: unknown key 'epoch' (did you mean 'epochs'?)");
    with_line(text, sizeof text, 4, "colour = blue");
    expect_error(text, "bad.conf:4: unknown key 'colour' (see");
    with_line(text, sizeof text, 4, "epochs = ten");
    expect_error(text, "bad.conf:4: epochs takes a whole number, not 'ten'");
    with_line(text, sizeof text, 4, "batch = 1");
    expect_error(text, "bad.conf:4: batch = 1 is out of range");
    with_line(text, sizeof text, 10, "label_fractions = 1%, 150%");
    expect_error(text, "bad.conf:10: label_fractions takes fractions such as 1%, 10%, 100% or 0.5, not '150%'");
    with_line(text, sizeof text, 10, "label_fractions = 10%, 0.1");
    expect_error(text, "bad.conf:10: label_fractions lists 0.1 twice");
    with_line(text, sizeof text, 5, "methods = random, mocov9");
    expect_error(text, "bad.conf:5: unknown method 'mocov9' (random, ");
    with_line(text, sizeof text, 9, "protocols = knn, linearr");
    expect_error(text, "bad.conf:9: unknown protocol 'linearr'");
    with_line(text, sizeof text, 9, "protocols = knn,, linear");
    expect_error(text, "bad.conf:9: protocols has an empty item");
    with_line(text, sizeof text, 7, "eval_data = eurosat-rgb:a, eurosat-rgb:b");
    expect_error(text, "bad.conf:7: eval_data lists two eurosat-rgb datasets");
    with_line(text, sizeof text, 6, "pretrain_data = eurosat:data");
    expect_error(text, "bad.conf:6: unknown dataset format 'eurosat'");
    with_line(text, sizeof text, 6, "pretrain_data = data/eurosat");
    expect_error(text, "bad.conf:6: pretrain_data takes FORMAT:PATH");
    with_line(text, sizeof text, 3, "backbone = resnet19");
    expect_error(text, "bad.conf:3: unknown backbone 'resnet19'");
    with_line(text, sizeof text, 8, "seeds");
    expect_error(text, "bad.conf:8: expected 'key = value'");
    with_line(text, sizeof text, 0, "seeds = 1\n");
    expect_error(text, "bad.conf:12: seeds is set twice (first on line 11)");
    with_line(text, sizeof text, 11, "seeds =   ");
    expect_error(text, "bad.conf:11: seeds has no value");
    with_line(text, sizeof text, 5, "");
    expect_error(text, "bad.conf: missing required key 'methods'");
    with_line(text, sizeof text, 6, "");
    expect_error(text, "bad.conf: missing required key 'pretrain_data'");
    /* Every method random: nothing pretrains, so no pretrain_data is needed. */
    with_line(text, sizeof text, 5, "methods = random");
    char *no_pretrain = strstr(text, "pretrain_data");
    memset(no_pretrain, ' ', strcspn(no_pretrain, "\n"));
    gs_suite_config c;
    gs_error err = {0};
    cr_expect_eq(gs_suite_config_parse(text, "ok.conf", &c, &err), GS_OK, "%s", err.message);
    err = (gs_error){0};
    cr_expect_eq(gs_suite_config_load("/nonexistent/suite.conf", &c, &err), GS_ERR_IO);
    cr_expect(strstr(err.message, "/nonexistent/suite.conf"), "%s", err.message);
}

/* A suite file that cannot be read is a runtime failure naming the file
 * (exit 1), like any other input that is missing; exit 2 is for bad usage,
 * and a file that reads but says the wrong thing. */
Test(cli_run_suite, a_suite_file_that_cannot_be_read_exits_1_naming_it) {
    char dir[256];
    cr_assert(test_temp_dir(dir, sizeof dir)[0]);
    char missing[400];
    snprintf(missing, sizeof missing, "%s/missing.conf", dir);
    char *const plain[] = {"run", missing, NULL}, *const dry[] = {"run", "--dry-run", missing, NULL},
                *const folder[] = {"run", dir, NULL};
    char *const *commands[] = {plain, dry, folder};
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        captured c = run(gs_cmd_run, (char **)commands[i]);
        cr_expect_eq(c.rc, 1, "%s: exit %d: %s", commands[i][1], c.rc, c.err);
        cr_expect_eq(lines(c.err), 1, "%s", c.err);
        cr_expect(strstr(c.err, i == 2 ? dir : missing), "the file is not named: %s", c.err);
        cr_expect_str_empty(c.out);
    }
    test_remove_tree(dir);
}

Test(cli_run_suite, the_committed_tiny_suite_parses) {
    gs_suite_config c;
    gs_error err = {0};
    cr_assert_eq(gs_suite_config_load(GEOSSL_SUITES_DIR "/tiny.conf", &c, &err), GS_OK, "%s", err.message);
    cr_expect_str_eq(c.out, "runs/tiny");
    cr_expect_eq(c.n_methods * c.n_eval_data * c.n_protocols * c.n_label_fractions * c.n_seeds, 4);
}

/* ---- runs ---- */

typedef struct run_dir {
    char dir[256], out[320], suite[400], results[400];
} run_dir;

/* A temporary folder as the working directory, with the tiny suite's data
 * where suites/tiny.conf expects it and the caches inside. */
static void make_run_dir(run_dir *r) {
    cr_assert(test_temp_dir(r->dir, sizeof r->dir)[0]);
    cr_assert_eq(chdir(r->dir), 0);
    char cache[300];
    snprintf(cache, sizeof cache, "%s/cache", r->dir);
    setenv("GEOSSL_CACHE_DIR", cache, 1);
    gs_error err = {0};
    gs_synth_options so = {.seed = 1, .count = 8};
    cr_assert_eq(gs_synth_write("eurosat-rgb", "runs/data/eurosat-tiny", &so, &err), GS_OK, "%s", err.message);
    snprintf(r->out, sizeof r->out, "%s/out", r->dir);
    snprintf(r->suite, sizeof r->suite, "%s", GEOSSL_SUITES_DIR "/tiny.conf");
    snprintf(r->results, sizeof r->results, "%s/results.csv", r->out);
}

static int run_suite(const char *suite, const char *out, const char *extra) {
    char *argv[] = {"run", (char *)suite, "--out", (char *)out, (char *)extra, NULL};
    return gs_cmd_run(extra ? 5 : 4, argv);
}

static bool exists(const char *dir, const char *rel) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    return access(path, F_OK) == 0;
}

/* Rows, distinct cells, and whether any (cell, metric) appears twice. */
typedef struct results_census {
    size_t rows, cells;
    bool duplicates;
} results_census;

static bool same_cell(const gs_result_row *a, const gs_result_row *b) {
    return !strcmp(a->method, b->method) && !strcmp(a->backbone, b->backbone) &&
           !strcmp(a->pretrain_data, b->pretrain_data) && !strcmp(a->eval_data, b->eval_data) &&
           !strcmp(a->protocol, b->protocol) && gs_label_fraction_equal(a->label_fraction, b->label_fraction) &&
           a->seed == b->seed;
}

static results_census census(const char *path) {
    gs_results r;
    gs_error err = {0};
    cr_assert_eq(gs_results_load(path, &r, &err), GS_OK, "%s", err.message);
    results_census c = {.rows = r.n_rows};
    for (size_t i = 0; i < r.n_rows; i++) {
        bool first_of_cell = true;
        for (size_t k = 0; k < i; k++)
            if (same_cell(&r.rows[i], &r.rows[k])) {
                first_of_cell = false;
                if (!strcmp(r.rows[i].metric, r.rows[k].metric)) c.duplicates = true;
            }
        c.cells += first_of_cell;
    }
    gs_results_free(&r);
    return c;
}

static double metric(const char *path, const char *method, const char *protocol, const char *name) {
    gs_results r;
    gs_error err = {0};
    cr_assert_eq(gs_results_load(path, &r, &err), GS_OK, "%s", err.message);
    double value = -1;
    for (size_t i = 0; i < r.n_rows; i++)
        if (!strcmp(r.rows[i].method, method) && !strcmp(r.rows[i].protocol, protocol) &&
            !strcmp(r.rows[i].metric, name))
            value = r.rows[i].value;
    gs_results_free(&r);
    return value;
}

Test(cli_run_suite, runs_the_grid_then_skips_what_is_done) {
    run_dir r;
    make_run_dir(&r);
    cr_assert_eq(run_suite(r.suite, r.out, NULL), 0);
    results_census first = census(r.results);
    cr_expect_eq(first.cells, 4, "random and simclr x knn and linear: %zu cells", first.cells);
    cr_expect_not(first.duplicates);
    cr_expect_gt(first.rows, 4 * 3, "several metrics per cell: %zu rows", first.rows);
    cr_expect(exists(r.out, "report/index.html"));
    cr_expect(exists(r.out, "pretrain/simclr/checkpoint.h5"));
    cr_expect(exists(r.out, "pretrain/simclr/done"));
    cr_expect_not(exists(r.out, "pretrain/random"), "random is the untrained baseline");
    double knn = metric(r.results, "simclr", "knn", "top1");

    cr_expect_eq(run_suite(r.suite, r.out, NULL), 0);
    cr_expect_eq(census(r.results).rows, first.rows, "a second run must add no rows");
    cr_expect_eq(run_suite(r.suite, r.out, "--dry-run"), 0);

    /* Killed after the last checkpoint, before `done`: resuming trains no more. */
    char path[600], checkpoint[600];
    snprintf(path, sizeof path, "%s/pretrain/simclr/done", r.out);
    snprintf(checkpoint, sizeof checkpoint, "%s/pretrain/simclr/checkpoint.h5", r.out);
    struct stat before, after;
    cr_assert_eq(stat(checkpoint, &before), 0);
    cr_assert_eq(unlink(path), 0);
    cr_assert_eq(unlink(r.results), 0);
    cr_expect_eq(run_suite(r.suite, r.out, NULL), 0);
    cr_expect(exists(r.out, "pretrain/simclr/done"));
    cr_assert_eq(stat(checkpoint, &after), 0);
    cr_expect(before.st_mtim.tv_sec == after.st_mtim.tv_sec && before.st_mtim.tv_nsec == after.st_mtim.tv_nsec &&
                  before.st_ino == after.st_ino,
              "the finished checkpoint must not be trained or written again");
    cr_expect_eq(census(r.results).rows, first.rows);
    cr_expect_eq(metric(r.results, "simclr", "knn", "top1"), knn, "the same encoder gives the same score");
    test_remove_tree(r.dir);
}

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

Test(cli_run_suite, the_report_opens_with_the_results_table_and_draws_the_pretraining_log) {
    run_dir r;
    make_run_dir(&r);
    cr_assert_eq(run_suite(r.suite, r.out, "--quiet"), 0);
    cr_expect(exists(r.out, "pretrain/simclr/log.csv"), "the pretraining's per-step log");
    cr_expect(exists(r.out, "report/results_table.csv"));
    char *md = read_text(r.out, "report/report.md");
    const char *results = strstr(md, "## Results"), *plots = strstr(md, "## Plots");
    cr_expect(results && plots && results < plots, "the report must open with the results table");
    cr_expect(strstr(md, "| random init | resnet18-w16 | none |"), "%s", md);
    cr_expect(strstr(md, "Training curves from 1 run log: simclr."), "%s", md);
    cr_expect_null(strstr(md, "No reference file was given"), "the run compares with results/reference.csv");
    cr_expect(strstr(md, "/reference.csv is for these datasets"), "%s", md);
    free(md);
    test_remove_tree(r.dir);
}

/* Writes a suite file into the run folder; returns its path in r->suite. */
static void write_suite(run_dir *r, const char *text) {
    snprintf(r->suite, sizeof r->suite, "%s/suite.conf", r->dir);
    FILE *f = fopen(r->suite, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
}

/* A small RESISC45 whose airplane images are cut short: it opens, and its
 * cells fail when they read the images. */
static void write_broken_resisc45(void) {
    gs_error err = {0};
    gs_synth_options so = {.seed = 1, .count = 5, .n_classes = 3, .size = 64};
    cr_assert_eq(gs_synth_write("resisc45", "runs/data/resisc45-broken", &so, &err), GS_OK, "%s", err.message);
    for (int i = 1; i <= 5; i++) {
        char path[128];
        snprintf(path, sizeof path, "runs/data/resisc45-broken/airplane/airplane_%03d.jpg", i);
        cr_assert_eq(truncate(path, 100), 0, "%s", path);
    }
}

Test(cli_run_suite, a_failing_cell_does_not_stop_the_run) {
    run_dir r;
    make_run_dir(&r);
    /* A dataset that does not open at all stops the run before any cell. */
    write_suite(&r, "methods = random\nwidth = 16\nthreads = 2\nprotocols = knn\n"
                    "eval_data = eurosat-rgb:runs/data/eurosat-tiny, resisc45:runs/data/missing\n");
    cr_expect_eq(run_suite(r.suite, r.out, NULL), 1, "a dataset that does not open is an error");
    cr_expect_not(exists(r.out, "results.csv"), "cells ran although a dataset does not open");
    write_broken_resisc45();
    write_suite(&r, "methods = random\nwidth = 16\nthreads = 2\nprotocols = knn\n"
                    "eval_data = eurosat-rgb:runs/data/eurosat-tiny, resisc45:runs/data/resisc45-broken\n");
    cr_expect_eq(run_suite(r.suite, r.out, NULL), 1, "a failed cell makes the exit code nonzero");
    cr_expect_eq(census(r.results).cells, 1, "the other dataset's cell still ran");
    cr_expect(exists(r.out, "report/index.html"), "the report covers what ran");
    /* The settings a folder was run with cannot change under it. */
    write_suite(&r, "methods = random\nwidth = 32\nthreads = 2\nprotocols = knn\n"
                    "eval_data = eurosat-rgb:runs/data/eurosat-tiny\n");
    cr_expect_eq(run_suite(r.suite, r.out, NULL), 2);
    test_remove_tree(r.dir);
}

/* ---- a kill in the middle ---- */

static pid_t spawn(const run_dir *r, const char *log) {
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd < 0 || chdir(r->dir) != 0) _exit(126);
        dup2(fd, 1);
        dup2(fd, 2);
        execl(GEOSSL_BINARY, GEOSSL_BINARY, "run", r->suite, "--out", r->out, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int wait_exit(pid_t pid) {
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(cli_run_suite, survives_a_kill_and_resumes) {
    run_dir r;
    make_run_dir(&r);
    write_suite(&r, "methods = random, simclr\nwidth = 16\nthreads = 2\nepochs = 8\nbatch = 16\n"
                    "pretrain_data = eurosat-rgb:runs/data/eurosat-tiny\n"
                    "eval_data = eurosat-rgb:runs/data/eurosat-tiny\nprotocols = knn, linear\n");
    char log[400];
    snprintf(log, sizeof log, "%s/run.log", r.dir);
    pid_t pid = spawn(&r, log);
    /* SIGKILL once the first epoch's checkpoint is there and pretraining is not done. */
    bool killed = false;
    for (int waited_ms = 0; waited_ms < 120000 && !killed; waited_ms += 5) {
        if (exists(r.out, "pretrain/simclr/checkpoint.h5") && !exists(r.out, "pretrain/simclr/done")) {
            cr_assert_eq(kill(pid, SIGKILL), 0);
            killed = true;
        } else {
            int status;
            cr_assert_eq(waitpid(pid, &status, WNOHANG), 0, "the run ended before it could be killed");
            nanosleep(&(struct timespec){.tv_nsec = 5000000}, NULL);
        }
    }
    cr_assert(killed, "no checkpoint appeared within 120 s");
    cr_assert_eq(wait_exit(pid), -1);
    cr_expect_not(exists(r.out, "pretrain/simclr/done"), "killed during pretraining");
    cr_expect_eq(census(r.results).cells, 2, "random's cells ran before pretraining");

    cr_assert_eq(wait_exit(spawn(&r, log)), 0, "the second run must finish");
    results_census c = census(r.results);
    cr_expect_eq(c.cells, 4);
    cr_expect_not(c.duplicates, "a cell evaluated twice");
    FILE *f = fopen(log, "r");
    cr_assert(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    char *text = calloc((size_t)size + 1, 1);
    cr_assert(text);
    cr_assert_eq(fread(text, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    cr_expect(strstr(text, "[pretrain simclr] resuming"), "the second run resumes pretraining");
    cr_expect(strstr(text, "random eurosat-rgb knn 100% seed 0: skipped (in results)"));
    cr_expect(exists(r.out, "report/index.html"));
    free(text);
    /* Steps 1..N for 8 whole epochs, each logged once although the kill may
     * have come after steps the checkpoint did not cover. */
    char *log_csv = read_text(r.out, "pretrain/simclr/log.csv");
    const char *line = strchr(log_csv, '\n');
    long expected = 1;
    for (; line && line[1]; line = strchr(line + 1, '\n'), expected++)
        cr_expect_eq(atol(line + 1), expected, "log.csv row %ld", expected);
    long steps = expected - 1;
    cr_expect(steps > 0 && steps % 8 == 0, "%ld steps logged for 8 epochs", steps);
    free(log_csv);
    test_remove_tree(r.dir);
}
