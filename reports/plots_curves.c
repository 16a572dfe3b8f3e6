/* Line plots: the headline metric against the label fraction, and each
 * pretraining run's loss and embedding std against its step. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gnuplot.h"
#include "metric_units.h"
#include "plots_internal.h"

static bool same_curve_group(const gs_leaderboard *a, const gs_leaderboard *b) {
    return !strcmp(a->eval_data, b->eval_data) && !strcmp(a->protocol, b->protocol) && !strcmp(a->metric, b->metric);
}

static bool same_series(const gs_leader_entry *a, const gs_leader_entry *b) {
    return !strcmp(a->method, b->method) && !strcmp(a->backbone, b->backbone) &&
           !strcmp(a->pretrain_data, b->pretrain_data);
}

/* The boards of one (eval data, protocol, metric): one per label fraction,
 * in increasing fraction order. */
typedef struct curve_group {
    const gs_leaderboard **boards;
    size_t n;
} curve_group;

/* Log-scale x axis with one tic per measured fraction, as a percentage. */
static void fraction_axis(gs_text *body, const curve_group *grp) {
    gs_text_append(body, "set logscale x\nset xrange [");
    gs_plot_number(body, grp->boards[0]->label_fraction / 1.6);
    gs_text_append(body, ":");
    gs_plot_number(body, grp->boards[grp->n - 1]->label_fraction * 1.6);
    gs_text_append(body, "]\nset xtics (");
    for (size_t k = 0; k < grp->n; k++) {
        char label[32];
        gs_format_fraction(label, sizeof label, grp->boards[k]->label_fraction);
        gs_text_append(body, k ? ", " : "");
        gs_gnuplot_quote_tic(body, label);
        gs_text_append(body, " ");
        gs_plot_number(body, grp->boards[k]->label_fraction);
    }
    gs_text_append(body, ")\n");
}

/* Whether entry e of board k belongs to a series an earlier entry started. */
static bool series_started_before(const curve_group *grp, size_t k, size_t e) {
    const gs_leader_entry *entry = &grp->boards[k]->entries[e];
    for (size_t k2 = 0; k2 <= k; k2++) {
        size_t limit = k2 == k ? e : grp->boards[k2]->n_entries;
        for (size_t e2 = 0; e2 < limit; e2++)
            if (same_series(&grp->boards[k2]->entries[e2], entry)) return true;
    }
    return false;
}

/* One series (a method/backbone/pretraining): its points as data block
 * $S<index> and its clause of the plot command. */
static void fraction_series(gs_text *body, gs_text *plot_cmd, const curve_group *grp, const gs_leader_entry *key,
                            size_t index) {
    gs_text_appendf(body, "$S%zu << EOD\n", index);
    for (size_t k = 0; k < grp->n; k++)
        for (size_t e = 0; e < grp->boards[k]->n_entries; e++) {
            const gs_leader_entry *point = &grp->boards[k]->entries[e];
            if (!same_series(point, key)) continue;
            gs_plot_number(body, grp->boards[k]->label_fraction);
            gs_text_append(body, " ");
            gs_plot_number(body, point->mean);
            gs_text_append(body, " ");
            gs_plot_number(body, point->std);
            gs_text_append(body, "\n");
        }
    gs_text_append(body, "EOD\n");
    char label[512];
    snprintf(label, sizeof label, "%s %s (%s)", key->method, key->backbone, key->pretrain_data);
    /* Colours repeat after 8 series: the dash pattern tells them apart. */
    gs_text_appendf(plot_cmd, "%s$S%zu using 1:2:3 with yerrorlines lw 2 pt 7 dt %zu title ", index ? ", " : "plot ",
                    index, index / 8 + 1);
    gs_gnuplot_quote(plot_cmd, label);
}

static gs_status fraction_plot(const gs_plot_target *target, const curve_group *grp, gs_plots *plots,
                               gs_error *err) {
    const gs_leaderboard *first = grp->boards[0];
    gs_text body = {0}, plot_cmd = {0};
    char title[512], ylabel[256];
    snprintf(title, sizeof title, "%s, %s: %s against the label fraction", first->eval_data,
             gs_protocol_display_name(first->protocol), gs_metric_display_name(first->metric));
    snprintf(ylabel, sizeof ylabel, "%s (%s)", gs_metric_display_name(first->metric),
             gs_metric_unit_label(first->metric));
    gs_text_append(&body, "set title ");
    gs_gnuplot_quote(&body, title);
    gs_text_append(&body, "\nset xlabel 'labelled training images (% of the training split, log scale)'\nset ylabel ");
    gs_gnuplot_quote(&body, ylabel);
    gs_text_append(&body, "\n");
    fraction_axis(&body, grp);
    size_t n_series = 0;
    for (size_t k = 0; k < grp->n; k++)
        for (size_t e = 0; e < grp->boards[k]->n_entries; e++)
            if (!series_started_before(grp, k, e))
                fraction_series(&body, &plot_cmd, grp, &grp->boards[k]->entries[e], n_series++);
    gs_text_append_n(&body, gs_text_str(&plot_cmd), plot_cmd.len);
    gs_text_append(&body, "\n");
    if (!gs_text_ok(&plot_cmd)) body.failed = true;
    char stem[160];
    snprintf(stem, sizeof stem, "fraction_%s_%s_%s", first->eval_data, first->protocol, first->metric);
    gs_plot_sanitize(stem);
    gs_status s = gs_plot_render(target, plots, stem, title, false, &body, err);
    gs_text_free(&body);
    gs_text_free(&plot_cmd);
    return s;
}

