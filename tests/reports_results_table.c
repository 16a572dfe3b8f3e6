/* The report reads like a paper's results section: it opens with one table,
 * a row per method / backbone / pretraining data and a column per dataset x
 * protocol x label fraction, the headline metric in % as mean ± std over
 * seeds, best per column in bold, random init as a row, published numbers as
 * their own marked rows (Markdown, HTML and a CSV beside them); every number
 * carries its unit; the protocols' diagnostics are settings, never ranked;
 * the paper-reproduction table lists exactly the reference rows whose
 * method, backbone, dataset and protocol we measured, and counts the rest. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "leaderboard.h"
#include "paper_delta.h"
#include "reference.h"
#include "report.h"
#include "results_store.h"
#include "results_table.h"
#include "test_paths.h"

#define HEADER                                                                                              \
    "run_id,method,backbone,pretrain_data,eval_data,protocol,label_fraction,seed,metric,value,git_commit," \
    "config_hash,threads,date,wall_time_s,cpu\n"
#define ROW(method, backbone, pretrain, data, protocol, fraction, seed, metric, value)                          \
    "r-" method "," method "," backbone "," pretrain "," data "," protocol "," fraction "," seed "," metric "," \
        value ",abc123,00ff,2,2024-01-01T00:00:00Z,10,Test CPU\n"

static const char RESULTS[] =
    HEADER
    /* eurosat-ms linear 10%: simclr 90/91/92 (91 ± 1), byol 93/95 (94 ± 1.41), random 50 */
    ROW("simclr", "resnet18", "ssl4eo-s12", "eurosat-ms", "linear", "0.1", "0", "top1", "90")
    ROW("simclr", "resnet18", "ssl4eo-s12", "eurosat-ms", "linear", "0.1", "1", "top1", "91")
    ROW("simclr", "resnet18", "ssl4eo-s12", "eurosat-ms", "linear", "0.1", "2", "top1", "92")
    ROW("byol", "resnet18", "ssl4eo-s12", "eurosat-ms", "linear", "0.1", "0", "top1", "93")
    ROW("byol", "resnet18", "ssl4eo-s12", "eurosat-ms", "linear", "0.1", "1", "top1", "95")
    ROW("random", "resnet18", "none", "eurosat-ms", "linear", "0.1", "0", "top1", "50")
    /* the probe's diagnostics: settings, not scores */
    ROW("simclr", "resnet18", "ssl4eo-s12", "eurosat-ms", "linear", "0.1", "0", "chosen_l2", "0.001")
    ROW("simclr", "resnet18", "ssl4eo-s12", "eurosat-ms", "linear", "0.1", "1", "chosen_l2", "0.0001")
    ROW("simclr", "resnet18", "ssl4eo-s12", "eurosat-ms", "linear", "0.1", "0", "val_metric", "0.875")
    /* kNN at 100% for simclr and random: random wins and is marked best */
    ROW("simclr", "resnet18", "ssl4eo-s12", "eurosat-ms", "knn", "1", "0", "top1", "60")
    ROW("random", "resnet18", "none", "eurosat-ms", "knn", "1", "0", "top1", "61.5")
    /* fine-tuning at three fractions */
    ROW("mocov2", "resnet50", "ssl4eo-s12", "eurosat-ms", "finetune", "0.01", "0", "top1", "70")
    ROW("mocov2", "resnet50", "ssl4eo-s12", "eurosat-ms", "finetune", "0.1", "0", "top1", "85")
    ROW("mocov2", "resnet50", "ssl4eo-s12", "eurosat-ms", "finetune", "1", "0", "top1", "98.6")
    ROW("mocov2", "resnet50", "ssl4eo-s12", "eurosat-ms", "finetune", "1", "1", "top1", "98.8")
    /* BigEarthNet: both mAPs measured, the column shows the micro one */
    ROW("simclr", "resnet18", "ssl4eo-s12", "bigearthnet", "linear", "1", "0", "map_macro", "40")
    ROW("simclr", "resnet18", "ssl4eo-s12", "bigearthnet", "linear", "1", "0", "map_micro", "55")
    /* not headline: in the leaderboards only */
    ROW("simclr", "resnet18", "ssl4eo-s12", "eurosat-ms", "linear", "0.1", "0", "kappa", "0.9")
    ROW("simclr", "resnet18", "ssl4eo-s12", "eurosat-ms", "bench-train", "1", "0", "img_per_s", "812.5");

#define REF(method, backbone, pretrain, data, protocol, fraction, metric, value, paper) \
    method "," backbone "," pretrain "," data "," protocol "," fraction "," metric "," value "," paper ",Table 1,Citation of " paper ",\n"

