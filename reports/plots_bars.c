/* Bar plots: the headline metric per method (one chart per dataset), the
 * throughput, and the per-class breakdowns. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gnuplot.h"
#include "metric_units.h"
#include "plots_internal.h"

/* Room for one chart's labels and numbers, freed together. */
typedef struct bar_data {
    char (*group_labels)[160], (*series_labels)[200];
    const char **group_ptrs, **series_ptrs;
    double *mean, *std;
} bar_data;

static void bar_data_free(bar_data *d) {
    free(d->group_labels);
    free(d->series_labels);
    free(d->group_ptrs);
    free(d->series_ptrs);
    free(d->mean);
    free(d->std);
    *d = (bar_data){0};
}

static bool bar_data_alloc(bar_data *d, size_t n_groups, size_t n_series) {
    size_t g = n_groups ? n_groups : 1, s = n_series ? n_series : 1;
    d->group_labels = calloc(g, sizeof *d->group_labels);
    d->series_labels = calloc(s, sizeof *d->series_labels);
    d->group_ptrs = calloc(g, sizeof *d->group_ptrs);
    d->series_ptrs = calloc(s, sizeof *d->series_ptrs);
    d->mean = malloc(g * s * sizeof *d->mean);
    d->std = malloc(g * s * sizeof *d->std);
    if (!d->group_labels || !d->series_labels || !d->group_ptrs || !d->series_ptrs || !d->mean || !d->std) {
        bar_data_free(d);
        return false;
    }
    for (size_t i = 0; i < g; i++) d->group_ptrs[i] = d->group_labels[i];
    for (size_t i = 0; i < s; i++) d->series_ptrs[i] = d->series_labels[i];
    for (size_t i = 0; i < g * s; i++) d->mean[i] = d->std[i] = NAN;
    return true;
}

static gs_status draw_bars(const gs_plot_target *target, gs_plots *plots, const gs_bar_chart *chart,
                           const char *stem, const char *caption, bool per_class, gs_error *err) {
    gs_text body = {0};
    gs_plot_grouped_bars(&body, chart);
    gs_status s = gs_plot_render(target, plots, stem, caption, per_class, &body, err);
    gs_text_free(&body);
    return s;
}

static void series_label(char *buf, size_t size, const char *method, const char *backbone, const char *pretrain) {
    if (!strcmp(method, "random"))
        snprintf(buf, size, "random init %s", backbone);
    else
        snprintf(buf, size, "%s %s (%s)", method, backbone, pretrain[0] ? pretrain : "none");
}

/* One chart per evaluation dataset of the results table: its columns as
 * groups, our rows as bars (published numbers are the table's, not drawn:
 * they were measured in other settings). */
static gs_status dataset_bars(const gs_plot_target *target, const gs_results_table *t, size_t first,
                              size_t n_columns, gs_plots *plots, gs_error *err) {
    bar_data d = {0};
    if (!bar_data_alloc(&d, n_columns, t->n_ours)) return gs_error_set(err, GS_ERR_MEMORY, "plots: out of memory");
    const char *metric = t->columns[first].metric, *eval_data = t->columns[first].eval_data;
    bool one_metric = true;
    for (size_t c = 0; c < n_columns; c++) {
        const gs_results_column *col = &t->columns[first + c];
        char fraction[32];
        gs_format_fraction(fraction, sizeof fraction, col->label_fraction);
        one_metric &= !strcmp(col->metric, metric);
        snprintf(d.group_labels[c], sizeof d.group_labels[c], "%s %s", gs_protocol_display_name(col->protocol),
                 fraction);
    }
    for (size_t c = 0; !one_metric && c < n_columns; c++) {
        size_t used = strlen(d.group_labels[c]);
        snprintf(d.group_labels[c] + used, sizeof d.group_labels[c] - used, " %s",
                 gs_metric_display_name(t->columns[first + c].metric));
    }
    for (size_t r = 0; r < t->n_ours; r++) {
        const gs_results_row *row = &t->rows[r];
        series_label(d.series_labels[r], sizeof d.series_labels[r], row->method, row->backbone, row->pretrain_data);
        for (size_t c = 0; c < n_columns; c++) {
            const gs_results_cell *cell = &row->cells[first + c];
            if (!cell->n_seeds) continue;
            d.mean[r * n_columns + c] = cell->mean;
            d.std[r * n_columns + c] = cell->std;
        }
    }
    char title[400], ylabel[200], stem[160], caption[512];
    /* Headline metrics are all percentages; the axis names the metric when it is one. */
    snprintf(ylabel, sizeof ylabel, "%s (%s)", one_metric ? gs_metric_display_name(metric) : "headline metric",
             gs_metric_unit_label(metric));
    snprintf(title, sizeof title, "%s: %s per method (mean and std over seeds)", eval_data,
             one_metric ? gs_metric_display_name(metric) : "headline metric");
    snprintf(stem, sizeof stem, "headline_%s", eval_data);
    gs_plot_sanitize(stem);
    snprintf(caption, sizeof caption, "%s: %s per method, each protocol and label fraction a group of bars "
                                      "(error bars: std over seeds)",
             eval_data, one_metric ? gs_metric_display_name(metric) : "the headline metric");
    gs_bar_chart chart = {.title = title, .xlabel = "protocol and labelled training images (% of the training split)",
                          .ylabel = ylabel, .n_groups = n_columns, .n_series = t->n_ours,
                          .group_labels = d.group_ptrs, .series_labels = d.series_ptrs, .mean = d.mean, .std = d.std};
    gs_status s = draw_bars(target, plots, &chart, stem, caption, false, err);
    bar_data_free(&d);
    return s;
}

