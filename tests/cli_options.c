/* Every option value is checked before any work starts: an out-of-range
 * number, NaN or inf, or a name that is not among the choices is one line on
 * stderr naming the option, the value and what is allowed, and exit 2, with
 * nothing written; --help shows the same ranges and choices, from the one
 * table; `--results FILE` is checked before the evaluation runs. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "options.h"
#include "results_store.h"
#include "synthetic.h"
#include "cli_capture.h"
#include "test_paths.h"

static bool exists(const char *path) { return access(path, F_OK) == 0; }

/* ---- the parser on its own ---- */

typedef struct toy {
    long long count, unset;
    double rate;
    const char *stem, *path;
    bool flag;
} toy;

static const char *const STEMS[] = {"imagenet", "small", NULL};

static int parse_toy(toy *t, char **argv) {
    const gs_option options[] = {
        {"count", GS_OPT_INT, &t->count, "N", "a count [4]", GS_RANGE(1, 100)},
        {"unset", GS_OPT_INT, &t->unset, "N", "decided later [the method's]", GS_RANGE(1, 10)},
        {"rate", GS_OPT_FLOAT, &t->rate, "X", "a rate [0.5]", GS_ABOVE(0)},
        {"stem", GS_OPT_STRING, &t->stem, "NAME", "a stem [imagenet]", GS_CHOICES(STEMS)},
        {"path", GS_OPT_STRING, &t->path, "FILE", "any file", GS_ANY_TEXT},
        {"flag", GS_OPT_FLAG, &t->flag, "", "a flag", GS_NO_VALUE},
    };
    int argc = 0;
    while (argv[argc]) argc++;
    return gs_options_parse("toy", "A toy.", options, (int)(sizeof options / sizeof *options), argc, argv);
}

static int toy_command(int argc, char **argv) {
    (void)argc;
    toy t = {.count = 4, .unset = GS_UNSET_INT, .rate = 0.5, .stem = "imagenet"};
    return parse_toy(&t, argv);
}

Test(cli_options, valid_values_are_stored) {
    toy t = {.count = 4, .unset = GS_UNSET_INT, .rate = 0.5, .stem = "imagenet"};
    char *argv[] = {"toy", "--count", "100", "--rate", "0.001", "--stem", "small", "--path", "a b", "--flag", NULL};
    cr_assert_eq(parse_toy(&t, argv), 0);
    cr_expect_eq(t.count, 100);
    cr_expect_eq(t.rate, 0.001);
    cr_expect_str_eq(t.stem, "small");
    cr_expect_str_eq(t.path, "a b");
    cr_expect(t.flag);
    cr_expect_eq(t.unset, GS_UNSET_INT, "an option not given stays unset");
    cr_expect_eq(gs_option_int_or(t.unset, 6), 6);
}

Test(cli_options, out_of_range_is_one_line_naming_the_option_and_the_range) {
    captured c = run(toy_command, (char *[]){"toy", "--count", "0", NULL});
    REFUSED(c, "geossl toy: --count 0 is out of range (allowed: 1 to 100)");
    c = run(toy_command, (char *[]){"toy", "--count", "101", NULL});
    REFUSED(c, "--count 101", "allowed: 1 to 100");
    c = run(toy_command, (char *[]){"toy", "--rate", "-1", NULL});
    REFUSED(c, "geossl toy: --rate -1 is out of range (allowed: > 0)");
    c = run(toy_command, (char *[]){"toy", "--rate", "0", NULL});
    REFUSED(c, "--rate 0", "allowed: > 0");
    c = run(toy_command, (char *[]){"toy", "--count", "1.5", NULL});
    REFUSED(c, "--count 1.5 is not an integer", "allowed: 1 to 100");
    c = run(toy_command, (char *[]){"toy", "--count", "99999999999999999999", NULL});
    REFUSED(c, "--count 99999999999999999999 is out of range");
    c = run(toy_command, (char *[]){"toy", "--rate", "fast", NULL});
    REFUSED(c, "--rate fast is not a number", "allowed: > 0");
    c = run(toy_command, (char *[]){"toy", "--count", NULL});
    REFUSED(c, "--count needs a value", "allowed: 1 to 100");
}