static const char REFERENCE[] =
    "method,backbone,pretrain_data,eval_data,protocol,label_fraction,metric,value,paper,table,citation,notes\n"
    /* our mocov2 fine-tune at 100%, same setting: a reproduction, and a published row */
    REF("mocov2", "resnet50", "ssl4eo-s12", "eurosat-ms", "finetune", "1", "top1", "99.1", "Paper A")
    /* the same method and backbone pretrained elsewhere at 50%: compared (settings differ), and a new column */
    REF("mocov2", "resnet50", "seco-1m", "eurosat-ms", "finetune", "0.5", "top1", "96", "Paper D")
    /* another backbone: a published row of the table, not a comparison */
    REF("simclr", "resnet50", "ssl4eo-s12", "eurosat-ms", "finetune", "1", "top1", "95", "Paper B")
    /* a dataset we evaluated, a protocol we did not: its own column */
    REF("dino", "vit-small/16", "ssl4eo-s12", "bigearthnet", "finetune", "1", "map_micro", "90.7", "Paper C")
    /* a dataset we never evaluate: counted */
    REF("byol", "resnet18", "cifar10", "cifar10", "linear", "1", "top1", "92.58", "Paper E")
    /* macro mAP where the column shows micro: not in the table, but compared with our macro mAP */
    REF("simclr", "resnet18", "ssl4eo-s12", "bigearthnet", "linear", "1", "map_macro", "45", "Paper F")
    /* a metric we did not measure where we measured the method: listed without a difference */
    REF("simclr", "resnet18", "ssl4eo-s12", "eurosat-ms", "knn", "1", "top5", "80", "Paper G");

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

typedef struct loaded {
    gs_results results;
    gs_reference reference;
    gs_leaderboards boards;
} loaded;

static void load(loaded *l) {
    gs_error err = {0};
    cr_assert_eq(gs_results_parse(RESULTS, strlen(RESULTS), "results", &l->results, &err), GS_OK, "%s", err.message);
    cr_assert_eq(gs_leaderboards_build(&l->results, &l->boards, &err), GS_OK, "%s", err.message);
    char dir[512], path[600];
    cr_assert(test_temp_dir(dir, sizeof dir)[0]);
    snprintf(path, sizeof path, "%s/reference.csv", dir);
    spit(path, REFERENCE);
    cr_assert_eq(gs_reference_load(path, &l->reference, &err), GS_OK, "%s", err.message);
    test_remove_tree(dir);
}

static void unload(loaded *l) {
    gs_leaderboards_free(&l->boards);
    gs_reference_free(&l->reference);
    gs_results_free(&l->results);
}

static const gs_results_row *row_of(const gs_results_table *t, const char *method, const char *paper) {
    for (size_t i = 0; i < t->n_rows; i++)
        if (!strcmp(t->rows[i].method, method) &&
            (paper ? t->rows[i].published && !strcmp(t->rows[i].published->paper, paper) : !t->rows[i].published))
            return &t->rows[i];
    cr_assert_fail("no row %s (%s)", method, paper ? paper : "ours");
    return NULL;
}