gs_status gs_plots_headline_bars(const gs_plot_target *target, const gs_results_table *t, gs_plots *plots,
                                 gs_error *err) {
    gs_status s = GS_OK;
    if (!t->n_ours) return s;
    /* Columns are sorted by dataset: each dataset's columns are one run. */
    for (size_t c0 = 0; c0 < t->n_columns && s == GS_OK;) {
        size_t c1 = c0 + 1;
        while (c1 < t->n_columns && !strcmp(t->columns[c1].eval_data, t->columns[c0].eval_data)) c1++;
        bool measured = false;
        for (size_t c = c0; c < c1 && !measured; c++)
            for (size_t r = 0; r < t->n_ours && !measured; r++) measured = t->rows[r].cells[c].n_seeds > 0;
        if (measured) s = dataset_bars(target, t, c0, c1 - c0, plots, err);
        c0 = c1;
    }
    return s;
}

#define THROUGHPUT_METRIC "img_per_s"

/* A pretraining run's typical speed: the median over its steps, the first
 * left out when there are others (it pays for the first allocations and the
 * loader filling up). */
static double median_rate(const gs_loss_log *log, const char *run, double *scratch) {
    size_t n = 0, n_steps = 0;
    for (size_t i = 0; i < log->n; i++) n_steps += !strcmp(log->points[i].run_id, run) && isfinite(log->points[i].img_per_s);
    bool first = n_steps > 1;
    for (size_t i = 0; i < log->n; i++) {
        if (strcmp(log->points[i].run_id, run) || !isfinite(log->points[i].img_per_s)) continue;
        if (first) {
            first = false;
            continue;
        }
        size_t k = n++;
        for (; k > 0 && scratch[k - 1] > log->points[i].img_per_s; k--) scratch[k] = scratch[k - 1];
        scratch[k] = log->points[i].img_per_s;
    }
    if (!n) return NAN;
    return n % 2 ? scratch[n / 2] : 0.5 * (scratch[n / 2 - 1] + scratch[n / 2]);
}

typedef struct throughput_bars {
    gs_text data, tics;
    size_t n;
    bool spread; /* some bar has several seeds: draw error bars */
} throughput_bars;

static void add_throughput(throughput_bars *b, const char *label, double mean, double std) {
    gs_text_appendf(&b->data, "%zu ", b->n);
    gs_plot_number(&b->data, mean);
    gs_text_append(&b->data, " ");
    gs_plot_number(&b->data, std);
    gs_text_append(&b->data, "\n");
    b->spread |= std > 0;
    gs_text_append(&b->tics, b->n ? ", " : "");
    gs_gnuplot_quote_tic(&b->tics, label);
    gs_text_appendf(&b->tics, " %zu", b->n);
    b->n++;
}

