#include "plots.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gnuplot.h"

#define THROUGHPUT_METRIC "img_per_s"

/* Where one plot's files go and how gnuplot is reached. */
typedef struct plot_target {
    const char *gnuplot;
    char dir[4096]; /* DIR/plots */
    char log[4200];
} plot_target;

void gs_plots_free(gs_plots *p) {
    free(p->items);
    *p = (gs_plots){0};
}

/* File names from data: keep [A-Za-z0-9.-], map the rest to '_'. */
static void sanitize(char *s) {
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
              *s == '.'))
            *s = '_';
}

static void append_number(gs_text *t, double v) {
    char buf[GS_DOUBLE_TEXT_SIZE];
    if (isfinite(v))
        gs_format_double(buf, v);
    else
        snprintf(buf, sizeof buf, "NaN"); /* gnuplot leaves a gap */
    gs_text_append(t, buf);
}

/* Both terminals from one script: PNG (pngcairo where built in) then SVG. */
static void script_begin(gs_text *s, const char *png_path) {
    gs_text_append(s, "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
                      "  set terminal pngcairo size 960,560 noenhanced font 'sans,10'\n"
                      "} else {\n  set terminal png size 960,560 noenhanced\n}\nset output ");
    gs_gnuplot_quote(s, png_path);
    gs_text_append(s, "\nset grid\nset key outside right top\nset border 3\nset tics nomirror\n");
}

static void script_end(gs_text *s, const char *svg_path) {
    gs_text_append(s, "set terminal svg size 960,560 noenhanced font 'sans,11' background '#ffffff'\nset output ");
    gs_gnuplot_quote(s, svg_path);
    gs_text_append(s, "\nreplot\nunset output\n");
}

static gs_status write_file(const char *path, const gs_text *text, gs_error *err) {
    FILE *f = fopen(path, "wb");
    if (!f) return gs_error_set(err, GS_ERR_IO, "%s: cannot write (%s)", path, strerror(errno));
    size_t n = fwrite(gs_text_str(text), 1, text->len, f);
    int bad = fclose(f) != 0 || n != text->len;
    if (bad) return gs_error_set(err, GS_ERR_IO, "%s: write failed", path);
    return GS_OK;
}

static bool nonempty_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && st.st_size > 0;
}

