/* --json on eval, bench and data check: stdout holds one JSON object per
 * result, one per line, and nothing else (the human text moves to stderr);
 * each object carries the fields the results CSV rows or the printed tables
 * have, with the same values. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli_capture.h"
#include "commands.h"
#include "results_store.h"
#include "synthetic.h"
#include "test_paths.h"

typedef struct scratch {
    char dir[256], data[320], spec[400], results[320];
} scratch;

/* Generated EuroSAT, 5 images per class: 30 train, 10 val, 10 test. */
static void make_scratch(scratch *s) {
    cr_assert(test_temp_dir(s->dir, sizeof s->dir)[0]);
    snprintf(s->data, sizeof s->data, "%s/eurosat", s->dir);
    snprintf(s->spec, sizeof s->spec, "eurosat-rgb:%s", s->data);
    snprintf(s->results, sizeof s->results, "%s/results.csv", s->dir);
    char cache[300];
    snprintf(cache, sizeof cache, "%s/cache", s->dir);
    setenv("GEOSSL_CACHE_DIR", cache, 1);
    gs_synth_options so = {.seed = 1, .count = 5};
    gs_error err = {0};
    cr_assert_eq(gs_synth_write("eurosat-rgb", s->data, &so, &err), GS_OK, "%s", err.message);
}

/* Splits stdout into its lines, each of which must be one JSON object. */
static int parse_lines(const char *out, cJSON **objects, int max) {
    int n = 0;
    const char *line = out;
    while (*line) {
        const char *end = strchr(line, '\n');
        cr_assert_not_null(end, "the last line has no newline: %s", line);
        cr_assert_lt(n, max, "more than %d lines: %s", max, out);
        char *text = strndup(line, (size_t)(end - line));
        objects[n] = cJSON_Parse(text);
        cr_assert(objects[n] && cJSON_IsObject(objects[n]), "line %d is not a JSON object: '%s'", n + 1, text);
        free(text);
        n++;
        line = end + 1;
    }
    return n;
}

static const char *string_of(const cJSON *o, const char *name) {
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, name));
    cr_assert_not_null(s, "no string '%s' in %s", name, cJSON_PrintUnformatted(o));
    return s;
}

static double number_of(const cJSON *o, const char *name) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(o, name);
    cr_assert(cJSON_IsNumber(item), "no number '%s' in %s", name, cJSON_PrintUnformatted(o));
    return item->valuedouble;
}

Test(cli_json_output, eval_prints_one_object_per_seed_with_the_fields_of_the_csv_rows) {
    scratch s;
    make_scratch(&s);
    captured c = run(gs_cmd_eval, (char *[]){"eval", "--random-init", "--data", s.spec, "--width", "8", "--stem",
                                             "small", "--threads", "1", "--workers", "1", "--seeds", "2", "--results",
                                             s.results, "--json", NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cJSON *objects[4];
    cr_assert_eq(parse_lines(c.out, objects, 4), 2, "one object per seed: %s", c.out);
    /* The table and the headline line are still printed, on stderr. */
    cr_expect(strstr(c.err, "seed 1:") && strstr(c.err, "top-1 "), "%s", c.err);
    gs_results rows;
    gs_error err = {0};
    cr_assert_eq(gs_results_load(s.results, &rows, &err), GS_OK, "%s", err.message);
    for (int i = 0; i < 2; i++) {
        const cJSON *o = objects[i];
        cr_expect_str_eq(string_of(o, "method"), "random");
        cr_expect_str_eq(string_of(o, "backbone"), "resnet18-w8-small");
        cr_expect_str_eq(string_of(o, "pretrain_data"), "none");
        cr_expect_str_eq(string_of(o, "eval_data"), "eurosat-rgb");
        cr_expect_str_eq(string_of(o, "data"), s.spec);
        cr_expect_str_eq(string_of(o, "protocol"), "knn");
        cr_expect_float_eq(number_of(o, "label_fraction"), 1.0, 1e-12);
        cr_expect_eq((int)number_of(o, "seed"), i);
        cr_expect_eq((int)number_of(o, "train_samples"), 30);
        cr_expect_eq((int)number_of(o, "test_samples"), 10);
        cr_expect_eq((int)number_of(o, "threads"), 1);
        cr_expect_geq(number_of(o, "wall_time_s"), 0.0);
        cr_expect(string_of(o, "git_commit")[0]);
        const cJSON *metrics = cJSON_GetObjectItemCaseSensitive(o, "metrics");
        cr_assert(cJSON_IsObject(metrics));
        cr_expect(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(metrics, string_of(o, "headline_metric"))));
        /* Every CSV row of this seed: the same settings, the metric in the object with its value. */
        int matched = 0;
        for (size_t r = 0; r < rows.n_rows; r++) {
            if (rows.rows[r].seed != i) continue;
            cr_expect_str_eq(rows.rows[r].settings, string_of(o, "settings"));
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(metrics, rows.rows[r].metric);
            cr_assert(cJSON_IsNumber(m), "metric %s of the CSV is not in the object", rows.rows[r].metric);
            cr_expect_float_eq(m->valuedouble, rows.rows[r].value, 1e-9 * (1 + rows.rows[r].value));
            matched++;
        }
        cr_expect_eq(matched, cJSON_GetArraySize(metrics), "the object holds metrics the CSV lacks");
        cJSON_Delete(objects[i]);
    }
    gs_results_free(&rows);
    test_remove_tree(s.dir);
}

Test(cli_json_output, data_check_prints_one_object_with_counts_splits_and_band_statistics) {
    scratch s;
    make_scratch(&s);
    captured c = run(gs_cmd_data, (char *[]){"data", "check", "--json", s.spec, NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cJSON *objects[2];
    cr_assert_eq(parse_lines(c.out, objects, 2), 1, "%s", c.out);
    const cJSON *o = objects[0];
    cr_expect(strstr(c.err, "decoded 50 samples") && strstr(c.err, "splits (official)"), "the text: %s", c.err);
    cr_expect_str_eq(string_of(o, "format"), "eurosat-rgb");
    cr_expect_str_eq(string_of(o, "task"), "classification");
    cr_expect_eq((int)number_of(o, "samples"), 50);
    cr_expect_eq((int)number_of(o, "bands"), 3);
    cr_expect_eq((int)number_of(o, "height"), 64);
    cr_expect_eq((int)number_of(o, "decoded"), 50);
    cr_expect_eq((int)number_of(o, "bad"), 0);
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "bad_files")), 0);
    const cJSON *splits = cJSON_GetObjectItemCaseSensitive(o, "splits");
    cr_expect_str_eq(string_of(splits, "source"), "official");
    cr_expect_eq((int)number_of(splits, "train"), 30);
    cr_expect_eq((int)number_of(splits, "test"), 10);
    const cJSON *classes = cJSON_GetObjectItemCaseSensitive(o, "class_counts");
    cr_assert_eq(cJSON_GetArraySize(classes), 10);
    const cJSON *first = cJSON_GetArrayItem(classes, 0);
    cr_expect_str_eq(string_of(first, "class"), "AnnualCrop");
    cr_expect_eq((int)number_of(first, "train") + (int)number_of(first, "val") + (int)number_of(first, "test"), 5);
    const cJSON *bands = cJSON_GetObjectItemCaseSensitive(o, "band_stats");
    cr_assert_eq(cJSON_GetArraySize(bands), 3);
    const cJSON *red = cJSON_GetArrayItem(bands, 0);
    cr_expect_str_eq(string_of(red, "band"), "red");
    cr_expect_gt(number_of(red, "std"), 0.0);
    cr_expect_leq(number_of(red, "min"), number_of(red, "mean"));
    cr_expect_leq(number_of(red, "mean"), number_of(red, "max"));
    cJSON_Delete(objects[0]);
    test_remove_tree(s.dir);
}