/* Pretraining runs' medians from their logs (one bar per run). */
static gs_status add_pretraining_rates(throughput_bars *bars, const gs_loss_logs *logs, gs_error *err) {
    for (size_t l = 0; logs && l < logs->n; l++) {
        const gs_loss_log *log = &logs->logs[l];
        double *scratch = malloc((log->n ? log->n : 1) * sizeof *scratch);
        if (!scratch) return gs_error_set(err, GS_ERR_MEMORY, "plots: out of memory");
        for (size_t i = 0; i < log->n; i++) {
            const char *run = log->points[i].run_id;
            double rate = gs_loss_log_run_starts_at(log, i) ? median_rate(log, run, scratch) : NAN;
            if (isnan(rate)) continue;
            char label[300];
            snprintf(label, sizeof label, "%s pretraining (median of its steps)", run[0] ? run : "run");
            add_throughput(bars, label, rate, 0.0);
        }
        free(scratch);
    }
    return GS_OK;
}

gs_status gs_plots_throughput(const gs_plot_target *target, const gs_leaderboards *boards, const gs_loss_logs *logs,
                              gs_plots *plots, gs_error *err) {
    throughput_bars bars = {0};
    gs_text_append(&bars.data, "$T << EOD\n");
    for (size_t k = 0; boards && k < boards->n_boards; k++) {
        if (strcmp(boards->boards[k].metric, THROUGHPUT_METRIC)) continue;
        for (size_t e = 0; e < boards->boards[k].n_entries; e++) {
            const gs_leader_entry *entry = &boards->boards[k].entries[e];
            char label[512];
            snprintf(label, sizeof label, "%s %s (%s, %s)", entry->method, entry->backbone, boards->boards[k].protocol,
                     boards->boards[k].eval_data);
            add_throughput(&bars, label, entry->mean, entry->std);
        }
    }
    gs_status s = add_pretraining_rates(&bars, logs, err);
    gs_text_append(&bars.data, "EOD\n");
    if (s == GS_OK && bars.n) {
        gs_text body = {0};
        gs_text_append_n(&body, gs_text_str(&bars.data), bars.data.len);
        gs_text_append(&body, "set title 'throughput'\nset ylabel 'throughput (img/s)'\nset xlabel 'run'\n"
                              "set yrange [0:*]\nset xrange [-0.6:");
        gs_text_appendf(&body, "%zu.6]\nset style fill solid 0.75 border -1\nset boxwidth 0.6\nset key off\n"
                               "set bmargin 10\nset xtics rotate by -30 left (", bars.n - 1);
        gs_text_append_n(&body, gs_text_str(&bars.tics), bars.tics.len);
        gs_text_append(&body, ")\nplot $T using 1:2 with boxes lc rgb '#4878cf'");
        gs_text_append(&body, bars.spread ? ", $T using 1:2:3 with yerrorbars lc rgb '#222222' ps 0\n" : "\n");
        if (!gs_text_ok(&bars.data) || !gs_text_ok(&bars.tics)) body.failed = true;
        s = gs_plot_render(target, plots, "throughput", "Throughput in images per second", false, &body, err);
        gs_text_free(&body);
    }
    gs_text_free(&bars.data);
    gs_text_free(&bars.tics);
    return s;
}

/* ---- per class ---- */

/* "accuracy" of "accuracy/Forest"; false for a whole-dataset metric. */
static bool family_of(const char *metric, char *family, size_t size) {
    const char *slash = strchr(metric, '/');
    if (!slash) return false;
    snprintf(family, size, "%.*s", (int)(slash - metric), metric);
    return true;
}

static bool same_family_group(const gs_leaderboard *a, const gs_leaderboard *b) {
    char fa[64], fb[64];
    return family_of(a->metric, fa, sizeof fa) && family_of(b->metric, fb, sizeof fb) && !strcmp(fa, fb) &&
           !strcmp(a->eval_data, b->eval_data) && !strcmp(a->protocol, b->protocol) &&
           gs_label_fraction_equal(a->label_fraction, b->label_fraction);
}

static bool same_entry(const gs_leader_entry *a, const gs_leader_entry *b) {
    return !strcmp(a->method, b->method) && !strcmp(a->backbone, b->backbone) &&
           !strcmp(a->pretrain_data, b->pretrain_data);
}

static int by_table_order(const void *pa, const void *pb) {
    const gs_leader_entry *a = *(const gs_leader_entry *const *)pa, *b = *(const gs_leader_entry *const *)pb;
    bool ra = !strcmp(a->method, "random"), rb = !strcmp(b->method, "random");
    if (ra != rb) return ra ? -1 : 1;
    int c;
    if ((c = strcmp(a->method, b->method))) return c;
    if ((c = strcmp(a->backbone, b->backbone))) return c;
    return strcmp(a->pretrain_data, b->pretrain_data);
}

