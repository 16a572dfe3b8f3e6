/* Recipes from a file (harness/cli/config_file.c): --config FILE and --set
 * KEY=VALUE on pretrain, eval and run; a run folder's config.json repeats
 * its run step for step; the resolved recipe (--print-config) without data;
 * --warmup-epochs; unknown keys and bad values name the key. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_capture.h"
#include "commands.h"
#include "synthetic.h"
#include "test_paths.h"

typedef struct scratch {
    char dir[256], data[320], spec[400];
} scratch;

static void make_scratch(scratch *s) {
    cr_assert(test_temp_dir(s->dir, sizeof s->dir)[0]);
    snprintf(s->data, sizeof s->data, "%s/eurosat", s->dir);
    snprintf(s->spec, sizeof s->spec, "eurosat-rgb:%s", s->data);
    char cache[300];
    snprintf(cache, sizeof cache, "%s/cache", s->dir);
    setenv("GEOSSL_CACHE_DIR", cache, 1);
    gs_synth_options so = {.seed = 1, .count = 8};
    gs_error err = {0};
    cr_assert_eq(gs_synth_write("eurosat-rgb", s->data, &so, &err), GS_OK, "%s", err.message);
}

/* The value printed for `key = ` by --print-config ("" when absent). */
static const char *printed(const captured *c, const char *key, char *value, size_t size) {
    char needle[128];
    snprintf(needle, sizeof needle, "\n%s = ", key);
    const char *at = strstr(c->out, needle);
    value[0] = '\0';
    if (!at && !strncmp(c->out, needle + 1, strlen(needle + 1))) at = c->out - 1;
    if (at) sscanf(at + strlen(needle), "%63s", value);
    (void)size;
    return value;
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* The loss column (third) of a run's log.csv, as text. */
static void losses(const char *run_dir, char *out, size_t size) {
    char path[512], line[256];
    snprintf(path, sizeof path, "%s/log.csv", run_dir);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "no %s", path);
    size_t used = 0;
    out[0] = '\0';
    while (fgets(line, sizeof line, f) && used + 64 < size) {
        char *comma = strchr(line, ',');
        comma = comma ? strchr(comma + 1, ',') : NULL;
        if (!comma) continue;
        used += (size_t)snprintf(out + used, size - used, "%.*s;", (int)strcspn(comma + 1, ","), comma + 1);
    }
    fclose(f);
}

Test(cli_config, print_config_needs_only_the_method_and_spells_out_the_optimizer) {
    captured c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "mocov2", "--print-config", NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    char v[64];
    cr_expect_str_eq(printed(&c, "optimizer", v, sizeof v), "sgd");
    cr_expect_str_eq(printed(&c, "weight_decay", v, sizeof v), "0.0001");
    cr_expect_str_eq(printed(&c, "momentum", v, sizeof v), "0.9");
    cr_expect_str_eq(printed(&c, "temperature", v, sizeof v), "0.2");
    cr_expect_str_eq(printed(&c, "ema_momentum", v, sizeof v), "0.999");
    cr_expect(strstr(c.out, "data = none") != NULL, "%s", c.out);
    cr_expect(strstr(c.out, "view.0.crop_scale = 0.2:1") != NULL, "MoCo v2's crops: %s", c.out);
}

Test(cli_config, set_overrides_augmentations_schedule_and_optimizer) {
    captured c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "simclr", "--print-config", "--set",
                                                 "augment.crop_scale=0.2,1", "--set", "augment.blur_p=0", "--set",
                                                 "schedule.warmup_epochs=0", "--set=optimizer.lr=0.5", NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    char v[64];
    cr_expect_str_eq(printed(&c, "view.0.crop_scale", v, sizeof v), "0.2:1");
    cr_expect_str_eq(printed(&c, "view.0.blur_p", v, sizeof v), "0");
    cr_expect_str_eq(printed(&c, "schedule.warmup_epochs", v, sizeof v), "0");
    cr_expect_str_eq(printed(&c, "lr", v, sizeof v), "0.5");
    /* An option typed on the command line wins over --set, whatever the order. */
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--lr", "0.25", "--method", "simclr", "--print-config", "--set",
                                        "lr=0.5", NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect_str_eq(printed(&c, "lr", v, sizeof v), "0.25");
}

