/* The report's plots, drawn by gnuplot into DIR/plots/ as PNG and SVG (the
 * .gp script is kept beside them, to redraw or restyle by hand):
 *   - the metric against the label fraction, one line per method/backbone,
 *     for every (eval data, protocol, metric) measured at 2+ fractions;
 *   - training loss curves, one line per run (from a loss log);
 *   - throughput: mean img/s per method/backbone/protocol (metric img_per_s). */
#ifndef GS_PLOTS_H
#define GS_PLOTS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "leaderboard.h"
#include "loss_log.h"

typedef struct gs_plot {
    char stem[160];    /* plots/<stem>.png, .svg, .gp */
    char caption[512];
} gs_plot;

typedef struct gs_plots {
    gs_plot *items; /* the plots drawn */
    size_t n, cap;
    bool gnuplot_missing; /* nothing drawn: no gnuplot on PATH */
    size_t n_wanted;      /* plots the data called for */
    size_t n_failed;      /* gnuplot errors (first one in `failure`) */
    char failure[512];
} gs_plots;

/* `loss` may be NULL.  Errors are for files that cannot be written; a
 * failing gnuplot only counts in n_failed. */
gs_status gs_plots_draw(const char *out_dir, const gs_leaderboards *boards, const gs_loss_log *loss, gs_plots *out,
                        gs_error *err);
void gs_plots_free(gs_plots *p);

#endif
