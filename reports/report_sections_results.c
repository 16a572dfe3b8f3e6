/* The sections that present our own numbers before the detail: the
 * paper-shaped results table the report opens with, and the settings the
 * protocols chose (listed, never ranked). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_sections.h"

/* Table column bits stop at 32: wider tables are left-aligned past them. */
static unsigned numeric_bit(size_t column) { return column < 32 ? 1u << column : 0u; }

void gs_section_results_table(gs_doc *doc, const gs_results_table *t, const char *csv_name,
                              const char *reference_path) {
    gs_doc_heading(doc, 1, "Results");
    if (!t->n_columns || !t->n_ours) {
        gs_doc_paragraph(doc, "No headline metric (top-1, mIoU, mAP) was measured: the leaderboards below hold every "
                              "metric there is.");
        return;
    }
    gs_doc_paragraph(doc, "The headline metric of each evaluation dataset, protocol and label fraction, in %%: mean ± "
                          "sample standard deviation over seeds (a single seed has no ±). Bold: the best of our rows "
                          "in each column. Rows whose source is \"published\" (in italics) are numbers quoted from "
                          "papers, measured in the papers' own settings: they are there for scale and are not "
                          "ranked; the paper-reproduction section says what differs. The same table is in %s.",
                     csv_name);
    size_t n_cols = t->n_columns + 4;
    const char **header = malloc(n_cols * sizeof *header);
    char (*labels)[320] = malloc(t->n_columns * sizeof *labels);
    const char **cells = malloc(n_cols * sizeof *cells);
    char (*values)[96] = malloc(t->n_columns * sizeof *values);
    unsigned char *marks = malloc(n_cols);
    if (!header || !labels || !cells || !values || !marks) {
        doc->failed = true;
        goto done;
    }
    header[0] = "method";
    header[1] = "backbone";
    header[2] = "pretraining data";
    unsigned numeric = 0;
    for (size_t c = 0; c < t->n_columns; c++) {
        gs_results_column_label(labels[c], sizeof labels[c], &t->columns[c]);
        header[3 + c] = labels[c];
        numeric |= numeric_bit(3 + c);
    }
    header[n_cols - 1] = "source";
    gs_doc_table table;
    gs_doc_table_init(&table, n_cols, header, numeric);
    for (size_t i = 0; i < t->n_rows; i++) {
        const gs_results_row *r = &t->rows[i];
        char source[512];
        gs_results_row_source(source, sizeof source, t, r);
        memset(marks, r->published ? GS_CELL_QUOTED : GS_CELL_PLAIN, n_cols);
        cells[0] = gs_results_row_method(r);
        cells[1] = r->backbone;
        cells[2] = r->pretrain_data[0] ? r->pretrain_data : "none";
        for (size_t c = 0; c < t->n_columns; c++) {
            const gs_results_cell *cell = &r->cells[c];
            if (!cell->n_seeds) {
                snprintf(values[c], sizeof values[c], "–");
                marks[3 + c] = GS_CELL_PLAIN; /* nothing quoted there */
            }
            else if (r->published)
                gs_format_metric(values[c], sizeof values[c], cell->mean);
            else
                gs_format_mean_std(values[c], sizeof values[c], cell->mean, cell->std, cell->n_seeds);
            cells[3 + c] = values[c];
            if (cell->best) marks[3 + c] = GS_CELL_BEST;
        }
        cells[n_cols - 1] = source;
        gs_doc_table_row(&table, cells, marks);
    }
    gs_doc_add_table(doc, &table);
    if (reference_path && t->n_rows == t->n_ours)
        gs_doc_paragraph(doc, "No published number in %s is for these datasets, protocols, label fractions and "
                              "metrics (%zu are for others).", reference_path, t->n_published_not_shown);
    else if (reference_path && t->n_published_not_shown)
        gs_doc_paragraph(doc, "%zu other published numbers in %s are for datasets, protocols or label fractions not "
                              "in this table.", t->n_published_not_shown, reference_path);
done:
    free(header);
    free(labels);
    free(cells);
    free(values);
    free(marks);
}

/* ---- the protocols' diagnostics ---- */

static int by_setting_then_seed(const void *pa, const void *pb) {
    const gs_result_row *a = *(const gs_result_row *const *)pa, *b = *(const gs_result_row *const *)pb;
    int c;
    if ((c = strcmp(a->eval_data, b->eval_data))) return c;
    if ((c = strcmp(a->protocol, b->protocol))) return c;
    if (!gs_label_fraction_equal(a->label_fraction, b->label_fraction))
        return a->label_fraction < b->label_fraction ? -1 : 1;
    if ((c = strcmp(a->method, b->method))) return c;
    if ((c = strcmp(a->backbone, b->backbone))) return c;
    if ((c = strcmp(a->pretrain_data, b->pretrain_data))) return c;
    if ((c = strcmp(a->metric, b->metric))) return c;
    if (a->seed != b->seed) return a->seed < b->seed ? -1 : 1;
    return a < b ? -1 : a > b; /* file order: a re-run comes later */
}