Test(cli_options, nan_and_inf_are_refused) {
    const char *bad[] = {"nan", "NaN", "-nan", "inf", "-inf", "infinity", "1e999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        captured c = run(toy_command, (char *[]){"toy", "--rate", (char *)bad[i], NULL});
        REFUSED(c, "--rate", bad[i], "is not a finite number", "allowed: > 0");
    }
}

Test(cli_options, a_refused_value_leaves_the_default) {
    toy t = {.count = 4, .unset = GS_UNSET_INT, .rate = 0.5, .stem = "imagenet"};
    int saved_err = dup(2), null = open("/dev/null", O_WRONLY);
    dup2(null, 2);
    int rc = parse_toy(&t, (char *[]){"toy", "--unset", "0", NULL});
    dup2(saved_err, 2);
    close(null);
    close(saved_err);
    cr_expect_eq(rc, 2);
    cr_expect_eq(t.unset, GS_UNSET_INT, "the unset sentinel cannot be typed: 0 is refused, not stored");
}

Test(cli_options, an_unknown_name_lists_the_choices) {
    captured c = run(toy_command, (char *[]){"toy", "--stem", "tiny", NULL});
    REFUSED(c, "geossl toy: --stem tiny is not one of the choices (allowed: imagenet, small)");
}

Test(cli_options, help_shows_ranges_and_choices) {
    captured c = run(toy_command, (char *[]){"toy", "--help", NULL});
    cr_expect_eq(c.rc, 1);
    cr_expect(strstr(c.out, "a count [4] (allowed: 1 to 100)"), "%s", c.out);
    cr_expect(strstr(c.out, "a rate [0.5] (allowed: > 0)"), "%s", c.out);
    cr_expect(strstr(c.out, "a stem [imagenet] (allowed: imagenet, small)"), "%s", c.out);
    cr_expect_str_empty(c.err);
}

static int unranged_command(int argc, char **argv) {
    long long n = 0;
    const gs_option options[] = {{"n", GS_OPT_INT, &n, "N", "a number", GS_ANY_TEXT}};
    return gs_options_parse("bad", "A bad table.", options, 1, argc, argv);
}

static int bad_default_command(int argc, char **argv) {
    const char *stem = "tiny";
    const gs_option options[] = {{"stem", GS_OPT_STRING, &stem, "NAME", "a stem", GS_CHOICES(STEMS)}};
    return gs_options_parse("bad", "A bad table.", options, 1, argc, argv);
}

Test(cli_options, a_table_without_a_range_is_refused_as_a_bug) {
    captured c = run(unranged_command, (char *[]){"bad", NULL});
    REFUSED(c, "--n is an integer option without a GS_RANGE", "a bug in geossl");
    c = run(bad_default_command, (char *[]){"bad", "--help", NULL});
    REFUSED(c, "--stem starts with a value that is not among its choices");
}

Test(cli_options, float_ranges_read_plainly) {
    double x = 0;
    const gs_option between = {"x", GS_OPT_FLOAT, &x, "X", "", GS_BETWEEN(0, 1000000)};
    const gs_option open_both = {"x", GS_OPT_FLOAT, &x, "X", "",
                                 {.kind = GS_ALLOWED_NUMBERS, .min = 0, .max = 1, .min_exclusive = true,
                                  .max_exclusive = false}};
    char text[128];
    gs_option_describe_allowed(&between, text, sizeof text);
    cr_expect_str_eq(text, "0 to 1000000", "no exponent in a bound");
    gs_option_describe_allowed(&open_both, text, sizeof text);
    cr_expect_str_eq(text, "> 0 and <= 1");
}