Test(cli_json_output, bench_train_kernels_and_loader_print_objects) {
    scratch s;
    make_scratch(&s);
    captured c = run(gs_cmd_bench, (char *[]){"bench", "train", "--size", "16", "--batch", "2", "--warmup", "0",
                                              "--steps", "1", "--threads", "1", "--json", NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cJSON *objects[4];
    cr_assert_eq(parse_lines(c.out, objects, 4), 1, "%s", c.out);
    cr_expect_str_eq(string_of(objects[0], "bench"), "training");
    cr_expect_str_eq(string_of(objects[0], "backbone"), "resnet18");
    cr_expect_eq((int)number_of(objects[0], "batch"), 2);
    cr_expect_gt(number_of(objects[0], "img_per_s"), 0.0);
    cr_expect_gt(number_of(objects[0], "parameters"), 1e6);
    cr_expect(strstr(c.err, "img/s"), "the text goes to stderr: %s", c.err);
    cJSON_Delete(objects[0]);

    /* kernels: one object per op and pass, no CSV header. */
    c = run(gs_cmd_bench, (char *[]){"bench", "kernels", "--only", "softmax", "--repeats", "1", "--threads", "1",
                                     "--json", NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_assert_eq(parse_lines(c.out, objects, 4), 2, "%s", c.out);
    cr_expect_str_eq(string_of(objects[0], "op"), "softmax");
    cr_expect_str_eq(string_of(objects[0], "pass"), "forward");
    cr_expect_str_eq(string_of(objects[1], "pass"), "backward");
    cr_expect_gt(number_of(objects[1], "ms"), 0.0);
    cJSON_Delete(objects[0]);
    cJSON_Delete(objects[1]);

    c = run(gs_cmd_bench, (char *[]){"bench", "loader", s.spec, "--batches", "2", "--batch", "8", "--workers", "1",
                                     "--json", NULL});
    cr_assert_eq(c.rc, 0, "%s", c.err);
    cr_assert_eq(parse_lines(c.out, objects, 4), 1, "%s", c.out);
    cr_expect_str_eq(string_of(objects[0], "bench"), "loader");
    cr_expect_str_eq(string_of(objects[0], "data"), s.spec);
    cr_expect_eq((int)number_of(objects[0], "batches"), 2);
    cr_expect_gt(number_of(objects[0], "img_per_s"), 0.0);
    cJSON_Delete(objects[0]);
    test_remove_tree(s.dir);
}