/* Boards [first, end) are one family's classes (boards sort by metric, so
 * they are adjacent): classes as groups, each method a bar. */
static gs_status class_bars(const gs_plot_target *target, const gs_leaderboards *b, size_t first, size_t end,
                            gs_plots *plots, gs_error *err) {
    size_t n_classes = end - first, max_series = 0;
    for (size_t k = first; k < end; k++) max_series += b->boards[k].n_entries;
    const gs_leader_entry **series = malloc((max_series ? max_series : 1) * sizeof *series);
    bar_data d = {0};
    if (!series || !bar_data_alloc(&d, n_classes, max_series)) {
        free(series);
        return gs_error_set(err, GS_ERR_MEMORY, "plots: out of memory");
    }
    size_t n_series = 0;
    for (size_t k = first; k < end; k++)
        for (size_t e = 0; e < b->boards[k].n_entries; e++) {
            size_t s = 0;
            while (s < n_series && !same_entry(series[s], &b->boards[k].entries[e])) s++;
            if (s == n_series) series[n_series++] = &b->boards[k].entries[e];
        }
    /* Each board ranks its own entries; the bars keep one order (and so one
     * colour per method) across classes and charts: the results table's. */
    qsort(series, n_series, sizeof *series, by_table_order);
    for (size_t s = 0; s < n_series; s++) {
        series_label(d.series_labels[s], sizeof d.series_labels[s], series[s]->method, series[s]->backbone,
                     series[s]->pretrain_data);
        for (size_t k = first; k < end; k++)
            for (size_t e = 0; e < b->boards[k].n_entries; e++)
                if (same_entry(series[s], &b->boards[k].entries[e])) {
                    d.mean[s * n_classes + (k - first)] = b->boards[k].entries[e].mean;
                    d.std[s * n_classes + (k - first)] = b->boards[k].entries[e].std;
                }
    }
    const gs_leaderboard *head = &b->boards[first];
    char family[64], fraction[32], title[400], ylabel[200], stem[160], caption[512];
    family_of(head->metric, family, sizeof family);
    for (size_t k = first; k < end; k++)
        snprintf(d.group_labels[k - first], sizeof d.group_labels[k - first], "%s", strchr(b->boards[k].metric, '/') + 1);
    gs_format_fraction(fraction, sizeof fraction, head->label_fraction);
    snprintf(title, sizeof title, "%s, %s, %s labels: %s per class", head->eval_data,
             gs_protocol_display_name(head->protocol), fraction, family);
    snprintf(ylabel, sizeof ylabel, "%s (%s)", family, gs_metric_unit_label(head->metric));
    snprintf(stem, sizeof stem, "class_%s_%s_%s_%s", head->eval_data, head->protocol, fraction, family);
    gs_plot_sanitize(stem);
    snprintf(caption, sizeof caption, "%s · %s · %s labels: %s per class (%s)", head->eval_data,
             gs_protocol_display_name(head->protocol), fraction, family, gs_metric_unit_label(head->metric));
    gs_bar_chart chart = {.title = title, .xlabel = "class", .ylabel = ylabel, .n_groups = n_classes,
                          .n_series = n_series, .group_labels = d.group_ptrs, .series_labels = d.series_ptrs,
                          .mean = d.mean, .std = d.std};
    gs_status s = draw_bars(target, plots, &chart, stem, caption, true, err);
    bar_data_free(&d);
    free(series);
    return s;
}

gs_status gs_plots_per_class_bars(const gs_plot_target *target, const gs_leaderboards *b, gs_plots *plots,
                                  gs_error *err) {
    gs_status s = GS_OK;
    for (size_t k0 = 0; k0 < b->n_boards && s == GS_OK;) {
        size_t k1 = k0 + 1;
        if (gs_metric_tier_of(b->boards[k0].metric) != GS_METRIC_PER_CLASS) {
            k0 = k1;
            continue;
        }
        while (k1 < b->n_boards && same_family_group(&b->boards[k0], &b->boards[k1])) k1++;
        s = class_bars(target, b, k0, k1, plots, err);
        k0 = k1;
    }
    return s;
}