Test(cli_options, choices_split_from_a_registry_list) {
    char list[] = "simclr, moco, byol,dino";
    const char *choices[8];
    cr_assert_eq(gs_option_split_choices(list, choices, 8), 4);
    cr_expect_str_eq(choices[1], "moco");
    cr_expect_str_eq(choices[3], "dino");
    cr_expect_null(choices[4]);
    cr_expect_eq(gs_option_choice(choices, "byol"), 2);
    cr_expect_eq(gs_option_choice(choices, "mae"), -1);
}

/* ---- the commands ---- */

Test(cli_options, pretrain_refuses_bad_values) {
    captured c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--lr", "-1", NULL});
    REFUSED(c, "geossl pretrain: --lr -1 is out of range (allowed: > 0)");
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--lr", "nan", NULL});
    REFUSED(c, "--lr nan", "allowed: > 0");
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--temperature", "0", NULL});
    REFUSED(c, "--temperature 0 is out of range", "allowed: > 0");
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--size", "-3", NULL});
    REFUSED(c, "--size -3 is out of range", "allowed: 0 to");
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--stem", "tiny", NULL});
    REFUSED(c, "--stem tiny", "allowed: imagenet, small");
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--weight-decay", "-1", NULL});
    REFUSED(c, "--weight-decay -1 is out of range", "allowed: >= 0");
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "mae", NULL});
    REFUSED(c, "--method mae is not one of the choices", "simclr", "dino");
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--optimizer", "adam", NULL});
    REFUSED(c, "--optimizer adam", "allowed: sgd, lars, adamw");
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--seed", "-1", NULL});
    REFUSED(c, "--seed -1 is out of range", "allowed: 0 to 9223372036854775807");
}

/* A run folder's files, to check that a refused command wrote nothing. */
typedef struct work_dir {
    char dir[256], data[320], spec[400], results[320], out[320];
} work_dir;

static void make_work_dir(work_dir *w, bool with_data) {
    cr_assert(test_temp_dir(w->dir, sizeof w->dir)[0]);
    snprintf(w->data, sizeof w->data, "%s/eurosat", w->dir);
    snprintf(w->spec, sizeof w->spec, "eurosat-rgb:%s", w->data);
    snprintf(w->results, sizeof w->results, "%s/results.csv", w->dir);
    snprintf(w->out, sizeof w->out, "%s/out", w->dir);
    char cache[300];
    snprintf(cache, sizeof cache, "%s/cache", w->dir);
    setenv("GEOSSL_CACHE_DIR", cache, 1);
    if (with_data) {
        gs_synth_options so = {.seed = 1, .count = 5}; /* 64 px; every 5th image of a class is test */
        gs_error err = {0};
        cr_assert_eq(gs_synth_write("eurosat-rgb", w->data, &so, &err), GS_OK, "%s", err.message);
    }
}