Test(reports_results_table, a_row_per_method_and_a_column_per_dataset_protocol_and_fraction) {
    loaded l;
    load(&l);
    gs_results_table t;
    gs_error err = {0};
    cr_assert_eq(gs_results_table_build(&l.boards, &l.reference, &t, &err), GS_OK, "%s", err.message);

    /* Sorted by dataset, then kNN < linear < fine-tuning, then fraction. */
    static const struct {
        const char *data, *protocol, *metric;
        double fraction;
    } COLUMNS[] = {{"bigearthnet", "linear", "map_micro", 1.0},  {"bigearthnet", "finetune", "map_micro", 1.0},
                   {"eurosat-ms", "knn", "top1", 1.0},          {"eurosat-ms", "linear", "top1", 0.1},
                   {"eurosat-ms", "finetune", "top1", 0.01},    {"eurosat-ms", "finetune", "top1", 0.1},
                   {"eurosat-ms", "finetune", "top1", 0.5},     {"eurosat-ms", "finetune", "top1", 1.0}};
    cr_assert_eq(t.n_columns, 8);
    for (size_t c = 0; c < 8; c++) {
        cr_expect_str_eq(t.columns[c].eval_data, COLUMNS[c].data, "column %zu", c);
        cr_expect_str_eq(t.columns[c].protocol, COLUMNS[c].protocol, "column %zu", c);
        cr_expect_str_eq(t.columns[c].metric, COLUMNS[c].metric, "column %zu", c);
        cr_expect(gs_label_fraction_equal(t.columns[c].label_fraction, COLUMNS[c].fraction), "column %zu", c);
    }
    /* Ours: random init first, then by name; then the published rows in file order. */
    cr_assert_eq(t.n_ours, 4);
    cr_assert_eq(t.n_rows, 8);
    static const char *const ORDER[] = {"random", "byol", "mocov2", "simclr", "mocov2", "mocov2", "simclr", "dino"};
    for (size_t i = 0; i < 8; i++) {
        cr_expect_str_eq(t.rows[i].method, ORDER[i], "row %zu", i);
        cr_expect_eq(t.rows[i].published != NULL, i >= 4, "row %zu", i);
    }
    cr_expect_str_eq(gs_results_row_method(&t.rows[0]), "random init");
    cr_expect_eq(t.n_published_not_shown, 3, "the CIFAR-10 number, the macro mAP under a micro column and top-5");

    const gs_results_row *simclr = row_of(&t, "simclr", NULL), *byol = row_of(&t, "byol", NULL);
    const gs_results_row *random = row_of(&t, "random", NULL), *mocov2 = row_of(&t, "mocov2", NULL);
    cr_expect_float_eq(simclr->cells[3].mean, 91.0, 1e-12);
    cr_expect_float_eq(simclr->cells[3].std, 1.0, 1e-12);
    cr_expect_eq(simclr->cells[3].n_seeds, 3);
    cr_expect_float_eq(simclr->cells[0].mean, 55.0, 1e-12, "the micro mAP, not the macro one");
    cr_expect_eq(simclr->cells[4].n_seeds, 0, "no number: no cell");
    cr_expect(byol->cells[3].best, "best of the linear column");
    cr_expect_not(simclr->cells[3].best);
    cr_expect(random->cells[2].best, "random init can win a column, and is marked when it does");
    cr_expect_float_eq(mocov2->cells[7].mean, 98.7, 1e-12);
    cr_expect(mocov2->cells[7].best);

    const gs_results_row *paper_a = row_of(&t, "mocov2", "Paper A"), *paper_d = row_of(&t, "mocov2", "Paper D");
    cr_expect_float_eq(paper_a->cells[7].mean, 99.1, 1e-12);
    cr_expect(isnan(paper_a->cells[7].std));
    cr_expect_not(paper_a->cells[7].best, "published numbers are not ranked");
    cr_expect_float_eq(paper_d->cells[6].mean, 96.0, 1e-12);
    cr_expect_str_eq(paper_d->pretrain_data, "seco-1m");
    cr_expect_float_eq(row_of(&t, "dino", "Paper C")->cells[1].mean, 90.7, 1e-12);

    char label[400], source[200];
    gs_results_column_label(label, sizeof label, &t.columns[3]);
    cr_expect_str_eq(label, "eurosat-ms · linear probe · 10% labels · top-1 (%)");
    gs_results_row_source(source, sizeof source, &t, mocov2);
    cr_expect_str_eq(source, "geossl, 1-2 seeds");
    gs_results_row_source(source, sizeof source, &t, paper_a);
    cr_expect_str_eq(source, "published: Paper A");
    gs_results_table_free(&t);
    unload(&l);
}

Test(reports_results_table, the_paper_table_lists_every_reference_row_we_measured_and_counts_the_rest) {
    loaded l;
    load(&l);
    gs_paper_comparisons c;
    gs_error err = {0};
    cr_assert_eq(gs_paper_compare(&l.boards, &l.reference, &c, &err), GS_OK, "%s", err.message);
    /* Papers A, D (mocov2 resnet50 eurosat-ms finetune top1), F (simclr resnet18 bigearthnet linear
     * map_macro) and G (top-5 we did not measure); B has another backbone, C another method, E another
     * dataset. */
    cr_assert_eq(c.n, 4);
    cr_expect_eq(c.n_reference_unmatched, 3);
    cr_expect_str_eq(c.items[0].paper->paper, "Paper A");
    cr_expect(c.items[0].settings_match, "%s", c.items[0].differs);
    cr_expect(gs_label_fraction_equal(c.items[0].board->label_fraction, 1.0));
    cr_expect_float_eq(c.items[0].difference, 98.7 - 99.1, 1e-9);
    cr_expect_str_eq(c.items[1].paper->paper, "Paper D");
    cr_expect_not(c.items[1].settings_match);
    cr_expect(gs_label_fraction_equal(c.items[1].board->label_fraction, 1.0), "the nearest fraction: 100% for 50%");
    cr_expect_str_eq(c.items[1].differs,
                     "pretraining data: ours ssl4eo-s12, paper seco-1m; labels: ours 100%, paper 50%");
    cr_expect_str_eq(c.items[2].paper->paper, "Paper F");
    cr_expect_str_eq(c.items[2].board->metric, "map_macro");
    cr_expect_float_eq(c.items[2].difference, 40.0 - 45.0, 1e-9);
    cr_expect_str_eq(c.items[3].paper->paper, "Paper G");
    cr_expect_null(c.items[3].ours);
    cr_expect(isnan(c.items[3].difference));
    cr_expect_not(c.items[3].settings_match);
    cr_expect_str_eq(c.items[3].differs, "metric: we did not measure top5 there");
    gs_paper_comparisons_free(&c);
    unload(&l);
}