/* Writes the script for `stem` (its body from the caller) and runs it. */
static gs_status render(const plot_target *target, gs_plots *plots, const char *stem, const char *caption,
                        const gs_text *body, gs_error *err) {
    plots->n_wanted++;
    char png[4400], svg[4400], gp[4400];
    snprintf(png, sizeof png, "%s/%s.png", target->dir, stem);
    snprintf(svg, sizeof svg, "%s/%s.svg", target->dir, stem);
    snprintf(gp, sizeof gp, "%s/%s.gp", target->dir, stem);
    gs_text script = {0};
    script_begin(&script, png);
    gs_text_append_n(&script, gs_text_str(body), body->len);
    script_end(&script, svg);
    gs_status s = gs_text_ok(&script) ? write_file(gp, &script, err)
                                      : gs_error_set(err, GS_ERR_MEMORY, "plots: out of memory");
    gs_text_free(&script);
    if (s != GS_OK) return s;
    gs_error run_err = {0};
    if (gs_gnuplot_run(target->gnuplot, gp, target->log, &run_err) != GS_OK || !nonempty_file(png) ||
        !nonempty_file(svg)) {
        if (!plots->n_failed++)
            snprintf(plots->failure, sizeof plots->failure, "%s",
                     run_err.message[0] ? run_err.message : "gnuplot wrote no PNG/SVG");
        return GS_OK;
    }
    if (plots->n == plots->cap) {
        size_t cap = plots->cap ? 2 * plots->cap : 8;
        gs_plot *grown = realloc(plots->items, cap * sizeof *grown);
        if (!grown) return gs_error_set(err, GS_ERR_MEMORY, "plots: out of memory");
        plots->items = grown;
        plots->cap = cap;
    }
    gs_plot *p = &plots->items[plots->n++];
    snprintf(p->stem, sizeof p->stem, "%s", stem);
    snprintf(p->caption, sizeof p->caption, "%s", caption);
    return GS_OK;
}

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
    append_number(body, grp->boards[0]->label_fraction / 1.6);
    gs_text_append(body, ":");
    append_number(body, grp->boards[grp->n - 1]->label_fraction * 1.6);
    gs_text_append(body, "]\nset xtics (");
    for (size_t k = 0; k < grp->n; k++) {
        char label[32];
        snprintf(label, sizeof label, "%g%%", grp->boards[k]->label_fraction * 100.0);
        gs_text_append(body, k ? ", " : "");
        gs_gnuplot_quote_tic(body, label);
        gs_text_append(body, " ");
        append_number(body, grp->boards[k]->label_fraction);
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
            append_number(body, grp->boards[k]->label_fraction);
            gs_text_append(body, " ");
            append_number(body, point->mean);
            gs_text_append(body, " ");
            append_number(body, point->std);
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

static gs_status fraction_plot(const plot_target *target, const curve_group *grp, gs_plots *plots, gs_error *err) {
    const gs_leaderboard *first = grp->boards[0];
    gs_text body = {0}, plot_cmd = {0};
    char title[512];
    snprintf(title, sizeof title, "%s, %s: %s against the label fraction", first->eval_data, first->protocol,
             first->metric);
    gs_text_append(&body, "set title ");
    gs_gnuplot_quote(&body, title);
    gs_text_append(&body, "\nset xlabel 'fraction of training labels'\nset ylabel ");
    gs_gnuplot_quote(&body, first->metric);
    gs_text_append(&body, "\n");
    fraction_axis(&body, grp);
    size_t n_series = 0;
    for (size_t k = 0; k < grp->n; k++)
        for (size_t e = 0; e < grp->boards[k]->n_entries; e++)
            if (!series_started_before(grp, k, e))
                fraction_series(&body, &plot_cmd, grp, &grp->boards[k]->entries[e], n_series++);
    gs_text_append_n(&body, gs_text_str(&plot_cmd), plot_cmd.len);
    gs_text_append(&body, "\n");
    char stem[160];
    snprintf(stem, sizeof stem, "fraction_%s_%s_%s", first->eval_data, first->protocol, first->metric);
    sanitize(stem);
    gs_status s = gs_text_ok(&body) && gs_text_ok(&plot_cmd)
                      ? render(target, plots, stem, title, &body, err)
                      : gs_error_set(err, GS_ERR_MEMORY, "plots: out of memory");
    gs_text_free(&body);
    gs_text_free(&plot_cmd);
    return s;
}

/* One plot per (eval data, protocol, metric) measured at 2+ label
 * fractions.  Boards are sorted by fraction before metric, so a group's
 * boards are not adjacent: each is collected from its first board on. */
static gs_status fraction_plots(const plot_target *target, const gs_leaderboards *b, gs_plots *plots,
                                gs_error *err) {
    if (!b->n_boards) return GS_OK;
    curve_group grp = {.boards = malloc(b->n_boards * sizeof *grp.boards)};
    if (!grp.boards) return gs_error_set(err, GS_ERR_MEMORY, "plots: out of memory");
    gs_status s = GS_OK;
    for (size_t g = 0; g < b->n_boards && s == GS_OK; g++) {
        const gs_leaderboard *first = &b->boards[g];
        bool seen = false;
        for (size_t k = 0; k < g && !seen; k++) seen = same_curve_group(&b->boards[k], first);
        if (seen || !strcmp(first->metric, THROUGHPUT_METRIC)) continue;
        grp.n = 0;
        for (size_t k = g; k < b->n_boards; k++)
            if (same_curve_group(&b->boards[k], first)) grp.boards[grp.n++] = &b->boards[k];
        if (grp.n >= 2) s = fraction_plot(target, &grp, plots, err);
    }
    free(grp.boards);
    return s;
}

static gs_status loss_plot(const plot_target *target, const gs_loss_log *loss, gs_plots *plots, gs_error *err) {
    if (!loss || !loss->n) return GS_OK;
    gs_text body = {0}, plot_cmd = {0};
    gs_text_append(&body, "set title 'training loss'\nset xlabel 'step'\nset ylabel 'loss'\n");
    size_t series = 0;
    for (size_t i = 0; i < loss->n; i++) {
        const char *run = loss->points[i].run_id;
        bool earlier = false;
        for (size_t j = 0; j < i && !earlier; j++) earlier = !strcmp(loss->points[j].run_id, run);
        if (earlier) continue;
        gs_text_appendf(&body, "$R%zu << EOD\n", series);
        for (size_t j = i; j < loss->n; j++) {
            if (strcmp(loss->points[j].run_id, run)) continue;
            append_number(&body, loss->points[j].step);
            gs_text_append(&body, " ");
            append_number(&body, loss->points[j].loss);
            gs_text_append(&body, "\n");
        }
        gs_text_append(&body, "EOD\n");
        gs_text_appendf(&plot_cmd, "%s$R%zu using 1:2 with lines lw 2 title ", series ? ", " : "plot ", series);
        gs_gnuplot_quote(&plot_cmd, run[0] ? run : "(no run id)");
        series++;
    }
    gs_text_append_n(&body, gs_text_str(&plot_cmd), plot_cmd.len);
    gs_text_append(&body, "\n");
    gs_status s = gs_text_ok(&body) ? render(target, plots, "loss_curves", "Training loss per run", &body, err)
                                    : gs_error_set(err, GS_ERR_MEMORY, "plots: out of memory");
    gs_text_free(&body);
    gs_text_free(&plot_cmd);
    return s;
}

static gs_status throughput_plot(const plot_target *target, const gs_leaderboards *b, gs_plots *plots,
                                 gs_error *err) {
    gs_text body = {0}, tics = {0};
    size_t bar = 0;
    bool spread = false; /* some entry has several seeds: draw error bars */
    gs_text_append(&body, "$T << EOD\n");
    for (size_t k = 0; k < b->n_boards; k++) {
        if (strcmp(b->boards[k].metric, THROUGHPUT_METRIC)) continue;
        for (size_t e = 0; e < b->boards[k].n_entries; e++) {
            const gs_leader_entry *entry = &b->boards[k].entries[e];
            gs_text_appendf(&body, "%zu ", bar);
            append_number(&body, entry->mean);
            gs_text_append(&body, " ");
            append_number(&body, entry->std);
            gs_text_append(&body, "\n");
            spread |= entry->std > 0;
            char label[512];
            snprintf(label, sizeof label, "%s %s (%s, %s)", entry->method, entry->backbone, b->boards[k].protocol,
                     b->boards[k].eval_data);
            gs_text_append(&tics, bar ? ", " : "");
            gs_gnuplot_quote_tic(&tics, label);
            gs_text_appendf(&tics, " %zu", bar);
            bar++;
        }
    }
    gs_text_append(&body, "EOD\n");
    gs_status s = GS_OK;
    if (bar) {
        gs_text_append(&body, "set title 'throughput'\nset ylabel 'images / s'\nset yrange [0:*]\nset xrange [-0.6:");
        gs_text_appendf(&body, "%zu.6]\nset style fill solid 0.75 border -1\nset boxwidth 0.6\nset key off\n"
                               "set bmargin 9\nset xtics rotate by -35 left (", bar - 1);
        gs_text_append_n(&body, gs_text_str(&tics), tics.len);
        gs_text_append(&body, ")\nplot $T using 1:2 with boxes lc rgb '#4878cf'");
        gs_text_append(&body, spread ? ", $T using 1:2:3 with yerrorbars lc rgb '#222222' ps 0\n" : "\n");
        s = gs_text_ok(&body) ? render(target, plots, "throughput", "Throughput (images per second)", &body, err)
                              : gs_error_set(err, GS_ERR_MEMORY, "plots: out of memory");
    }
    gs_text_free(&body);
    gs_text_free(&tics);
    return s;
}

gs_status gs_plots_draw(const char *out_dir, const gs_leaderboards *boards, const gs_loss_log *loss, gs_plots *out,
                        gs_error *err) {
    *out = (gs_plots){0};
    plot_target target = {0};
    char gnuplot[4096];
    if (!gs_gnuplot_find(gnuplot, sizeof gnuplot)) {
        out->gnuplot_missing = true;
        return GS_OK;
    }
    target.gnuplot = gnuplot;
    snprintf(target.dir, sizeof target.dir, "%s/plots", out_dir);
    snprintf(target.log, sizeof target.log, "%s/gnuplot.log", target.dir);
    if (mkdir(target.dir, 0755) != 0 && errno != EEXIST)
        return gs_error_set(err, GS_ERR_IO, "%s: cannot create (%s)", target.dir, strerror(errno));
    remove(target.log); /* this run's messages only */
    gs_status s = fraction_plots(&target, boards, out, err);
    if (s == GS_OK) s = loss_plot(&target, loss, out, err);
    if (s == GS_OK) s = throughput_plot(&target, boards, out, err);
    if (s != GS_OK) gs_plots_free(out);
    return s;
}
