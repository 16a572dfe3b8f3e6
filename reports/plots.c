/* The plots' common part: scripts, files, running gnuplot, and the grouped
 * bar chart; the plots themselves are in plots_curves.c and plots_bars.c. */
#include "plots.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gnuplot.h"
#include "plots_internal.h"

void gs_plots_free(gs_plots *p) {
    free(p->items);
    *p = (gs_plots){0};
}

void gs_plot_sanitize(char *s) {
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
              *s == '.'))
            *s = '_';
}

void gs_plot_number(gs_text *t, double v) {
    char buf[GS_DOUBLE_TEXT_SIZE];
    if (isfinite(v))
        gs_format_double(buf, v);
    else
        snprintf(buf, sizeof buf, "NaN");
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

gs_status gs_plot_render(const gs_plot_target *target, gs_plots *plots, const char *stem, const char *caption,
                         bool per_class, const gs_text *body, gs_error *err) {
    if (!gs_text_ok(body)) return gs_error_set(err, GS_ERR_MEMORY, "plots: out of memory");
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
    p->per_class = per_class;
    return GS_OK;
}

/* Bars side by side within a group, the groups one unit apart: each series
 * a data block of "x mean std" drawn as boxes, its spread as error bars.
 * Drawn by hand rather than with gnuplot's histogram style, which cannot
 * leave a gap for a method that has no number in a group. */
void gs_plot_grouped_bars(gs_text *body, const gs_bar_chart *c) {
    const double group_width = 0.8, bar = group_width / (double)(c->n_series ? c->n_series : 1);
    gs_text_append(body, "set title ");
    gs_gnuplot_quote(body, c->title);
    gs_text_append(body, "\nset xlabel ");
    gs_gnuplot_quote(body, c->xlabel);
    gs_text_append(body, "\nset ylabel ");
    gs_gnuplot_quote(body, c->ylabel);
    gs_text_appendf(body, "\nset yrange [0:*]\nset xrange [-0.6:%zu.6]\nset style fill solid 0.8 border -1\n",
                    c->n_groups ? c->n_groups - 1 : 0);
    gs_text_append(body, "set boxwidth ");
    gs_plot_number(body, bar * 0.92);
    gs_text_append(body, " absolute\nset grid noxtics ytics\n");
    bool long_labels = false;
    for (size_t g = 0; g < c->n_groups; g++) long_labels |= strlen(c->group_labels[g]) > 12;
    if (long_labels || c->n_groups > 6) gs_text_append(body, "set bmargin 8\nset xtics rotate by -30 left\n");
    gs_text_append(body, "set xtics (");
    for (size_t g = 0; g < c->n_groups; g++) {
        gs_text_append(body, g ? ", " : "");
        gs_gnuplot_quote_tic(body, c->group_labels[g]);
        gs_text_appendf(body, " %zu", g);
    }
    gs_text_append(body, ")\n");
    gs_text plot_cmd = {0};
    for (size_t s = 0; s < c->n_series; s++) {
        gs_text_appendf(body, "$B%zu << EOD\n", s);
        bool spread = false;
        for (size_t g = 0; g < c->n_groups; g++) {
            double mean = c->mean[s * c->n_groups + g], std = c->std[s * c->n_groups + g];
            gs_plot_number(body, (double)g - group_width / 2 + bar * ((double)s + 0.5));
            gs_text_append(body, " ");
            gs_plot_number(body, mean);
            gs_text_append(body, " ");
            gs_plot_number(body, isfinite(std) ? std : 0.0);
            gs_text_append(body, "\n");
            spread |= isfinite(mean) && isfinite(std) && std > 0;
        }
        gs_text_append(body, "EOD\n");
        gs_text_appendf(&plot_cmd, "%s$B%zu using 1:2 with boxes lc %zu title ", s ? ", " : "plot ", s, s + 1);
        gs_gnuplot_quote(&plot_cmd, c->series_labels[s]);
        if (spread) gs_text_appendf(&plot_cmd, ", $B%zu using 1:2:3 with yerrorbars lc rgb '#222222' ps 0 notitle", s);
    }
    gs_text_append_n(body, gs_text_str(&plot_cmd), plot_cmd.len);
    gs_text_append(body, "\n");
    if (!gs_text_ok(&plot_cmd)) body->failed = true;
    gs_text_free(&plot_cmd);
}

gs_status gs_plots_draw(const char *out_dir, const gs_plot_inputs *in, gs_plots *out, gs_error *err) {
    *out = (gs_plots){0};
    gs_plot_target target = {0};
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
    gs_status s = GS_OK;
    if (in->table) s = gs_plots_headline_bars(&target, in->table, out, err);
    if (s == GS_OK && in->boards) s = gs_plots_fraction_curves(&target, in->boards, out, err);
    if (s == GS_OK && in->logs) s = gs_plots_run_curves(&target, in->logs, out, err);
    if (s == GS_OK) s = gs_plots_throughput(&target, in->boards, in->logs, out, err);
    if (s == GS_OK && in->boards) s = gs_plots_per_class_bars(&target, in->boards, out, err);
    if (s != GS_OK) gs_plots_free(out);
    return s;
}