/* Writes the fixture and a report of it (plots off: PATH without gnuplot). */
typedef struct written {
    char dir[512], out[600];
    char *md, *html, *csv;
} written;

static void write_report(written *w, const char *reference_text) {
    cr_assert(test_temp_dir(w->dir, sizeof w->dir)[0]);
    char results[700], reference[700], empty[700];
    snprintf(results, sizeof results, "%s/results.csv", w->dir);
    snprintf(reference, sizeof reference, "%s/reference.csv", w->dir);
    snprintf(empty, sizeof empty, "%s/no-gnuplot", w->dir);
    snprintf(w->out, sizeof w->out, "%s/report", w->dir);
    spit(results, RESULTS);
    spit(reference, reference_text);
    cr_assert_eq(mkdir(empty, 0755), 0);
    setenv("PATH", empty, 1); /* this test's process only: Criterion forks per test */
    gs_report_options o = {.results_path = results, .reference_path = reference, .out_dir = w->out,
                           .regression_threshold = 0.1, .title = "Results"};
    gs_report_summary summary;
    gs_error err = {0};
    cr_assert_eq(gs_report_write(&o, &summary, &err), GS_OK, "%s", err.message);
    char path[800];
    snprintf(path, sizeof path, "%s/report.md", w->out);
    w->md = slurp(path);
    snprintf(path, sizeof path, "%s/index.html", w->out);
    w->html = slurp(path);
    snprintf(path, sizeof path, "%s/results_table.csv", w->out);
    w->csv = slurp(path);
}

static void written_free(written *w) {
    free(w->md);
    free(w->html);
    free(w->csv);
    test_remove_tree(w->dir);
}

Test(reports_results_table, the_report_opens_with_the_table_in_markdown_html_and_csv) {
    written w;
    write_report(&w, REFERENCE);
    /* First section, before plots and leaderboards. */
    long results = position(w.md, "## Results");
    cr_expect_lt(results, position(w.md, "## Plots"));
    cr_expect_lt(position(w.md, "## Plots"), position(w.md, "## Paper reproduction"));
    cr_expect_lt(position(w.md, "## Paper reproduction"), position(w.md, "## Leaderboards"));
    position(w.md, "| method | backbone | pretraining data | bigearthnet · linear probe · 100% labels · mAP (micro) (%) "
                   "| bigearthnet · fine-tuning · 100% labels · mAP (micro) (%) | eurosat-ms · kNN · 100% labels · "
                   "top-1 (%) | eurosat-ms · linear probe · 10% labels · top-1 (%) |");
    position(w.md, "| random init | resnet18 | none | – | – | **61.50** | 50.00 | – | – | – | – | geossl, 1 seed |");
    position(w.md, "| byol | resnet18 | ssl4eo-s12 | – | – | – | **94.00 ± 1.41** | – | – | – | – | geossl, 2 seeds |");
    position(w.md, "| simclr | resnet18 | ssl4eo-s12 | **55.00** | – | 60.00 | 91.00 ± 1.00 | – | – | – | – | geossl, "
                   "1-3 seeds |");
    position(w.md, "| _mocov2_ | _resnet50_ | _ssl4eo-s12_ | – | – | – | – | – | – | – | _99.10_ | _published: Paper A_ |");
    position(w.md, "| _dino_ | _vit-small/16_ | _ssl4eo-s12_ | – | _90.70_ | – | – | – | – | – | – | _published: Paper C_ |");
    position(w.md, "3 other published numbers in");
    /* HTML: the same table, best cells bold, published ones italic. */
    long table = position(w.html, "<th class=\"num\">eurosat-ms · linear probe · 10% labels · top-1 (%)</th>");
    cr_expect_lt(table, position(w.html, "id=\"s1\">Plots"));
    position(w.html, "<td class=\"num best\">94.00 ± 1.41</td>");
    position(w.html, "<td class=\"num quoted\">99.10</td>");
    position(w.html, "<td class=\"quoted\">published: Paper A</td>");
    /* CSV: the table's numbers, unrounded, with their unit in the header. */
    position(w.csv, "method,backbone,pretrain_data,source,bigearthnet linear 100% map_micro mean (%),bigearthnet "
                    "linear 100% map_micro std (%),bigearthnet linear 100% map_micro seeds,");
    position(w.csv, "\nrandom init,resnet18,none,\"geossl, 1 seed\",,,,,,,61.5,0,1,50,0,1,");
    position(w.csv, "\nbyol,resnet18,ssl4eo-s12,\"geossl, 2 seeds\",,,,,,,,,,94,1.414213562,2,");
    position(w.csv, "\nmocov2,resnet50,ssl4eo-s12,\"geossl, 1-2 seeds\",,,,,,,,,,,,,70,0,1,85,0,1,,,,98.7,0.1414213562,2\n");
    position(w.csv, "\nmocov2,resnet50,ssl4eo-s12,published: Paper A,,,,,,,,,,,,,,,,,,,,,,99.1,,\n");
    written_free(&w);
}