/* One plot per (eval data, protocol, headline metric) measured at 2+ label
 * fractions.  Boards are sorted by fraction before metric, so a group's
 * boards are not adjacent: each is collected from its first board on. */
gs_status gs_plots_fraction_curves(const gs_plot_target *target, const gs_leaderboards *b, gs_plots *plots,
                                   gs_error *err) {
    if (!b->n_boards) return GS_OK;
    curve_group grp = {.boards = malloc(b->n_boards * sizeof *grp.boards)};
    if (!grp.boards) return gs_error_set(err, GS_ERR_MEMORY, "plots: out of memory");
    gs_status s = GS_OK;
    for (size_t g = 0; g < b->n_boards && s == GS_OK; g++) {
        const gs_leaderboard *first = &b->boards[g];
        bool seen = false;
        for (size_t k = 0; k < g && !seen; k++) seen = same_curve_group(&b->boards[k], first);
        if (seen || gs_metric_tier_of(first->metric) != GS_METRIC_HEADLINE) continue;
        grp.n = 0;
        for (size_t k = g; k < b->n_boards; k++)
            if (same_curve_group(&b->boards[k], first)) grp.boards[grp.n++] = &b->boards[k];
        if (grp.n >= 2) s = fraction_plot(target, &grp, plots, err);
    }
    free(grp.boards);
    return s;
}

/* Which number of a run log's point a curve shows. */
typedef double (*point_value)(const gs_loss_point *p);
static double point_loss(const gs_loss_point *p) { return p->loss; }
static double point_embedding_std(const gs_loss_point *p) { return p->embedding_std; }

/* One line per run of every log (a log in the run_id,step,loss layout may
 * hold several runs); runs without a finite value are left out.  Returns
 * the number of lines. */
static size_t run_series(gs_text *body, gs_text *plot_cmd, const gs_loss_logs *logs, point_value value) {
    size_t series = 0;
    for (size_t l = 0; l < logs->n; l++) {
        const gs_loss_log *log = &logs->logs[l];
        for (size_t i = 0; i < log->n; i++) {
            const char *run = log->points[i].run_id;
            if (!gs_loss_log_run_starts_at(log, i)) continue;
            bool any = false;
            for (size_t j = i; j < log->n && !any; j++)
                any = !strcmp(log->points[j].run_id, run) && isfinite(value(&log->points[j]));
            if (!any) continue;
            gs_text_appendf(body, "$R%zu << EOD\n", series);
            size_t n_points = 0;
            for (size_t j = i; j < log->n; j++) {
                if (strcmp(log->points[j].run_id, run)) continue;
                n_points++;
                gs_plot_number(body, log->points[j].step);
                gs_text_append(body, " ");
                gs_plot_number(body, value(&log->points[j]));
                gs_text_append(body, "\n");
            }
            gs_text_append(body, "EOD\n");
            /* A short run's points are marked: a one-step run has no line to draw. */
            gs_text_appendf(plot_cmd, "%s$R%zu using 1:2 with %s lw 2 dt %zu title ", series ? ", " : "plot ", series,
                            n_points < 50 ? "linespoints pt 7 ps 0.6" : "lines", series / 8 + 1);
            gs_gnuplot_quote(plot_cmd, run[0] ? run : "(no run id)");
            series++;
        }
    }
    return series;
}

static gs_status run_plot(const gs_plot_target *target, const gs_loss_logs *logs, point_value value,
                          const char *axes, const char *stem, const char *caption, gs_plots *plots, gs_error *err) {
    gs_text body = {0}, plot_cmd = {0};
    gs_text_append(&body, axes);
    size_t n = run_series(&body, &plot_cmd, logs, value);
    gs_text_append_n(&body, gs_text_str(&plot_cmd), plot_cmd.len);
    gs_text_append(&body, "\n");
    if (!gs_text_ok(&plot_cmd)) body.failed = true;
    gs_status s = n ? gs_plot_render(target, plots, stem, caption, false, &body, err) : GS_OK;
    gs_text_free(&body);
    gs_text_free(&plot_cmd);
    return s;
}

gs_status gs_plots_run_curves(const gs_plot_target *target, const gs_loss_logs *logs, gs_plots *plots,
                              gs_error *err) {
    gs_status s = run_plot(target, logs, point_loss,
                           "set title 'training loss per pretraining run'\nset xlabel 'step (optimizer updates)'\n"
                           "set ylabel 'loss (no unit)'\n",
                           "loss_curves", "Training loss per pretraining run against step", plots, err);
    if (s == GS_OK)
        s = run_plot(target, logs, point_embedding_std,
                     "set title 'embedding std per pretraining run (collapse monitor: 0 means collapsed)'\n"
                     "set xlabel 'step (optimizer updates)'\n"
                     "set ylabel 'std per dimension of the L2-normalised embedding (no unit)'\nset yrange [0:*]\n",
                     "embedding_std",
                     "Embedding std against step: the collapse monitor (a curve falling to 0 means the encoder "
                     "maps every image to the same point)",
                     plots, err);
    return s;
}
