#include "report_sections.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void leaderboard_table(gs_doc *doc, const gs_leaderboard *b) {
    char fraction[32], value_header[64];
    gs_format_fraction(fraction, sizeof fraction, b->label_fraction);
    const char *unit = gs_metric_unit_label(b->metric);
    snprintf(value_header, sizeof value_header, "mean ± std (%s)", unit);
    const char *const header[] = {"rank", "method", "backbone", "pretraining", value_header, "seeds"};
    gs_doc_heading(doc, 3, "%s · %s · %s labels · %s (%s, %s is better)", b->eval_data, b->protocol, fraction,
                   b->metric, unit, b->lower_is_better ? "lower" : "higher");
    gs_doc_table t;
    gs_doc_table_init(&t, 6, header, 1u << 0 | 1u << 4 | 1u << 5);
    for (size_t k = 0; k < b->n_entries; k++) {
        const gs_leader_entry *e = &b->entries[k];
        char rank[24], value[96], seeds[16];
        snprintf(rank, sizeof rank, "%zu", k + 1);
        gs_format_mean_std(value, sizeof value, e->mean, e->std, e->n_seeds);
        snprintf(seeds, sizeof seeds, "%d", e->n_seeds);
        const char *cells[] = {rank, e->method, e->backbone, e->pretrain_data[0] ? e->pretrain_data : "none", value,
                               seeds};
        unsigned char mark = e->best ? GS_CELL_BEST : GS_CELL_PLAIN;
        const unsigned char marks[] = {GS_CELL_PLAIN, mark, GS_CELL_PLAIN, GS_CELL_PLAIN, mark, GS_CELL_PLAIN};
        gs_doc_table_row(&t, cells, marks);
    }
    gs_doc_add_table(doc, &t);
}

/* The boards in three passes, headline metrics first: within a tier they
 * keep the boards' order (evaluation data, protocol, fraction, metric).
 * Diagnostics are not boards: they are settings (gs_section_settings). */
void gs_section_leaderboards(gs_doc *doc, const gs_leaderboards *boards) {
    gs_doc_heading(doc, 1, "Leaderboards");
    if (!boards->n_boards) {
        gs_doc_paragraph(doc, "No results yet.");
        return;
    }
    gs_doc_paragraph(doc, "Every metric measured, one table per evaluation dataset, protocol, label fraction and "
                          "metric: mean ± sample standard deviation over seeds for each method, backbone and "
                          "pretraining data, ranked; the best mean of each table is in bold.");
    static const struct {
        gs_metric_tier tier;
        const char *heading;
    } TIERS[] = {{GS_METRIC_HEADLINE, "Headline metrics (top-1, mAP, mIoU)"},
                 {GS_METRIC_SUMMARY, "Other metrics"},
                 {GS_METRIC_PER_CLASS, "Per-class metrics"}};
    for (size_t t = 0; t < sizeof TIERS / sizeof *TIERS; t++) {
        size_t n = 0;
        for (size_t i = 0; i < boards->n_boards; i++) n += gs_metric_tier_of(boards->boards[i].metric) == TIERS[t].tier;
        if (!n) continue;
        gs_doc_heading(doc, 2, "%s", TIERS[t].heading);
        bool fold = TIERS[t].tier == GS_METRIC_PER_CLASS;
        if (fold) gs_doc_fold_begin(doc, "%zu per-class tables, one per metric and class", n);
        for (size_t i = 0; i < boards->n_boards; i++)
            if (gs_metric_tier_of(boards->boards[i].metric) == TIERS[t].tier)
                leaderboard_table(doc, &boards->boards[i]);
        if (fold) gs_doc_fold_end(doc);
    }
}

/* Each paper compared with, once: where in it the numbers are, the full
 * citation (kept out of the comparison table to keep its rows short). */
static void sources_table(gs_doc *doc, const gs_paper_comparisons *c) {
    static const char *const HEADER[] = {"source", "table", "citation"};
    gs_doc_table t;
    gs_doc_table_init(&t, 3, HEADER, 0);
    for (size_t i = 0; i < c->n; i++) {
        const gs_reference_row *r = c->items[i].paper;
        bool earlier = false;
        for (size_t j = 0; j < i && !earlier; j++) {
            const gs_reference_row *q = c->items[j].paper;
            earlier = !strcmp(q->paper, r->paper) && !strcmp(q->table, r->table) && !strcmp(q->citation, r->citation);
        }
        if (earlier) continue;
        const char *cells[] = {r->paper, r->table, r->citation};
        gs_doc_table_row(&t, cells, NULL);
    }
    gs_doc_add_table(doc, &t);
}

