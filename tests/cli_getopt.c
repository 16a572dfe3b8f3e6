/* The command line as getopt_long reads it: options and operands in any
 * order, --name=value, "--" ending the options; an unknown option or an
 * abbreviation gets "did you mean", naming the command and its --help;
 * every --help has one usage line; every kind of bad usage exits 2; and
 * --quiet / piped progress (whole lines, no '\r', not one per step). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_capture.h"
#include "commands.h"
#include "options.h"
#include "synthetic.h"
#include "test_paths.h"

static bool exists(const char *path) { return access(path, F_OK) == 0; }

static int count_of(const char *text, const char *what) {
    int n = 0;
    for (const char *p = strstr(text, what); p; p = strstr(p + 1, what)) n++;
    return n;
}

/* A temporary folder with generated EuroSAT (per_class images of each of 10 classes). */
typedef struct scratch {
    char dir[256], data[320], spec[400];
} scratch;

static void make_scratch(scratch *s, int per_class) {
    cr_assert(test_temp_dir(s->dir, sizeof s->dir)[0]);
    snprintf(s->data, sizeof s->data, "%s/eurosat", s->dir);
    snprintf(s->spec, sizeof s->spec, "eurosat-rgb:%s", s->data);
    char cache[300];
    snprintf(cache, sizeof cache, "%s/cache", s->dir);
    setenv("GEOSSL_CACHE_DIR", cache, 1);
    gs_synth_options so = {.seed = 1, .count = per_class};
    gs_error err = {0};
    cr_assert_eq(gs_synth_write("eurosat-rgb", s->data, &so, &err), GS_OK, "%s", err.message);
}

/* ---- options and operands mix ---- */

Test(cli_getopt, data_synth_takes_options_before_and_between_its_operands) {
    scratch s;
    cr_assert(test_temp_dir(s.dir, sizeof s.dir)[0]);
    snprintf(s.data, sizeof s.data, "%s/eurosat", s.dir);
    captured c = run(gs_cmd_data, (char *[]){"data", "synth", "--count", "3", "eurosat-rgb", s.data, NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    char path[512];
    snprintf(path, sizeof path, "%s/Forest/Forest_3.jpg", s.data);
    cr_expect(exists(path), "--count 3 before the operands was not taken: no %s", path);
    snprintf(path, sizeof path, "%s/Forest/Forest_4.jpg", s.data);
    cr_expect_not(exists(path), "--count 3 was not taken: %s exists", path);
    /* Between them, as --name=value. */
    char other[400];
    snprintf(other, sizeof other, "%s/other", s.dir);
    c = run(gs_cmd_data, (char *[]){"data", "synth", "eurosat-rgb", "--count=2", other, NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    snprintf(path, sizeof path, "%s/Forest/Forest_2.jpg", other);
    cr_expect(exists(path));
    snprintf(path, sizeof path, "%s/Forest/Forest_3.jpg", other);
    cr_expect_not(exists(path), "--count=2 was not taken");
    test_remove_tree(s.dir);
}

Test(cli_getopt, data_check_and_cache_take_options_before_the_dataset) {
    scratch s;
    make_scratch(&s, 5);
    captured c = run(gs_cmd_data, (char *[]){"data", "check", "--skip-bad", s.spec, NULL});
    cr_expect_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.out, "decoded 50 samples, 0 bad"), "%s", c.out);
    c = run(gs_cmd_data, (char *[]){"data", "check", "--limit=3", s.spec, NULL});
    cr_expect_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.out, "decoded 3 samples"), "--limit=3 was not taken: %s", c.out);
    char cache_file[400];
    snprintf(cache_file, sizeof cache_file, "%s/packed.h5", s.dir);
    c = run(gs_cmd_data, (char *[]){"data", "cache", "--workers", "1", "--out", cache_file, s.spec, NULL});
    cr_expect_eq(c.rc, 0, "%s", c.err);
    cr_expect(exists(cache_file), "no %s: %s", cache_file, c.err);
    test_remove_tree(s.dir);
}