Test(cli_options, eval_refuses_zero_epochs_and_batch_before_any_work) {
    work_dir w;
    make_work_dir(&w, true);
    const char *bad[][2] = {{"--epochs", "0"}, {"--batch", "0"}, {"--width", "-4"}, {"--seed", "-1"},
                            {"--seeds", "0"},  {"--threads", "-2"}, {"--workers", "0"}, {"--protocol", "svm"},
                            {"--backbone", "vit-huge"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        captured c = run(gs_cmd_eval, (char *[]){"eval", "--random-init", "--protocol", "finetune", "--data", w.spec,
                                                 "--results", w.results, (char *)bad[i][0], (char *)bad[i][1], NULL});
        REFUSED(c, bad[i][0], bad[i][1], "allowed:");
        cr_expect_not(exists(w.results), "%s %s: the results file was written", bad[i][0], bad[i][1]);
        cr_expect_not(exists(w.out), "nothing else either");
    }
    /* A training protocol with steps of one sample would train nothing: refused before any work. */
    captured one = run(gs_cmd_eval, (char *[]){"eval", "--random-init", "--protocol", "finetune", "--data", w.spec,
                                                "--results", w.results, "--batch", "1", NULL});
    REFUSED(one, "--batch 1", "batchnorm");
    cr_expect_not(exists(w.results), "--batch 1: the results file was written");
    captured c = run(gs_cmd_eval, (char *[]){"eval", "--random-init", "--data", w.spec, "--labels", "0%", NULL});
    REFUSED(c, "--labels 0% is out of range", "(0, 1]");
    char cache[300];
    snprintf(cache, sizeof cache, "%s/cache", w.dir);
    cr_expect_not(exists(cache), "no band statistics or features were computed");
    test_remove_tree(w.dir);
}

Test(cli_options, data_synth_count_zero_writes_nothing) {
    work_dir w;
    make_work_dir(&w, false);
    captured c = run(gs_cmd_data, (char *[]){"data", "synth", "eurosat-rgb", w.data, "--count", "0", NULL});
    REFUSED(c, "geossl data synth: --count 0 is out of range (allowed: 1 to 1000000)");
    cr_expect_not(exists(w.data), "the folder was created");
    c = run(gs_cmd_data, (char *[]){"data", "synth", "eurosat-rgb", w.data, "--size", "-8", NULL});
    REFUSED(c, "--size -8 is out of range");
    cr_expect_not(exists(w.data));
    /* A valid value is accepted. */
    c = run(gs_cmd_data, (char *[]){"data", "synth", "eurosat-rgb", w.data, "--count", "1", NULL});
    cr_expect_eq(c.rc, 0, "%s", c.err);
    cr_expect(exists(w.data));
    test_remove_tree(w.dir);
}

Test(cli_options, data_check_refuses_a_negative_limit) {
    work_dir w;
    make_work_dir(&w, true);
    captured c = run(gs_cmd_data, (char *[]){"data", "check", w.spec, "--limit", "-5", NULL});
    REFUSED(c, "geossl data check: --limit -5 is out of range (allowed: 1 to");
    cr_expect_str_empty(c.out, "nothing was checked: %s", c.out);
    c = run(gs_cmd_data, (char *[]){"data", "check", w.spec, "--limit", "3", NULL});
    cr_expect_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.out, "decoded 3 samples"), "%s", c.out);
    test_remove_tree(w.dir);
}

Test(cli_options, other_commands_refuse_bad_values) {
    captured c = run(gs_cmd_train, (char *[]){"train", "--optimizer", "rmsprop", NULL});
    REFUSED(c, "--optimizer rmsprop", "allowed: sgd, lars, adamw");
    c = run(gs_cmd_train, (char *[]){"train", "--lr", "0", NULL});
    REFUSED(c, "--lr 0 is out of range");
    c = run(gs_cmd_bench, (char *[]){"bench", "train", "--batch", "0", NULL});
    REFUSED(c, "geossl bench train: --batch 0 is out of range");
    c = run(gs_cmd_bench, (char *[]){"bench", "loader", "eurosat-rgb:x", "--augment", "moco-v9", NULL});
    REFUSED(c, "--augment moco-v9", "none, simclr, mocov2, byol-1, byol-2, dino-global-1, dino-global-2, dino-local");
    c = run(gs_cmd_bench, (char *[]){"bench", "kernels", "--repeats", "-1", NULL});
    REFUSED(c, "--repeats -1 is out of range");
    c = run(gs_cmd_report, (char *[]){"report", "--threshold", "nan", NULL});
    REFUSED(c, "--threshold nan", "allowed: 0 to 1000");
    c = run(gs_cmd_demo, (char *[]){"demo", "--epochs", "0", NULL});
    REFUSED(c, "geossl demo: --epochs 0 is out of range");
    c = run(gs_cmd_data, (char *[]){"data", "cache", "eurosat-rgb:x", "--workers", "0", NULL});
    REFUSED(c, "geossl data cache: --workers 0 is out of range");
}