Test(cli_config, unknown_keys_and_bad_values_name_the_key) {
    captured c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "simclr", "--print-config", "--set",
                                                 "optimizer.lrr=0.1", NULL});
    REFUSED(c, "unknown key 'optimizer.lrr'", "did you mean optimizer.lr?");
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "simclr", "--print-config", "--set",
                                        "training.epochs=many", NULL});
    REFUSED(c, "--set training.epochs", "many", "not an integer");
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "simclr", "--print-config", "--set", "lr", NULL});
    REFUSED(c, "--set 'lr'", "KEY=VALUE");
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "simclr", "--print-config", "--set",
                                        "resume=1", NULL});
    REFUSED(c, "unknown key 'resume'");
    /* A method with its own schedule has no warm-up to set. */
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "false", "--print-config", "--set",
                                        "schedule.warmup_epochs=1", NULL});
    cr_expect_eq(c.rc, 2, "%s", c.err);
    cr_expect(strstr(c.err, "own schedule") && strstr(c.err, "--warmup-epochs"), "%s", c.err);
}

Test(cli_config, a_key_value_file_with_line_numbers_in_its_messages) {
    scratch s;
    cr_assert(test_temp_dir(s.dir, sizeof s.dir)[0]);
    char file[400];
    snprintf(file, sizeof file, "%s/recipe.conf", s.dir);
    write_text(file, "# a recipe\nmethod = byol\nbatch = 128   # images per step\nweight_decay = 1e-5\n");
    captured c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--config", file, "--print-config", NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    char v[64];
    cr_expect_str_eq(printed(&c, "method", v, sizeof v), "byol");
    cr_expect_str_eq(printed(&c, "batch", v, sizeof v), "128");
    cr_expect_str_eq(printed(&c, "weight_decay", v, sizeof v), "1e-05");
    /* --set goes over the file. */
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--set", "batch=32", "--config", file, "--print-config", NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect_str_eq(printed(&c, "batch", v, sizeof v), "32");
    write_text(file, "method = byol\n\nbatch = -4\n");
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--config", file, "--print-config", NULL});
    REFUSED(c, "recipe.conf:3: batch", "-4", "out of range");
    write_text(file, "{\"method\": \"byol\", \"training\": {\"epochz\": 3}}");
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--config", file, "--print-config", NULL});
    REFUSED(c, "unknown key 'training.epochz'", "did you mean training.epochs?");
    write_text(file, "{\"method\": \"byol\",");
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--config", file, "--print-config", NULL});
    REFUSED(c, "recipe.conf is not valid JSON");
    snprintf(file, sizeof file, "%s/absent.json", s.dir);
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--config", file, "--print-config", NULL});
    REFUSED(c, "absent.json cannot be read");
    test_remove_tree(s.dir);
}

/* The config.json a run folder holds repeats that run: the same losses,
 * step for step (its warm-up and augmentation overrides included). */