Test(cli_getopt, run_takes_dry_run_before_the_suite) {
    scratch s;
    make_scratch(&s, 5);
    char suite[400], out[400];
    snprintf(suite, sizeof suite, "%s/mine.conf", s.dir);
    snprintf(out, sizeof out, "%s/run", s.dir);
    FILE *f = fopen(suite, "w");
    cr_assert_not_null(f);
    fprintf(f, "name = mine\nbackbone = resnet18\nwidth = 8\nmethods = random\neval_data = %s\nprotocols = knn\n"
               "seeds = 0\nout = %s\n", s.spec, out);
    fclose(f);
    captured c = run(gs_cmd_run, (char *[]){"run", "--dry-run", suite, NULL});
    cr_expect_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.out, "1 cells: 0 done, 1 to run"), "%s", c.out);
    cr_expect_not(exists(out), "--dry-run was not taken: the run folder was made");
    test_remove_tree(s.dir);
}

Test(cli_getopt, bench_loader_and_list_take_options_first) {
    scratch s;
    make_scratch(&s, 5);
    captured c = run(gs_cmd_bench, (char *[]){"bench", "loader", "--batches", "1", "--batch", "4", "--workers", "1",
                                              "--augment", "none", s.spec, NULL});
    cr_expect_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.out, "img/s"), "%s", c.out);
    c = run(gs_cmd_list, (char *[]){"list", "--verbose", "methods", NULL});
    cr_expect_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.out, "simclr: "), "--verbose was not taken: %s", c.out);
    test_remove_tree(s.dir);
}

Test(cli_getopt, double_dash_ends_the_options) {
    scratch s;
    make_scratch(&s, 5);
    /* After "--", "--limit" is an operand: a second dataset, which check does not take. */
    captured c = run(gs_cmd_data, (char *[]){"data", "check", s.spec, "--", "--limit", NULL});
    REFUSED(c, "geossl data check: unexpected argument '--limit'", "usage: geossl data check FORMAT:PATH");
    /* ... and a dataset named with a leading dash is a dataset, not an unknown option. */
    c = run(gs_cmd_data, (char *[]){"data", "check", "--limit", "2", "--", "-odd:name", NULL});
    cr_expect_eq(c.rc, 1, "%s", c.err);
    cr_expect(strstr(c.err, "-odd"), "%s", c.err);
    cr_expect_null(strstr(c.err, "unknown option"), "%s", c.err);
    /* Options before "--" still count. */
    c = run(gs_cmd_data, (char *[]){"data", "check", "--limit", "4", "--", s.spec, NULL});
    cr_expect_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.out, "decoded 4 samples"), "%s", c.out);
    test_remove_tree(s.dir);
}

/* ---- did you mean ---- */

Test(cli_getopt, an_unknown_option_suggests_the_close_ones) {
    captured c = run(gs_cmd_eval, (char *[]){"eval", "--epoc", "3", NULL});
    REFUSED(c, "geossl eval: unknown option '--epoc'", "did you mean --epochs?", "'geossl eval --help'");
    c = run(gs_cmd_data, (char *[]){"data", "check", "--skip-bda", "eurosat-rgb:x", NULL});
    REFUSED(c, "geossl data check: unknown option '--skip-bda'", "did you mean --skip-bad?",
            "'geossl data check --help'");
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--lernin-rate", "0.1", NULL});
    REFUSED(c, "geossl pretrain: unknown option '--lernin-rate'", "'geossl pretrain --help'");
    cr_expect_null(strstr(c.err, "did you mean"), "nothing is close: %s", c.err);
    c = run(gs_cmd_train, (char *[]){"train", "--quite", NULL});
    REFUSED(c, "did you mean --quiet?");
}

/* getopt_long would take "--epo" for --epochs; geossl refuses abbreviations
 * (options.h says why) and names the option meant. */
Test(cli_getopt, an_abbreviation_is_refused_with_the_full_name) {
    captured c = run(gs_cmd_eval, (char *[]){"eval", "--random-init", "--data", "eurosat-rgb:x", "--epo", "3", NULL});
    REFUSED(c, "unknown option '--epo'", "did you mean --epochs?");
    c = run(gs_cmd_eval, (char *[]){"eval", "--see=3", NULL});
    REFUSED(c, "unknown option '--see=3'", "--seed", "--seeds");
}

/* ---- help and listings ---- */