/* A setting the method does not read (BYOL has no temperature, SimCLR no
 * queue or target network, SatMAE no projection head) is refused with the
 * methods it applies to, where it used to be recorded in config.json and
 * printed by --print-config as if it had applied; one the method reads is
 * taken. */
Test(cli_options, pretrain_refuses_settings_the_method_does_not_read) {
    captured c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "byol", "--temperature", "0.5",
                                                 "--print-config", NULL});
    REFUSED(c, "byol has no temperature", "--temperature", "simclr, mocov2, dino");
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "simclr", "--queue", "100", "--print-config", NULL});
    REFUSED(c, "simclr has no queue", "mocov2, seco");
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "simclr", "--set", "method_config.momentum=0.99",
                                        "--print-config", NULL});
    REFUSED(c, "simclr has no momentum-averaged target network", "--ema-momentum");
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "satmae", "--head-dim", "64", "--print-config", NULL});
    REFUSED(c, "satmae has no projection head");
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "dino", "--local-crops", "2", "--temperature", "0.2",
                                        "--ema-momentum", "0.99", "--print-config", NULL});
    cr_expect_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.out, "ema_momentum = 0.99 ") && strstr(c.out, "temperature = 0.2\n") &&
                  strstr(c.out, "local_crops = 2\n"),
              "%s", c.out);
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "byol", "--ema-momentum", "1.5", "--print-config", NULL});
    REFUSED(c, "--ema-momentum 1.5 is out of range");
}

/* FALSE's settings under the spelling become its method options;
 * on another method, or given twice, they are refused. */
Test(cli_options, false_options_are_its_method_options) {
    captured c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "false", "--false-negative", "per-anchor",
                                                 "--alpha", "0.7", "--head-relu", "--print-config", NULL});
    cr_expect_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.out, "method_options = false_negative=per-anchor,alpha=0.7,head_relu=1\n") != NULL, "%s",
              c.out);
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "simclr", "--alpha", "0.5", "--print-config", NULL});
    REFUSED(c, "are FALSE's; simclr has none");
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "false", "--false-negative", "per-anchor",
                                        "--method-options", "false_negative=global", "--print-config", NULL});
    REFUSED(c, "false_negative is given twice");
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "false", "--alpha", "1.5", "--print-config", NULL});
    REFUSED(c, "--alpha 1.5 is out of range");
}

/* Every command's table is well formed (the parser refuses one that is
 * not), and its help states a range for every number it takes. */
Test(cli_options, every_command_states_what_it_accepts) {
    static char *helps[][4] = {
        {"pretrain", "--help"},           {"eval", "--help"},          {"train", "--help"},
        {"demo", "--help"},               {"report", "--help"},        {"run", "--help"},
        {"data", "synth", "--help"},      {"data", "check", "--help"}, {"data", "cache", "--help"},
        {"bench", "train", "--help"},     {"bench", "infer", "--help"}, {"bench", "kernels", "--help"},
        {"bench", "loader", "--help"},
    };
    int (*commands[])(int, char **) = {gs_cmd_pretrain, gs_cmd_eval, gs_cmd_train, gs_cmd_demo, gs_cmd_report,
                                       gs_cmd_run,      gs_cmd_data, gs_cmd_data,  gs_cmd_data, gs_cmd_bench,
                                       gs_cmd_bench,    gs_cmd_bench, gs_cmd_bench};
    for (size_t i = 0; i < sizeof helps / sizeof *helps; i++) {
        captured c = run(commands[i], helps[i]);
        cr_expect_eq(c.rc, 0, "%s %s: exit %d", helps[i][0], helps[i][1], c.rc);
        cr_expect_str_empty(c.err, "%s %s: %s", helps[i][0], helps[i][1], c.err);
        /* Lines of numeric options (metavar N, X, PX or PCT) end with their range. */
        for (const char *line = c.out; *line; line += strcspn(line, "\n") + (line[strcspn(line, "\n")] == '\n')) {
            int len = (int)strcspn(line, "\n");
            char text[1024];
            snprintf(text, sizeof text, "%.*s", len, line);
            if (strstr(text, "  --") == text && (strstr(text, " N ") || strstr(text, " X ") ||
                                                 strstr(text, " PX ") || strstr(text, " PCT ")))
                cr_expect(strstr(text, "(allowed: "), "%s %s: no range in '%s'", helps[i][0], helps[i][1], text);
        }
    }
}