Test(cli_config, a_runs_config_json_repeats_it_exactly) {
    scratch s;
    make_scratch(&s);
    char a[400], b[400], config[420];
    snprintf(a, sizeof a, "%s/a", s.dir);
    snprintf(b, sizeof b, "%s/b", s.dir);
    snprintf(config, sizeof config, "%s/config.json", a);
    captured c = run(gs_cmd_pretrain,
                     (char *[]){"pretrain", "--method", "simclr", "--data", s.spec, "--out", a, "--epochs", "2",
                                "--batch", "16", "--width", "8", "--size", "32", "--threads", "1", "--workers", "1",
                                "--warmup-epochs", "0.5", "--seed", "3", "--set", "augment.blur_p=0",
                                "--set", "augment.crop_scale=0.3,1", NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--config", config, "--out", b, NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    char la[4096], lb[4096];
    losses(a, la, sizeof la);
    losses(b, lb, sizeof lb);
    cr_expect(strlen(la) > 20, "%s", la);
    cr_expect_str_eq(lb, la, "the repeat's losses differ");
    /* A changed key changes the run: the comparison above can fail. */
    char other[400];
    snprintf(other, sizeof other, "%s/other", s.dir);
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--config", config, "--out", other, "--set", "training.seed=4",
                                        NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    losses(other, lb, sizeof lb);
    cr_expect_str_neq(lb, la);
    test_remove_tree(s.dir);
}

Test(cli_config, eval_takes_keys_by_option_name) {
    captured c = run(gs_cmd_eval, (char *[]){"eval", "--random-init", "--data", "eurosat-rgb:/nonexistent", "--set",
                                             "knn_temperature=-1", NULL});
    REFUSED(c, "--set knn_temperature", "-1", "out of range");
    c = run(gs_cmd_eval, (char *[]){"eval", "--random-init", "--data", "eurosat-rgb:/nonexistent", "--set",
                                    "protocl=linear", NULL});
    REFUSED(c, "unknown key 'protocl'", "did you mean protocol?");
}

Test(cli_config, run_takes_suite_keys_through_set) {
    scratch s;
    make_scratch(&s);
    char suite[400], out[400], text[800];
    snprintf(suite, sizeof suite, "%s/s.conf", s.dir);
    snprintf(out, sizeof out, "%s/out", s.dir);
    snprintf(text, sizeof text, "methods = random\neval_data = %s\nprotocols = knn\n", s.spec);
    write_text(suite, text);
    captured c = run(gs_cmd_run, (char *[]){"run", suite, "--set", "seedz=1", NULL});
    cr_expect_eq(c.rc, 2, "%s", c.err);
    cr_expect(strstr(c.err, "--set seedz=1") && strstr(c.err, "did you mean 'seeds'"), "%s", c.err);
    c = run(gs_cmd_run, (char *[]){"run", suite, "--set", "seeds=0,1,2", "--out", out, "--dry-run", NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.out, "3 cells:") && strstr(c.out, "seed 2: to run"), "the override did not reach the grid: %s%s",
              c.out, c.err);
    c = run(gs_cmd_run, (char *[]){"run", suite, "--config", suite, NULL});
    REFUSED(c, "not --config");
    test_remove_tree(s.dir);
}

/* A dataset that does not open stops the run (and --dry-run) before any
 * cell, with one line naming it; suites' ../shared/data paths follow
 * $GEOSSL_SHARED_DATA. */
Test(cli_config, run_checks_every_dataset_opens_and_follows_geossl_shared_data) {
    scratch s;
    make_scratch(&s);
    char suite[400], out[400];
    snprintf(suite, sizeof suite, "%s/s.conf", s.dir);
    snprintf(out, sizeof out, "%s/out", s.dir);
    write_text(suite, "methods = random\neval_data = eurosat-rgb:../shared/data/eurosat\nprotocols = knn\n");
    setenv("GEOSSL_SHARED_DATA", "/nonexistent-geossl-shared", 1);
    captured c = run(gs_cmd_run, (char *[]){"run", suite, "--out", out, "--dry-run", NULL});
    cr_expect_eq(c.rc, 1, "%s", c.err);
    cr_expect(strstr(c.err, "eval_data eurosat-rgb:/nonexistent-geossl-shared/eurosat"), "%s", c.err);
    cr_expect(strstr(c.out, "to run") == NULL, "cells listed for a dataset that does not open: %s", c.out);
    setenv("GEOSSL_SHARED_DATA", s.dir, 1); /* s.dir/eurosat is the generated data */
    c = run(gs_cmd_run, (char *[]){"run", suite, "--out", out, "--dry-run", NULL});
    cr_expect_eq(c.rc, 0, "%s", c.err);
    cr_expect(strstr(c.out, "1 cells: 0 done, 1 to run"), "%s", c.out);
    unsetenv("GEOSSL_SHARED_DATA");
    test_remove_tree(s.dir);
}

/* --dates 1 turns seasonal data into one image per location, so the
 * single-date baseline (MoCo v2) trains on the images SeCo sees; the
 * count is recorded for --config; one-date data refuses more. */
Test(cli_config, dates_gives_single_date_methods_seasonal_data) {
    scratch s;
    cr_assert(test_temp_dir(s.dir, sizeof s.dir)[0]);
    snprintf(s.data, sizeof s.data, "%s/seco", s.dir);
    snprintf(s.spec, sizeof s.spec, "seco:%s", s.data);
    char cache[300], run_dir[400], config[420];
    snprintf(cache, sizeof cache, "%s/cache", s.dir);
    setenv("GEOSSL_CACHE_DIR", cache, 1);
    gs_synth_options so = {.seed = 1, .count = 8, .size = 36};
    gs_error err = {0};
    cr_assert_eq(gs_synth_write("seco", s.data, &so, &err), GS_OK, "%s", err.message);
    snprintf(run_dir, sizeof run_dir, "%s/moco", s.dir);
    captured c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "mocov2", "--data", s.spec, "--out", run_dir,
                                                 "--epochs", "1", "--batch", "4", "--width", "8", "--size", "32",
                                                 "--threads", "1", "--workers", "1", NULL});
    cr_expect_eq(c.rc, 1, "MoCo v2 on 5 dates per sample: %s", c.err);
    cr_expect(strstr(c.err, "dates per sample"), "%s", c.err);
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "mocov2", "--data", s.spec, "--out", run_dir,
                                        "--epochs", "1", "--batch", "4", "--width", "8", "--size", "32", "--dates",
                                        "1", "--threads", "1", "--workers", "1", NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    snprintf(config, sizeof config, "%s/config.json", run_dir);
    FILE *f = fopen(config, "r");
    cr_assert_not_null(f);
    char text[8192];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    cr_expect(strstr(text, "\"dates\":\t1"), "%s", text);
    c = run(gs_cmd_pretrain, (char *[]){"pretrain", "--method", "mocov2", "--data", "eurosat-rgb:/nonexistent",
                                        "--dates", "0", "--print-config", NULL});
    REFUSED(c, "--dates 0", "out of range");
    test_remove_tree(s.dir);
}