Test(cli_getopt, each_help_has_exactly_one_usage_line) {
    static char *helps[][3] = {{"data", "check", "-h"}, {"data", "cache", "-h"}, {"bench", "loader", "-h"},
                               {"data", "synth", "--help"}, {"run", "--help"}, {"eval", "-h"},
                               {"list", "--help"}, {"version", "--help"}};
    int (*commands[])(int, char **) = {gs_cmd_data, gs_cmd_data, gs_cmd_bench, gs_cmd_data,
                                       gs_cmd_run,  gs_cmd_eval, gs_cmd_list,  gs_cmd_version};
    for (size_t i = 0; i < sizeof helps / sizeof *helps; i++) {
        char *argv[4] = {helps[i][0], helps[i][1], helps[i][2], NULL};
        captured c = run(commands[i], argv);
        cr_expect_eq(c.rc, 0, "%s %s: exit %d", helps[i][0], helps[i][1], c.rc);
        cr_expect_eq(count_of(c.out, "usage:"), 1, "%s %s: %s", helps[i][0], helps[i][1], c.out);
        cr_expect(strstr(c.out, "--quiet"), "%s %s: no --quiet in the help", helps[i][0], helps[i][1]);
    }
    captured c = run(gs_cmd_data, (char *[]){"data", "check", "-h", NULL});
    cr_expect(strstr(c.out, "usage: geossl data check FORMAT:PATH [options]\n"), "%s", c.out);
    c = run(gs_cmd_data, (char *[]){"data", "synth", "-h", NULL});
    cr_expect(strstr(c.out, "usage: geossl data synth FORMAT DIR [options]\n"), "%s", c.out);
    cr_expect(strstr(c.out, "formats:\n"), "the formats follow the options: %s", c.out);
}

Test(cli_getopt, an_unknown_bench_lists_every_bench) {
    captured c = run(gs_cmd_bench, (char *[]){"bench", "foo", NULL});
    REFUSED(c, "unknown benchmark 'foo'", "train", "infer", "kernels", "loader");
    c = run(gs_cmd_data, (char *[]){"data", "foo", NULL});
    REFUSED(c, "unknown command 'foo'", "formats", "synth", "check", "cache");
}

/* ---- bad usage is exit 2, one line ---- */

Test(cli_getopt, every_kind_of_bad_usage_exits_2) {
    /* A bad value names its option and what it takes (nothing else). */
    captured c = run(gs_cmd_eval, (char *[]){"eval", "--seeds", "0", NULL});
    REFUSED(c, "geossl eval: --seeds 0 is out of range (allowed: 1 to 1000)");
    cr_expect_null(strstr(c.err, "--backbone"), "%s", c.err);
    c = run(gs_cmd_data, (char *[]){"data", "check", "eurosat-rgb:x", "--limit", NULL});
    REFUSED(c, "--limit needs a value");
    c = run(gs_cmd_data, (char *[]){"data", "check", "eurosat-rgb:x", "--skip-bad=yes", NULL});
    REFUSED(c, "--skip-bad takes no value");
    c = run(gs_cmd_data, (char *[]){"data", "check", "-x", "eurosat-rgb:x", NULL});
    REFUSED(c, "unknown option '-x'");
    c = run(gs_cmd_data, (char *[]){"data", "check", "--limit", "3", NULL});
    REFUSED(c, "geossl data check: FORMAT:PATH is missing");
    c = run(gs_cmd_data, (char *[]){"data", "synth", "eurosat-rgb", NULL});
    REFUSED(c, "geossl data synth: FORMAT DIR is missing");
    c = run(gs_cmd_run, (char *[]){"run", "--dry-run", NULL});
    REFUSED(c, "geossl run: SUITE is missing");
    c = run(gs_cmd_demo, (char *[]){"demo", "extra", NULL});
    REFUSED(c, "geossl demo: unexpected argument 'extra'");
    c = run(gs_cmd_version, (char *[]){"version", "--bogus", NULL});
    REFUSED(c, "geossl version: unknown option '--bogus'");
    c = run(gs_cmd_list, (char *[]){"list", "things", NULL});
    REFUSED(c, "unknown list 'things'");
    c = run(gs_cmd_data, (char *[]){"data", NULL});
    cr_expect_eq(c.rc, 2);
    cr_expect(strstr(c.err, "usage: geossl data"), "the usage goes to stderr: %s", c.err);
    cr_expect_str_empty(c.out);
    /* Resuming a run that is not there. */
    char dir[256], spec[400];
    cr_assert(test_temp_dir(dir, sizeof dir)[0]);
    snprintf(spec, sizeof spec, "eurosat-rgb:%s/none", dir);
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "simclr", "--data", spec, "--out", dir, "--resume",
                                        NULL});
    REFUSED(c, "--resume but", "does not exist");
    test_remove_tree(dir);
}