/* ---- --results is checked before the work ---- */

Test(cli_options, eval_checks_the_results_file_first) {
    work_dir w;
    make_work_dir(&w, true);
    /* A foreign CSV is neither touched nor evaluated for. */
    FILE *f = fopen(w.results, "w");
    cr_assert_not_null(f);
    fputs("name,score\nx,1\n", f);
    fclose(f);
    captured c = run(gs_cmd_eval, (char *[]){"eval", "--random-init", "--data", w.spec, "--results", w.results, NULL});
    REFUSED(c, "geossl eval: --results", w.results, "not the expected header");
    cr_expect_str_empty(c.out, "the evaluation ran: %s", c.out);
    /* A folder that does not exist. */
    char missing[400];
    snprintf(missing, sizeof missing, "%s/no/such/folder/results.csv", w.dir);
    c = run(gs_cmd_eval, (char *[]){"eval", "--random-init", "--data", w.spec, "--results", missing, NULL});
    REFUSED(c, "--results", "does not exist");
    cr_expect_str_empty(c.out);
    /* A folder given as the file. */
    c = run(gs_cmd_eval, (char *[]){"eval", "--random-init", "--data", w.spec, "--results", w.dir, NULL});
    REFUSED(c, "--results", "not a regular file");
    test_remove_tree(w.dir);
}

Test(cli_options, eval_appends_to_a_results_file_it_accepts) {
    work_dir w;
    make_work_dir(&w, true);
    char *argv[] = {"eval", "--random-init", "--width", "8", "--threads", "1", "--data", w.spec, "--results",
                    w.results, NULL};
    captured c = run(gs_cmd_eval, argv);
    cr_assert_eq(c.rc, 0, "%s", c.err);
    /* The file the first run wrote is accepted; the same measurement again
     * is refused naming the cell, and --force replaces it. */
    c = run(gs_cmd_eval, argv);
    REFUSED(c, "already holds", "seed 0", "--force");
    char *again[] = {"eval", "--random-init", "--width", "8", "--threads", "1", "--data", w.spec, "--results",
                     w.results, "--force", NULL};
    c = run(gs_cmd_eval, again);
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.err, "replaced"), "%s", c.err);
    char *other_k[] = {"eval", "--random-init", "--width", "8", "--threads", "1", "--data", w.spec, "--results",
                       w.results, "--k", "5", NULL};
    /* Another setting is another measurement, which reports would average
     * with this one as a second seed: it goes into another file. */
    c = run(gs_cmd_eval, other_k);
    REFUSED(c, "k=20", "k=5", "another --results file");
    gs_results r;
    gs_error err = {0};
    cr_assert_eq(gs_results_load(w.results, &r, &err), GS_OK, "%s", err.message);
    int top1 = 0;
    for (size_t i = 0; i < r.n_rows; i++) {
        if (strcmp(r.rows[i].metric, "top1")) continue;
        top1++;
        /* generated EuroSAT comes with eurosat-{train,val,test}.txt: the published lists are the default */
        cr_expect(strstr(r.rows[i].settings, "knn_temperature=0.07") && strstr(r.rows[i].settings, "splits=official"),
                  "settings '%s'", r.rows[i].settings);
    }
    cr_expect_eq(top1, 1, "one top1 row (k=20, replaced by --force; k=5 refused), not %d", top1);
    gs_results_free(&r);
    test_remove_tree(w.dir);
}