static bool same_setting(const gs_result_row *a, const gs_result_row *b) {
    return !strcmp(a->eval_data, b->eval_data) && !strcmp(a->protocol, b->protocol) &&
           gs_label_fraction_equal(a->label_fraction, b->label_fraction) && !strcmp(a->method, b->method) &&
           !strcmp(a->backbone, b->backbone) && !strcmp(a->pretrain_data, b->pretrain_data) &&
           !strcmp(a->metric, b->metric);
}

/* "seed 0: 0.001; seed 1: 0.0001" from rows [begin, end) of one setting,
 * a seed measured twice shown with its later value. */
static void values_by_seed(char *buf, size_t size, const gs_result_row *const *rows, size_t begin, size_t end) {
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = begin; i < end && used < size; i++) {
        if (i + 1 < end && rows[i + 1]->seed == rows[i]->seed) continue;
        int n = snprintf(buf + used, size - used, "%sseed %lld: %.6g", used ? "; " : "", rows[i]->seed,
                         rows[i]->value);
        if (n < 0) break;
        used += (size_t)n;
    }
}

void gs_section_settings(gs_doc *doc, const gs_results *results) {
    size_t n = 0;
    for (size_t i = 0; i < results->n_rows; i++) n += gs_metric_tier_of(results->rows[i].metric) == GS_METRIC_DIAGNOSTIC;
    if (!n) return;
    const gs_result_row **rows = malloc(n * sizeof *rows);
    if (!rows) {
        doc->failed = true;
        return;
    }
    n = 0;
    for (size_t i = 0; i < results->n_rows; i++)
        if (gs_metric_tier_of(results->rows[i].metric) == GS_METRIC_DIAGNOSTIC) rows[n++] = &results->rows[i];
    qsort(rows, n, sizeof *rows, by_setting_then_seed);
    gs_doc_heading(doc, 1, "Settings the protocols chose");
    gs_doc_paragraph(doc, "What the protocols chose on the validation split before scoring on the test split (the "
                          "linear probe's L2 strength and its validation score): settings that explain a number, not "
                          "scores, so they are listed per seed and never ranked.");
    static const char *const HEADER[] = {"eval data", "protocol", "labels",  "method",
                                         "backbone",  "pretraining data", "setting", "value per seed"};
    gs_doc_table t;
    gs_doc_table_init(&t, 8, HEADER, 0);
    for (size_t i0 = 0; i0 < n;) {
        size_t i1 = i0 + 1;
        while (i1 < n && same_setting(rows[i0], rows[i1])) i1++;
        const gs_result_row *r = rows[i0];
        char fraction[32], setting[200], values[600];
        gs_format_fraction(fraction, sizeof fraction, r->label_fraction);
        snprintf(setting, sizeof setting, "%s (%s)", gs_metric_display_name(r->metric), gs_metric_unit_label(r->metric));
        values_by_seed(values, sizeof values, rows, i0, i1);
        const char *cells[] = {r->eval_data, r->protocol, fraction, r->method, r->backbone,
                               r->pretrain_data[0] ? r->pretrain_data : "none", setting, values};
        gs_doc_table_row(&t, cells, NULL);
        i0 = i1;
    }
    gs_doc_add_table(doc, &t);
    free(rows);
}

void gs_section_mixed_settings(gs_doc *doc, const gs_leaderboards *boards) {
    size_t shown = 0, mixed = 0;
    char list[1600] = "";
    for (size_t b = 0; b < boards->n_boards; b++) {
        const gs_leaderboard *board = &boards->boards[b];
        if (gs_metric_tier_of(board->metric) != GS_METRIC_HEADLINE) continue;
        for (size_t i = 0; i < board->n_entries; i++) {
            const gs_leader_entry *e = &board->entries[i];
            if (!e->mixed_settings[0]) continue;
            mixed++;
            size_t used = strlen(list);
            if (shown++ < 8)
                snprintf(list + used, sizeof list - used, "%s%s %s (%s) on %s, %s, %s: %s", shown > 1 ? "; " : "",
                         e->method, e->backbone, e->pretrain_data[0] ? e->pretrain_data : "none", board->eval_data,
                         board->protocol, board->metric, e->mixed_settings);
        }
    }
    if (!mixed) return;
    gs_doc_note(doc, "Warning: %zu result%s above average%s rows measured with different settings, as if they "
                     "were seeds of one measurement: %s%s. Such a number is no measurement of either setting; "
                     "keep each setting in its own results file.",
                mixed, mixed == 1 ? "" : "s", mixed == 1 ? "s" : "", list, mixed > shown ? "; ..." : "");
}