/* ---- progress ---- */

Test(cli_getopt, quiet_leaves_only_the_results) {
    char *argv[] = {"train", "--steps", "3", "--size", "16", "--batch", "4", "--width", "8", "--threads", "1",
                    "-q", NULL};
    captured c = run(gs_cmd_train, argv);
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect_str_empty(c.err, "progress despite -q: %s", c.err);
    cr_expect(strstr(c.out, "loss ") && strstr(c.out, "img/s"), "the results: %s", c.out);
    argv[11] = "--quiet";
    c = run(gs_cmd_train, argv);
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect_str_empty(c.err, "progress despite --quiet: %s", c.err);
    /* Without it the progress is there. */
    argv[11] = NULL;
    c = run(gs_cmd_train, argv);
    cr_expect(strstr(c.err, "step 3/3"), "%s", c.err);
}

Test(cli_getopt, piped_progress_is_whole_lines_at_a_modest_rate) {
    scratch s;
    make_scratch(&s, 50); /* 500 samples: data check reports progress from 500 on */
    captured c = run(gs_cmd_data, (char *[]){"data", "check", s.spec, NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.err, "decoded 500/500\n"), "a whole line: %s", c.err);
    cr_expect_null(strchr(c.err, '\r'), "a carriage return in piped progress: %s", c.err);
    c = run(gs_cmd_data, (char *[]){"data", "check", "--quiet", s.spec, NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect_str_empty(c.err, "progress despite --quiet: %s", c.err);
    cr_expect(strstr(c.out, "decoded 500 samples"), "%s", c.out);
    /* 40 quick steps print their first and last line, not one per step. */
    c = run(gs_cmd_train, (char *[]){"train", "--steps", "40", "--size", "16", "--batch", "4", "--width", "8",
                                     "--threads", "1", NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect_null(strchr(c.err, '\r'), "%s", c.err);
    cr_expect(strstr(c.err, "step 1/40") && strstr(c.err, "step 40/40"), "the first and the last: %s", c.err);
    cr_expect_lt(count_of(c.err, " step "), 10, "one line per step: %s", c.err);
    /* Band statistics and feature extraction of a short job: one closing line
     * each (rate and time), not one per batch, and never silence. */
    c = run(gs_cmd_eval, (char *[]){"eval", "--random-init", "--data", s.spec, "--width", "8", "--batch", "16",
                                    "--threads", "1", "--workers", "1", NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect_eq(count_of(c.err, "band statistics:"), 1, "%s", c.err);
    cr_expect(strstr(c.err, "band statistics: 300 samples in "), "%s", c.err);
    cr_expect_eq(count_of(c.err, "features:"), 2, "train and test, one line each: %s", c.err);
    cr_expect(strstr(c.err, "features: 300 samples in ") && strstr(c.err, " img/s)"), "%s", c.err);
    test_remove_tree(s.dir);
}

Test(cli_getopt, list_names_what_each_option_accepts) {
    captured c = run(gs_cmd_list, (char *[]){"list", "backbones", NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect_str_eq(c.out, "resnet18\nresnet50\nvit-tiny\nvit-small\n");
    c = run(gs_cmd_list, (char *[]){"list", "protocols", NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.out, "knn\n") && strstr(c.out, "segment\n"), "%s", c.out);
    c = run(gs_cmd_list, (char *[]){"list", "formats", NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.out, "eurosat-ms\n") && strstr(c.out, "s2-timeseries\n") && !strchr(c.out, ' '), "%s", c.out);
    c = run(gs_cmd_list, (char *[]){"list", "datasets", NULL});
    REFUSED(c, "unknown list 'datasets'", "backbones");
}