void gs_section_paper(gs_doc *doc, const gs_paper_comparisons *c, const char *reference_path,
                      const char *reference_note) {
    gs_doc_heading(doc, 1, "Paper reproduction");
    if (reference_note) {
        gs_doc_note(doc, "%s", reference_note);
        return;
    }
    gs_doc_paragraph(doc, "Every published number in %s whose method, backbone, evaluation dataset, protocol and "
                          "metric we measured too, next to our mean. A difference is a reproduction only where the "
                          "settings match; otherwise the settings that differ are listed.", reference_path);
    if (!c->n) {
        gs_doc_paragraph(doc, "None of the %zu published numbers is for a method, backbone, dataset, protocol and "
                              "metric we measured.", c->n_reference_unmatched);
        return;
    }
    static const char *const HEADER[] = {"eval data", "protocol",        "labels (paper)",         "metric",
                                         "method",    "backbone",        "ours",             "paper",
                                         "ours − paper", "settings",     "source"};
    gs_doc_table t;
    gs_doc_table_init(&t, 11, HEADER, 1u << 6 | 1u << 7 | 1u << 8);
    for (size_t i = 0; i < c->n; i++) {
        const gs_paper_comparison *x = &c->items[i];
        char fraction[32], metric[160], ours[96], paper[48], diff[48], settings[600];
        gs_format_fraction(fraction, sizeof fraction, x->paper->label_fraction);
        snprintf(metric, sizeof metric, "%s (%s)", x->paper->metric, gs_metric_unit_label(x->paper->metric));
        gs_format_metric(paper, sizeof paper, x->paper->value);
        if (x->ours) {
            gs_format_mean_std(ours, sizeof ours, x->ours->mean, x->ours->std, x->ours->n_seeds);
            gs_format_difference(diff, sizeof diff, x->difference, fmax(fabs(x->ours->mean), fabs(x->paper->value)));
        } else {
            snprintf(ours, sizeof ours, "–");
            snprintf(diff, sizeof diff, "–");
        }
        snprintf(settings, sizeof settings, "%s%s", x->settings_match ? "match" : "differ: ", x->differs);
        const char *cells[] = {x->board->eval_data, x->board->protocol, fraction, metric,
                               x->paper->method,    x->paper->backbone, ours,     paper,
                               diff,                settings,           x->paper->paper};
        unsigned char marks[11] = {0};
        marks[7] = GS_CELL_QUOTED;
        marks[9] = x->settings_match ? GS_CELL_GOOD : GS_CELL_BAD;
        gs_doc_table_row(&t, cells, marks);
    }
    gs_doc_add_table(doc, &t);
    sources_table(doc, c);
    if (c->n_reference_unmatched)
        gs_doc_paragraph(doc, "%zu other published numbers in the reference file are for a method, backbone, dataset, "
                              "protocol or metric we have not measured; they are counted, not listed.",
                         c->n_reference_unmatched);
}

/* Which training logs the curves come from, so a reader can find them. */
static void run_logs_note(gs_doc *doc, const gs_loss_logs *logs) {
    if (!logs || (!logs->n && !logs->n_unreadable)) return;
    gs_text list = {0};
    for (size_t i = 0; i < logs->n; i++)
        gs_text_appendf(&list, "%s%s", i ? ", " : "",
                        logs->logs[i].folder_run_id ? logs->logs[i].folder_run_id : "the --loss-log file");
    if (logs->n)
        gs_doc_paragraph(doc, "Training curves from %zu run log%s: %s.", logs->n, logs->n == 1 ? "" : "s",
                         gs_text_str(&list));
    if (logs->n_unreadable)
        gs_doc_note(doc, "%zu run log%s could not be read and %s left out: %s", logs->n_unreadable,
                    logs->n_unreadable == 1 ? "" : "s", logs->n_unreadable == 1 ? "is" : "are", logs->unreadable);
    if (!gs_text_ok(&list)) doc->failed = true;
    gs_text_free(&list);
}

void gs_section_plots(gs_doc *doc, const gs_plots *plots, const gs_loss_logs *logs) {
    gs_doc_heading(doc, 1, "Plots");
    run_logs_note(doc, logs);
    if (plots->gnuplot_missing) {
        gs_doc_note(doc, "Plots skipped: gnuplot was not found on PATH (Debian: apt-get install gnuplot-nox). "
                         "The tables are complete.");
        return;
    }
    if (plots->n_failed)
        gs_doc_note(doc, "%zu of %zu plots failed: %s", plots->n_failed, plots->n_wanted, plots->failure);
    if (!plots->n_wanted)
        gs_doc_paragraph(doc, "Nothing to plot: no headline metric, no pretraining run log (a run folder's log.csv "
                              "beside the results, or --loss-log) and no row with the metric img_per_s.");
    size_t n_per_class = 0;
    for (int per_class = 0; per_class < 2; per_class++) {
        if (per_class) {
            for (size_t i = 0; i < plots->n; i++) n_per_class += plots->items[i].per_class;
            if (!n_per_class) break;
            gs_doc_fold_begin(doc, "%zu per-class plots", n_per_class);
        }
        for (size_t i = 0; i < plots->n; i++) {
            if (plots->items[i].per_class != (per_class == 1)) continue;
            char png[200], svg[200];
            snprintf(png, sizeof png, "plots/%s.png", plots->items[i].stem);
            snprintf(svg, sizeof svg, "plots/%s.svg", plots->items[i].stem);
            gs_doc_figure(doc, plots->items[i].caption, png, svg);
        }
        if (per_class) gs_doc_fold_end(doc);
    }
}