Test(reports_results_table, every_number_has_its_unit_and_diagnostics_are_settings) {
    written w;
    write_report(&w, REFERENCE);
    position(w.md, "#### eurosat-ms · linear · 10% labels · top1 (%, higher is better)");
    position(w.md, "| rank | method | backbone | pretraining | mean ± std (%) | seeds |");
    position(w.md, "#### eurosat-ms · linear · 10% labels · kappa (no unit, higher is better)");
    position(w.md, "#### eurosat-ms · bench-train · 100% labels · img\\_per\\_s (img/s, higher is better)");
    position(w.md, "| rank | method | backbone | pretraining | mean ± std (img/s) | seeds |");
    position(w.md, "| eurosat-ms | finetune | 100% | top1 (%) | mocov2 | resnet50 | 98.70 ± 0.14 | _99.10_ | -0.40 |");
    position(w.md, "| date (UTC) | commit | config | threads | wall time (s) |");
    /* The diagnostics: one settings table, a value per seed, no rank, no bold. */
    cr_expect_null(strstr(w.md, "chosen\\_l2 ("), "a leaderboard of the chosen L2");
    cr_expect_null(strstr(w.md, "val\\_metric ("), "a leaderboard of the validation score");
    long settings = position(w.md, "## Settings the protocols chose");
    cr_expect_gt(settings, position(w.md, "## Leaderboards"));
    position(w.md, "| eval data | protocol | labels | method | backbone | pretraining data | setting | value per seed |");
    position(w.md, "| eurosat-ms | linear | 10% | simclr | resnet18 | ssl4eo-s12 | chosen L2 strength (no unit) | seed "
                   "0: 0.001; seed 1: 0.0001 |");
    position(w.md, "| eurosat-ms | linear | 10% | simclr | resnet18 | ssl4eo-s12 | validation score of the chosen L2 "
                   "(fraction 0-1) | seed 0: 0.875 |");
    cr_expect_null(strstr(w.md + settings, "**"), "nothing in the settings is marked best");
    written_free(&w);
}

Test(reports_results_table, unmatched_reference_rows_are_counted_not_listed) {
    written w;
    write_report(&w, REFERENCE);
    long paper = position(w.md, "## Paper reproduction");
    long end = position(w.md, "## Leaderboards");
    char *section = strndup(w.md + paper, (size_t)(end - paper));
    position(section, "| Paper A |");
    position(section, "| **differ: pretraining data: ours ssl4eo-s12, paper seco-1m; labels: ours 100%, paper 50%** | "
                      "Paper D |");
    position(section, "| Paper F |");
    position(section, "| eurosat-ms | knn | 100% | top5 (%) | simclr | resnet18 | – | _80.00_ | – | **differ: "
                      "metric: we did not measure top5 there** | Paper G |");
    cr_expect_null(strstr(section, "Paper B"), "another backbone is not a comparison");
    cr_expect_null(strstr(section, "Paper C"));
    cr_expect_null(strstr(section, "Paper E"));
    position(section, "3 other published numbers in the reference file are for a method, backbone, dataset, protocol "
                      "or metric we have not measured; they are counted, not listed.");
    free(section);
    written_free(&w);
}
