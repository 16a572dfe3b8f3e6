/* The report's plots, drawn by gnuplot into DIR/plots/ as PNG and SVG (the
 * .gp script is kept beside them, to redraw or restyle by hand), every axis
 * labelled with its unit.  Headline plots, in the order they are drawn:
 *   - the headline metric per method as grouped bars, one chart per
 *     evaluation dataset, a group per protocol and label fraction;
 *   - the headline metric against the label fraction, one line per method,
 *     for every (eval data, protocol, metric) measured at 2+ fractions;
 *   - training loss against step, one line per pretraining run (run logs);
 *   - embedding std against step, the collapse monitor (run folders' logs);
 *   - throughput: img/s per method (rows whose metric is img_per_s, and each
 *     pretraining run's median from its log).
 * Then the per-class plots, which a report folds away: per evaluation
 * dataset, protocol, fraction and per-class metric, the classes as groups of
 * bars, one bar per method. */
#ifndef GS_PLOTS_H
#define GS_PLOTS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "leaderboard.h"
#include "loss_log.h"
#include "results_table.h"

typedef struct gs_plot {
    char stem[160];    /* plots/<stem>.png, .svg, .gp */
    char caption[512];
    bool per_class;    /* a per-class breakdown: folded away in a report */
} gs_plot;

typedef struct gs_plots {
    gs_plot *items; /* the plots drawn, headline ones first */
    size_t n, cap;
    bool gnuplot_missing; /* nothing drawn: no gnuplot on PATH */
    size_t n_wanted;      /* plots the data called for */
    size_t n_failed;      /* gnuplot errors (first one in `failure`) */
    char failure[512];
} gs_plots;

typedef struct gs_plot_inputs {
    const gs_leaderboards *boards;
    const gs_results_table *table; /* NULL: no bars of the headline metric */
    const gs_loss_logs *logs;      /* NULL: no loss or embedding-std curves */
} gs_plot_inputs;

/* Errors are for files that cannot be written; a failing gnuplot only
 * counts in n_failed. */
gs_status gs_plots_draw(const char *out_dir, const gs_plot_inputs *in, gs_plots *out, gs_error *err);
void gs_plots_free(gs_plots *p);

#endif