static const char *change_name(gs_kernel_change c) {
    switch (c) {
    case GS_KERNEL_SLOWER: return "SLOWER";
    case GS_KERNEL_FASTER: return "faster";
    case GS_KERNEL_SAME: return "within noise";
    case GS_KERNEL_ONLY_BASELINE: return "missing from the new run";
    case GS_KERNEL_ONLY_NEW: return "new (no baseline)";
    }
    return "?";
}

void gs_section_kernels(gs_doc *doc, const gs_kernel_comparison *c, double threshold, const char *baseline_path,
                        const char *new_path) {
    gs_doc_heading(doc, 1, "Kernel regressions");
    gs_doc_paragraph(doc, "%s against the baseline %s, per op, shape and pass. Noise threshold %g%%: %zu slower, "
                          "%zu faster.", new_path, baseline_path, threshold * 100.0, c->n_slower, c->n_faster);
    static const char *const TIMES[] = {"op", "shape", "pass", "baseline (ms)", "new (ms)", "change", "verdict"};
    static const char *const COUNTS[] = {"op", "shape", "pass", "baseline (instructions)", "new (instructions)",
                                         "change", "verdict"};
    gs_doc_table t;
    gs_doc_table_init(&t, 7, c->counted ? COUNTS : TIMES, 1u << 3 | 1u << 4 | 1u << 5);
    for (size_t i = 0; i < c->n; i++) {
        const gs_kernel_delta *d = &c->items[i];
        char base[32] = "–", now[32] = "–", change[32] = "–";
        const char *format = c->counted ? "%.0f" : "%.4f";
        if (!isnan(d->baseline_ms)) snprintf(base, sizeof base, format, d->baseline_ms);
        if (!isnan(d->new_ms)) snprintf(now, sizeof now, format, d->new_ms);
        if (!isnan(d->ratio)) snprintf(change, sizeof change, "%+.1f%%", (d->ratio - 1.0) * 100.0);
        const char *cells[] = {d->op, d->shape, d->pass, base, now, change, change_name(d->change)};
        unsigned char mark = d->change == GS_KERNEL_SLOWER   ? GS_CELL_BAD
                             : d->change == GS_KERNEL_FASTER ? GS_CELL_GOOD
                                                             : GS_CELL_PLAIN;
        const unsigned char marks[] = {0, 0, 0, 0, 0, mark, mark};
        gs_doc_table_row(&t, cells, marks);
    }
    gs_doc_add_table(doc, &t);
}

static int by_run_then_position(const void *pa, const void *pb) {
    const gs_result_row *a = *(const gs_result_row *const *)pa, *b = *(const gs_result_row *const *)pb;
    int c = strcmp(a->run_id, b->run_id);
    return c ? c : a < b ? -1 : a > b;
}

static int by_position(const void *pa, const void *pb) {
    const gs_result_row *a = *(const gs_result_row *const *)pa, *b = *(const gs_result_row *const *)pb;
    return a < b ? -1 : a > b;
}

void gs_section_provenance(gs_doc *doc, const gs_results *results) {
    gs_doc_heading(doc, 1, "Provenance");
    if (!results->n_rows) {
        gs_doc_paragraph(doc, "No runs.");
        return;
    }
    /* The first row of each run, in file order (sorted, not a nested scan:
     * a results file can hold many thousands of rows). */
    const gs_result_row **firsts = malloc(results->n_rows * sizeof *firsts);
    if (!firsts) {
        doc->failed = true;
        return;
    }
    for (size_t i = 0; i < results->n_rows; i++) firsts[i] = &results->rows[i];
    qsort(firsts, results->n_rows, sizeof *firsts, by_run_then_position);
    size_t n_runs = 0;
    for (size_t i = 0; i < results->n_rows; i++)
        if (!n_runs || strcmp(firsts[n_runs - 1]->run_id, firsts[i]->run_id)) firsts[n_runs++] = firsts[i];
    qsort(firsts, n_runs, sizeof *firsts, by_position);

    gs_doc_paragraph(doc, "%zu runs; each listed with the provenance of its first row in the results file.", n_runs);
    static const char *const HEADER[] = {"run", "date (UTC)", "commit", "config", "threads", "wall time (s)", "cpu"};
    gs_doc_table t;
    gs_doc_table_init(&t, 7, HEADER, 1u << 4 | 1u << 5);
    for (size_t i = 0; i < n_runs; i++) {
        const gs_result_row *r = firsts[i];
        char threads[16], wall[32];
        snprintf(threads, sizeof threads, "%d", r->threads);
        snprintf(wall, sizeof wall, "%.1f", r->wall_time_s);
        const char *cells[] = {r->run_id, r->date, r->git_commit, r->config_hash, threads, wall, r->cpu};
        gs_doc_table_row(&t, cells, NULL);
    }
    gs_doc_add_table(doc, &t);
    free(firsts);
}
